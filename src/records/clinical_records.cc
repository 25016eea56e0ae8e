#include "records/clinical_records.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <memory>

#include "core/base64.h"
#include "core/ids.h"
#include "fhir/resource.h"
#include "policy/lab_scope.h"
#include "policy/release.h"
#include "policy/sensitive.h"
#include "records/clinical_internal.h"

namespace medvault::records {
namespace internal {
namespace {

using fhir::Failure;
using fhir::IssueType;

std::string TypeOf(const boost::json::object& resource) {
  const auto* type = resource.if_contains("resourceType");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : std::string();
}

std::string IdOf(const boost::json::object& resource) {
  const auto* id = resource.if_contains("id");
  return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
}

}  // namespace

std::string FormatInstant(Timestamp at) {
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss time(at - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(),
                     time.subseconds().count());
}

std::unexpected<fhir::Outcome> NotFound(std::string_view resource_type) {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      fmt::format("no {} is known by this id", resource_type));
}

std::unexpected<fhir::Outcome> Gone(std::string_view resource_type) {
  return fhir::Refuse(Failure::kGone, IssueType::kDeleted, "",
                      fmt::format("this {} was deleted", resource_type));
}

std::unexpected<fhir::Outcome> Failed(const Error& error) {
  return std::unexpected(fhir::OutcomeOf(error));
}

std::unexpected<fhir::Outcome> Refusal(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kPermissionDenied:
      return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", error.message());
    case ErrorCode::kUnauthenticated:
      return fhir::Refuse(Failure::kUnauthenticated, IssueType::kLogin, "", error.message());
    case ErrorCode::kUnavailable:
      return fhir::Refuse(Failure::kUnavailable, IssueType::kTransient, "",
                          "the audit log cannot record this access now: try again later");
    default:
      return Failed(error);
  }
}

bool IsMissing(const Error& error) {
  return error.code() == ErrorCode::kNotFound || error.code() == ErrorCode::kInvalidArgument;
}

fhir::FhirResult<policy::PhiAccess> Authorize(
    const Context& context, const policy::Principal& principal, policy::Operation operation,
    std::string_view resource_type, std::span<const std::string> resource_ids,
    std::span<const std::string> patient_ids, Denial denial) {
  return Authorize(context, principal,
                   policy::AccessRequest{.operation = operation,
                                         .resource_type = resource_type,
                                         .resource_ids = resource_ids,
                                         .patient_ids = patient_ids},
                   denial);
}

fhir::FhirResult<policy::PhiAccess> Authorize(const Context& context,
                                              const policy::Principal& principal,
                                              const policy::AccessRequest& request,
                                              Denial denial) {
  const std::string_view resource_type = request.resource_type;
  auto refused_by = policy::Decider::RefusedBy::kRules;
  auto access = context.decider.Authorize(principal, request, &refused_by);
  if (access) return std::move(*access);
  // Hiding the resource is for the rules' refusals; the guard's is about the account (the
  // rules, with the caller's care relations, allowed what the guard refused).
  if (access.error().code() == ErrorCode::kPermissionDenied && denial == Denial::kNotFound &&
      refused_by == policy::Decider::RefusedBy::kRules) {
    return NotFound(resource_type);
  }
  return Refusal(access.error());
}

namespace {

std::vector<std::string> OwnCompartment(const policy::Principal& principal,
                                        std::string_view resource_type) {
  if (principal.role == audit::Role::kPatient && !principal.patient_id.empty() &&
      (fhir::IsPatientCompartmentType(resource_type) || resource_type == "AuditEvent")) {
    return {principal.patient_id};
  }
  return {};
}

}  // namespace

fhir::FhirStatus CheckTypeAllowed(const Context& context, const policy::Principal& principal,
                                  policy::Operation operation, std::string_view resource_type) {
  const std::vector<std::string> patients = OwnCompartment(principal, resource_type);
  policy::AccessRequest request{.operation = operation,
                                .resource_type = resource_type,
                                .resource_ids = {},
                                .patient_ids = patients};
  if (policy::Decider::Decide(principal, request)) return {};
  // Refused whatever the resource: the denial is logged, and saying so reveals nothing.
  auto logged =
      Authorize(context, principal, operation, resource_type, {}, patients, Denial::kForbidden);
  if (!logged) return std::unexpected(logged.error());
  return {};
}

bool MayRead(const policy::Principal& principal, const policy::PatientScope& scope,
             std::string_view resource_type, std::string_view resource_id,
             std::string_view patient_id) {
  const std::string ids[] = {std::string(resource_id)};
  const std::string patients[] = {std::string(patient_id)};
  policy::AccessRequest request{
      .operation = policy::Operation::kRead,
      .resource_type = resource_type,
      .resource_ids = ids,
      .patient_ids = patient_id.empty() ? std::span<const std::string>() : patients};
  return policy::Decider::Decide(principal, request, scope).has_value();
}

