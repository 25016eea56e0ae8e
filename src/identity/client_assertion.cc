#include "identity/client_assertion.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <exception>
#include <optional>
#include <set>
#include <utility>

#include "core/base64.h"
#include "crypto/openssl_keys.h"

namespace medvault::identity {
namespace {

constexpr std::size_t kEs384CoordinateBytes = 48;
constexpr std::size_t kEs384SignatureBytes = 2 * kEs384CoordinateBytes;
// NumericDate values beyond this (year ~36812) are refused, so conversions cannot overflow.
constexpr double kMaxNumericDate = 1e12;

std::unexpected<Error> Malformed(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}
std::unexpected<Error> Denied(std::string message) {
  return Fail(ErrorCode::kPermissionDenied, std::move(message));
}

// Parses `text` as one JSON object; exceptions never escape (Boost.JSON reports by error_code,
// allocation failures aside, which the catch covers).
Result<boost::json::object> ParseObject(std::string_view text, std::string_view what) {
  try {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 16;
    boost::json::value value = boost::json::parse(text, ec, {}, options);
    if (ec) return Malformed(std::string(what) + " is not valid JSON");
    if (!value.is_object()) return Malformed(std::string(what) + " is not a JSON object");
    return std::move(value.as_object());
  } catch (const std::exception&) {
    return Malformed(std::string(what) + " could not be parsed");
  }
}

// The string member `name`, nothing when absent; an error when present but not a string.
Result<std::optional<std::string>> OptionalString(const boost::json::object& object,
                                                  std::string_view name, std::string_view what) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) {
    return Malformed(std::string(what) + " member " + std::string(name) + " is not a string");
  }
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::string> RequiredString(const boost::json::object& object, std::string_view name,
                                   std::string_view what) {
  auto value = OptionalString(object, name, what);
  if (!value) return std::unexpected(value.error());
  if (!value->has_value()) {
    return Malformed(std::string(what) + " has no " + std::string(name));
  }
  return std::move(**value);
}

// A Base64urlUInt (RFC 7518 §2): unpadded base64url of the big-endian value, minimal length.
Result<std::vector<std::uint8_t>> DecodeUInt(const boost::json::object& jwk,
                                             std::string_view name) {
  auto text = RequiredString(jwk, name, "JWK");
  if (!text) return std::unexpected(text.error());
  auto bytes = DecodeBase64(*text, Base64Alphabet::kUrlSafe);
  if (!bytes) return Malformed("JWK member " + std::string(name) + " is not base64url");
  if (bytes->empty()) return Malformed("JWK member " + std::string(name) + " is empty");
  return std::move(*bytes);
}

Result<crypto::RsaPublicKey> RsaKey(const boost::json::object& jwk) {
  auto n = DecodeUInt(jwk, "n");
  if (!n) return std::unexpected(n.error());
  auto e = DecodeUInt(jwk, "e");
  if (!e) return std::unexpected(e.error());
  auto key = crypto::RsaPublicKey::FromModulusAndExponent(*n, *e);
  if (!key) return Malformed("JWK " + key.error().message());
  return std::move(*key);
}

Result<std::shared_ptr<evp_pkey_st>> Es384Key(const boost::json::object& jwk) {
  auto crv = RequiredString(jwk, "crv", "JWK");
  if (!crv) return std::unexpected(crv.error());
  if (*crv != "P-384") return Malformed("JWK EC curve is not P-384");
  auto x = DecodeUInt(jwk, "x");
  if (!x) return std::unexpected(x.error());
  auto y = DecodeUInt(jwk, "y");
  if (!y) return std::unexpected(y.error());
  if (x->size() != kEs384CoordinateBytes || y->size() != kEs384CoordinateBytes) {
    return Malformed("JWK EC coordinates are not 48 bytes each");
  }
  std::vector<std::uint8_t> point;  // SEC 1 uncompressed point: 0x04 || x || y
  point.reserve(1 + 2 * kEs384CoordinateBytes);
  point.push_back(0x04);
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  crypto::OpenSslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL cannot build EC parameters");
  }
  crypto::OpenSslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return Fail(ErrorCode::kInternal, "OpenSSL cannot build EC parameters");
  crypto::OpenSslPtr<EVP_PKEY> key = crypto::CheckedPublicKey("EC", params.get());
  if (!key) return Malformed("JWK EC point is not on P-384");
  return std::shared_ptr<evp_pkey_st>(key.release(), [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// Private-key members of RFC 7518 §6.3.2 and §6.2.2, and the symmetric key of §6.4.1.
constexpr std::string_view kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

std::optional<JwsAlgorithm> AlgorithmFromName(std::string_view name) {
  if (name == "RS384") return JwsAlgorithm::kRs384;
  if (name == "ES384") return JwsAlgorithm::kEs384;
  return std::nullopt;
}

// A claim the assertion must carry: missing is a failed check, not a string is malformed.
Result<const boost::json::value*> RequiredClaim(const boost::json::object& claims,
                                                std::string_view name) {
  const boost::json::value* value = claims.if_contains(name);
  if (value == nullptr) return Denied("assertion has no " + std::string(name) + " claim");
  return value;
}

Result<std::string> StringClaim(const boost::json::object& claims, std::string_view name) {
  auto value = RequiredClaim(claims, name);
  if (!value) return std::unexpected(value.error());
  if (!(*value)->is_string()) {
    return Malformed("assertion claim " + std::string(name) + " is not a string");
  }
  return std::string((*value)->as_string());
}

// A NumericDate (RFC 7519 §2) as whole seconds, fractions dropped.
Result<std::int64_t> NumericDate(const boost::json::value& value, std::string_view name) {
  double seconds = 0;
  if (value.is_int64()) {
    seconds = static_cast<double>(value.as_int64());
  } else if (value.is_uint64()) {
    seconds = static_cast<double>(value.as_uint64());
  } else if (value.is_double()) {
    seconds = value.as_double();
  } else {
    return Malformed("assertion claim " + std::string(name) + " is not a number");
  }
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxNumericDate) {
    return Malformed("assertion claim " + std::string(name) + " is out of range");
  }
  return static_cast<std::int64_t>(std::floor(seconds));
}

std::int64_t UnixSeconds(Timestamp when) {
  return std::chrono::floor<std::chrono::seconds>(when).time_since_epoch().count();
}

}  // namespace

// Builds ClientKeys; the one place that may call ClientKey's private constructor.
class ClientKeyParser {
 public:
  static Result<ClientKey> FromObject(const boost::json::object& jwk) {
    for (std::string_view member : kPrivateMembers) {
      if (jwk.contains(member)) {
        return Malformed("JWK holds a private key member; register the public key only");
      }
    }
    auto kty = RequiredString(jwk, "kty", "JWK");
    if (!kty) return std::unexpected(kty.error());
    auto kid = RequiredString(jwk, "kid", "JWK");
    if (!kid) return std::unexpected(kid.error());
    if (kid->empty() || kid->size() > kMaxKidLength) {
      return Malformed("JWK kid is empty or longer than 256 characters");
    }
    auto use = OptionalString(jwk, "use", "JWK");
    if (!use) return std::unexpected(use.error());
    if (use->has_value() && **use != "sig") return Malformed("JWK use is not sig");
    if (const boost::json::value* ops = jwk.if_contains("key_ops")) {
      bool verify = false;
      if (!ops->is_array()) return Malformed("JWK key_ops is not an array");
      for (const boost::json::value& op : ops->as_array()) {
        if (op.is_string() && op.as_string() == "verify") verify = true;
      }
      if (!verify) return Malformed("JWK key_ops does not allow verify");
    }
    const bool rsa = *kty == "RSA";
    if (!rsa && *kty != "EC") return Malformed("JWK kty is neither RSA nor EC");
    const JwsAlgorithm algorithm = rsa ? JwsAlgorithm::kRs384 : JwsAlgorithm::kEs384;
    auto alg = OptionalString(jwk, "alg", "JWK");
    if (!alg) return std::unexpected(alg.error());
    if (alg->has_value() && **alg != JwsAlgorithmName(algorithm)) {
      return Malformed("JWK alg does not match its key type (RS384 for RSA, ES384 for EC P-384)");
    }
    if (rsa) {
      auto key = RsaKey(jwk);
      if (!key) return std::unexpected(key.error());
      return ClientKey(std::move(*kid), std::move(*key));
    }
    auto key = Es384Key(jwk);
    if (!key) return std::unexpected(key.error());
    return ClientKey(std::move(*kid), std::move(*key));
  }
};

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRs384:
      return "RS384";
    case JwsAlgorithm::kEs384:
      return "ES384";
  }
  return "unknown";
}

