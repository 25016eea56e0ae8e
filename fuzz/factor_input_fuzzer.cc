// libFuzzer target for what a user types into the second-factor and password forms: the bytes
// go through NormalizePassword and CheckNewPassword (utf8proc, name folding, libzxcvbn), the
// recovery-code parser, and the TOTP code parser of VerifyTotp. A broken invariant aborts:
// normalization is idempotent and yields valid UTF-8 that normalizes to itself; a refusal is
// kInvalidArgument with a message that never contains the input; a parsed recovery code is 16
// characters of Crockford's base32 whose first names an index 0..9; a TOTP code is accepted
// only when it equals the code of one of the three candidate steps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "identity/password_policy.h"
#include "identity/recovery_codes.h"
#include "identity/totp.h"

namespace {

using namespace medvault;
using namespace medvault::identity;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

std::string_view View(const Secret& secret) {
  return {reinterpret_cast<const char*>(secret.bytes().data()), secret.size()};
}

void CheckMessage(const Error& error, std::string_view input) {
  Require(error.code() == ErrorCode::kInvalidArgument, "refusal is kInvalidArgument");
  Require(input.size() < 4 || error.message().find(input) == std::string::npos,
          "message does not quote the input");
}

void FuzzPassword(std::string_view input) {
  auto normalized = NormalizePassword(input);
  if (!normalized) return CheckMessage(normalized.error(), input);
  auto again = NormalizePassword(View(*normalized));
  Require(again.has_value(), "a normalized password normalizes again");
  Require(again->Equals(*normalized), "NFKC is idempotent");
  const std::vector<std::string> terms = {"Hélène Lefèvre", "hlefevre@chu-exemple.fr"};
  auto status = CheckNewPassword(*normalized, terms);
  if (!status) CheckMessage(status.error(), input);
  const int score = PasswordScore(*normalized, terms);
  Require(score >= 0 && score <= 4, "score is 0..4");
}

void FuzzRecoveryCode(std::string_view input) {
  auto parsed = ParseRecoveryCode(input);
  if (!parsed) return CheckMessage(parsed.error(), input);
  Require(parsed->canonical.size() == kRecoveryCodeCharacters, "16 characters");
  Require(parsed->index < kRecoveryCodeCount, "index 0..9");
  constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (char c : View(parsed->canonical)) {
    Require(kAlphabet.find(c) != std::string_view::npos, "Crockford base32 only");
  }
  Require(View(parsed->canonical)[0] == static_cast<char>('0' + parsed->index),
          "the first character is the index");
}

void FuzzTotp(std::string_view input) {
  static const Secret secret = [] {
    auto seed = Secret::CopyOf({reinterpret_cast<const std::uint8_t*>("12345678901234567890"), 20});
    if (!seed) std::abort();
    return std::move(*seed);
  }();
  const Timestamp now{std::chrono::seconds(1'111'111'111)};
  auto step = VerifyTotp(secret, input, now, 0);
  if (!step) {
    Require(step.error().code() == ErrorCode::kInvalidArgument ||
                step.error().code() == ErrorCode::kPermissionDenied,
            "a refused code is invalid or denied");
    return;
  }
  Require(*step >= TotpStep(now) - 1 && *step <= TotpStep(now) + 1, "step in the window");
  std::string digits;
  for (char c : input) {
    if (c != ' ') digits.push_back(c);
  }
  auto expected = TotpCode(secret, *step);
  Require(expected.has_value() && *expected == digits, "accepted code is the step's code");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzPassword(input);
  FuzzRecoveryCode(input);
  FuzzTotp(input);
  return 0;
}