fhir::FhirResult<policy::PatientScope> ScopeOf(const Context& context,
                                               const policy::Principal& principal) {
  auto scope = context.decider.ScopeOf(principal);
  if (scope) return std::move(*scope);
  return fhir::Refuse(Failure::kUnavailable, IssueType::kTransient, "",
                      "the care relations cannot be read now: try again later");
}

std::string TakenIntoCare(const Context& context, const policy::Principal& principal,
                          const boost::json::object& resource, std::string_view resource_type) {
  if (principal.role != audit::Role::kClinician || principal.practitioner_id.empty() ||
      !policy::IsCareRelationSource(resource_type)) {
    return {};
  }
  const std::vector<std::string> practitioners = policy::RelatedPractitioners(
      resource, resource_type, context.clock.Now(), context.sealed.care_relation_terms());
  if (std::find(practitioners.begin(), practitioners.end(), principal.practitioner_id) ==
      practitioners.end()) {
    return {};
  }
  auto patient = fhir::PatientReferenceOf(resource);
  if (!patient || patient->find('/') != std::string::npos || patient->starts_with("urn:")) {
    return {};
  }
  return *patient;
}

std::string KeptCareTeamPatient(const policy::Principal& principal,
                                const boost::json::object& resource, std::string_view resource_type) {
  if (principal.role != audit::Role::kAdministrator || resource_type != "CareTeam") return {};
  auto patient = fhir::PatientReferenceOf(resource);
  if (!patient || patient->find('/') != std::string::npos || patient->starts_with("urn:")) {
    return {};
  }
  return *patient;
}

fhir::FhirResult<StoredResource> ToStored(const Resource& resource) {
  StoredResource out =
      MakeStored(resource.resource_type, resource.id, resource.version, resource.recorded_at,
                 resource.state == store::VersionState::kDeleted);
  if (out.deleted) return out;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(resource.json.view(), error);
  if (error || !value.is_object()) {
    return fhir::Refuse(Failure::kInternal, IssueType::kException, "",
                        "a stored resource does not read back: the request id in the logs tells "
                        "the operators more");
  }
  boost::json::object object = std::move(value.as_object());
  boost::json::value& meta = object["meta"];
  if (!meta.is_object()) meta = boost::json::object();
  meta.as_object()["versionId"] = std::to_string(resource.version);
  meta.as_object()["lastUpdated"] = FormatInstant(resource.recorded_at);
  out.resource = std::move(object);
  return out;
}

bool Visible(const policy::Principal& principal, const StoredResource& stored) {
  if (stored.deleted || !stored.resource) {
    return principal.role != audit::Role::kPatient ||
           !policy::IsReleaseGoverned(stored.resource_type);
  }
  return policy::MayViewReleased(principal, *stored.resource) &&
         policy::MayViewSensitive(principal, *stored.resource) &&
         policy::MayViewAsLab(principal, *stored.resource);
}

bool Withheld(const policy::Principal& principal, const StoredResource& stored) {
  return !stored.deleted && stored.resource &&
         (!policy::MayViewSensitive(principal, *stored.resource) ||
          !policy::MayViewAsLab(principal, *stored.resource));
}

fhir::FhirStatus RecordWithheld(const Context& context, const policy::Principal& principal,
                                policy::Operation operation, std::string_view resource_type,
                                std::span<const std::string> resource_ids,
                                std::span<const std::string> patient_ids) {
  if (resource_ids.empty()) return {};
  auto recorded = context.decider.RecordWithheld(principal, operation, resource_type,
                                                 resource_ids, patient_ids);
  if (!recorded) return Refusal(recorded.error());
  return {};
}

fhir::FhirStatus CheckLabelsHeld(const Context& context, const policy::Principal& principal,
                                 policy::Operation operation, const boost::json::object& resource,
                                 std::string_view patient_id) {
  const std::vector<policy::SensitiveCategory> missing =
      policy::MissingPermissions(principal, resource);
  if (missing.empty()) return {};
  const std::string ids[] = {IdOf(resource)};
  const std::string patients[] = {std::string(patient_id)};
  if (auto recorded =
          RecordWithheld(context, principal, operation, TypeOf(resource), ids,
                         patient_id.empty() ? std::span<const std::string>() : patients);
      !recorded) {
    return recorded;
  }
  std::string names;
  for (policy::SensitiveCategory category : missing) {
    if (!names.empty()) names += ", ";
    names += policy::SensitiveCategoryName(category);
  }
  return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "meta.security",
                      fmt::format("writing a resource labelled {0} needs the permission for {0} "
                                  "(an administrator grants it: medvault user grant --sensitive)",
                                  names));
}

