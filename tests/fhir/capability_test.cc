#include "fhir/capability.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <string>
#include <vector>

#include "fhir/search.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using Names = std::set<std::string>;

json::object Statement() {
  return CapabilityStatement("https://vault.example/fhir", "0.6.0", "2026-12-01");
}

Names KeysOf(const json::object& object) {
  Names keys;
  for (const auto& member : object) keys.insert(std::string(member.key()));
  return keys;
}

// Every key of `object` is an element FHIR R4 defines there.
void ExpectOnlyElements(const json::object& object, const Names& allowed, std::string_view where) {
  for (const std::string& key : KeysOf(object)) {
    EXPECT_TRUE(allowed.contains(key)) << where << "." << key << " is not a FHIR R4 element";
  }
}

Names CodesOf(const json::array& array) {
  Names codes;
  for (const json::value& entry : array) codes.insert(std::string(entry.at("code").as_string()));
  return codes;
}

const json::object& ResourceOf(const json::object& statement, std::string_view type) {
  for (const json::value& resource : statement.at("rest").at(0).at("resource").as_array()) {
    if (resource.at("type").as_string() == type) return resource.as_object();
  }
  static const json::object kNone;
  ADD_FAILURE() << type << " is not in the statement";
  return kNone;
}

TEST(CapabilityStatement, HeaderHasTheRequiredCodes) {
  json::object statement = Statement();
  EXPECT_EQ(statement.at("resourceType").as_string(), "CapabilityStatement");
  EXPECT_EQ(statement.at("status").as_string(), "active");
  EXPECT_EQ(statement.at("kind").as_string(), "instance");
  EXPECT_EQ(statement.at("fhirVersion").as_string(), "4.0.1");
  EXPECT_EQ(statement.at("date").as_string(), "2026-12-01");
  EXPECT_EQ(statement.at("software").at("name").as_string(), "medvault");
  EXPECT_EQ(statement.at("software").at("version").as_string(), "0.6.0");
  EXPECT_EQ(statement.at("implementation").at("url").as_string(), "https://vault.example/fhir");
  bool json_format = false;
  for (const json::value& format : statement.at("format").as_array()) {
    json_format = json_format || format.as_string() == "json";
  }
  EXPECT_TRUE(json_format);
  ExpectOnlyElements(
      statement,
      {"resourceType",   "id",          "meta",         "text",        "url",
       "version",        "name",        "title",        "status",      "experimental",
       "date",           "publisher",   "contact",      "description", "purpose",
       "copyright",      "kind",        "instantiates", "imports",     "software",
       "implementation", "fhirVersion", "format",       "patchFormat", "implementationGuide",
       "rest",           "messaging",   "document"},
      "CapabilityStatement");
  ExpectOnlyElements(statement.at("software").as_object(), {"name", "version", "releaseDate"},
                     "software");
  ExpectOnlyElements(statement.at("implementation").as_object(),
                     {"description", "url", "custodian"}, "implementation");
}

TEST(CapabilityStatement, RestIsAServerWithSmartSecurityAndBundles) {
  json::object statement = Statement();
  const json::array& rest = statement.at("rest").as_array();
  ASSERT_EQ(rest.size(), 1u);
  const json::object& server = rest[0].as_object();
  EXPECT_EQ(server.at("mode").as_string(), "server");
  ExpectOnlyElements(server,
                     {"mode", "documentation", "security", "resource", "interaction", "searchParam",
                      "operation", "compartment"},
                     "rest");
  const json::object& security = server.at("security").as_object();
  ExpectOnlyElements(security, {"cors", "service", "description"}, "rest.security");
  const json::value& coding = security.at("service").at(0).at("coding").at(0);
  EXPECT_EQ(coding.at("system").as_string(),
            "http://terminology.hl7.org/CodeSystem/restful-security-service");
  EXPECT_EQ(coding.at("code").as_string(), "SMART-on-FHIR");
  EXPECT_EQ(CodesOf(server.at("interaction").as_array()), (Names{"batch", "transaction"}));
  Names result_params;
  for (const json::value& param : server.at("searchParam").as_array()) {
    result_params.insert(std::string(param.at("name").as_string()));
  }
  EXPECT_EQ(result_params,
            (Names{"_count", "_sort", "_include", "_summary", "_elements", "_total", "_page"}));
}

