// libFuzzer target for FHIR search requests (src/fhir/search.h): the input is read as the
// query of a search on every type that has search parameters. A broken invariant aborts:
// a refusal is kInvalid with at least one issue, each issue's expression empty or a parameter
// name of at most 64 characters; an accepted request has 1..100 results per page and every
// criterion at least one value; its CanonicalQuery parses again, to a request with the same
// canonical query, the same patient confinement and the same Matches answers on a few
// resources; blind-index lookups name an indexed field; ApplyElements keeps resourceType.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/search.h"

namespace {

namespace json = boost::json;
using namespace medvault::fhir;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr std::string_view kTypes[] = {"AllergyIntolerance",
                                       "AuditEvent",
                                       "CareTeam",
                                       "Condition",
                                       "DiagnosticReport",
                                       "DocumentReference",
                                       "Encounter",
                                       "MedicationRequest",
                                       "Observation",
                                       "Organization",
                                       "Patient",
                                       "Practitioner",
                                       "PractitionerRole",
                                       "Binary"};

const std::vector<json::object>& Resources() {
  static const std::vector<json::object> resources = [] {
    std::vector<json::object> out;
    for (std::string_view text : {
             R"({"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2025-06-01T08:30:00Z"},
                 "identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"184127645108946"}],
                 "name":[{"family":"Lefèvre","given":["Hélène"]},{"family":"Ly"}],
                 "telecom":[{"system":"phone","value":"0612345678"},{"system":"email","value":"h@example.fr"}],
                 "gender":"female","birthDate":"1984-12-07"})",
             R"({"resourceType":"Observation","id":"o1","status":"final",
                 "code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},
                 "category":[{"coding":[{"code":"laboratory"}]}],
                 "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-05T09:15:00+01:00"})",
             R"({"resourceType":"DiagnosticReport","id":"r1","status":"final",
                 "code":{"coding":[{"system":"http://loinc.org","code":"24323-8"}]},
                 "subject":{"reference":"Patient/p1"},"issued":"2024-03-05T12:00:00Z",
                 "identifier":[{"value":"ACC-1"}],"result":[{"reference":"Observation/o1"}]})",
             R"({"resourceType":"Encounter","id":"e1","status":"finished",
                 "class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},
                 "period":{"start":"2024-03-04","end":"2024-03-07"}})",
             R"({"resourceType":"Organization","id":"lab","name":"Laboratoire","alias":["LBS"]})",
         }) {
      out.push_back(json::parse(text).as_object());
    }
    return out;
  }();
  return resources;
}

void CheckRefusal(const Outcome& outcome) {
  Require(outcome.failure == Failure::kInvalid, "a refused search is kInvalid");
  Require(!outcome.issues.empty(), "a refusal has an issue");
  for (const Issue& issue : outcome.issues) {
    Require(issue.expression.size() <= 64, "an expression is a parameter name");
    Require(!issue.diagnostics.empty(), "an issue says what is wrong");
  }
}

void CheckAccepted(const SearchRequest& request) {
  Require(request.count >= 1 && request.count <= kMaxCount, "count within 1..100");
  for (const SearchCriterion& criterion : request.criteria) {
    Require(criterion.param != nullptr, "a criterion has its parameter");
    Require(!criterion.any_of.empty(), "a criterion has a value");
    if (auto lookups = BlindIndexLookupsOf(criterion)) {
      Require(!lookups->empty(), "lookups are not empty");
      for (const BlindIndexLookup& lookup : *lookups) {
        Require(lookup.field.starts_with("patient.") || lookup.field == "report.accession" ||
                    lookup.field == "report.status",
                "a lookup names an indexed field");
        Require(!lookup.value.empty(), "a lookup has a value");
      }
    }
  }
  const std::string canonical = CanonicalQuery(request, "");
  auto again = ParseSearch(request.resource_type, canonical);
  Require(again.has_value(), "the canonical query parses");
  Require(CanonicalQuery(*again, "") == canonical, "the canonical query is stable");
  Require(again->patient_id == request.patient_id, "the confinement survives");
  Require(again->criteria.size() == request.criteria.size(), "the criteria survive");
  for (const json::object& resource : Resources()) {
    Require(Matches(request, resource) == Matches(*again, resource), "the same matches");
    json::object subset = ApplyElements(resource, request.elements);
    Require(subset.contains("resourceType"), "ApplyElements keeps resourceType");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  for (std::string_view type : kTypes) {
    auto parsed = ParseSearch(type, query);
    if (parsed) {
      Require(parsed->resource_type == type, "the type is kept");
      CheckAccepted(*parsed);
    } else {
      CheckRefusal(parsed.error());
    }
  }
  return 0;
}
