#include "http/dispatcher.h"

#include <fmt/format.h>

#include <atomic>
#include <future>
#include <memory>
#include <random>

#include "core/log.h"

namespace medvault::http {
namespace {

namespace field = beast_http;

constexpr std::string_view kContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'";
constexpr std::string_view kStrictTransportSecurity = "max-age=63072000; includeSubDomains";

// The OperationOutcome issue type for an HTTP status the router or server produces itself.
std::string_view IssueCodeFor(Status status) {
  switch (status) {
    case Status::not_found:
      return "not-found";
    case Status::method_not_allowed:
      return "not-supported";
    case Status::payload_too_large:
    case Status::request_header_fields_too_large:
      return "too-long";
    case Status::request_timeout:
      return "timeout";
    case Status::service_unavailable:
      return "transient";
    case Status::internal_server_error:
      return "exception";
    default:
      return "invalid";
  }
}

void LogAccess(const Response& response, std::string_view request_id, std::string_view method,
               std::string_view route, std::chrono::steady_clock::time_point started) {
  double duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::Info("request", {{"request_id", request_id},
                        {"method", method},
                        {"route", route},
                        {"status", static_cast<std::int64_t>(response.result_int())},
                        {"duration_ms", duration_ms}});
}

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

void ApplySecurityHeaders(Response& response) {
  response.set(field::field::strict_transport_security, kStrictTransportSecurity);
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set(field::field::x_frame_options, "DENY");
  response.set("Referrer-Policy", "no-referrer");
  response.set("Cross-Origin-Opener-Policy", "same-origin");
  response.set("Cross-Origin-Resource-Policy", "same-origin");
  if (response.find(field::field::cache_control) == response.end()) {
    response.set(field::field::cache_control, "no-store");
  }
  response.erase(field::field::server);
}

Response ErrorResponse(Status status, std::string_view issue_code, std::string_view diagnostics,
                       unsigned http_version) {
  Response response{status, http_version};
  response.set(field::field::content_type, "application/fhir+json");
  std::string body = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":)";
  log::AppendJsonString(body, issue_code);
  body += R"(,"diagnostics":)";
  log::AppendJsonString(body, diagnostics);
  body += "}]}";
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

namespace {

// One request being answered: what its handler may refer to until it responds.
struct Exchange {
  Request request;
  std::string peer;
  RequestContext context;
  std::string_view route = "-";  // for the access log
  std::chrono::steady_clock::time_point started;
  std::function<void(Response)> done;
};

// Gives the response the headers every response carries, logs it and hands it on.
void Finish(Exchange& exchange, Response response) {
  const Request& request = exchange.request;
  response.version(request.version());
  response.set("X-Request-Id", exchange.context.request_id);
  ApplySecurityHeaders(response);
  if (request.method() == Verb::head) {
    response.content_length(response.body().size());
    response.body().clear();
  } else {
    response.prepare_payload();
  }
  LogAccess(response, exchange.context.request_id, to_string(request.method()), exchange.route,
            exchange.started);
  exchange.done(std::move(response));
}

Response InternalError(const Exchange& exchange) {
  return ErrorResponse(Status::internal_server_error, IssueCodeFor(Status::internal_server_error),
                       fmt::format("internal error (request {})", exchange.context.request_id),
                       exchange.request.version());
}

// Shared by every copy of a handler's Respond: the first answer wins, and if the last copy
// goes away unanswered the client still gets a 500 instead of a hung connection.
class Responder {
 public:
  explicit Responder(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder() {
    if (answered_.exchange(true)) return;
    log::Error("handler_gave_no_answer",
               {{"request_id", exchange_->context.request_id}, {"route", exchange_->route}});
    Finish(*exchange_, InternalError(*exchange_));
  }

  void Answer(Response response) {
    if (answered_.exchange(true)) return;
    Finish(*exchange_, std::move(response));
  }

 private:
  std::shared_ptr<Exchange> exchange_;
  std::atomic<bool> answered_{false};
};

}  // namespace

void Dispatcher::HandleAsync(Request request, std::string peer,
                             std::chrono::steady_clock::time_point started,
                             std::function<void(Response)> done) const {
  auto exchange = std::make_shared<Exchange>();
  exchange->request = std::move(request);
  exchange->peer = std::move(peer);
  exchange->started = started;
  exchange->done = std::move(done);
  RequestContext& context = exchange->context;
  context.request_id = NewRequestId();
  context.peer = exchange->peer;
  const Request& message = exchange->request;
  Router::Match match = router_.Find(message.method(), message.target());
  switch (match.outcome) {
    case Router::Outcome::kNotFound:
      return Finish(*exchange, ErrorResponse(Status::not_found, IssueCodeFor(Status::not_found),
                                             "no such resource", message.version()));
    case Router::Outcome::kMethodNotAllowed: {
      exchange->route = match.route;
      Response response =
          ErrorResponse(Status::method_not_allowed, IssueCodeFor(Status::method_not_allowed),
                        "method not allowed on this resource", message.version());
      std::string allow;
      for (Verb verb : match.allowed) {
        if (!allow.empty()) allow += ", ";
        allow += std::string_view(to_string(verb));
      }
      response.set(field::field::allow, allow);
      return Finish(*exchange, std::move(response));
    }
    case Router::Outcome::kFound:
      break;
  }
  exchange->route = match.route;
  context.route = match.route;
  context.params = std::move(match.params);
  auto responder = std::make_shared<Responder>(exchange);
  try {
    (*match.handler)(message, context,
                     [responder](Response response) { responder->Answer(std::move(response)); });
  } catch (...) {
    // The exception's text may quote input: log only that it happened.
    log::Error("handler_exception", {{"request_id", context.request_id}, {"route", match.route}});
    responder->Answer(InternalError(*exchange));
  }
}

Response Dispatcher::Handle(const Request& request, std::string_view peer,
                            std::chrono::steady_clock::time_point started) const {
  std::promise<Response> answer;
  std::future<Response> response = answer.get_future();
  HandleAsync(request, std::string(peer), started,
              [&answer](Response finished) { answer.set_value(std::move(finished)); });
  return response.get();
}

Response Dispatcher::Reject(Status status, std::string_view reason, unsigned http_version,
                            std::chrono::steady_clock::time_point started) const {
  std::string request_id = NewRequestId();
  Response response = ErrorResponse(status, IssueCodeFor(status), reason, http_version);
  response.set("X-Request-Id", request_id);
  response.keep_alive(false);
  ApplySecurityHeaders(response);
  LogAccess(response, request_id, "-", "-", started);
  return response;
}

}  // namespace medvault::http
