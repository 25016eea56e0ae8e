#include "fhir/primitives.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace medvault::fhir::primitives {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 20> kPrimitives = {
    "base64Binary", "boolean",     "canonical", "code",     "date", "dateTime",    "decimal",
    "id",           "instant",     "integer",   "markdown", "oid",  "positiveInt", "string",
    "time",         "unsignedInt", "uri",       "url",      "uuid", "xhtml"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads exactly `count` digits at `pos` as a number; false when they are not all digits.
bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!IsDigit(text[pos + i])) return false;
    value = value * 10 + (text[pos + i] - '0');
  }
  out = value;
  return true;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[static_cast<std::size_t>(month - 1)];
}

// The date part at the start of `text`: YYYY[-MM[-DD]]. Returns the characters read (4, 7 or
// 10), or 0 when malformed; `full` tells whether the day was given.
std::size_t ScanDate(std::string_view text, bool& full) {
  full = false;
  int year = 0;
  if (!ReadDigits(text, 0, 4, year) || year == 0) return 0;
  if (text.size() == 4 || text[4] != '-') return 4;
  int month = 0;
  if (!ReadDigits(text, 5, 2, month) || month < 1 || month > 12) return 0;
  if (text.size() == 7 || text[7] != '-') return 7;
  int day = 0;
  if (!ReadDigits(text, 8, 2, day) || day < 1 || day > DaysInMonth(year, month)) return 0;
  full = true;
  return 10;
}

// hh:mm:ss(.s+)? at the start of `text`; returns the characters read, 0 when malformed.
std::size_t ScanTime(std::string_view text) {
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 2, hour) || hour > 23) return 0;
  if (text.size() < 3 || text[2] != ':') return 0;
  if (!ReadDigits(text, 3, 2, minute) || minute > 59) return 0;
  if (text.size() < 6 || text[5] != ':') return 0;
  if (!ReadDigits(text, 6, 2, second) || second > 60) return 0;
  std::size_t pos = 8;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == start) return 0;
  }
  return pos;
}

// Z or (+|-)hh:mm with hours 00-13 (any minutes) or exactly 14:00; the whole of `text`.
bool IsZone(std::string_view text) {
  if (text == "Z") return true;
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return false;
  int hours = 0, minutes = 0;
  if (!ReadDigits(text, 1, 2, hours) || !ReadDigits(text, 4, 2, minutes)) return false;
  if (minutes > 59) return false;
  return hours <= 13 || (hours == 14 && minutes == 0);
}

// A date, then optionally T, time and zone (required together); `need_time` for instant.
bool IsDateAndTime(std::string_view text, bool need_time) {
  bool full = false;
  const std::size_t date = ScanDate(text, full);
  if (date == 0) return false;
  if (date == text.size()) return !need_time;
  if (!full || text[date] != 'T') return false;
  const std::string_view rest = text.substr(date + 1);
  const std::size_t time = ScanTime(rest);
  if (time == 0) return false;
  return IsZone(rest.substr(time));
}

bool IsFhirString(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && !IsWhitespace(c)) return false;
    if (u == 0x7f) return false;
  }
  return true;
}

bool IsNoWhitespace(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool IsOid(std::string_view text) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (!text.starts_with(kPrefix)) return false;
  text.remove_prefix(kPrefix.size());
  if (text.empty() || text[0] < '0' || text[0] > '2') return false;
  std::size_t pos = 1;
  std::size_t arcs = 0;
  while (pos < text.size()) {
    if (text[pos] != '.') return false;
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == start) return false;
    if (text[start] == '0' && pos - start > 1) return false;
    ++arcs;
  }
  return arcs >= 1;
}

bool IsBase64(std::string_view text) {
  std::size_t count = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (IsWhitespace(c)) continue;
    const bool alphabet =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '+' || c == '/';
    if (c == '=') {
      ++padding;
      if (padding > 2) return false;
    } else if (!alphabet || padding > 0) {
      return false;
    }
    ++count;
  }
  return count > 0 && count % 4 == 0;
}

