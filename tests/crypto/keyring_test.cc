#include "crypto/keyring.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/master_key_file.h"
#include "key_dir_fixture.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

namespace fs = std::filesystem;
using testing_bytes::FromHex;
using testing_bytes::FromText;

std::unique_ptr<Kek> KekOf(std::uint32_t version, std::uint8_t fill) {
  auto kek =
      LocalKek::Create(version, std::move(*Secret::CopyOf(std::vector<std::uint8_t>(32, fill))));
  EXPECT_TRUE(kek);
  return std::move(*kek);
}

std::unique_ptr<Keyring> KeyringOf(std::vector<std::unique_ptr<Kek>> keks) {
  auto keyring = Keyring::FromKeks(std::move(keks));
  EXPECT_TRUE(keyring) << keyring.error().message();
  return std::move(*keyring);
}

std::vector<std::unique_ptr<Kek>> Keks(
    std::initializer_list<std::pair<std::uint32_t, std::uint8_t>> list) {
  std::vector<std::unique_ptr<Kek>> out;
  for (auto [version, fill] : list) out.push_back(KekOf(version, fill));
  return out;
}

using KeyringFileTest = KeyDirTest;

TEST_F(KeyringFileTest, LoadsFromTheKeyFileAndDerivedKeysAreStableAcrossLoads) {
  const fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  KeyFileKekSource source(path);
  auto first = Keyring::Load(source);
  auto second = Keyring::Load(source);
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first)->active_version(), 1u);

  auto a = (*first)->BlindIndexKey("patient.family");
  auto b = (*second)->BlindIndexKey("patient.family");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_EQ((*first)->signing_key().public_key(), (*second)->signing_key().public_key());
}

TEST_F(KeyringFileTest, ErrorOfTheSourceNamesTheFile) {
  KeyFileKekSource source(dir_ / "missing.key");
  auto keyring = Keyring::Load(source);
  ASSERT_FALSE(keyring);
  EXPECT_NE(keyring.error().message().find("missing.key"), std::string::npos);
}

TEST(Keyring, BlindIndexKeysDifferPerField) {
  auto keyring = KeyringOf(Keks({{1, 7}}));
  auto family = keyring->BlindIndexKey("patient.family");
  auto given = keyring->BlindIndexKey("patient.given");
  auto birth = keyring->BlindIndexKey("patient.birthdate");
  ASSERT_TRUE(family && given && birth);
  EXPECT_EQ(family->size(), kBlindIndexKeyBytes);
  EXPECT_FALSE(family->Equals(*given));
  EXPECT_FALSE(family->Equals(*birth));
  EXPECT_FALSE(given->Equals(*birth));
}

TEST(Keyring, BlindIndexKeysDifferPerMasterKey) {
  auto a = KeyringOf(Keks({{1, 7}}))->BlindIndexKey("patient.family");
  auto b = KeyringOf(Keks({{1, 8}}))->BlindIndexKey("patient.family");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->Equals(*b));
}

TEST(Keyring, RefusesMalformedFieldNames) {
  auto keyring = KeyringOf(Keks({{1, 7}}));
  for (std::string_view field : {std::string_view(""), std::string_view("Patient.Family"),
                                 std::string_view("a b"), std::string_view("a\0b", 3)}) {
    auto key = keyring->BlindIndexKey(field);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(keyring->BlindIndexKey(std::string(kMaxFieldNameBytes + 1, 'a')));
  EXPECT_TRUE(keyring->BlindIndexKey(std::string(kMaxFieldNameBytes, 'a')));
}

TEST(Keyring, NewestVersionIsActiveAndEveryVersionCanBeFound) {
  auto keyring = KeyringOf(Keks({{3, 3}, {1, 1}, {2, 2}}));
  EXPECT_EQ(keyring->active_version(), 3u);
  EXPECT_EQ(keyring->active().version(), 3u);
  EXPECT_EQ(keyring->root_version(), 1u);
  EXPECT_EQ(keyring->versions(), (std::vector<std::uint32_t>{1, 2, 3}));
  auto two = keyring->Find(2);
  ASSERT_TRUE(two);
  EXPECT_EQ((*two)->version(), 2u);
  auto missing = keyring->Find(9);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find('9'), std::string::npos);
}

TEST(Keyring, AddingAVersionKeepsBlindIndexAndSigningKeys) {
  auto before = KeyringOf(Keks({{1, 1}}));
  auto after = KeyringOf(Keks({{1, 1}, {2, 2}}));
  auto a = before->BlindIndexKey("patient.family");
  auto b = after->BlindIndexKey("patient.family");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_EQ(before->signing_key().public_key(), after->signing_key().public_key());
}

TEST(Keyring, RefusesNoKeysAndDuplicateVersions) {
  EXPECT_FALSE(Keyring::FromKeks({}));
  auto duplicate = Keyring::FromKeks(Keks({{1, 1}, {1, 2}}));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Keyring, SigningKeySignsWhatItsPublicKeyVerifies) {
  auto keyring = KeyringOf(Keks({{1, 5}}));
  const auto checkpoint = FromText("size=42 root=abcd time=2024-01-01T00:00:00Z");
  auto signature = keyring->signing_key().Sign(checkpoint);
  ASSERT_TRUE(signature);
  EXPECT_TRUE(VerifyEd25519(keyring->signing_key().public_key(), checkpoint, *signature));
  auto altered = checkpoint;
  altered[5] ^= 1;
  EXPECT_FALSE(VerifyEd25519(keyring->signing_key().public_key(), altered, *signature));
}

TEST(Keyring, SigningKeyIsIndependentOfBlindIndexKeys) {
  auto keyring = KeyringOf(Keks({{1, 5}}));
  // The signing seed is not exposed; check it is not any blind-index key by comparing the
  // public key a blind-index key would give if used as a seed.
  auto index_key = keyring->BlindIndexKey("patient.family");
  ASSERT_TRUE(index_key);
  auto as_signing = SigningKey::FromSeed(*index_key);
  ASSERT_TRUE(as_signing);
  EXPECT_NE(as_signing->public_key(), keyring->signing_key().public_key());
}

// RFC 8032 section 7.1, test 1.
TEST(SigningKey, MatchesRfc8032Test1) {
  auto seed =
      Secret::CopyOf(FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(seed);
  auto key = SigningKey::FromSeed(*seed);
  ASSERT_TRUE(key);
  const auto public_key =
      FromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(std::vector<std::uint8_t>(key->public_key().begin(), key->public_key().end()),
            public_key);
  auto signature = key->Sign({});
  ASSERT_TRUE(signature);
  EXPECT_EQ(std::vector<std::uint8_t>(signature->begin(), signature->end()),
            FromHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a3"
                    "3bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
}

}  // namespace
}  // namespace medvault::crypto
