// The server with an asynchronous handler, in process: while one request waits for work on
// another thread, the network thread keeps serving other connections.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "core/log.h"
#include "http/server.h"
#include "integration/harness.h"

namespace medvault::http {
namespace {

using medvault::testing::Client;

TEST(ServerAsync, ANetworkThreadServesOthersWhileAHandlerWaitsOnAWorker) {
  log::SetEnabled(false);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread worker;
  Router router;
  ASSERT_TRUE(router.AddAsync(Verb::get, "/slow",
                              [&](const Request&, const RequestContext&, Respond respond) {
                                worker = std::thread([released, respond = std::move(respond)] {
                                  released.wait();
                                  Response response{Status::ok, 11};
                                  response.body() = "slow";
                                  respond(std::move(response));
                                });
                              }));
  ASSERT_TRUE(router.Add(Verb::get, "/fast", [](const Request&, const RequestContext&) {
    Response response{Status::ok, 11};
    response.body() = "fast";
    return response;
  }));
  ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.tls = false;
  config.threads = 1;  // one network thread: a blocking handler would stall everything
  auto server =
      Server::Open(config, nullptr, std::make_shared<const Dispatcher>(std::move(router)));
  ASSERT_TRUE(server.has_value()) << server.error().message();
  const std::string address = (*server)->local_address();
  const auto port = static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
  std::thread serving([&] { (*server)->Run(); });

  auto slow_client = Client::Connect(port, std::nullopt);
  auto fast_client = Client::Connect(port, std::nullopt);
  ASSERT_TRUE(slow_client && fast_client);
  ASSERT_TRUE(slow_client->Send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  // The slow request is parked on its worker until the fast one has been answered.
  auto fast = fast_client->Get("/fast");
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->body(), "fast");
  release.set_value();
  auto slow = slow_client->Read();
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->body(), "slow");
  EXPECT_EQ(slow->result_int(), 200u);
  EXPECT_FALSE((*slow)["X-Request-Id"].empty());

  (*server)->RequestShutdown();
  serving.join();
  worker.join();
  log::SetEnabled(true);
}

}  // namespace
}  // namespace medvault::http
