// The request pipeline inside the server, without sockets: route, run the handler, and
// finish every response the same way (security headers, request id, one access-log line),
// including the errors the connection layer detects itself (400, 413, 431). Because it
// needs no network it is unit-tested and fuzzed directly. Thread-safe once built.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "http/message.h"
#include "http/router.h"

namespace medvault::http {

class Dispatcher {
 public:
  explicit Dispatcher(Router router) : router_(std::move(router)) {}

  // Answers one request: `done` gets the finished response exactly once, on the thread that
  // completed it (the caller's for a synchronous handler, a worker's for an asynchronous one).
  // Never throws: a handler's exception, or an asynchronous handler that drops its Respond
  // without answering, becomes a 500 whose body names only the request id.
  void HandleAsync(Request request, std::string peer, std::chrono::steady_clock::time_point started,
                   std::function<void(Response)> done) const;

  // The same, waiting for the answer: for tests and the fuzzer, never on a network thread.
  Response Handle(const Request& request, std::string_view peer,
                  std::chrono::steady_clock::time_point started) const;

  // The answer to a request the connection layer refused before routing it.
  Response Reject(Status status, std::string_view reason, unsigned http_version,
                  std::chrono::steady_clock::time_point started) const;

 private:
  Router router_;
};

// Headers every response carries: HSTS, a strict CSP, nosniff, no referrer, and
// Cache-Control: no-store unless the handler marked the response cacheable (static assets).
void ApplySecurityHeaders(Response& response);

// A FHIR OperationOutcome body with one issue, for errors outside the FHIR API too.
Response ErrorResponse(Status status, std::string_view issue_code, std::string_view diagnostics,
                       unsigned http_version);

// 16 hex digits, unique enough to find one request in the logs; not a secret.
std::string NewRequestId();

}  // namespace medvault::http
