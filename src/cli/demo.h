// Demo content for `medvault demo`: made-up patients with French identities (names with
// accents, valid NIR check keys, phones, emails), written through the sealed store like any
// other record. Nothing here is real data.
#pragma once

#include <cstddef>
#include <string>

#include "cli/vault.h"
#include "core/error.h"

namespace medvault::cli {

// Writes the named demo patients and `generated` more, made up from a fixed seed (so two
// demo vaults hold the same people), in batches of one transaction each. The id of the
// first named patient goes to `first_patient_id` when given.
Result<std::size_t> AddDemoPatients(OpenedVault& vault, std::size_t generated,
                                    std::string* first_patient_id = nullptr);

// The demo accounts: a clinician, a lab technician, an administrator and an auditor (each
// with a one-time enrollment code) and an activation code for the patient `patient_id`.
// Prints the logins and codes on standard output.
Status AddDemoAccounts(OpenedVault& vault, const std::string& patient_id);

}  // namespace medvault::cli
