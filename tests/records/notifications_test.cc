// The new-result notification: the fixed text only, to the outbox and through a real SMTP
// sink (a Python standard-library server on loopback).
#include "records/notifications.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "records/smtp_sink.h"

namespace medvault::records {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> FilesIn(const fs::path& dir, std::string_view extension) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) {
      files.push_back(entry.path());
    }
  }
  return files;
}

// Waits (up to 5 s) for the sink to have written `count` messages.
std::vector<fs::path> Received(const fs::path& dir, std::size_t count) {
  for (int i = 0; i < 100; ++i) {
    auto files = FilesIn(dir, ".eml");
    if (files.size() >= count) return files;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return FilesIn(dir, ".eml");
}

class Notifications : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "medvault-notify-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "mail");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(Notifications, TheOutboxHoldsTheAddressAndTheFixedTextOnly) {
  auto outbox = OutboxNotifier::Open(dir_ / "outbox", std::nullopt);
  ASSERT_TRUE(outbox) << outbox.error().message();
  ASSERT_TRUE((*outbox)->NewResult("helene.dupont@example.org"));
  const auto files = FilesIn(dir_ / "outbox", ".msg");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(Slurp(files[0]),
            "To: helene.dupont@example.org\n\n"
            "A new result is available. Open your medvault portal to read it.\n\n"
            "Un nouveau résultat est disponible. Ouvrez votre portail medvault pour le "
            "consulter.\n");
  EXPECT_EQ(fs::status(dir_ / "outbox").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(files[0]).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(Notifications, AnAddressThatCouldAddAHeaderIsRefused) {
  auto outbox = OutboxNotifier::Open(dir_ / "outbox", std::nullopt);
  ASSERT_TRUE(outbox);
  for (std::string_view bad : {"", "no-at-sign", "a@b@c", "x@example.org\r\nBcc: all@example.org",
                               "x y@example.org", "<x@example.org>", "@example.org", "x@"}) {
    auto queued = (*outbox)->NewResult(bad);
    ASSERT_FALSE(queued) << bad;
    EXPECT_EQ(queued.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(FilesIn(dir_ / "outbox", ".msg").empty());
}

TEST_F(Notifications, SmtpDeliversTheFixedTextAndMovesTheMessageToSent) {
  testing::SmtpSink sink(dir_ / "mail");
  ASSERT_NE(sink.port(), 0) << "the SMTP sink did not start";
  auto outbox = OutboxNotifier::Open(
      dir_ / "outbox",
      SmtpRelay{.host = "127.0.0.1", .port = sink.port(), .from = "lab@medvault.test"});
  ASSERT_TRUE(outbox);
  ASSERT_TRUE((*outbox)->NewResult("helene.dupont@example.org"));
  const auto mail = Received(dir_ / "mail", 1);
  ASSERT_EQ(mail.size(), 1u);
  const std::string message = Slurp(mail[0]);
  EXPECT_NE(message.find("MAIL FROM <lab@medvault.test>"), std::string::npos) << message;
  EXPECT_NE(message.find("RCPT TO <helene.dupont@example.org>"), std::string::npos);
  EXPECT_NE(message.find("Subject: medvault\n"), std::string::npos);
  // The body is exactly the two fixed sentences.
  const std::string body =
      message.substr(message.find("\n\n", message.find("Content-Transfer")) + 2);
  EXPECT_EQ(body,
            "A new result is available. Open your medvault portal to read it.\n\n"
            "Un nouveau résultat est disponible. Ouvrez votre portail medvault pour le "
            "consulter.\n");
  EXPECT_EQ(message.find("http"), std::string::npos) << "no link";
  EXPECT_TRUE(FilesIn(dir_ / "outbox", ".msg").empty());
  EXPECT_EQ(FilesIn(dir_ / "outbox" / "sent", ".msg").size(), 1u);
}

TEST_F(Notifications, AMessageTheRelayDidNotTakeIsSentLater) {
  std::uint16_t closed_port = 0;
  {
    testing::SmtpSink gone(dir_ / "mail");
    closed_port = gone.port();
  }
  ASSERT_NE(closed_port, 0);
  auto down = OutboxNotifier::Open(
      dir_ / "outbox",
      SmtpRelay{.host = "127.0.0.1", .port = closed_port, .from = "lab@medvault.test"});
  ASSERT_TRUE(down);
  ASSERT_TRUE((*down)->NewResult("zoe@example.org")) << "queued even when the relay is down";
  EXPECT_EQ(FilesIn(dir_ / "outbox", ".msg").size(), 1u);

  testing::SmtpSink sink(dir_ / "mail");
  ASSERT_NE(sink.port(), 0);
  auto up = OutboxNotifier::Open(
      dir_ / "outbox",
      SmtpRelay{.host = "127.0.0.1", .port = sink.port(), .from = "lab@medvault.test"});
  ASSERT_TRUE(up);
  auto sent = (*up)->DeliverPending();
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(*sent, 1u);
  const auto mail = Received(dir_ / "mail", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(Slurp(mail[0]).find("RCPT TO <zoe@example.org>"), std::string::npos);
  EXPECT_TRUE(FilesIn(dir_ / "outbox", ".msg").empty());
}

}  // namespace
}  // namespace medvault::records
