// Sessions: what a browser holds after both factors. A session token is 256 random bits; the
// store keeps only its SHA-256, so a stolen database opens nothing. A session ends when idle
// too long (15 minutes for staff, 30 for patients by default), at its absolute expiry (12 h),
// at logout, or when its owner ends it (one, or all: "log out everywhere"). A new token is
// issued at login and at every privilege change (step-up, enrollment), so a token seen
// before the change is worth nothing after it.
//
// The same table holds the short-lived steps before a session: a login whose password was
// checked and that waits for its second factor (5 minutes), and an enrollment in progress.
// Authenticate() accepts a token only at the stage asked for, so neither opens anything else.
//
// The anti-CSRF token of a session is derived from its token (SHA-256 of a label and the
// token): a page of another origin can neither read the cookie nor compute it.
//
// Thread-safe. Failures: kPermissionDenied (one answer for unknown, expired, wrong stage or an
// account no longer active), store errors otherwise.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/wiped_text.h"
#include "identity/accounts.h"
#include "store/store.h"

namespace medvault::identity {

struct SessionPolicy {
  std::chrono::seconds staff_idle{std::chrono::minutes(15)};
  std::chrono::seconds patient_idle{std::chrono::minutes(30)};
  std::chrono::seconds absolute{std::chrono::hours(12)};
  std::chrono::seconds pending_second_factor{std::chrono::minutes(5)};
  std::chrono::seconds enrolling{std::chrono::minutes(30)};
  std::chrono::seconds step_up_window{std::chrono::minutes(5)};
  // last_seen_at is written at most this often, so a busy session costs few writes.
  std::chrono::seconds touch_interval{std::chrono::seconds(5)};
};

struct NewSession {
  crypto::WipedText token;  // the cookie value; shown once
  std::string id;           // public handle
  std::string csrf_token;
  Timestamp expires_at;
};

struct ActiveSession {
  store::SessionRecord record;
  store::Account account;
  AccountKind kind = AccountKind::kPatient;
};

class Sessions {
 public:
  Sessions(store::Store& store, const Clock& clock, SessionPolicy policy)
      : store_(store), clock_(clock), policy_(policy) {}

  const SessionPolicy& policy() const { return policy_; }

  // Writes a new token at `stage` for `account` inside `tx`; second_factor_at is when the
  // second factor was last checked (epoch for none).
  Result<NewSession> Start(store::Transaction& tx, const store::Account& account,
                           store::SessionStage stage, Timestamp second_factor_at,
                           std::string_view user_agent, std::string_view source,
                           std::span<const std::uint8_t> challenge = {});

  // The live session of `token` at `stage`, its last_seen_at moved to now.
  Result<ActiveSession> Authenticate(std::string_view token, store::SessionStage stage);

  // Replaces a session's token (a privilege change): the old token stops working.
  Result<NewSession> Rotate(store::Transaction& tx, const ActiveSession& session,
                            store::SessionStage stage, Timestamp second_factor_at);

  // Whether a second factor was checked within the step-up window.
  bool HasFreshSecondFactor(const store::SessionRecord& session) const;

  Result<std::vector<store::SessionRecord>> List(std::string_view account_id);
  Status End(std::string_view account_id, std::string_view session_id);
  Result<std::int64_t> EndAll(std::string_view account_id);
  Status Logout(std::string_view token);

  static std::string CsrfToken(std::string_view token);
  // Constant-time check of a request's anti-CSRF header against the session token.
  static bool CsrfMatches(std::string_view token, std::string_view header);

  // Idle timeout of a kind of account.
  std::chrono::seconds IdleTimeout(AccountKind kind) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  SessionPolicy policy_;
};

}  // namespace medvault::identity
