// Internal to the clinical records (clinical_records.cc, clinical_search.cc,
// clinical_bundle.cc): the steps every use case shares. Reading a row without decrypting it,
// asking the Decider, opening the row with the PhiAccess it minted, checking references,
// and the answers that never reveal whether something the caller may not see exists.
//
// Thread-safe: the Context holds references only; every function is reentrant.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/outcome.h"
#include "fhir/search.h"
#include "policy/decider.h"
#include "records/clinical_records.h"
#include "records/sealed_store.h"

namespace medvault::records::internal {

// What every use case works with.
struct Context {
  SealedStore& sealed;
  store::Store& store;
  audit::AuditLog& log;
  policy::Decider& decider;
  const Clock& clock;
  const ClinicalRecords::Options& options;
};

// "2026-01-01T08:30:00.000000Z".
std::string FormatInstant(Timestamp at);

// The one answer for a resource that does not exist or that the caller may not see.
std::unexpected<fhir::Outcome> NotFound(std::string_view resource_type);
std::unexpected<fhir::Outcome> Gone(std::string_view resource_type);
// A store or crypto Error as a FHIR failure (fhir::OutcomeOf).
std::unexpected<fhir::Outcome> Failed(const Error& error);
// A refusal of the Decider (its rules or the exfiltration guard) as the caller sees it:
// kPermissionDenied 403 with its reason, kUnauthenticated 401 (a step-up first), kUnavailable
// 503 (the audit log or the guard's counters cannot be written).
std::unexpected<fhir::Outcome> Refusal(const Error& error);
// A row the store does not have, or an id it cannot hold: both read as absent.
bool IsMissing(const Error& error);

// How a denial is answered: kNotFound where a kForbidden would tell that the resource exists.
enum class Denial { kNotFound, kForbidden };

// The Decider's Authorize: an allowed decision's PhiAccess, once the audit entry is durable.
// A denial is answered as `denial` says (kForbidden carries the policy's reason); the log
// refusing the entry is kUnavailable. The request's facts (takes_into_care, own_lab_work,
// new_patients, matches_identity) are as policy::AccessRequest says.
fhir::FhirResult<policy::PhiAccess> Authorize(const Context& context,
                                              const policy::Principal& principal,
                                              const policy::AccessRequest& request, Denial denial);
// The same for a request with no more facts than its operation and targets.
fhir::FhirResult<policy::PhiAccess> Authorize(
    const Context& context, const policy::Principal& principal, policy::Operation operation,
    std::string_view resource_type, std::span<const std::string> resource_ids,
    std::span<const std::string> patient_ids, Denial denial);

// Whether the caller may do `operation` on `resource_type` at all (for a patient: in their
// own compartment). Refused: the denial is logged and kForbidden says which rule refused.
// This answer does not depend on any resource, so it reveals nothing.
fhir::FhirStatus CheckTypeAllowed(const Context& context, const policy::Principal& principal,
                                  policy::Operation operation, std::string_view resource_type);

// Whether the rule would let the caller read a resource of `patient_id`, the caller's patient
// scope being `scope` (Decider::ScopeOf; no audit entry: used to skip what the caller may not
// know about without touching it, so that a search across patients filters on the stored
// patient id before anything is decrypted).
bool MayRead(const policy::Principal& principal, const policy::PatientScope& scope,
             std::string_view resource_type, std::string_view resource_id,
             std::string_view patient_id);

// The caller's patient scope, as the API answers its failure (kUnavailable).
fhir::FhirResult<policy::PatientScope> ScopeOf(const Context& context,
                                               const policy::Principal& principal);

// The patient `resource` (of `resource_type`, about to be written) would take into the
// caller's care: its patient when the resource names the caller's Practitioner as a participant that
// relates them (policy/care_relations.h); "" otherwise.
std::string TakenIntoCare(const Context& context, const policy::Principal& principal,
                          const boost::json::object& resource, std::string_view resource_type);

// The patient whose care team an administrator writes: administrators keep care teams
// without reading clinical data, so the team's subject resolves without their reading it.
// "" for every other write.
std::string KeptCareTeamPatient(const policy::Principal& principal,
                                const boost::json::object& resource, std::string_view resource_type);

// A decrypted version as the API returns it: meta.versionId and meta.lastUpdated set.
fhir::FhirResult<StoredResource> ToStored(const Resource& resource);

// Whether the principal may see this version once opened (policy/release.h): a patient does
// not see an unreleased lab result, nor the deletion of a lab result, and is answered as if
// it did not exist.
bool Visible(const policy::Principal& principal, const StoredResource& stored);
// Whether the version is withheld from the principal for a sensitive category it has no
// permission for (policy/sensitive.h): part of what Visible refuses, and audited
// (WithholdRecorded) rather than silently skipped.
bool Withheld(const policy::Principal& principal, const StoredResource& stored);
// Records, as one denied entry, the resources withheld from a search, read or history
// (Decider::RecordWithheld); nothing when there are none.
fhir::FhirStatus RecordWithheld(const Context& context, const policy::Principal& principal,
                                policy::Operation operation, std::string_view resource_type,
                                std::span<const std::string> resource_ids,
                                std::span<const std::string> patient_ids);

// Nobody labels what they could not see: a write of `resource` carrying a sensitive category
// the principal has no permission for is refused (kForbidden naming the permissions missing,
// the refusal audited as `operation` on `patient_id`). It depends on the request only, so it
// tells nothing of what is stored.
fhir::FhirStatus CheckLabelsHeld(const Context& context, const policy::Principal& principal,
                                 policy::Operation operation, const boost::json::object& resource,
                                 std::string_view patient_id);

// The current version `current` of a resource about to be updated or deleted, opened (a read,
// audited) when a check needs its content: nobody changes or deletes what is withheld from
// them (kNotFound, as for a read, the withholding audited as `operation`), and an update of a
// released result is a correction (MarkCorrection). nullopt when no check needs it (a
// deletion marker, or a caller who holds every category writing a type release does not
// govern).
fhir::FhirResult<std::optional<StoredResource>> OpenForChange(const Context& context,
                                                              const policy::Principal& principal,
                                                              policy::Operation operation,
                                                              const store::VersionWithKey& current);

// Removes what only the server sets (meta.versionId, meta.lastUpdated).
void StripServerMeta(boost::json::object& resource);

// "Observation/123" -> ("Observation", "123"); nullopt for anything else (urn:uuid, "#x").
std::optional<std::pair<std::string, std::string>> SplitReference(std::string_view reference);

// A resource a reference points to, as far as writing needs to know it.
struct Target {
  std::string patient_id;  // the row's patient ("" for a resource of no patient)
};
// Resolves "Type/id" to an existing, not deleted resource the caller may see; nullopt when
// there is none (or the caller may not know of it: the same answer).
using Resolver =
    std::function<fhir::FhirResult<std::optional<Target>>(std::string_view, std::string_view)>;
// The resolver over the store, for `principal`. `unseen_patient` (may be empty): a patient
// whose care team an administrator keeps (KeptCareTeamPatient), whose Patient resolves as
// well. For a clinician, a Patient they may not open resolves as itself whether or not it
// exists, so that the Decider refuses the write (audited, 403) with the same answer for both.
// For an account that records only its lab's work (policy::RecordsOnlyItsLabWork), a stored
// Patient it may not open resolves, so that its lab's first report or result for a patient
// registered elsewhere can be written (the Decider allows that work only: own_lab_work).
Resolver StoreResolver(const Context& context, const policy::Principal& principal,
                       std::string_view unseen_patient = {});

// Every reference of `resource` resolves (kInvalid "Observation.subject does not resolve"
// otherwise), and returns the patient the resource belongs to ("" for a type outside the
// patient compartment; a Patient's own id). `resource` has its id.
fhir::FhirResult<std::string> ResolveWrite(const boost::json::object& resource,
                                           const Resolver& resolve);

// A DocumentReference's inline attachments become Binary resources of the same patient: each
// content[].attachment.data is replaced by url "Binary/<id>", size and hash (base64 SHA-1).
// Returns the Binary resources to write with the document.
fhir::FhirResult<std::vector<boost::json::object>> SplitAttachments(boost::json::object& document);

// One resource version to write, prepared and checked.
struct PreparedWrite {
  std::string resource_type;
  std::string id;
  std::int64_t expected_version = 0;
  std::string patient_id;
  boost::json::object resource;
  std::string json;  // the serialized resource, kept alive for SealedWrite
  bool created = true;
};

inline PreparedWrite MakeWrite(std::string resource_type, std::string id,
                               std::int64_t expected_version, std::string patient_id,
                               boost::json::object resource, bool created = true) {
  PreparedWrite write;
  write.resource_type = std::move(resource_type);
  write.id = std::move(id);
  write.expected_version = expected_version;
  write.patient_id = std::move(patient_id);
  write.resource = std::move(resource);
  write.created = created;
  return write;
}

inline StoredResource MakeStored(std::string resource_type, std::string id, std::int64_t version,
                                 Timestamp last_updated, bool deleted) {
  StoredResource stored;
  stored.resource_type = std::move(resource_type);
  stored.id = std::move(id);
  stored.version = version;
  stored.last_updated = last_updated;
  stored.deleted = deleted;
  return stored;
}

// The issues of Validate as a kInvalid outcome; nothing when there is none.
fhir::FhirStatus CheckValid(const boost::json::object& resource, bool allow_urn_uuid,
                            bool require_id);

// Stored versions of what was written, in the order given.
std::vector<StoredResource> StoredOf(std::span<const PreparedWrite> writes, Timestamp at);

// Seals the writes (after the deletes) in one transaction, with `along` (SealedStore::PutAll):
// kConflict when one raced another writer.
fhir::FhirStatus WriteAll(const Context& context, std::span<PreparedWrite> writes,
                          Timestamp recorded_at,
                          std::span<const store::ResourceDelete> deletes = {},
                          const AlongWith& along = {});

// Groups ids and patients per (operation, type, whether the writes take their patients into
// the caller's care) and authorizes each group once.
struct AccessGroup {
  policy::Operation operation = policy::Operation::kCreate;
  std::string resource_type;
  std::vector<std::string> resource_ids;
  std::vector<std::string> patient_ids;  // distinct, without ""
  std::size_t first_entry = 0;           // in a Bundle: the first entry of the group
  bool takes_into_care = false;          // policy::AccessRequest::takes_into_care
  bool own_lab_work = false;             // policy::AccessRequest::own_lab_work

