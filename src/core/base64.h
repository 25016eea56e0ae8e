// Base64 text of public bytes (RFC 4648): the standard alphabet with padding, and the URL-safe
// alphabet without padding that WebAuthn, JOSE (JWT, JWK) and cookies use. Not for secrets:
// the strings these return are ordinary memory (encode a Secret with libsodium directly into
// guarded memory, as crypto/master_key_file.cc does). Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace medvault {

enum class Base64Alphabet {
  kStandard,  // A-Z a-z 0-9 + /, padded with '='
  kUrlSafe,   // A-Z a-z 0-9 - _, no padding
};

std::string EncodeBase64(std::span<const std::uint8_t> bytes, Base64Alphabet alphabet);

// Strict decoding: only the alphabet's characters, no whitespace; padding exactly as the
// alphabet has it. kInvalidArgument otherwise (the message does not quote the text).
Result<std::vector<std::uint8_t>> DecodeBase64(std::string_view text, Base64Alphabet alphabet);

}  // namespace medvault