TEST(CapabilityStatement, EveryServedTypeWithItsInteractions) {
  json::object statement = Statement();
  Names types;
  for (const json::value& resource : statement.at("rest").at(0).at("resource").as_array()) {
    types.insert(std::string(resource.at("type").as_string()));
  }
  EXPECT_EQ(types,
            (Names{"AllergyIntolerance", "AuditEvent", "Binary", "CareTeam", "Condition",
                   "DiagnosticReport", "DocumentReference", "Encounter", "MedicationRequest",
                   "Observation", "Organization", "Patient", "Practitioner", "PractitionerRole"}));
  const Names full = {"read",         "vread",  "update",     "delete", "history-instance",
                      "history-type", "create", "search-type"};
  for (const std::string& type : types) {
    const json::object& resource = ResourceOf(statement, type);
    Names interactions = CodesOf(resource.at("interaction").as_array());
    if (type == "AuditEvent") {
      EXPECT_EQ(interactions, (Names{"read", "search-type"}));
    } else if (type == "Binary") {
      EXPECT_EQ(interactions, (Names{"read", "create"}));
    } else {
      EXPECT_EQ(interactions, full) << type;
      EXPECT_EQ(resource.at("versioning").as_string(), "versioned-update");
      EXPECT_TRUE(resource.at("readHistory").as_bool());
      EXPECT_TRUE(resource.at("conditionalCreate").as_bool());
    }
    ExpectOnlyElements(
        resource,
        {"type", "profile", "supportedProfile", "documentation", "interaction", "versioning",
         "readHistory", "updateCreate", "conditionalCreate", "conditionalRead", "conditionalUpdate",
         "conditionalDelete", "referencePolicy", "searchInclude", "searchRevInclude", "searchParam",
         "operation"},
        type);
    for (const json::value& code : resource.if_contains("referencePolicy")
                                       ? resource.at("referencePolicy").as_array()
                                       : json::array{}) {
      EXPECT_TRUE((Names{"literal", "logical", "resolves", "enforced", "local"})
                      .contains(std::string(code.as_string())));
    }
  }
}

TEST(CapabilityStatement, SearchParamsComeFromTheSearchTable) {
  json::object statement = Statement();
  const Names kTypeCodes = {"number",    "date",     "string", "token",  "reference",
                            "composite", "quantity", "uri",    "special"};
  std::size_t listed = 0;
  for (const json::value& value : statement.at("rest").at(0).at("resource").as_array()) {
    const json::object& resource = value.as_object();
    std::string type(resource.at("type").as_string());
    Names from_table;
    for (const SearchParam* param : SearchParamsOf(type))
      from_table.insert(std::string(param->name));
    Names in_statement;
    if (const json::value* params = resource.if_contains("searchParam")) {
      for (const json::value& param : params->as_array()) {
        ExpectOnlyElements(param.as_object(), {"name", "definition", "type", "documentation"},
                           type + ".searchParam");
        in_statement.insert(std::string(param.at("name").as_string()));
        EXPECT_TRUE(kTypeCodes.contains(std::string(param.at("type").as_string())));
        EXPECT_FALSE(param.at("documentation").as_string().empty());
        ++listed;
      }
    }
    EXPECT_EQ(in_statement, from_table) << type;
  }
  EXPECT_EQ(listed, SearchParams().size());
  for (const json::value& param : statement.at("rest").at(0).at("searchParam").as_array()) {
    EXPECT_TRUE(kTypeCodes.contains(std::string(param.at("type").as_string())));
  }
}

TEST(CapabilityStatement, TellsWhichParametersWorkAcrossPatients) {
  json::object statement = Statement();
  const json::object& patient = ResourceOf(statement, "Patient");
  for (const json::value& param : patient.at("searchParam").as_array()) {
    std::string name(param.at("name").as_string());
    std::string documentation(param.at("documentation").as_string());
    bool across = documentation.find("across patients") != std::string::npos;
    EXPECT_EQ(across, name != "gender" && name != "_id" && name != "_lastUpdated") << name;
  }
}

TEST(CapabilityStatement, SearchIncludes) {
  json::object statement = Statement();
  auto includes = [&](std::string_view type) {
    Names names;
    if (const json::value* list = ResourceOf(statement, type).if_contains("searchInclude")) {
      for (const json::value& include : list->as_array()) {
        names.insert(std::string(include.as_string()));
      }
    }
    return names;
  };
  EXPECT_EQ(
      includes("DiagnosticReport"),
      (Names{"DiagnosticReport:result", "DiagnosticReport:subject", "DiagnosticReport:patient"}));
  EXPECT_EQ(includes("Observation"), (Names{"Observation:subject", "Observation:patient"}));
  EXPECT_TRUE(includes("Patient").empty());
}

}  // namespace
}  // namespace medvault::fhir
