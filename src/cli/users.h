// `medvault user ...` and `medvault client ...`: accounts and API clients from the command
// line, for operators. No command takes, sets or prints a password: staff get a one-time
// enrollment code, patients a one-time activation code.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "cli/identity_services.h"
#include "cli/vault.h"
#include "core/error.h"
#include "identity/accounts.h"

namespace medvault::cli {

// What an account, client or export command works with: the open vault, and its audit log
// taking the auth events as the operator's. Held in place: the log and the sink refer to the
// clock.
struct OperatorVault {
  OpenedVault vault;
  SystemClock clock;
  std::unique_ptr<audit::AuditLog> audit_log;
  std::unique_ptr<AuditAuthEvents> events;
};
Result<std::unique_ptr<OperatorVault>> OpenForOperator(const std::filesystem::path& dir);

struct UserAddOptions {
  std::filesystem::path vault_dir;
  std::string login;
  std::string kind;
  std::string name;
  std::string requested_by;  // login of the requesting administrator; empty: the operator
  // "Practitioner/<id>" or "Organization/<id>" (LinkUser's rules), linked at creation; empty:
  // none.
  std::string link;
};
// Prints the account id and its one-time enrollment code. While the vault has no active
// administrator the operator's account gets its role at once (bootstrap); otherwise the
// account waits for a second administrator (`medvault user approve`) and the role grant's id
// is printed. With a link, it is checked before the account is created and stored with it.
Status AddUser(const UserAddOptions& options);

// The account with this login, when it is an active administrator: who may request and
// decide role grants and exports at the console (kNotFound, kPermissionDenied otherwise).
Result<store::Account> ActiveAdministrator(identity::Accounts& accounts, const std::string& login);

// A role grant decided at the console by the administrator with login `by` (four eyes:
// approving, not the requester).
enum class GrantDecision { kApprove, kRefuse };
Status DecideGrant(const std::filesystem::path& vault_dir, const std::string& grant_id,
                   const std::string& by, GrantDecision decision);
// Lists the pending role grants: id, account login, role, requester, expiry.
Status ListGrants(const std::filesystem::path& vault_dir);

// Drops the account's factors and sessions; prints a new enrollment code.
Status ResetUser(const std::filesystem::path& vault_dir, const std::string& login);

// Prints a one-time activation code for a patient.
Status IssueActivationCode(const std::filesystem::path& vault_dir, const std::string& patient_id);

// Links a staff account to whom it acts as in the record: a clinician to their Practitioner
// (whose care relations open patients to them), a lab technician to their lab's Organization.
// `reference` is "Practitioner/<id>" or "Organization/<id>" of an existing resource. Audited
// (kUserChange) before it is stored; replaces an earlier link.
Status LinkUser(const std::filesystem::path& vault_dir, const std::string& login,
                const std::string& reference);
// Lifts the exfiltration guard's suspension of the account `login` (or of the API client
// `client_id` when login is empty): its guard counts are forgotten and the account is active
// again; its owner logs in anew with both factors. Audited as the operator's.
Status ReinstateUser(const std::filesystem::path& vault_dir, const std::string& login,
                     const std::string& client_id);

struct ClientAddOptions {
  std::filesystem::path vault_dir;
  std::string client_id;
  std::filesystem::path jwks_file;
  std::string scopes;
  std::string organization;       // the Organization id the client acts for, or
  bool all_organizations = false;  // ... none: every organization's patients (said explicitly)
};
// Registers an API client (identity/api_clients.h). A client acts for one organization
// (policy/decider.h: it reaches that organization's patients only) unless registered with
// `all_organizations`; one of the two must be given.
Status AddClient(const ClientAddOptions& options);

// Sensitive categories (glass, policy/sensitive.h): grants a staff account the permission to
// see one category (mental_health, sexual_health, pregnancy, genetics), or with `revoke`
// takes it back. Audited (kUserChange) before it is stored. Patients need none (they see
// their own record whole).
Status GrantSensitive(const std::filesystem::path& vault_dir, const std::string& login,
                      const std::string& category, bool revoke);
// Prints an account: login, kind, status, its link and its sensitive categories.
Status ShowUser(const std::filesystem::path& vault_dir, const std::string& login);

}  // namespace medvault::cli
