#include "fhir/search.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

#include "core/french_ids.h"
#include "crypto/normalize.h"
#include "fhir/search_params.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using search_internal::Fold;
using search_internal::ParamRule;
using search_internal::RuleOf;

// Bounds on what one search may ask, so a request cannot make the parser or Matches work
// without limit.
// A parameter's value is at most kMaxValueBytes once decoded, and CanonicalQuery never writes
// a longer value nor more parameters than it read, so every canonical query parses again.
constexpr std::size_t kMaxQueryBytes = 512 * 1024;
constexpr std::size_t kMaxValueBytes = 2048;
constexpr std::size_t kMaxParameters = 64;
constexpr std::size_t kMaxValuesPerParameter = 64;
constexpr std::size_t kMaxElements = 64;
constexpr std::size_t kMaxPageBytes = 2048;
constexpr std::size_t kMinPrefixLetters = 3;  // crypto::kMinNamePrefix, the blind index's rule

constexpr std::string_view kSubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

// --- Decoding --------------------------------------------------------------------------

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: %XX and '+' as space.
std::optional<std::string> FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xE  ? 3
                         : (c >> 3) == 0x1E ? 4
                                            : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t code = length == 1 ? c : c & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF)) ||
        (code >= 0xD800 && code <= 0xDFFF) || c == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

// A parameter name safe to put in an issue's expression: a client's key is not a value, but
// only a name of the usual shape is repeated, so a key can never smuggle text into answers.
std::string SafeName(std::string_view name) {
  if (name.empty() || name.size() > 64) return {};
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return {};
  }
  return std::string(name);
}

bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::ranges::all_of(id, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

// Splits an OR list on the commas that are not escaped; the escapes stay for the next step.
std::vector<std::string_view> SplitUnescaped(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

// Removes the search escapes (\, \| \$ \\); nullopt for a backslash before anything else.
std::optional<std::string> Unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) return std::nullopt;
    char next = text[i + 1];
    if (next != ',' && next != '|' && next != '$' && next != '\\') return std::nullopt;
    out.push_back(next);
    ++i;
  }
  return out;
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ',' || c == '|' || c == '$' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || c == '@';
    if (keep) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

// --- Dates -----------------------------------------------------------------------------

// A date, dateTime or instant as the interval of instants it covers, in microseconds since
// the epoch: [low, high).
struct Range {
  std::int64_t low = std::numeric_limits<std::int64_t>::min();
  std::int64_t high = std::numeric_limits<std::int64_t>::max();
};

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

