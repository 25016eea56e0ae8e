#include "api/audit_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_internal.h"
#include "api/auth_request.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"
#include "audit/scope.h"
#include "audit/verifier.h"
#include "core/base64.h"
#include "policy/break_glass.h"
#include "records/key_report.h"

namespace medvault::api {
namespace {

namespace json = boost::json;
using fhir::Failure;
using fhir::FhirResult;
using fhir::IssueType;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Status;
using http::Verb;
namespace field = http::beast_http;

// Most entries one CSV export returns: beyond, the auditor narrows the query.
constexpr std::size_t kMaxExportedEntries = 200'000;
constexpr std::size_t kPage = 1000;

std::unexpected<fhir::Outcome> NoSuchEntry() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      "No audit entry with this index is available to you.");
}

std::unexpected<fhir::Outcome> Invalid(std::string expression, std::string why) {
  return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, std::move(expression),
                      std::move(why));
}

FhirResult<Timestamp> TimeParam(const std::map<std::string, std::string, std::less<>>& params,
                                std::string_view name, Timestamp otherwise) {
  auto it = params.find(name);
  if (it == params.end()) return otherwise;
  auto time = audit::ParseIsoTime(it->second);
  if (!time) {
    return Invalid(std::string(name),
                   "Times are ISO 8601 in UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z.");
  }
  return *time;
}

Response JsonResponse(const json::object& body, unsigned version) {
  Response response(Status::ok, version);
  response.set(field::field::content_type, "application/json");
  response.set(field::field::cache_control, "no-store");
  response.body() = json::serialize(body);
  response.prepare_payload();
  return response;
}

Response CsvResponse(std::string body, std::string_view filename, unsigned version) {
  Response response(Status::ok, version);
  response.set(field::field::content_type, "text/csv; charset=utf-8");
  response.set(field::field::cache_control, "no-store");
  response.set(field::field::content_disposition,
               fmt::format("attachment; filename=\"{}\"", filename));
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
void AppendField(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string Joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out.push_back(' ');
    out += value;
  }
  return out;
}

constexpr std::string_view kCsvHeader =
    "index,time,account,role,client,source,action,resource_type,resource_ids,patient_ids,"
    "purpose,reason,outcome\n";

void AppendRow(std::string& out, const audit::Entry& entry) {
  const std::string fields[] = {
      std::to_string(entry.index),
      Instant(entry.time),
      entry.account,
      std::string(audit::RoleName(entry.role)),
      entry.client,
      entry.source_address,
      std::string(audit::ActionName(entry.action)),
      entry.resource_type,
      Joined(entry.resource_ids),
      Joined(entry.patient_ids),
      std::string(audit::PurposeName(entry.purpose)),
      std::string(audit::ReasonName(entry.reason)),
      std::string(audit::OutcomeName(entry.outcome)),
  };
  bool first = true;
  for (const std::string& value : fields) {
    if (!first) out.push_back(',');
    first = false;
    AppendField(out, value);
  }
  out.push_back('\n');
}

class AuditRoutes : public std::enable_shared_from_this<AuditRoutes> {
 public:
  AuditRoutes(AuditServices services, AuditApiOptions options)
      : log_(services.log),
        decider_(services.decider),
        store_(services.store),
        emergency_access_(services.emergency_access),
        clock_(*services.clock),
        verifier_(std::move(services.verifier)),
        checkpoint_dir_(std::move(services.checkpoint_dir)),
        keys_(services.keys),
        key_place_(std::move(services.key_place)),
        authenticator_(services.sessions, services.clients, services.store),
        workers_(options.worker_threads) {}

  medvault::Status Add(http::Router& router);

 private:
  using Work = FhirResult<Response> (AuditRoutes::*)(const Request&, const RequestContext&);
  http::AsyncHandler OnWorker(Work work);

