// The auth API's error bodies: an OperationOutcome whose issue carries, besides its English
// diagnostics, a stable code in details.coding (system kAuthErrorSystem) that a client maps to
// its reader's language. web/i18n.js has a French and an English sentence for every code below
// (tests/api/auth_error_codes.test.mjs reads them from this header and fails when one lacks a
// string), so add a code here and its two sentences there together.
//
// Security property: a code never tells more than the English sentence beside it. The login's
// one answer for an unknown login, a wrong password or a locked account is one code
// (login_failed); a refused second factor (wrong, replayed or late TOTP code) is one code, and
// so is a refused one-time code (wrong, used or expired). Thread-safe: stateless.
#pragma once

#include <string_view>

#include "core/error.h"
#include "http/dispatcher.h"

namespace medvault::api {

inline constexpr std::string_view kAuthErrorSystem = "urn:medvault:auth-error";

// Generic codes, by the kind of failure, for errors no more precise code names: the English
// diagnostics beside them says more, so the portal shows it (web/i18n.js GENERIC_SERVER_ERRORS).
inline constexpr std::string_view kErrInvalidRequest = "invalid_request";
inline constexpr std::string_view kErrNotAllowed = "not_allowed";
inline constexpr std::string_view kErrNotFound = "not_found";
inline constexpr std::string_view kErrAlreadyExists = "already_exists";
inline constexpr std::string_view kErrConflict = "conflict";
// Answers the server words the same whatever the request.
inline constexpr std::string_view kErrServiceUnavailable = "service_unavailable";
inline constexpr std::string_view kErrInternal = "internal_error";
inline constexpr std::string_view kErrTooManyAttempts = "too_many_attempts";
// The request's body (auth_request.h).
inline constexpr std::string_view kErrRequestTooLarge = "request_too_large";
inline constexpr std::string_view kErrRequestNotJson = "request_not_json";
inline constexpr std::string_view kErrRequestNotObject = "request_not_object";
inline constexpr std::string_view kErrRequestMemberNotString = "request_member_not_string";
inline constexpr std::string_view kErrRequestUnknownMember = "request_unknown_member";
inline constexpr std::string_view kErrRequestMemberTooLong = "request_member_too_long";
inline constexpr std::string_view kErrRequestDuplicateMember = "request_duplicate_member";
inline constexpr std::string_view kErrRequestMissingMember = "request_missing_member";
inline constexpr std::string_view kErrRequestNotForm = "request_not_form";
// Sessions.
inline constexpr std::string_view kErrNoSession = "no_session";
inline constexpr std::string_view kErrCsrfRequired = "csrf_required";
inline constexpr std::string_view kErrStepUpRequired = "step_up_required";
inline constexpr std::string_view kErrSessionNotFound = "session_not_found";
inline constexpr std::string_view kErrAccountSuspended = "account_suspended";
// Login, activation and enrollment.
inline constexpr std::string_view kErrLoginFailed = "login_failed";
inline constexpr std::string_view kErrSecondFactorRefused = "second_factor_refused";
inline constexpr std::string_view kErrCodeNotAccepted = "code_not_accepted";
inline constexpr std::string_view kErrNameInvalid = "name_invalid";
inline constexpr std::string_view kErrLoginTaken = "login_taken";
// New passwords (identity/password_policy.h).
inline constexpr std::string_view kErrPasswordTooShort = "password_too_short";
inline constexpr std::string_view kErrPasswordTooLong = "password_too_long";
inline constexpr std::string_view kErrPasswordNotText = "password_not_text";
inline constexpr std::string_view kErrPasswordControlCharacter = "password_control_character";
inline constexpr std::string_view kErrPasswordContainsName = "password_contains_name";
inline constexpr std::string_view kErrPasswordTooCommon = "password_too_common";
inline constexpr std::string_view kErrPasswordTooWeak = "password_too_weak";
// Second factors.
inline constexpr std::string_view kErrPasskeyRequired = "passkey_required";
inline constexpr std::string_view kErrNoPasskey = "no_passkey";
inline constexpr std::string_view kErrPasskeyRefused = "passkey_refused";
inline constexpr std::string_view kErrPasskeyNotRegistered = "passkey_not_registered";
inline constexpr std::string_view kErrPasskeyAlreadyRegistered = "passkey_already_registered";
inline constexpr std::string_view kErrCeremonyNotStarted = "ceremony_not_started";
inline constexpr std::string_view kErrTotpChangeRefused = "totp_change_refused";
inline constexpr std::string_view kErrFactorNotFound = "factor_not_found";
inline constexpr std::string_view kErrLastSecondFactor = "last_second_factor";
inline constexpr std::string_view kErrLastPasskey = "last_passkey";
// Administration.
inline constexpr std::string_view kErrAdministratorsOnly = "administrators_only";
inline constexpr std::string_view kErrAccountNotFound = "account_not_found";
inline constexpr std::string_view kErrOwnAccount = "own_account";
inline constexpr std::string_view kErrGrantNotFound = "grant_not_found";

// The code of an error from the identity services or from request parsing: the precise one
// when its message is one the table in auth_errors.cc knows, else the generic code of its
// ErrorCode.
std::string_view AuthErrorCodeFor(const Error& error);

// The OperationOutcome answer: FHIR `issue_code`, the stable `code`, the English `message`.
http::Response AuthProblem(http::Status status, std::string_view issue_code, std::string_view code,
                           std::string_view message, unsigned version);

}  // namespace medvault::api
