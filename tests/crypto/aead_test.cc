#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromText;

Secret NewKey() { return std::move(*Secret::Random(kAeadKeyBytes)); }

AssociatedData Row() {
  return AssociatedData{.resource_type = "Observation",
                        .resource_id = "obs-1",
                        .version = 3,
                        .patient_id = "pat-1",
                        .key_id = 1};
}

TEST(Aead, SealedMessageOpensWithSameKeyAndAssociatedData) {
  Secret key = NewKey();
  const auto plaintext = FromText("{\"resourceType\":\"Observation\"}");
  const auto ad = Row().Encode();
  auto sealed = AeadSeal(key, plaintext, ad);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), plaintext.size() + kAeadOverheadBytes);
  auto opened = AeadOpen(key, *sealed, ad);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, plaintext);
}

TEST(Aead, OpenTextGivesThePlaintextAndRefusesWhatOpenRefuses) {
  Secret key = NewKey();
  const std::string json = "{\"resourceType\":\"Observation\",\"status\":\"final\"}";
  const auto ad = Row().Encode();
  auto sealed = AeadSeal(key, FromText(json), ad);
  ASSERT_TRUE(sealed);
  auto text = AeadOpenText(key, *sealed, ad);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(text->view(), json);
  auto other_row = Row();
  other_row.version = 4;
  auto moved = AeadOpenText(key, *sealed, other_row.Encode());
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), ErrorCode::kDataLoss);
  (*sealed)[kAeadNonceBytes] ^= 1;
  auto altered = AeadOpenText(key, *sealed, ad);
  ASSERT_FALSE(altered);
  EXPECT_EQ(altered.error().code(), ErrorCode::kDataLoss);
  auto empty = AeadSeal(key, {}, ad);
  ASSERT_TRUE(empty);
  auto opened_empty = AeadOpenText(key, *empty, ad);
  ASSERT_TRUE(opened_empty);
  EXPECT_TRUE(opened_empty->view().empty());
}

TEST(Aead, EmptyPlaintextRoundTrips) {
  Secret key = NewKey();
  auto sealed = AeadSeal(key, {}, {});
  ASSERT_TRUE(sealed);
  auto opened = AeadOpen(key, *sealed, {});
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->empty());
}

TEST(Aead, SameMessageSealsToDifferentBytesEachTime) {
  Secret key = NewKey();
  const auto plaintext = FromText("same");
  auto a = AeadSeal(key, plaintext, {});
  auto b = AeadSeal(key, plaintext, {});
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(Aead, FlippingAnyByteMakesOpenFailWithDataLoss) {
  Secret key = NewKey();
  const auto ad = Row().Encode();
  auto sealed = AeadSeal(key, FromText("blood glucose 5.4 mmol/L"), ad);
  ASSERT_TRUE(sealed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    auto tampered = *sealed;
    tampered[i] ^= 0x01;
    auto opened = AeadOpen(key, tampered, ad);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code(), ErrorCode::kDataLoss);
  }
}

TEST(Aead, TruncatedMessageIsRefused) {
  Secret key = NewKey();
  auto sealed = AeadSeal(key, FromText("x"), {});
  ASSERT_TRUE(sealed);
  for (std::size_t length : {std::size_t{0}, std::size_t{10}, kAeadOverheadBytes}) {
    auto opened = AeadOpen(key, std::span(*sealed).first(length), {});
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), ErrorCode::kDataLoss);
  }
}

TEST(Aead, WrongKeyIsRefused) {
  Secret key = NewKey();
  auto sealed = AeadSeal(key, FromText("x"), {});
  ASSERT_TRUE(sealed);
  EXPECT_FALSE(AeadOpen(NewKey(), *sealed, {}));
}

TEST(Aead, KeyOfWrongSizeIsInvalidArgument) {
  Secret short_key = std::move(*Secret::Random(16));
  auto sealed = AeadSeal(short_key, FromText("x"), {});
  ASSERT_FALSE(sealed);
  EXPECT_EQ(sealed.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Aead, CiphertextMovedToAnotherRowFailsToOpen) {
  Secret key = NewKey();
  auto sealed = AeadSeal(key, FromText("HbA1c 6.1%"), Row().Encode());
  ASSERT_TRUE(sealed);

  AssociatedData other_type = Row();
  other_type.resource_type = "Patient";
  AssociatedData other_id = Row();
  other_id.resource_id = "obs-2";
  AssociatedData other_version = Row();
  other_version.version = 4;
  AssociatedData other_patient = Row();
  other_patient.patient_id = "pat-2";
  AssociatedData other_key = Row();
  other_key.key_id = 2;
  for (const AssociatedData& row :
       {other_type, other_id, other_version, other_patient, other_key}) {
    auto opened = AeadOpen(key, *sealed, row.Encode());
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code(), ErrorCode::kDataLoss);
  }
}

TEST(AssociatedData, EncodingIsUnambiguousWhenBytesMoveBetweenFields) {
  AssociatedData a{.resource_type = "Obs",
                   .resource_id = "ervation1",
                   .version = 1,
                   .patient_id = "p",
                   .key_id = 1};
  AssociatedData b{.resource_type = "Observation",
                   .resource_id = "1",
                   .version = 1,
                   .patient_id = "p",
                   .key_id = 1};
  AssociatedData c{.resource_type = "Observation1",
                   .resource_id = "",
                   .version = 1,
                   .patient_id = "p",
                   .key_id = 1};
  EXPECT_NE(a.Encode(), b.Encode());
  EXPECT_NE(b.Encode(), c.Encode());
  EXPECT_NE(a.Encode(), c.Encode());
  EXPECT_EQ(b.Encode(), b.Encode());
}

TEST(RawAead, NonceOfWrongSizeIsInvalidArgument) {
  Secret key = NewKey();
  const std::vector<std::uint8_t> nonce(12);
  auto sealed = raw::XChaChaSeal(key, nonce, FromText("x"), {});
  ASSERT_FALSE(sealed);
  EXPECT_EQ(sealed.error().code(), ErrorCode::kInvalidArgument);
  const std::vector<std::uint8_t> long_nonce(24);
  auto chacha = raw::ChaChaIetfSeal(key, long_nonce, FromText("x"), {});
  ASSERT_FALSE(chacha);
  EXPECT_EQ(chacha.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace medvault::crypto
