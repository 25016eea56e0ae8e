#include "policy/decider.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "policy/lab_scope.h"
#include "policy/release.h"

namespace medvault::policy {
namespace {

using audit::Role;

// The resource types the API serves: the ones a SMART scope may name (identity/smart_scopes.h
// lists exactly the FHIR types of the REST API).
bool IsServed(std::string_view type) {
  return std::ranges::find(identity::kSmartResourceTypes, type) !=
         std::end(identity::kSmartResourceTypes);
}

// Directory types: they describe staff and organizations and belong to no patient.
bool IsDirectory(std::string_view type) {
  return type == "Organization" || type == "Practitioner" || type == "PractitionerRole";
}

bool IsReadOnly(Operation op) {
  return op == Operation::kRead || op == Operation::kSearch || op == Operation::kHistory;
}

Status Deny(std::string_view why) {
  return Fail(ErrorCode::kPermissionDenied, fmt::format("policy: {}", why));
}

// Every patient named is this one (and at least one is named).
bool OnlyPatient(std::span<const std::string> patient_ids, std::string_view self) {
  return !self.empty() && !patient_ids.empty() &&
         std::ranges::all_of(patient_ids, [&](const std::string& id) { return id == self; });
}

Status DecidePatient(const Principal& principal, const AccessRequest& request) {
  const std::string_view type = request.resource_type;
  if (IsDirectory(type)) {
    if (request.operation == Operation::kRead || request.operation == Operation::kSearch) {
      return {};
    }
    return Deny("a patient may only read and search the directory");
  }
  if (type == "AuditEvent") {
    if (!OnlyPatient(request.patient_ids, principal.patient_id)) {
      return Deny("a patient may see only the audit events of their own record");
    }
    return {};  // read and search only: checked for everyone before
  }
  if (!IsReadOnly(request.operation)) return Deny("a patient may not change the record");
  if (!OnlyPatient(request.patient_ids, principal.patient_id)) {
    return Deny("a patient may see only their own record");
  }
  return {};
}

Status DecideClinician(const AccessRequest& request, const PatientScope& scope) {
  const std::string_view type = request.resource_type;
  if (type == "AuditEvent") return Deny("the clinician role may not read the audit log");
  if (IsDirectory(type)) return {};
  const bool creates = request.operation == Operation::kCreate;
  if (creates && type == "Patient") return {};  // registering a patient relates no one
  for (const std::string& patient : request.patient_ids) {
    if (patient.empty() || (creates && std::ranges::find(request.new_patients, patient) !=
                                           request.new_patients.end())) {
      continue;
    }
    if (!scope.Covers(patient)) {
      // The same answer whether or not the patient exists.
      return Deny(
          "no care relation with this patient: ask an administrator to add you to their care "
          "team, or in an emergency use $break-glass");
    }
    if (request.takes_into_care && !scope.IsRelated(patient)) {
      return Deny(
          "a break-the-glass grant does not take the patient into your care: ask an "
          "administrator to add you to their care team");
    }
  }
  return {};
}

// The patients of an account acting for an organization (policy/lab_scope.h) are the
// organization's: those it performed a report or result for, or manages. Registering a patient
// relates no one; a report or result naming the organization as performer
// (AccessRequest::own_lab_work) makes the relation.
Status DecideOwnOrganization(const Principal& principal, const AccessRequest& request,
                             const PatientScope& scope) {
  if (IsDirectory(request.resource_type)) return {};
  if (principal.organization.empty()) {
    return Deny(
        "this lab technician account is linked to no lab: an administrator links it to its "
        "lab's Organization (medvault user link LOGIN Organization/ID)");
  }
  if (request.resource_type == "Patient" &&
      (request.operation == Operation::kCreate ||
       (request.operation == Operation::kSearch && request.matches_identity))) {
    return {};
  }
  if (request.own_lab_work &&
      (request.operation == Operation::kCreate || request.operation == Operation::kUpdate)) {
    return {};
  }
  for (const std::string& patient : request.patient_ids) {
    if (!patient.empty() && !scope.Covers(patient)) {
      return Deny(principal.role == Role::kLabTechnician
                      ? "your lab has no report or result for this patient"
                      : "this patient is not one of the client's organization");
    }
  }
  return {};
}

Status DecideAdministrator(const AccessRequest& request) {
  if (IsDirectory(request.resource_type) || request.resource_type == "CareTeam") return {};
  return Deny("the administrator role has no access to clinical data");
}

identity::SmartInteraction InteractionOf(const AccessRequest& request) {
  switch (request.operation) {
    case Operation::kRead:
      return identity::SmartInteraction::kRead;
    case Operation::kSearch:
      return identity::SmartInteraction::kSearch;
    case Operation::kHistory:
      // SMART: instance history goes with read, type history with search.
      return request.resource_ids.empty() ? identity::SmartInteraction::kSearch
                                          : identity::SmartInteraction::kRead;
    case Operation::kCreate:
      return identity::SmartInteraction::kCreate;
    case Operation::kUpdate:
    case Operation::kRelease:
      return identity::SmartInteraction::kUpdate;
    case Operation::kDelete:
      return identity::SmartInteraction::kDelete;
    case Operation::kExport:
      return identity::SmartInteraction::kSearch;
  }
  return identity::SmartInteraction::kRead;
}

// An integration client: what its SMART system/ scopes allow, and, when it belongs to an
// organization, only for that organization's patients, and not the audit log (which names
// other organizations' patients). A client registered for every organization (medvault client
// add --all-organizations) has its scopes only.
Status DecideIntegration(const Principal& principal, const AccessRequest& request,
                         const PatientScope& scope) {
  if (!identity::SmartScopesAllow(principal.scopes, identity::SmartScope::Context::kSystem,
                                  request.resource_type, InteractionOf(request))) {
    return Deny("the client's scopes do not allow this");
  }
  if (principal.organization.empty()) return {};
  if (request.resource_type == "AuditEvent") {
    return Deny("a client of one organization does not read the audit log");
  }
  return DecideOwnOrganization(principal, request, scope);
}

Status DecideLabTechnician(const Principal& principal, const AccessRequest& request,
                           const PatientScope& scope) {
  static constexpr std::string_view kTypes[] = {
      "Patient", "DiagnosticReport", "Observation",  "DocumentReference",
      "Binary",  "Organization",     "Practitioner", "PractitionerRole",
  };
  if (std::ranges::find(kTypes, request.resource_type) == std::end(kTypes)) {
    return Deny("the lab technician role has no access to this resource type");
  }
  if (request.operation == Operation::kDelete) {
    return Deny("the lab technician role may not delete");
  }
  return DecideOwnOrganization(principal, request, scope);
}

audit::Action ActionOf(Operation operation) {
  switch (operation) {
    case Operation::kRead:
    case Operation::kHistory:
      return audit::Action::kRead;
    case Operation::kSearch:
      return audit::Action::kSearch;
    case Operation::kCreate:
      return audit::Action::kCreate;
    case Operation::kUpdate:
    case Operation::kRelease:
      return audit::Action::kUpdate;
    case Operation::kDelete:
      return audit::Action::kDelete;
    case Operation::kExport:
      return audit::Action::kExport;
  }
  return audit::Action::kRead;
}

audit::Purpose PurposeOf(Role role) {
  switch (role) {
    case Role::kPatient:
      return audit::Purpose::kPatientSelf;
    case Role::kClinician:
      return audit::Purpose::kCareRelation;  // or kBreakTheGlass: Authorize says which
    case Role::kLabTechnician:
      return audit::Purpose::kCareRelation;  // the lab's own reports and results
    case Role::kAdministrator:
      return audit::Purpose::kAdministration;
    case Role::kAuditor:
      return audit::Purpose::kAudit;
    case Role::kIntegration:
      return audit::Purpose::kIntegration;
    case Role::kNone:
    case Role::kOperator:
      break;
  }
  return audit::Purpose::kNone;
}

// The entry for a decision or a result set. Patient ids are listed once each, in order; the
// empty id (a resource of no patient) is not a patient.
audit::Entry EntryOf(const Principal& principal, audit::Action action,
                     std::string_view resource_type, std::span<const std::string> resource_ids,
                     std::span<const std::string> patient_ids, audit::Outcome outcome) {
  audit::Entry entry;
  entry.account = principal.account_id;
  entry.role = principal.role;
  entry.client = principal.client;
  entry.source_address = principal.source_address;
  entry.action = action;
  // A type the API does not serve is not recorded: it came from the request, unchecked.
  entry.resource_type = IsServed(resource_type) ? std::string(resource_type) : std::string();
  entry.resource_ids.assign(resource_ids.begin(), resource_ids.end());
  for (const std::string& id : patient_ids) {
    if (!id.empty() && std::ranges::find(entry.patient_ids, id) == entry.patient_ids.end()) {
      entry.patient_ids.push_back(id);
    }
  }
  entry.purpose = PurposeOf(principal.role);
  entry.outcome = outcome;
  return entry;
}

// An entry naming a patient opened under a break-the-glass grant says so, with the grant's
// reason: the patient's access history shows it.
void MarkBreakGlass(const PatientScope& scope, audit::Entry& entry) {
  for (const std::string& patient : entry.patient_ids) {
    if (auto grant = scope.break_glass.find(patient); grant != scope.break_glass.end()) {
      entry.purpose = audit::Purpose::kBreakTheGlass;
      entry.reason = grant->second;
      return;
    }
  }
}

// Appends and waits until durable. An entry the log cannot hold (an id outside its alphabet)
// is the caller's mistake; the log failing is kUnavailable.
Result<std::uint64_t> Record(audit::AuditLog& log, audit::Entry entry) {
  if (auto valid = audit::ValidateEntry(entry); !valid) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("policy: the request cannot be audited: {}", valid.error().message()));
  }
  auto appended = log.Append(std::move(entry));
  if (!appended) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("policy: the audit log refused the decision: {}", appended.error().message()));
  }
  return *appended;
}

}  // namespace

