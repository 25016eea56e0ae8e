// Validation and release of a lab report ($release), and corrections of released results: a
// result reaches the patient only once a lab technician or biologist has released it
// (policy/release.h), and a later change of it is recorded as a correction the patient sees.
#include <fmt/format.h>

#include <algorithm>

#include "fhir/resource.h"
#include "policy/release.h"
#include "records/clinical_internal.h"
#include "records/clinical_records.h"

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

}  // namespace

fhir::FhirStatus MarkCorrection(const Context& context, const policy::Principal& principal,
                                const store::VersionWithKey& current,
                                boost::json::object& resource) {
  if (current.version.state == store::VersionState::kDeleted ||
      !policy::IsReleaseGoverned(current.version.resource_type)) {
    return {};
  }
  const std::string ids[] = {current.version.id};
  const std::vector<std::string> patients =
      current.version.patient_id.empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{current.version.patient_id};
  auto access = Authorize(context, principal, policy::Operation::kRead,
                          current.version.resource_type, ids, patients, Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  auto opened = context.sealed.Open(*access, current.version, current.key);
  if (!opened) return Failed(opened.error());
  auto stored = ToStored(*opened);
  if (!stored) return std::unexpected(stored.error());
  if (!policy::PatientMayView(*stored->resource)) return {};  // not released yet
  const std::string_view status = StatusOf(resource);
  if (IsPending(status)) {
    return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule,
                        fmt::format("{}.status", current.version.resource_type),
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
  writes.push_back(internal::MakeWrite("DiagnosticReport", std::string(report_id),
                                       row->version.version, patient, std::move(report), false));
  for (internal::ResultRow& result : *results) {
    if (!internal::IsPending(internal::StatusOf(result.resource))) continue;
    result.resource["status"] = "final";
    writes.push_back(internal::MakeWrite("Observation", result.row.version.id,
                                         result.row.version.version, patient,
                                         std::move(result.resource), false));
  }
  for (const internal::PreparedWrite& write : writes) {
    if (auto valid = internal::CheckValid(write.resource, false, true); !valid) {
      return std::unexpected(valid.error());
    }
  }
  if (auto written = internal::WriteAll(context, writes, now); !written) {
    return std::unexpected(written.error());
  }
  std::vector<StoredResource> written = internal::StoredOf(writes, now);
  Released released;
  released.report = std::move(written.front());
  released.results.assign(std::make_move_iterator(written.begin() + 1),
                          std::make_move_iterator(written.end()));
  return released;
}

}  // namespace medvault::records
