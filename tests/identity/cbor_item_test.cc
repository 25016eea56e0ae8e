// The strict CBOR profile WebAuthn parsing relies on.
#include "identity/cbor_item.h"

#include <gtest/gtest.h>

#include <vector>

namespace medvault::identity {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(CborItem, LengthOfTheFirstItemIsExact) {
  // {1: h'0102', -1: [true, null, "a"]} followed by two unrelated bytes.
  const Bytes bytes = {0xa2, 0x01, 0x42, 0x01, 0x02, 0x20, 0x83, 0xf5, 0xf6, 0x61, 'a', 0xff, 0xff};
  auto length = CborItemLength(bytes);
  ASSERT_TRUE(length) << length.error().message();
  EXPECT_EQ(*length, 11u);
  auto prefix = DecodeCborPrefix(bytes);
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->length, 11u);
  EXPECT_TRUE(cbor_isa_map(prefix->item.get()));
}

TEST(CborItem, DecodeRefusesTrailingBytes) {
  EXPECT_TRUE(DecodeCbor(Bytes{0xa0}));
  EXPECT_FALSE(DecodeCbor(Bytes{0xa0, 0x00}));
  EXPECT_FALSE(DecodeCbor(Bytes{}));
}

TEST(CborItem, IntegersOfEveryWidthAndSign) {
  auto big = DecodeCbor(Bytes{0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(big);
  EXPECT_EQ(CborInteger(big->get()), INT64_MAX);
  auto negative = DecodeCbor(Bytes{0x39, 0x01, 0x00});  // -257
  ASSERT_TRUE(negative);
  EXPECT_EQ(CborInteger(negative->get()), -257);
  auto too_big = DecodeCbor(Bytes{0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(too_big);
  EXPECT_EQ(CborInteger(too_big->get()), std::nullopt);
}

TEST(CborItem, IndefiniteLengthsAreRefused) {
  EXPECT_FALSE(DecodeCbor(Bytes{0x5f, 0x41, 0x00, 0xff}));  // indefinite byte string
  EXPECT_FALSE(DecodeCbor(Bytes{0xbf, 0xff}));              // indefinite map
  EXPECT_FALSE(DecodeCbor(Bytes{0x9f, 0xff}));              // indefinite array
  EXPECT_FALSE(DecodeCbor(Bytes{0xff}));                    // a lone break
}

TEST(CborItem, TagsFloatsAndOtherSimpleValuesAreRefused) {
  EXPECT_FALSE(DecodeCbor(Bytes{0xc1, 0x00}));        // tag 1 (epoch time)
  EXPECT_FALSE(DecodeCbor(Bytes{0xf9, 0x3c, 0x00}));  // half float 1.0
  EXPECT_FALSE(DecodeCbor(Bytes{0xf7}));              // undefined
  EXPECT_FALSE(DecodeCbor(Bytes{0xf8, 0x20}));        // simple(32)
  EXPECT_FALSE(DecodeCbor(Bytes{0x1c}));              // reserved additional info
  EXPECT_TRUE(DecodeCbor(Bytes{0xf4}));               // false
}

TEST(CborItem, ClaimedLengthsBeyondTheInputAreRefused) {
  EXPECT_FALSE(DecodeCbor(Bytes{0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(DecodeCbor(Bytes{0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}));
  EXPECT_FALSE(DecodeCbor(Bytes{0xbb, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_FALSE(DecodeCbor(Bytes{0x42, 0x01}));  // two bytes announced, one present
  EXPECT_FALSE(DecodeCbor(Bytes{0x19, 0x01}));  // a 16-bit integer cut short
}

TEST(CborItem, TextStringsMustBeUtf8) {
  EXPECT_TRUE(DecodeCbor(Bytes{0x62, 0xc3, 0x89}));              // "É"
  EXPECT_TRUE(DecodeCbor(Bytes{0x64, 0xf0, 0x9f, 0x94, 0x91}));  // U+1F511
  EXPECT_FALSE(DecodeCbor(Bytes{0x61, 0xff}));
  EXPECT_FALSE(DecodeCbor(Bytes{0x62, 0xc0, 0x80}));              // overlong NUL
  EXPECT_FALSE(DecodeCbor(Bytes{0x63, 0xed, 0xa0, 0x80}));        // a surrogate
  EXPECT_FALSE(DecodeCbor(Bytes{0x62, 0xe2, 0x82}));              // cut short
  EXPECT_FALSE(DecodeCbor(Bytes{0x64, 0xf4, 0x90, 0x80, 0x80}));  // above U+10FFFF
}

TEST(CborItem, NestingDeeperThanTheLimitIsRefused) {
  Bytes nested(kMaxCborDepth, 0x81);  // [[[...]]]
  nested.push_back(0x00);
  EXPECT_TRUE(DecodeCbor(nested));
  Bytes deeper(kMaxCborDepth + 1, 0x81);
  deeper.push_back(0x00);
  EXPECT_FALSE(DecodeCbor(deeper));
  Bytes very_deep(100000, 0x81);
  very_deep.push_back(0x00);
  EXPECT_FALSE(DecodeCbor(very_deep));
}

}  // namespace
}  // namespace medvault::identity
