// The alert webhook: loopback http URLs only, and each alert posted once as JSON to a local
// Python sink (tests/redteam/webhook_sink.py), retried while the sink refuses.
#include "policy/alert_webhook.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "records/smtp_sink.h"

namespace medvault::policy {
namespace {

using ::testing::HasSubstr;

TEST(WebhookUrl, LoopbackHttpIsTakenAndAnythingElseIsRefusedSayingWhy) {
  auto plain = ParseWebhookUrl("http://127.0.0.1:8080/hooks/medvault");
  ASSERT_TRUE(plain.has_value()) << plain.error().message();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, "8080");
  EXPECT_EQ(plain->path, "/hooks/medvault");
  auto v6 = ParseWebhookUrl("http://[::1]:9000");
  ASSERT_TRUE(v6.has_value()) << v6.error().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "/");
  EXPECT_TRUE(ParseWebhookUrl("http://localhost/alerts").has_value());
  for (std::string_view url : {"https://127.0.0.1/x", "http://example.org/x", "http://10.0.0.1/x",
                               "http://127.0.0.1:80a/x", "http://127.0.0.1/a b", "ftp://::1/"}) {
    auto refused = ParseWebhookUrl(url);
    ASSERT_FALSE(refused.has_value()) << url;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(refused.error().message(), HasSubstr("guard.webhook_url"));
  }
}

TEST(AlertWebhook, AnAlertIsPostedOnceAsJsonAfterTheSinkRefusedTwice) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("medvault-webhook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    testing::LoopbackSink sink(std::string(MEDVAULT_SOURCE_DIR) + "/tests/redteam/webhook_sink.py",
                               dir, "2");
    ASSERT_NE(sink.port(), 0);
    auto target = ParseWebhookUrl("http://127.0.0.1:" + std::to_string(sink.port()) + "/alerts");
    ASSERT_TRUE(target.has_value());
    const auto started = std::chrono::steady_clock::now();
    {
      AlertWebhook webhook(*target, {.attempts = 5,
                                     .first_retry_delay = std::chrono::milliseconds(50),
                                     .timeout = std::chrono::milliseconds(2000),
                                     .max_queued = 10});
      const store::Alert alert{42, Timestamp(std::chrono::seconds(1'767'225'600)),
                               "exfiltration_suspected", "account/acct-1",
                               "distinct patients 31 in the last minute (budget 30)"};
      webhook.Post(alert);
      // Post returns at once; the sender delivers it in the background.
      EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50));
      for (int i = 0; i < 100 && !std::filesystem::exists(dir / "1.json"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::ifstream in(dir / "1.json");
    ASSERT_TRUE(in) << "nothing was posted";
    std::string text((std::istreambuf_iterator<char>(in)), {});
    boost::json::object body = boost::json::parse(text).as_object();
    EXPECT_EQ(body.at("kind").as_string(), "exfiltration_suspected");
    EXPECT_EQ(body.at("account_id").as_string(), "acct-1");
    EXPECT_EQ(body.at("alert_id").as_int64(), 42);
    EXPECT_EQ(body.at("raised_at").as_string(), "2026-01-01T00:00:00Z");
    EXPECT_THAT(std::string(body.at("detail").as_string()), HasSubstr("budget 30"));
    EXPECT_FALSE(std::filesystem::exists(dir / "2.json")) << "posted more than once";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medvault::policy
