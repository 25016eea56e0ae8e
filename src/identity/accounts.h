// Accounts: who may log in, as what, and how an account comes to exist. Staff accounts are
// created by an administrator (or `medvault user add`) in pending_enrollment with a one-time
// enrollment code, never a password; a patient account is created by its patient with the
// one-time activation code the lab printed. An administrator can reset an account's
// enrollment (all its factors and sessions go, a new enrollment code comes) but never sets
// or sees a password.
//
// Thread-safe: Accounts holds no mutable state; the store serializes.
// Failures: kInvalidArgument (a malformed login or kind, with what to fix), kAlreadyExists (a
// login taken: only administrators see this), kNotFound, kUnavailable/kInternal from the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/wiped_text.h"
#include "identity/auth_events.h"
#include "store/store.h"

namespace medvault::identity {

enum class AccountKind { kPatient, kClinician, kLabTechnician, kAdministrator, kAuditor };

Result<AccountKind> ParseAccountKind(std::string_view name);
std::string_view AccountKindName(AccountKind kind);
inline bool IsStaff(AccountKind kind) { return kind != AccountKind::kPatient; }

inline constexpr std::string_view kStatusPendingEnrollment = "pending_enrollment";
inline constexpr std::string_view kStatusActive = "active";
inline constexpr std::string_view kStatusDisabled = "disabled";
// Set by the exfiltration guard (policy/guard.h): sessions and logins are refused until an
// administrator reinstates the account (`medvault user reinstate`).
inline constexpr std::string_view kStatusSuspended = "suspended";

inline constexpr std::string_view kCodeEnrollment = "enrollment";
inline constexpr std::string_view kCodeActivation = "activation";

// Which second factors a kind of account may use.
enum class SecondFactorRule { kPasskeyOnly, kPasskeyOrTotp };

// Per-kind rules; administrators and auditors default to passkeys only.
struct SecondFactorRules {
  SecondFactorRule patient = SecondFactorRule::kPasskeyOrTotp;
  SecondFactorRule clinician = SecondFactorRule::kPasskeyOrTotp;
  SecondFactorRule lab_technician = SecondFactorRule::kPasskeyOrTotp;
  SecondFactorRule administrator = SecondFactorRule::kPasskeyOnly;
  SecondFactorRule auditor = SecondFactorRule::kPasskeyOnly;
  SecondFactorRule For(AccountKind kind) const;
};
Result<SecondFactorRule> ParseSecondFactorRule(
    std::string_view text);  // "passkey", "passkey_or_totp"

// A login as the store keeps it: ASCII letters folded to lower case, 3..64 characters of
// [a-z0-9._@-]. kInvalidArgument otherwise, saying what is allowed.
Result<std::string> NormalizeLogin(std::string_view typed);

class Accounts {
 public:
  struct Options {
    std::chrono::seconds enrollment_code_ttl{std::chrono::hours(72)};
    std::chrono::seconds activation_code_ttl{std::chrono::days(30)};
  };
  Accounts(store::Store& store, const Clock& clock, AuthEventSink& events, Options options)
      : store_(store), clock_(clock), events_(events), options_(options) {}

  struct Created {
    store::Account account;
    crypto::WipedText enrollment_code;  // shown once to the administrator
  };
  // A staff account in pending_enrollment and its one-time enrollment code.
  Result<Created> CreateStaff(std::string_view login, AccountKind kind,
                              std::string_view display_name, std::string_view actor_id);

  // A one-time activation code for a patient (the lab prints it on the receipt).
  Result<crypto::WipedText> IssueActivationCode(std::string_view patient_id,
                                                std::string_view actor_id);

  // Drops every factor, session, pending code and throttle of the account, puts it back in
  // pending_enrollment and returns a new enrollment code.
  Result<crypto::WipedText> ResetEnrollment(std::string_view login, std::string_view actor_id);

  Result<store::Account> FindByLogin(std::string_view login);

 private:
  store::Store& store_;
  const Clock& clock_;
  AuthEventSink& events_;
  Options options_;
};

}  // namespace medvault::identity
