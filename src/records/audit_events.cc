#include "records/audit_events.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <chrono>
#include <utility>

namespace medvault::records {
namespace {

namespace json = boost::json;
using audit::Action;

constexpr std::string_view kEventTypeSystem =
    "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr std::string_view kInteractionSystem = "http://hl7.org/fhir/restful-interaction";
constexpr std::string_view kDicomSystem = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kActReasonSystem = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr std::string_view kEntityTypeSystem =
    "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role";

struct Code {
  std::string_view system;
  std::string_view code;
  std::string_view display;
};

json::object CodingOf(const Code& code) {
  json::object coding;
  coding["system"] = code.system;
  coding["code"] = code.code;
  if (!code.display.empty()) coding["display"] = code.display;
  return coding;
}

json::object ConceptOf(const Code& code) {
  json::object codeable;
  codeable["coding"] = json::array{CodingOf(code)};
  return codeable;
}

// How an action reads as an AuditEvent: its type, subtype (if any) and action code.
struct EventKind {
  Code type;
  std::optional<Code> subtype;
  std::string_view action;
};

constexpr Code kRest{kEventTypeSystem, "rest", "RESTful Operation"};
constexpr Code kUserAuthentication{kDicomSystem, "110114", "User Authentication"};
constexpr Code kLogin{kDicomSystem, "110122", "Login"};
constexpr Code kLogout{kDicomSystem, "110123", "Logout"};
constexpr Code kSecurityAlert{kDicomSystem, "110113", "Security Alert"};
constexpr Code kExport{kDicomSystem, "110106", "Export"};
constexpr Code kApplicationActivity{kDicomSystem, "110100", "Application Activity"};

Code Interaction(std::string_view code) { return {kInteractionSystem, code, code}; }

EventKind KindOf(Action action) {
  switch (action) {
    case Action::kRead:
      return {kRest, Interaction("read"), "R"};
    case Action::kSearch:
      return {kRest, Interaction("search-type"), "E"};
    case Action::kCreate:
      return {kRest, Interaction("create"), "C"};
    case Action::kUpdate:
      return {kRest, Interaction("update"), "U"};
    case Action::kDelete:
      return {kRest, Interaction("delete"), "D"};
    case Action::kLogin:
    case Action::kSecondFactor:
    case Action::kSessionStart:
    case Action::kTokenIssue:
      return {kUserAuthentication, kLogin, "E"};
    case Action::kSessionEnd:
    case Action::kSessionRevoke:
    case Action::kTokenRevoke:
      return {kUserAuthentication, kLogout, "E"};
    case Action::kEnrollFactor:
    case Action::kLockout:
    case Action::kPasswordChange:
      return {kUserAuthentication, std::nullopt, "E"};
    case Action::kBreakTheGlass:
      return {kSecurityAlert, std::nullopt, "E"};
    case Action::kExport:
      return {kExport, std::nullopt, "R"};
    case Action::kPatientErase:
      return {kApplicationActivity, std::nullopt, "D"};
    case Action::kUserAdd:
      return {kApplicationActivity, std::nullopt, "C"};
    case Action::kUserChange:
    case Action::kApprovalRequest:
    case Action::kApprove:
    case Action::kRefuse:
    case Action::kAcknowledge:
      return {kApplicationActivity, std::nullopt, "U"};
    case Action::kDownload:
      return {kExport, std::nullopt, "R"};
    case Action::kKeyRotate:
    case Action::kConfigChange:
      return {kApplicationActivity, std::nullopt, "E"};
  }
  return {kApplicationActivity, std::nullopt, "E"};
}

std::string_view OutcomeCode(audit::Outcome outcome) {
  switch (outcome) {
    case audit::Outcome::kSuccess:
      return "0";
    case audit::Outcome::kDenied:
      return "4";
    case audit::Outcome::kFailed:
      return "8";
  }
  return "8";
}

std::optional<Code> PurposeCode(audit::Purpose purpose) {
  switch (purpose) {
    case audit::Purpose::kBreakTheGlass:
      return Code{kActReasonSystem, "ETREAT", "Emergency Treatment"};
    case audit::Purpose::kPatientSelf:
      return Code{kActReasonSystem, "PATRQT", "patient requested"};
    case audit::Purpose::kCareRelation:
      return Code{kActReasonSystem, "TREAT", "treatment"};
    case audit::Purpose::kAdministration:
      return Code{kActReasonSystem, "HOPERAT", "healthcare operations"};
    case audit::Purpose::kAudit:
      return Code{kActReasonSystem, "HSYSADMIN", "health system administration"};
    case audit::Purpose::kIntegration:
    case audit::Purpose::kNone:
      break;
  }
  return std::nullopt;
}

// A FHIR instant, to the microsecond, in UTC.
std::string InstantOf(Timestamp time) {
  const auto micros = time.time_since_epoch().count();
  auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const auto fraction =
      micros -
      std::chrono::duration_cast<std::chrono::microseconds>(seconds.time_since_epoch()).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
                     std::chrono::sys_seconds(seconds.time_since_epoch()), fraction);
}

json::object IdentifierOf(std::string_view system, std::string_view value) {
  json::object identifier;
  identifier["system"] = system;
  identifier["value"] = value;
  json::object reference;
  reference["identifier"] = std::move(identifier);
  return reference;
}

json::object EntityOf(std::string reference, const Code& type, const std::optional<Code>& role) {
  json::object what;
  what["reference"] = std::move(reference);
  json::object entity;
  entity["what"] = std::move(what);
  entity["type"] = CodingOf(type);
  if (role) entity["role"] = CodingOf(*role);
  return entity;
}

std::string_view RoleDisplay(audit::Role role) {
  switch (role) {
    case audit::Role::kPatient:
      return "Patient";
    case audit::Role::kClinician:
      return "Clinician";
    case audit::Role::kLabTechnician:
      return "Laboratory technician";
    case audit::Role::kAdministrator:
      return "Administrator";
    case audit::Role::kAuditor:
      return "Auditor";
    case audit::Role::kIntegration:
      return "Integrated application";
    case audit::Role::kOperator:
      return "Server operator";
    case audit::Role::kNone:
      break;
  }
  return {};
}

}  // namespace

