#include "core/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medvault {
namespace {

std::vector<std::uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

// RFC 4648 section 10.
TEST(Base64, StandardAlphabetMatchesRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(Bytes(""), Base64Alphabet::kStandard), "");
  EXPECT_EQ(EncodeBase64(Bytes("f"), Base64Alphabet::kStandard), "Zg==");
  EXPECT_EQ(EncodeBase64(Bytes("fo"), Base64Alphabet::kStandard), "Zm8=");
  EXPECT_EQ(EncodeBase64(Bytes("foo"), Base64Alphabet::kStandard), "Zm9v");
  EXPECT_EQ(EncodeBase64(Bytes("foobar"), Base64Alphabet::kStandard), "Zm9vYmFy");
  auto decoded = DecodeBase64("Zm9vYg==", Base64Alphabet::kStandard);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, Bytes("foob"));
}

TEST(Base64, UrlSafeAlphabetHasNoPaddingAndDashUnderscore) {
  const std::vector<std::uint8_t> bytes{0xfb, 0xff, 0xfe};
  EXPECT_EQ(EncodeBase64(bytes, Base64Alphabet::kUrlSafe), "-__-");
  EXPECT_EQ(EncodeBase64(Bytes("fo"), Base64Alphabet::kUrlSafe), "Zm8");
  auto decoded = DecodeBase64("-__-", Base64Alphabet::kUrlSafe);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64, RefusesForeignCharactersPaddingAndTrailingGarbage) {
  EXPECT_FALSE(DecodeBase64("Zm8=", Base64Alphabet::kUrlSafe).has_value());
  EXPECT_FALSE(DecodeBase64("-__-", Base64Alphabet::kStandard).has_value());
  EXPECT_FALSE(DecodeBase64("Zm9v YmFy", Base64Alphabet::kStandard).has_value());
  EXPECT_FALSE(DecodeBase64("Zm9v!", Base64Alphabet::kStandard).has_value());
  auto error = DecodeBase64("Zm9v!", Base64Alphabet::kStandard);
  EXPECT_EQ(error.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.error().message().find("Zm9v"), std::string::npos);
}

}  // namespace
}  // namespace medvault
