#include "cli/audit.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "audit/audit_log.h"
#include "audit/checkpoint.h"
#include "audit/scope.h"
#include "audit/verifier.h"
#include "cli/vault.h"
#include "core/clock.h"

namespace medvault::cli {
namespace {

namespace fs = std::filesystem;

std::string Day(Timestamp t) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC",
                     std::chrono::time_point_cast<std::chrono::seconds>(t));
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(ErrorCode::kUnavailable, "cannot write " + path.string());
  return {};
}

}  // namespace

Result<Timestamp> ParseIsoTime(std::string_view text) { return audit::ParseIsoTime(text); }

Result<bool> VerifyAudit(const fs::path& vault_dir,
                         const std::optional<fs::path>& checkpoint_file) {
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  const audit::NoteVerifier verifier =
      audit::VerifierOf(vault->records->derived_keys().signing_key());
  auto extra = audit::CheckpointFiles(vault->config.audit.checkpoint_dir, checkpoint_file);
  if (!extra) return std::unexpected(extra.error());
  auto report = audit::VerifyLog(*vault->store, verifier, *extra);
  if (!report) return std::unexpected(report.error());
  std::printf("%s\n", audit::VerifySummary(*report, verifier).c_str());
  return report->intact();
}

Status RecordOperatorAction(store::Store& store, audit::Action action,
                            std::vector<std::string> patient_ids, audit::Outcome outcome) {
  static const SystemClock clock;
  auto log = audit::AuditLog::Open(store, clock);
  if (!log) return std::unexpected(log.error());
  audit::Entry entry;
  entry.account = "operator";
  entry.role = audit::Role::kOperator;
  entry.client = "cli";
  entry.action = action;
  entry.patient_ids = std::move(patient_ids);
  entry.purpose = audit::Purpose::kAdministration;
  entry.outcome = outcome;
  auto appended = (*log)->Append(std::move(entry));
  if (!appended) return std::unexpected(appended.error());
  return {};
}

