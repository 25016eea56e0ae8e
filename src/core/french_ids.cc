#include "core/french_ids.h"

#include <algorithm>

namespace medvault {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char ToUpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

int TwoDigits(std::string_view text, std::size_t at) {
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

bool IsAllDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), IsDigit); }

// Characters 6-7 (offsets 5-6) of a NIR upper-cased: "2A", "2B" or two digits.
bool IsCorsica(std::string_view nir) { return nir[5] == '2' && (nir[6] == 'A' || nir[6] == 'B'); }

bool IsValidMonth(int month) {
  return (month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50;
}

bool IsValidDepartment(std::string_view nir) {
  if (IsCorsica(nir)) return true;
  if (!IsDigit(nir[5]) || !IsDigit(nir[6])) return false;
  const int department = TwoDigits(nir, 5);
  if ((department >= 1 && department <= 96) || department == 99) return true;
  if (department == 97 || department == 98) {
    const int overseas = department * 10 + (nir[7] - '0');
    return (overseas >= 971 && overseas <= 978) || (overseas >= 984 && overseas <= 989);
  }
  return false;
}

}  // namespace

Result<int> NirKey(std::string_view body) {
  if (body.size() != kNirBodyLength) {
    return Fail(ErrorCode::kInvalidArgument, "NIR body must have 13 characters");
  }
  std::string digits(body);
  std::transform(digits.begin(), digits.end(), digits.begin(), ToUpperAscii);
  // Corsica: the key is computed with 19 in place of 2A and 18 in place of 2B.
  if (digits.compare(5, 2, "2A") == 0) digits.replace(5, 2, "19");
  if (digits.compare(5, 2, "2B") == 0) digits.replace(5, 2, "18");
  if (!IsAllDigits(digits)) {
    return Fail(ErrorCode::kInvalidArgument,
                "NIR must be digits, with 2A or 2B only as the department of Corsica");
  }
  int remainder = 0;
  for (char c : digits) remainder = (remainder * 10 + (c - '0')) % 97;
  return 97 - remainder;
}

Result<std::string> CanonicalNir(std::string_view text) {
  std::string nir;
  nir.reserve(kNirLength);
  for (char c : text) {
    if (c == ' ' || c == '.' || c == '-') continue;
    if (nir.size() == kNirLength) {
      return Fail(ErrorCode::kInvalidArgument,
                  "NIR must have 15 characters (13 and a 2-digit key)");
    }
    nir.push_back(ToUpperAscii(c));
  }
  if (nir.size() != kNirLength) {
    return Fail(ErrorCode::kInvalidArgument, "NIR must have 15 characters (13 and a 2-digit key)");
  }
  const std::string_view view(nir);
  if (!IsAllDigits(view.substr(0, 5)) || !IsAllDigits(view.substr(7)) ||
      !(IsCorsica(view) || IsAllDigits(view.substr(5, 2)))) {
    return Fail(ErrorCode::kInvalidArgument,
                "NIR must be digits, with 2A or 2B only as the department of Corsica");
  }
  if (std::string_view("123478").find(nir[0]) == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "NIR must start with 1, 2, 3, 4, 7 or 8");
  }
  if (!IsValidMonth(TwoDigits(view, 3))) {
    return Fail(ErrorCode::kInvalidArgument, "NIR has an impossible birth month");
  }
  if (!IsValidDepartment(view)) {
    return Fail(ErrorCode::kInvalidArgument, "NIR has an impossible department of birth");
  }
  if (view.substr(10, 3) == "000") {
    return Fail(ErrorCode::kInvalidArgument, "NIR has an impossible order number 000");
  }
  auto key = NirKey(view.substr(0, kNirBodyLength));
  if (!key) return std::unexpected(key.error());
  if (TwoDigits(view, kNirBodyLength) != *key) {
    return Fail(ErrorCode::kInvalidArgument, "NIR check key does not match");
  }
  return nir;
}

std::string_view InsSystem(InsKind kind) {
  return kind == InsKind::kNir ? kInsNirSystem : kInsNiaSystem;
}

Result<Ins> ParseIns(std::string_view system, std::string_view value) {
  Ins ins;
  if (system == kInsNirSystem) {
    ins.kind = InsKind::kNir;
  } else if (system == kInsNiaSystem) {
    ins.kind = InsKind::kNia;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "INS system must be the INS-NIR or INS-NIA OID");
  }
  auto number = CanonicalNir(value);
  if (!number) {
    return Fail(ErrorCode::kInvalidArgument, "INS number: " + number.error().message());
  }
  ins.number = std::move(*number);
  return ins;
}

Result<std::string> CanonicalAccessionNumber(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty() || text.size() > kMaxAccessionNumberLength) {
    return Fail(ErrorCode::kInvalidArgument, "accession number must have 1..64 characters");
  }
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    c = ToUpperAscii(c);
    if (!((c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-')) {
      return Fail(ErrorCode::kInvalidArgument,
                  "accession number may contain only letters, digits and hyphens");
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace medvault
