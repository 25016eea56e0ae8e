// The clinical record's use cases, for one authenticated principal: what the FHIR API (and
// the CLI's demo, and later the lab feed) calls. Every operation is authorized and audited by
// policy::Decider before anything is decrypted or returned; resources are validated before
// they are stored (fhir/resource.h) and their references must resolve; everything is sealed
// through SealedStore.
//
// Failures are fhir::Outcome values that the API sends as they are: kNotFound both for what
// does not exist and for what the principal may not know exists; kGone for a deleted
// resource; kConflict / kPreconditionFailed for versions; kForbidden with the policy's reason;
// kUnavailable when the store or the audit log cannot be used (nothing is returned then).
//
// Thread-safe; everything passed to the constructor must outlive it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "fhir/bundle.h"
#include "fhir/outcome.h"
#include "fhir/search.h"
#include "lab/report_pdf.h"
#include "policy/decider.h"
#include "records/notifications.h"
#include "records/sealed_store.h"

namespace medvault::records {

// What a write stores in its own store transaction beside its resources (the lab feed's
// duplicate row): both are stored or neither.
using AlongWith = store::Store::TransactionBody;

// One version of a resource as the API returns it: meta.versionId and meta.lastUpdated are
// set in `resource`; a deletion marker has deleted = true and no resource.
struct StoredResource {
  std::string resource_type;
  std::string id;
  std::int64_t version = 0;
  Timestamp last_updated;
  bool deleted = false;
  std::optional<boost::json::object> resource;
};

struct Written {
  StoredResource stored;
  bool created = false;  // false: an update, or a conditional create that matched (200)
};

struct SearchPage {
  std::vector<StoredResource> matches;   // in the requested order
  std::vector<StoredResource> included;  // _include targets, once each
  std::optional<std::int64_t> total;     // when known
  std::string next_page;                 // the _page cursor of the next page, empty at the end
  // Resources the search would have examined that did not open (altered on disk; each is
  // reported as an integrity failure): skipped, and flagged in the answer by this count.
  std::size_t unreadable = 0;
};

struct HistoryPage {
  std::vector<StoredResource> versions;  // newest first
  std::string next_page;
};

// What one entry of a batch or transaction did: a resource or an outcome, and the status.
struct EntryResult {
  int status = 200;  // 200, 201, 204, or the failure's status (batch)
  // For reads and writes (a delete: the deletion marker). A GET search: its searchset Bundle
  // as resource_type "Bundle", no id, version 0, entries with relative fullUrls ("Type/id").
  std::optional<StoredResource> stored;
  // For a failed batch entry, or a failed GET of a transaction (GETs run after the writes
  // are committed, each on its own).
  std::optional<fhir::Outcome> outcome;
};

// What a release wrote: the report and the results it made final, as stored.
struct Released {
  StoredResource report;
  std::vector<StoredResource> results;
  std::optional<StoredResource> document;  // the PDF report's DocumentReference, when made
};

// One report of a lab's worklist (ClinicalRecords::Worklist), with what the list shows of it.
struct WorklistEntry {
  StoredResource report;
  std::string patient_name;  // "" when the caller may not see the Patient
  bool abnormal = false;     // a result flagged abnormal (lab/report_pdf.h: AbnormalFlagOf)
  Timestamp received_at;     // when medvault received the report (its first version)
};

struct WorklistPage {
  std::vector<WorklistEntry> entries;
  std::int64_t total = 0;
  std::string next_page;  // the cursor of the next page; empty: none
};

class ClinicalRecords {
 public:
  struct Options {
    // The most resources of one patient a compartment search decrypts; beyond that it asks
    // the caller to narrow the search (kInvalid with kTooCostly).
    std::size_t max_compartment_scan = 20'000;
    // Reports: the fonts of the PDF report made at release (lab/report_pdf.h); nullopt makes
    // none (the release then stores no DocumentReference).
    std::optional<lab::ReportFonts> report_pdf = lab::ReportFonts{};
    // Reports: who tells the patient that a released result waits (records/notifications.h);
    // nullptr tells no one. Must outlive the ClinicalRecords.
    Notifier* notifier = nullptr;
  };

  ClinicalRecords(SealedStore& sealed, store::Store& store, audit::AuditLog& log,
                  policy::Decider& decider, const Clock& clock, Options options);

