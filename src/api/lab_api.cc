#include "api/lab_api.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <memory>
#include <string>

#include "api/api_internal.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"
#include "fhir/resource.h"
#include "fhir/search.h"

namespace medvault::api {
namespace {

namespace json = boost::json;
using fhir::Failure;
using fhir::FhirResult;
using fhir::IssueType;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Verb;

constexpr std::size_t kMaxFixedMessageBytes = 4 * 1024 * 1024;

std::unexpected<fhir::Outcome> Invalid(std::string expression, std::string why) {
  return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, std::move(expression),
                      std::move(why));
}

std::unexpected<fhir::Outcome> Failed(const Error& error) {
  if (error.code() == ErrorCode::kPermissionDenied) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", error.message());
  }
  if (error.code() == ErrorCode::kNotFound) {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "No quarantined message with this id.");
  }
  return std::unexpected(fhir::OutcomeOf(error));
}

json::object SummaryJson(const records::QuarantineSummary& summary) {
  json::object out;
  out["id"] = summary.id;
  out["received_at"] = Instant(summary.received_at);
  out["updated_at"] = Instant(summary.updated_at);
  out["state"] = summary.state;
  out["condition"] = summary.condition;
  out["error"] = summary.error;
  out["version"] = summary.version;
  return out;
}

// A list's page and count (`?page=CURSOR&count=N`, both optional; N from 1 to 200).
struct Paging {
  std::string page;
  std::size_t count = 0;
};

FhirResult<Paging> PagingOf(const Request& request, std::size_t default_count) {
  auto params = ParamsOf(request, {"page", "count"});
  if (!params) return std::unexpected(params.error());
  Paging paging{.page = {}, .count = default_count};
  if (auto page = params->find("page"); page != params->end()) paging.page = page->second;
  if (auto count = params->find("count"); count != params->end()) {
    const std::string& value = count->second;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), paging.count);
    if (ec != std::errc() || end != value.data() + value.size() || paging.count == 0) {
      return Invalid("count", "count is a positive integer (at most 200).");
    }
  }
  return paging;
}

// The test a report is for: its code's text, else the first coding's display, else its code.
json::object TestOf(const json::object& report) {
  json::object test;
  const json::object* code = report.if_contains("code") ? report.at("code").if_object() : nullptr;
  if (code == nullptr) return test;
  const json::value* codings = code->if_contains("coding");
  const json::object* coding =
      codings != nullptr && codings->is_array() && !codings->as_array().empty()
          ? codings->as_array().front().if_object()
          : nullptr;
  const auto text_at = [](const json::object* object, std::string_view key) -> std::string {
    const json::value* found = object != nullptr ? object->if_contains(key) : nullptr;
    return found != nullptr && found->is_string() ? std::string(found->as_string()) : "";
  };
  test["code"] = text_at(coding, "code");
  test["system"] = text_at(coding, "system");
  std::string name = text_at(code, "text");
  if (name.empty()) name = text_at(coding, "display");
  if (name.empty()) name = text_at(coding, "code");
  test["name"] = std::move(name);
  return test;
}

class LabRoutes : public std::enable_shared_from_this<LabRoutes> {
 public:
  explicit LabRoutes(LabServices services)
      : ingest_(services.ingest),
        records_(services.records),
        feed_client_(services.feed_client),
        authenticator_(services.sessions, services.clients, services.store),
        workers_(2) {}

  medvault::Status Add(http::Router& router);

 private:
  using Work = FhirResult<Response> (LabRoutes::*)(const Request&, const RequestContext&);
  http::AsyncHandler OnWorker(Work work) {
    return [this, self = shared_from_this(), work](
               const Request& request, const RequestContext& context, http::Respond respond) {
      workers_.Submit(
          request, context,
          [this, work, &request, &context] { return (this->*work)(request, context); },
          std::move(respond));
    };
  }

  FhirResult<Response> List(const Request& request, const RequestContext& context);
  FhirResult<Response> Worklist(const Request& request, const RequestContext& context);
  FhirResult<Response> Read(const Request& request, const RequestContext& context);
  FhirResult<Response> Fix(const Request& request, const RequestContext& context);
  FhirResult<Response> Replay(const Request& request, const RequestContext& context);

  records::LabIngest& ingest_;
  records::ClinicalRecords& records_;
  const std::optional<policy::Principal>& feed_client_;
  internal::Authenticator authenticator_;
  // Last: joined first, while what its tasks use is still there.
  internal::WorkerPool workers_;
};

FhirResult<Response> LabRoutes::List(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto paging = PagingOf(request, 50);
  if (!paging) return std::unexpected(paging.error());
  const auto& [page, count] = *paging;
  auto listed = ingest_.ListQuarantine(caller->principal, page, count);
  if (!listed) return Failed(listed.error());
  json::array messages;
  for (const records::QuarantineSummary& summary : listed->messages) {
    messages.push_back(SummaryJson(summary));
  }
  json::object body;
  body["messages"] = std::move(messages);
  if (!listed->next_page.empty()) body["next_page"] = listed->next_page;
  return FhirJson(http::Status::ok, body, request.version());
}

