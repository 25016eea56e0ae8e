#include "api/auth_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <string_view>
#include <utility>

#include "api/api_internal.h"
#include "api/auth_errors.h"
#include "api/auth_request.h"
#include "api/request_source.h"
#include "http/dispatcher.h"
#include "identity/client_assertion.h"

namespace medvault::api {
namespace {

using http::Request;
using http::RequestContext;
using http::Response;
using http::Status;
using identity::StepResult;

constexpr std::size_t kMaxLogin = 64;
constexpr std::size_t kMaxPassword = 1024;  // the policy refuses > 256 code points
constexpr std::size_t kMaxToken = 128;
constexpr std::size_t kMaxCode = 64;
constexpr std::size_t kMaxName = 128;

// A refusal the API words itself: its stable code (auth_errors.h) and English sentence.
struct Refusal {
  std::string_view code;
  std::string_view message;
};

constexpr Refusal kLoginFailed{
    kErrLoginFailed,
    "Login failed: check the login and the password. After several failures, wait a few "
    "minutes before trying again; if it still fails, ask an administrator."};
constexpr Refusal kSecondFactorFailed{
    kErrSecondFactorRefused,
    "The code was not accepted: use the current code of your authenticator (each code works "
    "once), or log in again if more than 5 minutes have passed."};
constexpr Refusal kCodeFailed{
    kErrCodeNotAccepted,
    "This code was not accepted: check it, or ask for a new one if it has expired or was used."};
constexpr Refusal kPasskeyFailed{
    kErrPasskeyRefused,
    "The passkey was not accepted: ask for new options and try again, or use another factor."};
constexpr Refusal kPasskeyNotRegistered{
    kErrPasskeyNotRegistered, "The passkey was not registered: ask for new options and try again."};
constexpr std::string_view kNoSession = "No valid session: log in again.";

Response Json(Status status, const boost::json::object& body, unsigned version) {
  Response response(status, version);
  response.set(http::beast_http::field::content_type, "application/json");
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

Response Problem(Status status, std::string_view issue_code, std::string_view code,
                 std::string_view message, unsigned version) {
  return AuthProblem(status, issue_code, code, message, version);
}

Response Problem(Status status, std::string_view issue_code, const Refusal& refusal,
                 unsigned version) {
  return AuthProblem(status, issue_code, refusal.code, refusal.message, version);
}

// A refusal without a precise code of its own gets the generic one of its status, and the
// portal shows its English sentence; prefer adding a precise code to auth_errors.h.
[[maybe_unused]] Response Problem(Status status, std::string_view issue_code,
                                  std::string_view message, unsigned version) {
  std::string_view code = kErrInvalidRequest;
  if (status == Status::unauthorized || status == Status::forbidden) code = kErrNotAllowed;
  if (status == Status::not_found) code = kErrNotFound;
  if (status == Status::conflict) code = kErrConflict;
  return AuthProblem(status, issue_code, code, message, version);
}

Response FromError(const Error& error, unsigned version) {
  const std::string_view code = AuthErrorCodeFor(error);
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      return Problem(Status::bad_request, "invalid", code, error.message(), version);
    case ErrorCode::kPermissionDenied:
      return Problem(Status::unauthorized, "security", code, error.message(), version);
    case ErrorCode::kAlreadyExists:
      return Problem(Status::conflict, "duplicate", code, error.message(), version);
    case ErrorCode::kConflict:
      return Problem(Status::conflict, "conflict", code, error.message(), version);
    case ErrorCode::kUnavailable:
      return Problem(Status::service_unavailable, "transient", kErrServiceUnavailable,
                     "The service is busy or its store is unreachable: retry shortly.", version);
    default:
      return Problem(Status::internal_server_error, "exception", kErrInternal,
                     "Internal error: the request id in the logs tells the operators more.",
                     version);
  }
}

Response TooMany(std::chrono::seconds retry_after, unsigned version) {
  Response response =
      Problem(Status::too_many_requests, "throttled", kErrTooManyAttempts,
              "Too many attempts: wait for the time in Retry-After, then try again.", version);
  response.set(http::beast_http::field::retry_after,
               std::to_string(std::max<std::int64_t>(1, retry_after.count())));
  return response;
}

std::string CookieHeader(std::string_view token, std::chrono::seconds max_age) {
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age.count());
}

std::string ClearCookieHeader() {
  return std::string(kSessionCookie) + "=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
}

std::int64_t UnixSeconds(Timestamp at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

// Accounts one page of GET /auth/admin/accounts lists by default and at most.
constexpr std::size_t kDefaultAccountPage = 50;
constexpr std::size_t kMaxAccountPage = 200;

// A login prefix or cursor as typed: the login alphabet ([a-z0-9._@-], case-folded), at most
// kMaxLogin characters; nullopt otherwise.
std::optional<std::string> LoginPart(std::string_view typed) {
  if (typed.size() > kMaxLogin) return std::nullopt;
  std::string folded;
  for (char c : typed) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                         c == '@' || c == '-';
    if (!allowed) return std::nullopt;
    folded.push_back(c);
  }
  return folded;
}

// Pending grants listed at once; more wait until these are decided.
constexpr std::size_t kMaxListedGrants = 500;

boost::json::object GrantJson(const store::RoleGrant& grant) {
  boost::json::object body;
  body["id"] = grant.id;
  body["account_id"] = grant.account_id;
  body["kind"] = grant.kind;
  body["state"] = grant.state;
  body["requested_by"] = grant.requested_by;
  body["requested_at"] = UnixSeconds(grant.requested_at);
  body["expires_at"] = UnixSeconds(grant.expires_at);
  if (!grant.decided_by.empty()) body["decided_by"] = grant.decided_by;
  return body;
}

// A refused decision: a second administrator is needed (403), or the grant is unknown (404).
Response GrantDecisionFailure(const Error& error, unsigned version) {
  switch (error.code()) {
    case ErrorCode::kNotFound:
      return Problem(Status::not_found, "not-found", kErrGrantNotFound,
                     "No role grant has this id: list them with GET /auth/admin/grants.", version);
    case ErrorCode::kPermissionDenied:
      return Problem(Status::forbidden, "forbidden", AuthErrorCodeFor(error), error.message(),
                     version);
    default:
      return FromError(error, version);
  }
}

boost::json::array Strings(const std::vector<std::string>& values) {
  boost::json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

// The answer that sets a new session cookie.
Response SessionResponse(const identity::NewSession& session, std::chrono::seconds max_age,
                         boost::json::object body, unsigned version) {
  body["status"] = "logged_in";
  body["session_id"] = session.id;
  body["csrf_token"] = session.csrf_token;
  body["expires_at"] = UnixSeconds(session.expires_at);
  Response response = Json(Status::ok, body, version);
  response.set(http::beast_http::field::set_cookie, CookieHeader(session.token.view(), max_age));
  return response;
}

Secret TakeSecret(std::string& text) {
  auto secret = Secret::CopyOf({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  std::fill(text.begin(), text.end(), '\0');
  return secret ? std::move(*secret) : std::move(*Secret::Allocate(0));
}

class AuthRoutes : public std::enable_shared_from_this<AuthRoutes> {
 public:
  AuthRoutes(AuthServices services, AuthApiOptions options)
      : login_(services.login),
        sessions_(services.sessions),
        clients_(services.clients),
        accounts_(services.accounts),
        options_(std::move(options)) {}

  medvault::Status Add(http::Router& router);

 private:
  using Verb = http::Verb;

  std::chrono::seconds CookieAge() const { return sessions_.policy().absolute; }

  // The session a cookie names, and for state-changing requests its anti-CSRF header.
  Result<identity::ActiveSession> Authenticate(const Request& request, bool state_changing) {
    const std::string token = SessionCookie(request);
    if (token.empty()) return Fail(ErrorCode::kPermissionDenied, std::string(kNoSession));
    if (state_changing &&
        !identity::Sessions::CsrfMatches(token, request[std::string(kCsrfHeader)])) {
      return Fail(ErrorCode::kPermissionDenied,
                  "This request needs the X-CSRF-Token header with the csrf_token the login "
                  "answered with.");
    }
    return sessions_.Authenticate(token, store::SessionStage::kSession);
  }

  void PasswordStep(const Request& request, const RequestContext& context, http::Respond respond);
  void Enroll(const Request& request, const RequestContext& context, http::Respond respond);
  void Activate(const Request& request, const RequestContext& context, http::Respond respond);
  Response Totp(const Request& request, const RequestContext& context);
  void Recovery(const Request& request, const RequestContext& context, http::Respond respond);
  Response BeginTotp(const Request& request);
  void ConfirmTotp(const Request& request, const RequestContext& context, http::Respond respond);
  Response PasskeyLoginOptions(const Request& request);
  Response Passkey(const Request& request, const RequestContext& context);
  Response BeginPasskey(const Request& request);
  void ConfirmPasskey(const Request& request, const RequestContext& context, http::Respond respond);
  Response StepUpPasskeyOptions(const Request& request);
  Response StepUpPasskey(const Request& request, const RequestContext& context);
  // An administrator's session with a fresh second factor (enrollment changes are sensitive).
  // nullopt when allowed (the session goes to `out`), else the answer: 401 or 403.
  std::optional<Response> RefuseUnlessAdministrator(const Request& request,
                                                    std::optional<identity::ActiveSession>& out);
  // A session (with its anti-CSRF header when state_changing) whose second factor is fresh,
  // for enrollment changes. nullopt when allowed (the session goes to `out`), else 401 or 403.
  std::optional<Response> RefuseUnlessFresh(const Request& request, bool state_changing,
                                            std::optional<identity::ActiveSession>& out);
  Response ListFactors(const Request& request);
  Response BeginTotpChange(const Request& request);
  Response ConfirmTotpChange(const Request& request, const RequestContext& context);
  Response BeginPasskeyAddition(const Request& request);
  Response ConfirmPasskeyAddition(const Request& request, const RequestContext& context);
  Response RemoveFactor(const Request& request, const RequestContext& context);
  void RegenerateRecoveryCodes(const Request& request, const RequestContext& context,
                               http::Respond respond);
  Response AdminCreate(const Request& request);
  Response AdminReset(const Request& request);
  Response AdminReinstate(const Request& request);
  // The security console: accounts by login with their status and factors, and disabling one.
  Response AdminListAccounts(const Request& request);
  Response AdminDisable(const Request& request);
  Response AdminLink(const Request& request);
  // Four eyes: pending role grants, and a second administrator's decision on one.
  Response AdminListGrants(const Request& request);
  enum class Verdict { kApprove, kRefuse };
  Response AdminDecideGrant(const Request& request, const RequestContext& context,
                            Verdict verdict);
  Response Me(const Request& request);
  Response ListSessions(const Request& request);
  Response EndSession(const Request& request, const RequestContext& context);
  Response Logout(const Request& request);
  Response LogoutEverywhere(const Request& request);
  Response StepUp(const Request& request, const RequestContext& context);
  Response Token(const Request& request, const RequestContext& context);
  Response SmartConfiguration(const Request& request);

  // Answers a pending-login or enrollment step.
  static Response PendingResponse(const identity::PasswordOutcome& outcome,
                                  std::string_view token_name, std::string_view status,
                                  const Refusal& failure, unsigned version);
  Response SessionOutcomeResponse(const Result<identity::SessionOutcome>& outcome,
                                  const Refusal& failure, unsigned version);

  identity::LoginService& login_;
  identity::Sessions& sessions_;
  identity::ApiClients& clients_;
  identity::Accounts& accounts_;
  AuthApiOptions options_;
};

Response AuthRoutes::PendingResponse(const identity::PasswordOutcome& outcome,
                                     std::string_view token_name, std::string_view status,
                                     const Refusal& failure, unsigned version) {
  switch (outcome.result) {
    case StepResult::kOk: {
      boost::json::object body;
      body["status"] = status;
      body[token_name] = outcome.pending->token.view();
      body["factors"] = Strings(outcome.factors);
      body["expires_at"] = UnixSeconds(outcome.pending->expires_at);
      return Json(Status::ok, body, version);
    }
    case StepResult::kSlowDown:
    case StepResult::kBusy:
      return TooMany(outcome.retry_after, version);
    case StepResult::kFailed:
      break;
  }
  return Problem(Status::unauthorized, "security", failure, version);
}

Response AuthRoutes::SessionOutcomeResponse(const Result<identity::SessionOutcome>& outcome,
                                            const Refusal& failure, unsigned version) {
  if (!outcome) return FromError(outcome.error(), version);
  switch (outcome->result) {
    case StepResult::kOk: {
      boost::json::object body;
      if (!outcome->recovery_codes.empty()) {
        body["recovery_codes"] = Strings(outcome->recovery_codes);
      }
      return SessionResponse(*outcome->session, CookieAge(), std::move(body), version);
    }
    case StepResult::kSlowDown:
    case StepResult::kBusy:
      return TooMany(outcome->retry_after, version);
    case StepResult::kFailed:
      break;
  }
  return Problem(Status::unauthorized, "security", failure, version);
}

void AuthRoutes::PasswordStep(const Request& request, const RequestContext& context,
                              http::Respond respond) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin}, {"password", kMaxPassword}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.CheckPassword((*fields)["login"], TakeSecret((*fields)["password"]),
                       ClientOf(request, context),
                       [respond, version](Result<identity::PasswordOutcome> outcome) {
                         if (!outcome) return respond(FromError(outcome.error(), version));
                         respond(PendingResponse(*outcome, "pending_token",
                                                 "second_factor_required", kLoginFailed, version));
                       });
}

Response AuthRoutes::Totp(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"pending_token", kMaxToken}, {"code", kMaxCode}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto outcome = login_.CompleteWithTotp((*fields)["pending_token"], (*fields)["code"],
                                         ClientOf(request, context));
  return SessionOutcomeResponse(outcome, kSecondFactorFailed, request.version());
}

void AuthRoutes::Recovery(const Request& request, const RequestContext& context,
                          http::Respond respond) {
  static constexpr FieldRule kRules[] = {{"pending_token", kMaxToken}, {"code", kMaxCode}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.CompleteWithRecoveryCode(
      (*fields)["pending_token"], (*fields)["code"], ClientOf(request, context),
      [this, respond, version](Result<identity::SessionOutcome> outcome) {
        respond(SessionOutcomeResponse(outcome, kSecondFactorFailed, version));
      });
}

void AuthRoutes::Enroll(const Request& request, const RequestContext& context,
                        http::Respond respond) {
  static constexpr FieldRule kRules[] = {{"code", kMaxCode}, {"password", kMaxPassword}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.StartEnrollment((*fields)["code"], TakeSecret((*fields)["password"]),
                         ClientOf(request, context),
                         [respond, version](Result<identity::PasswordOutcome> outcome) {
                           if (!outcome) return respond(FromError(outcome.error(), version));
                           respond(PendingResponse(*outcome, "enrollment_token",
                                                   "enroll_second_factor", kCodeFailed, version));
                         });
}

void AuthRoutes::Activate(const Request& request, const RequestContext& context,
                          http::Respond respond) {
  static constexpr FieldRule kRules[] = {
      {"code", kMaxCode}, {"login", kMaxLogin}, {"name", kMaxName}, {"password", kMaxPassword}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.Activate((*fields)["code"], (*fields)["login"], (*fields)["name"],
                  TakeSecret((*fields)["password"]), ClientOf(request, context),
                  [respond, version](Result<identity::PasswordOutcome> outcome) {
                    if (!outcome) return respond(FromError(outcome.error(), version));
                    respond(PendingResponse(*outcome, "enrollment_token", "enroll_second_factor",
                                            kCodeFailed, version));
                  });
}

Response AuthRoutes::BeginTotp(const Request& request) {
  static constexpr FieldRule kRules[] = {{"enrollment_token", kMaxToken}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto enrollment = login_.BeginTotpEnrollment((*fields)["enrollment_token"]);
  if (!enrollment) return FromError(enrollment.error(), request.version());
  boost::json::object body;
  body["otpauth_uri"] = enrollment->otpauth_uri.view();
  body["qr_svg"] = enrollment->qr_svg.view();
  body["secret"] = enrollment->secret_base32.view();
  return Json(Status::ok, body, request.version());
}

void AuthRoutes::ConfirmTotp(const Request& request, const RequestContext& context,
                             http::Respond respond) {
  static constexpr FieldRule kRules[] = {{"enrollment_token", kMaxToken}, {"code", kMaxCode}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.ConfirmTotpEnrollment(
      (*fields)["enrollment_token"], (*fields)["code"], ClientOf(request, context),
      [this, respond, version](Result<identity::SessionOutcome> outcome) {
        respond(SessionOutcomeResponse(outcome, kSecondFactorFailed, version));
      });
}

Response RawJson(std::string body, unsigned version) {
  Response response(Status::ok, version);
  response.set(http::beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

constexpr std::size_t kMaxCredentialJson = 12 * 1024;

Response AuthRoutes::PasskeyLoginOptions(const Request& request) {
  static constexpr FieldRule kRules[] = {{"pending_token", kMaxToken}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto options = login_.PasskeyLoginOptions((*fields)["pending_token"]);
  if (!options) return FromError(options.error(), request.version());
  return RawJson(std::move(*options), request.version());
}

Response AuthRoutes::Passkey(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"pending_token", kMaxToken},
                                         {"credential", kMaxCredentialJson}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto outcome = login_.CompleteWithPasskey((*fields)["pending_token"], (*fields)["credential"],
                                            ClientOf(request, context));
  return SessionOutcomeResponse(outcome, kPasskeyFailed, request.version());
}

Response AuthRoutes::BeginPasskey(const Request& request) {
  static constexpr FieldRule kRules[] = {{"enrollment_token", kMaxToken}};
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto options = login_.BeginPasskeyEnrollment((*fields)["enrollment_token"]);
  if (!options) return FromError(options.error(), request.version());
  return RawJson(std::move(*options), request.version());
}

void AuthRoutes::ConfirmPasskey(const Request& request, const RequestContext& context,
                                http::Respond respond) {
  static constexpr FieldRule kRules[] = {{"enrollment_token", kMaxToken},
                                         {"credential", kMaxCredentialJson}};
  auto fields = ParseJsonFields(request.body(), kRules);
  const unsigned version = request.version();
  if (!fields) return respond(FromError(fields.error(), version));
  login_.ConfirmPasskeyEnrollment(
      (*fields)["enrollment_token"], (*fields)["credential"], ClientOf(request, context),
      [this, respond, version](Result<identity::SessionOutcome> outcome) {
        respond(SessionOutcomeResponse(outcome, kPasskeyNotRegistered, version));
      });
}

Response AuthRoutes::StepUpPasskeyOptions(const Request& request) {
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  auto options = login_.PasskeyStepUpOptions(SessionCookie(request));
  if (!options) return FromError(options.error(), request.version());
  return RawJson(std::move(*options), request.version());
}

Response AuthRoutes::StepUpPasskey(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"credential", kMaxCredentialJson}};
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto outcome = login_.StepUpWithPasskey(SessionCookie(request), (*fields)["credential"],
                                          ClientOf(request, context));
  return SessionOutcomeResponse(outcome, kPasskeyFailed, request.version());
}

std::optional<Response> AuthRoutes::RefuseUnlessFresh(const Request& request, bool state_changing,
                                                      std::optional<identity::ActiveSession>& out) {
  auto session = Authenticate(request, state_changing);
  if (!session) return FromError(session.error(), request.version());
  if (!sessions_.HasFreshSecondFactor(session->record)) {
    return Problem(Status::forbidden, "forbidden", kErrStepUpRequired,
                   "This action needs a second factor from the last 5 minutes: step up first "
                   "(POST /auth/step-up/passkey or /auth/step-up/totp), then retry.",
                   request.version());
  }
  out.emplace(std::move(*session));
  return std::nullopt;
}

std::optional<Response> AuthRoutes::RefuseUnlessAdministrator(
    const Request& request, std::optional<identity::ActiveSession>& out) {
  // A read (the pending grants) changes nothing: no anti-CSRF header, as for every GET.
  const bool state_changing = request.method() != http::Verb::get;
  if (auto refused = RefuseUnlessFresh(request, state_changing, out)) return refused;
  if (out->kind != identity::AccountKind::kAdministrator) {
    out.reset();
    return Problem(Status::forbidden, "forbidden", kErrAdministratorsOnly,
                   "Only administrators manage accounts.", request.version());
  }
  return std::nullopt;
}

Response AuthRoutes::ListFactors(const Request& request) {
  auto session = Authenticate(request, false);
  if (!session) return FromError(session.error(), request.version());
  auto listed = login_.ListFactors(SessionCookie(request));
  if (!listed) return FromError(listed.error(), request.version());
  boost::json::array factors;
  for (const auto& factor : listed->factors) {
    boost::json::object entry;
    entry["id"] = factor.id;
    entry["kind"] = factor.kind;
    entry["created_at"] = UnixSeconds(factor.created_at);
    factors.push_back(std::move(entry));
  }
  boost::json::object body;
  body["factors"] = std::move(factors);
  body["recovery_codes_left"] = listed->recovery_codes_left;
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::BeginTotpChange(const Request& request) {
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return std::move(*refused);
  auto change = login_.BeginTotpChange(SessionCookie(request));
  if (!change) return FromError(change.error(), request.version());
  boost::json::object body;
  body["otpauth_uri"] = change->otpauth_uri.view();
  body["qr_svg"] = change->qr_svg.view();
  body["secret"] = change->secret_base32.view();
  return Json(Status::ok, body, request.version());
}

// The answer to a factor change that has nothing to return.
Response Changed(const medvault::Status& changed, const Refusal& refused, unsigned version) {
  if (!changed) {
    if (changed.error().code() == ErrorCode::kPermissionDenied) {
      return Problem(Status::bad_request, "invalid", refused, version);
    }
    return FromError(changed.error(), version);
  }
  Response response(Status::no_content, version);
  response.prepare_payload();
  return response;
}

Response AuthRoutes::ConfirmTotpChange(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"code", kMaxCode}};
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  return Changed(login_.ConfirmTotpChange(SessionCookie(request), (*fields)["code"],
                                          ClientOf(request, context)),
                 Refusal{kErrTotpChangeRefused,
                         "The code was not accepted: type the current code of the new "
                         "authenticator."},
                 request.version());
}

Response AuthRoutes::BeginPasskeyAddition(const Request& request) {
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return std::move(*refused);
  auto options = login_.BeginPasskeyAddition(SessionCookie(request));
  if (!options) return FromError(options.error(), request.version());
  return RawJson(std::move(*options), request.version());
}

Response AuthRoutes::ConfirmPasskeyAddition(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"credential", kMaxCredentialJson}};
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  return Changed(login_.ConfirmPasskeyAddition(SessionCookie(request), (*fields)["credential"],
                                               ClientOf(request, context)),
                 kPasskeyNotRegistered, request.version());
}

Response AuthRoutes::RemoveFactor(const Request& request, const RequestContext& context) {
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return std::move(*refused);
  auto removed = login_.RemoveFactor(SessionCookie(request), context.params.Get("id"),
                                     ClientOf(request, context));
  if (!removed && removed.error().code() == ErrorCode::kNotFound) {
    return Problem(Status::not_found, "not-found", kErrFactorNotFound,
                   "You have no factor with this id: list them with GET /auth/factors.",
                   request.version());
  }
  if (!removed && removed.error().code() == ErrorCode::kInvalidArgument) {
    return Problem(Status::unprocessable_entity, "business-rule", AuthErrorCodeFor(removed.error()),
                   removed.error().message(), request.version());
  }
  return Changed(removed, Refusal{kErrNotAllowed, "This factor cannot be removed."},
                 request.version());
}

void AuthRoutes::RegenerateRecoveryCodes(const Request& request, const RequestContext& context,
                                         http::Respond respond) {
  std::optional<identity::ActiveSession> session;
  if (auto refused = RefuseUnlessFresh(request, true, session)) return respond(std::move(*refused));
  const unsigned version = request.version();
  login_.RegenerateRecoveryCodes(SessionCookie(request), ClientOf(request, context),
                                 [respond, version](Result<std::vector<std::string>> codes) {
                                   if (!codes) return respond(FromError(codes.error(), version));
                                   boost::json::object body;
                                   body["recovery_codes"] = Strings(*codes);
                                   respond(Json(Status::ok, body, version));
                                 });
}

Response AuthRoutes::AdminCreate(const Request& request) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin}, {"kind", 32}, {"name", kMaxName}};
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto kind = identity::ParseAccountKind((*fields)["kind"]);
  if (!kind) return FromError(kind.error(), request.version());
  auto created = accounts_.CreateStaff((*fields)["login"], *kind, (*fields)["name"],
                                       admin->account.id,
                                       identity::RoleApproval::kSecondAdministrator);
  if (!created) return FromError(created.error(), request.version());
  boost::json::object body;
  body["account_id"] = created->account.id;
  body["login"] = created->account.login;
  body["kind"] = created->account.kind;
  body["status"] = created->account.status;
  // Usable once a second administrator approves the role (four eyes).
  body["enrollment_code"] = created->enrollment_code.view();
  if (created->pending_grant) body["grant"] = GrantJson(*created->pending_grant);
  return Json(Status::created, body, request.version());
}

