#include "identity/password_policy.h"

#include <sodium.h>
#include <utf8proc.h>
#include <zxcvbn.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

#include "crypto/normalize.h"
#include "crypto/wiped_text.h"

namespace medvault::identity {
namespace {

std::unexpected<Error> Refuse(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

std::string_view View(const Secret& secret) {
  return {reinterpret_cast<const char*>(secret.bytes().data()), secret.size()};
}

// Words that zxcvbn's English-centred dictionaries miss but that French users pick most
// often (the heads of published French password-leak analyses), words of a health service's
// own context (NIST SP 800-63B: context-specific words), and famous example passwords.
// They are scored as dictionary words, so "motdepasse123!" is weak, not 6e9 guesses.
constexpr const char* kExtraCommonWords[] = {
    "motdepasse",
    "azerty",
    "azertyuiop",
    "azerty123",
    "soleil",
    "bonjour",
    "doudou",
    "chouchou",
    "loulou",
    "marseille",
    "jetaime",
    "nicolas",
    "julien",
    "camille",
    "coucou",
    "vacances",
    "chocolat",
    "princesse",
    "toulouse",
    "bordeaux",
    "paris",
    "france",
    "amour",
    "bisous",
    "maman",
    "papa",
    "cheval",
    "chaton",
    "nounours",
    "tintin",
    "olivier",
    "celine",
    "thomas",
    "bonheur",
    "famille",
    "liberte",
    "loveyou",
    "mimi",
    "poupette",
    "cherie",
    "licorne",
    "lapin",
    "minou",
    "medvault",
    "sante",
    "medecin",
    "docteur",
    "hopital",
    "laboratoire",
    "infirmiere",
    "patient",
    "ordonnance",
    "ordinateur",
    "motdepassemedvault",
    "correct horse battery staple",
    "correcthorsebatterystaple",
    "Tr0ub4dor&3",
};

// libzxcvbn returns entropy in bits (log2 of the guesses) but no score; this is zxcvbn's own
// guesses_to_score (dropbox/zxcvbn src/time_estimates.coffee, with its DELTA of 5 guesses;
// Wheeler, "zxcvbn: Low-Budget Password Strength Estimation", USENIX Security 2016): under
// 10^3 guesses "too guessable", under 10^6 "very guessable" (throttled online attack), under
// 10^8 "somewhat guessable" (unthrottled online attack), under 10^10 "safely unguessable"
// (offline attack on a slow hash), beyond that "very unguessable".
int ScoreOfGuesses(double guesses) {
  constexpr double kDelta = 5;
  if (guesses < 1e3 + kDelta) return 0;
  if (guesses < 1e6 + kDelta) return 1;
  if (guesses < 1e8 + kDelta) return 2;
  if (guesses < 1e10 + kDelta) return 3;
  return 4;
}

bool IsDictionaryMatch(ZxcTypeMatch_t type) {
  switch (static_cast<int>(type) & ~static_cast<int>(MULTIPLE_MATCH)) {
    case DICTIONARY_MATCH:
    case DICT_LEET_MATCH:
    case USER_MATCH:
    case USER_LEET_MATCH:
      return true;
    default:
      return false;
  }
}

// Code points of valid UTF-8, and whether one is a control character.
struct Characters {
  std::size_t count = 0;
  bool has_control = false;
};
Characters CountCharacters(std::string_view text) {
  Characters characters;
  std::size_t at = 0;
  while (at < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + at),
                         static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
    if (length <= 0) break;  // NormalizePassword output is valid UTF-8
    if (utf8proc_category(code_point) == UTF8PROC_CATEGORY_CC) characters.has_control = true;
    ++characters.count;
    at += static_cast<std::size_t>(length);
  }
  return characters;
}

// The folded forms a personal term is looked for under: the whole term with separators
// removed and each of its words of at least 3 characters. An email login counts by its
// local part ("jean.dupont@chu.fr" -> "jeandupont", "jean", "dupont").
void AddFoldedTerms(std::string_view term, std::vector<std::string>& out) {
  if (const std::size_t at = term.find('@'); at != std::string_view::npos)
    term = term.substr(0, at);
  auto folded = crypto::NormalizeName(term);
  if (!folded) return;  // no letter or digit in it: nothing to look for
  const crypto::WipedText words(std::move(*folded));
  std::string compact;
  std::size_t start = 0;
  const std::string_view text = words.view();
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    compact.append(word);
    if (CountCharacters(word).count >= 3) out.emplace_back(word);
    start = end + 1;
  }
  if (CountCharacters(compact).count >= 3) out.push_back(std::move(compact));
}

struct Estimate {
  int score = 0;
  bool mostly_dictionary = false;  // dictionary words cover at least 2/3 of the password
};

// libzxcvbn on a NUL-terminated guarded copy of the password, with the personal terms and
// kExtraCommonWords as its user dictionary.
Estimate Estimated(const Secret& normalized, std::span<const std::string> personal_terms) {
  // The terms as given and folded, so that "H3l3n3" is found as a leet "helene".
  std::vector<std::string> folded;
  for (const std::string& term : personal_terms) AddFoldedTerms(term, folded);
  std::vector<const char*> words;
  words.reserve(personal_terms.size() + folded.size() + std::size(kExtraCommonWords) + 1);
  for (const std::string& term : personal_terms) {
    if (!term.empty()) words.push_back(term.c_str());
  }
  for (const std::string& term : folded) words.push_back(term.c_str());
  words.insert(words.end(), std::begin(kExtraCommonWords), std::end(kExtraCommonWords));
  words.push_back(nullptr);

  Estimate estimate;
  auto terminated = Secret::Allocate(normalized.size() + 1);
  if (!terminated) return estimate;  // cannot measure: treat as weakest
  std::copy(normalized.bytes().begin(), normalized.bytes().end(),
            terminated->mutable_bytes().begin());
  ZxcMatch_t* info = nullptr;
  const double bits =
      ZxcvbnMatch(reinterpret_cast<const char*>(terminated->bytes().data()), words.data(), &info);
  std::size_t dictionary_bytes = 0;
  for (const ZxcMatch_t* part = info; part != nullptr; part = part->Next) {
    if (IsDictionaryMatch(part->Type)) dictionary_bytes += static_cast<std::size_t>(part->Length);
  }
  ZxcvbnFreeInfo(info);
  estimate.score = ScoreOfGuesses(std::exp2(bits));
  estimate.mostly_dictionary = 3 * dictionary_bytes >= 2 * normalized.size();
  return estimate;
}

bool ContainsPersonalTerm(const Secret& normalized, std::span<const std::string> personal_terms) {
  std::vector<std::string> terms;
  for (const std::string& term : personal_terms) AddFoldedTerms(term, terms);
  if (terms.empty()) return false;
  auto folded = crypto::NormalizeName(View(normalized));
  if (!folded) return false;  // no letter or digit: it cannot contain a name
  crypto::WipedText compact(std::move(*folded));
  std::erase(compact.get(), ' ');
  return std::any_of(terms.begin(), terms.end(), [&](const std::string& term) {
    return compact.view().find(term) != std::string_view::npos;
  });
}

}  // namespace

