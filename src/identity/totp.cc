#include "identity/totp.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <optional>

#include "crypto/hmac.h"

namespace medvault::identity {
namespace {

constexpr std::uint32_t kTotpModulus = 1'000'000;  // 10^kTotpDigits
static_assert(kTotpDigits == 6);

// The HOTP value of `step` (RFC 4226 section 5.3: dynamic truncation), before the modulus.
Result<std::uint32_t> HotpValue(const Secret& secret, std::int64_t step) {
  std::array<std::uint8_t, 8> counter{};
  auto value = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
  auto tag = crypto::HmacSha1(secret, counter);
  if (!tag) return std::unexpected(tag.error());
  const std::size_t offset = (*tag)[crypto::kHmacSha1Bytes - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>((*tag)[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>((*tag)[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>((*tag)[offset + 2]) << 8) |
                               static_cast<std::uint32_t>((*tag)[offset + 3]);
  sodium_memzero(tag->data(), tag->size());
  return binary;
}

using CodeDigits = std::array<char, kTotpDigits>;

CodeDigits DigitsOf(std::uint32_t value) {
  CodeDigits digits{};
  value %= kTotpModulus;
  for (int i = kTotpDigits - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return digits;
}

// The six digits of an entered code, spaces removed; nothing when it is not six digits.
std::optional<CodeDigits> ParseCode(std::string_view code) {
  CodeDigits digits{};
  std::size_t count = 0;
  for (char c : code) {
    if (c == ' ') continue;
    if (c < '0' || c > '9' || count == digits.size()) return std::nullopt;
    digits[count++] = c;
  }
  if (count != digits.size()) return std::nullopt;
  return digits;
}

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendPercentEncoded(std::string& out, std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
}

}  // namespace

Result<Secret> NewTotpSecret() { return Secret::Random(kTotpSecretBytes); }

std::int64_t TotpStep(Timestamp now) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  // Floor division, so that instants before 1970 fall in the step that contains them.
  std::int64_t step = seconds / kTotpPeriodSeconds;
  if (seconds % kTotpPeriodSeconds < 0) --step;
  return step;
}

Result<std::string> TotpCode(const Secret& secret, std::int64_t step) {
  auto value = HotpValue(secret, step);
  if (!value) return std::unexpected(value.error());
  const CodeDigits digits = DigitsOf(*value);
  return std::string(digits.begin(), digits.end());
}

Result<std::int64_t> VerifyTotp(const Secret& secret, std::string_view code, Timestamp now,
                                std::int64_t last_used_step) {
  if (secret.size() < kTotpMinSecretBytes) {
    return Fail(ErrorCode::kInvalidArgument, "TOTP secret is shorter than 128 bits");
  }
  const std::optional<CodeDigits> entered = ParseCode(code);
  if (!entered) return Fail(ErrorCode::kInvalidArgument, "the code must be 6 digits");

  const std::int64_t current = TotpStep(now);
  std::optional<std::int64_t> matched;
  // Every candidate is computed and compared, whatever matched before it.
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    auto value = HotpValue(secret, step);
    if (!value) return std::unexpected(value.error());
    CodeDigits expected = DigitsOf(*value);
    const bool equal = sodium_memcmp(expected.data(), entered->data(), expected.size()) == 0;
    sodium_memzero(expected.data(), expected.size());
    if (equal && step > last_used_step && !matched) matched = step;
  }
  if (!matched) return Fail(ErrorCode::kPermissionDenied, "the code is wrong or already used");
  return *matched;
}

crypto::WipedText TotpSecretBase32(const Secret& secret) {
  const std::span<const std::uint8_t> bytes = secret.bytes();
  crypto::WipedText text;
  std::string& out = text.get();
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
  sodium_memzero(&buffer, sizeof buffer);
  return text;
}

crypto::WipedText OtpauthUri(std::string_view issuer, std::string_view account,
                             const Secret& secret) {
  const crypto::WipedText base32 = TotpSecretBase32(secret);
  crypto::WipedText uri;
  std::string& out = uri.get();
  // Reserved up front so that growing the string leaves no unwiped copy of the secret.
  out.reserve(96 + base32.view().size() + 3 * (2 * issuer.size() + account.size()));
  out.append("otpauth://totp/");
  AppendPercentEncoded(out, issuer);
  out.push_back(':');
  AppendPercentEncoded(out, account);
  out.append("?secret=");
  out.append(base32.view());
  out.append("&issuer=");
  AppendPercentEncoded(out, issuer);
  out.append("&algorithm=SHA1&digits=6&period=30");
  return uri;
}

}  // namespace medvault::identity