Response AuthRoutes::AdminListGrants(const Request& request) {
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto pending = accounts_.ListPendingRoleGrants(kMaxListedGrants);
  if (!pending) return FromError(pending.error(), request.version());
  boost::json::array grants;
  for (const store::RoleGrant& grant : *pending) grants.push_back(GrantJson(grant));
  boost::json::object body;
  body["grants"] = std::move(grants);
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::AdminDecideGrant(const Request& request, const RequestContext& context,
                                      Verdict verdict) {
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  const std::string_view id = context.params.Get("id");
  auto decided = verdict == Verdict::kApprove ? accounts_.ApproveRoleGrant(id, admin->account.id)
                                              : accounts_.RefuseRoleGrant(id, admin->account.id);
  if (!decided) return GrantDecisionFailure(decided.error(), request.version());
  return Json(Status::ok, GrantJson(*decided), request.version());
}

// The exfiltration guard's suspension lifted by an administrator (`medvault user reinstate`
// at the console): the account logs in anew with both factors.
Response AuthRoutes::AdminReinstate(const Request& request) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin}};
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto reinstated = accounts_.Reinstate((*fields)["login"], admin->account.id);
  if (!reinstated) {
    switch (reinstated.error().code()) {
      case ErrorCode::kNotFound:
        return Problem(Status::not_found, "not-found", kErrAccountNotFound,
                       "No account has this login.", request.version());
      case ErrorCode::kPermissionDenied:
        return Problem(Status::forbidden, "forbidden", kErrOwnAccount,
                       "An administrator cannot reinstate their own account: another one must.",
                       request.version());
      default:
        return FromError(reinstated.error(), request.version());
    }
  }
  boost::json::object body;
  body["account_id"] = reinstated->id;
  body["login"] = reinstated->login;
  body["status"] = reinstated->status;
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::AdminListAccounts(const Request& request) {
  auto session = Authenticate(request, false);
  if (!session) return FromError(session.error(), request.version());
  if (session->kind != identity::AccountKind::kAdministrator) {
    return Problem(Status::forbidden, "forbidden", "Only administrators list accounts.",
                   request.version());
  }
  auto params = internal::QueryParams(request, {"_count", "cursor", "kind", "status", "login"});
  if (!params) return internal::FailureResponse(params.error(), request);
  const auto param = [&](std::string_view name) {
    auto it = params->find(name);
    return it == params->end() ? std::string() : it->second;
  };
  const auto invalid = [&](std::string_view why) {
    return Problem(Status::bad_request, "invalid", why, request.version());
  };
  store::AccountQuery query;
  query.limit = kDefaultAccountPage;
  if (auto text = param("_count"); !text.empty()) {
    std::size_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc() || end != text.data() + text.size() || count == 0 ||
        count > kMaxAccountPage) {
      return invalid("_count is a whole number from 1 to 200.");
    }
    query.limit = count;
  }
  if (auto kind = param("kind"); !kind.empty()) {
    auto parsed = identity::ParseAccountKind(kind);
    if (!parsed) {
      return invalid("kind is one of patient, clinician, lab_technician, administrator, auditor.");
    }
    query.kind = std::string(identity::AccountKindName(*parsed));
  }
  if (auto status = param("status"); !status.empty()) {
    if (status != identity::kStatusActive && status != identity::kStatusDisabled &&
        status != identity::kStatusSuspended && status != "pending") {
      return invalid("status is one of active, disabled, suspended, pending.");
    }
    query.status_prefix = status;
  }
  auto cursor = LoginPart(param("cursor"));
  auto prefix = LoginPart(param("login"));
  if (!cursor) return invalid("cursor is the next value of the previous page.");
  if (!prefix) return invalid("login is the start of a login: letters, digits and . _ @ -.");
  query.after_login = std::move(*cursor);
  query.login_prefix = std::move(*prefix);
  ++query.limit;  // one more tells whether a next page exists
  auto page = accounts_.List(query);
  if (!page) return FromError(page.error(), request.version());
  std::string next;
  if (page->size() == query.limit) {
    page->pop_back();
    next = page->back().account.login;
  }
  boost::json::array accounts;
  for (const store::AccountSummary& row : *page) {
    boost::json::object entry;
    entry["account_id"] = row.account.id;
    entry["login"] = row.account.login;
    entry["kind"] = row.account.kind;
    entry["status"] = row.account.status;
    // A patient's name is health data: staff names only.
    if (row.account.kind != identity::AccountKindName(identity::AccountKind::kPatient)) {
      entry["display_name"] = row.account.display_name;
    }
    boost::json::array factors;
    for (const std::string& kind : row.factor_kinds) {
      if (kind != "password") factors.emplace_back(kind);
    }
    entry["second_factors"] = std::move(factors);
    entry["created_at"] = UnixSeconds(row.account.created_at);
    if (row.last_login_at != Timestamp{}) {
      entry["last_login_at"] = UnixSeconds(row.last_login_at);
    } else {
      entry["last_login_at"] = nullptr;
    }
    accounts.push_back(std::move(entry));
  }
  boost::json::object body;
  body["accounts"] = std::move(accounts);
  if (!next.empty()) body["next"] = next;
  Response response = Json(Status::ok, body, request.version());
  response.set(http::beast_http::field::cache_control, "no-store");
  return response;
}