Result<Secret> NormalizePassword(std::string_view utf8) {
  if (utf8.size() > kMaxPasswordInputBytes) {
    return Refuse("The password is too long: use at most 256 characters.");
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                   static_cast<utf8proc_ssize_t>(utf8.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT |
                                                  UTF8PROC_COMPOSE | UTF8PROC_REJECTNA));
  if (length < 0) {
    std::free(mapped);
    if (length == UTF8PROC_ERROR_NOMEM) return Fail(ErrorCode::kInternal, "out of memory");
    if (length == UTF8PROC_ERROR_NOTASSIGNED) {
      return Refuse("The password contains a character that Unicode does not define yet.");
    }
    return Refuse("The password is not valid UTF-8 text.");
  }
  auto normalized = Secret::CopyOf({mapped, static_cast<std::size_t>(length)});
  sodium_memzero(mapped, static_cast<std::size_t>(length));
  std::free(mapped);
  return normalized;
}

int PasswordScore(const Secret& normalized, std::span<const std::string> personal_terms) {
  return Estimated(normalized, personal_terms).score;
}

Status CheckNewPassword(const Secret& normalized, std::span<const std::string> personal_terms) {
  const Characters characters = CountCharacters(View(normalized));
  if (characters.count < kMinPasswordCharacters) {
    return Refuse(
        "The password is too short: use at least 12 characters. Several unrelated words "
        "make a passphrase that is long and easy to remember.");
  }
  if (characters.count > kMaxPasswordCharacters) {
    return Refuse("The password is too long: use at most 256 characters.");
  }
  if (characters.has_control) {
    return Refuse(
        "The password contains a control character such as a tab or a line break; use "
        "letters, digits, spaces and symbols only.");
  }
  if (ContainsPersonalTerm(normalized, personal_terms)) {
    return Refuse(
        "The password contains your name or your login. Choose words that have nothing to "
        "do with you.");
  }
  const Estimate estimate = Estimated(normalized, personal_terms);
  if (estimate.score >= kMinPasswordScore) return {};
  if (estimate.mostly_dictionary) {
    return Refuse(
        "The password is too common: it is made of passwords, words or names that attackers "
        "try first. Add more words that are unrelated to each other.");
  }
  return Refuse(
      "The password is too easy to guess: avoid dates, sequences (1234, abcd), keyboard "
      "patterns (azerty) and repeated characters. A few unrelated words are stronger.");
}

}  // namespace medvault::identity
