#include "fhir/capability.h"

#include <array>
#include <boost/json/array.hpp>
#include <string>
#include <vector>

#include "fhir/resource.h"
#include "fhir/search.h"
#include "fhir/search_params.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;

constexpr std::string_view kSecurityServiceSystem =
    "http://terminology.hl7.org/CodeSystem/restful-security-service";

std::string_view TypeCode(ParamType type) {
  switch (type) {
    case ParamType::kToken:
      return "token";
    case ParamType::kString:
      return "string";
    case ParamType::kDate:
      return "date";
    case ParamType::kReference:
      return "reference";
    case ParamType::kQuantity:
      return "quantity";
    case ParamType::kUri:
      return "uri";
  }
  return "special";
}

// The interactions (TypeRestfulInteraction codes) the API serves on a type.
std::vector<std::string_view> InteractionsOf(std::string_view type) {
  if (type == "AuditEvent") return {"read", "search-type"};
  if (type == "Binary") return {"read", "create"};
  return {"read",         "vread",  "update",     "delete", "history-instance",
          "history-type", "create", "search-type"};
}

json::array Codes(const std::vector<std::string_view>& codes) {
  json::array out;
  for (std::string_view code : codes) out.push_back(json::object{{"code", code}});
  return out;
}

// The result parameters (fhir/search.h), which apply to every search.
json::array ResultParams() {
  struct Row {
    std::string_view name, type, documentation;
  };
  static constexpr std::array<Row, 7> kRows = {{
      {"_count", "number", "Results per page, 1 to 100 (default 20)."},
      {"_sort", "special", "date or -date, on types with a clinical date."},
      {"_include", "special",
       "DiagnosticReport:result, DiagnosticReport:subject, DiagnosticReport:patient, "
       "Observation:subject, Observation:patient."},
      {"_summary", "token", "count only: the number of matches."},
      {"_elements", "special", "Top-level elements to return; the result is tagged SUBSETTED."},
      {"_total", "token", "none or accurate."},
      {"_page", "special", "The opaque cursor of a next link."},
  }};
  json::array out;
  for (const Row& row : kRows) {
    out.push_back(
        json::object{{"name", row.name}, {"type", row.type}, {"documentation", row.documentation}});
  }
  return out;
}

json::object ResourceEntry(std::string_view type) {
  json::object entry{{"type", type}, {"interaction", Codes(InteractionsOf(type))}};
  const bool writable = type != "AuditEvent" && type != "Binary";
  if (writable) {
    entry["versioning"] = "versioned-update";
    entry["readHistory"] = true;
    entry["updateCreate"] = true;
    entry["conditionalCreate"] = true;
    entry["conditionalRead"] = "not-supported";
    entry["conditionalUpdate"] = false;
    entry["conditionalDelete"] = "not-supported";
    entry["referencePolicy"] = json::array{"literal", "enforced", "local"};
  }
  json::array includes;
  for (std::string_view include : search_internal::IncludesOf(type))
    includes.push_back(json::string(include));
  if (!includes.empty()) entry["searchInclude"] = std::move(includes);
  json::array params;
  for (const SearchParam* param : SearchParamsOf(type)) {
    std::string documentation(param->documentation);
    if (!param->blind_index_field.empty()) {
      documentation += " Usable across patients (blind-indexed).";
    } else if (search_internal::IsCompartmentType(type)) {
      documentation += " Within one patient.";
    }
    params.push_back(json::object{
        {"name", param->name}, {"type", TypeCode(param->type)}, {"documentation", documentation}});
  }
  if (!params.empty()) entry["searchParam"] = std::move(params);
  return entry;
}

}  // namespace

json::object CapabilityStatement(std::string_view base_url, std::string_view version,
                                 std::string_view release_date) {
  json::array resources;
  for (std::string_view type : ServedResourceTypes()) resources.push_back(ResourceEntry(type));
  json::object security{
      {"service", json::array{json::object{
                      {"coding", json::array{json::object{{"system", kSecurityServiceSystem},
                                                          {"code", "SMART-on-FHIR"},
                                                          {"display", "SMART-on-FHIR"}}}},
                      {"text", "OAuth2 with SMART on FHIR scopes"}}}},
      {"description",
       "Every request is authenticated (SMART on FHIR access token or portal session), "
       "authorized per patient and recorded in a tamper-evident audit log."}};
  json::object rest{
      {"mode", "server"},
      {"documentation",
       "Records are stored encrypted: across patients only blind-indexed parameters can be "
       "searched; every other parameter needs patient= (or subject=Patient/...)."},
      {"security", std::move(security)},
      {"resource", std::move(resources)},
      {"interaction", Codes({"batch", "transaction"})},
      {"searchParam", ResultParams()}};
  return json::object{
      {"resourceType", "CapabilityStatement"},
      {"name", "MedvaultCapabilityStatement"},
      {"title", "medvault FHIR R4 API"},
      {"status", "active"},
      {"date", release_date},
      {"publisher", "medvault"},
      {"description", "The FHIR R4 API of this medvault server."},
      {"kind", "instance"},
      {"software",
       json::object{{"name", "medvault"}, {"version", version}, {"releaseDate", release_date}}},
      {"implementation", json::object{{"description", "medvault"}, {"url", base_url}}},
      {"fhirVersion", "4.0.1"},
      {"format", json::array{"json", "application/fhir+json"}},
      {"rest", json::array{std::move(rest)}},
  };
}

}  // namespace medvault::fhir
