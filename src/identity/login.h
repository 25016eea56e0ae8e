// The login, enrollment and step-up ceremonies. A session exists only after both factors:
//
//   password (CheckPassword) -> a pending login, good for 5 minutes and for nothing but the
//   second factor -> TOTP / passkey / recovery code -> a session with a new token.
//
// Unknown login, wrong password, throttled and disabled account all get the same answer
// (kFailed) after the same work (VerifyDummy where there is no password to check). Each
// failure, of the password or of the second factor, counts against the account (backoff
// after 5 consecutive failures, disabled after 100) and every attempt takes a token from
// the source's bucket (kSlowDown with Retry-After when empty). One source failing on many
// accounts raises the store alert "credential_stuffing". When the hasher's queue is full,
// kBusy (the API answers 429 with Retry-After).
//
// Enrollment: a staff member types the one-time enrollment code and a new password; a
// patient types the activation code, a login and a new password. Both get an enrollment
// token that opens only the enrollment of a second factor, which ends with a session.
//
// Threading: methods may be called from any thread. The asynchronous ones (those that hash)
// return at once and call `done` once, on a hasher thread or at once on the calling thread.
// Failures: kPermissionDenied for a refused step (one message, nothing about the account),
// kInvalidArgument with what to fix (a new password refused by the policy), store errors.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/secret.h"
#include "crypto/wiped_text.h"
#include "identity/accounts.h"
#include "identity/auth_events.h"
#include "identity/password_hasher.h"
#include "identity/sessions.h"
#include "identity/throttle.h"
#include "identity/webauthn.h"
#include "store/store.h"

namespace medvault::identity {

// Who is asking, as the network sees them.
struct Client {
  std::string source;      // address without port
  std::string user_agent;  // a short summary
};

struct LoginOptions {
  AccountThrottlePolicy account_throttle;
  SecondFactorRules rules;
  std::string totp_issuer = "medvault";
  // Retry-After for a full hashing queue.
  std::chrono::seconds busy_retry_after{1};
};

// The answer of a step that may be throttled.
enum class StepResult {
  kOk,
  kFailed,    // wrong or unknown, one answer for every reason
  kSlowDown,  // the source's bucket is empty: retry_after
  kBusy,      // hashing saturated: retry_after
};

struct PasswordOutcome {
  StepResult result = StepResult::kFailed;
  std::chrono::seconds retry_after{0};
  std::optional<NewSession> pending;  // kOk: the pending login's token
  std::vector<std::string> factors;   // kOk: what the account may use: totp, passkey, recovery_code
};

struct SessionOutcome {
  StepResult result = StepResult::kFailed;
  std::chrono::seconds retry_after{0};
  std::optional<NewSession> session;
  std::vector<std::string> recovery_codes;  // shown once, at the end of an enrollment
};

struct TotpEnrollment {
  crypto::WipedText otpauth_uri;
  crypto::WipedText qr_svg;
  crypto::WipedText secret_base32;  // for typing in by hand
};

class LoginService {
 public:
  // `totp_key` seals TOTP secrets at rest (DerivedKeys::SecretKey("identity.totp")).
  LoginService(store::Store& store, const Clock& clock, PasswordHasher& hasher, Sessions& sessions,
               SourceThrottle& source_throttle, StuffingDetector& stuffing, AuthEventSink& events,
               Secret totp_key, LoginOptions options);

  // Step 1 of a login.
  void CheckPassword(std::string_view login, Secret password, const Client& client,
                     std::function<void(Result<PasswordOutcome>)> done);

  // Step 2 with a TOTP code (quick: no hashing).
  Result<SessionOutcome> CompleteWithTotp(std::string_view pending_token, std::string_view code,
                                          const Client& client);

  // Step 2 with a recovery code (one Argon2id check): the code is used up.
  void CompleteWithRecoveryCode(std::string_view pending_token, std::string_view code,
                                const Client& client,
                                std::function<void(Result<SessionOutcome>)> done);

