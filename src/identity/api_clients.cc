#include "identity/api_clients.h"

#include <boost/json.hpp>
#include <optional>

#include "identity/client_assertion.h"
#include "identity/smart_scopes.h"
#include "identity/tokens.h"

namespace medvault::identity {
namespace {

std::unexpected<Error> InvalidClient() {
  return Fail(ErrorCode::kPermissionDenied,
              "the client assertion was refused: check the client id, the key id, the signing "
              "key, aud (the token endpoint), exp (at most 5 minutes) and use a new jti");
}

// The client id an assertion claims (iss), read before verification only to find the keys.
Result<std::string> ClaimedClientId(std::string_view jwt) {
  auto jws = ParseCompactJws(jwt);
  if (!jws) return std::unexpected(jws.error());
  boost::system::error_code ec;
  const boost::json::value payload = boost::json::parse(
      std::string_view(reinterpret_cast<const char*>(jws->payload.data()), jws->payload.size()),
      ec);
  const auto* object = ec ? nullptr : payload.if_object();
  const auto* iss = object != nullptr ? object->if_contains("iss") : nullptr;
  if (iss == nullptr || !iss->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "the assertion has no iss claim");
  }
  return std::string(iss->as_string());
}

}  // namespace

Status ApiClients::Register(std::string_view client_id, std::string_view jwks_json,
                            std::string_view scopes, std::string_view organization) {
  if (client_id.empty() || client_id.size() > store::kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, "a client id is 1 to 128 bytes");
  }
  if (client_id == kBulkExportClient) {
    return Fail(ErrorCode::kInvalidArgument,
                "the client id bulk_export is reserved (approved bulk exports run as it)");
  }
  auto keys = ParseClientJwks(jwks_json);
  if (!keys) return std::unexpected(keys.error());
  auto parsed = ParseSmartScopes(scopes);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->empty())
    return Fail(ErrorCode::kInvalidArgument, "give the client at least one scope");
  for (const auto& scope : *parsed) {
    if (scope.context != SmartScope::Context::kSystem) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a backend client gets system/ scopes only (e.g. system/Observation.c)");
    }
  }
  const Timestamp now = clock_.Now();
  store::ApiClient client{std::string(client_id), std::string(jwks_json),
                          FormatSmartScopes(*parsed), std::string(organization), now};
  Status s = store_.Transact([&](store::Transaction& tx) { return tx.InsertApiClient(client); });
  if (!s && s.error().code() == ErrorCode::kAlreadyExists) {
    return Fail(ErrorCode::kAlreadyExists, "a client with this id exists already");
  }
  if (!s) return s;
  return events_.Record({now, client.client_id, "client", "", "client_registered", "success", ""});
}

Result<IssuedAccessToken> ApiClients::IssueToken(std::string_view client_assertion,
                                                 std::string_view requested_scopes,
                                                 std::string_view token_endpoint,
                                                 std::string_view source) {
  const Timestamp now = clock_.Now();
  auto refuse = [&](std::string_view client_id) {
    events_.Record(
        {now, std::string(client_id), "client", std::string(source), "token", "failure", ""});
    return InvalidClient();
  };
  auto claimed = ClaimedClientId(client_assertion);
  if (!claimed || claimed->empty() || claimed->size() > store::kMaxNameBytes) return refuse("");
  std::optional<store::ApiClient> client;
  Status found = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto c = tx.GetApiClient(*claimed);
        if (!c) return std::unexpected(c.error());
        client = std::move(*c);
        return {};
      },
      store::Access::kReadOnly);
  if (!found) {
    if (found.error().code() == ErrorCode::kNotFound) return refuse("");
    return std::unexpected(found.error());
  }
  auto keys = ParseClientJwks(client->jwks);
  if (!keys) return std::unexpected(keys.error());
  auto assertion =
      VerifyClientAssertion(client_assertion, *keys, client->client_id, token_endpoint, now);
  if (!assertion) return refuse(client->client_id);

  auto requested = ParseSmartScopes(requested_scopes);
  if (!requested) return std::unexpected(requested.error());
  auto registered = ParseSmartScopes(client->allowed_scopes);
  if (!registered) return std::unexpected(registered.error());
  const std::vector<SmartScope> granted = NarrowSmartScopes(*requested, *registered);
  const std::string scopes = FormatSmartScopes(granted);
  if (scopes.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "none of the requested scopes is registered for this client (invalid_scope)");
  }
  auto token = NewToken();
  if (!token) return std::unexpected(token.error());
  store::AccessToken stored{token->hash, client->client_id, scopes, now,
                            now + kAccessTokenLifetime};
  bool replay = false;
  bool disabled = false;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    replay = false;
    auto off = tx.IsApiClientDisabled(client->client_id);
    if (!off) return std::unexpected(off.error());
    if (*off) {
      disabled = true;
      return Fail(ErrorCode::kConflict, "disabled client");  // roll back
    }
    auto recorded = tx.RecordUsedJti(client->client_id, assertion->jti,
                                     assertion->expires_at + kAssertionClockSkew, now);
    if (!recorded) {
      if (recorded.error().code() == ErrorCode::kAlreadyExists) {
        replay = true;
        return Fail(ErrorCode::kConflict, "replayed jti");  // roll back
      }
      return recorded;
    }
    return tx.InsertAccessToken(stored);
  });
  if (replay) return refuse(client->client_id);
  if (disabled) {
    (void)events_.Record(
        {now, client->client_id, "client", std::string(source), "token", "disabled", ""});
    return Fail(ErrorCode::kPermissionDenied,
                "this client was disabled by an administrator: register a new one "
                "(medvault client add)");
  }
  if (!s) return std::unexpected(s.error());
  // Fail-closed: a token the audit log has not recorded is not handed out (it stays unknown to
  // its client and expires).
  if (auto recorded = events_.Record(
          {now, client->client_id, "client", std::string(source), "token", "success", ""});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return IssuedAccessToken{std::move(token->text), scopes, kAccessTokenLifetime};
}

Result<AccessGrant> ApiClients::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 128) {
    return Fail(ErrorCode::kPermissionDenied, "no valid access token: get a new one");
  }
  const auto hash = Sha256(token);
  const Timestamp now = clock_.Now();
  std::optional<AccessGrant> grant;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetAccessToken(hash, now);
        if (!found) return std::unexpected(found.error());
        grant = AccessGrant{found->client_id, found->scopes, found->expires_at};
        return {};
      },
      store::Access::kReadOnly);
  if (!s) {
    if (s.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kPermissionDenied, "no valid access token: get a new one");
    }
    return std::unexpected(s.error());
  }
  return std::move(*grant);
}

}  // namespace medvault::identity