std::vector<std::uint8_t> ClientKey::SubjectPublicKeyInfoDer() const {
  unsigned char* der = nullptr;
  // i2d_PUBKEY only reads the key.
  EVP_PKEY* key = rsa_key_ ? const_cast<EVP_PKEY*>(rsa_key_->pkey()) : ec_key_.get();
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return {};
  std::vector<std::uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

bool ClientKey::VerifySignature(std::span<const std::uint8_t> signing_input,
                                std::span<const std::uint8_t> signature) const {
  if (rsa_key_) return rsa_key_->Verify(crypto::RsaDigest::kSha384, signing_input, signature);
  // OpenSSL verifies ECDSA signatures in DER: r||s is re-encoded first.
  if (signature.size() != kEs384SignatureBytes) return false;
  crypto::OpenSslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(signature.data(), kEs384CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + kEs384CoordinateBytes, kEs384CoordinateBytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* out = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &out);
  if (length <= 0) return false;
  const std::vector<std::uint8_t> der(out, out + length);
  OPENSSL_free(out);
  crypto::OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, ec_key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), der.data(), der.size(), signing_input.data(),
                          signing_input.size()) == 1;
}

Result<ClientKey> ParseClientJwk(std::string_view jwk_json) {
  if (jwk_json.size() > kMaxJwkBytes) return Malformed("JWK is longer than 16 KiB");
  auto jwk = ParseObject(jwk_json, "JWK");
  if (!jwk) return std::unexpected(jwk.error());
  return ClientKeyParser::FromObject(*jwk);
}

