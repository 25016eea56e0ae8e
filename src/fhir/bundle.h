// Bundles: reading the batch and transaction Bundles clients post, and writing the Bundles
// medvault answers with (searchset, history, batch-response, transaction-response).
//
// Thread-safe: pure functions.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/outcome.h"

namespace medvault::fhir {

inline constexpr std::size_t kMaxBundleEntries = 1000;

enum class BundleKind { kBatch, kTransaction };
enum class EntryMethod { kGet, kPost, kPut, kDelete };

// One entry of a posted batch or transaction.
struct IncomingEntry {
  std::string full_url;                     // may be empty; "urn:uuid:..." for new resources
  std::optional<boost::json::object> resource;  // POST and PUT
  EntryMethod method = EntryMethod::kGet;
  std::string url;            // request.url, relative: "Observation", "Patient/1", "Observation?code=..."
  std::string if_match;       // request.ifMatch, e.g. W/"3"
  std::string if_none_exist;  // request.ifNoneExist, a query string
};

struct IncomingBundle {
  BundleKind kind = BundleKind::kBatch;
  std::vector<IncomingEntry> entries;
};

// Reads a posted Bundle of type batch or transaction: structure, request.method and url
// present and well formed, at most kMaxBundleEntries, fullUrls unique. The resources
// themselves are validated later by the records layer (each with Validate, urn:uuid allowed
// in a transaction). kInvalid naming "Bundle.entry[3].request.url" and so on.
FhirResult<IncomingBundle> ParseBundle(const boost::json::object& bundle);
// The same, the resources moved out of `bundle` rather than copied.
FhirResult<IncomingBundle> ParseBundle(boost::json::object&& bundle);

// One entry of an answer Bundle.
struct OutgoingEntry {
  std::string full_url;  // absolute: base + "/Observation/1"
  std::optional<boost::json::object> resource;
  enum class Mode { kNone, kMatch, kInclude, kOutcome } search_mode = Mode::kNone;
  // For history, batch-response and transaction-response entries.
  std::string request_method;  // history: "POST", "PUT", "DELETE"
  std::string request_url;
  std::string response_status;  // "201 Created"
  std::string response_location;  // "Observation/1/_history/1"
  std::string response_etag;      // W/"1"
  std::string response_last_modified;  // instant
  std::optional<boost::json::object> response_outcome;
};

struct Link {
  std::string relation;  // "self", "next", "previous", "first"
  std::string url;
};

// {"resourceType":"Bundle","type":<type>,...}: type is "searchset", "history",
// "batch-response" or "transaction-response"; total only when known (searchset).
boost::json::object AnswerBundle(std::string_view type, std::optional<std::int64_t> total,
                                 const std::vector<Link>& links,
                                 std::vector<OutgoingEntry> entries, std::string_view timestamp);

}  // namespace medvault::fhir
