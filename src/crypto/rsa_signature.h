// RSASSA-PKCS1-v1_5 signature checks (RFC 8017 section 8.2) with public keys built from their
// modulus and exponent: machine clients' RS384 JWT assertions (identity/client_assertion.h)
// and RS256 passkeys (COSE -257, identity/cose_key.h) share this one implementation.
//
// Security property: an RsaPublicKey only exists for a modulus of kMinRsaModulusBits to
// kMaxRsaModulusBits bits and an odd exponent in [3, 2^64), both minimally encoded, that pass
// OpenSSL's public key check; so a small or malformed key cannot be registered and one
// verification costs a bounded time. Verify accepts only a signature exactly as long as the
// modulus, with PKCS#1 v1.5 padding (never PSS or raw RSA) over the named digest.
// Failures: kInvalidArgument naming the check that failed, never quoting the key.
// Thread-safe: RsaPublicKey is immutable and shares its OpenSSL key between copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/error.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace medvault::crypto {

inline constexpr std::size_t kMinRsaModulusBits = 2048;
inline constexpr std::size_t kMaxRsaModulusBits = 8192;  // bounds the cost of one verification

enum class RsaDigest { kSha256, kSha384 };

class RsaPublicKey {
 public:
  // From the big-endian unsigned modulus and public exponent, without leading zero octets
  // (JWK Base64urlUInt and COSE kty 3 both require the minimal form).
  static Result<RsaPublicKey> FromModulusAndExponent(std::span<const std::uint8_t> modulus,
                                                     std::span<const std::uint8_t> exponent);

  // The modulus length in bytes: the length of every valid signature.
  std::size_t modulus_bytes() const { return modulus_bytes_; }

  // True only when `signature` is a PKCS#1 v1.5 signature over digest(message). Anything else,
  // a signature of another length included, is simply invalid.
  bool Verify(RsaDigest digest, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature) const;

  // The OpenSSL key, e.g. to encode it as a SubjectPublicKeyInfo; only read it.
  const evp_pkey_st* pkey() const { return key_.get(); }

 private:
  RsaPublicKey(std::shared_ptr<const evp_pkey_st> key, std::size_t modulus_bytes)
      : key_(std::move(key)), modulus_bytes_(modulus_bytes) {}

  std::shared_ptr<const evp_pkey_st> key_;
  std::size_t modulus_bytes_;
};

}  // namespace medvault::crypto
