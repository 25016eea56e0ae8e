#include "fhir/code_syntax.h"

#include <cstddef>
#include <span>

namespace medvault::fhir {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// UCUM atoms that take a metric prefix (from the UCUM tables: base units, SI and the other
// metric units in clinical use).
constexpr std::string_view kMetricAtoms[] = {
    "m",    "s",   "g",   "rad", "K",     "C",     "cd",  "mol", "sr",    "Hz",     "N",   "Pa",
    "J",    "W",   "A",   "V",   "F",     "Ohm",   "S",   "Wb",  "Cel",   "T",      "H",   "lm",
    "lx",   "Bq",  "Gy",  "Sv",  "L",     "l",     "ar",  "t",   "bar",   "u",      "eV",  "pc",
    "[c]",  "[h]", "[k]", "[e]", "[m_e]", "[m_p]", "[G]", "[g]", "[ly]",  "gf",     "Gal", "dyn",
    "erg",  "P",   "St",  "Mx",  "G",     "Oe",    "Ci",  "R",   "RAD",   "REM",    "cal", "[iU]",
    "[IU]", "eq",  "osm", "g%",  "kat",   "U",     "bit", "By",  "m[Hg]", "m[H2O]", "mho"};

// UCUM atoms without a prefix.
constexpr std::string_view kPlainAtoms[] = {
    "[pi]",    "%",        "[ppth]",   "[ppm]",    "[ppb]",    "[pptr]",   "min",      "h",
    "d",       "wk",       "mo",       "a",        "a_t",      "a_j",      "a_g",      "mo_s",
    "mo_j",    "mo_g",     "'",        "''",       "deg",      "gon",      "[degF]",   "[degR]",
    "[in_i]",  "[ft_i]",   "[yd_i]",   "[mi_i]",   "[lb_av]",  "[oz_av]",  "[gr]",     "[pt_us]",
    "[qt_us]", "[gal_us]", "[foz_us]", "[tsp_us]", "[tbs_us]", "[cup_us]", "[drp]",    "[HPF]",
    "[LPF]",   "[pH]",     "[arb'U]",  "[CFU]",    "[PFU]",    "[FFU]",    "[BAU]",    "[AU]",
    "[EU]",    "[ELU]",    "[USP'U]",  "[GPL'U]",  "[MPL'U]",  "[APL'U]",  "[beth'U]", "[todd'U]",
    "[dye'U]", "[ka'U]",   "[knk'U]",  "[mclg'U]", "[tb'U]",   "[Ch]",     "[MET]",    "[psi]",
    "atm",     "Ao",       "[diop]",   "[car_m]"};

constexpr std::string_view kPrefixes[] = {"da", "Ki", "Mi", "Gi", "Ti", "Y", "Z", "E",
                                          "P",  "T",  "G",  "M",  "k",  "h", "d", "c",
                                          "m",  "u",  "n",  "p",  "f",  "a", "z", "y"};

bool Contains(std::span<const std::string_view> table, std::string_view symbol) {
  for (std::string_view entry : table) {
    if (entry == symbol) return true;
  }
  return false;
}

bool IsUnitSymbol(std::string_view symbol) {
  if (Contains(kMetricAtoms, symbol) || Contains(kPlainAtoms, symbol)) return true;
  for (std::string_view prefix : kPrefixes) {
    if (symbol.size() > prefix.size() && symbol.starts_with(prefix) &&
        Contains(kMetricAtoms, symbol.substr(prefix.size()))) {
      return true;
    }
  }
  return false;
}

// A recursive-descent reader of the UCUM grammar; parentheses nest at most kMaxNesting deep.
class UcumReader {
 public:
  explicit UcumReader(std::string_view text) : text_(text) {}

  bool ReadAll() {
    if (Peek() == '/') ++pos_;
    if (!ReadTerm(0)) return false;
    return pos_ == text_.size();
  }

 private:
  static constexpr int kMaxNesting = 8;

  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  bool ReadTerm(int depth) {
    if (!ReadComponent(depth)) return false;
    while (Peek() == '.' || Peek() == '/') {
      ++pos_;
      if (!ReadComponent(depth)) return false;
    }
    return true;
  }

  bool ReadComponent(int depth) {
    const char c = Peek();
    if (c == '(') {
      if (depth >= kMaxNesting) return false;
      ++pos_;
      if (!ReadTerm(depth + 1) || Peek() != ')') return false;
      ++pos_;
      return true;
    }
    if (c == '{') return ReadAnnotation();
    if (IsDigit(c)) {
      const std::size_t start = pos_;
      while (IsDigit(Peek())) ++pos_;
      if (Peek() == '*' || Peek() == '^') {
        if (text_.substr(start, pos_ - start) != "10") return false;
        ++pos_;
        if (!ReadExponent(/*required=*/true)) return false;
      }
      if (Peek() == '{') return ReadAnnotation();
      return true;
    }
    if (!ReadSymbol()) return false;
    if (!ReadExponent(/*required=*/false)) return false;
    if (Peek() == '{') return ReadAnnotation();
    return true;
  }

