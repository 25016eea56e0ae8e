// Demo content for `medvault demo`: made-up patients with French identities (names with
// accents, valid NIR check keys, phones, emails) and years of lab results, prescriptions and
// notes (cli/demo_records.h), written through the sealed store like any other record.
// Nothing here is real data.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cli/vault.h"
#include "core/error.h"

namespace medvault::cli {

// What AddDemoPatients wrote.
struct DemoWritten {
  std::string resource_type;
  std::string id;
  std::string patient_id;  // empty for the directory (lab, clinic, staff)
};
struct DemoSummary {
  std::size_t patients = 0;
  std::string first_patient_id;      // the first named patient (Hélène Dupont)
  std::vector<DemoWritten> written;  // every resource, in the order written
  std::vector<std::string> canary_ids;  // the canary patients (guard.canaries)
};

// Writes the demo directory (cli/demo_records.h: the lab, the clinic, their staff), then the
// named demo patients and `generated` more, made up from a fixed seed (so two demo vaults hold
// the same people and records), each patient with their whole record in one transaction
// (SealedStore::PutAll). Each batch is first recorded in the audit log as the operator's
// (Role::kOperator, Action::kCreate, the patient's id). Then four canary patients for the
// exfiltration guard (common family names, ids spread through the id order) with records like
// the others, named in the vault's guard.canaries. Stops at the first failure.
Result<DemoSummary> AddDemoPatients(OpenedVault& vault, std::size_t generated);

// The demo accounts: a clinician, a lab technician, an administrator and an auditor (each
// with a one-time enrollment code) and an activation code for the patient `patient_id`.
// Prints the logins and codes on standard output.
Status AddDemoAccounts(OpenedVault& vault, const std::string& patient_id);

}  // namespace medvault::cli
