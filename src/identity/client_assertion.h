// private_key_jwt client authentication for machine clients (SMART Backend Services, RFC 7523):
// a registered public JWK (RFC 7517/7518) and the signed JWT assertion (RFC 7515 compact JWS)
// a client sends to the token endpoint with client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer.
//
// Security property: VerifyClientAssertion accepts only an assertion signed with RS384
// (RSASSA-PKCS1-v1_5, SHA-384, modulus >= 2048 bits) or ES384 (ECDSA P-384, SHA-384, the
// 96-byte r||s signature) by a registered key with the header's `kid`, whose algorithm is the
// key's own; "none", HMAC and every other algorithm are refused before any key is looked at,
// and no key named or embedded in the token (jku, jwk, x5u, x5c) is ever used. The claims
// are read only after the signature verified. Replay of a `jti` is the caller's check: it
// keeps each accepted jti until the returned expires_at has passed (plus kAssertionClockSkew).
//
// Failures: kInvalidArgument for input that is not a well-formed JWK/JWS/JSON, and
// kPermissionDenied for a well-formed assertion that fails a check. Messages name the check
// that failed and never quote the token, the key or any value the client sent.
// Thread safety: every function is stateless; a ClientKey is immutable and may be shared
// between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "crypto/rsa_signature.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace medvault::identity {

// Limits on untrusted input, checked before anything is decoded.
inline constexpr std::size_t kMaxAssertionBytes = 8 * 1024;
inline constexpr std::size_t kMaxJwkBytes = 16 * 1024;
inline constexpr std::size_t kMaxJwksKeys = 16;
inline constexpr std::size_t kMaxKidLength = 256;
inline constexpr std::size_t kMaxJtiLength = 256;
// Tolerated difference between the client's clock and ours, on exp, nbf and iat.
inline constexpr std::chrono::seconds kAssertionClockSkew{30};
// The longest an assertion may live: exp at most this far after now (plus the skew).
inline constexpr std::chrono::seconds kMaxAssertionLifetime{300};

// The only JWS algorithms medvault accepts from clients (SMART Backend Services' two).
enum class JwsAlgorithm { kRs384, kEs384 };

// "RS384" or "ES384".
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

// A registered client public key, parsed and checked: RSA (n, e as crypto::RsaPublicKey
// requires: n of 2048 to 8192 bits, e odd and > 1) for RS384, or EC P-384 (x, y on the curve) for
// ES384. Cheap to copy (shared, immutable OpenSSL key).
class ClientKey {
 public:
  const std::string& kid() const { return kid_; }
  JwsAlgorithm algorithm() const { return algorithm_; }

  // The key as a DER SubjectPublicKeyInfo (RFC 5280), e.g. to compare or fingerprint it.
  std::vector<std::uint8_t> SubjectPublicKeyInfoDer() const;

  // Checks a raw JWS signature (RFC 7518 §3.3 / §3.4: PKCS#1 v1.5 bytes for RS384, r||s of
  // 48 bytes each for ES384; a DER-encoded ECDSA signature is refused) over `signing_input`.
  bool VerifySignature(std::span<const std::uint8_t> signing_input,
                       std::span<const std::uint8_t> signature) const;

 private:
  friend class ClientKeyParser;
  ClientKey(std::string kid, crypto::RsaPublicKey rsa_key)
      : kid_(std::move(kid)), algorithm_(JwsAlgorithm::kRs384), rsa_key_(std::move(rsa_key)) {}
  ClientKey(std::string kid, std::shared_ptr<evp_pkey_st> ec_key)
      : kid_(std::move(kid)), algorithm_(JwsAlgorithm::kEs384), ec_key_(std::move(ec_key)) {}

  std::string kid_;
  JwsAlgorithm algorithm_;
  std::optional<crypto::RsaPublicKey> rsa_key_;  // RS384
  std::shared_ptr<evp_pkey_st> ec_key_;          // ES384
};

// One public JWK (RFC 7517 §4). `kid` is required; `alg`, if present, must be RS384 for an RSA
// key and ES384 for an EC key; `use`, if present, must be "sig"; `key_ops`, if present, must
// contain "verify". Any private member (d, p, q, dp, dq, qi, oth, k) is refused: a client
// registers its public key only. Base64urlUInt members must have no leading zero octet, and EC
// coordinates must be the full 48 bytes (RFC 7518 §6.2.1.2, §6.3.1.1). Members the RFCs define
// for other purposes (x5c, x5t, ...) are ignored. Costs milliseconds for an RSA key (OpenSSL's
// public key check, see bench/results): parse at registration or load and keep the ClientKey.
Result<ClientKey> ParseClientJwk(std::string_view jwk_json);

// A JWK Set (RFC 7517 §5) `{"keys":[...]}`: 1 to kMaxJwksKeys keys, each as ParseClientJwk
// requires, with distinct kids.
Result<std::vector<ClientKey>> ParseClientJwks(std::string_view jwks_json);

// A compact JWS split and decoded, not yet verified.
struct CompactJws {
  std::string alg;
  std::string kid;            // empty when the header has none
  std::string signing_input;  // BASE64URL(header) "." BASE64URL(payload): what is signed
  std::vector<std::uint8_t> header_json;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> signature;
};

// The strict compact serialization: at most kMaxAssertionBytes, exactly three non-empty parts
// of unpadded base64url, a header that is a JSON object with a string `alg`, `kid` a string if
// present, `typ` if present exactly "JWT". A header with `crit` (no extension is understood),
// `zip`, or a key reference (jku, jwk, x5u, x5c) is refused with kPermissionDenied: those keys are
// never honoured. Duplicate header names: the last one counts (RFC 7515 §4 allows this). The
// algorithm is not checked here.
Result<CompactJws> ParseCompactJws(std::string_view jws);

// What an accepted assertion tells the token endpoint.
struct ClientAssertion {
  std::string client_id;
  std::string jti;
  Timestamp expires_at;  // keep the jti as used until then (plus kAssertionClockSkew)
};

// Checks a client assertion (RFC 7523 §3, SMART Backend Services): the JWS as ParseCompactJws
// requires, with a kid; alg RS384 or ES384 (never none/HS*/RS256/...), the key in `keys` with the
// header's kid, alg equal to that key's algorithm, the signature; then the claims: iss == sub ==
// client_id, aud == token_endpoint (a string, or an array that contains it), exp present and
// within (now - skew, now + 5 min + skew], nbf and iat, if present, not after now + skew, jti
// a non-empty string of at most kMaxJtiLength characters. kPermissionDenied when a check fails
// (a required claim missing included), kInvalidArgument when the token or a claim is malformed
// (wrong parts, base64url, JSON, a claim of the wrong JSON type); the token endpoint answers
// both with invalid_client (RFC 6749 §5.2). Costs one signature verification, no I/O.
Result<ClientAssertion> VerifyClientAssertion(std::string_view jwt, std::span<const ClientKey> keys,
                                              std::string_view client_id,
                                              std::string_view token_endpoint, Timestamp now);

}  // namespace medvault::identity