Status Decider::Decide(const Principal& principal, const AccessRequest& request,
                       const PatientScope& scope) {
  const std::string_view type = request.resource_type;
  if (!IsServed(type)) return Deny("not a served resource type");
  if (type == "AuditEvent" && request.operation != Operation::kRead &&
      request.operation != Operation::kSearch && request.operation != Operation::kExport) {
    return Deny("audit events are read, searched and exported only");
  }
  if (request.operation == Operation::kExport &&
      (type != "AuditEvent" || principal.role != Role::kAuditor)) {
    return Deny("only the auditor role exports, and only the audit log");
  }
  if (request.operation == Operation::kRelease) {
    if (type != "DiagnosticReport") return Deny("only a DiagnosticReport is released");
    if (auto may = MayRelease(principal); !may) return may;
    return DecideOwnOrganization(principal, request, scope);
  }
  switch (principal.role) {
    case Role::kPatient:
      return DecidePatient(principal, request);
    case Role::kClinician:
      return DecideClinician(request, scope);
    case Role::kLabTechnician:
      return DecideLabTechnician(principal, request, scope);
    case Role::kAdministrator:
      return DecideAdministrator(request);
    case Role::kAuditor:
      if (type == "AuditEvent") return {};
      return Deny("the auditor role reads the audit log only");
    case Role::kIntegration:
      return DecideIntegration(principal, request, scope);
    case Role::kNone:
    case Role::kOperator:
      break;
  }
  return Deny("this role has no access to health data");
}