Status AuditScope(const fs::path& vault_dir, const ScopeOptions& options) {
  auto from = ParseIsoTime(options.from);
  if (!from) return std::unexpected(from.error());
  auto to = ParseIsoTime(options.to);
  if (!to) return std::unexpected(to.error());
  if (*to <= *from) return Fail(ErrorCode::kInvalidArgument, "--to must be after --from");
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  static const SystemClock clock;
  auto log = audit::AuditLog::Open(*vault->store, clock);
  if (!log) return std::unexpected(log.error());

  auto scope = audit::ComputeBreachScope(**log, options.account, *from, *to);
  if (!scope) return std::unexpected(scope.error());
  const auto& touched = scope->patients;
  const std::uint64_t records = scope->records;
  const std::uint64_t entries = scope->entries;
  const std::set<std::string>& types = scope->categories;

  std::printf(
      "breach scope for account %s from %s to %s: %zu patients, %llu records, %llu "
      "audit entries\n",
      options.account.c_str(), Day(*from).c_str(), Day(*to).c_str(), touched.size(),
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(entries));
  for (const auto& [patient, by_type] : touched) {
    std::string line = "  patient " + patient + ":";
    for (const auto& [type, count] : by_type) line += fmt::format(" {} x{}", type, count);
    std::printf("%s\n", line.c_str());
  }
  if (options.out_dir.empty()) return {};

  std::error_code error;
  fs::create_directories(options.out_dir / "letters", error);
  if (error) return Fail(ErrorCode::kUnavailable, "cannot create " + options.out_dir.string());
  std::string csv = "patient_id,resource_type,count\n";
  for (const auto& [patient, by_type] : touched) {
    for (const auto& [type, count] : by_type)
      csv += fmt::format("{},{},{}\n", patient, type, count);
  }
  if (auto s = WriteText(options.out_dir / "scope.csv", csv); !s) return s;

  std::string categories;
  for (const std::string& type : types) categories += (categories.empty() ? "" : ", ") + type;
  const std::string window = Day(*from) + " - " + Day(*to);
  const std::string notification_en = fmt::format(
      "DRAFT - personal data breach notification (GDPR article 33)\n\n"
      "Nature of the breach: the account {} accessed health records in the window {}.\n"
      "Categories of data: health data (FHIR resources: {}).\n"
      "Approximate number of people concerned: {}.\n"
      "Approximate number of records concerned: {} (from {} audit log entries).\n"
      "Likely consequences: [to complete].\n"
      "Measures taken or proposed: [to complete: e.g. the account's sessions were suspended, its "
      "credentials reset, the access path closed].\n"
      "Contact point (data protection officer): [to complete].\n"
      "This draft was produced from medvault's tamper-evident audit log; the list of people is "
      "in scope.csv and one letter per person is in letters/.\n",
      options.account, window, categories, touched.size(), records, entries);
  const std::string notification_fr = fmt::format(
      "PROJET - notification de violation de données personnelles (RGPD, article 33)\n\n"
      "Nature de la violation : le compte {} a consulté des dossiers de santé entre {}.\n"
      "Catégories de données : données de santé (ressources FHIR : {}).\n"
      "Nombre approximatif de personnes concernées : {}.\n"
      "Nombre approximatif d'enregistrements concernés : {} ({} entrées du journal d'audit).\n"
      "Conséquences probables : [à compléter].\n"
      "Mesures prises ou envisagées : [à compléter : par exemple sessions du compte suspendues, "
      "identifiants réinitialisés, accès fermé].\n"
      "Point de contact (délégué à la protection des données) : [à compléter].\n"
      "Ce projet est établi à partir du journal d'audit infalsifiable de medvault ; la liste des "
      "personnes figure dans scope.csv et une lettre par personne dans letters/.\n",
      options.account, window, categories, touched.size(), records, entries);
  if (auto s = WriteText(options.out_dir / "notification.en.txt", notification_en); !s) return s;
  if (auto s = WriteText(options.out_dir / "notification.fr.txt", notification_fr); !s) return s;

  for (const auto& [patient, by_type] : touched) {
    std::string what;
    for (const auto& [type, count] : by_type) {
      what += fmt::format("{}{} ({})", what.empty() ? "" : ", ", type, count);
    }
    // Patient ids use a restricted alphabet without '/', and the prefix keeps "." and "..".
    const fs::path base = options.out_dir / "letters" / ("patient-" + patient);
    const std::string en = fmt::format(
        "To the patient with record number {}\n[name and address: to be filled in from the "
        "record once the policy module allows decrypting them for this purpose]\n\n"
        "We are writing to tell you that between {} an account of our service accessed parts of "
        "your health record without a legitimate reason: {}.\n"
        "What we have done: [to complete].\nWhat you can do: [to complete].\n"
        "Contact: [data protection officer].\n",
        patient, window, what);
    const std::string fr = fmt::format(
        "À l'attention du patient dont le numéro de dossier est {}\n[nom et adresse : à compléter "
        "depuis le dossier quand le module de politique d'accès permettra de les déchiffrer pour "
        "cet usage]\n\n"
        "Nous vous informons qu'entre {} un compte de notre service a consulté des éléments de "
        "votre dossier de santé sans motif légitime : {}.\n"
        "Ce que nous avons fait : [à compléter].\nCe que vous pouvez faire : [à compléter].\n"
        "Contact : [délégué à la protection des données].\n",
        patient, window, what);
    if (auto s = WriteText(base.string() + ".en.txt", en); !s) return s;
    if (auto s = WriteText(base.string() + ".fr.txt", fr); !s) return s;
  }
  std::printf(
      "wrote scope.csv, notification.en.txt, notification.fr.txt and %zu letters per "
      "language to %s\n",
      touched.size(), options.out_dir.c_str());
  return {};
}

}  // namespace medvault::cli
