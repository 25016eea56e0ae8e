#include "crypto/normalize.h"

#include <fmt/format.h>
#include <sodium.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/french_ids.h"
#include "crypto/wiped_text.h"

namespace medvault::crypto {
namespace {

std::unexpected<Error> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

Status CheckSize(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return Invalid(fmt::format("value is longer than {} bytes", kMaxValueBytes));
  }
  return {};
}

const utf8proc_uint8_t* Bytes(std::string_view text) {
  return reinterpret_cast<const utf8proc_uint8_t*>(text.data());
}

// Calls `on_code_point` for each code point of `text`; fails on invalid UTF-8 (overlong
// forms, surrogates and truncated sequences included).
template <typename OnCodePoint>
Status ForEachCodePoint(std::string_view text, OnCodePoint on_code_point) {
  std::size_t at = 0;
  while (at < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(
        Bytes(text.substr(at)), static_cast<utf8proc_ssize_t>(text.size() - at), &code_point);
    if (length <= 0 || code_point < 0) return Invalid("value is not valid UTF-8");
    on_code_point(code_point);
    at += static_cast<std::size_t>(length);
  }
  return {};
}

void AppendCodePoint(std::string& out, utf8proc_int32_t code_point) {
  std::array<utf8proc_uint8_t, 4> buffer{};
  const utf8proc_ssize_t length = utf8proc_encode_char(code_point, buffer.data());
  out.append(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(length));
}

// utf8proc_map with `options`, its malloc'd buffer wiped and freed here.
Result<std::string> Map(std::string_view text, int options) {
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(Bytes(text), static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                   static_cast<utf8proc_option_t>(options));
  if (length < 0) {
    std::free(mapped);
    if (length == UTF8PROC_ERROR_NOTASSIGNED) {
      return Invalid("value contains a character unassigned in Unicode");
    }
    if (length == UTF8PROC_ERROR_NOMEM) return Fail(ErrorCode::kInternal, "out of memory");
    return Invalid("value is not valid UTF-8");
  }
  std::string out(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
  sodium_memzero(mapped, static_cast<std::size_t>(length));
  std::free(mapped);
  return out;
}

// NFKC: full-width digits become ASCII digits, no-break spaces become spaces.
Result<std::string> Nfkc(std::string_view value) {
  if (auto ok = CheckSize(value); !ok) return std::unexpected(ok.error());
  return Map(value, UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_REJECTNA);
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimAscii(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsApostrophe(utf8proc_int32_t code_point) {
  switch (code_point) {
    case 0x0027:  // '
    case 0x0060:  // `
    case 0x00B4:  // acute accent used as an apostrophe
    case 0x02BC:  // modifier letter apostrophe
    case 0x2018:  // left single quotation mark
    case 0x2019:  // right single quotation mark, the typographic apostrophe
      return true;
    default:
      return false;
  }
}

// Letters that neither decompose nor case-fold to ASCII but that French spelling and data
// entry treat as two letters or as a plain letter. Input is already case folded.
std::string_view SpelledOut(utf8proc_int32_t code_point) {
  switch (code_point) {
    case 0x0153:
      return "oe";  // œ
    case 0x00E6:
      return "ae";  // æ
    case 0x00F8:
      return "o";  // ø
    case 0x0142:
      return "l";  // ł
    case 0x0111:
      return "d";  // đ
    case 0x00F0:
      return "d";  // ð
    case 0x00FE:
      return "th";  // þ
    case 0x0131:
      return "i";  // dotless ı
    default:
      return {};
  }
}

bool IsLetterOrDigit(utf8proc_int32_t code_point) {
  switch (utf8proc_category(code_point)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// The French numbering plan's overseas departments: the first three national digits (after
// the trunk 0) and their E.164 country code.
struct OverseasBlock {
  std::string_view national_prefix;
  std::string_view country_code;
};
constexpr std::array<OverseasBlock, 11> kOverseasBlocks{{
    {"262", "262"},
    {"692", "262"},
    {"693", "262"},  // La Réunion
    {"269", "262"},
    {"639", "262"},  // Mayotte
    {"590", "590"},
    {"690", "590"},  // Guadeloupe, Saint-Martin, Saint-Barthélemy
    {"594", "594"},
    {"694", "594"},  // Guyane
    {"596", "596"},
    {"696", "596"},  // Martinique
}};

// Country codes whose numbers follow the French plan: 9 digits after the code.
constexpr std::array<std::string_view, 5> kFrenchPlanCountryCodes{"33", "262", "590", "594", "596"};

// "+<country code><9 digits>" for the 9 national digits of a French-plan number.
std::string FrenchPlanE164(std::string_view national) {
  std::string_view country_code = "33";
  for (const auto& block : kOverseasBlocks) {
    if (national.starts_with(block.national_prefix)) country_code = block.country_code;
  }
  return fmt::format("+{}{}", country_code, national);
}

}  // namespace

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kName:
      return "name";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kPhone:
      return "phone";
    case ValueKind::kEmail:
      return "email";
    case ValueKind::kNir:
      return "nir";
    case ValueKind::kAccession:
      return "accession";
    case ValueKind::kIdentifier:
      return "identifier";
  }
  return "unknown";
}

Result<std::string> NormalizeName(std::string_view value) {
  if (auto ok = CheckSize(value); !ok) return std::unexpected(ok.error());
  // Apostrophes go first: NFKD would turn some of them (´) into a space and a mark.
  WipedText without_apostrophes;
  auto decoded = ForEachCodePoint(value, [&](utf8proc_int32_t code_point) {
    if (!IsApostrophe(code_point)) AppendCodePoint(without_apostrophes.get(), code_point);
  });
  if (!decoded) return std::unexpected(decoded.error());

  auto folded = Map(without_apostrophes.get(),
                    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
                        UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_REJECTNA);
  if (!folded) return folded;
  WipedText folded_copy(std::move(*folded));

  std::string out;
  bool pending_space = false;
  auto mapped = ForEachCodePoint(folded_copy.view(), [&](utf8proc_int32_t code_point) {
    const std::string_view spelled = SpelledOut(code_point);
    if (spelled.empty() && !IsLetterOrDigit(code_point)) {
      pending_space = true;
      return;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    if (spelled.empty()) {
      AppendCodePoint(out, code_point);
    } else {
      out.append(spelled);
    }
  });
  if (!mapped) return std::unexpected(mapped.error());
  if (out.empty()) return Invalid("name has no letter or digit");
  return out;
}

Result<std::string> NormalizeDate(std::string_view value) {
  auto nfkc = Nfkc(value);
  if (!nfkc) return nfkc;
  const WipedText nfkc_copy(std::move(*nfkc));
  const std::string_view text = TrimAscii(nfkc_copy.view());
  const auto digits_at = [&](std::size_t at, std::size_t count) {
    return at + count <= text.size() &&
           std::all_of(text.begin() + at, text.begin() + at + count, IsDigit);
  };
  const auto number_at = [&](std::size_t at, std::size_t count) {
    int number = 0;
    for (std::size_t i = at; i < at + count; ++i) number = number * 10 + (text[i] - '0');
    return number;
  };
  int year = 0, month = 0, day = 0;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' && digits_at(0, 4) && digits_at(5, 2) &&
      digits_at(8, 2)) {
    year = number_at(0, 4), month = number_at(5, 2), day = number_at(8, 2);
  } else if (text.size() == 8 && digits_at(0, 8)) {
    year = number_at(0, 4), month = number_at(4, 2), day = number_at(6, 2);
  } else if (text.size() == 10 && text[2] == '/' && text[5] == '/' && digits_at(0, 2) &&
             digits_at(3, 2) && digits_at(6, 4)) {
    day = number_at(0, 2), month = number_at(3, 2), year = number_at(6, 4);
  } else {
    return Invalid("date must be YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY");
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (year < 1 || !date.ok()) return Invalid("date is not a real calendar date");
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

Result<std::string> NormalizePhone(std::string_view value) {
  auto nfkc = Nfkc(value);
  if (!nfkc) return nfkc;
  const WipedText nfkc_copy(std::move(*nfkc));
  const std::string_view text = TrimAscii(nfkc_copy.view());
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsDigit(c)) {
      digits.push_back(c);
    } else if (c == '+' && i == 0) {
      plus = true;
    } else if (!(c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/')) {
      return Invalid("phone number may contain only digits, a leading +, and . - ( ) / spaces");
    }
  }
  const bool international = plus || digits.starts_with("00");
  if (!international) {
    if (digits.size() != 10 || digits[0] != '0' || digits[1] == '0') {
      return Invalid(
          "phone number must be a French number of 10 digits starting with 0, or start with "
          "+ or 00 and a country code");
    }
    return FrenchPlanE164(std::string_view(digits).substr(1));
  }
  std::string_view number(digits);
  if (!plus) number.remove_prefix(2);
  for (std::string_view country_code : kFrenchPlanCountryCodes) {
    if (!number.starts_with(country_code)) continue;
    std::string_view national = number.substr(country_code.size());
    if (national.size() == 10 && national[0] == '0') national.remove_prefix(1);  // "+33 (0)6"
    if (national.size() != 9 || national[0] == '0') {
      return Invalid("French phone number must have 9 digits after the country code");
    }
    return FrenchPlanE164(national);
  }
  if (number.size() < 8 || number.size() > 15 || number[0] == '0') {
    return Invalid("international phone number must have 8 to 15 digits, the first not 0");
  }
  return fmt::format("+{}", number);
}

Result<std::string> NormalizeEmail(std::string_view value) {
  if (auto ok = CheckSize(value); !ok) return std::unexpected(ok.error());
  auto folded =
      Map(value, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_REJECTNA);
  if (!folded) return folded;
  const WipedText folded_copy(std::move(*folded));
  const std::string_view text = TrimAscii(folded_copy.view());
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size() ||
      text.find('@', at + 1) != std::string_view::npos) {
    return Invalid("email must have one @ with text on both sides");
  }
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return Invalid("email may not contain spaces or control characters");
  }
  return std::string(text);
}

Result<std::string> NormalizeIdentifier(std::string_view value) {
  auto nfkc = Nfkc(value);
  if (!nfkc) return nfkc;
  const WipedText nfkc_copy(std::move(*nfkc));
  std::string out;
  for (char c : nfkc_copy.view()) {
    if (IsAsciiSpace(c)) continue;
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid("identifier may not contain control characters");
    }
    out.push_back(c);
  }
  if (out.empty()) return Invalid("identifier is empty");
  return out;
}

Result<std::string> Normalize(ValueKind kind, std::string_view value) {
  switch (kind) {
    case ValueKind::kName:
      return NormalizeName(value);
    case ValueKind::kDate:
      return NormalizeDate(value);
    case ValueKind::kPhone:
      return NormalizePhone(value);
    case ValueKind::kEmail:
      return NormalizeEmail(value);
    case ValueKind::kNir: {
      auto nfkc = Nfkc(value);
      if (!nfkc) return nfkc;
      const WipedText nfkc_copy(std::move(*nfkc));
      return CanonicalNir(TrimAscii(nfkc_copy.view()));
    }
    case ValueKind::kAccession: {
      auto nfkc = Nfkc(value);
      if (!nfkc) return nfkc;
      const WipedText nfkc_copy(std::move(*nfkc));
      return CanonicalAccessionNumber(nfkc_copy.view());
    }
    case ValueKind::kIdentifier:
      return NormalizeIdentifier(value);
  }
  return Invalid("unknown kind of value");
}

}  // namespace medvault::crypto