fhir::FhirResult<std::optional<StoredResource>> OpenForChange(const Context& context,
                                                              const policy::Principal& principal,
                                                              policy::Operation operation,
                                                              const store::VersionWithKey& current) {
  const std::string& type = current.version.resource_type;
  if (current.version.state == store::VersionState::kDeleted ||
      (policy::HoldsEveryCategory(principal) && !policy::IsReleaseGoverned(type))) {
    return std::nullopt;
  }
  const std::string ids[] = {current.version.id};
  const std::vector<std::string> patients =
      current.version.patient_id.empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{current.version.patient_id};
  auto access = Authorize(context, principal, policy::Operation::kRead, type, ids, patients,
                          Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  auto opened = context.sealed.Open(*access, current.version, current.key);
  if (!opened) return Failed(opened.error());
  auto stored = ToStored(*opened);
  if (!stored) return std::unexpected(stored.error());
  if (Withheld(principal, *stored)) {
    if (auto recorded = RecordWithheld(context, principal, operation, type, ids, patients);
        !recorded) {
      return std::unexpected(recorded.error());
    }
    return NotFound(type);
  }
  return std::optional<StoredResource>(std::move(*stored));
}

void StripServerMeta(boost::json::object& resource) {
  auto* meta = resource.if_contains("meta");
  if (meta == nullptr || !meta->is_object()) return;
  meta->as_object().erase("versionId");
  meta->as_object().erase("lastUpdated");
  if (meta->as_object().empty()) resource.erase("meta");
}

std::optional<std::pair<std::string, std::string>> SplitReference(std::string_view reference) {
  const auto slash = reference.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == reference.size()) {
    return std::nullopt;
  }
  std::string_view type = reference.substr(0, slash);
  std::string_view id = reference.substr(slash + 1);
  if (id.find('/') != std::string_view::npos || !fhir::IsServedType(type)) return std::nullopt;
  return std::pair{std::string(type), std::string(id)};
}

Resolver StoreResolver(const Context& context, const policy::Principal& principal,
                       std::string_view unseen_patient) {
  // The scope is read once, at the first reference that needs it.
  auto scope = std::make_shared<std::optional<policy::PatientScope>>();
  return [&context, &principal, scope, unseen_patient = std::string(unseen_patient)](
             std::string_view type,
             std::string_view id) -> fhir::FhirResult<std::optional<Target>> {
    if (type == "AuditEvent") return std::nullopt;  // not a stored resource
    // A clinician's write for a patient outside their care: the Decider refuses it. A lab's
    // report or result may be its first for a patient registered elsewhere: a stored patient
    // resolves, and the Decider allows only that work (AccessRequest::own_lab_work).
    const auto unseen = [&](bool stored) -> std::optional<Target> {
      if (type != "Patient" || id.empty()) return std::nullopt;
      if (principal.role == audit::Role::kClinician ||
          (stored && policy::RecordsOnlyItsLabWork(principal))) {
        return Target{std::string(id)};
      }
      return std::nullopt;
    };
    auto row = context.sealed.Fetch(type, id);
    if (!row) {
      const ErrorCode code = row.error().code();
      if (code == ErrorCode::kNotFound || code == ErrorCode::kInvalidArgument) {
        return unseen(false);
      }
      return Failed(row.error());
    }
    if (type == "Patient" && !unseen_patient.empty() && id == unseen_patient &&
        row->version.state != store::VersionState::kDeleted) {
      return Target{row->version.patient_id};
    }
    if (!*scope) {
      auto read = ScopeOf(context, principal);
      if (!read) return std::unexpected(read.error());
      *scope = std::move(*read);
    }
    if (!MayRead(principal, **scope, type, id, row->version.patient_id)) {
      return unseen(row->version.state != store::VersionState::kDeleted);
    }
    if (row->version.state == store::VersionState::kDeleted) return std::nullopt;
    return Target{row->version.patient_id};
  };
}

fhir::FhirResult<std::string> ResolveWrite(const boost::json::object& resource,
                                           const Resolver& resolve) {
  const std::string type = TypeOf(resource);
  std::map<std::string, std::string, std::less<>> patients_of;  // reference -> its patient
  for (const fhir::ReferenceAt& at : fhir::References(resource)) {
    if (at.reference.starts_with('#')) continue;  // a contained resource
    auto split = SplitReference(at.reference);
    std::optional<Target> target;
    if (split) {
      auto resolved = resolve(split->first, split->second);
      if (!resolved) return std::unexpected(resolved.error());
      target = std::move(*resolved);
    }
    if (!target) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kValue, at.expression,
                          at.expression + " does not resolve");
    }
    patients_of.emplace(at.reference, target->patient_id);
  }

  auto reference = fhir::PatientReferenceOf(resource);
  if (!reference) return std::unexpected(reference.error());
  std::string patient = *reference;
  if (type == "Patient") {
    patient = IdOf(resource);
  } else if (patient.starts_with("urn:")) {
    patient.clear();  // a transaction resolves these first: this one named no entry
  } else if (patient.find('/') != std::string::npos) {
    // A Binary's DocumentReference: the document's patient.
    auto found = patients_of.find(patient);
    patient = found == patients_of.end() ? std::string() : found->second;
  }
  if (fhir::IsPatientCompartmentType(type) && patient.empty()) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kRequired, type,
                        fmt::format("a {} must name the patient it belongs to", type));
  }
  return patient;
}

