// COSE public keys (RFC 9052/9053, RFC 8230) as WebAuthn authenticators send them, and the
// signature check of the three algorithms medvault accepts: ES256 (ECDSA on P-256 with
// SHA-256, DER signatures, COSE -7), EdDSA (Ed25519, COSE -8) and RS256 (RSASSA-PKCS1-v1_5
// with SHA-256, COSE -257, what Windows Hello and some security keys use).
//
// Security property: a CosePublicKey only exists for a key that is fully specified and valid:
// ES256 needs kty EC2, crv P-256 and a point on the curve; EdDSA needs kty OKP, crv Ed25519 and
// a valid 32-byte point; RS256 needs kty RSA and a modulus and exponent as
// crypto::RsaPublicKey requires (2048 to 8192 bits). Any other algorithm, curve, key type or
// extra member is refused, so a stored key cannot be downgraded to a weaker check. Verify
// accepts only strict encodings (DER exactly as OpenSSL re-encodes it for ECDSA; libsodium's
// canonical rules for Ed25519; a PKCS#1 v1.5 signature as long as the modulus), so a signature
// has one accepted form. Thread-safe: CosePublicKey is immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "crypto/rsa_signature.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace medvault::identity {

enum class CoseAlgorithm : int {
  kEs256 = -7,
  kEdDsa = -8,
  kRs256 = -257,
};

class CosePublicKey {
 public:
  // Parses exactly one COSE_Key (a CBOR map, no trailing bytes). kInvalidArgument when it is
  // malformed or not one of the accepted key kinds.
  static Result<CosePublicKey> Parse(std::span<const std::uint8_t> cose_key);

  // A P-256 key from its SEC1 uncompressed point (0x04 || x || y, 65 bytes), as Wycheproof
  // publishes keys. kInvalidArgument when the point is not on the curve.
  static Result<CosePublicKey> FromP256Point(std::span<const std::uint8_t> uncompressed_point);
  // An Ed25519 key from its 32 bytes. kInvalidArgument unless they encode a point of the
  // prime-order subgroup (small-order and non-canonical encodings are refused).
  static Result<CosePublicKey> FromEd25519(std::span<const std::uint8_t> public_key);
  // An RS256 key from its big-endian modulus and exponent (no leading zero octets).
  // kInvalidArgument when crypto::RsaPublicKey refuses them.
  static Result<CosePublicKey> FromRsa(std::span<const std::uint8_t> modulus,
                                       std::span<const std::uint8_t> exponent);

  CoseAlgorithm algorithm() const { return algorithm_; }

  // True only when `signature` is valid over `message` under this key: for ES256 a DER
  // ECDSA-Sig-Value over SHA-256(message), for EdDSA a 64-byte Ed25519 signature, for RS256
  // a PKCS#1 v1.5 signature over SHA-256(message). Anything malformed is simply invalid.
  bool Verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const;

 private:
  CosePublicKey(CoseAlgorithm algorithm, std::vector<std::uint8_t> key,
                std::shared_ptr<const evp_pkey_st> es256_key)
      : algorithm_(algorithm), key_(std::move(key)), es256_key_(std::move(es256_key)) {}
  explicit CosePublicKey(crypto::RsaPublicKey rs256_key)
      : algorithm_(CoseAlgorithm::kRs256), rs256_key_(std::move(rs256_key)) {}

  CoseAlgorithm algorithm_;
  std::vector<std::uint8_t> key_;  // ES256: the 65-byte uncompressed point; EdDSA: 32 bytes
  // ES256: the decoded and checked OpenSSL key, shared by copies and only read (OpenSSL
  // verification with one EVP_PKEY is thread-safe).
  std::shared_ptr<const evp_pkey_st> es256_key_;
  std::optional<crypto::RsaPublicKey> rs256_key_;  // RS256 only
};

}  // namespace medvault::identity
