// Internal to medvault_fhir: what search.cc needs to know about each parameter beyond the
// public SearchParam (fhir/search.h) -- how its element is compared, which types a reference
// may name -- and the FHIRPath subset its expression is written in, compiled once.
//
// The expressions use a small FHIRPath subset that EvaluatePath runs on a resource:
// unions of paths ("A.b | A.c"), child steps (a choice element by its base name:
// "Observation.effective" reads effectiveDateTime, effectivePeriod...), .as(Type) after a
// choice element, .where(resolve() is Type) on references, .where(field='literal').
//
// Thread-safe: immutable after the first call.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/search.h"

namespace medvault::fhir::search_internal {

// How the values of a token or string parameter are compared; the kinds that are
// blind-indexed are normalized exactly as crypto/normalize.h does for the index.
enum class Fold {
  kNone,               // tokens compared as written
  kName,               // strings: NormalizeName, then prefix
  kPhone,              // ContactPoint.value, NormalizePhone
  kEmail,              // ContactPoint.value, NormalizeEmail
  kPatientIdentifier,  // Identifier: INS systems as NIR, others NormalizeIdentifier
  kAccession,          // Identifier: CanonicalAccessionNumber
};

struct Step {
  enum class Kind { kChild, kWhereEquals, kWhereResolveIs };
  Kind kind = Kind::kChild;
  std::string name;     // kChild: element name (exact when `exact`), kWhere*: field or type
  std::string literal;  // kWhereEquals
  bool exact = false;   // kChild: no choice-type expansion (it came from .as(Type))
};
using Path = std::vector<Step>;  // after the resource type

struct ParamRule {
  SearchParam param;
  std::vector<Path> paths;                // union
  std::vector<std::string_view> targets;  // reference: the served types it may name
  bool code_only = false;                 // token on a code, id or ContactPoint: no system
  Fold fold = Fold::kNone;
};

// Every rule, and the same parameters as SearchParams() returns them (index i is rule i).
std::span<const ParamRule> Rules();
std::span<const SearchParam> AllParams();
// The rule of a parameter returned by SearchParams() / SearchParamsOf() (only those).
const ParamRule& RuleOf(const SearchParam& param);

// The values `paths` select in `resource` (arrays flattened).
std::vector<const boost::json::value*> EvaluatePaths(const std::vector<Path>& paths,
                                                     const boost::json::object& resource);

// Whether `key` is the JSON name of choice element `base`[x] ("valueQuantity" of "value").
bool IsChoiceOf(std::string_view key, std::string_view base);

// Types that have a clinical date (fhir::ClinicalDateOf), for _sort=date.
bool HasClinicalDate(std::string_view resource_type);
// Types whose searches must name a patient or a blind-indexed parameter:
// fhir::IsPatientCompartmentType but AuditEvent, whose searches the records layer runs.
bool IsCompartmentType(std::string_view resource_type);
// The _include values allowed on a type.
std::vector<std::string_view> IncludesOf(std::string_view resource_type);

}  // namespace medvault::fhir::search_internal
