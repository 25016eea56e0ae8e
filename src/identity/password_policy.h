// What a new password must be (NIST SP 800-63B rev 4, section 3.1.1.2; OWASP ASVS 2.1):
// long enough, hard to guess, not a known common password, and not built on the user's own
// name or login. No composition rules, no expiry.
//
// Every password, at enrollment and at each login, first goes through NormalizePassword:
// Unicode NFKC, so that the same characters typed on another keyboard or phone ("é" precomposed
// or as "e" + accent, full-width letters, ligatures) give the same bytes to hash.
//
// CheckNewPassword refuses, each time with kInvalidArgument and a message a patient can act
// on (it never repeats the password):
// - fewer than kMinPasswordCharacters or more than kMaxPasswordCharacters characters,
//   counted as Unicode code points after normalization; control characters (line breaks,
//   tabs);
// - the user's name or login inside the password, compared case- and accent-folded
//   (crypto::NormalizeName: "Hélène" is found in "HELENE2024!");
// - a zxcvbn score under 3 (libzxcvbn, the C port of Dropbox's zxcvbn; its dictionaries of
//   common and leaked passwords, English words, names and keyboard patterns, plus French ones
//   listed in password_policy.cc and the personal terms); a password made mostly of those
//   dictionary words gets the "too common" message, any other weak one "too easy to guess".
//
// Thread-safe: stateless (libzxcvbn keeps no writable global state). Work is bounded by the
// length limits: NormalizePassword refuses more than kMaxPasswordInputBytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::identity {

inline constexpr std::size_t kMinPasswordCharacters = 12;
inline constexpr std::size_t kMaxPasswordCharacters = 256;
// Larger than any password the policy accepts (256 code points of up to 4 bytes), so a login
// is never refused for a length that enrollment allowed.
inline constexpr std::size_t kMaxPasswordInputBytes = 4096;
inline constexpr int kMinPasswordScore = 3;

// NFKC of `utf8` in guarded memory. kInvalidArgument on invalid UTF-8 (overlong forms and
// surrogates included), unassigned code points (their normalization may change in a later
// Unicode), or more than kMaxPasswordInputBytes.
Result<Secret> NormalizePassword(std::string_view utf8);

// The zxcvbn score 0..4 of a normalized password, with `personal_terms` as extra dictionary
// words; for a strength meter. Thresholds as in zxcvbn (see password_policy.cc).
int PasswordScore(const Secret& normalized, std::span<const std::string> personal_terms);

// Ok when `normalized` (from NormalizePassword) may be set as a new password for the user
// whose name, login and similar terms are `personal_terms`.
Status CheckNewPassword(const Secret& normalized, std::span<const std::string> personal_terms);

}  // namespace medvault::identity
