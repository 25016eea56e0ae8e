#include "crypto/blind_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "crypto/hmac.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromText;

std::unique_ptr<DerivedKeys> KeysWithFill(std::uint8_t fill) {
  auto keys =
      DerivedKeys::FromRoot(std::move(*Secret::CopyOf(std::vector<std::uint8_t>(32, fill))));
  EXPECT_TRUE(keys) << keys.error().message();
  return std::move(*keys);
}

class BlindIndexTest : public testing::Test {
 protected:
  BlindIndex Index(std::string_view field, ValueKind kind) {
    auto index = BlindIndex::Open(*keys_, field, kind);
    EXPECT_TRUE(index) << index.error().message();
    return std::move(*index);
  }

  std::unique_ptr<DerivedKeys> keys_ = KeysWithFill(7);
};

std::vector<std::uint8_t> Query(const BlindIndex& index, std::string_view value) {
  auto token = index.QueryToken(value);
  EXPECT_TRUE(token) << "'" << value << "': " << token.error().message();
  return token ? token->bytes : std::vector<std::uint8_t>{};
}

std::vector<BlindIndexToken> Tokens(const BlindIndex& index, std::string_view value) {
  auto tokens = index.TokensFor(value);
  EXPECT_TRUE(tokens) << "'" << value << "': " << tokens.error().message();
  return tokens ? *tokens : std::vector<BlindIndexToken>{};
}

bool Contains(const std::vector<BlindIndexToken>& tokens, const std::vector<std::uint8_t>& bytes) {
  return std::any_of(tokens.begin(), tokens.end(),
                     [&](const BlindIndexToken& token) { return token.bytes == bytes; });
}

TEST_F(BlindIndexTest, SameValueDifferentAccentsGivesSameToken) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  EXPECT_EQ(Query(family, "Hélène"), Query(family, "HELENE"));
  EXPECT_EQ(Query(family, "Hélène"), Query(family, "helene"));
  EXPECT_EQ(Tokens(family, "Hélène"), Tokens(family, "HELENE"));
  EXPECT_EQ(Tokens(family, "Jean-Pierre"), Tokens(family, "JEAN  PIERRE"));
}

TEST_F(BlindIndexTest, DifferentSpellingsOfAnExactValueGiveSameToken) {
  const BlindIndex phone = Index("patient.phone", ValueKind::kPhone);
  EXPECT_EQ(Query(phone, "06 12 34 56 78"), Query(phone, "+33 6 12 34 56 78"));
  EXPECT_EQ(Query(phone, "06 12 34 56 78"), Query(phone, "0033612345678"));
  const BlindIndex nir = Index("patient.nir", ValueKind::kNir);
  EXPECT_EQ(Query(nir, "1 84 12 76 451 089 46"), Query(nir, "184127645108946"));
  const BlindIndex birth = Index("patient.birthdate", ValueKind::kDate);
  EXPECT_EQ(Query(birth, "03/12/1984"), Query(birth, "1984-12-03"));
  const BlindIndex email = Index("patient.email", ValueKind::kEmail);
  EXPECT_EQ(Query(email, " Jean.Dupont@Example.FR"), Query(email, "jean.dupont@example.fr"));
}

TEST_F(BlindIndexTest, ExactKindsIndexOneTokenThatTheQueryFinds) {
  const BlindIndex nir = Index("patient.nir", ValueKind::kNir);
  const auto tokens = Tokens(nir, "1 84 12 76 451 089 46");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].field, "patient.nir");
  EXPECT_EQ(tokens[0].bytes, Query(nir, "184127645108946"));
}

TEST_F(BlindIndexTest, DifferentFieldsGiveDifferentTokensForTheSameValue) {
  const BlindIndex patient = Index("patient.birthdate", ValueKind::kDate);
  const BlindIndex practitioner = Index("practitioner.birthdate", ValueKind::kDate);
  EXPECT_NE(Query(patient, "1984-12-03"), Query(practitioner, "1984-12-03"));
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  const BlindIndex given = Index("patient.given.prefix", ValueKind::kName);
  EXPECT_NE(Query(family, "Martin"), Query(given, "Martin"));
}

TEST_F(BlindIndexTest, SameFieldNameWithAnotherKindGivesDifferentTokens) {
  const BlindIndex as_identifier = Index("patient.local-id", ValueKind::kIdentifier);
  const BlindIndex as_date = Index("patient.local-id", ValueKind::kDate);
  EXPECT_NE(Query(as_identifier, "1984-12-03"), Query(as_date, "1984-12-03"));
}

