// Who is asking, and whether they may: the one place access to health data is decided. A
// decision is written to the audit log before anything is decrypted (fail-closed), and an
// allowed decision mints the PhiAccess that decryption needs (policy/phi_access.h).
//
// The rules (every one is in Decide()):
//   patient         their own compartment (resources whose patient is principal.patient_id),
//                   read, search and history only; Organization, Practitioner and
//                   PractitionerRole read and search; AuditEvent of their own record.
//   clinician       every type but AuditEvent: read, search, history, create, update, delete,
//                   of the patients in their PatientScope only: care relations of their
//                   Practitioner (policy/care_relations.h), or a break-the-glass grant in
//                   force. A search not confined to a patient is allowed and returns only
//                   what the scope covers (records filter on the stored patient id before
//                   decrypting). Creating a Patient is allowed (it relates no one), and so
//                   is every create for a patient the same request registers
//                   (AccessRequest::new_patients: a transaction with the new Patient and its
//                   first Encounter), who has nothing yet to see. Nobody takes a patient
//                   into care by themselves: a write naming the clinician's Practitioner
//                   (AccessRequest::takes_into_care) is judged like any other write, and is
//                   refused for a patient whom only a break-the-glass grant opens (the grant
//                   stays a grant; an administrator keeps the care teams). The directory
//                   types are shared. Without a CareRelations extension the scope is empty:
//                   no rule configured means deny.
//   lab technician  Patient, DiagnosticReport, Observation, DocumentReference, Binary,
//                   Organization, Practitioner, PractitionerRole: read, search, history,
//                   create, update; nothing else (no notes, no prescriptions). The only role
//                   that releases a DiagnosticReport (Operation::kRelease, policy/release.h).
//                   A patient sees lab results only once released (records apply
//                   MayViewReleased to what they decrypt). Only for their lab
//                   (policy/lab_scope.h): the patients in their PatientScope (their lab's
//                   relations: a report or result it performed); a write of their lab's work
//                   (AccessRequest::own_lab_work) and registering a Patient relate no one
//                   first. Records apply MayViewAsLab to what they decrypt. No lab linked:
//                   the directory types only.
//   sensitive data  a resource labelled with a sensitive category (policy/sensitive.h) is
//                   seen only by its patient and by accounts with a permission for each of
//                   its categories (records apply MayViewSensitive to what they decrypt and
//                   record what they withhold: RecordWithheld); a break-the-glass grant opens
//                   no category.
//   administrator   Organization, Practitioner, PractitionerRole, CareTeam: every operation;
//                   no clinical data.
//   auditor         AuditEvent read, search and export; nothing else (export: auditors only).
//   integration     what its SMART system/ scopes allow (identity/smart_scopes.h); a client
//                   registered for an organization (medvault client add --organization),
//                   only for that organization's patients (policy/lab_scope.h: the patients it
//                   performed a report or result for, or manages), no AuditEvent; it records
//                   reports and results only in its own name. Its lab's report or result
//                   may be the first for a patient registered elsewhere, whom its conditional
//                   create matches by identifier (AccessRequest::matches_identity).
//   anyone else     nothing.
// A denial is recorded (Outcome::kDenied) and answered kPermissionDenied with a message that
// says which rule refused, never whether the resource or another patient exists.
//
// Thread-safe; the audit log and clock must outlive the Decider.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "audit/entry.h"
#include "core/clock.h"
#include "core/error.h"
#include "identity/smart_scopes.h"
#include "policy/phi_access.h"

namespace medvault::policy {

// The authenticated caller of a request.
struct Principal {
  std::string account_id;  // account id, or the API client id for integration clients
  audit::Role role = audit::Role::kNone;
  std::string client;                        // "portal", "api", or the API client id
  std::string source_address;                // IP literal, for the audit log
  std::string patient_id;                    // a patient account's own patient id
  std::vector<identity::SmartScope> scopes;  // integration clients
  std::string organization;  // integration clients, lab technicians: their Organization id
  std::string practitioner_id;  // a clinician's linked Practitioner, if any
  Timestamp second_factor_at;   // sessions: when the second factor was last checked (else epoch)
  // Staff: the sensitive categories the account may see (policy/sensitive.h names them).
  std::vector<std::string> sensitive_categories;
};

// The patients a clinician may open at one instant: those of their care relations, and those
// of their break-the-glass grants in force (the latter without a relation). An organization
// (a lab, a hospital's software) has too many patients to list: its scope looks each patient
// up when asked (`lookup`, which answers false when the store cannot say: deny).
struct PatientScope {
  std::set<std::string, std::less<>> related;
  std::map<std::string, audit::BreakGlassReason, std::less<>> break_glass;  // -> its reason
  std::function<bool(std::string_view patient_id)> lookup;  // relations not listed in `related`