  fhir::FhirResult<StoredResource> Read(const policy::Principal& principal,
                                        std::string_view resource_type, std::string_view id);
  fhir::FhirResult<StoredResource> VRead(const policy::Principal& principal,
                                         std::string_view resource_type, std::string_view id,
                                         std::int64_t version);
  fhir::FhirResult<HistoryPage> History(const policy::Principal& principal,
                                        std::string_view resource_type, std::string_view id);
  // The versions of every resource of a type that the principal may see, newest first.
  fhir::FhirResult<HistoryPage> TypeHistory(const policy::Principal& principal,
                                            std::string_view resource_type,
                                            std::optional<std::string> patient_id,
                                            std::size_t count, std::string_view page);

  // POST: a new id is assigned. `if_none_exist` (a search query, may be empty): when it
  // matches one resource, that one is returned with created = false; several: kPreconditionFailed.
  fhir::FhirResult<Written> Create(const policy::Principal& principal, boost::json::object resource,
                                   std::string_view if_none_exist);
  // PUT: the body's id must equal `id`; `if_match` (the version of If-Match) must be current
  // when given (kPreconditionFailed otherwise); creates the resource when it does not exist.
  fhir::FhirResult<Written> Update(const policy::Principal& principal,
                                   std::string_view resource_type, std::string_view id,
                                   boost::json::object resource,
                                   std::optional<std::int64_t> if_match);
  // Logical delete: returns the deletion marker. Deleting a deleted resource succeeds again.
  fhir::FhirResult<StoredResource> Delete(const policy::Principal& principal,
                                          std::string_view resource_type, std::string_view id);

  fhir::FhirResult<SearchPage> Search(const policy::Principal& principal,
                                      const fhir::SearchRequest& request);
  // _summary=count: the number of matches only.
  fhir::FhirResult<std::int64_t> Count(const policy::Principal& principal,
                                       const fhir::SearchRequest& request);

  // A batch runs its entries independently; a transaction runs them all in one store
  // transaction (urn:uuid references resolved to the new ids) or none of them. `along`
  // (transactions only) is stored in that same store transaction, after the entries, even
  // when no entry writes (SealedStore::PutAll says how it runs and fails). The bundle is
  // taken: its resources are moved into the writes, not copied.
  fhir::FhirResult<std::vector<EntryResult>> Process(const policy::Principal& principal,
                                                     fhir::IncomingBundle bundle,
                                                     const AlongWith& along = {});

  // Reports (report_release.cc). $release: a lab technician or biologist validates a
  // registered, partial or preliminary DiagnosticReport: it and its pending result
  // Observations become final in one transaction, with the validator (resultsInterpreter and
  // the validated-by extension) and the time (issued), and the PDF report (a
  // DocumentReference and its Binary, presented by the report). From then on the patient sees
  // them
  // (policy/release.h); an update of a released result is recorded as a correction. Refused:
  // kForbidden for another role, kNotFound for an unknown report, kBusinessRule when it is
  // not pending.
  fhir::FhirResult<Released> Release(const policy::Principal& principal,
                                     std::string_view report_id);

  // A lab technician's worklist (lab_work.cc): their lab's DiagnosticReports still pending
  // (registered, partial, preliminary; found across patients by the report.status blind
  // index), oldest first (by the specimen's date, effective[x]), `count` a page (1 to 100),
  // `page` a next_page cursor. A search through the Decider like any other, with its patients
  // and results (_include), so policy/lab_scope.h applies and every access is audited.
  // kForbidden for anyone who may not release reports (lab technicians only) and for a lab
  // technician with no lab linked.
  fhir::FhirResult<WorklistPage> Worklist(const policy::Principal& principal, std::size_t count,
                                          std::string_view page);

  // Before an answer of `bytes` with health data is sent (reads, histories, searches): the
  // exfiltration guard counts them. Refused: kForbidden (suspended) or kUnauthenticated (a
  // step-up first), and nothing of the answer may leave.
  fhir::FhirStatus AdmitAnswer(const policy::Principal& principal, std::size_t bytes);

 private:
  SealedStore& sealed_;
  store::Store& store_;
  audit::AuditLog& log_;
  policy::Decider& decider_;
  const Clock& clock_;
  Options options_;
};

}  // namespace medvault::records