class DateReader {
 public:
  explicit DateReader(std::string_view text) : text_(text) {}
  bool Digits(std::size_t count, int& out) {
    if (pos_ + count > text_.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos_ += count;
    return true;
  }
  bool Take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

std::int64_t DaysFrom(int year, int month, int day) {
  using namespace std::chrono;
  return sys_days(std::chrono::year(year) / std::chrono::month(static_cast<unsigned>(month)) /
                  std::chrono::day(static_cast<unsigned>(day)))
      .time_since_epoch()
      .count();
}

bool IsRealDate(int year, int month, int day) {
  using namespace std::chrono;
  return year_month_day(std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                        std::chrono::day(static_cast<unsigned>(day)))
      .ok();
}

// Parses YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm[:ss[.fff]](Z|+hh:mm|-hh:mm).
// `need_zone`: a time without a zone is refused (search values); stored values without one
// are read as UTC.
std::optional<Range> ParseDateRange(std::string_view text, bool need_zone) {
  DateReader reader(text);
  int year = 0, month = 1, day = 1;
  if (!reader.Digits(4, year) || year < 1) return std::nullopt;
  if (reader.AtEnd())
    return Range{DaysFrom(year, 1, 1) * kMicrosPerDay, DaysFrom(year + 1, 1, 1) * kMicrosPerDay};
  if (!reader.Take('-') || !reader.Digits(2, month) || month < 1 || month > 12) {
    return std::nullopt;
  }
  if (reader.AtEnd()) {
    int next_year = month == 12 ? year + 1 : year;
    int next_month = month == 12 ? 1 : month + 1;
    return Range{DaysFrom(year, month, 1) * kMicrosPerDay,
                 DaysFrom(next_year, next_month, 1) * kMicrosPerDay};
  }
  if (!reader.Take('-') || !reader.Digits(2, day) || !IsRealDate(year, month, day)) {
    return std::nullopt;
  }
  const std::int64_t start_of_day = DaysFrom(year, month, day) * kMicrosPerDay;
  if (reader.AtEnd()) return Range{start_of_day, start_of_day + kMicrosPerDay};
  int hour = 0, minute = 0, second = 0;
  if (!reader.Take('T') || !reader.Digits(2, hour) || hour > 23 || !reader.Take(':') ||
      !reader.Digits(2, minute) || minute > 59) {
    return std::nullopt;
  }
  std::int64_t width = 60 * kMicrosPerSecond;
  std::int64_t fraction = 0;
  if (reader.Take(':')) {
    if (!reader.Digits(2, second) || second > 59) return std::nullopt;
    width = kMicrosPerSecond;
    if (reader.Take('.')) {
      int digits = 0;
      while (reader.Peek() >= '0' && reader.Peek() <= '9') {
        int digit = 0;
        reader.Digits(1, digit);
        if (digits < 6) {
          fraction = fraction * 10 + digit;
          width /= 10;
        }
        ++digits;
      }
      if (digits == 0 || digits > 9) return std::nullopt;
      for (int i = digits; i < 6; ++i) fraction *= 10;
    }
  }
  std::int64_t offset = 0;
  if (reader.Take('Z')) {
  } else if (reader.Peek() == '+' || reader.Peek() == '-') {
    int sign = reader.Peek() == '-' ? -1 : 1;
    reader.Take(reader.Peek());
    int offset_hours = 0, offset_minutes = 0;
    if (!reader.Digits(2, offset_hours) || offset_hours > 14 || !reader.Take(':') ||
        !reader.Digits(2, offset_minutes) || offset_minutes > 59) {
      return std::nullopt;
    }
    offset = sign * (offset_hours * 3600 + offset_minutes * 60) * kMicrosPerSecond;
  } else if (need_zone) {
    return std::nullopt;
  }
  if (!reader.AtEnd()) return std::nullopt;
  std::int64_t low =
      start_of_day + (hour * 3600 + minute * 60 + second) * kMicrosPerSecond + fraction - offset;
  return Range{low, low + width};
}

// The range of an element: a date/dateTime/instant string, or a Period.
std::optional<Range> RangeOfElement(const json::value& element) {
  if (element.is_string()) return ParseDateRange(element.get_string(), false);
  if (!element.is_object()) return std::nullopt;
  const json::object& period = element.get_object();
  const json::value* start = period.if_contains("start");
  const json::value* end = period.if_contains("end");
  if ((start == nullptr || !start->is_string()) && (end == nullptr || !end->is_string())) {
    return std::nullopt;
  }
  Range range;
  if (start != nullptr && start->is_string()) {
    auto parsed = ParseDateRange(start->get_string(), false);
    if (!parsed) return std::nullopt;
    range.low = parsed->low;
  }
  if (end != nullptr && end->is_string()) {
    auto parsed = ParseDateRange(end->get_string(), false);
    if (!parsed) return std::nullopt;
    range.high = parsed->high;
  }
  return range;
}

// FHIR R4 §3.1.1.4.2: the prefixes on ranges.
bool CompareRanges(DatePrefix prefix, const Range& search, const Range& target) {
  const bool contains = search.low <= target.low && target.high <= search.high;
  switch (prefix) {
    case DatePrefix::kEq:
      return contains;
    case DatePrefix::kNe:
      return !contains;
    case DatePrefix::kGt:
      return target.high > search.high;
    case DatePrefix::kLt:
      return target.low < search.low;
    case DatePrefix::kGe:
      return target.high > search.high || contains;
    case DatePrefix::kLe:
      return target.low < search.low || contains;
    case DatePrefix::kSa:
      return target.low >= search.high;
    case DatePrefix::kEb:
      return target.high <= search.low;
  }
  return false;
}

constexpr std::array<std::pair<std::string_view, DatePrefix>, 8> kPrefixes = {{
    {"eq", DatePrefix::kEq},
    {"ne", DatePrefix::kNe},
    {"lt", DatePrefix::kLt},
    {"gt", DatePrefix::kGt},
    {"le", DatePrefix::kLe},
    {"ge", DatePrefix::kGe},
    {"sa", DatePrefix::kSa},
    {"eb", DatePrefix::kEb},
}};

std::string_view PrefixName(DatePrefix prefix) {
  for (const auto& [name, value] : kPrefixes) {
    if (value == prefix) return name;
  }
  return "eq";
}

// --- Normalization shared with the blind index -------------------------------------------

// Letters and digits of a normalized name: its code points but the spaces, counted as the
// blind index counts them (crypto/blind_index.cc).
std::size_t LettersIn(std::string_view normalized) {
  return static_cast<std::size_t>(std::ranges::count_if(normalized, [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80 && c != ' ';
  }));
}

bool IsInsSystem(std::string_view system) {
  return system == kInsNirSystem || system == kInsNiaSystem;
}

// The canonical form of an identifier value under the rule of its parameter, or nullopt.
std::optional<std::string> FoldIdentifier(Fold fold, std::string_view system,
                                          std::string_view value) {
  Result<std::string> folded = std::string(value);
  if (fold == Fold::kPatientIdentifier) {
    folded = IsInsSystem(system) ? CanonicalNir(value) : crypto::NormalizeIdentifier(value);
  } else if (fold == Fold::kAccession) {
    folded = CanonicalAccessionNumber(value);
  }
  if (!folded) return std::nullopt;
  return *folded;
}

// --- Parsing -----------------------------------------------------------------------------

class IssueList {
 public:
  void Add(std::string expression, std::string diagnostics, IssueType code = IssueType::kInvalid) {
    issues_.push_back({Severity::kError, code, std::move(expression), std::move(diagnostics)});
  }
  bool empty() const { return issues_.empty(); }
  std::unexpected<Outcome> Fail() { return std::unexpected(Outcome{Failure::kInvalid, issues_}); }

 private:
  std::vector<Issue> issues_;
};

std::string Join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += separator;
    out += words[i];
  }
  return out;
}

