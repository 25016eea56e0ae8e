// HMAC-SHA256 (RFC 2104) with a key of any length, and HKDF-SHA256 (RFC 5869) built on it.
// Used for blind indexes (a keyed hash of a normalized field value) and to derive subkeys.
// HMAC-SHA1 exists only for TOTP (identity/totp.h), whose authenticator apps fix SHA-1.
//
// Security property: without the key, a tag cannot be computed or checked, so a copied
// database does not let a thief test guessed values offline. Thread-safe: stateless.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

inline constexpr std::size_t kHmacSha256Bytes = 32;
// Tags shorter than this are not accepted for verification (blind-index tokens are truncated
// further on purpose, but they are compared as tokens, never verified as MACs).
inline constexpr std::size_t kHmacMinVerifyBytes = 16;

using HmacSha256Tag = std::array<std::uint8_t, kHmacSha256Bytes>;

// The full 32-byte tag of `message` under `key`. Fails only if libsodium cannot initialize.
Result<HmacSha256Tag> HmacSha256(const Secret& key, std::span<const std::uint8_t> message);

// Checks `tag` in constant time; a tag shorter than 32 bytes is compared with the same-length
// prefix of the full tag (truncated HMAC). Fails with kInvalidArgument for a tag shorter than
// kHmacMinVerifyBytes or longer than 32 bytes, with kDataLoss when it does not match.
Status VerifyHmacSha256(const Secret& key, std::span<const std::uint8_t> message,
                        std::span<const std::uint8_t> tag);

inline constexpr std::size_t kHmacSha1Bytes = 20;
using HmacSha1Tag = std::array<std::uint8_t, kHmacSha1Bytes>;

// The full 20-byte HMAC-SHA1 tag (OpenSSL). Only for TOTP (RFC 6238, the algorithm every
// authenticator app implements): HMAC-SHA1 is still a PRF, SHA-1's collisions do not break
// it, but new designs use HmacSha256. Fails with kInternal if OpenSSL fails.
Result<HmacSha1Tag> HmacSha1(const Secret& key, std::span<const std::uint8_t> message);

// HKDF-SHA256: extract with `salt`, expand with `info` to `size` bytes (at most 255 * 32)
// into guarded memory. Fails with kInvalidArgument on a bad size.
Result<Secret> HkdfSha256(const Secret& input_key, std::span<const std::uint8_t> salt,
                          std::span<const std::uint8_t> info, std::size_t size);

}  // namespace medvault::crypto
