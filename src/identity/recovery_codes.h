// Recovery codes: ten single-use codes, shown to the user once at enrollment, that stand in
// for the second factor when the phone or the security key is lost.
//
// A code is 16 characters of Crockford's base32 (digits and letters without I, L, O, U),
// shown as "XXXX-XXXX-XXXX-XXXX". Its first character is its public index 0..9 in the set;
// the other 15 are random: 75 bits, beyond any online guessing and, hashed, beyond offline
// guessing too. Only Argon2id hashes of the codes are stored (PasswordHasher, the password
// cost), so a copied database does not give them back.
//
// Security property: one attempt costs exactly one Argon2id verification, whatever the
// input: the index picks the one stored hash to check (no loop over ten hashes), and an
// index with no stored code, or with a used one, runs the hasher's dummy verification
// instead, so timing does not tell which codes are left. Hash comparison is libsodium's,
// in constant time. The caller marks the returned index used, stores that before it
// answers, and throttles attempts as for passwords.
//
// Entry is forgiving: lower case, spaces and hyphens are accepted, and O, I and L read as
// 0, 1 and 1, as Crockford's base32 specifies.
//
// Failures: kInvalidArgument for text that cannot be a code (wrong length or characters;
// answered at once, no hash runs), kPermissionDenied for a wrong or already used code,
// kUnavailable when the hasher's queue is full, kInternal if hashing fails. Messages never
// contain a code. Thread-safe: stateless (work runs on the hasher's pool).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/wiped_text.h"
#include "identity/password_hasher.h"

namespace medvault::identity {

inline constexpr std::size_t kRecoveryCodeCount = 10;
inline constexpr std::size_t kRecoveryCodeCharacters = 16;  // 1 index + 15 random (75 bits)

struct NewRecoveryCodes {
  std::vector<crypto::WipedText> codes;  // codes[i], "XXXX-XXXX-XXXX-XXXX", has index i
  std::vector<std::string> hashes;       // hashes[i]: the Argon2id PHC string to store
};

// Ten fresh codes and their hashes, computed on the hasher's pool as one job.
void GenerateRecoveryCodes(PasswordHasher& hasher,
                           std::function<void(Result<NewRecoveryCodes>)> done);

// What the caller stores per code, in index order.
struct StoredRecoveryCode {
  std::string hash;
  bool used = false;
};

// The canonical form of an entered code (16 upper-case characters) and its index.
struct ParsedRecoveryCode {
  std::size_t index = 0;
  Secret canonical;
};
Result<ParsedRecoveryCode> ParseRecoveryCode(std::string_view entered);

// Checks `entered` against `stored` (copied as needed: the span may go away once this
// returns). `done` gets the index of the code that matched; the caller marks it used.
void VerifyRecoveryCode(PasswordHasher& hasher, std::span<const StoredRecoveryCode> stored,
                        std::string_view entered, std::function<void(Result<std::size_t>)> done);

}  // namespace medvault::identity