  FhirResult<Response> Proof(const Request& request, const RequestContext& context);
  FhirResult<Response> ExportCsv(const Request& request, const RequestContext& context);
  FhirResult<Response> Scope(const Request& request, const RequestContext& context);
  // GET /security/alerts: the security console's list (exfiltration guard, stuffing, ...).
  FhirResult<Response> Alerts(const Request& request, const RequestContext& context);
  // The break-the-glass review queue (records::EmergencyAccess).
  FhirResult<Response> BreakGlassQueue(const Request& request, const RequestContext& context);
  FhirResult<Response> ReviewBreakGlass(const Request& request, const RequestContext& context);
  // The security console: acknowledging an alert, the latest checkpoint, a verification run
  // and the key status.
  FhirResult<Response> AcknowledgeAlert(const Request& request, const RequestContext& context);
  FhirResult<Response> Checkpoint(const Request& request, const RequestContext& context);
  FhirResult<Response> Verify(const Request& request, const RequestContext& context);
  FhirResult<Response> Keys(const Request& request, const RequestContext& context);
  // The caller, when its role is one of `roles`; 403 with `refusal` otherwise.
  FhirResult<internal::Caller> CallerIn(const Request& request, const RequestContext& context,
                                        std::initializer_list<audit::Role> roles,
                                        std::string_view refusal);

  // The Decider's answer; a denial is 403 with the policy's reason.
  FhirResult<policy::PhiAccess> Authorize(const policy::Principal& principal,
                                          const policy::AccessRequest& request);
  // The entry at `index`, or nullopt when the log has none.
  FhirResult<std::optional<audit::Entry>> EntryAt(std::uint64_t index);
  // The latest stored checkpoint, or nullopt when none is signed yet.
  FhirResult<std::optional<store::AuditCheckpoint>> LatestCheckpoint();

  audit::AuditLog& log_;
  policy::Decider& decider_;
  store::Store& store_;
  records::EmergencyAccess* emergency_access_;
  const Clock& clock_;
  const std::optional<audit::NoteVerifier> verifier_;
  const std::filesystem::path checkpoint_dir_;
  records::SealedStore* keys_;
  const std::string key_place_;
  std::atomic<bool> verifying_{false};  // one verification at a time
  internal::Authenticator authenticator_;
  // Last: joined first, while what its tasks use is still there.
  internal::WorkerPool workers_;
};

http::AsyncHandler AuditRoutes::OnWorker(Work work) {
  return [this, self = shared_from_this(), work](
             const Request& request, const RequestContext& context, http::Respond respond) {
    workers_.Submit(
        request, context,
        [this, work, &request, &context] { return (this->*work)(request, context); },
        std::move(respond));
  };
}

FhirResult<policy::PhiAccess> AuditRoutes::Authorize(const policy::Principal& principal,
                                                     const policy::AccessRequest& request) {
  auto access = decider_.Authorize(principal, request);
  if (access) return std::move(*access);
  if (access.error().code() == ErrorCode::kPermissionDenied) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        std::string(access.error().message()));
  }
  return std::unexpected(fhir::OutcomeOf(access.error()));
}

FhirResult<std::optional<audit::Entry>> AuditRoutes::EntryAt(std::uint64_t index) {
  audit::Search search;
  search.by = audit::Search::By::kTime;
  search.limit = 1;
  if (index > 0) search.after_index = index - 1;
  auto found = log_.Find(search);
  if (!found) return std::unexpected(fhir::OutcomeOf(found.error()));
  if (found->empty() || found->front().index != index) return std::optional<audit::Entry>();
  return std::optional<audit::Entry>(std::move(found->front()));
}

