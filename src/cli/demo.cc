#include "cli/demo.h"

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "cli/demo_records.h"
#include "cli/identity_services.h"
#include "identity/accounts.h"
#include "identity/auth_events.h"
#include "policy/sensitive.h"

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

// Names the canaries in the vault's medvault.toml (guard.canaries), in place of the empty
// value a new vault has.
Status SetCanaries(const std::filesystem::path& vault_dir, const std::vector<std::string>& ids) {
  const std::filesystem::path path = vault_dir / "medvault.toml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  constexpr std::string_view kEmpty = "\ncanaries = ''";
  const std::size_t at = toml.find(kEmpty);
  if (!in || at == std::string::npos) {
    return Fail(ErrorCode::kInternal, "demo: medvault.toml has no empty guard.canaries to set");
  }
  std::string joined;
  for (const std::string& id : ids) joined += (joined.empty() ? "" : " ") + id;
  toml.replace(at, kEmpty.size(), fmt::format("\ncanaries = '{}'", joined));
  std::ofstream out(path, std::ios::trunc);
  out << toml;
  out.close();
  if (!out) return Fail(ErrorCode::kUnavailable, "demo: medvault.toml cannot be written");
  return {};
}

// Sensitive categories (policy/sensitive.h): the first GP note of the record (a progress
// note, LOINC 11506-3) labelled mental health (HL7 v3 ActCode PSY). Nobody is granted the
// category in the demo, so Dr Martin does not see that note while the patient does. Returns
// its id.
Result<std::string> LabelFirstNoteMentalHealth(std::vector<DemoResource>& record) {
  for (DemoResource& resource : record) {
    if (resource.resource_type != "DocumentReference" ||
        resource.json.find("\"11506-3\"") == std::string::npos) {
      continue;
    }
    boost::json::value parsed = boost::json::parse(resource.json);
    boost::json::object& note = parsed.as_object();
    boost::json::value& meta = note["meta"];
    if (!meta.is_object()) meta = boost::json::object();
    meta.as_object()["security"] = boost::json::array{boost::json::object{
        {"system", policy::kActCodeSystem},
        {"code", "PSY"},
        {"display", "psychiatry information sensitivity"}}};
    resource.json = boost::json::serialize(note);
    return resource.id;
  }
  return Fail(ErrorCode::kInternal, "demo: the first patient has no GP note to label");
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
    if (i == 0) {
      auto labelled = LabelFirstNoteMentalHealth(record);
      if (!labelled) return std::unexpected(labelled.error());
      summary.sensitive_note_id = *labelled;
    }
    if (auto ok = write(record, patient_id); !ok) return std::unexpected(ok.error());
    ++summary.patients;
  }

  // Canaries (honeytokens) for the exfiltration guard: made-up patients with the commonest
  // family names and ids spread through the id order, so that a broad search or an
  // enumeration by id meets one early; the guard suspends whoever touches one. They are on
  // Dr Martin's care team (a ward's list holds such records too): a clinician reaches only
  // the patients of their care relations, so a canary outside every team would catch no
  // stolen clinician session.
  constexpr std::array kCanaryFamilies = {"Martin", "Bernard", "Dubois", "Thomas"};
  constexpr std::string_view kCanaryIdStarts = "15ae";
  for (std::size_t c = 0; c < kCanaryFamilies.size(); ++c) {
    DemoPerson person;
    person.family = kCanaryFamilies[c];
    person.given = kGivens[(7 * c) % kGivens.size()];
    person.sex = 1 + static_cast<int>(c % 2);
    person.year = 1950 + static_cast<int>(11 * c);
    person.serial = static_cast<int>(900 + c);
    const std::uint64_t seed = 0x63616e6100000000ULL + c;
    std::string patient_id = DemoSequence(~seed).Uuid();
    patient_id[0] = kCanaryIdStarts[c];
    auto record = MakeDemoPatientRecord(directory, person, patient_id, 0, seed);
    if (auto ok = write(record, patient_id); !ok) return std::unexpected(ok.error());
    summary.canary_ids.push_back(patient_id);
  }
  if (auto ok = SetCanaries(vault.config.vault_dir, summary.canary_ids); !ok) {
    return std::unexpected(ok.error());
  }
  return summary;
}

Status AddDemoAccounts(OpenedVault& vault, const std::string& patient_id) {
  SystemClock clock;
  auto audit_log = audit::AuditLog::Open(*vault.store, clock);
  if (!audit_log) return std::unexpected(audit_log.error());
  AuditAuthEvents events(**audit_log, "cli");
  identity::Accounts accounts(*vault.store, clock, events, {});
  // Dr Martin acts as her Practitioner (the GP of the demo patients' care teams that name
  // her), Léa Bernard for the demo lab.
  const DemoDirectory directory = MakeDemoDirectory();
  struct Staff {
    const char* login;
    identity::AccountKind kind;
    const char* name;
    std::string practitioner_id;
    std::string organization_id;
  };
  const Staff kStaff[] = {
      {"dr.martin", identity::AccountKind::kClinician, "Dr Camille Martin",
       directory.general_practitioner_ids.front(), ""},
      {"lab.bernard", identity::AccountKind::kLabTechnician, "Léa Bernard",
       "", directory.lab_id},
      {"admin.petit", identity::AccountKind::kAdministrator, "Hugo Petit", "", ""},
      {"audit.moreau", identity::AccountKind::kAuditor, "Inès Moreau", "", ""},
  };
  std::printf(
      "demo accounts (enroll at POST /auth/enroll with the code, then a second factor;\n"
      "administrators and auditors need a passkey):\n");
  for (const Staff& staff : kStaff) {
    auto created = accounts.CreateStaff(staff.login, staff.kind, staff.name, "demo",
                                        identity::RoleApproval::kOperatorBootstrap);
    if (!created) return std::unexpected(created.error());
    if (!staff.practitioner_id.empty() || !staff.organization_id.empty()) {
      const store::AccountLink link{.account_id = created->account.id,
                                    .practitioner_id = staff.practitioner_id,
                                    .organization_id = staff.organization_id,
                                    .updated_at = clock.Now()};
      if (auto linked = vault.store->Transact(
              [&](store::Transaction& tx) { return tx.PutAccountLink(link); });
          !linked) {
        return linked;
      }
    }
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
