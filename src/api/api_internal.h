// What the FHIR API and the audit API share (internal to src/api): the bounded worker pool
// that runs store and audit work off the network threads, and the authentication of a
// request by session cookie or bearer token into a policy::Principal.
//
// Thread-safe. The pool's destructor waits for the tasks queued; it must not run on one of
// its own threads (handlers hold the owner, the router holds the handlers).
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/entry.h"
#include "fhir/outcome.h"
#include "http/router.h"
#include "identity/api_clients.h"
#include "identity/sessions.h"
#include "policy/decider.h"
#include "store/store.h"

namespace medvault::api::internal {

audit::Role RoleOf(identity::AccountKind kind);

// A request's failure as an OperationOutcome response (with WWW-Authenticate on 401).
http::Response FailureResponse(const fhir::Outcome& outcome, const http::Request& request);

// A request's query parameters, each at most once and each one of `allowed` (kInvalid
// otherwise, saying which).
using QueryParameters = std::map<std::string, std::string, std::less<>>;
fhir::FhirResult<QueryParameters> QueryParams(const http::Request& request,
                                              std::initializer_list<std::string_view> allowed);

// Runs handler bodies on a fixed number of threads; at most 256 requests per thread wait in
// line, beyond which the request is answered 503 (Retry-After: 2) at once.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  using Work = std::function<fhir::FhirResult<http::Response>()>;
  // Answers `respond` with what `work` returns, run on a worker: a failure becomes its
  // OperationOutcome, an exception a 500 (only the request id and route are logged).
  // `request` and `context` must stay valid until `respond` is called (the router's promise).
  void Submit(const http::Request& request, const http::RequestContext& context, Work work,
              http::Respond respond);

 private:
  boost::asio::thread_pool workers_;
  const std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
};

// The authenticated caller: the principal and, for a session, the session itself.
struct Caller {
  policy::Principal principal;
  std::optional<identity::ActiveSession> session;
};

class Authenticator {
 public:
  Authenticator(identity::Sessions& sessions, identity::ApiClients& clients, store::Store& store)
      : sessions_(sessions), clients_(clients), store_(store) {}

  // A session cookie (with X-CSRF-Token on state-changing requests) or a bearer token of an
  // API client. kUnauthenticated (401) when neither is valid; the store's failures otherwise.
  fhir::FhirResult<Caller> Authenticate(const http::Request& request,
                                        const http::RequestContext& context);

  identity::Sessions& sessions() { return sessions_; }

 private:
  Result<std::string> OrganizationOf(const std::string& client_id);
  // A staff account's Practitioner and Organization (empty ones when it is not linked) and
  // the sensitive categories it may see (policy/sensitive.h).
  struct StaffLink {
    store::AccountLink link;
    std::vector<std::string> sensitive_categories;
  };
  Result<StaffLink> LinkOf(const std::string& account_id);

  identity::Sessions& sessions_;
  identity::ApiClients& clients_;
  store::Store& store_;
  std::mutex organizations_mutex_;
  std::map<std::string, std::string, std::less<>> organizations_;
};

}  // namespace medvault::api::internal