FhirResult<std::optional<store::AuditCheckpoint>> AuditRoutes::LatestCheckpoint() {
  std::optional<store::AuditCheckpoint> latest;
  medvault::Status read = store_.Transact(
      [&](store::Transaction& tx) -> medvault::Status {
        std::int64_t after = -1;
        for (;;) {
          auto page = tx.ListAuditCheckpoints(after, 100);
          if (!page) return std::unexpected(page.error());
          if (page->empty()) return {};
          latest = std::move(page->back());
          after = latest->size;
          if (page->size() < 100) return {};
        }
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(fhir::OutcomeOf(read.error()));
  return latest;
}

FhirResult<Response> AuditRoutes::Proof(const Request& request, const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params)
    return std::unexpected(params.error());
  const std::string_view text = context.params.Get("index");
  std::uint64_t index = 0;
  const bool digits = !text.empty() && text.size() <= 19 &&
                      std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
  if (digits) index = std::stoull(std::string(text));
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  const policy::Principal& principal = caller->principal;
  if (!digits) return NoSuchEntry();

  auto entry = EntryAt(index);
  if (!entry) return std::unexpected(entry.error());
  // A patient asks about their own record: the entry must name them, and the decision names
  // only them. Anyone else is decided on the entry's patients.
  std::vector<std::string> patients;
  if (*entry) patients = (*entry)->patient_ids;
  const bool is_patient = principal.role == audit::Role::kPatient;
  if (is_patient) {
    const bool theirs = std::ranges::find(patients, principal.patient_id) != patients.end();
    patients = theirs ? std::vector<std::string>{principal.patient_id} : std::vector<std::string>{};
  }
  const std::string ids[] = {std::to_string(index)};
  const policy::AccessRequest request_read{policy::Operation::kRead, "AuditEvent", ids, patients};
  // Proofs are for the patient and auditors only. An API client whose scopes let it read
  // AuditEvents is refused here (nothing read, nothing to log); every other role goes to the
  // Decider, which refuses and logs the refusal.
  if (!is_patient && principal.role != audit::Role::kAuditor &&
      policy::Decider::Decide(principal, request_read)) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        "Inclusion proofs are given to the patient an entry names and to "
                        "auditors.");
  }
  auto access = Authorize(principal, request_read);
  if (!access) {
    // A patient is not told whether someone else's entry exists.
    if (is_patient && access.error().failure == Failure::kForbidden) return NoSuchEntry();
    return std::unexpected(access.error());
  }
  if (!*entry) return NoSuchEntry();

  auto checkpoint = LatestCheckpoint();
  if (!checkpoint) return std::unexpected(checkpoint.error());
  if (!*checkpoint || static_cast<std::uint64_t>((*checkpoint)->size) <= index) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "No signed checkpoint covers this entry yet: retry after the next "
                        "checkpoint (at most a minute).");
  }
  const auto size = static_cast<std::uint64_t>((*checkpoint)->size);
  auto path = log_.InclusionProof(index, size);
  if (!path) return std::unexpected(fhir::OutcomeOf(path.error()));
  audit::Hash leaf{};
  medvault::Status read = store_.Transact(
      [&](store::Transaction& tx) -> medvault::Status {
        auto node = audit::StoredNodes(tx)(0, index);
        if (!node) return std::unexpected(node.error());
        leaf = *node;
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(fhir::OutcomeOf(read.error()));

  json::object body;
  body["leaf_index"] = index;
  body["tree_size"] = size;
  body["leaf_hash"] = EncodeBase64(leaf, Base64Alphabet::kStandard);
  json::array audit_path;
  for (const audit::Hash& hash : *path) {
    audit_path.push_back(json::value(EncodeBase64(hash, Base64Alphabet::kStandard)));
  }
  body["audit_path"] = std::move(audit_path);
  body["checkpoint"] = (*checkpoint)->note;
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::ExportCsv(const Request& request, const RequestContext& context) {
  auto params = internal::QueryParams(request, {"account", "patient", "action", "from", "to"});
  if (!params) return std::unexpected(params.error());
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto from = TimeParam(*params, "from", Timestamp::min());
  if (!from) return std::unexpected(from.error());
  auto to = TimeParam(*params, "to", Timestamp::max());
  if (!to) return std::unexpected(to.error());
  if (*from > *to) return Invalid("to", "to must not be before from.");
  const auto param = [&](std::string_view name) -> std::optional<std::string> {
    auto it = params->find(name);
    if (it == params->end()) return std::nullopt;
    return it->second;
  };
  const auto account = param("account");
  const auto patient = param("patient");
  std::optional<audit::Action> action;
  if (auto name = param("action")) {
    action = audit::ActionFromName(*name);
    if (!action) return Invalid("action", "Not an action name (docs/api.md lists them).");
  }
  if ((account && account->empty()) || (patient && patient->empty())) {
    return Invalid("", "account and patient, when given, must not be empty.");
  }

  std::vector<std::string> patients;
  if (patient) patients.push_back(*patient);
  auto access =
      Authorize(caller->principal, {policy::Operation::kExport, "AuditEvent", {}, patients});
  if (!access) return std::unexpected(access.error());

  // The log answers one criterion; the others are checked on each entry.
  audit::Search search;
  if (patient) {
    search.by = audit::Search::By::kPatient;
    search.key = *patient;
  } else if (account) {
    search.by = audit::Search::By::kAccount;
    search.key = *account;
  } else if (action) {
    search.by = audit::Search::By::kAction;
    search.key = std::string(audit::ActionName(*action));
  }
  search.from = *from;
  search.to = *to;
  search.limit = kPage;
  std::string csv(kCsvHeader);
  std::size_t rows = 0;
  for (;;) {
    auto page = log_.Find(search);
    if (!page) return std::unexpected(fhir::OutcomeOf(page.error()));
    for (const audit::Entry& entry : *page) {
      if (account && entry.account != *account) continue;
      if (action && entry.action != *action) continue;
      if (patient && std::ranges::find(entry.patient_ids, *patient) == entry.patient_ids.end()) {
        continue;
      }
      if (++rows > kMaxExportedEntries) {
        return fhir::Refuse(Failure::kBusinessRule, IssueType::kTooCostly, "",
                            "More than 200000 entries match: narrow the query (from, to, "
                            "account, patient or action).");
      }
      AppendRow(csv, entry);
    }
    if (page->size() < kPage) break;
    search.after_index = page->back().index;
  }
  return CsvResponse(std::move(csv), "audit-entries.csv", request.version());
}

FhirResult<Response> AuditRoutes::Scope(const Request& request, const RequestContext& context) {
  auto params = internal::QueryParams(request, {"account", "from", "to", "format"});
  if (!params) return std::unexpected(params.error());
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  // The scope is a list of patients: only a session whose second factor is fresh.
  if (!caller->session ||
      !authenticator_.sessions().HasFreshSecondFactor(caller->session->record)) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        "This action needs a second factor from the last 5 minutes: step up "
                        "first (POST /auth/step-up/passkey or /auth/step-up/totp), then retry.");
  }
  const auto account = params->find("account");
  const auto from_param = params->find("from");
  const auto to_param = params->find("to");
  if (account == params->end() || account->second.empty() || from_param == params->end() ||
      to_param == params->end()) {
    return Invalid("", "The scope needs account, from and to.");
  }
  auto from = TimeParam(*params, "from", {});
  if (!from) return std::unexpected(from.error());
  auto to = TimeParam(*params, "to", {});
  if (!to) return std::unexpected(to.error());
  if (*to <= *from) return Invalid("to", "to must be after from.");
  bool csv = false;
  if (auto format = params->find("format"); format != params->end()) {
    if (format->second == "csv") {
      csv = true;
    } else if (format->second != "json") {
      return Invalid("format", "format is json (the default) or csv.");
    }
  }
  auto access = Authorize(caller->principal, {policy::Operation::kExport, "AuditEvent", {}, {}});
  if (!access) return std::unexpected(access.error());
  auto scope = audit::ComputeBreachScope(log_, account->second, *from, *to);
  if (!scope) return std::unexpected(fhir::OutcomeOf(scope.error()));

  if (csv) {
    std::string out = "patient_id,resource_type,count\n";
    for (const auto& [patient, by_type] : scope->patients) {
      for (const auto& [type, count] : by_type)
        out += fmt::format("{},{},{}\n", patient, type, count);
    }
    return CsvResponse(std::move(out), "scope.csv", request.version());
  }
  json::object body;
  body["account"] = account->second;
  body["from"] = Instant(*from);
  body["to"] = Instant(*to);
  json::array patients;
  for (const auto& [patient, by_type] : scope->patients) {
    json::object row;
    row["patient_id"] = patient;
    json::object types;
    for (const auto& [type, count] : by_type) types[type] = count;
    row["by_type"] = std::move(types);
    patients.push_back(std::move(row));
  }
  body["patients"] = std::move(patients);
  body["records"] = scope->records;
  body["entries"] = scope->entries;
  json::array categories;
  for (const std::string& type : scope->categories) categories.push_back(json::value(type));
  body["categories"] = std::move(categories);
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::Alerts(const Request& request, const RequestContext& context) {
  constexpr std::size_t kMaxAlerts = 1000;
  auto params = internal::QueryParams(request, {"after", "_count"});
  if (!params) return std::unexpected(params.error());
  auto caller = CallerIn(request, context, {audit::Role::kAdministrator, audit::Role::kAuditor},
                         "Security alerts are for administrators and auditors.");
  if (!caller) return std::unexpected(caller.error());
  const auto number = [&](std::string_view name, std::int64_t otherwise,
                          std::int64_t most) -> FhirResult<std::int64_t> {
    auto it = params->find(name);
    if (it == params->end()) return otherwise;
    std::int64_t value = -1;
    const std::string& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > most) {
      return Invalid(std::string(name), fmt::format("{} is a whole number from 0 to {}.", name, most));
    }
    return value;
  };
  auto after = number("after", 0, std::numeric_limits<std::int64_t>::max());
  if (!after) return std::unexpected(after.error());
  auto count = number("_count", 100, kMaxAlerts);
  if (!count) return std::unexpected(count.error());
  json::array alerts;
  if (*count > 0) {
    std::vector<store::Alert> listed;
    std::vector<store::AlertAck> acks;
    medvault::Status read = store_.Transact(
        [&](store::Transaction& tx) -> medvault::Status {
          auto page = tx.ListAlerts(*after, static_cast<std::size_t>(*count));
          if (!page) return std::unexpected(page.error());
          listed = std::move(*page);
          if (listed.empty()) return {};
          auto acknowledged = tx.ListAlertAcks(*after, listed.back().id);
          if (!acknowledged) return std::unexpected(acknowledged.error());
          acks = std::move(*acknowledged);
          return {};
        },
        store::Access::kReadOnly);
    if (!read) return std::unexpected(fhir::OutcomeOf(read.error()));
    auto ack = acks.begin();
    for (const store::Alert& alert : listed) {
      json::object row;
      row["id"] = alert.id;
      row["raised_at"] = Instant(alert.raised_at);
      row["kind"] = alert.kind;
      row["subject"] = alert.subject;
      row["detail"] = alert.detail;
      while (ack != acks.end() && ack->alert_id < alert.id) ++ack;
      if (ack != acks.end() && ack->alert_id == alert.id) {
        row["acknowledged_by"] = ack->acknowledged_by;
        row["acknowledged_at"] = Instant(ack->acknowledged_at);
      }
      alerts.push_back(std::move(row));
    }
  }
  json::object body;
  body["alerts"] = std::move(alerts);
  return JsonResponse(body, request.version());
}