std::optional<std::string> AgentNames::DisplayOf(const audit::Entry& entry) {
  if (entry.role == audit::Role::kIntegration) {
    if (!entry.client.empty()) return entry.client;
    if (!entry.account.empty()) return entry.account;
    return std::nullopt;
  }
  if (entry.role == audit::Role::kOperator) return std::string("operator");
  if (entry.account.empty()) return std::nullopt;
  if (auto it = cache_.find(entry.account); it != cache_.end()) return it->second;
  std::optional<std::string> display;
  (void)store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto account = tx.GetAccount(entry.account);
        if (!account) return std::unexpected(account.error());
        if (!account->display_name.empty()) display = account->display_name;
        return {};
      },
      store::Access::kReadOnly);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.emplace(entry.account, display);
  return display;
}

json::object AuditEventOf(const audit::Entry& entry, AgentNames* names) {
  const EventKind kind = KindOf(entry.action);
  json::object event;
  event["resourceType"] = "AuditEvent";
  event["id"] = std::to_string(entry.index);
  event["type"] = CodingOf(kind.type);
  if (kind.subtype) event["subtype"] = json::array{CodingOf(*kind.subtype)};
  event["action"] = kind.action;
  event["recorded"] = InstantOf(entry.time);
  event["outcome"] = OutcomeCode(entry.outcome);
  if (auto purpose = PurposeCode(entry.purpose)) {
    event["purposeOfEvent"] = json::array{ConceptOf(*purpose)};
  }

  json::array agents;
  json::object user;
  user["role"] =
      json::array{ConceptOf({kRoleSystem, audit::RoleName(entry.role), RoleDisplay(entry.role)})};
  if (!entry.account.empty()) {
    json::object who = IdentifierOf(kAccountSystem, entry.account);
    if (names != nullptr) {
      if (auto display = names->DisplayOf(entry)) who["display"] = *display;
    }
    user["who"] = std::move(who);
  }
  user["requestor"] = true;
  if (!entry.source_address.empty()) {
    json::object network;
    network["address"] = entry.source_address;
    network["type"] = "2";  // IP address
    user["network"] = std::move(network);
  }
  agents.push_back(std::move(user));
  if (!entry.client.empty()) {
    json::object application;
    application["type"] = ConceptOf({kDicomSystem, "110150", "Application"});
    application["who"] = IdentifierOf(kClientSystem, entry.client);
    application["requestor"] = false;
    agents.push_back(std::move(application));
  }
  event["agent"] = std::move(agents);

  json::object observer;
  observer["display"] = "medvault";
  json::object source;
  source["observer"] = std::move(observer);
  event["source"] = std::move(source);

  json::array entities;
  constexpr Code kSystemObject{kEntityTypeSystem, "2", "System Object"};
  constexpr Code kPerson{kEntityTypeSystem, "1", "Person"};
  constexpr Code kPatientRole{kObjectRoleSystem, "1", "Patient"};
  for (const std::string& id : entry.resource_ids) {
    if (entry.resource_type.empty()) break;
    const bool is_patient = entry.resource_type == "Patient" &&
                            std::find(entry.patient_ids.begin(), entry.patient_ids.end(), id) !=
                                entry.patient_ids.end();
    if (is_patient) continue;  // listed once, as the patient, below
    entities.push_back(
        EntityOf(fmt::format("{}/{}", entry.resource_type, id), kSystemObject, std::nullopt));
  }
  for (const std::string& id : entry.patient_ids) {
    entities.push_back(EntityOf(fmt::format("Patient/{}", id), kPerson, kPatientRole));
  }
  if (!entities.empty()) event["entity"] = std::move(entities);
  return event;
}

