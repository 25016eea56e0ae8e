#include "crypto/master_key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "key_dir_fixture.h"

namespace medvault::crypto {
namespace {

namespace fs = std::filesystem;

using MasterKeyFileTest = KeyDirTest;

constexpr const char* kKeyA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";  // bytes 0..31
constexpr const char* kKeyB = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";  // bytes 32..63

TEST_F(MasterKeyFileTest, CreatesOneFreshVersionWithMode0600) {
  fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);

  auto keys = LoadMasterKeyFile(path);
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].version, 1u);
  EXPECT_EQ((*keys)[0].key.size(), kMasterKeyBytes);
}

TEST_F(MasterKeyFileTest, AddingAVersionKeepsTheOldOnesAndTheMode) {
  fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  auto before = LoadMasterKeyFile(path);
  ASSERT_TRUE(before);
  auto added = AddMasterKeyVersion(path);
  ASSERT_TRUE(added) << added.error().message();
  EXPECT_EQ(*added, 2u);
  EXPECT_EQ(AddMasterKeyVersion(path).value(), 3u);

  auto after = LoadMasterKeyFile(path);
  ASSERT_TRUE(after) << after.error().message();
  ASSERT_EQ(after->size(), 3u);
  EXPECT_TRUE((*after)[0].key.Equals((*before)[0].key));
  EXPECT_FALSE((*after)[1].key.Equals((*after)[0].key));
  EXPECT_FALSE((*after)[2].key.Equals((*after)[1].key));
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_FALSE(fs::exists(dir_ / "master.key.new"));
}

TEST_F(MasterKeyFileTest, RetiringDropsOnlyTheOlderVersions) {
  fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  ASSERT_TRUE(AddMasterKeyVersion(path));
  ASSERT_TRUE(AddMasterKeyVersion(path));
  auto all = LoadMasterKeyFile(path);
  ASSERT_TRUE(RetireMasterKeyVersionsBefore(path, 3));
  auto kept = LoadMasterKeyFile(path);
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].version, 3u);
  EXPECT_TRUE((*kept)[0].key.Equals((*all)[2].key));
  auto beyond = RetireMasterKeyVersionsBefore(path, 4);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(LoadMasterKeyFile(path)->size(), 1u);
}

TEST_F(MasterKeyFileTest, AddingAVersionRefusesAnUnsafeFile) {
  fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto added = AddMasterKeyVersion(path);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MasterKeyFileTest, TwoCreatedFilesHoldDifferentKeys) {
  ASSERT_TRUE(CreateMasterKeyFile(dir_ / "a.key"));
  ASSERT_TRUE(CreateMasterKeyFile(dir_ / "b.key"));
  auto a = LoadMasterKeyFile(dir_ / "a.key");
  auto b = LoadMasterKeyFile(dir_ / "b.key");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE((*a)[0].key.Equals((*b)[0].key));
}

TEST_F(MasterKeyFileTest, RefusesToOverwriteAnExistingFile) {
  fs::path path = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path));
  auto before = LoadMasterKeyFile(path);
  ASSERT_TRUE(before);

  auto again = CreateMasterKeyFile(path);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto after = LoadMasterKeyFile(path);
  ASSERT_TRUE(after);
  EXPECT_TRUE((*before)[0].key.Equals((*after)[0].key));
}

TEST_F(MasterKeyFileTest, RefusesAFileOthersCanReadAndNamesFileAndMode) {
  fs::path path = WriteFile("open.key", std::string("kek-1 ") + kKeyA + "\n", 0644);
  auto keys = LoadMasterKeyFile(path);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(keys.error().message().find(path.string()), std::string::npos)
      << keys.error().message();
  EXPECT_NE(keys.error().message().find("0644"), std::string::npos) << keys.error().message();
}

TEST_F(MasterKeyFileTest, MissingFileIsNotFoundAndNamed) {
  auto keys = LoadMasterKeyFile(dir_ / "absent.key");
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(keys.error().message().find("absent.key"), std::string::npos);
}

TEST_F(MasterKeyFileTest, ParsesSeveralVersionsOldestFirst) {
  fs::path path =
      WriteFile("two.key", std::string("kek-1 ") + kKeyA + "\n\nkek-3 " + kKeyB + "\n", 0600);
  auto keys = LoadMasterKeyFile(path);
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].version, 1u);
  EXPECT_EQ((*keys)[1].version, 3u);
  EXPECT_EQ((*keys)[0].key.bytes()[0], 0);
  EXPECT_EQ((*keys)[0].key.bytes()[31], 31);
  EXPECT_EQ((*keys)[1].key.bytes()[0], 32);
}

TEST_F(MasterKeyFileTest, RejectsMalformedLinesNamingFileAndLine) {
  const std::string a(kKeyA);
  const std::string cases[] = {
      "kek1 " + a + "\n",                        // no dash
      "key-1 " + a + "\n",                       // wrong prefix
      "kek-0 " + a + "\n",                       // version zero
      "kek-x " + a + "\n",                       // version not a number
      "kek-1" + a + "\n",                        // no space
      "kek-1 AAEC\n",                            // key too short
      "kek-1 " + a + "AAAA\n",                   // key too long
      "kek-1 " + a.substr(0, 40) + "!!!=\n",     // not base64
      "kek-2 " + a + "\nkek-1 " + kKeyB + "\n",  // versions out of order
      "kek-1 " + a + "\nkek-1 " + kKeyB + "\n",  // version repeated
      "\n",                                      // no key at all
  };
  int index = 0;
  for (const std::string& contents : cases) {
    fs::path path = WriteFile("bad" + std::to_string(index++) + ".key", contents, 0600);
    auto keys = LoadMasterKeyFile(path);
    ASSERT_FALSE(keys) << "accepted: " << contents;
    EXPECT_EQ(keys.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(keys.error().message().find(path.string()), std::string::npos);
  }
}

}  // namespace
}  // namespace medvault::crypto