std::unexpected<fhir::Outcome> NoSuchRoute() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      "This server does not serve the break-the-glass queue.");
}

FhirResult<Response> AuditRoutes::BreakGlassQueue(const Request& request,
                                                  const RequestContext& context) {
  constexpr std::size_t kMaxGrants = 500;
  auto params = internal::QueryParams(request, {"after", "_count"});
  if (!params) return std::unexpected(params.error());
  if (emergency_access_ == nullptr) return NoSuchRoute();
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  std::size_t count = 50;
  if (auto it = params->find("_count"); it != params->end()) {
    const std::string& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc() || end != text.data() + text.size() || count == 0 ||
        count > kMaxGrants) {
      return Invalid("_count", fmt::format("_count is a whole number from 1 to {}.", kMaxGrants));
    }
  }
  std::string after;
  if (auto it = params->find("after"); it != params->end()) {
    if (!IsValidId(it->second)) return Invalid("after", "after is the id of a listed grant.");
    after = it->second;
  }
  auto page = emergency_access_->ToReview(caller->principal, after, count);
  if (!page) return std::unexpected(page.error());
  json::array grants;
  for (const records::GrantToReview& row : page->grants) {
    json::object grant;
    grant["id"] = row.grant.id;
    grant["account"] = row.account_id;
    grant["patient_id"] = row.grant.patient_id;
    grant["reason"] = audit::ReasonName(row.grant.reason);
    grant["text"] = row.text;
    grant["granted_at"] = Instant(row.grant.granted_at);
    grant["expires_at"] = Instant(row.grant.expires_at);
    grant["reviewed"] = false;
    grants.push_back(std::move(grant));
  }
  json::object body;
  body["grants"] = std::move(grants);
  if (!page->next.empty()) body["next"] = page->next;
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::ReviewBreakGlass(const Request& request,
                                                   const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params)
    return std::unexpected(params.error());
  if (emergency_access_ == nullptr) return NoSuchRoute();
  const std::string_view id = context.params.Get("id");
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  static constexpr FieldRule kRules[] = {{"note", 4 * policy::kMaxBreakGlassTextBytes}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return Invalid("note", std::string(fields.error().message()));
  if (!IsValidId(id)) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "no break-the-glass grant is known by this id");
  }
  auto reviewed = emergency_access_->Review(caller->principal, id, fields->at("note"));
  if (!reviewed) return std::unexpected(reviewed.error());
  json::object body;
  body["id"] = std::string(id);
  body["reviewed"] = true;
  return JsonResponse(body, request.version());
}

