#include "identity/recovery_codes.h"

#include <sodium.h>

#include <memory>
#include <utility>

namespace medvault::identity {
namespace {

// Crockford's base32 (www.crockford.com/base32.html): no I, L, O or U.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static_assert(kRecoveryCodeCount <= 10, "the index is one digit");

// The alphabet value of an entered character, Crockford's decoding rules; -1 otherwise.
int ValueOf(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  const std::size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::unexpected<Error> NotACode() {
  return Fail(ErrorCode::kInvalidArgument,
              "a recovery code has 16 letters and digits, as XXXX-XXXX-XXXX-XXXX");
}

}  // namespace

Result<ParsedRecoveryCode> ParseRecoveryCode(std::string_view entered) {
  if (entered.size() > 4 * kRecoveryCodeCharacters) return NotACode();
  auto canonical = Secret::Allocate(kRecoveryCodeCharacters);
  if (!canonical) return std::unexpected(canonical.error());
  std::size_t count = 0;
  for (char c : entered) {
    if (c == '-' || c == ' ') continue;
    const int value = ValueOf(c);
    if (value < 0 || count == kRecoveryCodeCharacters) return NotACode();
    canonical->mutable_bytes()[count++] = static_cast<std::uint8_t>(kAlphabet[value]);
  }
  if (count != kRecoveryCodeCharacters) return NotACode();
  const std::size_t index =
      static_cast<std::size_t>(ValueOf(static_cast<char>(canonical->bytes()[0])));
  if (index >= kRecoveryCodeCount) return NotACode();
  return ParsedRecoveryCode{.index = index, .canonical = std::move(*canonical)};
}

void GenerateRecoveryCodes(PasswordHasher& hasher,
                           std::function<void(Result<NewRecoveryCodes>)> done) {
  auto codes = std::make_shared<NewRecoveryCodes>();
  std::vector<Secret> canonicals;
  for (std::size_t index = 0; index < kRecoveryCodeCount; ++index) {
    auto canonical = Secret::Allocate(kRecoveryCodeCharacters);
    if (!canonical) return done(std::unexpected(canonical.error()));
    std::span<std::uint8_t> characters = canonical->mutable_bytes();
    characters[0] = static_cast<std::uint8_t>(kAlphabet[index]);
    for (std::size_t i = 1; i < characters.size(); ++i) {
      characters[i] = static_cast<std::uint8_t>(kAlphabet[randombytes_uniform(kAlphabet.size())]);
    }
    crypto::WipedText shown;
    shown.get().reserve(kRecoveryCodeCharacters + 3);
    for (std::size_t i = 0; i < characters.size(); ++i) {
      if (i > 0 && i % 4 == 0) shown.get().push_back('-');
      shown.get().push_back(static_cast<char>(characters[i]));
    }
    codes->codes.push_back(std::move(shown));
    canonicals.push_back(std::move(*canonical));
  }
  hasher.HashAll(std::move(canonicals),
                 [codes, done = std::move(done)](Result<std::vector<std::string>> hashes) {
                   if (!hashes) return done(std::unexpected(hashes.error()));
                   codes->hashes = std::move(*hashes);
                   done(std::move(*codes));
                 });
}

void VerifyRecoveryCode(PasswordHasher& hasher, std::span<const StoredRecoveryCode> stored,
                        std::string_view entered, std::function<void(Result<std::size_t>)> done) {
  auto parsed = ParseRecoveryCode(entered);
  if (!parsed) return done(std::unexpected(parsed.error()));
  const std::size_t index = parsed->index;
  const auto refused = [] {
    return Fail(ErrorCode::kPermissionDenied, "the recovery code is wrong or already used");
  };
  auto answer = [index, refused, done = std::move(done)](Result<PasswordHasher::Verdict> verdict) {
    if (!verdict) return done(std::unexpected(verdict.error()));
    if (!verdict->match) return done(refused());
    done(index);
  };
  if (index >= stored.size() || stored[index].used) {
    // The same work as a real check, so a used code looks like a wrong one.
    return hasher.VerifyDummy(std::move(parsed->canonical), std::move(answer));
  }
  hasher.Verify(stored[index].hash, std::move(parsed->canonical), std::move(answer));
}

}  // namespace medvault::identity