Result<std::vector<ClientKey>> ParseClientJwks(std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwkBytes) return Malformed("JWK Set is longer than 16 KiB");
  auto jwks = ParseObject(jwks_json, "JWK Set");
  if (!jwks) return std::unexpected(jwks.error());
  const boost::json::value* keys = jwks->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return Malformed("JWK Set has no keys array");
  const boost::json::array& array = keys->as_array();
  if (array.empty() || array.size() > kMaxJwksKeys) {
    return Malformed("JWK Set does not hold 1 to 16 keys");
  }
  std::vector<ClientKey> parsed;
  std::set<std::string> kids;
  for (const boost::json::value& entry : array) {
    if (!entry.is_object()) return Malformed("JWK Set entry is not a JSON object");
    auto key = ClientKeyParser::FromObject(entry.as_object());
    if (!key) return std::unexpected(key.error());
    if (!kids.insert(key->kid()).second) return Malformed("JWK Set has two keys with one kid");
    parsed.push_back(std::move(*key));
  }
  return parsed;
}

Result<CompactJws> ParseCompactJws(std::string_view jws) {
  if (jws.size() > kMaxAssertionBytes) return Malformed("JWS is longer than 8 KiB");
  const std::size_t first = jws.find('.');
  const std::size_t second = first == std::string_view::npos ? first : jws.find('.', first + 1);
  if (second == std::string_view::npos || jws.find('.', second + 1) != std::string_view::npos) {
    return Malformed("JWS does not have exactly three parts");
  }
  const std::string_view header_part = jws.substr(0, first);
  const std::string_view payload_part = jws.substr(first + 1, second - first - 1);
  const std::string_view signature_part = jws.substr(second + 1);
  if (header_part.empty() || payload_part.empty() || signature_part.empty()) {
    return Malformed("JWS has an empty part");
  }
  CompactJws out;
  auto header = DecodeBase64(header_part, Base64Alphabet::kUrlSafe);
  auto payload = DecodeBase64(payload_part, Base64Alphabet::kUrlSafe);
  auto signature = DecodeBase64(signature_part, Base64Alphabet::kUrlSafe);
  if (!header || !payload || !signature) return Malformed("JWS part is not base64url");
  out.header_json = std::move(*header);
  out.payload = std::move(*payload);
  out.signature = std::move(*signature);
  out.signing_input = std::string(jws.substr(0, second));

  auto fields = ParseObject(std::string_view(reinterpret_cast<const char*>(out.header_json.data()),
                                             out.header_json.size()),
                            "JWS header");
  if (!fields) return std::unexpected(fields.error());
  if (fields->contains("crit")) return Denied("JWS header has crit; no extension is supported");
  if (fields->contains("zip")) return Denied("JWS header has zip; compression is not supported");
  for (std::string_view reference : {"jku", "jwk", "x5u", "x5c"}) {
    if (fields->contains(reference)) {
      return Denied(
          "JWS header names or embeds a key (jku/jwk/x5u/x5c); only registered keys count");
    }
  }
  auto alg = RequiredString(*fields, "alg", "JWS header");
  if (!alg) return std::unexpected(alg.error());
  auto kid = OptionalString(*fields, "kid", "JWS header");
  if (!kid) return std::unexpected(kid.error());
  auto typ = OptionalString(*fields, "typ", "JWS header");
  if (!typ) return std::unexpected(typ.error());
  if (typ->has_value() && **typ != "JWT") return Malformed("JWS header typ is not JWT");
  out.alg = std::move(*alg);
  out.kid = kid->value_or(std::string());
  return out;
}

