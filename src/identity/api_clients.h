// API clients (machines: lab systems, other hospital software) and their access tokens:
// OAuth 2.0 client credentials with private_key_jwt (SMART Backend Services). A client is
// registered with its public JWKS and the SMART scopes it may ever get; at the token
// endpoint it proves itself with an assertion signed by one of those keys, whose jti is
// refused the second time, and gets a random access token of at most 5 minutes carrying
// the requested scopes narrowed to the registered ones. The store keeps only the token's
// SHA-256.
//
// Thread-safe. Failures: kInvalidArgument (malformed keys, scopes or request, with what to
// fix), kPermissionDenied (an assertion refused, a replayed jti, an unknown client or no
// scope left: one answer, "invalid_client"), kAlreadyExists (a client id taken), store errors.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/wiped_text.h"
#include "identity/auth_events.h"
#include "store/store.h"

namespace medvault::identity {

inline constexpr std::chrono::seconds kAccessTokenLifetime{300};

// The client an approved bulk export's reads run as (records/bulk_export.h), which the
// exfiltration guard does not count: no API client may be registered under this id.
inline constexpr std::string_view kBulkExportClient = "bulk_export";

struct IssuedAccessToken {
  crypto::WipedText token;
  std::string scopes;  // SMART v2 form, space-separated
  std::chrono::seconds expires_in{0};
};

struct AccessGrant {
  std::string client_id;
  std::string scopes;
  Timestamp expires_at;
};

class ApiClients {
 public:
  ApiClients(store::Store& store, const Clock& clock, AuthEventSink& events)
      : store_(store), clock_(clock), events_(events) {}

  // Registers a client; its JWKS and scopes are checked first.
  Status Register(std::string_view client_id, std::string_view jwks_json, std::string_view scopes,
                  std::string_view organization);

  // The token endpoint's work for grant_type=client_credentials.
  Result<IssuedAccessToken> IssueToken(std::string_view client_assertion,
                                       std::string_view requested_scopes,
                                       std::string_view token_endpoint, std::string_view source);

  // What a presented access token allows; kPermissionDenied when unknown or expired.
  Result<AccessGrant> Authenticate(std::string_view token);

 private:
  store::Store& store_;
  const Clock& clock_;
  AuthEventSink& events_;
};

}  // namespace medvault::identity
