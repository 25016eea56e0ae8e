// Syntax of the codes medvault checks beyond their FHIR primitive type: LOINC codes with their
// check digit, UCUM unit expressions and MIME types.
//
// Internal to the fhir module (resource.cc). Thread-safe: pure functions.
#pragma once

#include <string_view>

namespace medvault::fhir {

// A LOINC code "NNNNN-C" (1 to 7 digits, a hyphen, the check digit) whose check digit is the
// LOINC mod-10 (Luhn) digit of its number: from the rightmost digit leftwards, every other
// digit starting with the rightmost is doubled, the digits of all the products and of the
// other digits are summed, and the check digit brings the sum to the next multiple of 10.
// LOINC part, answer and group codes ("LP", "LA", "LG" then digits, '-', a digit) are checked
// for their shape only: their check digits are not computed the same way.
bool IsLoincCode(std::string_view code);

// A syntactically valid UCUM unit expression (https://ucum.org/ucum, §2 "Syntax rules"): terms
// of components joined by '.' and '/', an optional leading '/', components that are an atom
// from the common UCUM tables (with a metric prefix where the atom is metric) and an optional
// integer exponent, an integer factor, "10*" or "10^" with an exponent, a parenthesized term,
// or an annotation {...} of printable ASCII. No spaces anywhere.
bool IsUcumCode(std::string_view code);

// A MIME type "type/subtype" with optional "; name=value" parameters (RFC 6838 names,
// RFC 2045 parameter tokens or quoted strings).
bool IsMimeType(std::string_view text);

}  // namespace medvault::fhir