std::string NamesOf(std::string_view resource_type) {
  std::vector<std::string_view> names;
  for (const SearchParam* param : SearchParamsOf(resource_type)) names.push_back(param->name);
  return Join(names, ", ");
}

// Reads one value of a parameter (escapes still in `raw`). Returns the error text, empty
// when it parsed.
std::string ParseValue(const ParamRule& rule, std::string_view raw, SearchValue& out) {
  const SearchParam& param = rule.param;
  switch (param.type) {
    case ParamType::kToken: {
      auto parts = SplitUnescaped(raw, '|');
      if (parts.size() > 2) return "a token is [system]|[code]: escape a '|' in a code as '\\|'";
      auto code = Unescape(parts.back());
      auto system = parts.size() == 2 ? Unescape(parts.front()) : std::optional<std::string>("");
      if (!code || !system) return "a backslash escapes only ',', '|', '$' and '\\'";
      out.has_system = parts.size() == 2;
      out.system = std::move(*system);
      out.code = std::move(*code);
      if (rule.code_only && out.has_system) {
        return "this parameter takes a code alone, without system|";
      }
      if (out.code.empty() && out.system.empty()) return "the value is empty";
      if (rule.code_only && (param.name == "_id") && !IsFhirId(out.code)) {
        return "an id is 1 to 64 letters, digits, '-' or '.'";
      }
      if (rule.fold == Fold::kPhone && !crypto::NormalizePhone(out.code)) {
        return "not a telephone number: write it +<country code><number>, or a French national "
               "number";
      }
      if (rule.fold == Fold::kEmail && !crypto::NormalizeEmail(out.code)) {
        return "not an email address";
      }
      if (!out.code.empty() &&
          (rule.fold == Fold::kPatientIdentifier || rule.fold == Fold::kAccession)) {
        if (rule.fold == Fold::kAccession && !CanonicalAccessionNumber(out.code)) {
          return "an accession number is 1 to 64 letters, digits or '-'";
        }
        if (rule.fold == Fold::kPatientIdentifier && IsInsSystem(out.system) &&
            !CanonicalNir(out.code)) {
          return "an INS is 15 characters with a valid check key";
        }
        if (rule.fold == Fold::kPatientIdentifier && !IsInsSystem(out.system) &&
            !crypto::NormalizeIdentifier(out.code)) {
          return "not an identifier medvault can search";
        }
      }
      return {};
    }
    case ParamType::kString:
    case ParamType::kUri: {
      auto text = Unescape(raw);
      if (!text) return "a backslash escapes only ',', '|', '$' and '\\'";
      if (text->empty()) return "the value is empty";
      out.code = std::move(*text);
      return {};
    }
    case ParamType::kReference: {
      auto text = Unescape(raw);
      if (!text) return "a backslash escapes only ',', '|', '$' and '\\'";
      std::string_view reference = *text;
      std::size_t slash = reference.find('/');
      const std::string targets = Join(rule.targets, ", ");
      if (slash == std::string_view::npos) {
        if (!IsFhirId(reference))
          return "a reference is Type/id or id (id: 1 to 64 letters, digits, '-' or '.')";
        out.code = rule.targets.size() == 1 ? std::string(rule.targets[0]) + "/" + *text : *text;
        return {};
      }
      std::string_view type = reference.substr(0, slash);
      std::string_view id = reference.substr(slash + 1);
      if (!IsFhirId(id))
        return "a reference is Type/id or id (id: 1 to 64 letters, digits, '-' or '.')";
      if (std::ranges::find(rule.targets, type) == rule.targets.end()) {
        return "this parameter refers to " + targets;
      }
      out.code = std::move(*text);
      return {};
    }
    case ParamType::kDate: {
      std::string text(raw);
      // A '+' of a time zone that the client did not percent-encode arrives as a space.
      if (std::size_t space = text.find(' ');
          space != std::string::npos && text.find('T') < space) {
        text[space] = '+';
      }
      out.prefix = DatePrefix::kEq;
      if (text.size() >= 2 && text[0] >= 'a' && text[0] <= 'z') {
        auto found = std::ranges::find_if(
            kPrefixes, [&](const auto& entry) { return text.starts_with(entry.first); });
        if (found == kPrefixes.end()) {
          return "unknown prefix: use eq, ne, lt, gt, le, ge, sa or eb";
        }
        out.prefix = found->second;
        text.erase(0, 2);
      }
      if (!ParseDateRange(text, true)) {
        return "a date is YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss] with a time zone "
               "(Z or +hh:mm), after an optional prefix eq, ne, lt, gt, le, ge, sa or eb";
      }
      out.code = std::move(text);
      return {};
    }
    case ParamType::kQuantity:
      return "quantity parameters are not supported";
  }
  return "unsupported parameter type";
}

