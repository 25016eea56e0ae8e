// French patient and laboratory identifiers: the NIR (numéro d'inscription au répertoire,
// the "social security number"), the INS (identifiant national de santé: the NIR or the NIA,
// a provisional number of the same shape) and lab accession numbers.
//
// These functions check structure and check keys and return one canonical spelling, so that
// the same identifier typed "1 84 12 76 451 089 46" or "184127645108946" is stored, compared
// and indexed identically. They know nothing of keys or storage.
//
// Failures: kInvalidArgument with a message that names the rule broken and never quotes the
// value (identifiers are personal data). Thread-safe: stateless.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault {

// 13 characters of number, then the 2-digit key.
inline constexpr std::size_t kNirLength = 15;
inline constexpr std::size_t kNirBodyLength = 13;

// The NIR's check key: 97 - (body mod 97), in 1..97, where body is the first 13 characters.
// For Corsica (department "2A" or "2B" in characters 6-7) the key is computed with "19" for
// "2A" and "18" for "2B", the official rule. Fails unless `body` is 13 characters of digits,
// except 2A/2B (upper or lower case) at characters 6-7.
Result<int> NirKey(std::string_view body);

// Validates a NIR and returns its canonical 15-character form (digits, with "2A"/"2B" upper
// case for Corsica). Spaces, dots and hyphens between characters are ignored. Checks:
// - first character 1 or 2 (births registered in France), 3 or 4 (foreign-born persons in
//   the course of registration), 7 or 8 (provisional numbers, the NIA);
// - month 01-12, or 20-42 or 50-99 (INSEE's fictitious months for an incomplete civil
//   record); 00, 13-19 and 43-49 are refused;
// - department 01-95 (20 is Corsica before 1976), 2A, 2B, 96, 99 (born abroad), or an
//   overseas code 971-978 or 984-989 in characters 6-8;
// - order number (characters 11-13) not 000;
// - key equal to NirKey of the first 13 characters.
Result<std::string> CanonicalNir(std::string_view text);

// The two registers an INS number comes from, told apart by the identifier's system (OID);
// both numbers have the NIR's shape and key.
enum class InsKind { kNir, kNia };

inline constexpr std::string_view kInsNirSystem = "urn:oid:1.2.250.1.213.1.4.8";
inline constexpr std::string_view kInsNiaSystem = "urn:oid:1.2.250.1.213.1.4.9";

// A validated INS: which register, and the canonical 15-character number.
struct Ins {
  InsKind kind = InsKind::kNir;
  std::string number;
};

// The FHIR identifier system of an INS kind.
std::string_view InsSystem(InsKind kind);

// Parses an INS from a FHIR identifier (system, value). Fails with kInvalidArgument if the
// system is neither INS OID or the value is not a valid NIR-shaped number.
Result<Ins> ParseIns(std::string_view system, std::string_view value);

inline constexpr std::size_t kMaxAccessionNumberLength = 64;

// A lab accession number in canonical form: surrounding spaces trimmed, letters upper-cased;
// the result is 1..64 characters of [A-Z0-9-]. Anything else inside (spaces, slashes,
// non-ASCII) is refused rather than silently dropped, so two different numbers never
// collapse into one.
Result<std::string> CanonicalAccessionNumber(std::string_view text);

}  // namespace medvault
