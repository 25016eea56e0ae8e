#include "identity/password_policy.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace medvault::identity {
namespace {

std::string TextOf(const Secret& secret) {
  return {reinterpret_cast<const char*>(secret.bytes().data()), secret.size()};
}

const std::vector<std::string> kNoTerms;

// Normalizes and checks a new password; the message of a refusal must never contain it.
Status Check(std::string_view password, const std::vector<std::string>& terms = kNoTerms) {
  auto normalized = NormalizePassword(password);
  if (!normalized) return std::unexpected(normalized.error());
  auto status = CheckNewPassword(*normalized, terms);
  if (!status) {
    EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(status.error().message().find(password), std::string::npos)
        << "the message repeats the password";
  }
  return status;
}

// The message of a refusal, or "accepted".
std::string Verdict(std::string_view password, const std::vector<std::string>& terms = kNoTerms) {
  auto status = Check(password, terms);
  return status ? "accepted" : status.error().message();
}

bool Says(const std::string& verdict, std::string_view what) {
  return verdict.find(what) != std::string::npos;
}

TEST(NormalizePassword, AppliesNfkcSoEveryKeyboardGivesTheSameBytes) {
  // "é" precomposed and as "e" + combining acute accent.
  auto precomposed = NormalizePassword("caf\xC3\xA9");
  auto combining = NormalizePassword("cafe\xCC\x81");
  ASSERT_TRUE(precomposed && combining);
  EXPECT_TRUE(precomposed->Equals(*combining));
  EXPECT_EQ(TextOf(*precomposed), "caf\xC3\xA9");
  // Full-width letters and the "fi" ligature are compatibility forms of ASCII.
  auto full_width =
      NormalizePassword("\xEF\xBC\xB0\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x93");  // Ｐａｓｓ
  ASSERT_TRUE(full_width);
  EXPECT_EQ(TextOf(*full_width), "Pass");
  auto ligature = NormalizePassword("\xEF\xAC\x81n");  // ﬁn
  ASSERT_TRUE(ligature);
  EXPECT_EQ(TextOf(*ligature), "fin");
  auto empty = NormalizePassword("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 0u);
}

TEST(NormalizePassword, RefusesInvalidUtf8AndOversizedInput) {
  for (std::string_view invalid : {std::string_view("mot de passe \xFF"),
                                   std::string_view("\xC3"),                // truncated
                                   std::string_view("\xC0\xAF"),            // overlong "/"
                                   std::string_view("\xED\xA0\x80xyz")}) {  // a surrogate
    auto normalized = NormalizePassword(invalid);
    ASSERT_FALSE(normalized);
    EXPECT_EQ(normalized.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Says(normalized.error().message(), "UTF-8"));
  }
  EXPECT_FALSE(NormalizePassword(std::string(kMaxPasswordInputBytes + 1, 'a')));
  EXPECT_TRUE(NormalizePassword(std::string(kMaxPasswordInputBytes, 'a')));
}

TEST(CheckNewPassword, RefusesTheFamousExamplesTr0ub4dorAndCorrectHorse) {
  // 11 characters: too short whatever its entropy.
  EXPECT_TRUE(Says(Verdict("Tr0ub4dor&3"), "too short"));
  // zxcvbn alone scores it 4, but it is the most quoted passphrase there is.
  EXPECT_TRUE(Says(Verdict("correct horse battery staple"), "too common"));
  EXPECT_TRUE(Says(Verdict("CorrectHorseBatteryStaple"), "too common"));
}

TEST(CheckNewPassword, RefusesCommonFrenchAndEnglishPasswords) {
  EXPECT_TRUE(Says(Verdict("motdepasse123!"), "too"));  // French for "password"
  EXPECT_TRUE(Says(Verdict("MotDePasse2024!"), "too"));
  EXPECT_TRUE(Says(Verdict("password1234"), "too common"));
  EXPECT_TRUE(Says(Verdict("P@ssw0rd12345"), "too common"));
  EXPECT_TRUE(Says(Verdict("azertyuiop123"), "too"));
  EXPECT_TRUE(Says(Verdict("iloveyou2024"), "too"));
  EXPECT_TRUE(Says(Verdict("qwertyuiopasdf"), "too"));
  EXPECT_TRUE(Says(Verdict("soleil2024!!"), "too"));
  EXPECT_TRUE(Says(Verdict("aaaaaaaaaaaaaaaa"), "too"));
  EXPECT_TRUE(Says(Verdict("123456789012"), "too"));
  EXPECT_TRUE(Says(Verdict("abcdefghijklmnop"), "too easy"));
  EXPECT_TRUE(Says(Verdict("aaaa1111bbbb2222"), "too easy"));
}

TEST(CheckNewPassword, AcceptsPassphrasesWithAccentsAndRandomStrings) {
  EXPECT_EQ(Verdict("Ma fille s'appelle Zoé"), "accepted");
  EXPECT_EQ(Verdict("Hélène aime les crêpes au sarrasin"), "accepted");
  EXPECT_EQ(Verdict("le chat mange des croquettes"), "accepted");
  EXPECT_EQ(Verdict("h7Rk2pWq9xLm"), "accepted");  // 12 random characters
}

TEST(CheckNewPassword, RefusesTheLoginOrNameInsideCaseAndAccentFolded) {
  const std::vector<std::string> terms = {"Hélène Lefèvre", "hlefevre"};
  EXPECT_TRUE(Says(Verdict("hlefevre-Sarrasin-2026", terms), "your name or your login"));
  EXPECT_TRUE(Says(Verdict("HLEFEVRE tourne en rond", terms), "your name or your login"));
  EXPECT_TRUE(Says(Verdict("Hélène aime les crêpes au sarrasin", terms), "your name"));
  EXPECT_TRUE(Says(Verdict("HELENE aime les crepes au sarrasin", terms), "your name"));
  EXPECT_TRUE(Says(Verdict("crêpes chez les Lefevre du coin", terms), "your name"));
  // The same passphrase without the name is fine for this user.
  EXPECT_EQ(Verdict("Zoé aime les crêpes au sarrasin", terms), "accepted");
}

TEST(CheckNewPassword, AnEmailLoginCountsByItsLocalPart) {
  const std::vector<std::string> terms = {"jean.dupont@chu-exemple.fr"};
  EXPECT_TRUE(Says(Verdict("dupont aime la montagne l'hiver", terms), "your name"));
  EXPECT_TRUE(Says(Verdict("JeanDupont est en vacances", terms), "your name"));
  // The mail domain is not the user's name.
  EXPECT_EQ(Verdict("le chu-exemple de Grenoble est grand", terms), "accepted");
}

TEST(CheckNewPassword, LeetSpellingOfTheNameIsWeak) {
  const std::vector<std::string> terms = {"Dupontel"};
  // Not a literal match, but zxcvbn finds the name under the substitutions.
  EXPECT_NE(Verdict("Dup0nt3l!2024", terms), "accepted");
}

TEST(CheckNewPassword, CountsCharactersAsCodePointsFrom12To256) {
  // 11 two-byte characters: 22 bytes but 11 characters.
  EXPECT_TRUE(Says(Verdict("éàèùçâêîôûë"), "too short"));
  EXPECT_FALSE(Says(Verdict("éàèùçâêîôûëï"), "too short"));  // 12 characters
  // Random strings of 256 and 300 characters.
  std::mt19937 random(42);
  const std::string_view alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string text;
  for (int i = 0; i < 300; ++i) text.push_back(alphabet[random() % alphabet.size()]);
  EXPECT_EQ(Verdict(text.substr(0, 256)), "accepted");
  EXPECT_TRUE(Says(Verdict(text.substr(0, 257)), "too long"));
  EXPECT_TRUE(Says(Verdict(text), "too long"));
}

TEST(CheckNewPassword, RefusesControlCharacters) {
  EXPECT_TRUE(Says(Verdict("une phrase\nsur deux lignes"), "control character"));
  EXPECT_TRUE(Says(Verdict("tabulation\tau milieu ici"), "control character"));
}

TEST(PasswordScore, FollowsZxcvbnThresholds) {
  auto weak = NormalizePassword("password");
  auto strong = NormalizePassword("h7Rk2pWq9xLm");
  ASSERT_TRUE(weak && strong);
  EXPECT_EQ(PasswordScore(*weak, kNoTerms), 0);
  EXPECT_EQ(PasswordScore(*strong, kNoTerms), 4);
}

}  // namespace
}  // namespace medvault::identity
