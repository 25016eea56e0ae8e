// The lab API under /lab (docs/api.md, "Lab feed"): the lab's worklist, and HL7 v2 messages the
// feed could not take (records/lab_ingest.h), for lab technicians to look at, fix and send again.
//
//   GET  /lab/worklist[?page=CURSOR&count=N]  the lab's reports waiting for validation, oldest
//                                  first (records::ClinicalRecords::Worklist): {"reports":
//                                  [{id, status, patient_id, patient_name, test {code, system,
//                                  name}, received_at, collected_at, abnormal}], "total",
//                                  "next_page"}; N from 1 to 100 (default 20).
//   GET  /lab/quarantine[?page=CURSOR&count=N]  the list: id, received and updated times,
//                                  state, HL7 condition code, error (field and problem, no
//                                  value) and version; no health data.
//   GET  /lab/quarantine/{id}      one message, decrypted (JSON: the list's fields and
//                                  "message"); every read is audited before it is answered.
//   PUT  /lab/quarantine/{id}      the fixed message: JSON {"message": TEXT, "version": N}
//                                  with N the version read (409 when it changed).
//   POST /lab/quarantine/{id}/$replay  ingests the current text again as the feed's client:
//                                  {"ack_code": "AA"|"AE"|"AR", "ack": ACK, "state": ...}.
// Lab technicians only (403 otherwise, audited); a session cookie with X-CSRF-Token for PUT
// and POST. Failures are OperationOutcomes. Work runs on a bounded worker pool.
//
// Thread-safe once added; the services must outlive the router.
#pragma once

#include <optional>

#include "http/router.h"
#include "identity/api_clients.h"
#include "identity/sessions.h"
#include "policy/decider.h"
#include "records/clinical_records.h"
#include "records/lab_ingest.h"
#include "store/store.h"

namespace medvault::api {

struct LabServices {
  records::LabIngest& ingest;
  records::ClinicalRecords& records;  // the worklist
  // The feed's client, that a replay writes as; none: replay answers 409 (no feed).
  const std::optional<policy::Principal>& feed_client;
  identity::Sessions& sessions;
  identity::ApiClients& clients;
  store::Store& store;
};

medvault::Status AddLabRoutes(http::Router& router, LabServices services);

}  // namespace medvault::api
