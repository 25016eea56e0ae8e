// libFuzzer target for the FHIR JSON reader and validator (src/fhir): any bytes as a request
// body, through ParseJson, ParseResource + Validate (both option sets) + References +
// RewriteReferences + PatientReferenceOf + ClinicalDateOf, and ParseBundle for a Bundle (each
// entry's resource validated as in a transaction). A broken invariant aborts, so libFuzzer
// and the ctest replay both report it:
// - an accepted document serializes to JSON that parses back to the same value;
// - every issue has diagnostics, and its expression is empty or rooted at the resource type
//   ("resourceType" for the root's type itself);
// - References lists references in the order RewriteReferences visits them, and a rewrite
//   that changes nothing leaves the resource equal;
// - a parsed Bundle has at most kMaxBundleEntries entries, a resource exactly for POST and PUT.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fhir/bundle.h"
#include "fhir/resource.h"

namespace {

namespace fhir = medvault::fhir;
namespace json = boost::json;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fhir_json_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

void CheckIssues(const std::vector<fhir::Issue>& issues, std::string_view root) {
  for (const fhir::Issue& issue : issues) {
    Check(!issue.diagnostics.empty(), "an issue without diagnostics");
    const bool rooted = issue.expression.empty() || issue.expression == "resourceType" ||
                        issue.expression == root ||
                        issue.expression.starts_with(std::string(root) + ".") ||
                        issue.expression.starts_with(std::string(root) + "[");
    if (!rooted) {
      std::fprintf(stderr, "fhir_json_fuzzer: expression %s\n", issue.expression.c_str());
    }
    Check(rooted, "an issue expression not rooted at the resource type");
  }
}

void CheckResource(const json::object& resource, bool in_transaction) {
  const std::string root(resource.at("resourceType").as_string());
  CheckIssues(fhir::Validate(resource, {.allow_urn_uuid_references = in_transaction}), root);
  CheckIssues(fhir::Validate(resource, {.require_id = true}), root);

  const auto references = fhir::References(resource);
  json::object copy = resource;
  std::size_t visited = 0;
  fhir::RewriteReferences(copy, [&](std::string_view reference) -> std::optional<std::string> {
    Check(visited < references.size() && references[visited].reference == reference,
          "RewriteReferences visits references References did not list");
    ++visited;
    return std::nullopt;
  });
  Check(visited == references.size(), "RewriteReferences skipped references");
  Check(copy == resource, "a rewrite that changes nothing changed the resource");

  if (auto patient = fhir::PatientReferenceOf(resource); !patient) {
    CheckIssues(patient.error().issues, root);
  }
  (void)fhir::ClinicalDateOf(resource);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  auto value = fhir::ParseJson(body);
  if (value) {
    auto again = fhir::ParseJson(json::serialize(*value));
    Check(again.has_value() && *again == *value, "serialized JSON does not parse back the same");
  }

  if (auto resource = fhir::ParseResource(body)) {
    Check(fhir::IsServedType(resource->at("resourceType").as_string()),
          "ParseResource accepted an unserved type");
    CheckResource(*resource, false);
  } else {
    // A duplicate key is named by its path in the document, whatever the document is.
    for (const fhir::Issue& issue : resource.error().issues) {
      Check(!issue.diagnostics.empty(), "a refusal without diagnostics");
    }
  }

  if (value && value->is_object()) {
    if (auto bundle = fhir::ParseBundle(value->get_object())) {
      Check(bundle->entries.size() <= fhir::kMaxBundleEntries, "too many entries accepted");
      for (const fhir::IncomingEntry& entry : bundle->entries) {
        const bool writes =
            entry.method == fhir::EntryMethod::kPost || entry.method == fhir::EntryMethod::kPut;
        Check(entry.resource.has_value() == writes, "a resource on the wrong method");
        Check(!entry.url.empty(), "an entry without a url");
        if (entry.resource)
          CheckResource(*entry.resource, bundle->kind == fhir::BundleKind::kTransaction);
      }
    } else {
      for (const fhir::Issue& issue : bundle.error().issues) {
        Check(!issue.diagnostics.empty(), "a bundle issue without diagnostics");
      }
    }
  }
  return 0;
}
