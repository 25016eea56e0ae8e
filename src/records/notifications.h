// Telling a patient that a result is ready, in a way a phisher cannot imitate usefully: one
// fixed text (English and French), with no health data, no test name, no link and no code.
// The patient learns only that something is waiting in the portal they already know.
//
// The outbox is a directory with one file per message (the recipient's address and the text,
// nothing else); when SMTP is configured each message is also sent to that relay (plain SMTP,
// meant for a local relay on loopback) and its file moves to outbox/sent. A message the relay
// does not take stays in the outbox, and DeliverPending sends it later.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault::records {

inline constexpr std::string_view kNewResultText =
    "A new result is available. Open your medvault portal to read it.";
inline constexpr std::string_view kNewResultTextFrench =
    "Un nouveau résultat est disponible. Ouvrez votre portail medvault pour le consulter.";

// What a release calls once the result is stored and visible.
class Notifier {
 public:
  virtual ~Notifier() = default;
  // Queues the new-result message for `email`. kInvalidArgument for an address that is not
  // one plain mailbox (no spaces, controls or angle brackets: nothing that could add a
  // header); kUnavailable when the outbox cannot be written.
  virtual Status NewResult(std::string_view email) = 0;
};

// Whether `email` is one plain mailbox: local@domain, printable ASCII, at most 254 bytes.
bool IsPlainMailbox(std::string_view email);

struct SmtpRelay {
  std::string host;
  std::uint16_t port = 25;
  std::string from;  // the envelope and header sender
  std::chrono::seconds timeout{10};
};

// Sends one message of `text` to `to` through `relay` (EHLO, MAIL, RCPT, DATA, QUIT).
// kUnavailable when the relay cannot be reached or refuses; the message names the step only.
Status SendMail(const SmtpRelay& relay, std::string_view to, std::string_view text);

class OutboxNotifier final : public Notifier {
 public:
  // `dir` is created (mode 0700) when missing.
  static Result<std::unique_ptr<OutboxNotifier>> Open(std::filesystem::path dir,
                                                      std::optional<SmtpRelay> relay);

  Status NewResult(std::string_view email) override;
  // Sends what waits in the outbox (SMTP configured); returns how many were sent.
  Result<std::size_t> DeliverPending();

 private:
  OutboxNotifier(std::filesystem::path dir, std::optional<SmtpRelay> relay)
      : dir_(std::move(dir)), relay_(std::move(relay)) {}
  Status Deliver(const std::filesystem::path& message);

  std::filesystem::path dir_;
  std::optional<SmtpRelay> relay_;
  std::mutex mutex_;  // one delivery at a time, so no message is sent twice
};

}  // namespace medvault::records