Result<ClientAssertion> VerifyClientAssertion(std::string_view jwt, std::span<const ClientKey> keys,
                                              std::string_view client_id,
                                              std::string_view token_endpoint, Timestamp now) {
  auto jws = ParseCompactJws(jwt);
  if (!jws) return std::unexpected(jws.error());

  // The algorithm is decided by the registered key, never by the token.
  if (jws->alg == "none") return Denied("assertion alg none is refused");
  if (jws->alg.starts_with("HS")) return Denied("assertion alg is symmetric (HS*); refused");
  const std::optional<JwsAlgorithm> algorithm = AlgorithmFromName(jws->alg);
  if (!algorithm) return Denied("assertion alg is not RS384 or ES384");
  if (jws->kid.empty()) return Denied("assertion header has no kid");
  bool kid_known = false;
  const ClientKey* key = nullptr;
  for (const ClientKey& candidate : keys) {
    if (candidate.kid() != jws->kid) continue;
    kid_known = true;
    if (candidate.algorithm() == *algorithm) {
      key = &candidate;
      break;
    }
  }
  if (!kid_known) return Denied("assertion kid names no key registered for this client");
  if (key == nullptr) return Denied("assertion alg does not match the registered key");
  if (!key->VerifySignature(
          std::span(reinterpret_cast<const std::uint8_t*>(jws->signing_input.data()),
                    jws->signing_input.size()),
          jws->signature)) {
    return Denied("assertion signature does not verify");
  }

  // Claims, now that the signer is known.
  auto claims = ParseObject(
      std::string_view(reinterpret_cast<const char*>(jws->payload.data()), jws->payload.size()),
      "assertion claims");
  if (!claims) return std::unexpected(claims.error());
  auto iss = StringClaim(*claims, "iss");
  if (!iss) return std::unexpected(iss.error());
  auto sub = StringClaim(*claims, "sub");
  if (!sub) return std::unexpected(sub.error());
  if (*iss != client_id) return Denied("assertion iss is not the client_id");
  if (*sub != client_id) return Denied("assertion sub is not the client_id");

  auto aud_claim = RequiredClaim(*claims, "aud");
  if (!aud_claim) return std::unexpected(aud_claim.error());
  const boost::json::value* aud = *aud_claim;
  bool audience = false;
  if (aud->is_string()) {
    audience = aud->as_string() == token_endpoint;
  } else if (aud->is_array()) {
    for (const boost::json::value& one : aud->as_array()) {
      if (!one.is_string())
        return Malformed("assertion claim aud has a member that is not a string");
      if (one.as_string() == token_endpoint) audience = true;
    }
  } else {
    return Malformed("assertion claim aud is neither a string nor an array");
  }
  if (!audience) return Denied("assertion aud is not this token endpoint");

  const std::int64_t now_seconds = UnixSeconds(now);
  const std::int64_t skew = kAssertionClockSkew.count();
  auto exp_value = RequiredClaim(*claims, "exp");
  if (!exp_value) return std::unexpected(exp_value.error());
  auto exp = NumericDate(**exp_value, "exp");
  if (!exp) return std::unexpected(exp.error());
  if (*exp <= now_seconds - skew) return Denied("assertion exp has passed");
  if (*exp > now_seconds + kMaxAssertionLifetime.count() + skew) {
    return Denied("assertion exp is more than 5 minutes away");
  }
  for (std::string_view name : {"nbf", "iat"}) {
    const boost::json::value* value = claims->if_contains(name);
    if (value == nullptr) continue;
    auto when = NumericDate(*value, name);
    if (!when) return std::unexpected(when.error());
    if (*when > now_seconds + skew) {
      return Denied("assertion " + std::string(name) + " is in the future");
    }
  }

  auto jti = StringClaim(*claims, "jti");
  if (!jti) return std::unexpected(jti.error());
  if (jti->empty() || jti->size() > kMaxJtiLength) {
    return Denied("assertion jti is empty or longer than 256 characters");
  }

  ClientAssertion out;
  out.client_id = std::string(client_id);
  out.jti = std::move(*jti);
  out.expires_at = Timestamp(std::chrono::seconds(*exp));
  return out;
}

}  // namespace medvault::identity