struct ResultParams {
  bool count = false, sort = false, summary = false, elements = false, total = false, page = false,
       format = false;
};

// Handles a result parameter (name starts with '_' and is not a search parameter of the
// type). Returns false when `name` is no result parameter.
bool ParseResultParam(std::string_view name, std::string_view modifier, std::string_view value,
                      SearchRequest& request, ResultParams& seen, IssueList& issues) {
  const std::string expression(name);
  auto once = [&](bool& flag) {
    if (flag) {
      issues.Add(expression, "this parameter is given more than once: give it once");
      return false;
    }
    flag = true;
    return true;
  };
  auto known =
      std::array<std::string_view, 9>{"_count", "_sort", "_include", "_summary",   "_elements",
                                      "_total", "_page", "_format",  "_revinclude"};
  if (std::ranges::find(known, name) == known.end()) return false;
  if (!modifier.empty()) {
    issues.Add(expression, "modifiers are not supported on result parameters",
               IssueType::kNotSupported);
    return true;
  }
  if (name == "_count") {
    if (!once(seen.count)) return true;
    std::size_t count = 0;
    bool digits = !value.empty() && value.size() <= 4 &&
                  std::ranges::all_of(value, [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      for (char c : value) count = count * 10 + static_cast<std::size_t>(c - '0');
    }
    if (!digits || count < 1 || count > kMaxCount) {
      issues.Add(expression, "_count is a number from 1 to 100", IssueType::kValue);
    } else {
      request.count = count;
    }
  } else if (name == "_sort") {
    if (!once(seen.sort)) return true;
    if (value != "date" && value != "-date") {
      issues.Add(expression, "_sort takes date or -date", IssueType::kNotSupported);
    } else if (!search_internal::HasClinicalDate(request.resource_type)) {
      issues.Add(expression, request.resource_type + " has no clinical date to sort by",
                 IssueType::kNotSupported);
    } else {
      request.sort_by_date = true;
      request.sort_descending = value == "-date";
    }
  } else if (name == "_include") {
    auto allowed = search_internal::IncludesOf(request.resource_type);
    if (std::ranges::find(allowed, value) == allowed.end()) {
      issues.Add(expression,
                 allowed.empty() ? request.resource_type + " supports no _include"
                                 : "_include on " + request.resource_type +
                                       " takes one of: " + Join(allowed, ", "),
                 IssueType::kNotSupported);
    } else if (std::ranges::find(request.include, value) == request.include.end()) {
      request.include.emplace_back(value);
    }
  } else if (name == "_summary") {
    if (!once(seen.summary)) return true;
    if (value != "count") {
      issues.Add(expression, "_summary supports only count", IssueType::kNotSupported);
    } else {
      request.summary_count = true;
    }
  } else if (name == "_elements") {
    if (!once(seen.elements)) return true;
    for (std::string_view element : SplitUnescaped(value, ',')) {
      bool valid =
          !element.empty() && element.size() <= 64 &&
          ((element[0] >= 'a' && element[0] <= 'z') || (element[0] >= 'A' && element[0] <= 'Z')) &&
          std::ranges::all_of(element, [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
          });
      if (!valid) {
        issues.Add(expression, "_elements is a comma-separated list of top-level element names");
        return true;
      }
      if (std::ranges::find(request.elements, element) == request.elements.end()) {
        request.elements.emplace_back(element);
      }
    }
    if (request.elements.size() > kMaxElements) {
      issues.Add(expression, "_elements names at most 64 elements", IssueType::kTooLong);
    }
  } else if (name == "_total") {
    if (!once(seen.total)) return true;
    if (value != "none" && value != "accurate") {
      issues.Add(expression, "_total takes none or accurate", IssueType::kNotSupported);
    }
  } else if (name == "_page") {
    if (!once(seen.page)) return true;
    bool valid =
        !value.empty() && value.size() <= kMaxPageBytes && std::ranges::all_of(value, [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~' || c == '=';
        });
    if (!valid) {
      issues.Add(expression, "_page is the cursor of a next link: follow the link as it is");
    } else {
      request.page = std::string(value);
    }
  } else if (name == "_format") {
    if (!once(seen.format)) return true;
    // JSON is the only format served, so a request for it changes nothing.
    if (value != "json" && value != "application/json" && value != "application/fhir+json" &&
        value != "application/fhir json") {
      issues.Add(expression, "medvault serves JSON only: _format=json", IssueType::kNotSupported);
    }
  } else {
    issues.Add(expression, "_revinclude is not supported", IssueType::kNotSupported);
  }
  return true;
}

// The patient a criterion confines the search to: "" when it does not, nullopt with an
// issue when it names several.
std::optional<std::string> ConfiningPatient(const std::string& resource_type,
                                            const SearchCriterion& criterion, IssueList& issues) {
  const std::string_view name = criterion.param->name;
  const bool patient_param = resource_type != "Patient" && name == "patient";
  const bool subject_param = name == "subject";
  const bool patient_id = resource_type == "Patient" && name == "_id";
  if (!patient_param && !subject_param && !patient_id) return std::string();
  auto is_patient = [&](const SearchValue& value) {
    return patient_id || value.code.starts_with("Patient/");
  };
  if (!std::ranges::all_of(criterion.any_of, is_patient)) return std::string();
  if (criterion.any_of.size() != 1) {
    issues.Add(std::string(name), "a search names one patient: search each patient separately");
    return std::nullopt;
  }
  const std::string& code = criterion.any_of.front().code;
  return patient_id ? code : code.substr(8);
}

}  // namespace

