// Writing FHIR REST answers: application/fhir+json bodies, the version headers (ETag,
// Last-Modified, Content-Location, Location), OperationOutcomes with their status, the answer
// Bundles (searchset, history, batch-response, transaction-response) with absolute fullUrls
// and links, and a Binary's raw bytes. Internal to src/api (fhir_api.cc).
// Thread-safe: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/fhir_request.h"
#include "core/clock.h"
#include "fhir/bundle.h"
#include "fhir/outcome.h"
#include "fhir/search.h"
#include "http/message.h"
#include "records/clinical_records.h"

namespace medvault::api {

inline constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";

// HTTP-date (RFC 9110 §5.6.7), for Last-Modified.
std::string HttpDate(Timestamp at);
// FHIR instant in UTC with microseconds, for lastModified and Bundle.timestamp.
std::string Instant(Timestamp at);

http::Response FhirJson(http::Status status, const boost::json::object& body, unsigned version);
// The failure's status and its OperationOutcome.
http::Response OutcomeResponse(const fhir::Outcome& outcome, unsigned version);

// A read, vread, create or update answer: the resource (or nothing, or an information
// OperationOutcome, as Prefer asks), ETag W/"v", Last-Modified and Content-Location
// (base/type/id/_history/v); Location as well when `status` is 201.
http::Response ResourceResponse(http::Status status, const records::StoredResource& stored,
                                std::string_view base_url, ReturnPreference preference,
                                unsigned version);

// The answer to a delete: 200 with an information OperationOutcome and the marker's ETag.
http::Response DeletedResponse(const records::StoredResource& marker, unsigned version);

// GET Binary/{id} without a FHIR Accept: the decoded bytes with their contentType;
// Content-Disposition attachment for PDFs and for every type a browser could run (anything
// but plain text and common images). kInternal when the stored Binary has no valid data.
fhir::FhirResult<http::Response> BinaryResponse(const records::StoredResource& stored,
                                                unsigned version);

// searchset: matches (mode match, _elements applied) then includes (mode include); total when
// known; self link from the request, next link when the page has a cursor.
boost::json::object SearchBundle(std::string_view base_url, const fhir::SearchRequest& request,
                                 const records::SearchPage& page, Timestamp now);
// searchset with the total only (_summary=count).
boost::json::object CountBundle(std::string_view base_url, const fhir::SearchRequest& request,
                                std::int64_t total, Timestamp now);
// history: each version with request (POST for version 1, DELETE for a marker, else PUT) and
// response; `self_url` and, when non-empty, `next_url` are absolute.
boost::json::object HistoryBundle(std::string_view base_url, const records::HistoryPage& page,
                                  std::string self_url, std::string next_url, Timestamp now);
// batch-response or transaction-response, entry by entry in the order posted.
boost::json::object ProcessedBundle(std::string_view base_url, fhir::BundleKind kind,
                                    const std::vector<records::EntryResult>& results,
                                    ReturnPreference preference, Timestamp now);

}  // namespace medvault::api