FhirResult<Response> LabRoutes::Worklist(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto paging = PagingOf(request, 20);
  if (!paging) return std::unexpected(paging.error());
  if (paging->count > fhir::kMaxCount) {
    return Invalid("count", "count is a positive integer (at most 100).");
  }
  auto listed = records_.Worklist(caller->principal, paging->count, paging->page);
  if (!listed) return std::unexpected(listed.error());
  json::array reports;
  for (const records::WorklistEntry& entry : listed->entries) {
    const json::object& report = *entry.report.resource;
    json::object item;
    item["id"] = entry.report.id;
    item["status"] = report.contains("status") ? report.at("status") : json::value("");
    const std::string patient = fhir::PatientReferenceOf(report).value_or("");
    item["patient_id"] = patient.find('/') == std::string::npos ? patient : "";
    item["patient_name"] = entry.patient_name;
    item["test"] = TestOf(report);
    item["received_at"] = Instant(entry.received_at);
    if (const json::value* effective = report.if_contains("effectiveDateTime")) {
      item["collected_at"] = *effective;
    }
    item["abnormal"] = entry.abnormal;
    reports.push_back(std::move(item));
  }
  json::object body;
  body["reports"] = std::move(reports);
  body["total"] = listed->total;
  if (!listed->next_page.empty()) body["next_page"] = listed->next_page;
  auto response = FhirJson(http::Status::ok, body, request.version());
  if (auto admitted = records_.AdmitAnswer(caller->principal, response.body().size()); !admitted) {
    return std::unexpected(admitted.error());
  }
  return response;
}

FhirResult<Response> LabRoutes::Read(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  records::QuarantineSummary summary;
  auto text = ingest_.ReadQuarantined(caller->principal, context.params.Get("id"), &summary);
  if (!text) return Failed(text.error());
  json::object body = SummaryJson(summary);
  body["message"] = std::move(*text);
  return FhirJson(http::Status::ok, body, request.version());
}

FhirResult<Response> LabRoutes::Fix(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  if (request.body().size() > kMaxFixedMessageBytes) {
    return fhir::Refuse(Failure::kTooLarge, IssueType::kTooCostly, "", "The message is too large.");
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.body(), ec);
  const json::object* object = ec ? nullptr : body.if_object();
  const json::value* message = object ? object->if_contains("message") : nullptr;
  const json::value* version = object ? object->if_contains("version") : nullptr;
  if (message == nullptr || !message->is_string() || version == nullptr || !version->is_int64() ||
      object->size() != 2) {
    return Invalid("", "The body is {\"message\": TEXT, \"version\": N}, N the version read.");
  }
  auto fixed = ingest_.FixQuarantined(caller->principal, context.params.Get("id"),
                                      message->as_string(), version->as_int64());
  if (!fixed) return Failed(fixed.error());
  records::QuarantineSummary summary;
  auto text = ingest_.ReadQuarantined(caller->principal, context.params.Get("id"), &summary);
  if (!text) return Failed(text.error());
  return FhirJson(http::Status::ok, SummaryJson(summary), request.version());
}

FhirResult<Response> LabRoutes::Replay(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  if (!feed_client_) {
    return fhir::Refuse(Failure::kConflict, IssueType::kBusinessRule, "",
                        "No lab feed is configured (lab.client_id): nothing to replay as.");
  }
  policy::Principal client = *feed_client_;
  client.source_address = caller->principal.source_address;
  auto answer = ingest_.Replay(caller->principal, context.params.Get("id"), client);
  if (!answer) return Failed(answer.error());
  json::object body;
  body["ack_code"] = std::string(lab::AckCodeName(answer->code));
  body["ack"] = answer->ack;
  body["state"] = answer->code == lab::AckCode::kAccept ? "replayed" : "held";
  return FhirJson(http::Status::ok, body, request.version());
}

medvault::Status LabRoutes::Add(http::Router& router) {
  const struct {
    Verb verb;
    std::string_view path;
    Work work;
  } routes[] = {
      {Verb::get, "/lab/worklist", &LabRoutes::Worklist},
      {Verb::get, "/lab/quarantine", &LabRoutes::List},
      {Verb::get, "/lab/quarantine/{id}", &LabRoutes::Read},
      {Verb::put, "/lab/quarantine/{id}", &LabRoutes::Fix},
      {Verb::post, "/lab/quarantine/{id}/$replay", &LabRoutes::Replay},
  };
  for (const auto& route : routes) {
    if (auto s = router.AddAsync(route.verb, route.path, OnWorker(route.work)); !s) return s;
  }
  return {};
}

}  // namespace

medvault::Status AddLabRoutes(http::Router& router, LabServices services) {
  auto routes = std::make_shared<LabRoutes>(services);
  return routes->Add(router);
}

}  // namespace medvault::api
