#include "crypto/normalize.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medvault::crypto {
namespace {

// Every spelling in `spellings` normalizes, as `kind`, to `canonical`.
void ExpectAllNormalizeTo(ValueKind kind, const std::vector<std::string>& spellings,
                          const std::string& canonical) {
  for (const auto& spelling : spellings) {
    auto normalized = Normalize(kind, spelling);
    ASSERT_TRUE(normalized) << ValueKindName(kind) << " '" << spelling
                            << "': " << normalized.error().message();
    EXPECT_EQ(*normalized, canonical) << "'" << spelling << "'";
  }
}

void ExpectRefused(ValueKind kind, const std::string& value) {
  auto normalized = Normalize(kind, value);
  ASSERT_FALSE(normalized) << ValueKindName(kind) << " '" << value << "' gave '" << *normalized
                           << "'";
  EXPECT_EQ(normalized.error().code(), ErrorCode::kInvalidArgument);
}

TEST(NormalizeName, AccentsAndCaseAreFolded) {
  ExpectAllNormalizeTo(ValueKind::kName,
                       {"Hélène", "HELENE", "helene", "HÉLÈNE", "He\xCC\x81le\xCC\x80ne"},
                       "helene");
  ExpectAllNormalizeTo(ValueKind::kName, {"François", "FRANCOIS", "françois"}, "francois");
  ExpectAllNormalizeTo(ValueKind::kName, {"Noël", "NOEL", "Nöel"}, "noel");
}

TEST(NormalizeName, SpacesAndHyphensBecomeOneSpace) {
  ExpectAllNormalizeTo(
      ValueKind::kName,
      {"Jean-Pierre", "jean pierre", "JEAN  PIERRE", " Jean - Pierre ", "Jean\xE2\x80\x91Pierre",
       "Jean\xC2\xA0Pierre", "jean\tpierre", "Jean--Pierre."},
      "jean pierre");
}

TEST(NormalizeName, ApostrophesAreDeleted) {
  ExpectAllNormalizeTo(ValueKind::kName,
                       {"D'Artagnan",
                        "d\xE2\x80\x99"
                        "artagnan",
                        "DARTAGNAN", "Dartagnan",
                        "D\xC2\xB4"
                        "Artagnan",
                        "D\xCA\xBC"
                        "Artagnan"},
                       "dartagnan");
  ExpectAllNormalizeTo(ValueKind::kName, {"N'Diaye", "Ndiaye"}, "ndiaye");
}

TEST(NormalizeName, LigaturesAndLettersWithoutDecompositionAreSpelledOut) {
  ExpectAllNormalizeTo(ValueKind::kName, {"Lætitia", "LÆTITIA", "Laetitia"}, "laetitia");
  ExpectAllNormalizeTo(ValueKind::kName, {"Cœur", "CŒUR", "Coeur"}, "coeur");
  ExpectAllNormalizeTo(ValueKind::kName, {"Straße", "STRASSE", "Strasse"}, "strasse");
  ExpectAllNormalizeTo(ValueKind::kName,
                       {"\xEF\xAC\x81"
                        "lippi",
                        "Filippi"},
                       "filippi");  // ﬁ
  ExpectAllNormalizeTo(ValueKind::kName, {"Søren", "Soren"}, "soren");
  ExpectAllNormalizeTo(ValueKind::kName, {"Łukasz", "Lukasz"}, "lukasz");
}

TEST(NormalizeName, InvisibleCharactersAreDropped) {
  // Soft hyphen and zero-width space, as pasted from word processors.
  ExpectAllNormalizeTo(ValueKind::kName, {"Hé\xC2\xADlène", "Hé\xE2\x80\x8Blène"}, "helene");
}

TEST(NormalizeName, OtherScriptsKeepTheirLettersCaseFolded) {
  ExpectAllNormalizeTo(ValueKind::kName, {"Ελένη", "ΕΛΈΝΗ"}, "ελενη");
}

TEST(NormalizeName, InvalidUtf8IsRefused) {
  for (const char* value : {"H\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xFF", "ab\xF4\x90\x80\x80"}) {
    auto name = NormalizeName(value);
    ASSERT_FALSE(name);
    EXPECT_EQ(name.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(name.error().message().find("UTF-8"), std::string::npos);
  }
}

TEST(NormalizeName, UnassignedCodePointsAreRefused) {
  ExpectRefused(ValueKind::kName, "Ab\xCD\xB8");  // U+0378, unassigned
}

TEST(NormalizeName, ANameWithoutLettersOrDigitsIsRefused) {
  ExpectRefused(ValueKind::kName, "");
  ExpectRefused(ValueKind::kName, " - ' . ");
}

TEST(NormalizeName, OverlongInputIsRefused) {
  ExpectRefused(ValueKind::kName, std::string(kMaxValueBytes + 1, 'a'));
  EXPECT_TRUE(NormalizeName(std::string(kMaxValueBytes, 'a')));
}

TEST(NormalizeDate, AcceptedFormatsGiveIsoDates) {
  ExpectAllNormalizeTo(ValueKind::kDate,
                       {"1984-12-03", "19841203", "03/12/1984", " 1984-12-03 ",
                        "\xEF\xBC\x91\xEF\xBC\x99\xEF\xBC\x98\xEF\xBC\x94-12-03"},  // full-width
                       "1984-12-03");
}

TEST(NormalizeDate, OnlyRealCalendarDatesAreAccepted) {
  EXPECT_TRUE(NormalizeDate("2024-02-29"));
  EXPECT_TRUE(NormalizeDate("2000-02-29"));
  for (const char* date : {"2023-02-29", "1900-02-29", "1984-04-31", "1984-13-01", "1984-00-10",
                           "1984-01-00", "0000-01-01", "31/02/2001"}) {
    ExpectRefused(ValueKind::kDate, date);
  }
}

TEST(NormalizeDate, PartialAndMalformedDatesAreRefused) {
  for (const char* date : {"1984", "1984-12", "84-12-03", "1984/12/03", "12/03/84", "1984-1-3",
                           "1984-12-03T10:00:00", "", "abcd-ef-gh"}) {
    ExpectRefused(ValueKind::kDate, date);
  }
}

TEST(NormalizePhone, FrenchSpellingsGiveOneE164Number) {
  ExpectAllNormalizeTo(ValueKind::kPhone,
                       {"06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "0612345678",
                        "06.12.34.56.78", "06-12-34-56-78", "+33 (0)6 12 34 56 78", "+33612345678",
                        "06\xC2\xA0"
                        "12\xC2\xA0"
                        "34\xC2\xA0"
                        "56\xC2\xA0"
                        "78"},
                       "+33612345678");
  ExpectAllNormalizeTo(ValueKind::kPhone, {"01 23 45 67 89", "+33 1 23 45 67 89"}, "+33123456789");
}

TEST(NormalizePhone, OverseasDepartmentsUseTheirCountryCode) {
  ExpectAllNormalizeTo(ValueKind::kPhone,
                       {"0692 12 34 56", "+262 692 12 34 56", "00262692123456",
                        "+262 (0)692 12 34 56", "+33 692 12 34 56"},
                       "+262692123456");
  ExpectAllNormalizeTo(ValueKind::kPhone, {"0596 12 34 56", "+596 596 12 34 56"}, "+596596123456");
}

TEST(NormalizePhone, OtherCountriesNeedTheirCode) {
  ExpectAllNormalizeTo(ValueKind::kPhone, {"+44 20 7946 0958", "0044 20 7946 0958"},
                       "+442079460958");
  for (const char* phone : {"612345678", "06 12 34 56", "06 12 34 56 789", "+33 6 12 34 56", "0012",
                            "call 06 12 34 56 78", "06 12 34 56 78 ext 3", "+33 06 12 34 56 78 9",
                            "+0612345678", "++33612345678", ""}) {
    ExpectRefused(ValueKind::kPhone, phone);
  }
}

TEST(NormalizeEmail, IsTrimmedAndLowerCased) {
  ExpectAllNormalizeTo(
      ValueKind::kEmail,
      {" Jean.Dupont@Example.FR ", "jean.dupont@example.fr", "JEAN.DUPONT@EXAMPLE.FR"},
      "jean.dupont@example.fr");
  ExpectAllNormalizeTo(ValueKind::kEmail, {"Hélène@Exemple.fr", "HÉLÈNE@exemple.fr"},
                       "hélène@exemple.fr");
}

TEST(NormalizeEmail, MalformedAddressesAreRefused) {
  for (const char* email :
       {"", "jean", "@example.fr", "jean@", "a@b@c", "jean dupont@x.fr", "jean\x01@x.fr"}) {
    ExpectRefused(ValueKind::kEmail, email);
  }
}

TEST(NormalizeIdentifier, SpacesAreRemoved) {
  ExpectAllNormalizeTo(ValueKind::kIdentifier,
                       {" AB 12 34 ", "AB1234",
                        "AB\xC2\xA0"
                        "1234"},
                       "AB1234");
  ExpectRefused(ValueKind::kIdentifier, "   ");
}

TEST(Normalize, NirAndAccessionUseTheFrenchIdentifierRules) {
  ExpectAllNormalizeTo(ValueKind::kNir,
                       {"1 84 12 76 451 089 46", "184127645108946",
                        "1\xC2\xA0"
                        "84 12 76 451 089 46"},
                       "184127645108946");
  ExpectRefused(ValueKind::kNir, "1 84 12 76 451 089 47");
  ExpectAllNormalizeTo(ValueKind::kAccession, {" lab-2024-1 ", "LAB-2024-1"}, "LAB-2024-1");
  ExpectRefused(ValueKind::kAccession, "LAB 2024");
}

TEST(Normalize, ErrorMessagesDoNotQuoteTheValue) {
  const std::string marker = "Zzyzxmarker";
  for (ValueKind kind : {ValueKind::kDate, ValueKind::kPhone, ValueKind::kEmail, ValueKind::kNir,
                         ValueKind::kAccession}) {
    auto normalized = Normalize(kind, marker + "/");
    ASSERT_FALSE(normalized);
    EXPECT_EQ(normalized.error().message().find("Zzyzx"), std::string::npos);
  }
}

}  // namespace
}  // namespace medvault::crypto
