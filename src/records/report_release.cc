// Validation and release of a lab report ($release), and corrections of released results: a
// result reaches the patient only once a lab technician or biologist has released it
// (policy/release.h), and a later change of it is recorded as a correction the patient sees.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "core/base64.h"
#include "core/ids.h"
#include "core/log.h"
#include "fhir/resource.h"
#include "lab/report_pdf.h"
#include "policy/release.h"
#include "records/clinical_internal.h"
#include "records/clinical_records.h"
#include "records/notifications.h"

namespace medvault::records {
namespace internal {
namespace {

using fhir::Failure;
using fhir::IssueType;

constexpr std::string_view kValidatedBy =
    "https://medvault.dev/fhir/StructureDefinition/validated-by";

std::string_view StatusOf(const boost::json::object& resource) {
  const auto* status = resource.if_contains("status");
  return status != nullptr && status->is_string() ? std::string_view(status->as_string())
                                                  : std::string_view();
}

// Registered, partial or preliminary: results still waiting for validation.
bool IsPending(std::string_view status) {
  return status == "registered" || status == "partial" || status == "preliminary";
}

// The validator as the report names them: the account's display name (an account is not
// linked to a Practitioner resource), or its id when it has none.
std::string ValidatorName(store::Store& store, const policy::Principal& principal) {
  std::string name = principal.account_id;
  (void)store.Transact(
      [&](store::Transaction& tx) -> Status {
        auto account = tx.GetAccount(principal.account_id);
        if (account && !account->display_name.empty()) name = account->display_name;
        return {};
      },
      store::Access::kReadOnly);
  return name;
}

// The current versions of the report's result Observations, opened under `access`.
struct ResultRow {
  store::VersionWithKey row;
  boost::json::object resource;
};

fhir::FhirResult<std::vector<ResultRow>> OpenResults(const Context& context,
                                                     const policy::Principal& principal,
                                                     const boost::json::object& report,
                                                     std::string_view patient) {
  std::vector<store::VersionWithKey> rows;
  std::vector<std::string> ids;
  if (const auto* results = report.if_contains("result"); results && results->is_array()) {
    for (const boost::json::value& result : results->as_array()) {
      const auto* reference =
          result.is_object() ? result.as_object().if_contains("reference") : nullptr;
      if (reference == nullptr || !reference->is_string()) continue;
      auto split = SplitReference(reference->as_string());
      if (!split || split->first != "Observation") continue;
      if (std::find(ids.begin(), ids.end(), split->second) != ids.end()) continue;
      auto row = context.sealed.Fetch("Observation", split->second);
      if (!row) {
        if (IsMissing(row.error())) continue;  // written with the report, since removed
        return Failed(row.error());
      }
      if (row->version.state == store::VersionState::kDeleted) continue;
      if (row->version.patient_id != patient) {
        return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule,
                            "DiagnosticReport.result",
                            "a result of the report belongs to another patient: it cannot be "
                            "released with it");
      }
      ids.push_back(split->second);
      rows.push_back(std::move(*row));
    }
  }
  std::vector<ResultRow> out;
  if (rows.empty()) return out;
  const std::string patients[] = {std::string(patient)};
  auto access = Authorize(context, principal, policy::Operation::kUpdate, "Observation", ids,
                          patients, Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  for (store::VersionWithKey& row : rows) {
    auto opened = context.sealed.Open(*access, row.version, row.key);
    if (!opened) return Failed(opened.error());
    auto stored = ToStored(*opened);
    if (!stored) return std::unexpected(stored.error());
    boost::json::object resource = std::move(*stored->resource);
    StripServerMeta(resource);
    out.push_back({.row = std::move(row), .resource = std::move(resource)});
  }
  return out;
}

// One resource the PDF report shows (the Patient, the performing Organization), read for the
// release; nullopt when it is not there.
fhir::FhirResult<std::optional<boost::json::object>> OpenOne(const Context& context,
                                                             const policy::Principal& principal,
                                                             std::string_view type,
                                                             std::string_view id) {
  auto row = context.sealed.Fetch(type, id);
  if (!row) {
    if (IsMissing(row.error())) return std::nullopt;
    return Failed(row.error());
  }
  if (row->version.state == store::VersionState::kDeleted) return std::nullopt;
  const std::string ids[] = {std::string(id)};
  const std::vector<std::string> patients = row->version.patient_id.empty()
                                                ? std::vector<std::string>{}
                                                : std::vector<std::string>{row->version.patient_id};
  auto access = Authorize(context, principal, policy::Operation::kRead, type, ids, patients,
                          Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  auto opened = context.sealed.Open(*access, row->version, row->key);
  if (!opened) return Failed(opened.error());
  auto stored = ToStored(*opened);
  if (!stored) return std::unexpected(stored.error());
  return std::move(stored->resource);
}

// A system or code that can go into a search query as it is (no percent-encoding needed).
bool QuerySafe(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == ':' || c == '/';
  });
}

// The patient's released Observations of the same analytes as `results`, outside the report:
// where the PDF finds each result's previous value. Searched (and audited) like any search.
fhir::FhirResult<std::vector<boost::json::object>> EarlierResults(
    const Context& context, const policy::Principal& principal, std::string_view patient,
    std::span<const ResultRow> results) {
  std::vector<std::string> codes;
  std::vector<std::string> ids;
  for (const ResultRow& result : results) {
    ids.push_back(result.row.version.id);
    const auto* code = result.resource.if_contains("code");
    const auto* codings =
        code && code->is_object() ? code->as_object().if_contains("coding") : nullptr;
    if (codings == nullptr || !codings->is_array() || codings->as_array().empty() ||
        !codings->as_array().front().is_object()) {
      continue;
    }
    const boost::json::object& coding = codings->as_array().front().as_object();
    const auto* system_value = coding.if_contains("system");
    const auto* code_value = coding.if_contains("code");
    if (system_value == nullptr || code_value == nullptr || !system_value->is_string() ||
        !code_value->is_string() || !QuerySafe(system_value->as_string()) ||
        !QuerySafe(code_value->as_string())) {
      continue;
    }
    codes.push_back(fmt::format("{}|{}", std::string_view(system_value->as_string()),
                                std::string_view(code_value->as_string())));
  }
  std::vector<boost::json::object> earlier;
  if (codes.empty()) return earlier;
  auto request = fhir::ParseSearch(
      "Observation", fmt::format("patient={}&code={}", patient, fmt::join(codes, ",")));
  if (!request) return earlier;  // nothing the search could find
  auto found = RunSearch(context, principal, *request);
  if (!found) return std::unexpected(found.error());
  if (auto recorded = RecordReturned(context, principal, "Observation", found->matches,
                                     PatientsOf(*found, 0, found->matches.size()));
      !recorded) {
    return std::unexpected(recorded.error());
  }
  for (StoredResource& match : found->matches) {
    if (std::find(ids.begin(), ids.end(), match.id) != ids.end()) continue;
    if (!match.resource || !policy::PatientMayView(*match.resource)) continue;
    earlier.push_back(std::move(*match.resource));
  }
  return earlier;
}

// The PDF report of the released `report` as a DocumentReference and its Binary (sealed with
// the patient's other resources), and the report's presentedForm pointing at it.
fhir::FhirResult<std::vector<PreparedWrite>> PdfReport(
    const Context& context, const policy::Principal& principal, boost::json::object& report,
    std::string_view report_id, std::span<const boost::json::object> shown,
    std::span<const ResultRow> results, std::string_view patient,
    const boost::json::object& patient_resource, Timestamp now, const lab::ReportFonts& fonts) {
  std::optional<boost::json::object> organization;
  std::string lab_reference;  // the performing lab keeps the PDF (policy/lab_scope.h)
  if (const auto* performers = report.if_contains("performer");
      performers != nullptr && performers->is_array()) {
    for (const boost::json::value& performer : performers->as_array()) {
      const auto* reference =
          performer.is_object() ? performer.as_object().if_contains("reference") : nullptr;
      if (reference == nullptr || !reference->is_string()) continue;
      auto split = SplitReference(reference->as_string());
      if (!split || split->first != "Organization") continue;
      auto opened = OpenOne(context, principal, "Organization", split->second);
      if (!opened) return std::unexpected(opened.error());
      organization = std::move(*opened);
      lab_reference = std::string(reference->as_string());
      break;
    }
  }
  auto earlier = EarlierResults(context, principal, patient, results);
  if (!earlier) return std::unexpected(earlier.error());
  auto pdf = lab::RenderReportPdf({.report = report,
                                   .observations = shown,
                                   .patient = patient_resource,
                                   .organization = organization ? &*organization : nullptr,
                                   .previous = *earlier},
                                  fonts);
  if (!pdf) return Failed(pdf.error());

  const std::string issued = FormatInstant(now);
  boost::json::object document;
  document["resourceType"] = "DocumentReference";
  document["id"] = NewResourceId();
  document["status"] = "current";
  document["docStatus"] = "final";
  document["type"] = boost::json::object{
      {"coding", boost::json::array{boost::json::object{{"system", "http://loinc.org"},
                                                        {"code", "11502-2"},
                                                        {"display", "Laboratory report"}}}}};
  document["subject"] = boost::json::object{{"reference", fmt::format("Patient/{}", patient)}};
  document["date"] = issued;
  if (!lab_reference.empty()) {
    document["custodian"] = boost::json::object{{"reference", lab_reference}};
  }
  document["content"] = boost::json::array{boost::json::object{
      {"attachment", boost::json::object{{"contentType", "application/pdf"},
                                         {"data", EncodeBase64(*pdf, Base64Alphabet::kStandard)},
                                         {"title", "Laboratory report"},
                                         {"creation", issued}}}}};
  document["context"] = boost::json::object{
      {"related", boost::json::array{boost::json::object{
                      {"reference", fmt::format("DiagnosticReport/{}", report_id)}}}}};
  if (auto valid = CheckValid(document, false, true); !valid) return std::unexpected(valid.error());
  auto binaries = SplitAttachments(document);
  if (!binaries) return std::unexpected(binaries.error());
  // The report presents the PDF: the attachment as the document now holds it (url, size, hash).
  boost::json::object presented =
      document.at("content").as_array().front().as_object().at("attachment").as_object();
  if (auto* size = presented.if_contains("size"); size != nullptr && size->is_number()) {
    *size = size->to_number<std::int64_t>();  // a plain integer, as the validator reads it
  }
  report["presentedForm"] = boost::json::array{std::move(presented)};

  std::vector<PreparedWrite> writes;
  std::string document_id(document.at("id").as_string());
  writes.push_back(MakeWrite("DocumentReference", std::move(document_id), 0, std::string(patient),
                             std::move(document)));
  for (boost::json::object& binary : *binaries) {
    std::string binary_id(binary.at("id").as_string());
    writes.push_back(
        MakeWrite("Binary", std::move(binary_id), 0, std::string(patient), std::move(binary)));
  }
  return writes;
}

// The patient's email address (the first telecom of system email), where they are told.
std::optional<std::string> EmailOf(const boost::json::object& patient) {
  const auto* telecom = patient.if_contains("telecom");
  if (telecom == nullptr || !telecom->is_array()) return std::nullopt;
  for (const boost::json::value& point : telecom->as_array()) {
    if (!point.is_object()) continue;
    const auto* system = point.as_object().if_contains("system");
    const auto* value = point.as_object().if_contains("value");
    if (system && system->is_string() && system->as_string() == "email" && value &&
        value->is_string()) {
      return std::string(value->as_string());
    }
  }
  return std::nullopt;
}

// Tells the patient, once the release is stored, that a result waits (records/notifications.h).
// The release stands whatever happens here; what went wrong is logged without the address.
void TellThePatient(Notifier* notifier, const boost::json::object& patient) {
  if (notifier == nullptr) return;
  const std::optional<std::string> email = EmailOf(patient);
  if (!email) {
    log::Info("notification_skipped", {{"reason", std::string_view("no email address")}});
    return;
  }
  if (auto queued = notifier->NewResult(*email); !queued) {
    log::Warning("notification_not_queued",
                 {{"reason", std::string_view(queued.error().message())}});
  }
}

}  // namespace

fhir::FhirStatus MarkCorrection(const std::optional<StoredResource>& current,
                                boost::json::object& resource) {
  if (!current || current->deleted || !current->resource ||
      !policy::IsReleaseGoverned(current->resource_type)) {
    return {};
  }
  if (!policy::PatientMayView(*current->resource)) return {};  // not released yet
  const std::string_view status = StatusOf(resource);
  if (IsPending(status)) {
    return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule,
                        fmt::format("{}.status", current->resource_type),
                        "a released result cannot become pending again: correct it, or mark it "
                        "entered-in-error");
  }
  if (status == "final") resource["status"] = "corrected";
  return {};
}

}  // namespace internal

