#include "crypto/keyring.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/master_key_file.h"
#include "key_dir_fixture.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

namespace fs = std::filesystem;
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

TEST_F(KeyringFileTest, LoadsFromTheKeyFileAndItsKeysOpenEachOthersWraps) {
  const fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  KeyFileKekSource source(path);
  auto first = Keyring::Load(source);
  auto second = Keyring::Load(source);
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first)->active_version(), 1u);

  auto key = Secret::Random(32);
  ASSERT_TRUE(key);
  const auto associated = FromText("patient-1");
  auto wrapped = (*first)->active().Wrap(*key, associated);
  ASSERT_TRUE(wrapped);
  auto unwrapped = (*second)->active().Unwrap(*wrapped, associated);
  ASSERT_TRUE(unwrapped);
  EXPECT_TRUE(unwrapped->Equals(*key));
  EXPECT_FALSE((*second)->active().Unwrap(*wrapped, FromText("patient-2")));
}

TEST_F(KeyringFileTest, ErrorOfTheSourceNamesTheFile) {
  KeyFileKekSource source(dir_ / "missing.key");
  auto keyring = Keyring::Load(source);
  ASSERT_FALSE(keyring);
  EXPECT_NE(keyring.error().message().find("missing.key"), std::string::npos);
}

TEST(Keyring, NewestVersionIsActiveAndEveryVersionCanBeFound) {
  auto keyring = KeyringOf(Keks({{3, 3}, {1, 1}, {2, 2}}));
  EXPECT_EQ(keyring->active_version(), 3u);
  EXPECT_EQ(keyring->active().version(), 3u);
  EXPECT_EQ(keyring->versions(), (std::vector<std::uint32_t>{1, 2, 3}));
  auto two = keyring->Find(2);
  ASSERT_TRUE(two);
  EXPECT_EQ((*two)->version(), 2u);
  auto missing = keyring->Find(9);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find('9'), std::string::npos);
}

TEST(Keyring, RefusesNoKeysAndDuplicateVersions) {
  EXPECT_FALSE(Keyring::FromKeks({}));
  auto duplicate = Keyring::FromKeks(Keks({{1, 1}, {1, 2}}));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace medvault::crypto