  // Passkeys. The relying party is set once before serving (its origins may depend on the
  // bound port); not thread-safe against concurrent logins.
  void SetRelyingParty(RelyingParty rp) { rp_ = std::move(rp); }
  // Step 2 with a passkey: the options for navigator.credentials.get (a new single-use
  // challenge, kept with the pending login), then the browser's answer.
  Result<std::string> PasskeyLoginOptions(std::string_view pending_token);
  Result<SessionOutcome> CompleteWithPasskey(std::string_view pending_token,
                                             std::string_view response_json, const Client& client);
  // Step-up with a passkey in a session: options (challenge kept with the session), then the
  // browser's answer; a new token whose second factor is fresh.
  Result<std::string> PasskeyStepUpOptions(std::string_view session_token);
  Result<SessionOutcome> StepUpWithPasskey(std::string_view session_token,
                                           std::string_view response_json, const Client& client);
  // In an enrollment: the options for navigator.credentials.create, then the answer; the
  // account becomes active, a session starts and ten recovery codes are made.
  Result<std::string> BeginPasskeyEnrollment(std::string_view enrollment_token);
  void ConfirmPasskeyEnrollment(std::string_view enrollment_token, std::string_view response_json,
                                const Client& client,
                                std::function<void(Result<SessionOutcome>)> done);

  // Enrollment of staff: the enrollment code and a new password.
  void StartEnrollment(std::string_view code, Secret password, const Client& client,
                       std::function<void(Result<PasswordOutcome>)> done);
  // Activation by a patient: the activation code, a login of their choice and a password.
  void Activate(std::string_view code, std::string_view login, std::string_view display_name,
                Secret password, const Client& client,
                std::function<void(Result<PasswordOutcome>)> done);

  // In an enrollment: a new TOTP secret, kept sealed in the enrollment until confirmed.
  Result<TotpEnrollment> BeginTotpEnrollment(std::string_view enrollment_token);
  // Confirms the TOTP with its first code; the account becomes active, the enrollment token
  // is replaced by a session, and ten recovery codes are made (shown once).
  void ConfirmTotpEnrollment(std::string_view enrollment_token, std::string_view code,
                             const Client& client,
                             std::function<void(Result<SessionOutcome>)> done);

  // Step-up in a session with a TOTP code: a new token whose second factor is fresh.
  Result<SessionOutcome> StepUpWithTotp(std::string_view session_token, std::string_view code,
                                        const Client& client);

  // Changing one's own factors from a session. Every change is an enrollment change: the
  // session's second factor must have been checked within the step-up window
  // (kPermissionDenied "step up first" otherwise), and each is an auth event
  // ("factor_added", "factor_removed", "recovery_codes_replaced"). Listing needs no step-up.
  struct FactorSummary {
    std::string id;    // the credential's public handle, for RemoveFactor
    std::string kind;  // "totp" or "passkey"
    Timestamp created_at;
  };
  struct FactorList {
    std::vector<FactorSummary> factors;  // oldest first
    std::size_t recovery_codes_left = 0;
  };
  Result<FactorList> ListFactors(std::string_view session_token);
  // Ten new recovery codes replace the old ones (used or not); shown once.
  void RegenerateRecoveryCodes(std::string_view session_token, const Client& client,
                               std::function<void(Result<std::vector<std::string>>)> done);
  // A new TOTP secret, kept sealed with the session until confirmed; then its first code
  // replaces the account's TOTP (the old one stops working). kPermissionDenied for kinds that
  // must use a passkey.
  Result<TotpEnrollment> BeginTotpChange(std::string_view session_token);
  Status ConfirmTotpChange(std::string_view session_token, std::string_view code,
                           const Client& client);
  // Registers one more passkey: the options for navigator.credentials.create, then the answer.
  Result<std::string> BeginPasskeyAddition(std::string_view session_token);
  Status ConfirmPasskeyAddition(std::string_view session_token, std::string_view response_json,
                                const Client& client);
  // Removes a TOTP or passkey of the session's account. Refused (kInvalidArgument, saying why)
  // when it would leave the account without a second factor it may use; kNotFound when the
  // account has no such factor.
  Status RemoveFactor(std::string_view session_token, std::string_view factor_id,
                      const Client& client);