bool IsXhtmlDiv(std::string_view text) {
  // The narrative must be one <div> in the XHTML namespace; active content is refused
  // (https://hl7.org/fhir/R4/narrative.html#xhtml).
  if (!text.starts_with("<div") || !text.ends_with("</div>")) return false;
  if (text.find("http://www.w3.org/1999/xhtml") == std::string_view::npos) return false;
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (std::string_view banned : {"<script", "<iframe", "<object", "<embed", "<form", "<input",
                                  "<style", "javascript:", "<base", "<link", "<meta"}) {
    if (lower.find(banned) != std::string::npos) return false;
  }
  // Event handler attributes, inside a tag: whitespace, "on", letters, optional spaces, '='.
  bool in_tag = false;
  for (std::size_t pos = 0; pos < lower.size(); ++pos) {
    if (lower[pos] == '<') in_tag = true;
    if (lower[pos] == '>') in_tag = false;
    if (!in_tag || pos == 0 || lower.compare(pos, 2, "on") != 0 || !IsWhitespace(lower[pos - 1])) {
      continue;
    }
    std::size_t end = pos + 2;
    while (end < lower.size() && lower[end] >= 'a' && lower[end] <= 'z') ++end;
    while (end < lower.size() && IsWhitespace(lower[end])) ++end;
    if (end > pos + 2 && end < lower.size() && lower[end] == '=') return false;
  }
  return true;
}

std::optional<std::string_view> CheckInteger(std::string_view type, const json::value& value) {
  std::int64_t number = 0;
  if (value.is_int64()) {
    number = value.get_int64();
  } else if (value.is_uint64()) {
    return "is outside the range of a 32-bit integer";
  } else {
    return "must be a JSON number without a fraction or exponent";
  }
  if (number < std::numeric_limits<std::int32_t>::min() ||
      number > std::numeric_limits<std::int32_t>::max()) {
    return "is outside the range of a 32-bit integer";
  }
  if (type == "positiveInt" && number < 1) return "must be a positive integer (1 or more)";
  if (type == "unsignedInt" && number < 0) return "must be a non-negative integer";
  return std::nullopt;
}

}  // namespace

bool IsPrimitive(std::string_view type) {
  // Primitive type names start in lower case, complex ones in upper case.
  if (type.empty() || type[0] < 'a' || type[0] > 'z') return false;
  for (std::string_view p : kPrimitives) {
    if (p == type) return true;
  }
  return false;
}

bool IsId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsDate(std::string_view text) {
  bool full = false;
  const std::size_t n = ScanDate(text, full);
  return n != 0 && n == text.size();
}

bool IsDateTime(std::string_view text) { return IsDateAndTime(text, false); }
bool IsInstant(std::string_view text) { return IsDateAndTime(text, true); }

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!IsHexLower(text[i])) {
      return false;
    }
  }
  return true;
}

bool IsCode(std::string_view text) {
  if (text.empty() || IsWhitespace(text.front()) || IsWhitespace(text.back())) return false;
  bool previous_space = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && !IsWhitespace(c)) return false;
    if (IsWhitespace(c)) {
      if (previous_space || c != ' ') return false;
      previous_space = true;
    } else {
      previous_space = false;
    }
  }
  return true;
}

namespace {

// A dateTime with a time, as UTC seconds since 1970 and its fraction digits.
struct Instant {
  long long seconds = 0;
  std::string_view fraction;
};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long DaysFromCivil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const long long era = (year >= 0 ? year : year - 399) / 400;
  const long long yoe = year - era * 400;
  const long long doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<Instant> ToInstant(std::string_view text) {
  if (!IsDateTime(text) || text.size() <= 10) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  ReadDigits(text, 0, 4, year);
  ReadDigits(text, 5, 2, month);
  ReadDigits(text, 8, 2, day);
  ReadDigits(text, 11, 2, hour);
  ReadDigits(text, 14, 2, minute);
  ReadDigits(text, 17, 2, second);
  Instant out;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const std::size_t start = ++pos;
    while (IsDigit(text[pos])) ++pos;
    out.fraction = text.substr(start, pos - start);
  }
  long long offset = 0;
  if (text[pos] != 'Z') {
    int hours = 0, minutes = 0;
    ReadDigits(text, pos + 1, 2, hours);
    ReadDigits(text, pos + 4, 2, minutes);
    offset = (hours * 60LL + minutes) * 60 * (text[pos] == '-' ? -1 : 1);
  }
  out.seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600LL + minute * 60LL + second - offset;
  return out;
}