Result<PatientScope> Decider::ScopeOf(const Principal& principal) {
  if ((principal.role != Role::kClinician && !ActsForOrganization(principal)) ||
      extensions_.relations == nullptr) {
    return PatientScope{};
  }
  auto scope = extensions_.relations->ScopeOf(principal, clock_.Now());
  if (!scope) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("policy: the care relations cannot be read: {}",
                            scope.error().message()));
  }
  return scope;
}

Result<PhiAccess> Decider::Authorize(const Principal& principal, const AccessRequest& request,
                                     RefusedBy* refused_by) {
  auto scope = ScopeOf(principal);
  if (!scope) return std::unexpected(scope.error());
  Status decision = Decide(principal, request, *scope);
  if (refused_by != nullptr) *refused_by = RefusedBy::kRules;
  if (decision && extensions_.gate != nullptr) {
    decision = extensions_.gate->Admit(principal, request);
    if (refused_by != nullptr) *refused_by = RefusedBy::kGate;
  }
  audit::Entry entry =
      EntryOf(principal, ActionOf(request.operation), request.resource_type, request.resource_ids,
              request.patient_ids, decision ? audit::Outcome::kSuccess : audit::Outcome::kDenied);
  MarkBreakGlass(*scope, entry);
  entry.time = clock_.Now();  // the log stamps it again with its own clock
  auto recorded = Record(log_, std::move(entry));
  if (!recorded) return std::unexpected(recorded.error());
  if (!decision) return std::unexpected(decision.error());
  // Minted only now that the decision is durable in the log.
  return PhiAccess(fmt::format("audit-{}", *recorded));
}

Status Decider::RecordResults(const Principal& principal, std::string_view resource_type,
                              std::span<const std::string> resource_ids,
                              std::span<const std::string> patient_ids) {
  Status admitted;
  if (extensions_.gate != nullptr) {
    admitted = extensions_.gate->AdmitResults(principal, resource_type, resource_ids, patient_ids);
  }
  audit::Entry entry =
      EntryOf(principal, audit::Action::kSearch, resource_type, resource_ids, patient_ids,
              admitted ? audit::Outcome::kSuccess : audit::Outcome::kDenied);
  if (!entry.patient_ids.empty()) {
    auto scope = ScopeOf(principal);
    if (!scope) return std::unexpected(scope.error());
    MarkBreakGlass(*scope, entry);
  }
  entry.time = clock_.Now();
  auto recorded = Record(log_, std::move(entry));
  if (!recorded) return std::unexpected(recorded.error());
  return admitted;
}

Status Decider::RecordWithheld(const Principal& principal, Operation operation,
                               std::string_view resource_type,
                               std::span<const std::string> resource_ids,
                               std::span<const std::string> patient_ids) {
  audit::Entry entry = EntryOf(principal, ActionOf(operation), resource_type, resource_ids,
                               patient_ids, audit::Outcome::kDenied);
  entry.time = clock_.Now();
  auto recorded = Record(log_, std::move(entry));
  if (!recorded) return std::unexpected(recorded.error());
  return {};
}

Status Decider::AdmitBytes(const Principal& principal, std::size_t bytes) {
  if (extensions_.gate == nullptr) return {};
  return extensions_.gate->AdmitBytes(principal, bytes);
}

}  // namespace medvault::policy