Result<std::vector<audit::Entry>> FindAuditEvents(audit::AuditLog& log,
                                                  const AuditEventQuery& query) {
  if ((query.patient_id && query.patient_id->empty()) ||
      (query.account && query.account->empty())) {
    return Fail(ErrorCode::kInvalidArgument, "audit events: an empty patient or agent");
  }
  if (query.limit == 0)
    return Fail(ErrorCode::kInvalidArgument, "audit events: limit must be positive");
  if (query.from > query.to) {
    return Fail(ErrorCode::kInvalidArgument, "audit events: the date range is reversed");
  }
  if (!query.patient_id) {
    audit::Search search;
    search.by = query.account ? audit::Search::By::kAccount : audit::Search::By::kTime;
    search.key = query.account.value_or("");
    search.from = query.from;
    search.to = query.to;
    search.after_index = query.after_index;
    search.limit = query.limit;
    return log.Find(search);
  }
  if (!query.account) {
    return log.EntriesOfPatient(*query.patient_id, query.from, query.to, query.after_index,
                                query.limit);
  }
  // Both: the patient's entries, kept when that account made them, page after page until
  // `limit` of them are found or the patient's entries run out.
  std::vector<audit::Entry> found;
  std::optional<std::uint64_t> after = query.after_index;
  const std::size_t page = std::max<std::size_t>(query.limit, 100);
  while (found.size() < query.limit) {
    auto entries = log.EntriesOfPatient(*query.patient_id, query.from, query.to, after, page);
    if (!entries) return std::unexpected(entries.error());
    for (audit::Entry& entry : *entries) {
      if (entry.account == *query.account) {
        found.push_back(std::move(entry));
        if (found.size() == query.limit) break;
      }
    }
    if (entries->size() < page) break;
    after = entries->back().index;
  }
  return found;
}

}  // namespace medvault::records