  bool IsRelated(std::string_view patient_id) const {
    return related.contains(patient_id) || (lookup && lookup(patient_id));
  }
  bool Covers(std::string_view patient_id) const {
    return IsRelated(patient_id) || break_glass.contains(patient_id);
  }
};

// Where a clinician's PatientScope comes from (policy/care_relations.h keeps it in the
// store). Thread-safe; a failure refuses the access (kUnavailable).
class CareRelations {
 public:
  virtual ~CareRelations() = default;
  // The scope of `principal` at `now`: empty for every role but clinicians.
  virtual Result<PatientScope> ScopeOf(const Principal& principal, Timestamp now) = 0;
};

// kExport: the audit log leaving in bulk (CSV, breach scope); audited as Action::kExport.
// kRelease: validating a DiagnosticReport and its results (policy/release.h says who);
// audited as Action::kUpdate.
enum class Operation { kRead, kSearch, kHistory, kCreate, kUpdate, kDelete, kExport, kRelease };

// What the caller asks to do. For a read the resource ids and their patients are known (the
// store row carries the patient id in clear); for a search, the patient it is confined to, or
// none; for writes, the resources and patients written.
struct AccessRequest {
  Operation operation = Operation::kRead;
  std::string_view resource_type;
  std::span<const std::string> resource_ids;
  std::span<const std::string> patient_ids;
  // A create or update whose resource names the caller's Practitioner as a participant that
  // relates them to its patient (policy/care_relations.h). It gives no right: it is refused
  // where only a break-the-glass grant covers the patient.
  bool takes_into_care = false;
  // A lab technician's create or update of a DiagnosticReport or Observation that names their
  // lab as performer (policy/lab_scope.h, checked by the records layer): it relates the lab to
  // its patient.
  bool own_lab_work = false;
  // Patients the same request creates (a transaction's new Patient resources): creates for
  // them need no care relation, since nothing of theirs exists yet.
  std::span<const std::string> new_patients = {};
  // A search of Patient by an exact identifier that an account acting for an organization
  // (policy/lab_scope.h) makes to match the patient of its lab work (a conditional create):
  // it may find a patient the organization does not know yet, so that the work does not
  // register them twice. Records answer such a match without the patient's content.
  bool matches_identity = false;
};

// The exfiltration guard's place in every decision (issue 8): it sees each access the rules
// allowed before the PhiAccess is minted, each search's results before they leave, and the
// size of each answer before it is sent. An error refuses the access and is recorded as a
// denial (kPermissionDenied: the account is suspended or a canary was touched;
// kUnauthenticated: a fresh second factor is needed).
class AccessGate {
 public:
  virtual ~AccessGate() = default;
  virtual Status Admit(const Principal& principal, const AccessRequest& request) = 0;
  virtual Status AdmitResults(const Principal& principal, std::string_view resource_type,
                              std::span<const std::string> resource_ids,
                              std::span<const std::string> patient_ids) = 0;
  // The bytes of health data about to leave in one answer (its body).
  virtual Status AdmitBytes(const Principal& principal, std::size_t bytes) = 0;
};

class Decider {
 public:
  // What the Decider consults besides its rules; each may be absent (nullptr) and, when
  // given, must outlive the Decider.
  struct Extensions {
    AccessGate* gate = nullptr;
    // Care relations and break-the-glass grants (policy, issue 8).
    CareRelations* relations = nullptr;
  };

  Decider(audit::AuditLog& log, const Clock& clock, Extensions extensions)
      : log_(log), clock_(clock), extensions_(extensions) {}
  Decider(audit::AuditLog& log, const Clock& clock) : Decider(log, clock, Extensions{}) {}

  // Decides, appends the decision to the audit log, and waits until it is durable. Allowed:
  // the PhiAccess. Denied: kPermissionDenied (after the denial is logged). The log refusing
  // the entry: kUnavailable, and nothing may be returned to the caller. A request naming an id
  // the log cannot record (outside audit/entry.h's id alphabet): kInvalidArgument, nothing
  // logged, nothing allowed.
  // `refused_by`, when given and the answer is kPermissionDenied, says whether the rules or the
  // gate refused (callers hide a resource only for the rules' refusals, without reading the
  // care relations a second time).
  enum class RefusedBy { kRules, kGate };
  Result<PhiAccess> Authorize(const Principal& principal, const AccessRequest& request,
                              RefusedBy* refused_by = nullptr);

  // For a search: after the results are known and before they leave, records every resource
  // and patient in them (one audit entry, Action::kSearch). kUnavailable when the log refuses;
  // kInvalidArgument as for Authorize. The gate refusing the results: its error, after the
  // refusal is recorded (outcome denied); nothing of them may leave.
  Status RecordResults(const Principal& principal, std::string_view resource_type,
                       std::span<const std::string> resource_ids,
                       std::span<const std::string> patient_ids);

  // The clinician's or lab technician's PatientScope now (empty for other roles, and without
  // a CareRelations extension). kUnavailable when it cannot be read.
  Result<PatientScope> ScopeOf(const Principal& principal);

  // After decrypting: the resources withheld from the caller although the rules let it open
  // their patient (a sensitive category it has no permission for, policy/sensitive.h), as one
  // denied entry of `operation`. kUnavailable when the log refuses; kInvalidArgument as for
  // Authorize.
  Status RecordWithheld(const Principal& principal, Operation operation,
                        std::string_view resource_type, std::span<const std::string> resource_ids,
                        std::span<const std::string> patient_ids);

  // Before an answer with health data is sent: the gate's verdict on its size (nothing is
  // recorded; the accesses it answers were). An error: nothing of the answer may leave.
  Status AdmitBytes(const Principal& principal, std::size_t bytes);

  // The rule alone, for tests and for the access matrix: whether it would allow, and why not.
  // Without a scope, a clinician is related to no one.
  static Status Decide(const Principal& principal, const AccessRequest& request,
                       const PatientScope& scope);
  static Status Decide(const Principal& principal, const AccessRequest& request) {
    return Decide(principal, request, PatientScope{});
  }

 private:
  audit::AuditLog& log_;
  const Clock& clock_;
  Extensions extensions_;
};

}  // namespace medvault::policy
