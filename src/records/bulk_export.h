// Bulk export as an approved job (issue 8, case 3 of THREATS.md: one account exported 758,912
// patients). Nothing leaves in bulk unless a second person approved it, and what leaves is
// sealed for one named recipient, watermarked and short-lived:
//
//   requested  an integration client asks for the resource types its SMART scopes let it
//              search, naming a recipient's X25519 public key (`medvault export keygen`);
//              nothing is read or decrypted yet. Lapses after request_ttl (expired).
//   refused    an administrator said no.
//   approved   an active administrator account (never the requester) said yes; the job runs
//              (running) at the requester's next status poll, as the requester: every page
//              is authorized and recorded by the Decider like any search (so only what
//              the client's SMART scopes allow; a client of an organization gets only the
//              patients whose managingOrganization it is, and their compartments), then
//              kExport entries name every patient included. The exfiltration guard does
//              not count these reads (kExportClient).
//   ready      the file exists under the export directory, sealed for the recipient
//              (crypto/sealed_file.h): NDJSON per resource type, with synthetic canary
//              patients shuffled among the real ones, recorded with the job (the watermark:
//              `medvault export trace` names the job a leaked file came from). Only the
//              requester downloads it, each download audited. After file_ttl the file is
//              deleted and the job is expired (a download then gets kGone).
//   failed     the run could not finish; the partial file is deleted.
//
// Every step is written to the audit log before it takes effect or anything is handed out.
// Thread-safe; everything passed to the constructor must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "fhir/outcome.h"
#include "identity/api_clients.h"
#include "policy/decider.h"
#include "records/clinical_records.h"
#include "store/store.h"

namespace medvault::records {

// The `client` of the principal an approved export runs as (audit entries; the guard does
// not count its reads: a second person approved them).
inline constexpr std::string_view kExportClient = identity::kBulkExportClient;

inline constexpr std::string_view kExportRequested = "requested";
inline constexpr std::string_view kExportRefused = "refused";
inline constexpr std::string_view kExportApproved = "approved";
inline constexpr std::string_view kExportRunning = "running";
inline constexpr std::string_view kExportReady = "ready";
inline constexpr std::string_view kExportFailed = "failed";
inline constexpr std::string_view kExportExpired = "expired";

// The job's state machine, alone: the state after `event`, or kConflict naming the state when
// the event cannot happen there (a refused job is never approved, an expired one never runs).
// approved -> running (kStart) -> ready (kFinish) or failed (kFail); requested and ready
// expire.
enum class ExportEvent { kApprove, kRefuse, kStart, kFinish, kFail, kExpire };
Result<std::string_view> NextExportState(std::string_view state, ExportEvent event);
// Whether the job's deadline passed: a request not approved in time, a file past its life.
bool ExportLapsed(const store::ExportJobRecord& job, Timestamp now);

// A canary patient of one export: synthetic, never stored as a patient.
struct Canary {
  std::string id;
  std::string identifier;  // an INS-NIR looking value, unique to this canary
  boost::json::object resource;
};
// `count` canaries made from the system's randomness, looking like real patients.
std::vector<Canary> MakeCanaries(std::size_t count);
// The watermark as stored with the job: {"ids": [...], "identifiers": [...]}.
std::string WatermarkOf(const std::vector<Canary>& canaries);

// Which export job a leaked text (NDJSON, or any text with Patient resources) came from: the
// jobs whose canary ids or identifiers appear in it, by id.
struct Traced {
  store::ExportJobRecord job;
  std::size_t canaries_found = 0;
};
Result<std::vector<Traced>> TraceExport(store::Store& store, std::string_view text);

class BulkExports {
 public:
  struct Options {
    std::filesystem::path directory;  // where sealed files are written (0700, inside data/)
    std::chrono::milliseconds request_ttl{24LL * 3600 * 1000};
    std::chrono::milliseconds file_ttl{24LL * 3600 * 1000};
    std::size_t canaries = 3;
  };
  BulkExports(ClinicalRecords& clinical, store::Store& store, audit::AuditLog& log,
              const Clock& clock, Options options);

  // Kick-off. `types` empty: every type the principal's scopes let it search. kForbidden when
  // the principal is no integration client or a type is beyond its scopes; kInvalid for a bad
  // type list or recipient key.
  fhir::FhirResult<store::ExportJobRecord> Request(const policy::Principal& principal,
                                                   std::vector<std::string> types,
                                                   std::span<const std::uint8_t> recipient_key);

  // A second person's decision, by an administrator account id (checked active by the
  // caller: the admin API's session or the console's --by). The requester never decides.
  // kConflict when the job is not waiting (or lapsed, which it is then marked).
  Result<store::ExportJobRecord> Approve(std::string_view job_id, const policy::Principal& approver);
  Result<store::ExportJobRecord> Refuse(std::string_view job_id, const policy::Principal& refuser);

  // The requester's status poll: the job as it is, after running it when it was approved
  // and marking it expired when its time passed. kNotFound for another principal's job.
  fhir::FhirResult<store::ExportJobRecord> Poll(const policy::Principal& principal,
                                                std::string_view job_id);

  // The sealed file's bytes for its requester, audited (kDownload) before they leave.
  // kGone after expiry; kForbidden (with why) before approval or after a refusal.
  fhir::FhirResult<std::string> Download(const policy::Principal& principal,
                                         std::string_view job_id);

  // Deletes the files of the jobs whose time passed and marks them expired; returns how many.
  Result<std::size_t> ExpireDue();

  Result<std::vector<store::ExportJobRecord>> List();

 private:
  fhir::FhirResult<store::ExportJobRecord> Run(const policy::Principal& principal,
                                               store::ExportJobRecord job);
  Result<store::ExportJobRecord> Decide(std::string_view job_id, const policy::Principal& decider,
                                        ExportEvent event);
  Status Expire(store::ExportJobRecord& job);
  Result<std::uint64_t> Record(const policy::Principal& principal, audit::Action action,
                               std::string_view job_id, std::vector<std::string> patient_ids,
                               audit::Outcome outcome);

  ClinicalRecords& clinical_;
  store::Store& store_;
  audit::AuditLog& log_;
  const Clock& clock_;
  Options options_;
};

}  // namespace medvault::records
