// FHIR R4 AuditEvent resources made from the audit log (audit/entry.h): what the API serves as
// AuditEvent read and search. Every entry maps to one AuditEvent whose id is the entry's leaf
// index, so each one can be checked against the log with an inclusion proof.
//
// Mapping (https://hl7.org/fhir/R4/auditevent.html):
//   type      health-data actions: "rest" (http://terminology.hl7.org/CodeSystem/audit-event-type)
//             with subtype the interaction (http://hl7.org/fhir/restful-interaction: read,
//             search-type, create, update, delete); authentication and session events: DICOM
//             110114 User Authentication (subtype 110122 Login / 110123 Logout where one
//             applies); break-the-glass: DICOM 110113 Security Alert; export: 110106 Export;
//             administration (keys, erasure, users, configuration): 110100 Application Activity.
//   action    C, R, U, D, or E (search, authentication, administration).
//   recorded  the entry's time (UTC, microseconds).
//   outcome   0 success, 4 denied (minor failure), 8 failed (serious failure).
//   agent     the account (who.identifier, system kAccountSystem; who.display its display
//             name when an AgentNames resolved it), requestor, its role (kRoleSystem, with the
//             role's name as display), the network address (type 2, IP); and, when the entry names
//             one, the client application (DICOM 110150 Application, system kClientSystem).
//   source    observer display "medvault".
//   entity    one per resource (what.reference "Type/id", type 2 System Object) and one per
//             patient (what.reference "Patient/<id>", type 1 Person, role 1 Patient); a
//             Patient resource that is also the patient appears once, as the patient.
//   purposeOfEvent  http://terminology.hl7.org/CodeSystem/v3-ActReason: ETREAT for
//             break-the-glass, PATRQT for a patient's own access, TREAT for a care relation,
//             HOPERAT for administration, HSYSADMIN for audit.
// Only ids and fixed vocabulary are used: an Entry holds no free text from records.
//
// Thread-safe: AuditEventOf is a pure function but for the AgentNames it is given (one per
// request, not shared between threads); FindAuditEvents is as thread-safe as the log.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "audit/entry.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace medvault::records {

// Identifier and code systems of medvault's own ids and roles in AuditEvents.
inline constexpr std::string_view kAccountSystem = "urn:medvault:account";
inline constexpr std::string_view kClientSystem = "urn:medvault:client";
inline constexpr std::string_view kRoleSystem = "urn:medvault:role";

// Who an entry's agent is, for people: an account's display name (store::Account), read once
// per account id and remembered for the life of the object (meant to live for one request);
// an API client is shown by its client id, the operator as "operator". The log itself keeps
// ids only. Not thread-safe. An account that cannot be read (gone, store failing) gets no
// display: the event still names the account id.
class AgentNames {
 public:
  explicit AgentNames(store::Store& store) : store_(store) {}
  std::optional<std::string> DisplayOf(const audit::Entry& entry);

 private:
  static constexpr std::size_t kMaxCached = 256;
  store::Store& store_;
  std::map<std::string, std::optional<std::string>, std::less<>> cache_;
};

// The AuditEvent of one log entry (its index must be set, as the log's reads set it); with
// `names`, the agent's who.display.
boost::json::object AuditEventOf(const audit::Entry& entry, AgentNames* names = nullptr);

// A search of the log for AuditEvents: the entries of one patient, of one account, of both
// (the patient's entries made by that account), or all of them, recorded in [from, to), oldest
// first, after `after_index` (to page), at most `limit`.
struct AuditEventQuery {
  std::optional<std::string> patient_id = std::nullopt;
  std::optional<std::string> account = std::nullopt;
  Timestamp from = Timestamp::min();
  Timestamp to = Timestamp::max();
  std::size_t limit = 100;
  std::optional<std::uint64_t> after_index = std::nullopt;
};

// Runs `query` on the log (AuditLog::EntriesOfPatient or AuditLog::Find). kInvalidArgument for
// an empty patient id or account, a limit of 0 or from > to; the log's errors otherwise
// (kUnavailable when the store cannot be read).
Result<std::vector<audit::Entry>> FindAuditEvents(audit::AuditLog& log,
                                                  const AuditEventQuery& query);

}  // namespace medvault::records
