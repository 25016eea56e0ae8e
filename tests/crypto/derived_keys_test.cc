#include "crypto/derived_keys.h"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/aead.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromText;

std::unique_ptr<DerivedKeys> KeysOf(std::uint8_t fill) {
  auto keys =
      DerivedKeys::FromRoot(std::move(*Secret::CopyOf(std::vector<std::uint8_t>(32, fill))));
  EXPECT_TRUE(keys) << keys.error().message();
  return std::move(*keys);
}

TEST(DerivedKeys, SameRootGivesSameKeys) {
  auto first = KeysOf(7);
  auto second = KeysOf(7);
  auto a = first->BlindIndexKey("patient.family");
  auto b = second->BlindIndexKey("patient.family");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_EQ(first->signing_key().public_key(), second->signing_key().public_key());
}

TEST(DerivedKeys, BlindIndexKeysDifferPerField) {
  auto keys = KeysOf(7);
  auto family = keys->BlindIndexKey("patient.family");
  auto given = keys->BlindIndexKey("patient.given");
  auto birth = keys->BlindIndexKey("patient.birthdate");
  ASSERT_TRUE(family && given && birth);
  EXPECT_EQ(family->size(), kBlindIndexKeyBytes);
  EXPECT_FALSE(family->Equals(*given));
  EXPECT_FALSE(family->Equals(*birth));
  EXPECT_FALSE(given->Equals(*birth));
}

TEST(DerivedKeys, KeysDifferPerRoot) {
  auto a = KeysOf(7)->BlindIndexKey("patient.family");
  auto b = KeysOf(8)->BlindIndexKey("patient.family");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->Equals(*b));
  EXPECT_NE(KeysOf(7)->signing_key().public_key(), KeysOf(8)->signing_key().public_key());
}

TEST(DerivedKeys, NewRootsAreRandomAndTheRightSize) {
  auto a = DerivedKeys::NewRoot();
  auto b = DerivedKeys::NewRoot();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), kDerivationRootBytes);
  EXPECT_FALSE(a->Equals(*b));
}

TEST(DerivedKeys, RefusesARootOfTheWrongSize) {
  auto keys = DerivedKeys::FromRoot(std::move(*Secret::Allocate(16)));
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code(), ErrorCode::kInvalidArgument);
}

TEST(DerivedKeys, RefusesMalformedFieldNames) {
  auto keys = KeysOf(7);
  for (std::string_view field : {std::string_view(""), std::string_view("Patient.Family"),
                                 std::string_view("a b"), std::string_view("a\0b", 3)}) {
    auto key = keys->BlindIndexKey(field);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(keys->BlindIndexKey(std::string(kMaxFieldNameBytes + 1, 'a')));
  EXPECT_TRUE(keys->BlindIndexKey(std::string(kMaxFieldNameBytes, 'a')));
}

TEST(DerivedKeys, SigningKeySignsWhatItsPublicKeyVerifies) {
  auto keys = KeysOf(5);
  const auto checkpoint = FromText("size=42 root=abcd time=2024-01-01T00:00:00Z");
  auto signature = keys->signing_key().Sign(checkpoint);
  ASSERT_TRUE(signature);
  EXPECT_TRUE(VerifyEd25519(keys->signing_key().public_key(), checkpoint, *signature));
  auto altered = checkpoint;
  altered[5] ^= 1;
  EXPECT_FALSE(VerifyEd25519(keys->signing_key().public_key(), altered, *signature));
}

TEST(DerivedKeys, SigningKeyIsIndependentOfBlindIndexKeys) {
  auto keys = KeysOf(5);
  // The signing seed is not exposed; check it is not any blind-index key by comparing the
  // public key a blind-index key would give if used as a seed.
  auto index_key = keys->BlindIndexKey("patient.family");
  ASSERT_TRUE(index_key);
  auto as_signing = SigningKey::FromSeed(*index_key);
  ASSERT_TRUE(as_signing);
  EXPECT_NE(as_signing->public_key(), keys->signing_key().public_key());
}

TEST(DerivedKeys, SecretKeysAreStablePerPurposeAndIndependentOfIndexKeys) {
  auto keys = KeysOf(9);
  auto totp = keys->SecretKey("identity.totp");
  auto again = KeysOf(9)->SecretKey("identity.totp");
  auto other = keys->SecretKey("identity.other");
  auto index = keys->BlindIndexKey("identity.totp");
  ASSERT_TRUE(totp && again && other && index);
  EXPECT_EQ(totp->size(), kAeadKeyBytes);
  EXPECT_TRUE(totp->Equals(*again));
  EXPECT_FALSE(totp->Equals(*other));
  EXPECT_FALSE(totp->Equals(*index)) << "same name, different purpose, different key";
  EXPECT_FALSE(keys->SecretKey(""));
  EXPECT_FALSE(keys->SecretKey("Identity TOTP"));
}

}  // namespace
}  // namespace medvault::crypto
