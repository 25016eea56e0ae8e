// libFuzzer target for the request path: the bytes a client sends go through Beast's request
// parser with the server's limits and then through the Dispatcher and Router, the way
// src/http/server.cc drives them, minus the sockets. Pipelined requests are answered in turn
// while the connection would stay open. Every input is also looked up as a raw request
// target. A broken invariant aborts, so libFuzzer and the ctest replay both report it.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/log.h"
#include "http/dispatcher.h"
#include "http/health.h"
#include "http/router.h"

namespace {

using medvault::http::Dispatcher;
using medvault::http::Request;
using medvault::http::RequestContext;
using medvault::http::Response;
using medvault::http::RouteParams;
using medvault::http::Router;
using medvault::http::Status;
using medvault::http::Verb;
namespace beast_http = medvault::http::beast_http;

// The server's default header limit; a body limit small enough that 413 is reachable.
const std::size_t kMaxHeaderBytes = medvault::ServerConfig{}.max_header_bytes;
constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;
// Bounds the work one input can cause, like the server's bounded read-ahead.
constexpr int kMaxPipelinedRequests = 16;

constexpr std::string_view kParameterNames[] = {"type", "id", "vid"};
constexpr std::string_view kRoutes[] = {
    "/healthz",     "/readyz",           "/fhir/metadata",
    "/fhir/{type}", "/fhir/{type}/{id}", "/fhir/{type}/{id}/_history/{vid}",
};

void Require(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "invariant violated: %s\n", invariant);
  __builtin_trap();
}

// A route parameter is exactly one path segment: never empty, never a dot segment.
void CheckParams(std::string_view route, const RouteParams& params) {
  std::size_t found = 0;
  for (std::string_view name : kParameterNames) {
    std::string_view value = params.Get(name);
    if (route.find(std::string("{") + std::string(name) + "}") == std::string_view::npos) {
      Require(value.empty(), "no parameter the template lacks");
      continue;
    }
    ++found;
    Require(!value.empty(), "parameters are not empty");
    Require(value.find('/') == std::string_view::npos, "parameters contain no '/'");
    Require(value.find('?') == std::string_view::npos, "parameters contain no query");
    Require(value != "." && value != "..", "parameters are not dot segments");
  }
  Require(params.size() == found, "one value per template parameter");
}

bool IsKnownRoute(std::string_view route) {
  for (std::string_view known : kRoutes) {
    if (route == known) return true;
  }
  return false;
}

// Stands in for the FHIR handlers: answers with what the router extracted, escaped as JSON.
Response Echo(Status status, const Request& request, const RequestContext& context) {
  Require(IsKnownRoute(context.route), "handlers see a known template");
  CheckParams(context.route, context.params);
  Response response{status, request.version()};
  if (status == Status::no_content) return response;
  response.set(beast_http::field::content_type, "application/fhir+json");
  std::string body = R"({"route":)";
  medvault::log::AppendJsonString(body, context.route);
  for (std::string_view name : kParameterNames) {
    body += ",";
    medvault::log::AppendJsonString(body, name);
    body += ":";
    medvault::log::AppendJsonString(body, context.params.Get(name));
  }
  body += R"(,"request_bytes":)" + std::to_string(request.body().size()) + "}";
  response.body() = std::move(body);
  return response;
}

Router MakeRouter() {
  Router router;
  auto add = [&router](Verb verb, std::string_view path, Status status) {
    auto added =
        router.Add(verb, path, [status](const Request& request, const RequestContext& context) {
          return Echo(status, request, context);
        });
    Require(added.has_value(), "fuzz routes are valid");
  };
  add(Verb::get, "/fhir/metadata", Status::ok);
  add(Verb::get, "/fhir/{type}", Status::ok);
  add(Verb::post, "/fhir/{type}", Status::created);
  add(Verb::get, "/fhir/{type}/{id}", Status::ok);
  add(Verb::put, "/fhir/{type}/{id}", Status::ok);
  add(Verb::delete_, "/fhir/{type}/{id}", Status::no_content);
  add(Verb::get, "/fhir/{type}/{id}/_history/{vid}", Status::ok);
  Require(AddHealthRoutes(router, [] { return medvault::Status{}; }).has_value(),
          "health routes are valid");
  return router;
}

const Dispatcher& TheDispatcher() {
  static const Dispatcher* dispatcher = [] {
    medvault::log::SetEnabled(false);
    return new Dispatcher(MakeRouter());
  }();
  return *dispatcher;
}

bool StatusIn(Status status, std::initializer_list<Status> allowed) {
  for (Status one : allowed) {
    if (status == one) return true;
  }
  return false;
}