// Whom a staff account acts as in the record (identity::Accounts::Link): a clinician's
// Practitioner, a lab technician's lab.
Response AuthRoutes::AdminLink(const Request& request) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin}, {"link", 128}};
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto linked = accounts_.Link((*fields)["login"], (*fields)["link"], admin->account.id);
  if (!linked) {
    if (linked.error().code() == ErrorCode::kNotFound) {
      return Problem(Status::not_found, "not-found", kErrNotFound, linked.error().message(),
                     request.version());
    }
    return FromError(linked.error(), request.version());
  }
  boost::json::object body;
  body["login"] = (*fields)["login"];
  body["link"] = (*fields)["link"];
  return Json(Status::ok, body, request.version());
}

// Disabling ends an account's sessions (or an API client's tokens) at once; see
// identity::Accounts::Disable for how it comes back.
Response AuthRoutes::AdminDisable(const Request& request) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin, false},
                                         {"client", store::kMaxNameBytes, false}};
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  const bool by_login = fields->contains("login");
  if (by_login == fields->contains("client")) {
    return Problem(Status::bad_request, "invalid",
                   "Name either the account (login) or the API client (client), not both.",
                   request.version());
  }
  boost::json::object body;
  if (!by_login) {
    auto ended = accounts_.DisableClient(fields->at("client"), admin->account.id);
    if (!ended) {
      if (ended.error().code() == ErrorCode::kNotFound) {
        return Problem(Status::not_found, "not-found", "No API client has this id.",
                       request.version());
      }
      return FromError(ended.error(), request.version());
    }
    body["client"] = fields->at("client");
    body["status"] = identity::kStatusDisabled;
    body["tokens_ended"] = *ended;
    return Json(Status::ok, body, request.version());
  }
  auto disabled = accounts_.Disable(fields->at("login"), admin->account.id);
  if (!disabled) {
    switch (disabled.error().code()) {
      case ErrorCode::kNotFound:
        return Problem(Status::not_found, "not-found", "No account has this login.",
                       request.version());
      case ErrorCode::kPermissionDenied:
        return Problem(Status::forbidden, "forbidden",
                       "An administrator cannot disable their own account: another one must.",
                       request.version());
      case ErrorCode::kConflict:
        return Problem(Status::conflict, "conflict", "This account is disabled already.",
                       request.version());
      default:
        return FromError(disabled.error(), request.version());
    }
  }
  body["account_id"] = disabled->id;
  body["login"] = disabled->login;
  body["status"] = disabled->status;
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::AdminReset(const Request& request) {
  static constexpr FieldRule kRules[] = {{"login", kMaxLogin}};
  std::optional<identity::ActiveSession> admin;
  if (auto refused = RefuseUnlessAdministrator(request, admin)) return std::move(*refused);
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto code = accounts_.ResetEnrollment((*fields)["login"], admin->account.id);
  if (!code) {
    if (code.error().code() == ErrorCode::kNotFound) {
      return Problem(Status::not_found, "not-found", kErrAccountNotFound,
                     "No account has this login.", request.version());
    }
    return FromError(code.error(), request.version());
  }
  boost::json::object body;
  body["login"] = (*fields)["login"];
  body["enrollment_code"] = code->view();
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::Me(const Request& request) {
  auto session = Authenticate(request, false);
  if (!session) return FromError(session.error(), request.version());
  boost::json::object body;
  body["account_id"] = session->account.id;
  body["login"] = session->account.login;
  body["kind"] = session->account.kind;
  body["display_name"] = session->account.display_name;
  if (!session->account.patient_id.empty()) body["patient_id"] = session->account.patient_id;
  body["session_id"] = session->record.id;
  body["second_factor_fresh"] = sessions_.HasFreshSecondFactor(session->record);
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::ListSessions(const Request& request) {
  auto session = Authenticate(request, false);
  if (!session) return FromError(session.error(), request.version());
  auto all = sessions_.List(session->account.id);
  if (!all) return FromError(all.error(), request.version());
  boost::json::array list;
  for (const auto& record : *all) {
    boost::json::object entry;
    entry["id"] = record.id;
    entry["created_at"] = UnixSeconds(record.created_at);
    entry["last_seen_at"] = UnixSeconds(record.last_seen_at);
    entry["expires_at"] = UnixSeconds(record.expires_at);
    entry["user_agent"] = record.user_agent;
    entry["source"] = record.source;
    entry["current"] = record.id == session->record.id;
    list.push_back(std::move(entry));
  }
  boost::json::object body;
  body["sessions"] = std::move(list);
  return Json(Status::ok, body, request.version());
}

Response AuthRoutes::EndSession(const Request& request, const RequestContext& context) {
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  const std::string_view id = context.params.Get("id");
  if (auto s = sessions_.End(session->account.id, id); !s) {
    if (s.error().code() == ErrorCode::kNotFound ||
        s.error().code() == ErrorCode::kInvalidArgument) {
      return Problem(Status::not_found, "not-found", kErrSessionNotFound,
                     "You have no session with this id: list them with GET /auth/sessions.",
                     request.version());
    }
    return FromError(s.error(), request.version());
  }
  Response response(Status::no_content, request.version());
  if (id == session->record.id) {
    response.set(http::beast_http::field::set_cookie, ClearCookieHeader());
  }
  response.prepare_payload();
  return response;
}

Response AuthRoutes::Logout(const Request& request) {
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  if (auto s = sessions_.End(session->account.id, session->record.id); !s) {
    return FromError(s.error(), request.version());
  }
  Response response(Status::no_content, request.version());
  response.set(http::beast_http::field::set_cookie, ClearCookieHeader());
  response.prepare_payload();
  return response;
}

Response AuthRoutes::LogoutEverywhere(const Request& request) {
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  auto ended = sessions_.EndAll(session->account.id);
  if (!ended) return FromError(ended.error(), request.version());
  boost::json::object body;
  body["ended"] = *ended;
  Response response = Json(Status::ok, body, request.version());
  response.set(http::beast_http::field::set_cookie, ClearCookieHeader());
  return response;
}

Response AuthRoutes::StepUp(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"code", kMaxCode}};
  auto session = Authenticate(request, true);
  if (!session) return FromError(session.error(), request.version());
  auto fields = ParseJsonFields(request.body(), kRules);
  if (!fields) return FromError(fields.error(), request.version());
  auto outcome =
      login_.StepUpWithTotp(SessionCookie(request), (*fields)["code"], ClientOf(request, context));
  return SessionOutcomeResponse(outcome, kSecondFactorFailed, request.version());
}