int CompareFractions(std::string_view a, std::string_view b) {
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const char x = i < a.size() ? a[i] : '0';
    const char y = i < b.size() ? b[i] : '0';
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

}  // namespace

std::optional<int> CompareDateTimes(std::string_view a, std::string_view b) {
  if (IsDate(a) && IsDate(b)) {
    if (a.size() != b.size()) return std::nullopt;
    return a < b ? -1 : (a == b ? 0 : 1);
  }
  const std::optional<Instant> x = ToInstant(a);
  const std::optional<Instant> y = ToInstant(b);
  if (!x || !y) return std::nullopt;
  if (x->seconds != y->seconds) return x->seconds < y->seconds ? -1 : 1;
  return CompareFractions(x->fraction, y->fraction);
}

std::optional<std::string_view> CheckPrimitive(std::string_view type, const json::value& value) {
  if (type == "boolean") {
    if (!value.is_bool()) return "must be JSON true or false";
    return std::nullopt;
  }
  if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
    return CheckInteger(type, value);
  }
  if (type == "decimal") {
    if (!value.is_number()) return "must be a JSON number";
    return std::nullopt;
  }
  if (!value.is_string()) return "must be a JSON string";
  const std::string_view text = value.get_string();
  if (text.empty()) return "must not be an empty string (omit the element instead)";
  if (type == "string" || type == "markdown") {
    // FHIR R4 caps string at 1 MB; base64Binary (attachments) is bounded by the body limit.
    if (text.size() > 1024 * 1024) return "is longer than 1 MB";
    if (!IsFhirString(text)) return "contains control characters";
    return std::nullopt;
  }
  if (type == "code") {
    if (!IsCode(text)) return "is not a valid code (no leading, trailing or repeated spaces)";
    return std::nullopt;
  }
  if (type == "id") {
    if (!IsId(text)) return "is not a valid id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')";
    return std::nullopt;
  }
  if (type == "date") {
    if (!IsDate(text)) return "is not a valid FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)";
    return std::nullopt;
  }
  if (type == "dateTime") {
    if (!IsDateTime(text)) {
      return "is not a valid FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or "
             "YYYY-MM-DDThh:mm:ss with a time zone)";
    }
    return std::nullopt;
  }
  if (type == "instant") {
    if (!IsInstant(text))
      return "is not a valid FHIR instant (YYYY-MM-DDThh:mm:ss with a time zone)";
    return std::nullopt;
  }
  if (type == "time") {
    if (ScanTime(text) != text.size()) return "is not a valid FHIR time (hh:mm:ss)";
    return std::nullopt;
  }
  if (type == "uri" || type == "url" || type == "canonical") {
    if (!IsNoWhitespace(text)) return "is not a valid URI (no whitespace or control characters)";
    return std::nullopt;
  }
  if (type == "oid") {
    if (!IsOid(text)) return "is not a valid OID (urn:oid:1.2.3...)";
    return std::nullopt;
  }
  if (type == "uuid") {
    if (!text.starts_with("urn:uuid:") || !IsUuid(text.substr(9))) {
      return "is not a valid UUID (urn:uuid: and lower-case hexadecimal 8-4-4-4-12)";
    }
    return std::nullopt;
  }
  if (type == "base64Binary") {
    if (!IsBase64(text)) return "is not valid base64";
    return std::nullopt;
  }
  if (type == "xhtml") {
    if (!IsXhtmlDiv(text)) {
      return "must be one XHTML <div> in the XHTML namespace, without scripts, forms or event "
             "handlers";
    }
    return std::nullopt;
  }
  return "has an unknown primitive type";
}

}  // namespace medvault::fhir::primitives
