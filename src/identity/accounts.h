// Accounts: who may log in, as what, and how an account comes to exist. Staff accounts are
// created by an administrator (or `medvault user add`) with a one-time enrollment code, never
// a password; a patient account is created by its patient with the one-time activation code
// the lab printed. An administrator can reset an account's enrollment (all its factors and
// sessions go, a new enrollment code comes) but never sets or sees a password.
//
// Four eyes (issue 8). Every staff role is given only when a second administrator approves
// it: a new staff account waits in pending_approval (it cannot enroll, log in or read
// anything) with a pending role grant, until an active administrator other than the
// requester approves the grant (the account moves to pending_enrollment) or refuses it. A
// grant not decided within Options::role_grant_ttl expires. Every staff role needs it, not
// only the clinical ones: an administrator who could make a second administrator alone could
// approve their own requests through it, and an auditor reads who opened which patient.
// Bootstrap: the operator at the console (`medvault user add`, `medvault demo`) gives roles at
// once while the vault has no active administrator, so the first administrators can exist.
//
// Thread-safe: Accounts holds no mutable state; the store serializes.
// Failures: kInvalidArgument (a malformed login or kind, with what to fix), kAlreadyExists (a
// login taken: only administrators see this), kNotFound, kUnavailable/kInternal from the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
inline constexpr std::string_view kStatusPendingApproval = "pending_approval";

inline constexpr std::string_view kGrantPending = "pending";
inline constexpr std::string_view kGrantApproved = "approved";
inline constexpr std::string_view kGrantRefused = "refused";
inline constexpr std::string_view kGrantExpired = "expired";

// How a new staff account gets its role (see the file comment).
enum class RoleApproval {
  kSecondAdministrator,  // always a pending grant (the admin API)
  kOperatorBootstrap,    // at once while no administrator is active, else a pending grant
};

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
    // A role grant not approved by then expires (the enrollment code lives as long).
    std::chrono::seconds role_grant_ttl{std::chrono::hours(72)};
  };
  Accounts(store::Store& store, const Clock& clock, AuthEventSink& events, Options options)
      : store_(store), clock_(clock), events_(events), options_(options) {}

  struct Created {
    store::Account account;
    crypto::WipedText enrollment_code;  // shown once to the administrator
    std::optional<store::RoleGrant> pending_grant;  // set when a second approval is needed
  };
  // A staff account and its one-time enrollment code: in pending_enrollment when its role was
  // given at once (bootstrap), else in pending_approval with its pending grant. `actor_id` is
  // the requesting administrator's account id, or the console's word ("cli", "demo").
  Result<Created> CreateStaff(std::string_view login, AccountKind kind,
                              std::string_view display_name, std::string_view actor_id,
                              RoleApproval approval);

  // A second administrator's decision on a pending grant. The decider must be an active
  // administrator account other than the requester and the grantee (kPermissionDenied
  // otherwise, recorded); the grant must still be pending (kConflict: decided already or
  // expired, which it is then marked); kNotFound. Approving moves the account from
  // pending_approval to pending_enrollment. Audited before it answers.
  Result<store::RoleGrant> ApproveRoleGrant(std::string_view grant_id,
                                            std::string_view approver_id);
  // Any active administrator may refuse (the requester withdrawing included); the account
  // stays in pending_approval for good.
  Result<store::RoleGrant> RefuseRoleGrant(std::string_view grant_id, std::string_view refuser_id);
  // Pending grants, oldest id first, at most `limit`; those past their expiry are left out.
  Result<std::vector<store::RoleGrant>> ListPendingRoleGrants(std::size_t limit);

  // A one-time activation code for a patient (the lab prints it on the receipt).
  Result<crypto::WipedText> IssueActivationCode(std::string_view patient_id,
                                                std::string_view actor_id);

  // Drops every factor, session, pending code and throttle of the account, puts it back in
  // pending_enrollment and returns a new enrollment code.
  Result<crypto::WipedText> ResetEnrollment(std::string_view login, std::string_view actor_id);

  Result<store::Account> FindByLogin(std::string_view login);

  // Lifts the exfiltration guard's suspension, or an administrator's Disable, of the account
  // with this login (its guard counts are forgotten and it is active again, with no session
  // left: its owner logs in anew with both factors). `actor_id`: the reinstating administrator's
  // account id, or the console's word ("cli"). kPermissionDenied for an administrator reinstating
  // themselves, kNotFound for no such login, kConflict when it is neither suspended nor disabled.
  // Audited ("account_reinstated", the actor named).
  Result<store::Account> Reinstate(std::string_view login, std::string_view actor_id);
  // Disables the account with this login at once: its status becomes disabled, every session
  // and pending login of it ends, and a login with the right password is told it is disabled.
  // It comes back through Reinstate (another administrator; its factors are kept) or
  // ResetEnrollment (a new enrollment code; its factors go). kPermissionDenied for an
  // administrator disabling themselves, kNotFound, kConflict when it is disabled already.
  // Audited ("account_disabled", the actor named). Returns the account as it now is.
  Result<store::Account> Disable(std::string_view login, std::string_view actor_id);
  // Disables an API client for good: its access tokens end and no new one is issued (its owner
  // registers a new client). kNotFound. Audited ("account_disabled"). Returns the tokens ended.
  Result<std::int64_t> DisableClient(std::string_view client_id, std::string_view actor_id);
  // Whom a staff account acts as in the record (store::AccountLink): "Practitioner/<id>" for a
  // clinician, "Organization/<id>" for a lab technician (their lab). kInvalidArgument when the
  // reference is malformed or does not suit an account of `kind`, kNotFound when the vault
  // holds no such resource (a deleted one counts as none).
  Status CheckLink(std::string_view kind, std::string_view reference);
  // Links the account with this login to `reference` (replacing an earlier link) once
  // CheckLink holds; kNotFound for no such login. Audited ("account_linked", by `actor_id`:
  // an administrator's account id or the console's word) before it is stored.
  Result<store::AccountLink> Link(std::string_view login, std::string_view reference,
                                  std::string_view actor_id);
  // A page of accounts for the security console (store::AccountQuery).
  Result<std::vector<store::AccountSummary>> List(const store::AccountQuery& query);

  // The reinstatement alone, of an account or an API client id, unaudited: whether it was
  // suspended (policy::ExfiltrationGuard::Reinstate).
  static Result<bool> LiftSuspension(store::Store& store, std::string_view id, Timestamp now);

 private:
  // The account with this login for an administrator's action on it, `event` filled in for
  // it; kPermissionDenied (recorded as refused) when it is the actor's own account ("cannot
  // <verb> their own account"), kNotFound.
  Result<store::Account> AnotherAccount(std::string_view login, std::string_view actor_id,
                                        AuthEvent& event, std::string_view verb);
  enum class Decision { kApprove, kRefuse };
  Result<store::RoleGrant> Decide(std::string_view grant_id, std::string_view decider_id,
                                  Decision decision);

  store::Store& store_;
  const Clock& clock_;
  AuthEventSink& events_;
  Options options_;
};

}  // namespace medvault::identity