Response OAuthError(Status status, std::string_view error, std::string_view description,
                    unsigned version) {
  boost::json::object body;
  body["error"] = error;
  body["error_description"] = description;
  return Json(status, body, version);
}

Response AuthRoutes::Token(const Request& request, const RequestContext& context) {
  static constexpr FieldRule kRules[] = {{"grant_type", 64},
                                         {"client_assertion_type", 128},
                                         {"client_assertion", identity::kMaxAssertionBytes},
                                         {"scope", store::kMaxScopesBytes}};
  const unsigned version = request.version();
  auto fields = ParseFormFields(request.body(), kRules);
  if (!fields)
    return OAuthError(Status::bad_request, "invalid_request", fields.error().message(), version);
  if ((*fields)["grant_type"] != "client_credentials") {
    return OAuthError(Status::bad_request, "unsupported_grant_type",
                      "only grant_type=client_credentials is supported", version);
  }
  if ((*fields)["client_assertion_type"] !=
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    return OAuthError(Status::bad_request, "invalid_request",
                      "client_assertion_type must be "
                      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                      version);
  }
  auto issued = clients_.IssueToken((*fields)["client_assertion"], (*fields)["scope"],
                                    *options_.token_endpoint, ClientOf(request, context).source);
  if (!issued) {
    switch (issued.error().code()) {
      case ErrorCode::kPermissionDenied:
        return OAuthError(Status::unauthorized, "invalid_client", issued.error().message(),
                          version);
      case ErrorCode::kInvalidArgument:
        return OAuthError(Status::bad_request, "invalid_scope", issued.error().message(), version);
      default:
        return FromError(issued.error(), version);
    }
  }
  boost::json::object body;
  body["access_token"] = issued->token.view();
  body["token_type"] = "bearer";
  body["expires_in"] = issued->expires_in.count();
  body["scope"] = issued->scopes;
  return Json(Status::ok, body, version);
}