FhirResult<internal::Caller> AuditRoutes::CallerIn(const Request& request,
                                                   const RequestContext& context,
                                                   std::initializer_list<audit::Role> roles,
                                                   std::string_view refusal) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  if (std::ranges::find(roles, caller->principal.role) == roles.end()) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", std::string(refusal));
  }
  return caller;
}

FhirResult<Response> AuditRoutes::AcknowledgeAlert(const Request& request,
                                                   const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params) {
    return std::unexpected(params.error());
  }
  auto caller = CallerIn(request, context, {audit::Role::kAdministrator, audit::Role::kAuditor},
                         "Security alerts are acknowledged by administrators and auditors.");
  if (!caller) return std::unexpected(caller.error());
  const std::string_view text = context.params.Get("id");
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  const std::unexpected<fhir::Outcome> unknown = fhir::Refuse(
      Failure::kNotFound, IssueType::kNotFound, "", "No alert has this id: GET /security/alerts.");
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return unknown;
  }
  const policy::Principal& principal = caller->principal;
  store::AlertAck kept;
  medvault::Status stored = store_.Transact([&](store::Transaction& tx) -> medvault::Status {
    auto ack = tx.AcknowledgeAlert({id, principal.account_id, clock_.Now()});
    if (!ack) return std::unexpected(ack.error());
    kept = std::move(*ack);
    return {};
  });
  if (!stored) {
    if (stored.error().code() == ErrorCode::kNotFound) return unknown;
    return std::unexpected(fhir::OutcomeOf(stored.error()));
  }
  // Fail-closed: the acknowledgement is answered only once the log holds it.
  audit::Entry entry;
  entry.account = principal.account_id;
  entry.role = principal.role;
  entry.client = principal.client;
  entry.source_address = principal.source_address;
  entry.action = audit::Action::kAcknowledge;
  entry.resource_type = "Alert";
  entry.resource_ids = {std::to_string(id)};
  entry.purpose = principal.role == audit::Role::kAuditor ? audit::Purpose::kAudit
                                                          : audit::Purpose::kAdministration;
  if (auto appended = log_.Append(std::move(entry)); !appended) {
    return std::unexpected(fhir::OutcomeOf(appended.error()));
  }
  json::object body;
  body["id"] = id;
  body["acknowledged_by"] = kept.acknowledged_by;
  body["acknowledged_at"] = Instant(kept.acknowledged_at);
  body["first"] = kept.acknowledged_by == principal.account_id;
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::Checkpoint(const Request& request,
                                             const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params) {
    return std::unexpected(params.error());
  }
  auto caller = CallerIn(request, context, {audit::Role::kAuditor, audit::Role::kAdministrator},
                         "The signed checkpoint is for auditors and administrators.");
  if (!caller) return std::unexpected(caller.error());
  auto latest = LatestCheckpoint();
  if (!latest) return std::unexpected(latest.error());
  if (!*latest) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "No checkpoint is signed yet: the server signs one every "
                        "audit.checkpoint_interval_seconds.");
  }
  const store::AuditCheckpoint& stored = **latest;
  json::object body;
  body["size"] = stored.size;
  body["signed_at"] = Instant(stored.signed_at);
  body["note"] = stored.note;
  // The signature line: "\u2014 <key name> <base64(key hash || signature)>".
  constexpr std::string_view kDash = "\xe2\x80\x94 ";
  if (auto at = stored.note.rfind(kDash); at != std::string::npos) {
    std::string_view line = std::string_view(stored.note).substr(at + kDash.size());
    if (auto newline = line.find('\n'); newline != std::string_view::npos) {
      line = line.substr(0, newline);
    }
    if (auto space = line.find(' '); space != std::string_view::npos) {
      body["key_name"] = std::string(line.substr(0, space));
      body["signature"] = std::string(line.substr(space + 1));
    }
  }
  if (verifier_) {
    body["key_id"] =
        fmt::format("{:08x}", audit::NoteKeyHash(verifier_->name, verifier_->public_key));
    body["verifier_key"] = audit::VerifierKeyText(*verifier_);
    auto opened = audit::OpenCheckpoint(stored.note, *verifier_);
    body["signature_valid"] = opened.has_value();
    if (opened) body["root"] = EncodeBase64(opened->root, Base64Alphabet::kStandard);
  }
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::Verify(const Request& request, const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params) {
    return std::unexpected(params.error());
  }
  auto caller = CallerIn(request, context, {audit::Role::kAuditor},
                         "Verifying the audit log is for auditors.");
  if (!caller) return std::unexpected(caller.error());
  if (!verifier_) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "This server does not verify its log over the API.");
  }
  if (verifying_.exchange(true)) {
    return fhir::Refuse(Failure::kUnavailable, IssueType::kTransient, "",
                        "A verification is running already: retry when it ends.");
  }
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done{verifying_};
  const auto started = std::chrono::steady_clock::now();
  auto files = audit::CheckpointFiles(checkpoint_dir_, std::nullopt);
  if (!files) return std::unexpected(fhir::OutcomeOf(files.error()));
  auto report = audit::VerifyLog(store_, *verifier_, *files);
  if (!report) return std::unexpected(fhir::OutcomeOf(report.error()));
  json::object body;
  body["intact"] = report->intact();
  body["summary"] = audit::VerifySummary(*report, *verifier_);
  body["entries"] = report->entries;
  body["checkpoints"] = report->checkpoints;
  body["largest_checkpoint"] = report->largest_checkpoint.value_or(0);
  body["root"] = EncodeBase64(report->root, Base64Alphabet::kStandard);
  if (report->first_bad_index) body["first_bad_index"] = *report->first_bad_index;
  if (!report->intact()) body["problem"] = report->problem;
  body["checked_at"] = Instant(clock_.Now());
  body["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return JsonResponse(body, request.version());
}