std::span<const SearchParam> SearchParams() { return search_internal::AllParams(); }

std::vector<const SearchParam*> SearchParamsOf(std::string_view resource_type) {
  std::vector<const SearchParam*> params;
  for (const SearchParam& param : SearchParams()) {
    if (param.resource_type == resource_type) params.push_back(&param);
  }
  return params;
}

std::optional<std::vector<BlindIndexLookup>> BlindIndexLookupsOf(const SearchCriterion& criterion) {
  if (criterion.param == nullptr || criterion.param->blind_index_field.empty()) {
    return std::nullopt;
  }
  const SearchParam& param = *criterion.param;
  std::vector<BlindIndexLookup> lookups;
  for (const SearchValue& value : criterion.any_of) {
    if (value.code.empty()) return std::nullopt;
    if (param.type == ParamType::kDate) {
      if (value.prefix != DatePrefix::kEq || value.code.size() != 10) return std::nullopt;
      lookups.push_back({param.blind_index_field, value.code});
    } else if (param.resource_type == "Patient" && param.name == "name") {
      lookups.push_back({"patient.family.prefix", value.code});
      lookups.push_back({"patient.given.prefix", value.code});
    } else if (param.resource_type == "Patient" && param.name == "identifier") {
      const bool ins = IsInsSystem(value.system);
      if (ins || (!value.has_system && CanonicalNir(value.code))) {
        lookups.push_back({"patient.nir", value.code});
      }
      if (!ins) lookups.push_back({param.blind_index_field, value.code});
    } else {
      lookups.push_back({param.blind_index_field, value.code});
    }
  }
  if (lookups.empty()) return std::nullopt;
  return lookups;
}

