// `medvault audit verify` and `medvault audit scope`: the operator's tools over the audit log.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "audit/entry.h"
#include "core/error.h"
#include "store/store.h"

namespace medvault::cli {

// Recomputes the audit tree from the stored entries and checks it against every stored
// checkpoint, the latest checkpoint in audit.checkpoint_dir and `checkpoint_file` if given.
// Prints one summary line. Returns false (after printing the first bad entry and what is wrong)
// when the log is not intact; an Error when it could not be checked at all.
Result<bool> VerifyAudit(const std::filesystem::path& vault_dir,
                         const std::optional<std::filesystem::path>& checkpoint_file);

struct ScopeOptions {
  std::string account;
  std::string from;  // ISO 8601: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z
  std::string to;
  std::filesystem::path out_dir;  // empty: print the summary only
};

// Every patient whose data `account` read or changed in [from, to), with resource types and
// counts; with out_dir, also a draft regulator notification and one letter per patient, in
// French and English.
Status AuditScope(const std::filesystem::path& vault_dir, const ScopeOptions& options);

// Appends an operator's action (key rotation, erasure, user added) to the vault's audit log.
Status RecordOperatorAction(store::Store& store, audit::Action action,
                            std::vector<std::string> patient_ids, audit::Outcome outcome);

// Parses the ISO 8601 forms ScopeOptions accepts (UTC).
Result<Timestamp> ParseIsoTime(std::string_view text);

}  // namespace medvault::cli