TEST_F(BlindIndexTest, TokensDependOnTheDerivationRoot) {
  auto other_keys = KeysWithFill(8);
  auto other = BlindIndex::Open(*other_keys, "patient.nir", ValueKind::kNir);
  ASSERT_TRUE(other);
  EXPECT_NE(Query(Index("patient.nir", ValueKind::kNir), "1 84 12 76 451 089 46"),
            Query(*other, "1 84 12 76 451 089 46"));
}

TEST_F(BlindIndexTest, TokenIsTheTruncatedHmacOfKindAndNormalizedValue) {
  const BlindIndex birth = Index("patient.birthdate", ValueKind::kDate);
  auto key = keys_->BlindIndexKey("patient.birthdate");
  ASSERT_TRUE(key);
  auto tag = HmacSha256(*key, FromText(std::string("date\0"
                                                   "1984-12-03",
                                                   15)));
  ASSERT_TRUE(tag);
  EXPECT_EQ(Query(birth, "03/12/1984"), std::vector<std::uint8_t>(tag->begin(), tag->begin() + 2));
}

TEST_F(BlindIndexTest, TokenLengthMatchesTheField) {
  const std::map<ValueKind, std::string> samples = {
      {ValueKind::kName, "Dupont"},         {ValueKind::kDate, "1984-12-03"},
      {ValueKind::kPhone, "0612345678"},    {ValueKind::kEmail, "a@b.fr"},
      {ValueKind::kNir, "184127645108946"}, {ValueKind::kAccession, "LAB-1"},
      {ValueKind::kIdentifier, "MRN-42"}};
  EXPECT_EQ(TokenBits(ValueKind::kName), 21u);
  EXPECT_EQ(TokenBits(ValueKind::kDate), 16u);
  EXPECT_EQ(TokenBits(ValueKind::kNir), 18u);
  EXPECT_EQ(TokenBits(ValueKind::kPhone), 18u);
  EXPECT_EQ(TokenBits(ValueKind::kEmail), 18u);
  EXPECT_EQ(TokenBits(ValueKind::kAccession), 20u);
  EXPECT_EQ(TokenBits(ValueKind::kIdentifier), 18u);
  for (const auto& [kind, sample] : samples) {
    const BlindIndex index = Index("sample.field", kind);
    const unsigned spare_bits = static_cast<unsigned>(TokenBytes(kind) * 8 - TokenBits(kind));
    for (const auto& token : Tokens(index, sample)) {
      ASSERT_EQ(token.bytes.size(), TokenBytes(kind)) << ValueKindName(kind);
      // The bits beyond TokenBits are zero, so they carry nothing.
      EXPECT_EQ(token.bytes.back() & ((1u << spare_bits) - 1), 0u) << ValueKindName(kind);
    }
  }
}

TEST_F(BlindIndexTest, EveryNamePrefixFromThreeToTwelveCharactersIsIndexed) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  const auto tokens = Tokens(family, "Dupont");
  for (const char* prefix : {"dup", "DUPO", "dupôn", "Dupont"}) {
    EXPECT_TRUE(Contains(tokens, Query(family, prefix))) << prefix;
  }
  for (const auto& token : tokens) EXPECT_EQ(token.field, "patient.family.prefix");

  // 17 characters: prefixes of 3..12, except "montmorency " that ends in a space.
  const auto long_name = Tokens(family, "Montmorency-Laval");
  for (const char* prefix : {"mon", "montm", "Montmorency", "Montmorency-", "montmorency l"}) {
    EXPECT_TRUE(Contains(long_name, Query(family, prefix))) << prefix;
  }
}

TEST_F(BlindIndexTest, EveryNameGivesTheSameNumberOfTokens) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  for (const char* name : {"Ly", "Roy", "Dupont", "Montmorency-Laval", "Castelnau-Durban"}) {
    EXPECT_EQ(Tokens(family, name).size(), kNameTokensPerValue) << name;
  }
  EXPECT_EQ(kNameTokensPerValue, 10u);
}

TEST_F(BlindIndexTest, RewritingTheSameValueGivesTheSameRows) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  EXPECT_EQ(Tokens(family, "Ly"), Tokens(family, "LY"));
  EXPECT_EQ(Tokens(family, "Dupont"), Tokens(family, "DUPONT"));
  EXPECT_NE(Tokens(family, "Dupont"), Tokens(family, "Dupond"));
}

TEST_F(BlindIndexTest, PrefixesSpanWordsOfCompoundNames) {
  const BlindIndex given = Index("patient.given.prefix", ValueKind::kName);
  const auto tokens = Tokens(given, "Jean-Pierre");
  EXPECT_TRUE(Contains(tokens, Query(given, "jean p")));
  EXPECT_TRUE(Contains(tokens, Query(given, "Jean-Pie")));
  EXPECT_TRUE(Contains(tokens, Query(given, "jean")));
  EXPECT_FALSE(Contains(tokens, Query(given, "pierre")));  // prefixes of the whole name only
}

