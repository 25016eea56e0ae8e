// A lab technician's own lab in the records (policy/lab_scope.h): the write checks and the
// Binary check that need more than the one resource in hand.
#include <fmt/format.h>

#include <map>

#include "fhir/resource.h"
#include "fhir/search.h"
#include "lab/report_pdf.h"
#include "policy/lab_scope.h"
#include "records/clinical_internal.h"

namespace medvault::records::internal {
namespace {

// Opens one fetched row as an audited read; nullopt when the caller may not see it (a refusal
// of the rules, or a row that no longer opens).
fhir::FhirResult<std::optional<StoredResource>> OpenChecked(const Context& context,
                                                            const policy::Principal& principal,
                                                            const store::VersionWithKey& row) {
  if (row.version.state == store::VersionState::kDeleted) return std::nullopt;
  const std::string ids[] = {row.version.id};
  const std::vector<std::string> patients = row.version.patient_id.empty()
                                                ? std::vector<std::string>{}
                                                : std::vector<std::string>{row.version.patient_id};
  auto access = Authorize(context, principal, policy::Operation::kRead, row.version.resource_type,
                          ids, patients, Denial::kNotFound);
  if (!access) {
    if (access.error().failure == fhir::Failure::kNotFound) return std::nullopt;
    return std::unexpected(access.error());
  }
  auto opened = context.sealed.Open(*access, row.version, row.key);
  if (!opened) {
    if (opened.error().code() == ErrorCode::kNotFound) return std::nullopt;
    return Failed(opened.error());
  }
  auto stored = ToStored(*opened);
  if (!stored) return std::unexpected(stored.error());
  return std::move(*stored);
}

}  // namespace

fhir::FhirResult<bool> CheckLabWrite(const Context& context, const policy::Principal& principal,
                                     std::string_view resource_type,
                                     const boost::json::object& resource,
                                     const store::VersionWithKey* current) {
  if (!policy::RecordsOnlyItsLabWork(principal)) return false;
  if (auto may = policy::MayWriteAsLab(principal, resource); !may) return Refusal(may.error());
  if (current != nullptr && current->version.state != store::VersionState::kDeleted &&
      (policy::IsLabWork(resource_type) || resource_type == "DocumentReference")) {
    auto opened = OpenChecked(context, principal, *current);
    if (!opened) return std::unexpected(opened.error());
    if (!*opened || Withheld(principal, **opened)) {
      const std::string ids[] = {current->version.id};
      const std::string patients[] = {current->version.patient_id};
      if (*opened) {
        if (auto recorded = RecordWithheld(context, principal, policy::Operation::kUpdate,
                                           resource_type, ids, patients);
            !recorded) {
          return std::unexpected(recorded.error());
        }
      }
      return NotFound(resource_type);
    }
    // What it replaces must be its lab's work too (a client of one organization sees the
    // other labs' work of its patients, and may not take it over).
    if (auto may = policy::MayWriteAsLab(principal, *(*opened)->resource); !may) {
      return Refusal(may.error());
    }
  }
  return policy::IsLabWork(resource_type) || resource_type == "DocumentReference";
}

fhir::FhirResult<bool> LabMayViewBinary(const Context& context, const policy::Principal& principal,
                                        const StoredResource& binary) {
  if (principal.role != audit::Role::kLabTechnician || binary.resource_type != "Binary" ||
      !binary.resource) {
    return true;
  }
  const auto* context_reference = binary.resource->if_contains("securityContext");
  const auto* reference = context_reference != nullptr && context_reference->is_object()
                              ? context_reference->as_object().if_contains("reference")
                              : nullptr;
  if (reference == nullptr || !reference->is_string()) return false;
  auto split = SplitReference(reference->as_string());
  if (!split || split->first != "DocumentReference") return false;
  auto row = context.sealed.Fetch(split->first, split->second);
  if (!row) {
    if (IsMissing(row.error())) return false;
    return Failed(row.error());
  }
  auto document = OpenChecked(context, principal, *row);
  if (!document) return std::unexpected(document.error());
  return *document && policy::MayViewAsLab(principal, *(*document)->resource);
}

}  // namespace medvault::records::internal

namespace medvault::records {

fhir::FhirResult<WorklistPage> ClinicalRecords::Worklist(const policy::Principal& principal,
                                                         std::size_t count, std::string_view page) {
  const internal::Context context{sealed_, store_, log_, decider_, clock_, options_};
  // The worklist is what its reader may release: lab technicians of a lab.
  if (auto allowed = internal::CheckTypeAllowed(context, principal, policy::Operation::kRelease,
                                                "DiagnosticReport");
      !allowed) {
    return std::unexpected(allowed.error());
  }
  std::string query = fmt::format(
      "status=registered,partial,preliminary&_sort=date&_include=DiagnosticReport:subject"
      "&_include=DiagnosticReport:result&_count={}",
      count);
  if (!page.empty()) query += fmt::format("&_page={}", page);
  auto request = fhir::ParseSearch("DiagnosticReport", query);
  if (!request) return std::unexpected(request.error());
  auto found = Search(principal, *request);
  if (!found) return std::unexpected(found.error());
  std::map<std::string, const StoredResource*, std::less<>> included;
  for (const StoredResource& resource : found->included) {
    included.emplace(resource.resource_type + "/" + resource.id, &resource);
  }
  WorklistPage worklist;
  worklist.total = found->total.value_or(0);
  worklist.next_page = found->next_page;
  for (StoredResource& report : found->matches) {
    WorklistEntry entry;
    auto first = sealed_.FetchVersion("DiagnosticReport", report.id, 1);
    entry.received_at = first ? first->version.recorded_at : report.last_updated;
    for (const fhir::ReferenceAt& at : fhir::References(*report.resource)) {
      auto target = included.find(at.reference);
      if (target == included.end() || !target->second->resource) continue;
      const boost::json::object& resource = *target->second->resource;
      if (target->second->resource_type == "Patient" &&
          at.expression.starts_with("DiagnosticReport.subject")) {
        entry.patient_name = lab::PatientName(resource);
      } else if (target->second->resource_type == "Observation" &&
                 !lab::AbnormalFlagOf(resource).empty()) {
        entry.abnormal = true;
      }
    }
    entry.report = std::move(report);
    worklist.entries.push_back(std::move(entry));
  }
  return worklist;
}

}  // namespace medvault::records
