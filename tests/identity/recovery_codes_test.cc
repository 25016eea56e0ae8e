#include "identity/recovery_codes.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace medvault::identity {
namespace {

// One hasher at the production cost and one generated set for the whole suite: generating
// costs ten Argon2id hashes.
class RecoveryCodes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto hasher = PasswordHasher::Create({});
    ASSERT_TRUE(hasher) << hasher.error().message();
    hasher_ = std::move(*hasher).release();
    std::promise<Result<NewRecoveryCodes>> generated;
    GenerateRecoveryCodes(
        *hasher_, [&](Result<NewRecoveryCodes> codes) { generated.set_value(std::move(codes)); });
    auto codes = generated.get_future().get();
    ASSERT_TRUE(codes) << codes.error().message();
    codes_ = new NewRecoveryCodes(std::move(*codes));
  }
  static void TearDownTestSuite() {
    delete codes_;
    delete hasher_;
  }

  static std::vector<StoredRecoveryCode> Stored() {
    std::vector<StoredRecoveryCode> stored;
    for (const std::string& hash : codes_->hashes) stored.push_back({.hash = hash, .used = false});
    return stored;
  }

  static Result<std::size_t> Verify(const std::vector<StoredRecoveryCode>& stored,
                                    std::string_view entered) {
    std::promise<Result<std::size_t>> result;
    VerifyRecoveryCode(*hasher_, stored, entered,
                       [&](Result<std::size_t> index) { result.set_value(index); });
    return result.get_future().get();
  }

  static std::string Code(std::size_t index) { return std::string(codes_->codes[index].view()); }

  static PasswordHasher* hasher_;
  static NewRecoveryCodes* codes_;
};
PasswordHasher* RecoveryCodes::hasher_ = nullptr;
NewRecoveryCodes* RecoveryCodes::codes_ = nullptr;

TEST_F(RecoveryCodes, TenDistinctCodesOfFourGroupsEachHashedWithArgon2id) {
  ASSERT_EQ(codes_->codes.size(), kRecoveryCodeCount);
  ASSERT_EQ(codes_->hashes.size(), kRecoveryCodeCount);
  const std::regex shape("[0-9][0-9A-HJKMNP-TV-Z]{3}(-[0-9A-HJKMNP-TV-Z]{4}){3}");
  std::set<std::string> distinct;
  for (std::size_t i = 0; i < kRecoveryCodeCount; ++i) {
    const std::string code = Code(i);
    EXPECT_TRUE(std::regex_match(code, shape)) << code;
    EXPECT_EQ(code[0], static_cast<char>('0' + i)) << "the first character is the index";
    distinct.insert(code.substr(1));
    const std::string& hash = codes_->hashes[i];
    EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << hash;
    std::string canonical = code;
    std::erase(canonical, '-');
    EXPECT_EQ(hash.find(canonical.substr(1, 8)), std::string::npos) << "plaintext in the hash";
  }
  EXPECT_EQ(distinct.size(), kRecoveryCodeCount);
}

TEST_F(RecoveryCodes, EachCodeOpensOnceAndReportsItsIndexForTheCallerToMark) {
  std::vector<StoredRecoveryCode> stored = Stored();
  for (std::size_t i : {std::size_t{0}, std::size_t{7}, std::size_t{9}}) {
    auto matched = Verify(stored, Code(i));
    ASSERT_TRUE(matched) << i << ": " << matched.error().message();
    EXPECT_EQ(*matched, i);
    stored[i].used = true;  // what the caller stores
    auto again = Verify(stored, Code(i));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), ErrorCode::kPermissionDenied);
  }
}

TEST_F(RecoveryCodes, AWrongCodeIsRefusedAndTheMessageDoesNotQuoteIt) {
  std::string wrong = Code(3);
  wrong.back() = wrong.back() == 'Z' ? 'Y' : 'Z';
  auto refused = Verify(Stored(), wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message().find(wrong.substr(5, 4)), std::string::npos);
  // Another code's body under this index does not open it either.
  std::string swapped = Code(4);
  swapped[0] = '3';
  EXPECT_FALSE(Verify(Stored(), swapped));
}

TEST_F(RecoveryCodes, EntryIgnoresCaseSpacesAndHyphensAndReadsOIAndLAsDigits) {
  std::string typed = Code(5);
  std::erase(typed, '-');
  for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  typed.insert(8, "  ");
  auto matched = Verify(Stored(), typed);
  ASSERT_TRUE(matched);
  EXPECT_EQ(*matched, 5u);

  auto parsed = ParseRecoveryCode("1oil-0000-0000-000I");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->index, 1u);
  const std::string canonical(reinterpret_cast<const char*>(parsed->canonical.bytes().data()),
                              parsed->canonical.size());
  EXPECT_EQ(canonical, "1011000000000001");
}

TEST_F(RecoveryCodes, TextThatCannotBeACodeIsRefusedAtOnce) {
  for (std::string_view bad :
       {"", "0ABC-DEFG-HJKM-NPQ", "0ABC-DEFG-HJKM-NPQRS", "0ABC-DEFG-HJKM-NPQU",
        "AABC-DEFG-HJKM-NPQR", "0ABC_DEFG_HJKM_NPQR", "0ÀBC-DEFG-HJKM-NPQR"}) {
    auto parsed = ParseRecoveryCode(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << bad;
    // Answered on the calling thread, before VerifyRecoveryCode returns.
    bool answered = false;
    VerifyRecoveryCode(*hasher_, Stored(), bad, [&](Result<std::size_t> index) {
      EXPECT_FALSE(index);
      answered = true;
    });
    EXPECT_TRUE(answered) << bad;
  }
}

// One attempt checks one hash: with every other stored hash unreadable, a code still opens,
// and a used code's index runs the dummy check rather than touching its stored hash.
TEST_F(RecoveryCodes, AnAttemptChecksOnlyTheHashItsIndexNames) {
  std::vector<StoredRecoveryCode> stored(kRecoveryCodeCount, {.hash = "not a hash", .used = false});
  stored[6] = {.hash = codes_->hashes[6], .used = false};
  auto matched = Verify(stored, Code(6));
  ASSERT_TRUE(matched) << matched.error().message();
  EXPECT_EQ(*matched, 6u);

  stored[2].used = true;
  auto used = Verify(stored, Code(2));
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code(), ErrorCode::kPermissionDenied);  // not kDataLoss: not read

  // A set with fewer stored codes than the index: refused the same way.
  auto beyond =
      Verify(std::vector<StoredRecoveryCode>(stored.begin(), stored.begin() + 3), Code(6));
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code(), ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace medvault::identity
