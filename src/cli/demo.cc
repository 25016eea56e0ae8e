#include "cli/demo.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "cli/demo_records.h"
#include "cli/identity_services.h"
#include "identity/accounts.h"
#include "identity/auth_events.h"

namespace medvault::cli {
namespace {

constexpr std::array kFamilies = {
    "Martin",   "Bernard",   "Dubois",     "Thomas",    "Robert",   "Richard",  "Petit",
    "Durand",   "Leroy",     "Moreau",     "Simon",     "Laurent",  "Lefèvre",  "Michel",
    "Garcia",   "David",     "Bertrand",   "Roux",      "Vincent",  "Fournier", "Morel",
    "Girard",   "André",     "Lefebvre",   "Mercier",   "Dupont",   "Lambert",  "Bonnet",
    "François", "Martínez",  "Legrand",    "Garnier",   "Faure",    "Rousseau", "Blanc",
    "Guérin",   "Müller",    "Henry",      "Roussel",   "Nicolas",  "Perrin",   "Morin",
    "Mathieu",  "Clément",   "Gauthier",   "Dumont",    "Lopez",    "Fontaine", "Chevalier",
    "Robin",    "Masson",    "Sánchez",    "Gérard",    "Nguyen",   "Boyer",    "Denis",
    "Lemaire",  "Duval",     "Joly",       "Gautier",   "Roger",    "Roche",    "Roy",
    "Noël",     "Meyer",     "Lucas",      "Meunier",   "Jean",     "Pérez",    "Marchand",
    "Dufour",   "Blanchard", "Marie",      "Barbier",   "Brun",     "Dumas",    "Brunet",
    "Schmitt",  "Leroux",    "Colin",      "Fernandez", "Pierre",   "Renard",   "Arnaud",
    "Rolland",  "Caron",     "Aubert",     "Giraud",    "Leclerc",  "Vidal",    "Bourgeois",
    "Renaud",   "Lemoine",   "Picard",     "Gaillard",  "Philippe", "Lacroix",  "Dupuis",
    "Olivier",  "Rodriguez", "D'Artagnan", "N'Diaye",   "Ly",       "Lætitia"};
constexpr std::array kGivens = {
    "Hélène",   "Jean",   "Marie",  "Pierre", "Chloé",  "Léa",       "Zoé",      "Noémie",
    "Jérôme",   "Éric",   "Anaïs",  "Inès",   "Maëlle", "Loïc",      "François", "Gaëlle",
    "Béatrice", "Hugo",   "Louis",  "Emma",   "Manon",  "Camille",   "Lucas",    "Nathan",
    "Sarah",    "Thomas", "Julie",  "Céline", "Amélie", "Joséphine", "Raphaël",  "Timothée",
    "Agnès",    "Benoît", "Cécile", "Mathis"};

std::vector<DemoPerson> NamedPatients() {
  return {
      {"Dupont", "Hélène", 2, 1984, 12, 3, "76", 451, true},
      {"Lefèvre", "Jérôme", 1, 1962, 4, 17, "69", 12},
      {"N'Diaye", "Aminata", 2, 1991, 9, 28, "93", 77},
      {"Ly", "Anh", 1, 1971, 7, 4, "13", 208},
      {"Müller", "Zoé", 2, 2015, 2, 11, "67", 33},
  };
}

}  // namespace

Result<DemoSummary> AddDemoPatients(OpenedVault& vault, std::size_t generated) {
  SystemClock clock;
  auto audit_log = audit::AuditLog::Open(*vault.store, clock);
  if (!audit_log) return std::unexpected(audit_log.error());
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  DemoSummary summary;
  // The operator writes the demo: each batch is recorded in the audit log before it is
  // written, as every write of health data is.
  auto write = [&](const std::vector<DemoResource>& resources,
                   const std::string& patient_id) -> Status {
    audit::Entry entry;
    entry.account = "operator";
    entry.role = audit::Role::kOperator;
    entry.client = "cli";
    entry.action = audit::Action::kCreate;
    entry.purpose = audit::Purpose::kAdministration;
    if (patient_id.empty()) {
      for (const DemoResource& resource : resources) entry.resource_ids.push_back(resource.id);
    } else {
      entry.resource_type = "Patient";
      entry.resource_ids = {patient_id};
      entry.patient_ids = {patient_id};
    }
    if (auto appended = (*audit_log)->Append(std::move(entry)); !appended) {
      return std::unexpected(appended.error());
    }
    std::vector<records::SealedWrite> writes;
    writes.reserve(resources.size());
    for (const DemoResource& resource : resources) {
      writes.push_back(
          {resource.resource_type, resource.id, 0, resource.patient_id, resource.json, now});
      summary.written.push_back({resource.resource_type, resource.id, resource.patient_id});
    }
    return vault.records->PutAll(writes);
  };

  const DemoDirectory directory = MakeDemoDirectory();
  if (auto ok = write(directory.resources, ""); !ok) return std::unexpected(ok.error());

  std::vector<DemoPerson> named = NamedPatients();
  DemoSequence people(20261123);
  const std::size_t total = named.size() + generated;
  for (std::size_t i = 0; i < total; ++i) {
    DemoPerson person;
    if (i < named.size()) {
      person = named[i];
    } else {
      person.family = kFamilies[people.Below(kFamilies.size())];
      person.given = kGivens[people.Below(kGivens.size())];
      person.sex = 1 + static_cast<int>(people.Below(2));
      person.year = 1930 + static_cast<int>(people.Below(90));
      person.month = 1 + static_cast<int>(people.Below(12));
      person.day = 1 + static_cast<int>(people.Below(28));
      // 20 was Corsica's number before 1976 and is refused after; skip it.
      std::size_t department = 1 + people.Below(95);
      person.department = fmt::format("{:02}", department == 20 ? 21 : department);
      person.serial = static_cast<int>(i);
    }
    // Each patient's record depends only on their place in the list, so --patients N gives
    // the same first patients for every N. The first one is Dr Martin's (the demo clinician).
    const std::uint64_t seed = 0x64656d6f00000000ULL + i;
    const std::string patient_id = DemoSequence(~seed).Uuid();
    const std::size_t general_practitioner = i == 0 ? 0 : DemoSequence(seed).Below(4);
    if (i == 0) summary.first_patient_id = patient_id;
    auto record = MakeDemoPatientRecord(directory, person, patient_id, general_practitioner, seed);
    if (auto ok = write(record, patient_id); !ok) return std::unexpected(ok.error());
    ++summary.patients;
  }
  return summary;
}

Status AddDemoAccounts(OpenedVault& vault, const std::string& patient_id) {
  SystemClock clock;
  auto audit_log = audit::AuditLog::Open(*vault.store, clock);
  if (!audit_log) return std::unexpected(audit_log.error());
  AuditAuthEvents events(**audit_log, "cli");
  identity::Accounts accounts(*vault.store, clock, events, {});
  struct Staff {
    const char* login;
    identity::AccountKind kind;
    const char* name;
  };
  static constexpr Staff kStaff[] = {
      {"dr.martin", identity::AccountKind::kClinician, "Dr Camille Martin"},
      {"lab.bernard", identity::AccountKind::kLabTechnician, "Léa Bernard"},
      {"admin.petit", identity::AccountKind::kAdministrator, "Hugo Petit"},
      {"audit.moreau", identity::AccountKind::kAuditor, "Inès Moreau"},
  };
  std::printf(
      "demo accounts (enroll at POST /auth/enroll with the code, then a second factor;\n"
      "administrators and auditors need a passkey):\n");
  for (const Staff& staff : kStaff) {
    auto created = accounts.CreateStaff(staff.login, staff.kind, staff.name, "demo",
                                        identity::RoleApproval::kOperatorBootstrap);
    if (!created) return std::unexpected(created.error());
    std::printf("  %-13s %-15s enrollment code %s\n", staff.login,
                std::string(identity::AccountKindName(staff.kind)).c_str(),
                std::string(created->enrollment_code.view()).c_str());
  }
  auto code = accounts.IssueActivationCode(patient_id, "demo");
  if (!code) return std::unexpected(code.error());
  std::printf("  patient       (choose a login)  activation code %s (POST /auth/activate)\n",
              std::string(code->view()).c_str());
  return {};
}

}  // namespace medvault::cli
