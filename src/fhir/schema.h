// The element tables of the FHIR R4 resources medvault serves and of the datatypes they use
// (https://hl7.org/fhir/R4/): for each element its name, datatype(s), cardinality, required
// binding and, for references, the resource types it may point to. Only what R4 defines; the
// validator (resource.cc) walks a resource against these tables.
//
// Conventions: a choice element is named "value[x]" and lists its types ("Quantity|string");
// the JSON name is the prefix and the type with its first letter upper-cased
// ("valueQuantity"). A backbone element has no types and lists its children. `id`,
// `extension` and `modifierExtension` are accepted on every complex element by the validator
// and are not listed; Extension itself is checked by the validator (url and one value[x]).
//
// Internal to the fhir module. Thread-safe: immutable tables.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace medvault::fhir::schema {

inline constexpr std::uint16_t kMany = 0xffff;

// A required binding: the codes allowed, and for Coding and CodeableConcept the code system
// they belong to.
struct ValueSet {
  std::string_view name;    // "administrative-gender", for diagnostics
  std::string_view system;  // empty for bindings on a code element
  std::span<const std::string_view> codes;
};

struct Element {
  std::string_view name;   // "status", or "value[x]" for a choice
  std::string_view types;  // "code", "Quantity|string"; empty for a backbone element
  std::uint16_t min = 0;
  std::uint16_t max = 1;  // kMany for 0..* and 1..*
  const ValueSet* binding = nullptr;
  std::string_view targets = {};           // Reference targets "Patient|Group"; "Any" for any type
  std::span<const Element> children = {};  // a backbone element's elements
};

struct TypeDefinition {
  std::string_view name;
  std::span<const Element> elements;
};

// The elements of a served resource type, including those of Resource and DomainResource
// (id, meta, implicitRules, language, text). nullptr for a type medvault does not serve.
const TypeDefinition* FindResourceType(std::string_view name);
// A complex datatype: Identifier, HumanName, CodeableConcept, Quantity, Dosage... nullptr for
// primitives and unknown names. Extension is not listed (the validator checks it).
const TypeDefinition* FindDatatype(std::string_view name);

// The value[x] types an Extension may carry (the R4 open type list, restricted to the
// datatypes of these tables).
std::span<const std::string_view> ExtensionValueTypes();

}  // namespace medvault::fhir::schema
