#include "identity/totp.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <string_view>

namespace medvault::identity {
namespace {

constexpr std::int64_t kNeverUsed = std::numeric_limits<std::int64_t>::min();

Timestamp AtUnix(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

Secret SecretOf(std::string_view text) {
  auto secret = Secret::CopyOf({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  EXPECT_TRUE(secret);
  return std::move(*secret);
}

// RFC 6238 appendix B, the SHA-1 rows: the seed is the ASCII string "12345678901234567890".
// The appendix prints 8 digits; the 6-digit code is the same value mod 10^6, its last six.
struct AppendixRow {
  std::int64_t unix_seconds;
  std::int64_t step;
  std::string_view eight_digits;
};
constexpr std::array<AppendixRow, 6> kAppendixB{{
    {59, 0x1, "94287082"},
    {1111111109, 0x23523EC, "07081804"},
    {1111111111, 0x23523ED, "14050471"},
    {1234567890, 0x273EF07, "89005924"},
    {2000000000, 0x3F940AA, "69279037"},
    {20000000000, 0x27BC86AA, "65353130"},
}};

TEST(Totp, MatchesRfc6238AppendixBSha1Rows) {
  const Secret seed = SecretOf("12345678901234567890");
  for (const AppendixRow& row : kAppendixB) {
    EXPECT_EQ(TotpStep(AtUnix(row.unix_seconds)), row.step) << row.unix_seconds;
    auto code = TotpCode(seed, row.step);
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, row.eight_digits.substr(2)) << row.unix_seconds;
    auto verified =
        VerifyTotp(seed, row.eight_digits.substr(2), AtUnix(row.unix_seconds), kNeverUsed);
    ASSERT_TRUE(verified) << row.unix_seconds << ": " << verified.error().message();
    EXPECT_EQ(*verified, row.step);
  }
}

TEST(Totp, StepIsFloorOfUnixSecondsOverThirtyAlsoBefore1970) {
  EXPECT_EQ(TotpStep(AtUnix(0)), 0);
  EXPECT_EQ(TotpStep(AtUnix(29)), 0);
  EXPECT_EQ(TotpStep(AtUnix(30)), 1);
  EXPECT_EQ(TotpStep(Timestamp(std::chrono::microseconds(29'999'999))), 0);
  EXPECT_EQ(TotpStep(AtUnix(-1)), -1);
  EXPECT_EQ(TotpStep(AtUnix(-30)), -1);
  EXPECT_EQ(TotpStep(AtUnix(-31)), -2);
}

TEST(Totp, SecretBase32IsRfc4648WithoutPadding) {
  // RFC 4648 section 10: BASE32("foobar") = "MZXW6YTBOI======".
  EXPECT_EQ(TotpSecretBase32(SecretOf("foobar")).view(), "MZXW6YTBOI");
  EXPECT_EQ(TotpSecretBase32(SecretOf("f")).view(), "MY");
  EXPECT_EQ(TotpSecretBase32(SecretOf("fooba")).view(), "MZXW6YTB");
  EXPECT_EQ(TotpSecretBase32(SecretOf("12345678901234567890")).view(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

// Runs oathtool (OATH Toolkit, a separate implementation) as an outside process.
std::string OathtoolCode(std::string_view base32, std::int64_t unix_seconds) {
  // Only base32 letters and digits reach the shell.
  const std::string command = "oathtool --totp -b " + std::string(base32) + " -N @" +
                              std::to_string(unix_seconds) + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string out;
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  const int status = ::pclose(pipe);
  if (status != 0) return "oathtool failed: " + out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TEST(Totp, AgreesWithOathtoolOnRandomSecretsAndTimes) {
  std::mt19937_64 times(20261201);
  std::uniform_int_distribution<std::int64_t> unix_seconds(0, 4'102'444'800);  // up to 2100
  for (int i = 0; i < 12; ++i) {
    auto secret = NewTotpSecret();
    ASSERT_TRUE(secret);
    ASSERT_EQ(secret->size(), kTotpSecretBytes);
    const crypto::WipedText base32 = TotpSecretBase32(*secret);
    const std::int64_t at = unix_seconds(times);
    auto ours = TotpCode(*secret, TotpStep(AtUnix(at)));
    ASSERT_TRUE(ours);
    EXPECT_EQ(*ours, OathtoolCode(base32.view(), at))
        << "secret " << base32.view() << " at @" << at;
  }
}

TEST(Totp, AcceptsOneStepOfSkewEachWayAndNoMore) {
  auto secret = NewTotpSecret();
  ASSERT_TRUE(secret);
  const Timestamp now = AtUnix(1'764'620'000);
  const std::int64_t step = TotpStep(now);
  for (std::int64_t delta : {-1, 0, 1}) {
    auto code = TotpCode(*secret, step + delta);
    ASSERT_TRUE(code);
    auto verified = VerifyTotp(*secret, *code, now, kNeverUsed);
    ASSERT_TRUE(verified) << delta;
    EXPECT_EQ(*verified, step + delta);
  }
  for (std::int64_t delta : {-3, -2, 2, 3}) {
    auto code = TotpCode(*secret, step + delta);
    ASSERT_TRUE(code);
    // Skip the one-in-a-million case where the far step's code equals a near one.
    bool collides = false;
    for (std::int64_t near : {-1, 0, 1}) collides |= *code == *TotpCode(*secret, step + near);
    if (collides) continue;
    auto refused = VerifyTotp(*secret, *code, now, kNeverUsed);
    ASSERT_FALSE(refused) << delta;
    EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  }
}

TEST(Totp, ReplayOfTheSameOrAnEarlierStepIsRefused) {
  auto secret = NewTotpSecret();
  ASSERT_TRUE(secret);
  const Timestamp now = AtUnix(1'764'620'000);
  const std::int64_t step = TotpStep(now);
  auto code = TotpCode(*secret, step);
  ASSERT_TRUE(code);

  auto first = VerifyTotp(*secret, *code, now, kNeverUsed);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, step);
  // The caller stored `step` as the last used step: the same code, a second later, is refused.
  auto replay = VerifyTotp(*secret, *code, now + std::chrono::seconds(1), *first);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code(), ErrorCode::kPermissionDenied);
  // So is the previous step's code, still inside the skew window.
  auto previous = TotpCode(*secret, step - 1);
  ASSERT_TRUE(previous);
  if (*previous != *code) {
    EXPECT_FALSE(VerifyTotp(*secret, *previous, now, *first));
  }
  // The next step's code is still good.
  auto next = TotpCode(*secret, step + 1);
  ASSERT_TRUE(next);
  auto later = VerifyTotp(*secret, *next, now + std::chrono::seconds(30), *first);
  ASSERT_TRUE(later);
  EXPECT_EQ(*later, step + 1);
}

TEST(Totp, WrongCodeIsRefusedAndMessagesDoNotQuoteIt) {
  const Secret seed = SecretOf("12345678901234567890");
  auto refused = VerifyTotp(seed, "287083", AtUnix(59), kNeverUsed);  // right one is 287082
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message().find("287083"), std::string::npos);
}

TEST(Totp, CodeWithSpacesIsAcceptedAndMalformedCodesAreInvalid) {
  const Secret seed = SecretOf("12345678901234567890");
  EXPECT_TRUE(VerifyTotp(seed, "287 082", AtUnix(59), kNeverUsed));
  EXPECT_TRUE(VerifyTotp(seed, " 287082 ", AtUnix(59), kNeverUsed));
  const std::initializer_list<std::string_view> malformed = {"",
                                                             "28708",
                                                             "2870820",
                                                             "28708a",
                                                             "94287082",
                                                             "２８７０８２",
                                                             "287-082",
                                                             std::string_view("287\0"
                                                                              "82",
                                                                              6)};
  for (std::string_view bad : malformed) {
    auto refused = VerifyTotp(seed, bad, AtUnix(59), kNeverUsed);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(Totp, RefusesASecretShorterThan128Bits) {
  const Secret short_secret = SecretOf("123456789012345");  // 15 bytes
  auto code = TotpCode(short_secret, 1);
  ASSERT_TRUE(code);
  auto refused = VerifyTotp(short_secret, *code, AtUnix(59), kNeverUsed);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

TEST(OtpauthUri, FollowsKeyUriFormatWithEverythingPercentEncoded) {
  const Secret seed = SecretOf("12345678901234567890");
  EXPECT_EQ(OtpauthUri("medvault", "alice", seed).view(),
            "otpauth://totp/medvault:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=medvault&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUri("Labo Saint-Éloi", "jean.dupont@example.fr", seed).view(),
            "otpauth://totp/Labo%20Saint-%C3%89loi:jean.dupont%40example.fr"
            "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Labo%20Saint-%C3%89loi"
            "&algorithm=SHA1&digits=6&period=30");
  // A colon, '&', '?', '#' or '=' in a name cannot add a parameter or change the label.
  EXPECT_EQ(OtpauthUri("a:b&c", "x?y#z=1", seed).view(),
            "otpauth://totp/a%3Ab%26c:x%3Fy%23z%3D1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=a%3Ab%26c&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace medvault::identity
