#include "cli/patients.h"

#include <cstdio>
#include <string>

#include "audit/entry.h"
#include "cli/audit.h"
#include "cli/vault.h"
#include "records/sealed_store.h"

namespace medvault::cli {

Status ErasePatient(const std::filesystem::path& vault_dir, std::string_view patient_id,
                    std::string_view confirm) {
  if (patient_id.empty() || patient_id.starts_with("medvault:")) {
    return Fail(ErrorCode::kInvalidArgument, "--id must name a patient");
  }
  if (confirm != patient_id) {
    return Fail(ErrorCode::kInvalidArgument,
                "--confirm must repeat the patient id exactly: nothing was erased");
  }
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  auto key = vault->store->GetWrappedKey(patient_id);
  if (!key) {
    if (key.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "this patient has no data key: nothing to erase");
    }
    return std::unexpected(key.error());
  }
  if (key->key_id == records::kErasedKeyId) {
    return Fail(ErrorCode::kNotFound, "this patient is erased already");
  }
  const std::vector<std::string> patients{std::string(patient_id)};
  if (auto logged = RecordOperatorAction(*vault->store, audit::Action::kPatientErase, patients,
                                         audit::Outcome::kSuccess);
      !logged) {
    return Fail(ErrorCode::kUnavailable,
                "the audit log cannot record the erasure, so nothing was erased: " +
                    logged.error().message());
  }
  if (auto erased = vault->records->ErasePatient(patient_id); !erased) {
    (void)RecordOperatorAction(*vault->store, audit::Action::kPatientErase, patients,
                               audit::Outcome::kFailed);
    return erased;
  }
  std::printf(
      "erased: the patient's data key is destroyed; every version of their records is "
      "unreadable for good (backups too, once a key rotation retires the current master key)\n");
  return {};
}

}  // namespace medvault::cli
