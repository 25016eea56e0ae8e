// FHIR search: the parameters medvault supports on each resource type, reading a search
// request (the URL query of GET, or the form body of POST _search), and checking a decrypted
// resource against it.
//
// Encrypted storage shapes what can be searched. Across patients, only parameters backed by a
// blind index (SearchParam::blind_index_field, records/indexed_fields.h) are offered: Patient
// identifier, family and given (prefix), name, birthdate, gender is NOT among them (it would
// partition everyone into two sets), phone, email; DiagnosticReport identifier (accession).
// Within one patient (patient= or subject= given), every parameter of the type may be used:
// the records layer decrypts that patient's resources and keeps those Matches() accepts.
// A search on a compartment type that names no patient and no blind-indexed parameter is
// refused (kInvalid, "narrow it to a patient"). Unknown parameters, modifiers and prefixes
// are refused with kInvalid naming the parameter; nothing is silently ignored.
//
// Syntax supported (FHIR R4 §3.1.1 "Search"):
// - repeated parameters are AND, comma-separated values are OR;
// - token: [system]|[code], code, system|; :not and :text are not supported;
// - string: prefix match after case and accent folding (crypto/normalize.h); a blind-indexed
//   name of 1 or 2 letters matches only that whole name, as the index does; :exact;
// - date: prefixes eq ne lt gt le ge sa eb with the precision written (2024, 2024-03,
//   2024-03-05, or a dateTime); an element's own precision makes it a range;
// - reference: Type/id or id (with the type implied by the parameter);
// - result parameters: _count (1..100, default 20), _sort (date or -date, where the type has a
//   clinical date), _include (DiagnosticReport:result, DiagnosticReport:subject,
//   DiagnosticReport:patient, Observation:subject, Observation:patient), _summary=count,
//   _elements (top-level element names), _total=none|accurate (accepted, accurate is the
//   default on compartment searches), _page (an opaque cursor medvault wrote in a next link);
// - _id and _lastUpdated on every type.
//
// Thread-safe: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/outcome.h"

namespace medvault::fhir {

enum class ParamType { kToken, kString, kDate, kReference, kQuantity, kUri };

struct SearchParam {
  std::string_view resource_type;  // "Observation"
  std::string_view name;           // "code"
  ParamType type;
  std::string_view expression;  // FHIRPath, for the CapabilityStatement: "Observation.code"
  // Non-empty: the blind-index field (records/indexed_fields.h) that makes this parameter
  // usable across patients; its prefix match is used for string parameters.
  std::string_view blind_index_field;
  std::string_view documentation;  // one sentence, for the CapabilityStatement
};

// Every supported parameter of every served type (not the result parameters).
std::span<const SearchParam> SearchParams();
// The parameters of one type.
std::vector<const SearchParam*> SearchParamsOf(std::string_view resource_type);

inline constexpr std::size_t kDefaultCount = 20;
inline constexpr std::size_t kMaxCount = 100;

enum class DatePrefix { kEq, kNe, kLt, kGt, kLe, kGe, kSa, kEb };

struct SearchValue {
  // token: system and code (has_system false when no '|' was given);
  // reference: "Type/id" (the bare id when the parameter may name several types); string and
  // uri: the text; date: the text after the prefix.
  std::string system;
  bool has_system = false;
  std::string code;
  DatePrefix prefix = DatePrefix::kEq;
};

struct SearchCriterion {
  const SearchParam* param = nullptr;
  std::string modifier;             // "" or "exact"
  std::vector<SearchValue> any_of;  // OR
};

struct SearchRequest {
  std::string resource_type;
  std::vector<SearchCriterion> criteria;  // AND
  // The patient the search is confined to (from patient=, subject=Patient/x, or _id on
  // Patient), as a bare id; nullopt for a search across patients.
  std::optional<std::string> patient_id;
  std::size_t count = kDefaultCount;
  bool sort_by_date = false;
  bool sort_descending = false;
  std::vector<std::string> include;  // "DiagnosticReport:result", ...
  bool summary_count = false;
  std::vector<std::string> elements;
  std::string page;  // the opaque cursor of _page, empty for the first page
};

// Parses an application/x-www-form-urlencoded query (without '?') for `resource_type`.
// kInvalid with an issue per bad parameter (expression: the parameter name).
FhirResult<SearchRequest> ParseSearch(std::string_view resource_type, std::string_view query);

// One blind-index lookup (records::SealedStore::Candidates) serving a criterion across
// patients: `value` is the search text as given (the store normalizes it for `field`).
struct BlindIndexLookup {
  std::string_view field;  // records/indexed_fields.h
  std::string value;
};
// The lookups whose union holds every resource that can satisfy `criterion` (candidates, to be
// checked with Matches), or nullopt when the blind index cannot serve it: a parameter without
// a blind_index_field, a birthdate that is not one full day with eq, a token with no code.
// Patient name looks up both family and given; Patient identifier looks up patient.nir for an
// INS system, patient.identifier for any other, and both when no system is given.
std::optional<std::vector<BlindIndexLookup>> BlindIndexLookupsOf(const SearchCriterion& criterion);

// Whether a decrypted resource satisfies every criterion (including the patient confinement).
bool Matches(const SearchRequest& request, const boost::json::object& resource);

// The query string that repeats `request` (canonical order), with `page` as _page when
// non-empty: for the self and next links.
std::string CanonicalQuery(const SearchRequest& request, std::string_view page);

// `resource` with only the top-level `elements` (plus resourceType, id, meta), and meta.tag
// SUBSETTED (http://terminology.hl7.org/CodeSystem/v3-ObservationValue) added.
boost::json::object ApplyElements(const boost::json::object& resource,
                                  std::span<const std::string> elements);

}  // namespace medvault::fhir
