#include "http/dispatcher.h"

#include <fmt/format.h>

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
    case Status::not_found: return "not-found";
    case Status::method_not_allowed: return "not-supported";
    case Status::payload_too_large:
    case Status::request_header_fields_too_large: return "too-long";
    case Status::request_timeout: return "timeout";
    case Status::service_unavailable: return "transient";
    case Status::internal_server_error: return "exception";
    default: return "invalid";
  }
}

void LogAccess(const Response& response, std::string_view request_id, std::string_view method,
               std::string_view route, std::chrono::steady_clock::time_point started) {
  double duration_ms = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - started).count();
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

Response Dispatcher::Handle(const Request& request, std::string_view peer,
                            std::chrono::steady_clock::time_point started) const {
  RequestContext context;
  context.request_id = NewRequestId();
  context.peer = peer;
  Router::Match match = router_.Find(request.method(), request.target());
  Response response;
  std::string_view route = match.outcome == Router::Outcome::kNotFound ? "-" : match.route;
  switch (match.outcome) {
    case Router::Outcome::kNotFound:
      response = ErrorResponse(Status::not_found, IssueCodeFor(Status::not_found),
                               "no such resource", request.version());
      break;
    case Router::Outcome::kMethodNotAllowed: {
      response = ErrorResponse(Status::method_not_allowed, IssueCodeFor(Status::method_not_allowed),
                               "method not allowed on this resource", request.version());
      std::string allow;
      for (Verb verb : match.allowed) {
        if (!allow.empty()) allow += ", ";
        allow += std::string_view(to_string(verb));
      }
      response.set(field::field::allow, allow);
      break;
    }
    case Router::Outcome::kFound:
      context.route = match.route;
      context.params = std::move(match.params);
      try {
        response = (*match.handler)(request, context);
      } catch (...) {
        // The exception's text may quote input: log only that it happened.
        log::Error("handler_exception", {{"request_id", context.request_id}, {"route", route}});
        response = ErrorResponse(Status::internal_server_error,
                                 IssueCodeFor(Status::internal_server_error),
                                 fmt::format("internal error (request {})", context.request_id),
                                 request.version());
      }
      break;
  }
  response.version(request.version());
  response.set("X-Request-Id", context.request_id);
  ApplySecurityHeaders(response);
  if (request.method() == Verb::head) {
    response.content_length(response.body().size());
    response.body().clear();
  } else {
    response.prepare_payload();
  }
  LogAccess(response, context.request_id, to_string(request.method()), route, started);
  return response;
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
