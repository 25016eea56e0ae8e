#include "cli/demo.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/identity_services.h"
#include "core/french_ids.h"
#include "core/ids.h"
#include "identity/accounts.h"
#include "identity/auth_events.h"

namespace medvault::cli {
namespace {

constexpr std::size_t kBatch = 500;

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

// A small, fixed pseudo-random sequence (SplitMix64): the demo must be the same every time.
class DemoSequence {
 public:
  explicit DemoSequence(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t Below(std::size_t bound) { return static_cast<std::size_t>(Next() % bound); }

 private:
  std::uint64_t state_;
};

struct DemoPatient {
  std::string family;
  std::string given;
  int sex = 1;  // 1 male, 2 female (the NIR's first digit)
  int year = 1984, month = 12, day = 3;
  std::string department = "75";
  int serial = 1;
};

std::string NirOf(const DemoPatient& patient) {
  std::string body =
      fmt::format("{}{:02}{:02}{}{:03}{:03}", patient.sex, patient.year % 100, patient.month,
                  patient.department, 100 + patient.serial % 900, 1 + patient.serial % 999);
  return body + fmt::format("{:02}", NirKey(body).value_or(0));
}

std::string PatientJson(const std::string& id, const DemoPatient& patient) {
  std::string ascii_family;
  for (char c : patient.family) {
    if (c >= 'A' && c <= 'Z') ascii_family.push_back(static_cast<char>(c - 'A' + 'a'));
    if (c >= 'a' && c <= 'z') ascii_family.push_back(c);
  }
  return fmt::format(
      R"({{"resourceType":"Patient","id":"{}","name":[{{"family":"{}","given":["{}"]}}],)"
      R"("gender":"{}","birthDate":"{:04}-{:02}-{:02}",)"
      R"("identifier":[{{"system":"{}","value":"{}"}}],)"
      R"("telecom":[{{"system":"phone","value":"06 {:02} {:02} {:02} {:02}"}},)"
      R"({{"system":"email","value":"{}.{}@example.org"}}]}})",
      id, patient.family, patient.given, patient.sex == 1 ? "male" : "female", patient.year,
      patient.month, patient.day, kInsNirSystem, NirOf(patient), patient.serial % 100,
      (patient.serial / 100) % 100, (patient.serial / 10000) % 100, patient.day, ascii_family,
      patient.serial);
}

std::vector<DemoPatient> NamedPatients() {
  return {
      {"Dupont", "Hélène", 2, 1984, 12, 3, "76", 451},
      {"Lefèvre", "Jérôme", 1, 1962, 4, 17, "69", 12},
      {"N'Diaye", "Aminata", 2, 1991, 9, 28, "93", 77},
      {"Ly", "Anh", 1, 1971, 7, 4, "13", 208},
      {"Müller", "Zoé", 2, 2015, 2, 11, "67", 33},
  };
}

}  // namespace

Result<std::size_t> AddDemoPatients(OpenedVault& vault, std::size_t generated,
                                    std::string* first_patient_id) {
  std::vector<DemoPatient> patients = NamedPatients();
  DemoSequence sequence(20261123);
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  std::size_t written = 0;
  const std::size_t total = patients.size() + generated;
  while (written < total) {
    std::vector<std::string> ids;
    std::vector<std::string> texts;
    for (std::size_t i = written; i < total && ids.size() < kBatch; ++i) {
      DemoPatient patient;
      if (i < patients.size()) {
        patient = patients[i];
      } else {
        patient.family = kFamilies[sequence.Below(kFamilies.size())];
        patient.given = kGivens[sequence.Below(kGivens.size())];
        patient.sex = 1 + static_cast<int>(sequence.Below(2));
        patient.year = 1930 + static_cast<int>(sequence.Below(90));
        patient.month = 1 + static_cast<int>(sequence.Below(12));
        patient.day = 1 + static_cast<int>(sequence.Below(28));
        // 20 was Corsica's number before 1976 and is refused after; skip it.
        std::size_t department = 1 + sequence.Below(95);
        patient.department = fmt::format("{:02}", department == 20 ? 21 : department);
        patient.serial = static_cast<int>(i);
      }
      ids.push_back(NewResourceId());
      if (i == 0 && first_patient_id != nullptr) *first_patient_id = ids.back();
      texts.push_back(PatientJson(ids.back(), patient));
    }
    std::vector<records::SealedWrite> writes;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      writes.push_back({"Patient", ids[i], 0, ids[i], texts[i], now});
    }
    if (auto ok = vault.records->PutAll(writes); !ok) return std::unexpected(ok.error());
    written += ids.size();
  }
  return written;
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
    auto created = accounts.CreateStaff(staff.login, staff.kind, staff.name, "demo");
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
