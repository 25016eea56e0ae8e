// Reading FHIR REST requests into what the records layer takes: media types, the query
// string, ids and versions from the path, If-Match, Prefer, the type-history query. Internal
// to src/api (fhir_api.cc). Every refusal is a fhir::Outcome naming the header or parameter
// at fault, never quoting its value. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/outcome.h"
#include "http/message.h"

namespace medvault::api {

// What a request body must be.
enum class BodyMedia {
  kFhirJson,  // application/fhir+json or application/json (charset utf-8 allowed)
  kForm,      // application/x-www-form-urlencoded (POST _search)
};
// kUnsupportedMedia unless the Content-Type is one of `media`; an empty body with no
// Content-Type passes for kForm.
fhir::FhirStatus CheckContentType(const http::Request& request, BodyMedia media);

// The query string of the request target (without '?'), with `_format` and `_pretty`
// removed; kUnsupportedMedia when _format asks for anything but JSON.
fhir::FhirResult<std::string> QueryOf(const http::Request& request);

// The query's parameters, percent-decoded, each at most once and each one of `allowed`
// (kInvalid naming the parameter otherwise).
fhir::FhirResult<std::map<std::string, std::string, std::less<>>> ParamsOf(
    const http::Request& request, std::initializer_list<std::string_view> allowed);

// Whether the Accept header (or _format) asks for FHIR JSON rather than a Binary's raw bytes.
bool AcceptsFhirJson(const http::Request& request);

// The FHIR id rule: 1 to 64 of [A-Za-z0-9-.].
bool IsValidId(std::string_view id);
// A version id of the path or of If-Match: a positive decimal integer.
std::optional<std::int64_t> ParseVersionId(std::string_view text);

// If-Match: W/"n" (or "n"); nullopt when the header is absent; kInvalid when malformed.
fhir::FhirResult<std::optional<std::int64_t>> IfMatchOf(const http::Request& request);

// Prefer: return=... (RFC 7240, FHIR R4 §3.1.0.5.1); representation when absent or unknown.
enum class ReturnPreference { kRepresentation, kMinimal, kOperationOutcome };
ReturnPreference ReturnPreferenceOf(const http::Request& request);

// The query of GET /fhir/{type}/_history: patient (required for compartment types, refused
// for the others), _count (1..100) and _page; anything else is kInvalid naming it.
struct TypeHistoryQuery {
  std::optional<std::string> patient_id;
  std::size_t count = 20;
  std::string page;
};
fhir::FhirResult<TypeHistoryQuery> ParseTypeHistoryQuery(std::string_view resource_type,
                                                         std::string_view query);

// The bearer token of an Authorization header ("Bearer <token>", scheme case-insensitive),
// or nullopt when there is no Authorization header. An Authorization header of another scheme
// gives an empty token (refused by the caller).
std::optional<std::string> BearerTokenOf(const http::Request& request);

}  // namespace medvault::api
