#include "identity/tokens.h"

#include <openssl/sha.h>

#include "core/base64.h"
#include "core/secret.h"

namespace medvault::identity {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::vector<std::uint8_t> Sha256(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> digest(SHA256_DIGEST_LENGTH);
  SHA256(bytes.data(), bytes.size(), digest.data());
  return digest;
}

std::vector<std::uint8_t> Sha256(std::string_view text) {
  return Sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                              text.size()));
}

Result<IssuedToken> NewToken() {
  auto random = Secret::Random(kTokenBytes);
  if (!random) return std::unexpected(random.error());
  crypto::WipedText text(EncodeBase64(random->bytes(), Base64Alphabet::kUrlSafe));
  auto hash = Sha256(text.view());
  return IssuedToken{std::move(text), std::move(hash)};
}

Result<std::string> NewHandle() {
  auto random = Secret::Random(16);
  if (!random) return std::unexpected(random.error());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : random->bytes()) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<IssuedToken> NewOneTimeCode() {
  auto random = Secret::Random(kOneTimeCodeCharacters);
  if (!random) return std::unexpected(random.error());
  std::string canonical;
  std::string grouped;
  for (std::size_t i = 0; i < kOneTimeCodeCharacters; ++i) {
    const char c = kCrockford[random->bytes()[i] & 31];
    canonical.push_back(c);
    if (i > 0 && i % 4 == 0) grouped.push_back('-');
    grouped.push_back(c);
  }
  crypto::WipedText wiped_canonical(std::move(canonical));
  auto hash = Sha256(wiped_canonical.view());
  return IssuedToken{crypto::WipedText(std::move(grouped)), std::move(hash)};
}

std::optional<std::vector<std::uint8_t>> HashTypedOneTimeCode(std::string_view typed) {
  if (typed.size() > 64) return std::nullopt;
  std::string canonical;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (kCrockford.find(c) == std::string_view::npos) return std::nullopt;
    canonical.push_back(c);
  }
  if (canonical.size() != kOneTimeCodeCharacters) return std::nullopt;
  crypto::WipedText wiped(std::move(canonical));
  return Sha256(wiped.view());
}

}  // namespace medvault::identity