FhirResult<SearchRequest> ParseSearch(std::string_view resource_type, std::string_view query) {
  SearchRequest request;
  request.resource_type = std::string(resource_type);
  IssueList issues;
  if (SearchParamsOf(resource_type).empty()) {
    issues.Add("", "this resource type cannot be searched", IssueType::kNotSupported);
    return issues.Fail();
  }
  if (query.size() > kMaxQueryBytes) {
    issues.Add("", "the search is too long: at most 512 KiB", IssueType::kTooLong);
    return issues.Fail();
  }
  std::size_t parameters = 0;
  ResultParams seen;
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view piece = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    if (piece.empty()) continue;
    if (++parameters > kMaxParameters) {
      issues.Add("", "a search has at most 64 parameters", IssueType::kTooLong);
      return issues.Fail();
    }
    std::size_t equals = piece.find('=');
    auto name = FormDecode(piece.substr(0, equals));
    const std::string expression = name ? SafeName(*name) : std::string();
    if (!name || !IsValidUtf8(*name) || expression.empty()) {
      issues.Add("", "a parameter name is malformed (names are letters, digits, '_', '-', ':')");
      continue;
    }
    auto value = equals == std::string_view::npos ? std::optional<std::string>("")
                                                  : FormDecode(piece.substr(equals + 1));
    if (!value || !IsValidUtf8(*value) || value->find('\0') != std::string::npos) {
      issues.Add(expression, "the value is not correctly percent-encoded UTF-8");
      continue;
    }
    if (value->size() > kMaxValueBytes) {
      issues.Add(expression, "the value is too long: at most 2048 bytes", IssueType::kTooLong);
      continue;
    }
    if (value->empty()) {
      issues.Add(expression, "the value is empty: give a value or leave the parameter out");
      continue;
    }
    std::string_view base = *name;
    std::string_view modifier;
    if (std::size_t colon = base.find(':'); colon != std::string_view::npos) {
      modifier = base.substr(colon + 1);
      base = base.substr(0, colon);
    }
    const SearchParam* param = nullptr;
    for (const SearchParam* candidate : SearchParamsOf(resource_type)) {
      if (candidate->name == base) param = candidate;
    }
    if (param == nullptr) {
      if (base.starts_with('_') &&
          ParseResultParam(base, modifier, *value, request, seen, issues)) {
        continue;
      }
      issues.Add(std::string(base),
                 "unknown search parameter: " + std::string(resource_type) + " supports " +
                     NamesOf(resource_type),
                 IssueType::kNotSupported);
      continue;
    }
    const ParamRule& rule = RuleOf(*param);
    if (!modifier.empty() && !(modifier == "exact" && param->type == ParamType::kString)) {
      issues.Add(expression,
                 param->type == ParamType::kString
                     ? "unsupported modifier: string parameters support only :exact"
                     : "unsupported modifier: this parameter takes none",
                 IssueType::kNotSupported);
      continue;
    }
    SearchCriterion criterion{param, std::string(modifier), {}};
    auto raw_values = SplitUnescaped(*value, ',');
    if (raw_values.size() > kMaxValuesPerParameter) {
      issues.Add(expression, "at most 64 values separated by commas", IssueType::kTooLong);
      continue;
    }
    std::string problem;
    for (std::string_view raw : raw_values) {
      SearchValue parsed;
      problem = ParseValue(rule, raw, parsed);
      if (!problem.empty()) break;
      if (param->type == ParamType::kString && modifier.empty()) {
        auto normalized = crypto::NormalizeName(parsed.code);
        if (!normalized || normalized->empty()) {
          problem = "the text has no letters or digits medvault can compare";
          break;
        }
      }
      criterion.any_of.push_back(std::move(parsed));
    }
    if (!problem.empty()) {
      issues.Add(expression, problem, IssueType::kValue);
      continue;
    }
    request.criteria.push_back(std::move(criterion));
  }
  if (!issues.empty()) return issues.Fail();

  // Confinement to one patient.
  for (const SearchCriterion& criterion : request.criteria) {
    auto patient = ConfiningPatient(request.resource_type, criterion, issues);
    if (!patient) return issues.Fail();
    if (patient->empty()) continue;
    if (request.patient_id && *request.patient_id != *patient) {
      issues.Add(std::string(criterion.param->name),
                 "the search names two different patients: name one");
      return issues.Fail();
    }
    request.patient_id = *patient;
  }
  if (!request.patient_id && search_internal::IsCompartmentType(resource_type) &&
      std::ranges::none_of(request.criteria, [](const SearchCriterion& criterion) {
        return BlindIndexLookupsOf(criterion).has_value();
      })) {
    std::vector<std::string_view> usable;
    for (const SearchParam* param : SearchParamsOf(resource_type)) {
      if (!param->blind_index_field.empty()) usable.push_back(param->name);
    }
    std::string diagnostics =
        resource_type == "Patient"
            ? "a search across patients needs _id or one of " + Join(usable, ", ") +
                  " (birthdate as a full date without prefix): narrow it to a patient"
            : "records are encrypted: narrow it to a patient with patient= or subject=Patient/" +
                  (usable.empty() ? std::string()
                                  : ", or search by " + Join(usable, ", ") + " across patients");
    std::string expression = resource_type == "Patient" ? "_id" : "patient";
    if (!request.criteria.empty()) expression = std::string(request.criteria.front().param->name);
    issues.Add(expression, diagnostics, IssueType::kNotSupported);
    return issues.Fail();
  }
  return request;
}