fhir::FhirResult<std::vector<boost::json::object>> SplitAttachments(boost::json::object& document) {
  std::vector<boost::json::object> binaries;
  auto* content = document.if_contains("content");
  if (content == nullptr || !content->is_array()) return binaries;
  const std::string document_id = IdOf(document);
  for (std::size_t i = 0; i < content->as_array().size(); ++i) {
    auto& entry = content->as_array()[i];
    if (!entry.is_object()) continue;
    auto* attachment = entry.as_object().if_contains("attachment");
    if (attachment == nullptr || !attachment->is_object()) continue;
    boost::json::object& fields = attachment->as_object();
    auto* data = fields.if_contains("data");
    if (data == nullptr || !data->is_string()) continue;
    const std::string where = fmt::format("DocumentReference.content[{}].attachment", i);
    auto* content_type = fields.if_contains("contentType");
    if (content_type == nullptr || !content_type->is_string()) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kRequired, where + ".contentType",
                          "an attachment with data must say its contentType");
    }
    auto bytes = DecodeBase64(data->as_string(), Base64Alphabet::kStandard);
    if (!bytes) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kValue, where + ".data",
                          "the attachment's data is not base64 (RFC 4648, padded)");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_Digest(bytes->data(), bytes->size(), digest, &digest_size, EVP_sha1(), nullptr) != 1) {
      return fhir::Refuse(Failure::kInternal, IssueType::kException, "",
                          "the attachment's hash could not be computed");
    }
    const std::string binary_id = NewResourceId();
    boost::json::object binary;
    binary["resourceType"] = "Binary";
    binary["id"] = binary_id;
    binary["contentType"] = content_type->as_string();
    binary["securityContext"] =
        boost::json::object{{"reference", "DocumentReference/" + document_id}};
    // The document's security labels go with its content (policy/sensitive.h).
    if (const auto* meta = document.if_contains("meta"); meta != nullptr && meta->is_object()) {
      if (const auto* security = meta->as_object().if_contains("security")) {
        binary["meta"] = boost::json::object{{"security", *security}};
      }
    }
    binary["data"] = data->as_string();
    fields.erase("data");
    fields["url"] = "Binary/" + binary_id;
    fields["size"] = static_cast<std::uint64_t>(bytes->size());
    fields["hash"] = EncodeBase64(std::span(digest, digest_size), Base64Alphabet::kStandard);
    binaries.push_back(std::move(binary));
  }
  return binaries;
}

fhir::FhirStatus CheckValid(const boost::json::object& resource, bool allow_urn_uuid,
                            bool require_id) {
  std::vector<fhir::Issue> issues = fhir::Validate(
      resource, {.allow_urn_uuid_references = allow_urn_uuid, .require_id = require_id});
  std::erase_if(issues, [](const fhir::Issue& issue) {
    return issue.severity == fhir::Severity::kWarning ||
           issue.severity == fhir::Severity::kInformation;
  });
  if (issues.empty()) return {};
  return std::unexpected(fhir::Outcome{.failure = Failure::kInvalid, .issues = std::move(issues)});
}

std::vector<StoredResource> StoredOf(std::span<const PreparedWrite> writes, Timestamp at) {
  std::vector<StoredResource> out;
  out.reserve(writes.size());
  for (const PreparedWrite& write : writes) {
    StoredResource stored =
        MakeStored(write.resource_type, write.id, write.expected_version + 1, at, false);
    stored.resource = write.resource;
    boost::json::value& meta = (*stored.resource)["meta"];
    if (!meta.is_object()) meta = boost::json::object();
    meta.as_object()["versionId"] = std::to_string(stored.version);
    meta.as_object()["lastUpdated"] = FormatInstant(at);
    out.push_back(std::move(stored));
  }
  return out;
}

namespace {

std::unexpected<fhir::Outcome> WriteFailed(const Error& error) {
  if (error.code() == ErrorCode::kConflict || error.code() == ErrorCode::kAlreadyExists) {
    return fhir::Refuse(Failure::kConflict, IssueType::kConflict, "",
                        "the resource was changed by another request meanwhile: read it again "
                        "and retry");
  }
  return Failed(error);
}

}  // namespace

