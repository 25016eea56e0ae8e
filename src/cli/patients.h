// `medvault patient erase`: crypto-shredding of one patient, by an operator at the server's
// console. The erasure is written to the audit log first: without that entry nothing is
// destroyed (and a failed erasure is logged as failed), so the log always shows who erased
// whom and when. What erasure covers is in records/sealed_store.h (ErasePatient) and
// docs/architecture.md ("Crypto-shredding").
#pragma once

#include <filesystem>
#include <string_view>

#include "core/error.h"

namespace medvault::cli {

// Destroys `patient_id`'s data key; `confirm` must repeat the id (a slip of the keyboard must
// not erase a patient). kNotFound when the patient has no data key (never written, or erased).
Status ErasePatient(const std::filesystem::path& vault_dir, std::string_view patient_id,
                    std::string_view confirm);

}  // namespace medvault::cli
