// libFuzzer target for what an API client sends or registers: the bytes are read as a compact
// JWS (ParseCompactJws, then VerifyClientAssertion against two registered public keys), as a
// JWK and a JWK Set, as a SMART scope string, and as the claims of an assertion that a key the
// fuzzer holds has signed, so the claim checks run behind a valid signature. A broken invariant
// aborts, so libFuzzer and the ctest replay both report it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "identity/client_assertion.h"
#include "identity/smart_scopes.h"
#include "identity/test_jwt_signer.h"

namespace {

using medvault::ErrorCode;
using medvault::Timestamp;
namespace identity = medvault::identity;

constexpr std::string_view kClientId = "fuzz-client";
constexpr std::string_view kTokenEndpoint = "https://medvault.example/auth/token";
constexpr std::int64_t kNow = 1'767'225'600;

// Public keys whose private halves exist nowhere: nothing may ever verify against them.
constexpr std::string_view kRegisteredJwks =
    R"({"keys":[{"kty":"EC","crv":"P-384","kid":"fuzz-ec",)"
    R"("x":"OyfPMKvg-OihN81WUMoV6EQkPVBChnj_4UtNp19YGZYJ22PstfKNHiDtZaTc8Cpn",)"
    R"("y":"RLfZEJ6-70I9_AaQox4HYyX-FojIYU1ss0u8ovBRXKQqyvE0twjdgn02PLmugEd-"},)"
    R"({"kty":"RSA","kid":"fuzz-rsa","e":"AQAB","n":"yGUjnDt56c5ynTriyDlW2SQhQv2vfyLOn9EkBbW0U4i3-)"
    R"(jeqUdxNlqMv1R3s68tKKBa541RTh2La9O___owmd_16AuipWSDA3fvYjBAmclDb-pxUwskmDlzmhf6eDlcQpv74B_)"
    R"(p6xjMxTMbIntkpxZeOCprxL76X1-qK2bm8bHrwvtmAITFYonp_Ti_SbpABvyjr7KGNhX5Wz54vst06y1Tyzzu7aW-)"
    R"(dVW3A8_LWM_N7zVL91jU9xmJYK5KOOiHCc3Oo37iedA1cmDlcPoHC_JWjaFio13emev8TebxYf_WHMyVHWxCEyv-)"
    R"(yGd_2Q3UvJNJy3_Jq0Kc1oMIvYKLrhw"}]})";

void Require(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "invariant violated: %s\n", invariant);
  __builtin_trap();
}

Timestamp Now() { return Timestamp(std::chrono::seconds(kNow)); }

const std::vector<identity::ClientKey>& RegisteredKeys() {
  static const auto* keys = [] {
    auto parsed = identity::ParseClientJwks(kRegisteredJwks);
    Require(parsed.has_value() && parsed->size() == 2, "the registered JWKS parses");
    return new std::vector<identity::ClientKey>(std::move(*parsed));
  }();
  return *keys;
}

// A P-384 key this process holds, and the registered form of its public half.
struct Holder {
  identity::testing::TestSigner signer = identity::testing::TestSigner::P384();
  std::vector<identity::ClientKey> keys;
};
const Holder& Held() {
  static const Holder* holder = [] {
    auto* made = new Holder;
    auto key = identity::ParseClientJwk(made->signer.PublicJwk("held"));
    Require(key.has_value(), "the held key's JWK parses");
    made->keys.push_back(*key);
    return made;
  }();
  return *holder;
}

void FuzzJws(std::string_view input) {
  auto jws = identity::ParseCompactJws(input);
  if (jws) {
    Require(input.substr(0, jws->signing_input.size()) == jws->signing_input,
            "the signing input is the token's first two parts");
    Require(input.size() > jws->signing_input.size() && input[jws->signing_input.size()] == '.',
            "a dot follows the signing input");
    Require(!jws->signature.empty() && !jws->header_json.empty() && !jws->payload.empty(),
            "no part is empty");
  }
  auto verdict =
      identity::VerifyClientAssertion(input, RegisteredKeys(), kClientId, kTokenEndpoint, Now());
  Require(!verdict.has_value(), "nothing verifies without the private key");
  Require(verdict.error().code() == ErrorCode::kInvalidArgument ||
              verdict.error().code() == ErrorCode::kPermissionDenied,
          "refusals are invalid_argument or permission_denied");
}

void FuzzJwk(std::string_view input) {
  auto key = identity::ParseClientJwk(input);
  if (key) {
    Require(!key->kid().empty() && key->kid().size() <= identity::kMaxKidLength,
            "a parsed key has a kid");
    Require(!key->SubjectPublicKeyInfoDer().empty(), "a parsed key exports");
    const std::vector<std::uint8_t> zeros(96, 0);
    Require(!key->VerifySignature(zeros, zeros), "an all-zero signature never verifies");
  }
  auto keys = identity::ParseClientJwks(input);
  if (keys) {
    Require(!keys->empty() && keys->size() <= identity::kMaxJwksKeys, "1 to 16 keys");
    std::set<std::string> kids;
    for (const auto& one : *keys) kids.insert(one.kid());
    Require(kids.size() == keys->size(), "kids are distinct");
  }
}

void FuzzScopes(std::string_view input) {
  auto scopes = identity::ParseSmartScopes(input);
  if (!scopes) return;
  const std::string formatted = identity::FormatSmartScopes(*scopes);
  auto again = identity::ParseSmartScopes(formatted);
  Require(again.has_value(), "formatted scopes parse");
  Require(identity::FormatSmartScopes(*again) == formatted, "formatting is stable");
  const auto narrowed = identity::NarrowSmartScopes(*scopes, *scopes);
  for (const auto& scope : narrowed) {
    for (auto interaction :
         {identity::SmartInteraction::kCreate, identity::SmartInteraction::kRead,
          identity::SmartInteraction::kUpdate, identity::SmartInteraction::kDelete,
          identity::SmartInteraction::kSearch}) {
      if (identity::SmartScopesAllow(narrowed, scope.context, scope.resource_type, interaction)) {
        Require(
            identity::SmartScopesAllow(*scopes, scope.context, scope.resource_type, interaction),
            "narrowing never grants what was not there");
      }
    }
  }
}

void FuzzSignedClaims(std::string_view input) {
  if (input.size() > identity::kMaxAssertionBytes / 2) return;
  const Holder& held = Held();
  const std::string jwt = held.signer.Jwt(R"({"alg":"ES384","kid":"held","typ":"JWT"})", input);
  auto verdict = identity::VerifyClientAssertion(jwt, held.keys, kClientId, kTokenEndpoint, Now());
  if (!verdict) {
    Require(verdict.error().message().find(kClientId) == std::string::npos,
            "refusals do not quote the client id");
    return;
  }
  Require(verdict->client_id == kClientId, "the accepted client is the one asked for");
  Require(!verdict->jti.empty() && verdict->jti.size() <= identity::kMaxJtiLength,
          "jti is bounded");
  Require(verdict->expires_at > Now() - identity::kAssertionClockSkew &&
              verdict->expires_at <=
                  Now() + identity::kMaxAssertionLifetime + identity::kAssertionClockSkew,
          "exp is within bounds");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzJws(input);
  FuzzJwk(input);
  FuzzScopes(input);
  FuzzSignedClaims(input);
  return 0;
}
