#include "api/api_internal.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <utility>

#include "api/auth_api.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"
#include "api/request_source.h"
#include "core/log.h"

namespace medvault::api::internal {
namespace {

using fhir::Failure;
using fhir::FhirResult;
using fhir::IssueType;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Verb;
namespace field = http::beast_http;

// Requests queued per worker thread before the API answers 503: the queue stays bounded
// when the store slows down.
constexpr std::size_t kQueuedPerWorker = 256;
// API client ids whose Organization is remembered (clients are few; the cache is cleared when
// full rather than grown).
constexpr std::size_t kMaxCachedClients = 1024;

constexpr std::string_view kNoCredentials =
    "This request needs a session (log in at /auth/login) or an access token (Authorization: "
    "Bearer, from /auth/token).";
constexpr std::string_view kBadCredentials =
    "The session or access token is not valid (expired, ended or unknown): log in again or get "
    "a new token.";

bool IsStateChanging(const Request& request) {
  return request.method() != Verb::get && request.method() != Verb::head;
}

}  // namespace

fhir::FhirResult<QueryParameters> QueryParams(const http::Request& request,
                                              std::initializer_list<std::string_view> allowed) {
  const auto invalid = [](std::string expression, std::string why) {
    return fhir::Refuse(fhir::Failure::kInvalid, fhir::IssueType::kInvalid, std::move(expression),
                        std::move(why));
  };
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  QueryParameters params;
  if (query->empty()) return params;
  const std::string target = "/?" + *query;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return invalid("", "The query string is not well formed.");
  for (const auto& param : url->params()) {
    if (std::ranges::find(allowed, std::string_view(param.key)) == allowed.end()) {
      return invalid("",
                     "The query has a parameter this endpoint does not take (docs/api.md "
                     "lists them).");
    }
    if (!params.emplace(param.key, param.value).second) {
      return invalid(param.key, "A parameter appears twice.");
    }
  }
  return params;
}

audit::Role RoleOf(identity::AccountKind kind) {
  switch (kind) {
    case identity::AccountKind::kPatient:
      return audit::Role::kPatient;
    case identity::AccountKind::kClinician:
      return audit::Role::kClinician;
    case identity::AccountKind::kLabTechnician:
      return audit::Role::kLabTechnician;
    case identity::AccountKind::kAdministrator:
      return audit::Role::kAdministrator;
    case identity::AccountKind::kAuditor:
      return audit::Role::kAuditor;
  }
  return audit::Role::kNone;
}

Response FailureResponse(const fhir::Outcome& outcome, const Request& request) {
  Response response = OutcomeResponse(outcome, request.version());
  if (outcome.failure == Failure::kUnauthenticated) {
    const auto bearer = BearerTokenOf(request);
    response.set(field::field::www_authenticate,
                 bearer ? "Bearer realm=\"medvault\", error=\"invalid_token\""
                        : "Bearer realm=\"medvault\"");
  }
  return response;
}

WorkerPool::WorkerPool(std::size_t threads)
    : workers_(std::max<std::size_t>(1, threads)),
      max_queued_(kQueuedPerWorker * std::max<std::size_t>(1, threads)) {}

WorkerPool::~WorkerPool() { workers_.join(); }

void WorkerPool::Submit(const Request& request, const RequestContext& context, Work work,
                        http::Respond respond) {
  if (queued_.fetch_add(1) >= max_queued_) {
    queued_.fetch_sub(1);
    Response busy = OutcomeResponse(fhir::Refuse(Failure::kUnavailable, IssueType::kTransient, "",
                                                 "The server is busy: retry in a few seconds.")
                                        .error(),
                                    request.version());
    busy.set(field::field::retry_after, "2");
    respond(std::move(busy));
    return;
  }
  boost::asio::post(workers_, [this, work = std::move(work), &request, &context,
                               respond = std::move(respond)]() mutable {
    queued_.fetch_sub(1);
    std::optional<Response> answer;
    try {
      auto result = work();
      answer = result ? std::move(*result) : FailureResponse(result.error(), request);
    } catch (...) {
      // An exception's text may quote the request; only the request id is logged. Nothing may
      // escape: this runs on a worker thread.
      log::Error("api_handler_failed",
                 {{"request_id", std::string_view(context.request_id)}, {"route", context.route}});
      answer = OutcomeResponse(fhir::Refuse(Failure::kInternal, IssueType::kException, "",
                                            "Internal error: the request id in the logs tells "
                                            "the operators more.")
                                   .error(),
                               request.version());
    }
    respond(std::move(*answer));
  });
}

Result<std::string> Authenticator::OrganizationOf(const std::string& client_id) {
  {
    std::lock_guard lock(organizations_mutex_);
    if (auto it = organizations_.find(client_id); it != organizations_.end()) return it->second;
  }
  std::string organization;
  medvault::Status read = store_.Transact(
      [&](store::Transaction& tx) -> medvault::Status {
        auto client = tx.GetApiClient(client_id);
        if (!client) return std::unexpected(client.error());
        organization = client->organization;
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  std::lock_guard lock(organizations_mutex_);
  if (organizations_.size() >= kMaxCachedClients) organizations_.clear();
  organizations_.emplace(client_id, organization);
  return organization;
}

Result<Authenticator::StaffLink> Authenticator::LinkOf(const std::string& account_id) {
  StaffLink staff;
  medvault::Status read = store_.Transact(
      [&](store::Transaction& tx) -> medvault::Status {
        staff = {};
        auto grants = tx.ListSensitiveGrants(account_id);
        if (!grants) return std::unexpected(grants.error());
        for (store::SensitiveGrant& grant : *grants) {
          staff.sensitive_categories.push_back(std::move(grant.category));
        }
        auto found = tx.GetAccountLink(account_id);
        if (!found) {
          if (found.error().code() == ErrorCode::kNotFound) return {};  // not linked
          return std::unexpected(found.error());
        }
        staff.link = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return staff;
}

FhirResult<Caller> Authenticator::Authenticate(const Request& request,
                                               const RequestContext& context) {
  const auto unauthenticated = [](std::string_view why) {
    return fhir::Refuse(Failure::kUnauthenticated, IssueType::kLogin, "", std::string(why));
  };
  if (const auto bearer = BearerTokenOf(request)) {
    if (bearer->empty()) return unauthenticated(kBadCredentials);
    auto grant = clients_.Authenticate(*bearer);
    if (!grant) {
      if (grant.error().code() == ErrorCode::kPermissionDenied) {
        return unauthenticated(kBadCredentials);
      }
      return std::unexpected(fhir::OutcomeOf(grant.error()));
    }
    auto scopes = identity::ParseSmartScopes(grant->scopes);
    if (!scopes) return unauthenticated(kBadCredentials);
    auto organization = OrganizationOf(grant->client_id);
    if (!organization) {
      if (organization.error().code() == ErrorCode::kNotFound) {
        return unauthenticated(kBadCredentials);
      }
      return std::unexpected(fhir::OutcomeOf(organization.error()));
    }
    Caller caller;
    policy::Principal& principal = caller.principal;
    principal.account_id = grant->client_id;
    principal.role = audit::Role::kIntegration;
    principal.client = grant->client_id;
    principal.source_address = SourceAddress(context.peer);
    principal.scopes = std::move(*scopes);
    principal.organization = std::move(*organization);
    return caller;
  }
  const std::string token = SessionCookie(request);
  if (token.empty()) return unauthenticated(kNoCredentials);
  if (IsStateChanging(request) &&
      !identity::Sessions::CsrfMatches(token, request[std::string(kCsrfHeader)])) {
    return unauthenticated(
        "This request needs the X-CSRF-Token header with the csrf_token the login answered "
        "with.");
  }
  auto session = sessions_.Authenticate(token, store::SessionStage::kSession);
  if (!session) {
    if (session.error().code() == ErrorCode::kPermissionDenied) {
      return unauthenticated(kBadCredentials);
    }
    return std::unexpected(fhir::OutcomeOf(session.error()));
  }
  Caller caller;
  policy::Principal& principal = caller.principal;
  principal.account_id = session->account.id;
  principal.role = RoleOf(session->kind);
  principal.client = "portal";
  principal.source_address = SourceAddress(context.peer);
  if (session->kind == identity::AccountKind::kPatient) {
    principal.patient_id = session->account.patient_id;
  }
  if (session->kind == identity::AccountKind::kClinician ||
      session->kind == identity::AccountKind::kLabTechnician) {
    // Read at each request: `medvault user link` and `user grant` may change them while the
    // server runs.
    auto link = LinkOf(session->account.id);
    if (!link) return std::unexpected(fhir::OutcomeOf(link.error()));
    principal.practitioner_id = std::move(link->link.practitioner_id);
    principal.organization = std::move(link->link.organization_id);
    principal.sensitive_categories = std::move(link->sensitive_categories);
  }
  principal.second_factor_at = session->record.second_factor_at;
  caller.session = std::move(*session);
  return caller;
}

}  // namespace medvault::api::internal