FhirResult<Response> AuditRoutes::Keys(const Request& request, const RequestContext& context) {
  if (auto params = internal::QueryParams(request, {}); !params) {
    return std::unexpected(params.error());
  }
  auto caller = CallerIn(request, context, {audit::Role::kAdministrator},
                         "The key status is for administrators.");
  if (!caller) return std::unexpected(caller.error());
  if (keys_ == nullptr) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "This server does not report its keys over the API.");
  }
  auto status = keys_->Keys();
  if (!status) return std::unexpected(fhir::OutcomeOf(status.error()));
  if (status->loaded_kek_versions.empty()) {
    return std::unexpected(fhir::OutcomeOf(Error(ErrorCode::kInternal, "no master key loaded")));
  }
  const std::uint32_t active = status->loaded_kek_versions.back();
  json::object body;
  body["place"] = key_place_;
  json::array loaded;
  for (std::uint32_t version : status->loaded_kek_versions) loaded.emplace_back(version);
  body["loaded_versions"] = std::move(loaded);
  body["active_version"] = active;
  body["marked_version"] = status->marked_kek_version;
  json::object wrapped;
  for (const auto& [key_id, count] : status->wraps_by_key_id) wrapped[key_id] = count;
  body["wrapped"] = std::move(wrapped);
  const std::size_t pending = records::PendingWraps(*status, active);
  body["pending_rewraps"] = pending;
  body["rotation_under_way"] = pending != 0 || status->loaded_kek_versions.size() > 1;
  json::array lines;
  for (std::string& line : records::KeyStatusLines(*status, key_place_)) {
    lines.emplace_back(std::move(line));
  }
  body["lines"] = std::move(lines);
  return JsonResponse(body, request.version());
}