  // The Decider's request for the group (it refers to the group's vectors).
  policy::AccessRequest Request() const {
    return {.operation = operation,
            .resource_type = resource_type,
            .resource_ids = resource_ids,
            .patient_ids = patient_ids,
            .takes_into_care = takes_into_care,
            .own_lab_work = own_lab_work};
  }
};
fhir::FhirStatus AuthorizeGroups(const Context& context, const policy::Principal& principal,
                                 std::vector<AccessGroup> groups, Denial denial);
void AddToGroups(std::vector<AccessGroup>& groups, policy::Operation operation,
                 std::string_view resource_type, std::string_view id, std::string_view patient_id,
                 std::size_t entry = 0, bool takes_into_care = false);

// The search behind Search, Count and conditional creates: every match, in the requested
// order, with the patients each belongs to (RunSearch leaves `included` empty: Search adds the
// _include targets of the page it returns).
struct SearchResult {
  std::vector<StoredResource> matches;
  std::vector<std::vector<std::string>> match_patients;  // parallel to matches
  std::vector<StoredResource> included;
  std::vector<std::string> included_patients;
  // Rows that did not open (altered on disk, reported as integrity failures): skipped.
  std::size_t unreadable = 0;
  // Matches withheld for a sensitive category (Withheld), and their patients: left out as if
  // absent, and recorded.
  std::vector<std::string> withheld;
  std::vector<std::string> withheld_patients;
};
// The patients of matches [begin, end), each once.
std::vector<std::string> PatientsOf(const SearchResult& result, std::size_t begin, std::size_t end);

// The part of a search across patients (without _sort) that RunSearch collects: the matches
// among the candidates with id > `after`, in id order, at most `want` of them. Its pages follow
// the candidates rather than an offset, so that a broad search costs what its page costs.
// Every other search collects all its matches and ignores the window.
struct SearchWindow {
  std::string after;
  std::size_t want = std::numeric_limits<std::size_t>::max();
};
// What an If-None-Exist (a conditional create) matches: RunSearch's matches; and for an account
// acting for an organization (policy/lab_scope.h) whose search of Patient finds none of its
// patients, the patients the identifier criterion matches among every patient, without their
// content (policy::AccessRequest::matches_identity), so that its lab work for a patient
// registered elsewhere does not register them twice.
fhir::FhirResult<SearchResult> MatchIfNoneExist(const Context& context,
                                                const policy::Principal& principal,
                                                const fhir::SearchRequest& request);
// Whether `request` is a search that a window cuts (see SearchWindow).
bool IsWindowed(const fhir::SearchRequest& request);
fhir::FhirResult<SearchResult> RunSearch(const Context& context, const policy::Principal& principal,
                                         const fhir::SearchRequest& request,
                                         const SearchWindow& window = {});

// Records the resources a search returns and their patients (Decider::RecordResults).
fhir::FhirStatus RecordReturned(const Context& context, const policy::Principal& principal,
                                std::string_view resource_type,
                                std::span<const StoredResource> resources,
                                std::span<const std::string> patients_of_resources);

// The write use cases, shared by the public calls and the batch (a transaction prepares its
// entries itself, with the same steps, to write them in one store transaction).
fhir::FhirResult<Written> CreateResource(const Context& context, const policy::Principal& principal,
                                         boost::json::object resource,
                                         std::string_view if_none_exist);
fhir::FhirResult<Written> UpdateResource(const Context& context, const policy::Principal& principal,
                                         std::string_view resource_type, std::string_view id,
                                         boost::json::object resource,
                                         std::optional<std::int64_t> if_match);
fhir::FhirResult<StoredResource> DeleteResource(const Context& context,
                                                const policy::Principal& principal,
                                                std::string_view resource_type,
                                                std::string_view id);

// An update of a released DiagnosticReport or Observation (report_release.cc), given its
// current version as OpenForChange opened it: if that was released, a new status "final"
// becomes "corrected", and a pending status is refused (a released result stays visible).
fhir::FhirStatus MarkCorrection(const std::optional<StoredResource>& current,
                                boost::json::object& resource);

// AuditEvent/<leaf index>, from the audit log, through the Decider like every read.
fhir::FhirResult<StoredResource> ReadAuditEvent(const Context& context,
                                                const policy::Principal& principal,
                                                std::string_view id);

// --- A lab technician's own lab (lab_work.cc, policy/lab_scope.h) ---------------------------

// A write of `resource` (of `resource_type`) by a lab technician: a DiagnosticReport,
// Observation or DocumentReference must name their lab (kForbidden with the reason otherwise),
// and the version it replaces, `current` (may be null), must be their lab's too (kNotFound
// otherwise, the answer for what they may not see; opening it is an audited read). Returns
// whether the write is their lab's report, result or document (policy::AccessRequest::
// own_lab_work; a document's Binaries go with it). Other principals: false, nothing checked.
fhir::FhirResult<bool> CheckLabWrite(const Context& context, const policy::Principal& principal,
                                     std::string_view resource_type,
                                     const boost::json::object& resource,
                                     const store::VersionWithKey* current);

// A Binary opened for a lab technician: whether it is the content of their lab's document
// (its securityContext a DocumentReference they may see, opened as an audited read). Other
// principals: true.
fhir::FhirResult<bool> LabMayViewBinary(const Context& context, const policy::Principal& principal,
                                        const StoredResource& binary);

}  // namespace medvault::records::internal
