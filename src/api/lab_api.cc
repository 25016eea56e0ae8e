#include "api/lab_api.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <memory>
#include <string>

#include "api/api_internal.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"

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

class LabRoutes : public std::enable_shared_from_this<LabRoutes> {
 public:
  explicit LabRoutes(LabServices services)
      : ingest_(services.ingest),
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
  FhirResult<Response> Read(const Request& request, const RequestContext& context);
  FhirResult<Response> Fix(const Request& request, const RequestContext& context);
  FhirResult<Response> Replay(const Request& request, const RequestContext& context);

  records::LabIngest& ingest_;
  const std::optional<policy::Principal>& feed_client_;
  internal::Authenticator authenticator_;
  // Last: joined first, while what its tasks use is still there.
  internal::WorkerPool workers_;
};

FhirResult<Response> LabRoutes::List(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  std::string page;
  std::size_t count = 50;
  std::string_view rest = *query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "page") {
      page = std::string(value);
    } else if (key == "count") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (ec != std::errc() || end != value.data() + value.size() || count == 0) {
        return Invalid("count", "count is a positive integer (at most 200).");
      }
    } else {
      return Invalid("", "The quarantine list takes page and count only.");
    }
  }
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
