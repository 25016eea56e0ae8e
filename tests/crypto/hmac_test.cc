#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromHex;
using testing_bytes::FromText;

Secret SecretOf(const std::vector<std::uint8_t>& bytes) {
  return std::move(*Secret::CopyOf(bytes));
}

std::vector<std::uint8_t> BytesOf(const Secret& secret) {
  return {secret.bytes().begin(), secret.bytes().end()};
}

// RFC 4231 test case 2: a key shorter than the block.
TEST(HmacSha256, MatchesRfc4231ShortKeyCase) {
  Secret key = SecretOf(FromText("Jefe"));
  auto tag = HmacSha256(key, FromText("what do ya want for nothing?"));
  ASSERT_TRUE(tag);
  EXPECT_EQ(std::vector<std::uint8_t>(tag->begin(), tag->end()),
            FromHex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

TEST(HmacSha256, VerifyAcceptsFullAndTruncatedTagsAndRefusesOthers) {
  Secret key = SecretOf(FromText("Jefe"));
  const auto message = FromText("what do ya want for nothing?");
  auto tag = HmacSha256(key, message);
  ASSERT_TRUE(tag);
  EXPECT_TRUE(VerifyHmacSha256(key, message, *tag));
  EXPECT_TRUE(VerifyHmacSha256(key, message, std::span(*tag).first(16)));

  auto wrong = *tag;
  wrong[5] ^= 0x80;
  auto refused = VerifyHmacSha256(key, message, wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kDataLoss);

  auto too_short = VerifyHmacSha256(key, message, std::span(*tag).first(8));
  ASSERT_FALSE(too_short);
  EXPECT_EQ(too_short.error().code(), ErrorCode::kInvalidArgument);
}

// RFC 5869 test cases 1 and 3 (HKDF-SHA256).
TEST(HkdfSha256, MatchesRfc5869Case1) {
  Secret ikm = SecretOf(std::vector<std::uint8_t>(22, 0x0b));
  auto okm =
      HkdfSha256(ikm, FromHex("000102030405060708090a0b0c"), FromHex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(BytesOf(*okm), FromHex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5"
                                   "bf34007208d5b887185865"));
}

TEST(HkdfSha256, MatchesRfc5869Case3WithEmptySaltAndInfo) {
  Secret ikm = SecretOf(std::vector<std::uint8_t>(22, 0x0b));
  auto okm = HkdfSha256(ikm, {}, {}, 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(BytesOf(*okm), FromHex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d"
                                   "2d9d201395faa4b61a96c8"));
}

TEST(HkdfSha256, RefusesZeroAndOversizedOutputs) {
  Secret ikm = SecretOf(std::vector<std::uint8_t>(32, 1));
  EXPECT_FALSE(HkdfSha256(ikm, {}, {}, 0));
  EXPECT_FALSE(HkdfSha256(ikm, {}, {}, 255 * 32 + 1));
  EXPECT_TRUE(HkdfSha256(ikm, {}, {}, 255 * 32));
}

}  // namespace
}  // namespace medvault::crypto
