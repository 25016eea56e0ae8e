#include "policy/alert_webhook.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <utility>

#include "core/log.h"

namespace medvault::policy {
namespace {

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(host), error);
  return !error && address.is_loopback();
}

std::string TimeText(Timestamp at) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                     std::chrono::time_point_cast<std::chrono::seconds>(at));
}

}  // namespace

Result<WebhookTarget> ParseWebhookUrl(std::string_view url) {
  const auto bad = [](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("guard.webhook_url: {}", why));
  };
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return bad("must begin with http:// (a local relay)");
  url.remove_prefix(kScheme.size());
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  WebhookTarget target;
  target.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  for (char c : target.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return bad("the path has a space or control");
  }
  std::string_view host;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs its closing ]");
    host = authority.substr(1, close - 1);
    if (authority.substr(close + 1).starts_with(':')) port = authority.substr(close + 2);
  } else {
    const std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (port.empty()) port = "80";
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("the port must be a number");
  }
  if (!IsLoopbackHost(host)) return bad("the host must be a loopback address");
  target.host = std::string(host);
  target.port = std::string(port);
  return target;
}

std::string AlertWebhookJson(const store::Alert& alert) {
  boost::json::object body;
  body["kind"] = alert.kind;
  constexpr std::string_view kAccountPrefix = "account/";
  const std::string_view subject = alert.subject;
  body["account_id"] =
      subject.starts_with(kAccountPrefix) ? subject.substr(kAccountPrefix.size()) : "";
  body["subject"] = alert.subject;
  body["detail"] = alert.detail;
  body["alert_id"] = alert.id;
  body["raised_at"] = TimeText(alert.raised_at);
  return boost::json::serialize(body);
}

AlertWebhook::AlertWebhook(WebhookTarget target, Options options)
    : target_(std::move(target)), options_(options), sender_([this] { Run(); }) {}

AlertWebhook::~AlertWebhook() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  sender_.join();
}

void AlertWebhook::Post(const store::Alert& alert) {
  std::string body = AlertWebhookJson(alert);
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queued) queue_.pop_front();
    queue_.push_back(std::move(body));
  }
  wake_.notify_one();
}

void AlertWebhook::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    auto delay = options_.first_retry_delay;
    for (std::size_t attempt = 1; attempt <= options_.attempts; ++attempt) {
      lock.unlock();
      Status sent = Send(body);
      lock.lock();
      if (sent) break;
      if (attempt == options_.attempts) {
        log::Warning("alert_webhook_failed", {{"attempts", static_cast<std::int64_t>(attempt)}});
        break;
      }
      // Waits before retrying, unless the webhook is being stopped.
      if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
      delay *= 2;
    }
  }
}

Status AlertWebhook::Send(const std::string& body) {
  boost::asio::ip::tcp::iostream stream;
  stream.expires_after(options_.timeout);
  stream.connect(target_.host, target_.port);
  if (!stream) return Fail(ErrorCode::kUnavailable, "webhook: cannot connect");
  stream << "POST " << target_.path << " HTTP/1.1\r\n"
         << "Host: " << target_.host << ":" << target_.port << "\r\n"
         << "Content-Type: application/json\r\n"
         << "Content-Length: " << body.size() << "\r\n"
         << "Connection: close\r\n\r\n"
         << body << std::flush;
  std::string status_line;
  if (!std::getline(stream, status_line)) return Fail(ErrorCode::kUnavailable, "webhook: no answer");
  // "HTTP/1.1 204 No Content"
  const std::size_t space = status_line.find(' ');
  if (space == std::string::npos || space + 1 >= status_line.size() || status_line[space + 1] != '2') {
    return Fail(ErrorCode::kUnavailable, "webhook: refused");
  }
  return {};
}

}  // namespace medvault::policy
