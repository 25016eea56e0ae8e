// One audit log entry: who (account, role, client), from where, did what (action, resource
// type and ids, patient ids), why (purpose, break-the-glass reason category), when, and the
// outcome. Ids and fixed vocabulary only: never a name, a value or free text from a record or
// from a client; the encoder refuses any string outside its id alphabet.
//
// Every module fills an Entry the same way: identity (kLogin, kSecondFactor, kEnrollFactor,
// kLockout, kSessionStart/End/Revoke, kTokenIssue/Revoke, kPasswordChange), records and policy
// (kRead, kSearch with every patient in the results, kCreate, kUpdate, kDelete, a denial as the
// attempted action with Outcome::kDenied, kBreakTheGlass), cli (kKeyRotate, kPatientErase,
// kUserAdd). The log assigns `index` when it appends.
//
// The canonical encoding (what the leaf hash covers) is versioned, fixed-order and length-
// prefixed: one Entry has exactly one encoding, and ParseEntry accepts exactly the encodings
// EncodeEntry produces (anything else is kDataLoss), so a parsed entry re-encodes to the same
// bytes. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace medvault::audit {

enum class Action : std::uint8_t {
  // Authentication and sessions (identity).
  kLogin = 1,
  kSecondFactor = 2,
  kEnrollFactor = 3,
  kLockout = 4,
  kSessionStart = 5,
  kSessionEnd = 6,
  kSessionRevoke = 7,
  kTokenIssue = 8,
  kTokenRevoke = 9,
  kPasswordChange = 10,
  // Health data (records, policy).
  kRead = 20,
  kSearch = 21,
  kCreate = 22,
  kUpdate = 23,
  kDelete = 24,
  kBreakTheGlass = 25,
  kExport = 26,
  // Administration (cli, admin API).
  kKeyRotate = 40,
  kPatientErase = 41,
  kUserAdd = 42,
  kUserChange = 43,
  kConfigChange = 44,
  // Four eyes (issue 8): a staff role or a bulk export asked for, and a second person's
  // decision on it; an export file fetched by its requester.
  kApprovalRequest = 60,
  kApprove = 61,
  kRefuse = 62,
  kDownload = 63,
  // The security console: an administrator or auditor acknowledges an alert.
  kAcknowledge = 64,
};

enum class Role : std::uint8_t {
  kNone = 0,  // not authenticated yet (a failed login)
  kPatient = 1,
  kClinician = 2,
  kLabTechnician = 3,
  kAdministrator = 4,
  kAuditor = 5,
  kIntegration = 6,
  kOperator = 7,  // someone at the server's console (the medvault command)
};

// Why the access was allowed (or asked for).
enum class Purpose : std::uint8_t {
  kNone = 0,
  kCareRelation = 1,   // the patient is in one of the account's care teams
  kBreakTheGlass = 2,  // outside the care teams, with a reason category
  kPatientSelf = 3,    // patients reading their own record
  kAdministration = 4,
  kAudit = 5,
  kIntegration = 6,  // a client's scoped writes (lab feed)
};

// The category of a break-the-glass reason; the written reason itself is free text and is not
// in the log (policy keeps it for review).
enum class BreakGlassReason : std::uint8_t {
  kNone = 0,
  kEmergency = 1,
  kContinuityOfCare = 2,
  kPatientRequest = 3,
  kOther = 4,
};

enum class Outcome : std::uint8_t {
  kSuccess = 0,
  kDenied = 1,  // refused by policy or by a wrong credential
  kFailed = 2,  // could not be done (not found, conflict, server error)
};

inline constexpr std::size_t kMaxIdBytes = 128;
inline constexpr std::size_t kMaxIdsPerList = 10'000;

struct Entry {
  std::uint64_t index = 0;  // the leaf index, set by the log
  Timestamp time;
  std::string account;  // account id; empty when unknown (failed login)
  Role role = Role::kNone;
  std::string client;          // API client id or the front end ("portal", "cli")
  std::string source_address;  // IPv4 or IPv6 literal; empty for the console
  Action action = Action::kRead;
  std::string resource_type;              // FHIR type, e.g. "Observation"; may be empty
  std::vector<std::string> resource_ids;  // in the order they were touched
  std::vector<std::string> patient_ids;   // every patient touched, search results included
  Purpose purpose = Purpose::kNone;
  BreakGlassReason reason = BreakGlassReason::kNone;  // only with Purpose::kBreakTheGlass
  Outcome outcome = Outcome::kSuccess;

  bool operator==(const Entry&) const = default;
};

// Stable lower-case names ("read", "break_the_glass", ...) for columns, reports and CSV.
std::string_view ActionName(Action action);
std::optional<Action> ActionFromName(std::string_view name);
std::string_view RoleName(Role role);
std::string_view PurposeName(Purpose purpose);
std::string_view ReasonName(BreakGlassReason reason);
std::string_view OutcomeName(Outcome outcome);

// Checks the vocabulary and the id alphabets; kInvalidArgument names the field (not its value).
Status ValidateEntry(const Entry& entry);

// The canonical bytes of a valid entry; kInvalidArgument for an invalid one.
Result<std::vector<std::uint8_t>> EncodeEntry(const Entry& entry);
// Strict inverse of EncodeEntry: kDataLoss for anything it would not have produced.
Result<Entry> ParseEntry(std::span<const std::uint8_t> bytes);

}  // namespace medvault::audit
