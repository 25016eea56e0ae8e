// `medvault user ...` and `medvault client ...`: accounts and API clients from the command
// line, for operators. No command takes, sets or prints a password: staff get a one-time
// enrollment code, patients a one-time activation code.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace medvault::cli {

struct UserAddOptions {
  std::filesystem::path vault_dir;
  std::string login;
  std::string kind;
  std::string name;
};
// Prints the account id and its one-time enrollment code.
Status AddUser(const UserAddOptions& options);

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
  std::string organization;
};
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
