// Security alerts to the operators' webhook (`[guard] webhook_url`): each alert the guard
// stores is POSTed as a small JSON object (kind, account id, the counts sentence, alert id and
// time; ids and counts only, as the alert itself). Plain HTTP, to a loopback address only: a
// local relay forwards it further. Post() never blocks the request path: alerts wait in a
// bounded queue for one sender thread, which retries a refused or unreachable post with a
// doubling delay, then gives up (the alert stays in the store and the log).
//
// Thread-safe. The destructor stops the sender; alerts still queued are not posted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/error.h"
#include "store/store.h"

namespace medvault::policy {

struct WebhookTarget {
  std::string host;  // a loopback address: 127.x.y.z, ::1 or localhost
  std::string port;
  std::string path;  // begins with '/'
};

// "http://HOST:PORT/PATH" with a loopback HOST; kInvalidArgument saying what is wrong.
Result<WebhookTarget> ParseWebhookUrl(std::string_view url);

// The JSON body posted for `alert`.
std::string AlertWebhookJson(const store::Alert& alert);

class AlertWebhook {
 public:
  struct Options {
    std::size_t attempts = 5;
    std::chrono::milliseconds first_retry_delay{250};
    std::chrono::milliseconds timeout{2000};
    std::size_t max_queued = 1000;  // beyond: the oldest waiting alert is dropped
  };

  AlertWebhook(WebhookTarget target, Options options);
  explicit AlertWebhook(WebhookTarget target) : AlertWebhook(std::move(target), Options{}) {}
  ~AlertWebhook();
  AlertWebhook(const AlertWebhook&) = delete;
  AlertWebhook& operator=(const AlertWebhook&) = delete;

  // Queues the alert and returns at once.
  void Post(const store::Alert& alert);

 private:
  void Run();
  // One POST; kUnavailable when not answered 2xx.
  Status Send(const std::string& body);

  WebhookTarget target_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::thread sender_;  // last: started once the rest is ready
};

}  // namespace medvault::policy
