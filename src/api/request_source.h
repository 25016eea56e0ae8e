// Who sent a request, as the identity layer and the audit log record it: the peer's IP
// address without its port, and a short printable summary of its User-Agent. Internal to
// src/api (the auth and FHIR endpoints share it). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"
#include "identity/login.h"

namespace medvault::api {

// "203.0.113.5:4431" -> "203.0.113.5", "[::1]:4431" -> "::1".
std::string SourceAddress(std::string_view peer);

// The source address and at most 64 printable ASCII characters of the User-Agent.
identity::Client ClientOf(const http::Request& request, const http::RequestContext& context);

}  // namespace medvault::api