fhir::FhirStatus WriteAll(const Context& context, std::span<PreparedWrite> writes,
                          Timestamp recorded_at, std::span<const store::ResourceDelete> deletes,
                          const AlongWith& along) {
  std::vector<SealedWrite> sealed;
  sealed.reserve(writes.size());
  for (PreparedWrite& write : writes) {
    write.json = fhir::SerializeJson(write.resource);
    sealed.push_back({.resource_type = write.resource_type,
                      .id = write.id,
                      .expected_version = write.expected_version,
                      .patient_id = write.patient_id,
                      .json = write.json,
                      .recorded_at = recorded_at});
  }
  auto written = context.sealed.PutAll(sealed, deletes, along);
  if (!written) return WriteFailed(written.error());
  return {};
}

void AddToGroups(std::vector<AccessGroup>& groups, policy::Operation operation,
                 std::string_view resource_type, std::string_view id, std::string_view patient_id,
                 std::size_t entry, bool takes_into_care) {
  auto group = std::find_if(groups.begin(), groups.end(), [&](const AccessGroup& candidate) {
    return candidate.operation == operation && candidate.resource_type == resource_type &&
           candidate.takes_into_care == takes_into_care;
  });
  if (group == groups.end()) {
    groups.push_back({.operation = operation,
                      .resource_type = std::string(resource_type),
                      .resource_ids = {},
                      .patient_ids = {},
                      .first_entry = entry,
                      .takes_into_care = takes_into_care});
    group = std::prev(groups.end());
  }
  if (!id.empty()) group->resource_ids.emplace_back(id);
  if (!patient_id.empty() && std::find(group->patient_ids.begin(), group->patient_ids.end(),
                                       patient_id) == group->patient_ids.end()) {
    group->patient_ids.emplace_back(patient_id);
  }
}

fhir::FhirStatus AuthorizeGroups(const Context& context, const policy::Principal& principal,
                                 std::vector<AccessGroup> groups, Denial denial) {
  for (const AccessGroup& group : groups) {
    auto access = Authorize(context, principal, group.Request(), denial);
    if (!access) return std::unexpected(access.error());
  }
  return {};
}

