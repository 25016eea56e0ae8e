#include "core/french_ids.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace medvault {
namespace {

// The key by the published formula, computed independently of the code under test:
// 97 - (13-digit number mod 97), Corsica read as 19 (2A) or 18 (2B).
int FormulaKey(std::string body) {
  if (body.substr(5, 2) == "2A") body.replace(5, 2, "19");
  if (body.substr(5, 2) == "2B") body.replace(5, 2, "18");
  return static_cast<int>(97 - std::stoull(body) % 97);
}

// `body` (13 characters) followed by its 2-digit key.
std::string WithKey(const std::string& body) {
  const int key = FormulaKey(body);
  return body + (key < 10 ? "0" : "") + std::to_string(key);
}

TEST(Nir, KeyIsNinetySevenMinusTheNumberModuloNinetySeven) {
  for (const char* body : {"1841276451089", "2550814168025", "2951099126111", "1000101001001",
                           "2991299999999", "1780599330108", "2620375123042"}) {
    auto key = NirKey(body);
    ASSERT_TRUE(key) << body;
    EXPECT_EQ(*key, FormulaKey(body)) << body;
    EXPECT_GE(*key, 1);
    EXPECT_LE(*key, 97);
  }
}

TEST(Nir, PublishedExamplesAreValid) {
  // Each key was checked with the formula (FormulaKey) before being written here.
  EXPECT_EQ(FormulaKey("1841276451089"), 46);
  EXPECT_EQ(FormulaKey("2550814168025"), 38);
  EXPECT_EQ(FormulaKey("2951099126111"), 93);
  for (const auto& [text, canonical] : {std::pair{"1 84 12 76 451 089 46", "184127645108946"},
                                        std::pair{"2 55 08 14 168 025 38", "255081416802538"},
                                        std::pair{"2 95 10 99 126 111 93", "295109912611193"}}) {
    auto nir = CanonicalNir(text);
    ASSERT_TRUE(nir) << text << ": " << nir.error().message();
    EXPECT_EQ(*nir, canonical);
  }
}

TEST(Nir, SpacesDotsAndHyphensAreIgnored) {
  for (const char* text : {"184127645108946", "1.84.12.76.451.089.46", "1-84-12-76-451-089-46",
                           " 1 84 12 76 451 089 46 "}) {
    auto nir = CanonicalNir(text);
    ASSERT_TRUE(nir) << text;
    EXPECT_EQ(*nir, "184127645108946");
  }
}

TEST(Nir, WrongKeyIsRefused) {
  auto nir = CanonicalNir("1 84 12 76 451 089 47");
  ASSERT_FALSE(nir);
  EXPECT_EQ(nir.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(nir.error().message().find("key"), std::string::npos);
  // One digit typed wrong in the body is caught by the same key.
  EXPECT_FALSE(CanonicalNir("1 84 12 76 451 088 46"));
  // Two adjacent digits swapped too.
  EXPECT_FALSE(CanonicalNir("1 84 12 67 451 089 46"));
}

TEST(Nir, CorsicaKeyReads2AAs19And2BAs18) {
  auto key_2a = NirKey("185072A123456");
  auto key_2b = NirKey("290012B015002");
  ASSERT_TRUE(key_2a && key_2b);
  EXPECT_EQ(*key_2a, static_cast<int>(97 - 1850719123456ULL % 97));
  EXPECT_EQ(*key_2b, static_cast<int>(97 - 2900118015002ULL % 97));
  EXPECT_EQ(*key_2a, 65);
  EXPECT_EQ(*key_2b, 97);  // remainder 0: the key is 97, never 00
}

TEST(Nir, CorsicaNumbersAreValidWithTheOfficialKeyOnly) {
  auto nir_2a = CanonicalNir("1 85 07 2a 123 456 65");
  ASSERT_TRUE(nir_2a) << nir_2a.error().message();
  EXPECT_EQ(*nir_2a, "185072A12345665");
  auto nir_2b = CanonicalNir(WithKey("290012B015002"));
  ASSERT_TRUE(nir_2b);
  EXPECT_EQ(*nir_2b, "290012B01500297");
  // The key a naive reading of 2A as 20 would give is refused.
  const int naive = static_cast<int>(97 - 1850720123456ULL % 97);
  ASSERT_NE(naive, 65);
  EXPECT_FALSE(CanonicalNir("185072A123456" + std::to_string(naive)));
  // Before 1976 Corsica was department 20: an all-digit NIR.
  EXPECT_TRUE(CanonicalNir(WithKey("1500720123456")));
}

TEST(Nir, WrongLengthIsRefused) {
  EXPECT_FALSE(CanonicalNir("1841276451089"));     // no key
  EXPECT_FALSE(CanonicalNir("1841276451089460"));  // one character too many
  EXPECT_FALSE(CanonicalNir(""));
}

TEST(Nir, ImpossibleStructureIsRefusedEvenWithAMatchingKey) {
  for (const char* body : {"5841276451089",     // first digit
                           "1840076451089",     // month 00
                           "1841376451089",     // month 13
                           "1844576451089",     // month 45
                           "1841200451089",     // department 00
                           "1841297951089",     // overseas 979
                           "1841276451000"}) {  // order 000
    EXPECT_FALSE(CanonicalNir(WithKey(body))) << body;
  }
  EXPECT_FALSE(CanonicalNir("1 84 12 2C 451 089 46"));
  EXPECT_FALSE(CanonicalNir("1 84 12 76 4A1 089 46"));
  EXPECT_FALSE(CanonicalNir("1 84 12 76 451 089 4X"));
}

TEST(Nir, FictitiousMonthsOverseasAndForeignBirthsAreAccepted) {
  for (const char* body : {"1842076451089",  // month 20
                           "1843576451089",  // month 35
                           "1846276451089",  // month 62
                           "2849997412089",  // overseas 974, La Réunion
                           "1849935012089",  // born abroad
                           "7849935012089",  // provisional number (NIA)
                           "8849935012089"}) {
    EXPECT_TRUE(CanonicalNir(WithKey(body))) << body;
  }
}

TEST(Nir, ErrorMessagesDoNotQuoteTheNumber) {
  for (const char* text : {"1 84 12 76 451 089 47", "9841276451089", "1841376451089xx"}) {
    auto nir = CanonicalNir(text);
    ASSERT_FALSE(nir);
    EXPECT_EQ(nir.error().message().find("841"), std::string::npos) << nir.error().message();
  }
}

TEST(Ins, SystemsAreTheOfficialOids) {
  EXPECT_EQ(InsSystem(InsKind::kNir), "urn:oid:1.2.250.1.213.1.4.8");
  EXPECT_EQ(InsSystem(InsKind::kNia), "urn:oid:1.2.250.1.213.1.4.9");
}

TEST(Ins, TheSystemSaysWhetherTheNumberIsANirOrANia) {
  auto nir = ParseIns(kInsNirSystem, "1 84 12 76 451 089 46");
  ASSERT_TRUE(nir);
  EXPECT_EQ(nir->kind, InsKind::kNir);
  EXPECT_EQ(nir->number, "184127645108946");
  auto nia = ParseIns(kInsNiaSystem, WithKey("7849935012089"));
  ASSERT_TRUE(nia);
  EXPECT_EQ(nia->kind, InsKind::kNia);
}

TEST(Ins, UnknownSystemOrInvalidNumberIsRefused) {
  auto other = ParseIns("urn:oid:1.2.250.1.213.1.4.10", "1 84 12 76 451 089 46");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kInvalidArgument);
  auto bad_key = ParseIns(kInsNirSystem, "1 84 12 76 451 089 47");
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().message().find("INS"), std::string::npos);
}

TEST(AccessionNumber, IsTrimmedAndUpperCased) {
  auto number = CanonicalAccessionNumber("  lab-2024-000123\t");
  ASSERT_TRUE(number);
  EXPECT_EQ(*number, "LAB-2024-000123");
}

TEST(AccessionNumber, OnlyLettersDigitsAndHyphensAreAccepted) {
  for (const char* text : {"LAB 2024", "LAB/2024", "LAB_2024", "LAB\xC3\x89", "", "   "}) {
    auto number = CanonicalAccessionNumber(text);
    ASSERT_FALSE(number) << text;
    EXPECT_EQ(number.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(CanonicalAccessionNumber(std::string(kMaxAccessionNumberLength, 'A')));
  EXPECT_FALSE(CanonicalAccessionNumber(std::string(kMaxAccessionNumberLength + 1, 'A')));
}

}  // namespace
}  // namespace medvault
