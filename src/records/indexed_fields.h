// Which values of a resource are searchable while stored encrypted, and how to read them from
// the resource's FHIR JSON. One table serves both sides of a search: the values extracted
// here are blind-indexed when a resource is written, and the same extraction runs on each
// decrypted candidate to keep only the real matches, so the two can never disagree.
//
// Fields (blind-index field name, kind, FHIR element):
//   Patient           patient.family.prefix  name  name[].family
//                     patient.given.prefix   name  name[].given[]
//                     patient.birthdate      date  birthDate
//                     patient.nir            nir   identifier[] with an INS system (NIR/NIA)
//                     patient.identifier     identifier  any other identifier[].value
//                     patient.phone          phone telecom[] with system "phone"
//                     patient.email          email telecom[] with system "email"
//   DiagnosticReport  report.accession       accession  identifier[].value
//                     report.status          identifier status (the lab worklist: pending
//                                            reports across patients)
//
// Failures: kInvalidArgument when the JSON is not an object. Whether a value is valid for its
// kind (a NIR's check key, a real birth date) is decided when it is blind-indexed, which
// refuses the write. Thread-safe: stateless.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "crypto/normalize.h"

namespace medvault::records {

struct IndexedField {
  std::string_view resource_type;
  std::string_view field;  // blind-index field name
  crypto::ValueKind kind;
};

// One value of one indexed field. The value is personal data: keep it briefly.
struct IndexedValue {
  std::string_view field;
  crypto::ValueKind kind;
  std::string value;
};

// Every indexed field of every resource type.
std::span<const IndexedField> IndexedFields();

// The indexed field named `field` of `resource_type`; kInvalidArgument (naming both) if that
// type has no such searchable field.
Result<IndexedField> FindIndexedField(std::string_view resource_type, std::string_view field);

// The indexed values in `json`, a resource of `resource_type` (none for unindexed types).
Result<std::vector<IndexedValue>> ExtractIndexedValues(std::string_view resource_type,
                                                       std::string_view json);

}  // namespace medvault::records
