// The authentication endpoints under /auth/ (login, second factor, enrollment, activation,
// sessions, logout, step-up, me), the OAuth token endpoint for machine clients and
// /fhir/.well-known/smart-configuration. docs/api.md documents each.
//
// A session travels in the cookie __Host-medvault_session (Secure, HttpOnly,
// SameSite=Strict, Path=/); every state-changing request authenticated by that cookie must
// also carry X-CSRF-Token, the value the login answered with. Steps before a session (a
// pending login, an enrollment) travel as tokens in the JSON body, never in a cookie.
// Errors are OperationOutcome bodies that say what to do and never whether an account
// exists. Endpoints that hash a password are asynchronous: the hash runs on the
// PasswordHasher's pool, never on a network thread.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "http/router.h"
#include "identity/accounts.h"
#include "identity/api_clients.h"
#include "identity/login.h"
#include "identity/sessions.h"

namespace medvault::api {

inline constexpr std::string_view kSessionCookie = "__Host-medvault_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct AuthApiOptions {
  // The absolute URL of the token endpoint, which assertions must name as aud; read per
  // request, so the server may fill it in once it knows its port.
  std::shared_ptr<const std::string> token_endpoint;
};

struct AuthServices {
  identity::LoginService& login;
  identity::Sessions& sessions;
  identity::ApiClients& clients;
  identity::Accounts& accounts;
};

medvault::Status AddAuthRoutes(http::Router& router, AuthServices services, AuthApiOptions options);

// The session token in a request's Cookie header, or empty.
std::string SessionCookie(const http::Request& request);

}  // namespace medvault::api