  Sessions& sessions() { return sessions_; }
  PasswordHasher& hasher() { return hasher_; }

  // Makes ten new recovery codes for the account (replacing any earlier ones), in the
  // enrollment that ends with `finish`; the codes reach the caller once, in the outcome.
  void ReplaceRecoveryCodes(std::string account_id,
                            std::function<void(Result<std::vector<std::string>>)> done);

 private:
  struct Attempt;
  void FinishPassword(std::shared_ptr<Attempt> attempt, Result<PasswordHasher::Verdict> verdict,
                      std::function<void(Result<PasswordOutcome>)> done);
  // Counts a failure against the account (and the stuffing detector) and reports it.
  void RecordFailure(const store::Account* account, std::string_view stuffing_key,
                     const Client& client, std::string_view event);
  std::chrono::seconds SourceWait(const Client& client);
  // Counts an attempt on `account_key` that gave no session; raises the stuffing alert.
  void NoteUnfinished(const Client& client, std::string_view account_key);
  // Reports an auth event; the sink's answer says whether the audit log holds it.
  Status Event(const store::Account* account, const Client& client, std::string_view event,
               std::string_view outcome);
  // Reports a success that hands out `token` (a session or a pending login): when the audit
  // log refuses it, the token is ended and the error returned (fail-closed).
  Status RecordGrant(const store::Account& account, const Client& client, std::string_view event,
                     const NewSession& token);
  std::vector<std::string> FactorsOf(const store::Account& account,
                                     const std::vector<store::Credential>& credentials) const;
  Result<std::vector<std::uint8_t>> SealTotp(const Secret& secret, std::string_view account_id);
  // A new TOTP secret kept sealed with `session` (enrolling, or replacing the TOTP) until its
  // first code confirms it; kPermissionDenied for kinds that must use a passkey.
  Result<TotpEnrollment> NewTotpFor(const ActiveSession& session);
  // A new registration challenge kept with `session` (enrolling, or adding a passkey), and the
  // options for navigator.credentials.create that exclude the account's passkeys.
  Result<std::string> PasskeyCreationOptions(const ActiveSession& session);
  // The session of `token` when its second factor is fresh enough for an enrollment change.
  Result<ActiveSession> FreshSession(std::string_view token);
  Result<std::string> PasskeyOptionsAt(std::string_view token, store::SessionStage stage);
  Result<SessionOutcome> PasskeyAt(std::string_view token, store::SessionStage stage,
                                   std::string_view response_json, const Client& client);
  // Ends an enrollment with a new factor already written by `write`: the account becomes
  // active, the enrollment token is replaced by a session, recovery codes are made.
  void FinishEnrollment(const ActiveSession& enrolling, std::string_view event,
                        const Client& client, std::function<Status(store::Transaction&)> write,
                        std::function<void(Result<SessionOutcome>)> done);
  Result<Secret> OpenTotp(std::span<const std::uint8_t> sealed, std::string_view account_id);
  // In one transaction: checks `current`'s account TOTP code (throttle, the kind's rule, a
  // step not used before) and, when it is accepted, clears the throttle and turns `current`
  // into a full session. nullopt when the code is refused.
  Result<std::optional<NewSession>> TotpSession(const ActiveSession& current,
                                                std::string_view code);
  // Hashes a new password (policy first) and, in one transaction, runs `write` to store it
  // and start an enrollment.
  void SetPasswordAndEnroll(
      Secret password, std::vector<std::string> personal_terms, const Client& client,
      std::function<Result<store::Account>(store::Transaction&, const std::string& phc)> write,
      std::function<void(Result<PasswordOutcome>)> done);

  store::Store& store_;
  const Clock& clock_;
  PasswordHasher& hasher_;
  Sessions& sessions_;
  SourceThrottle& source_throttle_;
  StuffingDetector& stuffing_;
  AuthEventSink& events_;
  Secret totp_key_;
  LoginOptions options_;
  RelyingParty rp_{"localhost", "medvault", {"https://localhost"}, false};
};

}  // namespace medvault::identity