TEST_F(BlindIndexTest, QueryLongerThanTwelveCharactersUsesItsFirstTwelve) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  EXPECT_EQ(Query(family, "Castelnau-Durban"), Query(family, "castelnau du"));
  EXPECT_TRUE(Contains(Tokens(family, "Castelnau-Durban"), Query(family, "Castelnau-Durbanne")));
  // Cut just after a word, the trailing space is dropped, as in the index.
  EXPECT_EQ(Query(family, "Montmorency-Laval"), Query(family, "Montmorency"));
}

TEST_F(BlindIndexTest, PrefixShorterThanThreeIsRefused) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  for (const char* prefix : {"Hé", "h", "J-P", "D'A", "é"}) {
    auto token = family.QueryToken(prefix);
    ASSERT_FALSE(token) << prefix;
    EXPECT_EQ(token.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(token.error().message().find("at least 3"), std::string::npos);
  }
  EXPECT_TRUE(family.QueryToken("D'Ar"));  // d, a, r
}

TEST_F(BlindIndexTest, ShortNamesAreIndexedWholeAndFoundWithAShortNameQuery) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  auto whole = family.ShortNameQueryToken("LY");
  ASSERT_TRUE(whole);
  EXPECT_TRUE(Contains(Tokens(family, "Ly"), whole->bytes));
  EXPECT_FALSE(Contains(Tokens(family, "Lyon"), whole->bytes));
  EXPECT_FALSE(family.QueryToken("Ly"));
  EXPECT_FALSE(family.ShortNameQueryToken("Dupont"));
  const BlindIndex birth = Index("patient.birthdate", ValueKind::kDate);
  EXPECT_FALSE(birth.ShortNameQueryToken("Ly"));
}

TEST_F(BlindIndexTest, NameTokensAreSortedAndDistinct) {
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  const auto tokens = Tokens(family, "Montmorency-Laval");
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_LT(tokens[i - 1].bytes, tokens[i].bytes);
  }
}

TEST_F(BlindIndexTest, InvalidValuesAreRefused) {
  const BlindIndex nir = Index("patient.nir", ValueKind::kNir);
  const BlindIndex birth = Index("patient.birthdate", ValueKind::kDate);
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  for (auto result : {nir.TokensFor("1 84 12 76 451 089 47"), birth.TokensFor("2023-02-29"),
                      family.TokensFor("Du\xC3"), family.TokensFor("--")}) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  }
  for (auto result : {nir.QueryToken("1 84 12 76 451 089 47"), birth.QueryToken("1984-02-30"),
                      family.QueryToken("Du\xC3\xA9\xFF")}) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_F(BlindIndexTest, BadFieldNameIsRefused) {
  for (const char* field : {"Patient.Family", "patient family", "", "patient/nir"}) {
    auto index = BlindIndex::Open(*keys_, field, ValueKind::kName);
    ASSERT_FALSE(index) << field;
    EXPECT_EQ(index.error().code(), ErrorCode::kInvalidArgument);
  }
}

// Truncation at work: among n distinct values a token of b bits gives about
// n(n-1)/2 / 2^b pairs of values sharing a token. 20,000 identifiers at 18 bits: ~763 pairs.
TEST_F(BlindIndexTest, EqualTokensDoNotProveEqualValues) {
  const BlindIndex index = Index("patient.local-id", ValueKind::kIdentifier);
  std::map<std::vector<std::uint8_t>, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[Query(index, "MRN" + std::to_string(i))];
  long pairs = 0;
  for (const auto& [token, count] : counts) pairs += static_cast<long>(count) * (count - 1) / 2;
  const double expected = n * (n - 1.0) / 2.0 / (1 << TokenBits(ValueKind::kIdentifier));
  EXPECT_GT(pairs, expected * 0.8);
  EXPECT_LT(pairs, expected * 1.2);
}

TEST_F(BlindIndexTest, ErrorsDoNotQuoteTheValue) {
  const BlindIndex nir = Index("patient.nir", ValueKind::kNir);
  const BlindIndex family = Index("patient.family.prefix", ValueKind::kName);
  for (auto result : {nir.QueryToken("1 84 12 76 451 089 47"), family.QueryToken("Zq")}) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message().find("451"), std::string::npos);
    EXPECT_EQ(result.error().message().find("zq"), std::string::npos);
    EXPECT_EQ(result.error().message().find("Zq"), std::string::npos);
  }
}

}  // namespace
}  // namespace medvault::crypto
