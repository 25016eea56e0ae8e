// Bearer secrets and one-time codes. A token is 256 random bits in base64url; a one-time code
// is 80 random bits in 16 Crockford base32 characters ("7KQ2-M9XD-4RTB-HV3C"), short enough to
// print on a receipt and type on a phone. The store keeps only their SHA-256, so a copy of
// the database opens no session and activates no account.
//
// Thread-safe: stateless. Failures: kInternal when the CSPRNG or OpenSSL fails.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "crypto/wiped_text.h"

namespace medvault::identity {

inline constexpr std::size_t kTokenBytes = 32;
inline constexpr std::size_t kTokenHashBytes = 32;
inline constexpr std::size_t kOneTimeCodeCharacters = 16;

struct IssuedToken {
  crypto::WipedText text;          // what the client holds
  std::vector<std::uint8_t> hash;  // what the store keeps
};

// SHA-256 of `text`'s bytes.
std::vector<std::uint8_t> Sha256(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> Sha256(std::string_view text);

// A fresh 256-bit token and its hash.
Result<IssuedToken> NewToken();

// A fresh random public handle (32 hex characters), for ids that are shown to users.
Result<std::string> NewHandle();

// A fresh one-time code, grouped by four with dashes, and its hash.
Result<IssuedToken> NewOneTimeCode();

// The hash of a code as typed: case, dashes and spaces are ignored and the look-alikes
// O, I and L read as 0, 1 and 1. nullopt when it is not 16 base32 characters.
std::optional<std::vector<std::uint8_t>> HashTypedOneTimeCode(std::string_view typed);

}  // namespace medvault::identity
