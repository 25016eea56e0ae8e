#include "records/notifications.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "core/log.h"

namespace medvault::records {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMessageSuffix = ".msg";

// The one body every message has.
std::string MessageText() {
  return fmt::format("{}\n\n{}\n", kNewResultText, kNewResultTextFrench);
}

// "To: ADDRESS\n\nTEXT": the outbox file.
std::string MessageFile(std::string_view email) {
  return fmt::format("To: {}\n\n{}", email, MessageText());
}

// Reads back the recipient and text of an outbox file.
std::optional<std::pair<std::string, std::string>> ReadMessage(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  if (!content.starts_with("To: ")) return std::nullopt;
  const auto end = content.find("\n\n");
  if (end == std::string::npos) return std::nullopt;
  std::string to = content.substr(4, end - 4);
  if (!IsPlainMailbox(to)) return std::nullopt;
  return std::pair{std::move(to), content.substr(end + 2)};
}

// Writes `content` to `path` (0600) through a sibling name and a rename, so that a reader
// never sees half a message.
Status WriteFileAtomically(const fs::path& path, std::string_view content) {
  const fs::path partial = path.string() + ".part";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kUnavailable, "notifications: the outbox cannot be written");
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == content.size() && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code error;
  if (ok) fs::rename(partial, path, error);
  if (!ok || error) {
    fs::remove(partial, error);
    return Fail(ErrorCode::kUnavailable, "notifications: the outbox cannot be written");
  }
  return {};
}

}  // namespace

bool IsPlainMailbox(std::string_view email) {
  if (email.empty() || email.size() > 254) return false;
  const auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::ranges::all_of(email, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F && c != '<' && c != '>' && c != '(' && c != ')' && c != ',' &&
           c != ';' && c != '\\' && c != '"';
  });
}

Status SendMail(const SmtpRelay& relay, std::string_view to, std::string_view text) {
  if (!IsPlainMailbox(to) || !IsPlainMailbox(relay.from)) {
    return Fail(ErrorCode::kInvalidArgument, "smtp: not a plain mailbox");
  }
  boost::asio::ip::tcp::iostream stream;
  stream.expires_after(relay.timeout);
  stream.connect(relay.host, std::to_string(relay.port));
  if (!stream) return Fail(ErrorCode::kUnavailable, "smtp: the relay cannot be reached");
  // Reads one reply (its continuation lines too) and checks its code's first digit.
  auto expect = [&stream](char first, std::string_view step) -> Status {
    std::string line;
    do {
      if (!std::getline(stream, line) || line.size() < 3) {
        return Fail(ErrorCode::kUnavailable, fmt::format("smtp: no answer to {}", step));
      }
    } while (line.size() > 3 && line[3] == '-');
    if (line[0] != first) {
      return Fail(ErrorCode::kUnavailable, fmt::format("smtp: the relay refused {}", step));
    }
    return {};
  };
  auto say = [&stream](std::string_view line) { stream << line << "\r\n" << std::flush; };
  if (auto s = expect('2', "the connection"); !s) return s;
  say("EHLO medvault");
  if (auto s = expect('2', "EHLO"); !s) return s;
  say(fmt::format("MAIL FROM:<{}>", relay.from));
  if (auto s = expect('2', "MAIL"); !s) return s;
  say(fmt::format("RCPT TO:<{}>", to));
  if (auto s = expect('2', "RCPT"); !s) return s;
  say("DATA");
  if (auto s = expect('3', "DATA"); !s) return s;
  say(fmt::format("From: <{}>", relay.from));
  say(fmt::format("To: <{}>", to));
  say("Subject: medvault");
  say("MIME-Version: 1.0");
  say("Content-Type: text/plain; charset=utf-8");
  say("Content-Transfer-Encoding: 8bit");
  say("");
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with('.')) line.insert(0, 1, '.');  // dot-stuffing
    say(line);
  }
  say(".");
  if (auto s = expect('2', "the message"); !s) return s;
  say("QUIT");
  return {};
}

Result<std::unique_ptr<OutboxNotifier>> OutboxNotifier::Open(fs::path dir,
                                                             std::optional<SmtpRelay> relay) {
  std::error_code error;
  fs::create_directories(dir / "sent", error);
  if (error) return Fail(ErrorCode::kUnavailable, "notifications: the outbox cannot be created");
  fs::permissions(dir, fs::perms::owner_all, error);
  return std::unique_ptr<OutboxNotifier>(new OutboxNotifier(std::move(dir), std::move(relay)));
}

Status OutboxNotifier::NewResult(std::string_view email) {
  if (!IsPlainMailbox(email)) {
    return Fail(ErrorCode::kInvalidArgument, "notifications: the address is not a plain mailbox");
  }
  const fs::path message = dir_ / fmt::format("{}{}", NewResourceId(), kMessageSuffix);
  if (auto written = WriteFileAtomically(message, MessageFile(email)); !written) return written;
  log::Info("notification_queued", {{"kind", std::string_view("new_result")}});
  if (!relay_) return {};
  std::lock_guard lock(mutex_);
  if (auto sent = Deliver(message); !sent) {
    // Kept in the outbox for DeliverPending; the release itself stands.
    log::Warning("notification_not_sent", {{"reason", std::string_view(sent.error().message())}});
  }
  return {};
}

Status OutboxNotifier::Deliver(const fs::path& message) {
  auto content = ReadMessage(message);
  if (!content) return Fail(ErrorCode::kDataLoss, "notifications: an outbox file is unreadable");
  if (auto sent = SendMail(*relay_, content->first, content->second); !sent) return sent;
  std::error_code error;
  fs::rename(message, dir_ / "sent" / message.filename(), error);
  if (error) fs::remove(message, error);  // sent: it must not be sent again
  log::Info("notification_sent", {{"kind", std::string_view("new_result")}});
  return {};
}

Result<std::size_t> OutboxNotifier::DeliverPending() {
  if (!relay_) return 0;
  std::lock_guard lock(mutex_);
  std::size_t sent = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    if (!entry.is_regular_file() || entry.path().extension() != kMessageSuffix) continue;
    if (auto delivered = Deliver(entry.path()); !delivered) {
      if (delivered.error().code() == ErrorCode::kUnavailable)
        return std::unexpected(delivered.error());
      continue;
    }
    ++sent;
  }
  return sent;
}

}  // namespace medvault::records
