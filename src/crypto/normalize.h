// Normalization of field values before they are blind-indexed: every spelling a person would
// consider "the same value" maps to one canonical string, so that its keyed hash matches.
// Search results are exact because the caller decrypts each candidate, normalizes the stored
// value with the same function and compares; the rules here define what "equal" means.
//
// Rules, by kind of value:
// - Names: Unicode compatibility decomposition (NFKD), accents and other combining marks
//   removed, case folded (so "Hélène" = "HELENE" = "helene", "ß" = "ss", "ﬁ" = "fi"),
//   letters without a decomposition spelled out ("œ" = "oe", "æ" = "ae", "ø" = "o",
//   "ł" = "l", "đ" = "d", "ð" = "d", "þ" = "th", dotless "ı" = "i"). Apostrophes (' ’ ‘ ʼ `
//   ´) are deleted: "D'Artagnan" = "dartagnan" = "Dartagnan", the spelling used when a
//   system drops the apostrophe. Every other run of non-letters and non-digits (spaces,
//   hyphens, dots, commas, symbols, control characters) becomes one space, and leading or
//   trailing ones are dropped: "Jean-Pierre" = "jean pierre" = " JEAN  PIERRE ". Unassigned
//   code points are refused (their normalization could change with a later Unicode).
// - Dates: "YYYY-MM-DD" (FHIR), "YYYYMMDD" (HL7v2) or "DD/MM/YYYY" (French usage), a real
//   calendar date (29 February only in leap years), year 0001..9999 -> "YYYY-MM-DD".
//   Partial dates ("1984", "1984-12") are refused: they cannot be matched exactly.
// - Phones: E.164 "+<digits>". French national numbers ("06 12 34 56 78") become +33
//   (overseas departments their own country code: "0692..." -> "+262692..."); "0033..."
//   and "+33 (0)6..." are the same number; spaces, dots, hyphens and parentheses are
//   ignored. Other countries must be written with "+" or "00".
// - Emails: trimmed, NFC, case folded; exactly one "@" with text on both sides, no spaces.
// - NIR / INS: core/french_ids.h CanonicalNir (check key validated).
// - Accession numbers: core/french_ids.h CanonicalAccessionNumber.
// - Other identifiers: every space removed, nothing else changed.
// All kinds first check that the value is valid UTF-8 and at most kMaxValueBytes long; all
// but names are NFKC-normalized before parsing, so full-width digits and no-break spaces
// are read as digits and spaces.
//
// Failures: kInvalidArgument, with a message that names the rule and never quotes the value.
// Thread-safe: stateless.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault::crypto {

// What a value is: decides its normalization and how it is indexed (crypto/blind_index.h).
enum class ValueKind {
  kName,        // family or given name: prefix search
  kDate,        // a full calendar date (birth date)
  kPhone,       // telephone number
  kEmail,       // email address
  kNir,         // NIR, INS-NIR or INS-NIA: check key validated
  kAccession,   // lab accession number
  kIdentifier,  // any other identifier (e.g. a local patient number)
};

// Stable lower-case name of a kind, for messages and as a domain-separation label.
std::string_view ValueKindName(ValueKind kind);

// Longest input accepted, in bytes, for any kind.
inline constexpr std::size_t kMaxValueBytes = 1024;

// The canonical form of `value` as a value of `kind`.
Result<std::string> Normalize(ValueKind kind, std::string_view value);

// The same, one function per kind.
Result<std::string> NormalizeName(std::string_view value);
Result<std::string> NormalizeDate(std::string_view value);
Result<std::string> NormalizePhone(std::string_view value);
Result<std::string> NormalizeEmail(std::string_view value);
Result<std::string> NormalizeIdentifier(std::string_view value);

}  // namespace medvault::crypto