Response AuthRoutes::SmartConfiguration(const Request& request) {
  boost::json::object body;
  body["token_endpoint"] = *options_.token_endpoint;
  body["grant_types_supported"] = boost::json::array{"client_credentials"};
  body["token_endpoint_auth_methods_supported"] = boost::json::array{"private_key_jwt"};
  body["token_endpoint_auth_signing_alg_values_supported"] = boost::json::array{"RS384", "ES384"};
  body["scopes_supported"] =
      boost::json::array{"system/*.cruds", "system/Observation.cruds",
                         "system/DiagnosticReport.cruds", "system/Patient.rs"};
  body["capabilities"] = boost::json::array{"client-confidential-asymmetric"};
  Response response = Json(Status::ok, body, request.version());
  return response;
}

medvault::Status AuthRoutes::Add(http::Router& router) {
  auto async = [this](auto member) {
    return [this, self = shared_from_this(), member](const Request& r, const RequestContext& c,
                                                     http::Respond respond) {
      (this->*member)(r, c, std::move(respond));
    };
  };
  struct SyncRoute {
    Verb verb;
    std::string_view path;
    http::Handler handler;
  };
  const SyncRoute sync[] = {
      {Verb::post, "/auth/login/totp",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return Totp(r, c);
       }},
      {Verb::post, "/auth/enroll/totp",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return BeginTotp(r);
       }},
      {Verb::post, "/auth/login/passkey/options",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return PasskeyLoginOptions(r);
       }},
      {Verb::post, "/auth/login/passkey",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return Passkey(r, c);
       }},
      {Verb::post, "/auth/enroll/passkey/options",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return BeginPasskey(r);
       }},
      {Verb::post, "/auth/step-up/passkey/options",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return StepUpPasskeyOptions(r);
       }},
      {Verb::post, "/auth/step-up/passkey",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return StepUpPasskey(r, c);
       }},
      {Verb::get, "/auth/factors",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return ListFactors(r);
       }},
      {Verb::post, "/auth/factors/totp",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return BeginTotpChange(r);
       }},
      {Verb::post, "/auth/factors/totp/confirm",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return ConfirmTotpChange(r, c);
       }},
      {Verb::post, "/auth/factors/passkey/options",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return BeginPasskeyAddition(r);
       }},
      {Verb::post, "/auth/factors/passkey",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return ConfirmPasskeyAddition(r, c);
       }},
      {Verb::delete_, "/auth/factors/{id}",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return RemoveFactor(r, c);
       }},
      {Verb::post, "/auth/admin/accounts",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminCreate(r);
       }},
      {Verb::post, "/auth/admin/accounts/reset",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminReset(r);
       }},
      {Verb::get, "/auth/admin/accounts",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminListAccounts(r);
       }},
      {Verb::post, "/auth/admin/accounts/disable",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminDisable(r);
       }},
      {Verb::post, "/auth/admin/accounts/link",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminLink(r);
       }},
      {Verb::post, "/auth/admin/accounts/reinstate",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminReinstate(r);
       }},
      {Verb::get, "/auth/admin/grants",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return AdminListGrants(r);
       }},
      {Verb::post, "/auth/admin/grants/{id}/approve",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return AdminDecideGrant(r, c, Verdict::kApprove);
       }},
      {Verb::post, "/auth/admin/grants/{id}/refuse",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return AdminDecideGrant(r, c, Verdict::kRefuse);
       }},
      {Verb::get, "/auth/me",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return Me(r);
       }},
      {Verb::get, "/auth/sessions",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return ListSessions(r);
       }},
      {Verb::delete_, "/auth/sessions/{id}",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return EndSession(r, c);
       }},
      {Verb::post, "/auth/logout",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return Logout(r);
       }},
      {Verb::post, "/auth/logout-everywhere",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return LogoutEverywhere(r);
       }},
      {Verb::post, "/auth/step-up/totp",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return StepUp(r, c);
       }},
      {Verb::post, "/auth/token",
       [this, self = shared_from_this()](const Request& r, const RequestContext& c) {
         return Token(r, c);
       }},
      {Verb::get, "/fhir/.well-known/smart-configuration",
       [this, self = shared_from_this()](const Request& r, const RequestContext&) {
         return SmartConfiguration(r);
       }},
  };
  for (const auto& route : sync) {
    if (auto s = router.Add(route.verb, route.path, route.handler); !s) return s;
  }
  if (auto s = router.AddAsync(Verb::post, "/auth/login", async(&AuthRoutes::PasswordStep)); !s) {
    return s;
  }
  if (auto s =
          router.AddAsync(Verb::post, "/auth/login/recovery-code", async(&AuthRoutes::Recovery));
      !s) {
    return s;
  }
  if (auto s = router.AddAsync(Verb::post, "/auth/recovery-codes",
                               async(&AuthRoutes::RegenerateRecoveryCodes));
      !s) {
    return s;
  }
  if (auto s = router.AddAsync(Verb::post, "/auth/enroll", async(&AuthRoutes::Enroll)); !s) {
    return s;
  }
  if (auto s = router.AddAsync(Verb::post, "/auth/activate", async(&AuthRoutes::Activate)); !s) {
    return s;
  }
  if (auto s =
          router.AddAsync(Verb::post, "/auth/enroll/passkey", async(&AuthRoutes::ConfirmPasskey));
      !s) {
    return s;
  }
  return router.AddAsync(Verb::post, "/auth/enroll/totp/confirm", async(&AuthRoutes::ConfirmTotp));
}

}  // namespace

std::string SessionCookie(const Request& request) {
  const std::string_view header = request[http::beast_http::field::cookie];
  std::string_view rest = header;
  while (!rest.empty()) {
    const auto end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == kSessionCookie) return std::string(pair.substr(eq + 1));
  }
  return {};
}

medvault::Status AddAuthRoutes(http::Router& router, AuthServices services,
                               AuthApiOptions options) {
  // Every handler holds the routes object, so it lives as long as the router.
  auto routes = std::make_shared<AuthRoutes>(services, std::move(options));
  return routes->Add(router);
}

}  // namespace medvault::api
