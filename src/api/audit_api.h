// The audit API under /audit (docs/api.md, "Audit"): what patients and auditors see of the
// tamper-evident log beyond the FHIR AuditEvents.
//
//   GET /audit/proof/{index}   the inclusion proof of entry `index` (the AuditEvent id) in the
//                              tree of the latest signed checkpoint, with that checkpoint's
//                              C2SP note: the patient the entry names, or an auditor. 404 for
//                              anyone else's entry, and (retry later) for an entry no
//                              checkpoint covers yet.
//   GET /audit/entries.csv     auditors: the log's entries as CSV, filtered by account,
//                              patient, action and time; audited as Action::kExport.
//   GET /audit/scope           auditors with a second factor of the last 5 minutes: the
//                              breach scope of one account over a window (audit/scope.h), as
//                              JSON or (format=csv) the CLI's scope.csv; audited as export.
//   GET /security/alerts       administrators and auditors: the security console's alerts
//                              (exfiltration guard, credential stuffing, integrity), oldest
//                              first after id `after`, at most `_count` (100; up to 1000).
//                              Ids and counts only; not routed through the Decider (no
//                              health data), refused (403) for every other role.
//   GET /audit/break-glass     auditors: the break-the-glass grants not reviewed yet, oldest
//                              first after grant `after`, at most `_count` (50; up to 500),
//                              with their reason text (its reading is audited).
//   POST /audit/break-glass/{id}/$review
//                              auditors: {"note": "..."} reviews a grant, which leaves the
//                              queue (records/emergency_access.h).
//   POST /security/alerts/{id}/$acknowledge
//                              administrators and auditors: records who acknowledged the alert
//                              and when (audited as Action::kAcknowledge); a second
//                              acknowledgement keeps and answers the first one.
//   GET /audit/checkpoint      auditors and administrators: the latest signed checkpoint (size,
//                              root, signature, key id, time) and whether its signature holds.
//   GET /audit/verify          auditors: runs the verifier of `medvault audit verify`
//                              (audit/verifier.h) on a worker thread, one run at a time (503
//                              while one runs), and answers its summary or the first problem.
//   GET /security/keys         administrators: what `medvault keys status` prints (the master
//                              keys' place, versions and wrap counts), never key material.
// Every read of the log's entries is decided by the policy::Decider and written to the log
// before anything is answered; the alerts, the checkpoint, the verification and the key status
// hold no health data and check the caller's role only. Other roles get 403; unauthenticated
// requests 401. Failures are OperationOutcomes; nothing of a query is logged. Work runs on a
// bounded worker pool.
//
// Thread-safe once added; the services must outlive the router.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/router.h"
#include "identity/api_clients.h"
#include "identity/sessions.h"
#include "policy/decider.h"
#include "records/emergency_access.h"
#include "records/sealed_store.h"
#include "store/store.h"

namespace medvault::api {

struct AuditServices {
  audit::AuditLog& log;
  policy::Decider& decider;
  identity::Sessions& sessions;
  identity::ApiClients& clients;
  store::Store& store;  // checkpoints, API clients
  // The break-the-glass review queue; nullptr: not served (404).
  records::EmergencyAccess* emergency_access = nullptr;
  const Clock* clock = nullptr;  // when alerts are acknowledged; required
  // The log's verifier key and the directory the checkpointer writes to (checkpoint, verify).
  std::optional<audit::NoteVerifier> verifier;
  std::filesystem::path checkpoint_dir;
  // The key status (GET /security/keys) and where the master keys live; nullptr: not served.
  records::SealedStore* keys = nullptr;
  std::string key_place;
};

struct AuditApiOptions {
  std::size_t worker_threads = 2;
};

medvault::Status AddAuditRoutes(http::Router& router, AuditServices services,
                                AuditApiOptions options);

}  // namespace medvault::api