// Feeds `bytes` to `parser` as the server's reads would, through the body. Returns the bytes
// used; `ec` is need_more when the input ended inside a message.
template <class Parser>
std::size_t Feed(Parser& parser, std::string_view bytes, boost::beast::error_code& ec) {
  std::size_t used = 0;
  while (!parser.is_done()) {
    std::size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec && ec != beast_http::error::need_more) break;
    if (n == 0) {
      // Inside a body, put() takes nothing from an empty buffer without asking for more.
      ec = beast_http::error::need_more;
      break;
    }
  }
  return used;
}

// What every answer satisfies, whether the dispatcher routed the request or refused it.
void CheckResponse(const Response& response, bool head) {
  Require(response["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'",
          "Content-Security-Policy is strict");
  Require(!response[beast_http::field::strict_transport_security].empty(),
          "Strict-Transport-Security is set");
  Require(response["X-Content-Type-Options"] == "nosniff", "X-Content-Type-Options is nosniff");
  Require(!response[beast_http::field::cache_control].empty(), "Cache-Control is set");
  Require(response["X-Request-Id"].size() == 16, "X-Request-Id is set");
  Require(response.find(beast_http::field::server) == response.end(), "no Server header");
  Require(response.version() == 10 || response.version() == 11, "answers speak HTTP/1.x");
  Require(!head || response.body().empty(), "HEAD answers have no body");
  Require(StatusIn(response.result(),
                   {Status::ok, Status::created, Status::no_content, Status::bad_request,
                    Status::not_found, Status::method_not_allowed, Status::payload_too_large,
                    Status::request_header_fields_too_large}),
          "status is one the routes and limits produce");

  // What goes on the wire parses back as the same response.
  std::ostringstream wire;
  wire << response;
  std::string bytes = wire.str();
  beast_http::response_parser<beast_http::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(head);
  boost::beast::error_code ec;
  Feed(parser, bytes, ec);
  if (!parser.is_done() && ec == beast_http::error::need_more) parser.put_eof(ec);
  Require(!ec && parser.is_done(), "the serialized response parses");
  Require(parser.get().result() == response.result(), "the serialized status survives");
  Require(parser.get().body() == response.body(), "the serialized body survives");
}

// The server's mapping of parse failures (Session::ReadFailed); nothing when it would close
// the connection without an answer (the input ended inside a request).
std::optional<Status> RejectStatus(const boost::beast::error_code& ec) {
  if (ec == beast_http::error::header_limit || ec == beast_http::error::buffer_overflow) {
    return Status::request_header_fields_too_large;
  }
  if (ec == beast_http::error::body_limit) return Status::payload_too_large;
  if (ec == beast_http::error::need_more || ec == beast_http::error::end_of_stream ||
      ec == beast_http::error::partial_message) {
    return std::nullopt;
  }
  return Status::bad_request;
}

void ServeConnection(std::string_view input) {
  const Dispatcher& dispatcher = TheDispatcher();
  for (int served = 0; served < kMaxPipelinedRequests && !input.empty(); ++served) {
    auto started = std::chrono::steady_clock::now();
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    parser.body_limit(kMaxBodyBytes);
    boost::beast::error_code ec;
    input.remove_prefix(Feed(parser, input, ec));
    if (ec) {
      std::optional<Status> status = RejectStatus(ec);
      if (!status) return;
      unsigned version = parser.is_header_done() ? parser.get().version() : 11;
      CheckResponse(dispatcher.Reject(*status, "refused", version, started), false);
      return;
    }
    Request request = parser.release();
    Response response = dispatcher.Handle(request, "192.0.2.1:4242", started);
    CheckResponse(response, request.method() == Verb::head);
    if (!response.keep_alive() || !request.keep_alive()) return;
  }
}

void FindRawTarget(std::string_view target) {
  static const Router router = MakeRouter();
  for (Verb verb : {Verb::get, Verb::head, Verb::patch}) {
    Router::Match match = router.Find(verb, target);
    if (match.outcome == Router::Outcome::kNotFound) {
      Require(match.handler == nullptr && match.params.size() == 0, "a miss carries nothing");
      continue;
    }
    Require(IsKnownRoute(match.route), "a match names a known template");
    Require((match.outcome == Router::Outcome::kFound) == (match.handler != nullptr),
            "a handler exactly when found");
    Require(match.outcome == Router::Outcome::kFound || !match.allowed.empty(),
            "405 lists the allowed methods");
    CheckParams(match.route, match.params);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ServeConnection(input);
  FindRawTarget(input);
  return 0;
}
