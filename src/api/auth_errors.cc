#include "api/auth_errors.h"

#include <boost/json.hpp>

namespace medvault::api {
namespace {

// The messages of identity/ and auth_request.cc that have a precise code, by how they start.
// tests/api/auth_error_codes.test.mjs checks each start still appears in those sources, so a
// reworded message cannot silently fall back to a generic code.
struct KnownMessage {
  std::string_view start;
  std::string_view code;
};
constexpr KnownMessage kKnownMessages[] = {
    {"the body is too large", kErrRequestTooLarge},
    {"the body is not valid JSON", kErrRequestNotJson},
    {"the body must be a JSON object", kErrRequestNotObject},
    {"every member of the body must be a string", kErrRequestMemberNotString},
    {"the body has a member this endpoint does not take", kErrRequestUnknownMember},
    {"a member of the body is too long", kErrRequestMemberTooLong},
    {"a member of the body appears twice", kErrRequestDuplicateMember},
    {"the body lacks a required member", kErrRequestMissingMember},
    {"the body is not form-encoded", kErrRequestNotForm},
    {"every form field needs a value", kErrRequestNotForm},
    {"no valid session", kErrNoSession},
    {"No valid session", kErrNoSession},
    {"This request needs the X-CSRF-Token header", kErrCsrfRequired},
    {"step up first", kErrStepUpRequired},
    {"This account is suspended", kErrAccountSuspended},
    {"this code is not valid", kErrCodeNotAccepted},
    {"the name must be 1 to 128 bytes", kErrNameInvalid},
    {"this login is taken", kErrLoginTaken},
    {"The password is too short", kErrPasswordTooShort},
    {"The password is too long", kErrPasswordTooLong},
    {"The password is not valid UTF-8 text", kErrPasswordNotText},
    {"The password contains a character that Unicode does not define", kErrPasswordNotText},
    {"The password contains a control character", kErrPasswordControlCharacter},
    {"The password contains your name or your login", kErrPasswordContainsName},
    {"The password is too common", kErrPasswordTooCommon},
    {"The password is too easy to guess", kErrPasswordTooWeak},
    {"this kind of account must use a passkey", kErrPasskeyRequired},
    {"this account has no passkey", kErrNoPasskey},
    {"start the TOTP enrollment", kErrCeremonyNotStarted},
    {"start the passkey enrollment", kErrCeremonyNotStarted},
    {"start the TOTP change", kErrCeremonyNotStarted},
    {"start the passkey registration", kErrCeremonyNotStarted},
    {"the code was not accepted: type the current code of the new", kErrTotpChangeRefused},
    {"the passkey was not accepted: start the registration again", kErrPasskeyNotRegistered},
    {"this passkey is registered already", kErrPasskeyAlreadyRegistered},
    {"this account has no such factor", kErrFactorNotFound},
    {"this is the last passkey", kErrLastPasskey},
    {"this is the last second factor", kErrLastSecondFactor},
};

std::string_view GenericCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return kErrInvalidRequest;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated:
      return kErrNotAllowed;
    case ErrorCode::kNotFound:
      return kErrNotFound;
    case ErrorCode::kAlreadyExists:
      return kErrAlreadyExists;
    case ErrorCode::kConflict:
      return kErrConflict;
    case ErrorCode::kUnavailable:
      return kErrServiceUnavailable;
    default:
      return kErrInternal;
  }
}

}  // namespace

std::string_view AuthErrorCodeFor(const Error& error) {
  for (const KnownMessage& known : kKnownMessages) {
    if (error.message().starts_with(known.start)) return known.code;
  }
  return GenericCode(error.code());
}

http::Response AuthProblem(http::Status status, std::string_view issue_code, std::string_view code,
                           std::string_view message, unsigned version) {
  namespace json = boost::json;
  json::object issue{
      {"severity", "error"},
      {"code", json::string_view(issue_code.data(), issue_code.size())},
      {"details",
       json::object{{"coding", json::array{json::object{
                                   {"system", json::string_view(kAuthErrorSystem.data(),
                                                                kAuthErrorSystem.size())},
                                   {"code", json::string_view(code.data(), code.size())}}}}}},
      {"diagnostics", json::string_view(message.data(), message.size())},
  };
  http::Response response(status, version);
  response.set(http::beast_http::field::content_type, "application/fhir+json");
  response.body() = json::serialize(
      json::object{{"resourceType", "OperationOutcome"}, {"issue", json::array{std::move(issue)}}});
  response.prepare_payload();
  return response;
}

}  // namespace medvault::api