fhir::FhirResult<Written> CreateResource(const Context& context, const policy::Principal& principal,
                                         boost::json::object resource,
                                         std::string_view if_none_exist) {
  const std::string type = TypeOf(resource);
  if (!fhir::IsWritableType(type)) {
    return fhir::Refuse(Failure::kMethodNotAllowed, IssueType::kNotSupported, "resourceType",
                        "resources of this type are not written through the API");
  }
  if (auto allowed = CheckTypeAllowed(context, principal, policy::Operation::kCreate, type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  if (auto valid = CheckValid(resource, false, false); !valid) {
    return std::unexpected(valid.error());
  }
  if (!if_none_exist.empty()) {
    auto request = fhir::ParseSearch(type, if_none_exist);
    if (!request) return std::unexpected(request.error());
    auto found = MatchIfNoneExist(context, principal, *request);
    if (!found) return std::unexpected(found.error());
    if (found->matches.size() == 1) {
      if (auto recorded = RecordReturned(context, principal, type, found->matches,
                                         PatientsOf(*found, 0, found->matches.size()));
          !recorded) {
        return std::unexpected(recorded.error());
      }
      return Written{.stored = std::move(found->matches.front()), .created = false};
    }
    if (found->matches.size() > 1) {
      return fhir::Refuse(Failure::kPreconditionFailed, IssueType::kDuplicate, "",
                          "If-None-Exist matches several resources: make the criteria selective");
    }
  }
  StripServerMeta(resource);
  resource["id"] = NewResourceId();
  auto own_lab_work = CheckLabWrite(context, principal, type, resource, nullptr);
  if (!own_lab_work) return std::unexpected(own_lab_work.error());
  const std::string taken_into_care = TakenIntoCare(context, principal, resource, type);
  std::string unseen = KeptCareTeamPatient(principal, resource, type);
  auto patient = ResolveWrite(resource, StoreResolver(context, principal, unseen));
  if (!patient) return std::unexpected(patient.error());

  std::vector<PreparedWrite> writes;
  std::vector<boost::json::object> binaries;
  if (type == "DocumentReference") {
    auto split = SplitAttachments(resource);
    if (!split) return std::unexpected(split.error());
    binaries = std::move(*split);
  }
  const std::string id = IdOf(resource);
  writes.push_back(MakeWrite(type, id, 0, *patient, std::move(resource)));
  if (auto held = CheckLabelsHeld(context, principal, policy::Operation::kCreate,
                                  writes.front().resource, *patient);
      !held) {
    return std::unexpected(held.error());
  }
  std::vector<AccessGroup> groups;
  AddToGroups(groups, policy::Operation::kCreate, type, writes.front().id, *patient, 0,
              !taken_into_care.empty() && taken_into_care == *patient);
  groups.front().own_lab_work = *own_lab_work;
  for (boost::json::object& binary : binaries) {
    AddToGroups(groups, policy::Operation::kCreate, "Binary", IdOf(binary), *patient);
    groups.back().own_lab_work = *own_lab_work;
    std::string binary_id = IdOf(binary);
    writes.push_back(MakeWrite("Binary", std::move(binary_id), 0, *patient, std::move(binary)));
  }
  if (auto allowed = AuthorizeGroups(context, principal, std::move(groups), Denial::kForbidden);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  const Timestamp now = context.clock.Now();
  if (auto written = WriteAll(context, writes, now); !written) {
    return std::unexpected(written.error());
  }
  return Written{.stored = std::move(StoredOf(std::span(writes).first(1), now).front()),
                 .created = true};
}

}  // namespace internal

using fhir::Failure;
using fhir::IssueType;
using internal::Context;
using internal::Denial;

fhir::FhirStatus ClinicalRecords::AdmitAnswer(const policy::Principal& principal,
                                              std::size_t bytes) {
  auto admitted = decider_.AdmitBytes(principal, bytes);
  if (admitted) return {};
  return internal::Refusal(admitted.error());
}

ClinicalRecords::ClinicalRecords(SealedStore& sealed, store::Store& store, audit::AuditLog& log,
                                 policy::Decider& decider, const Clock& clock, Options options)
    : sealed_(sealed),
      store_(store),
      log_(log),
      decider_(decider),
      clock_(clock),
      options_(options) {}

namespace {

// A read or vread of a fetched row: the Decider decides on the row's patient (and logs it)
// before the row is opened; what the caller may not see is kNotFound, a deletion kGone.
fhir::FhirResult<StoredResource> OpenForRead(const Context& context,
                                             const policy::Principal& principal,
                                             std::string_view resource_type, std::string_view id,
                                             const store::VersionWithKey& row) {
  const std::string ids[] = {std::string(id)};
  const std::vector<std::string> patients = row.version.patient_id.empty()
                                                ? std::vector<std::string>{}
                                                : std::vector<std::string>{row.version.patient_id};
  auto access = internal::Authorize(context, principal, policy::Operation::kRead, resource_type,
                                    ids, patients, Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  if (row.version.state == store::VersionState::kDeleted) {
    const StoredResource marker = internal::MakeStored(std::string(resource_type), std::string(id),
                                                       row.version.version, {}, true);
    if (!internal::Visible(principal, marker)) return internal::NotFound(resource_type);
    return internal::Gone(resource_type);
  }
  auto opened = context.sealed.Open(*access, row.version, row.key);
  if (!opened) {
    if (opened.error().code() == ErrorCode::kNotFound) return internal::NotFound(resource_type);
    return internal::Failed(opened.error());
  }
  auto stored = internal::ToStored(*opened);
  if (stored && internal::Withheld(principal, *stored)) {
    if (auto recorded = internal::RecordWithheld(context, principal, policy::Operation::kRead,
                                                 resource_type, ids, patients);
        !recorded) {
      return std::unexpected(recorded.error());
    }
  }
  if (stored && !internal::Visible(principal, *stored)) return internal::NotFound(resource_type);
  if (stored) {
    auto of_lab = internal::LabMayViewBinary(context, principal, *stored);
    if (!of_lab) return std::unexpected(of_lab.error());
    if (!*of_lab) {
      if (auto recorded = internal::RecordWithheld(context, principal, policy::Operation::kRead,
                                                   resource_type, ids, patients);
          !recorded) {
        return std::unexpected(recorded.error());
      }
      return internal::NotFound(resource_type);
    }
  }
  return stored;
}

}  // namespace

fhir::FhirResult<StoredResource> ClinicalRecords::Read(const policy::Principal& principal,
                                                       std::string_view resource_type,
                                                       std::string_view id) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (!fhir::IsServedType(resource_type)) return internal::NotFound(resource_type);
  if (resource_type == "AuditEvent") return internal::ReadAuditEvent(context, principal, id);
  if (auto allowed =
          internal::CheckTypeAllowed(context, principal, policy::Operation::kRead, resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  auto row = sealed_.Fetch(resource_type, id);
  if (!row) {
    if (internal::IsMissing(row.error())) return internal::NotFound(resource_type);
    return internal::Failed(row.error());
  }
  return OpenForRead(context, principal, resource_type, id, *row);
}

fhir::FhirResult<StoredResource> ClinicalRecords::VRead(const policy::Principal& principal,
                                                        std::string_view resource_type,
                                                        std::string_view id, std::int64_t version) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (!fhir::IsServedType(resource_type) || resource_type == "AuditEvent") {
    return internal::NotFound(resource_type);
  }
  if (auto allowed =
          internal::CheckTypeAllowed(context, principal, policy::Operation::kRead, resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  if (version <= 0) return internal::NotFound(resource_type);
  auto row = sealed_.FetchVersion(resource_type, id, version);
  if (!row) {
    if (internal::IsMissing(row.error())) return internal::NotFound(resource_type);
    return internal::Failed(row.error());
  }
  return OpenForRead(context, principal, resource_type, id, *row);
}

fhir::FhirResult<HistoryPage> ClinicalRecords::History(const policy::Principal& principal,
                                                       std::string_view resource_type,
                                                       std::string_view id) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (!fhir::IsServedType(resource_type) || resource_type == "AuditEvent") {
    return internal::NotFound(resource_type);
  }
  if (auto allowed = internal::CheckTypeAllowed(context, principal, policy::Operation::kHistory,
                                                resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  auto rows = sealed_.FetchHistory(resource_type, id);
  if (!rows) {
    if (internal::IsMissing(rows.error())) return internal::NotFound(resource_type);
    return internal::Failed(rows.error());
  }
  if (rows->empty()) return internal::NotFound(resource_type);
  const std::string ids[] = {std::string(id)};
  std::vector<std::string> patients;
  for (const store::VersionWithKey& row : *rows) {
    if (!row.version.patient_id.empty() &&
        std::find(patients.begin(), patients.end(), row.version.patient_id) == patients.end()) {
      patients.push_back(row.version.patient_id);
    }
  }
  auto access = internal::Authorize(context, principal, policy::Operation::kHistory, resource_type,
                                    ids, patients, Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  HistoryPage page;
  bool withheld = false;
  for (auto row = rows->rbegin(); row != rows->rend(); ++row) {
    auto opened = sealed_.Open(*access, row->version, row->key);
    if (!opened) {
      if (opened.error().code() == ErrorCode::kNotFound) return internal::NotFound(resource_type);
      return internal::Failed(opened.error());
    }
    auto stored = internal::ToStored(*opened);
    if (!stored) return std::unexpected(stored.error());
    withheld = withheld || internal::Withheld(principal, *stored);
    if (!stored->deleted && !internal::Visible(principal, *stored)) continue;
    page.versions.push_back(std::move(*stored));
  }
  if (withheld) {
    if (auto recorded = internal::RecordWithheld(context, principal, policy::Operation::kHistory,
                                                 resource_type, ids, patients);
        !recorded) {
      return std::unexpected(recorded.error());
    }
  }
  // A deletion is shown only with a version the caller may see; nothing seen: not found.
  if (std::none_of(page.versions.begin(), page.versions.end(),
                   [](const StoredResource& version) { return !version.deleted; })) {
    return internal::NotFound(resource_type);
  }
  return page;
}

fhir::FhirResult<Written> ClinicalRecords::Create(const policy::Principal& principal,
                                                  boost::json::object resource,
                                                  std::string_view if_none_exist) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  return internal::CreateResource(context, principal, std::move(resource), if_none_exist);
}

fhir::FhirResult<Written> ClinicalRecords::Update(const policy::Principal& principal,
                                                  std::string_view resource_type,
                                                  std::string_view id, boost::json::object resource,
                                                  std::optional<std::int64_t> if_match) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  return internal::UpdateResource(context, principal, resource_type, id, std::move(resource),
                                  if_match);
}

fhir::FhirResult<StoredResource> ClinicalRecords::Delete(const policy::Principal& principal,
                                                         std::string_view resource_type,
                                                         std::string_view id) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  return internal::DeleteResource(context, principal, resource_type, id);
}

namespace internal {

fhir::FhirResult<Written> UpdateResource(const Context& context, const policy::Principal& principal,
                                         std::string_view resource_type, std::string_view id,
                                         boost::json::object resource,
                                         std::optional<std::int64_t> if_match) {
  if (!fhir::IsServedType(resource_type)) return NotFound(resource_type);
  if (!fhir::IsWritableType(resource_type)) {
    return fhir::Refuse(Failure::kMethodNotAllowed, IssueType::kNotSupported, "resourceType",
                        "resources of this type are not written through the API");
  }
  if (TypeOf(resource) != resource_type) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, "resourceType",
                        "the resource's type must be the type in the URL");
  }
  if (auto allowed =
          CheckTypeAllowed(context, principal, policy::Operation::kUpdate, resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  if (auto valid = CheckValid(resource, false, true); !valid) {
    return std::unexpected(valid.error());
  }
  if (IdOf(resource) != id) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, fmt::format("{}.id", resource_type),
                        "the resource's id must be the id in the URL");
  }
  StripServerMeta(resource);
  auto row = context.sealed.Fetch(resource_type, id);
  if (!row && !IsMissing(row.error())) return Failed(row.error());
  const bool exists = row.has_value();
  const std::int64_t current = exists ? row->version.version : 0;
  if (if_match && *if_match != current) {
    return fhir::Refuse(Failure::kPreconditionFailed, IssueType::kConflict, "",
                        "If-Match does not name the current version: read it again");
  }
  auto own_lab_work =
      CheckLabWrite(context, principal, resource_type, resource, exists ? &*row : nullptr);
  if (!own_lab_work) return std::unexpected(own_lab_work.error());
  const std::string taken_into_care = TakenIntoCare(context, principal, resource, resource_type);
  std::string unseen = KeptCareTeamPatient(principal, resource, resource_type);
  auto patient = ResolveWrite(resource, StoreResolver(context, principal, unseen));
  if (!patient) return std::unexpected(patient.error());
  if (exists && row->version.patient_id != *patient) {
    return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule, "",
                        "a resource cannot move to another patient: create a new one for them");
  }
  std::vector<boost::json::object> binaries;
  if (resource_type == "DocumentReference") {
    auto split = SplitAttachments(resource);
    if (!split) return std::unexpected(split.error());
    binaries = std::move(*split);
  }
  const policy::Operation operation =
      exists ? policy::Operation::kUpdate : policy::Operation::kCreate;
  if (auto held = CheckLabelsHeld(context, principal, operation, resource, *patient); !held) {
    return std::unexpected(held.error());
  }
  std::vector<AccessGroup> groups;
  AddToGroups(groups, operation, resource_type, id, *patient, 0,
              !taken_into_care.empty() && taken_into_care == *patient);
  groups.front().own_lab_work = *own_lab_work;
  std::vector<PreparedWrite> writes;
  writes.push_back(MakeWrite(std::string(resource_type), std::string(id), current, *patient,
                             std::move(resource), !exists));
  for (boost::json::object& binary : binaries) {
    AddToGroups(groups, policy::Operation::kCreate, "Binary", IdOf(binary), *patient);
    groups.back().own_lab_work = *own_lab_work;
    std::string binary_id = IdOf(binary);
    writes.push_back(MakeWrite("Binary", std::move(binary_id), 0, *patient, std::move(binary)));
  }
  if (auto allowed = AuthorizeGroups(context, principal, std::move(groups), Denial::kForbidden);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  if (exists) {
    auto current = OpenForChange(context, principal, operation, *row);
    if (!current) return std::unexpected(current.error());
    if (auto marked = MarkCorrection(*current, writes.front().resource); !marked) {
      return std::unexpected(marked.error());
    }
  }
  const Timestamp now = context.clock.Now();
  if (auto written = WriteAll(context, writes, now); !written) {
    return std::unexpected(written.error());
  }
  const bool created = !exists || row->version.state == store::VersionState::kDeleted;
  return Written{.stored = std::move(StoredOf(std::span(writes).first(1), now).front()),
                 .created = created};
}

fhir::FhirResult<StoredResource> DeleteResource(const Context& context,
                                                const policy::Principal& principal,
                                                std::string_view resource_type,
                                                std::string_view id) {
  if (!fhir::IsServedType(resource_type)) return NotFound(resource_type);
  if (!fhir::IsWritableType(resource_type)) {
    return fhir::Refuse(Failure::kMethodNotAllowed, IssueType::kNotSupported, "",
                        "resources of this type are not deleted through the API");
  }
  if (auto allowed =
          CheckTypeAllowed(context, principal, policy::Operation::kDelete, resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  auto row = context.sealed.Fetch(resource_type, id);
  if (!row) {
    if (IsMissing(row.error())) return NotFound(resource_type);
    return Failed(row.error());
  }
  const std::string ids[] = {std::string(id)};
  const std::vector<std::string> patients = row->version.patient_id.empty()
                                                ? std::vector<std::string>{}
                                                : std::vector<std::string>{row->version.patient_id};
  auto access = Authorize(context, principal, policy::Operation::kDelete, resource_type, ids,
                          patients, Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  if (auto current = OpenForChange(context, principal, policy::Operation::kDelete, *row);
      !current) {
    return std::unexpected(current.error());
  }
  StoredResource marker = MakeStored(std::string(resource_type), std::string(id),
                                     row->version.version, row->version.recorded_at, true);
  if (row->version.state == store::VersionState::kDeleted) return marker;  // idempotent
  const Timestamp now = context.clock.Now();
  auto deleted = context.sealed.Delete(resource_type, id, row->version.version, now);
  if (!deleted) return WriteFailed(deleted.error());
  marker.version = *deleted;
  marker.last_updated = now;
  return marker;
}

}  // namespace internal
}  // namespace medvault::records