namespace {

bool MatchCoding(const SearchValue& value, const json::object& coding) {
  const json::value* code = coding.if_contains("code");
  const json::value* system = coding.if_contains("system");
  if (!value.code.empty() &&
      (code == nullptr || !code->is_string() || code->get_string() != value.code)) {
    return false;
  }
  if (!value.has_system) return true;
  if (value.system.empty()) return system == nullptr;
  return system != nullptr && system->is_string() && system->get_string() == value.system;
}

bool MatchIdentifier(const SearchValue& value, const json::object& identifier, Fold fold) {
  const json::value* system_value = identifier.if_contains("system");
  std::string_view system = system_value != nullptr && system_value->is_string()
                                ? std::string_view(system_value->get_string())
                                : "";
  if (value.has_system) {
    if (value.system.empty() ? system_value != nullptr : system != value.system) return false;
  }
  if (value.code.empty()) return true;
  const json::value* stored = identifier.if_contains("value");
  if (stored == nullptr || !stored->is_string()) return false;
  if (fold == Fold::kNone) return stored->get_string() == value.code;
  auto folded_stored = FoldIdentifier(fold, system, stored->get_string());
  auto folded_query = FoldIdentifier(fold, system, value.code);
  return folded_stored && folded_query && *folded_stored == *folded_query;
}

bool MatchToken(const ParamRule& rule, const SearchValue& value, const json::value& element) {
  if (element.is_string()) return element.get_string() == value.code;
  if (!element.is_object()) return false;
  const json::object& object = element.get_object();
  if (rule.fold == Fold::kPhone || rule.fold == Fold::kEmail) {
    const json::value* stored = object.if_contains("value");
    if (stored == nullptr || !stored->is_string()) return false;
    auto normalize = rule.fold == Fold::kPhone ? crypto::NormalizePhone : crypto::NormalizeEmail;
    auto folded_stored = normalize(stored->get_string());
    auto folded_query = normalize(value.code);
    return folded_stored && folded_query && *folded_stored == *folded_query;
  }
  if (const json::value* codings = object.if_contains("coding")) {
    if (!codings->is_array()) return false;
    return std::ranges::any_of(codings->get_array(), [&](const json::value& coding) {
      return coding.is_object() && MatchCoding(value, coding.get_object());
    });
  }
  if (object.contains("value")) return MatchIdentifier(value, object, rule.fold);
  if (object.contains("code")) return MatchCoding(value, object);
  return false;
}

bool MatchString(const ParamRule& rule, const SearchCriterion& criterion, const SearchValue& value,
                 const json::value& element) {
  if (!element.is_string()) return false;
  std::string_view stored = element.get_string();
  if (criterion.modifier == "exact") return stored == value.code;
  auto folded_stored = crypto::NormalizeName(stored);
  auto folded_query = crypto::NormalizeName(value.code);
  if (!folded_stored || !folded_query || folded_query->empty()) return false;
  // The blind index finds a 1- or 2-letter name only whole; a search within one patient
  // answers the same as one across patients.
  if (!rule.param.blind_index_field.empty() && LettersIn(*folded_query) < kMinPrefixLetters) {
    return *folded_stored == *folded_query;
  }
  return folded_stored->starts_with(*folded_query);
}

bool MatchReference(const SearchValue& value, const json::value& element) {
  if (!element.is_object()) return false;
  const json::value* reference = element.get_object().if_contains("reference");
  if (reference == nullptr || !reference->is_string()) return false;
  std::string_view text = reference->get_string();
  if (std::size_t history = text.find("/_history/"); history != std::string_view::npos) {
    text = text.substr(0, history);
  }
  if (value.code.find('/') != std::string::npos) return text == value.code;
  std::size_t slash = text.rfind('/');
  return slash != std::string_view::npos && text.substr(slash + 1) == value.code;
}

bool MatchValue(const ParamRule& rule, const SearchCriterion& criterion, const SearchValue& value,
                const json::value& element) {
  switch (rule.param.type) {
    case ParamType::kToken:
      return MatchToken(rule, value, element);
    case ParamType::kString:
    case ParamType::kUri:
      return MatchString(rule, criterion, value, element);
    case ParamType::kReference:
      return MatchReference(value, element);
    case ParamType::kDate: {
      auto search = ParseDateRange(value.code, true);
      auto target = RangeOfElement(element);
      return search && target && CompareRanges(value.prefix, *search, *target);
    }
    case ParamType::kQuantity:
      return false;
  }
  return false;
}

bool MatchCriterion(const SearchCriterion& criterion, const json::object& resource) {
  const ParamRule& rule = RuleOf(*criterion.param);
  auto elements = search_internal::EvaluatePaths(rule.paths, resource);
  return std::ranges::any_of(criterion.any_of, [&](const SearchValue& value) {
    return std::ranges::any_of(elements, [&](const json::value* element) {
      return MatchValue(rule, criterion, value, *element);
    });
  });
}

bool InPatient(const SearchRequest& request, const json::object& resource) {
  if (request.resource_type == "Patient") {
    const json::value* id = resource.if_contains("id");
    return id != nullptr && id->is_string() && id->get_string() == *request.patient_id;
  }
  for (const SearchParam* param : SearchParamsOf(request.resource_type)) {
    if (param->name != "patient") continue;
    SearchCriterion confinement{
        param, "", {SearchValue{{}, false, "Patient/" + *request.patient_id}}};
    return MatchCriterion(confinement, resource);
  }
  return false;
}

std::string ValueText(const SearchCriterion& criterion, const SearchValue& value) {
  switch (criterion.param->type) {
    case ParamType::kToken:
      return value.has_system ? Escape(value.system) + "|" + Escape(value.code)
                              : Escape(value.code);
    case ParamType::kDate:
      return (value.prefix == DatePrefix::kEq ? std::string()
                                              : std::string(PrefixName(value.prefix))) +
             value.code;
    case ParamType::kReference: {
      // A parameter with one target type is written with the bare id, which reads back as
      // the same Type/id.
      const auto& targets = RuleOf(*criterion.param).targets;
      std::string_view code = value.code;
      if (targets.size() == 1 && code.starts_with(targets[0]) && code.size() > targets[0].size() &&
          code[targets[0].size()] == '/') {
        code.remove_prefix(targets[0].size() + 1);
      }
      return Escape(code);
    }
    default:
      return Escape(value.code);
  }
}

}  // namespace

