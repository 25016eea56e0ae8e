#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/server.h"

namespace medvault::http {
namespace {

using ::testing::HasSubstr;

TEST(ListenAddress, ParsesIpv4AndBracketedIpv6) {
  auto v4 = ParseListenAddress("127.0.0.1:8443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 8443);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
}

TEST(ListenAddress, RefusesMalformedValuesNamingThem) {
  for (const char* bad : {"127.0.0.1", ":8443", "127.0.0.1:", "127.0.0.1:65536", "h:p", "[::1:1"}) {
    auto parsed = ParseListenAddress(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_THAT(parsed.error().message(), HasSubstr(bad));
  }
}

TEST(ServerOpen, PlainHttpIsRefusedOffLoopback) {
  ServerConfig config;
  config.tls = false;
  config.listen = "0.0.0.0:0";
  auto server = Server::Open(config, nullptr, std::make_shared<const Dispatcher>(Router()));
  ASSERT_FALSE(server);
  EXPECT_THAT(server.error().message(), HasSubstr("loopback"));
}

TEST(ServerOpen, PortInUseIsReportedBeforeServing) {
  ServerConfig config;
  config.tls = false;
  config.listen = "127.0.0.1:0";
  auto dispatcher = std::make_shared<const Dispatcher>(Router());
  auto first = Server::Open(config, nullptr, dispatcher);
  ASSERT_TRUE(first) << first.error().message();
  config.listen = (*first)->local_address();
  auto second = Server::Open(config, nullptr, dispatcher);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(second.error().message(), HasSubstr("address already in use"));
}

}  // namespace
}  // namespace medvault::http
