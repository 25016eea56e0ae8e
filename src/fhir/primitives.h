// The FHIR R4 primitive datatypes (https://hl7.org/fhir/R4/datatypes.html): which JSON shape
// each takes and the syntax of its value, checked by hand-written scanners equivalent to the
// regexes of the specification (no std::regex: its recursion overflows the stack on long
// inputs), plus the calendar (no 2023-02-30).
//
// Internal to the fhir module (resource.cc). Thread-safe: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

namespace medvault::fhir::primitives {

// Whether `type` ("string", "dateTime", ...) names a primitive datatype of FHIR R4.
bool IsPrimitive(std::string_view type);

// Checks a JSON value as an instance of the primitive `type`. nullopt when valid, else what is
// wrong, as a fixed sentence that never contains the value ("is not a valid FHIR date
// (YYYY, YYYY-MM or YYYY-MM-DD)").
std::optional<std::string_view> CheckPrimitive(std::string_view type,
                                               const boost::json::value& value);

// The syntax checks behind CheckPrimitive, for other callers in the module.
bool IsId(std::string_view text);        // [A-Za-z0-9\-\.]{1,64}
bool IsDate(std::string_view text);      // YYYY, YYYY-MM, YYYY-MM-DD
bool IsDateTime(std::string_view text);  // a date, or a full date and time with a time zone
bool IsInstant(std::string_view text);   // date, time to the second, time zone
bool IsUuid(std::string_view text);      // lower-case 8-4-4-4-12 hex, without "urn:uuid:"
bool IsCode(std::string_view text);      // no leading, trailing or double whitespace

// Orders two valid FHIR dates or dateTimes as FHIRPath does: -1, 0 or 1 when they have the
// same precision (dates of the same length, or two times with zones, compared in UTC);
// nullopt when they cannot be compared (different precisions, or not valid).
std::optional<int> CompareDateTimes(std::string_view a, std::string_view b);

}  // namespace medvault::fhir::primitives