medvault::Status AuditRoutes::Add(http::Router& router) {
  const struct {
    std::string_view path;
    Work work;
  } routes[] = {
      {"/audit/proof/{index}", &AuditRoutes::Proof},
      {"/audit/entries.csv", &AuditRoutes::ExportCsv},
      {"/audit/scope", &AuditRoutes::Scope},
      {"/security/alerts", &AuditRoutes::Alerts},
      {"/audit/checkpoint", &AuditRoutes::Checkpoint},
      {"/audit/verify", &AuditRoutes::Verify},
      {"/security/keys", &AuditRoutes::Keys},
  };
  for (const auto& route : routes) {
    if (auto s = router.AddAsync(Verb::get, route.path, OnWorker(route.work)); !s) return s;
  }
  if (auto s = router.AddAsync(Verb::get, "/audit/break-glass",
                               OnWorker(&AuditRoutes::BreakGlassQueue));
      !s) {
    return s;
  }
  if (auto s = router.AddAsync(Verb::post, "/audit/break-glass/{id}/$review",
                               OnWorker(&AuditRoutes::ReviewBreakGlass));
      !s) {
    return s;
  }
  return router.AddAsync(Verb::post, "/security/alerts/{id}/$acknowledge",
                         OnWorker(&AuditRoutes::AcknowledgeAlert));
}

}  // namespace

medvault::Status AddAuditRoutes(http::Router& router, AuditServices services,
                                AuditApiOptions options) {
  auto routes = std::make_shared<AuditRoutes>(std::move(services), options);
  return routes->Add(router);
}

}  // namespace medvault::api