  // A unit symbol: printable ASCII up to an operator, a digit, a sign, a brace or a
  // parenthesis; square brackets (which may hold digits) are kept whole.
  bool ReadSymbol() {
    const std::size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '[') {
        const std::size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return false;
        pos_ = close + 1;
        continue;
      }
      if (c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}' || c == '+' ||
          c == '-' || IsDigit(c) || c == ']') {
        break;
      }
      if (c <= ' ' || c > '~') return false;
      ++pos_;
    }
    if (pos_ == start) return false;
    return IsUnitSymbol(text_.substr(start, pos_ - start));
  }

  bool ReadExponent(bool required) {
    bool signed_exponent = false;
    if (Peek() == '+' || Peek() == '-') {
      ++pos_;
      signed_exponent = true;
    }
    const std::size_t start = pos_;
    while (IsDigit(Peek())) ++pos_;
    if (pos_ - start > 4) return false;
    if (pos_ == start) return !(required || signed_exponent);
    return true;
  }

  bool ReadAnnotation() {
    ++pos_;  // '{'
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '}') {
      const char c = text_[pos_];
      if (c <= ' ' || c > '~' || c == '{') return false;
      ++pos_;
    }
    if (pos_ >= text_.size() || pos_ == start) return false;
    ++pos_;  // '}'
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool IsRestrictedNameChar(char c) {
  return IsAlnum(c) || c == '!' || c == '#' || c == '$' || c == '&' || c == '-' || c == '^' ||
         c == '_' || c == '.' || c == '+';
}

// RFC 6838 restricted-name: an alphanumeric, then up to 126 name characters.
std::size_t ReadRestrictedName(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || !IsAlnum(text[pos])) return 0;
  std::size_t end = pos + 1;
  while (end < text.size() && IsRestrictedNameChar(text[end])) ++end;
  return end - pos <= 127 ? end - pos : 0;
}

bool IsTokenChar(char c) {
  if (c <= ' ' || c > '~') return false;
  for (char special : std::string_view("()<>@,;:\\\"/[]?=")) {
    if (c == special) return false;
  }
  return true;
}

}  // namespace

bool IsLoincCode(std::string_view code) {
  bool check_digit = true;
  if (code.size() >= 2 && code[0] == 'L' && (code[1] == 'P' || code[1] == 'A' || code[1] == 'G')) {
    code.remove_prefix(2);
    check_digit = false;
  }
  const std::size_t hyphen = code.find('-');
  if (hyphen == std::string_view::npos || hyphen == 0 || hyphen > 7) return false;
  if (code.size() != hyphen + 2 || !IsDigit(code.back())) return false;
  int sum = 0;
  bool doubled = true;  // the rightmost digit of the number is doubled
  for (std::size_t i = hyphen; i-- > 0;) {
    if (!IsDigit(code[i])) return false;
    int digit = code[i] - '0';
    if (doubled) {
      digit *= 2;
      digit = digit / 10 + digit % 10;
    }
    sum += digit;
    doubled = !doubled;
  }
  const int check = (10 - sum % 10) % 10;
  return !check_digit || check == code.back() - '0';
}

bool IsUcumCode(std::string_view code) {
  if (code.empty() || code.size() > 256) return false;
  return UcumReader(code).ReadAll();
}

bool IsMimeType(std::string_view text) {
  const std::size_t type = ReadRestrictedName(text, 0);
  if (type == 0 || type >= text.size() || text[type] != '/') return false;
  const std::size_t subtype = ReadRestrictedName(text, type + 1);
  if (subtype == 0) return false;
  std::size_t pos = type + 1 + subtype;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size() || text[pos] != ';') return false;
    ++pos;
    while (pos < text.size() && text[pos] == ' ') ++pos;
    const std::size_t name = pos;
    while (pos < text.size() && IsTokenChar(text[pos])) ++pos;
    if (pos == name || pos >= text.size() || text[pos] != '=') return false;
    ++pos;
    if (pos < text.size() && text[pos] == '"') {
      ++pos;
      while (pos < text.size() && text[pos] != '"') {
        if (text[pos] == '\\') ++pos;
        if (pos < text.size() && (text[pos] < ' ' || text[pos] > '~')) return false;
        ++pos;
      }
      if (pos >= text.size()) return false;
      ++pos;
    } else {
      const std::size_t value = pos;
      while (pos < text.size() && IsTokenChar(text[pos])) ++pos;
      if (pos == value) return false;
    }
  }
  return true;
}

}  // namespace medvault::fhir