using fhir::Failure;
using fhir::IssueType;
using internal::Context;

fhir::FhirResult<Released> ClinicalRecords::Release(const policy::Principal& principal,
                                                    std::string_view report_id) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (auto allowed = internal::CheckTypeAllowed(context, principal, policy::Operation::kRelease,
                                                "DiagnosticReport");
      !allowed) {
    return std::unexpected(allowed.error());
  }
  auto row = sealed_.Fetch("DiagnosticReport", report_id);
  if (!row) {
    if (internal::IsMissing(row.error())) return internal::NotFound("DiagnosticReport");
    return internal::Failed(row.error());
  }
  const std::string patient = row->version.patient_id;
  const std::string ids[] = {std::string(report_id)};
  const std::string patients[] = {patient};
  auto access = internal::Authorize(context, principal, policy::Operation::kRelease,
                                    "DiagnosticReport", ids, patients, internal::Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  if (row->version.state == store::VersionState::kDeleted)
    return internal::Gone("DiagnosticReport");
  auto opened = sealed_.Open(*access, row->version, row->key);
  if (!opened) return internal::Failed(opened.error());
  auto stored = internal::ToStored(*opened);
  if (!stored) return std::unexpected(stored.error());
  if (internal::Withheld(principal, *stored)) {  // another lab's report (policy/lab_scope.h)
    if (auto recorded = internal::RecordWithheld(context, principal, policy::Operation::kRelease,
                                                 "DiagnosticReport", ids, patients);
        !recorded) {
      return std::unexpected(recorded.error());
    }
    return internal::NotFound("DiagnosticReport");
  }
  boost::json::object report = std::move(*stored->resource);
  internal::StripServerMeta(report);
  if (!internal::IsPending(internal::StatusOf(report))) {
    return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule, "DiagnosticReport.status",
                        "only a registered, partial or preliminary report is released; a released "
                        "one is corrected by an update");
  }
  auto results = internal::OpenResults(context, principal, report, patient);
  if (!results) return std::unexpected(results.error());

  const Timestamp now = clock_.Now();
  report["status"] = "final";
  report["issued"] = internal::FormatInstant(now);
  boost::json::value& interpreters = report["resultsInterpreter"];
  if (!interpreters.is_array()) interpreters = boost::json::array();
  interpreters.as_array().push_back(
      boost::json::object{{"display", internal::ValidatorName(store_, principal)}});
  boost::json::value& extensions = report["extension"];
  if (!extensions.is_array()) extensions = boost::json::array();
  extensions.as_array().push_back(
      boost::json::object{{"url", internal::kValidatedBy}, {"valueString", principal.account_id}});

  std::vector<internal::PreparedWrite> writes;
  std::vector<boost::json::object> shown;  // every result as released, in the report's order
  std::vector<internal::PreparedWrite> finalized;
  for (internal::ResultRow& result : *results) {
    const bool pending = internal::IsPending(internal::StatusOf(result.resource));
    if (pending) result.resource["status"] = "final";
    shown.push_back(result.resource);
    if (!pending) continue;
    finalized.push_back(internal::MakeWrite("Observation", result.row.version.id,
                                            result.row.version.version, patient, result.resource,
                                            false));
  }
  std::optional<boost::json::object> patient_resource;
  if (options_.report_pdf || options_.notifier != nullptr) {
    auto opened_patient = internal::OpenOne(context, principal, "Patient", patient);
    if (!opened_patient) return std::unexpected(opened_patient.error());
    if (!*opened_patient) return internal::NotFound("Patient");
    patient_resource = std::move(*opened_patient);
  }
  std::vector<internal::PreparedWrite> pdf;
  if (options_.report_pdf) {
    auto made = internal::PdfReport(context, principal, report, report_id, shown, *results, patient,
                                    *patient_resource, now, *options_.report_pdf);
    if (!made) return std::unexpected(made.error());
    pdf = std::move(*made);
    std::vector<internal::AccessGroup> groups;
    for (const internal::PreparedWrite& write : pdf) {
      internal::AddToGroups(groups, policy::Operation::kCreate, write.resource_type, write.id,
                            patient);
    }
    if (auto allowed = internal::AuthorizeGroups(context, principal, std::move(groups),
                                                 internal::Denial::kForbidden);
        !allowed) {
      return std::unexpected(allowed.error());
    }
  }
  writes.push_back(internal::MakeWrite("DiagnosticReport", std::string(report_id),
                                       row->version.version, patient, std::move(report), false));
  const std::size_t result_count = finalized.size();
  for (auto* part : {&finalized, &pdf}) {
    writes.insert(writes.end(), std::make_move_iterator(part->begin()),
                  std::make_move_iterator(part->end()));
  }
  // The report and its results; the PDF's resources were checked as they were made.
  for (std::size_t i = 0; i <= result_count; ++i) {
    if (auto valid = internal::CheckValid(writes[i].resource, false, true); !valid) {
      return std::unexpected(valid.error());
    }
  }
  if (auto written = internal::WriteAll(context, writes, now); !written) {
    return std::unexpected(written.error());
  }
  std::vector<StoredResource> written = internal::StoredOf(writes, now);
  Released released;
  released.report = std::move(written.front());
  const auto results_end = written.begin() + 1 + static_cast<std::ptrdiff_t>(result_count);
  released.results.assign(std::make_move_iterator(written.begin() + 1),
                          std::make_move_iterator(results_end));
  if (!pdf.empty()) released.document = std::move(*results_end);
  if (patient_resource) internal::TellThePatient(options_.notifier, *patient_resource);
  return released;
}

}  // namespace medvault::records