bool Matches(const SearchRequest& request, const json::object& resource) {
  const json::value* type = resource.if_contains("resourceType");
  if (type == nullptr || !type->is_string() || type->get_string() != request.resource_type) {
    return false;
  }
  if (request.patient_id && !InPatient(request, resource)) return false;
  return std::ranges::all_of(request.criteria, [&](const SearchCriterion& criterion) {
    return criterion.param != nullptr && MatchCriterion(criterion, resource);
  });
}

std::string CanonicalQuery(const SearchRequest& request, std::string_view page) {
  std::vector<std::pair<std::string, std::string>> pairs;  // (name, encoded value)
  for (const SearchCriterion& criterion : request.criteria) {
    std::string name(criterion.param->name);
    if (!criterion.modifier.empty()) name += ":" + criterion.modifier;
    std::string values;
    for (std::size_t i = 0; i < criterion.any_of.size(); ++i) {
      if (i > 0) values += ',';
      values += ValueText(criterion, criterion.any_of[i]);
    }
    pairs.emplace_back(std::move(name), std::move(values));
  }
  std::ranges::sort(pairs);
  if (request.sort_by_date) pairs.emplace_back("_sort", request.sort_descending ? "-date" : "date");
  // The default count is left out: a canonical query never has more parameters than its source.
  if (request.count != kDefaultCount) pairs.emplace_back("_count", std::to_string(request.count));
  for (const std::string& include : request.include) pairs.emplace_back("_include", include);
  if (request.summary_count) pairs.emplace_back("_summary", "count");
  if (!request.elements.empty()) {
    std::string elements;
    for (std::size_t i = 0; i < request.elements.size(); ++i) {
      if (i > 0) elements += ',';
      elements += request.elements[i];
    }
    pairs.emplace_back("_elements", std::move(elements));
  }
  if (!page.empty()) pairs.emplace_back("_page", std::string(page));
  std::string query;
  for (const auto& [name, value] : pairs) {
    if (!query.empty()) query += '&';
    query += FormEncode(name);
    query += '=';
    query += FormEncode(value);
  }
  return query;
}

json::object ApplyElements(const json::object& resource, std::span<const std::string> elements) {
  json::object subset;
  for (const auto& member : resource) {
    std::string_view key = member.key();
    std::string_view base = key.starts_with('_') ? key.substr(1) : key;  // primitive extensions
    bool wanted = key == "resourceType" || key == "id" || key == "meta" ||
                  std::ranges::any_of(elements, [&](const std::string& element) {
                    return base == element || search_internal::IsChoiceOf(base, element);
                  });
    if (wanted) subset.emplace(key, member.value());
  }
  json::object& meta = subset["meta"].emplace_object();
  if (const json::value* original = resource.if_contains("meta");
      original && original->is_object()) {
    meta = original->get_object();
  }
  json::value& tags = meta["tag"];
  if (!tags.is_array()) tags.emplace_array();
  bool tagged = std::ranges::any_of(tags.get_array(), [](const json::value& tag) {
    const json::object* object = tag.if_object();
    if (object == nullptr) return false;
    const json::value* code = object->if_contains("code");
    const json::value* system = object->if_contains("system");
    return code && code->is_string() && code->get_string() == "SUBSETTED" && system &&
           system->is_string() && system->get_string() == kSubsettedSystem;
  });
  if (!tagged) {
    tags.get_array().push_back(json::object{
        {"system", kSubsettedSystem}, {"code", "SUBSETTED"}, {"display", "subsetted"}});
  }
  return subset;
}

}  // namespace medvault::fhir
