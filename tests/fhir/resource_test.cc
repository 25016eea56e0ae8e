#include "fhir/resource.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>

#include "fhir/code_syntax.h"
#include "fhir/primitives.h"
#include "fhir_test_util.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using testing::Check;
using testing::Describe;
using testing::Example;
using testing::HasIssue;
using testing::With;

// ---- Served types ----------------------------------------------------------------------

TEST(FhirServedTypes, AreTheFourteenOfTheApiInAlphabeticalOrder) {
  const auto types = ServedResourceTypes();
  ASSERT_EQ(types.size(), 14u);
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(IsServedType("Observation"));
  EXPECT_TRUE(IsServedType("AuditEvent"));
  EXPECT_FALSE(IsServedType("Bundle"));
  EXPECT_FALSE(IsServedType("observation"));
  EXPECT_FALSE(IsServedType("Specimen"));
}

TEST(FhirServedTypes, AuditEventIsTheOnlyTypeClientsCannotWrite) {
  for (std::string_view type : ServedResourceTypes()) {
    EXPECT_EQ(IsWritableType(type), type != "AuditEvent") << type;
  }
  EXPECT_FALSE(IsWritableType("Bundle"));
}

TEST(FhirServedTypes, DirectoryTypesAreOutsideThePatientCompartment) {
  EXPECT_TRUE(IsPatientCompartmentType("Patient"));
  EXPECT_TRUE(IsPatientCompartmentType("Observation"));
  EXPECT_TRUE(IsPatientCompartmentType("Binary"));
  EXPECT_TRUE(IsPatientCompartmentType("AuditEvent"));
  EXPECT_FALSE(IsPatientCompartmentType("Organization"));
  EXPECT_FALSE(IsPatientCompartmentType("Practitioner"));
  EXPECT_FALSE(IsPatientCompartmentType("PractitionerRole"));
  EXPECT_FALSE(IsPatientCompartmentType("Specimen"));
}

// ---- The JSON reader -------------------------------------------------------------------

TEST(FhirParseJson, ReadsAnObjectWithItsNumbersAndStrings) {
  auto value = ParseJson(R"({"a": [1, 2.5, "x", true, null], "b": {"c": -3}})");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(json::serialize(*value), R"({"a":[1,2.5E0,"x",true,null],"b":{"c":-3}})");
}

TEST(FhirParseJson, DecimalsAreReadExactly) {
  // Correctly rounded: serializing and reading again gives the same number, digit for digit.
  for (std::string_view number : {"0.92", "6.9", "8.4", "0.1", "123.456", "0.30000000000000004",
                                  "1.7976931348623157e308", "6666666666666666666666666666666"}) {
    auto value = ParseJson(number);
    ASSERT_TRUE(value.has_value()) << number;
    EXPECT_EQ(value->as_double(), std::stod(std::string(number))) << number;
    auto again = ParseJson(json::serialize(*value));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *value) << number;
  }
}

TEST(FhirParseJson, RefusesNumbersBeyondTheRangeOfADouble) {
  for (std::string_view body : {"1e400", R"({"value": -1e400})", "1e-400"}) {
    auto value = ParseJson(body);
    ASSERT_FALSE(value.has_value()) << body;
    EXPECT_EQ(value.error().failure, Failure::kInvalid);
    EXPECT_NE(value.error().issues.at(0).diagnostics.find("range"), std::string::npos);
  }
}

TEST(FhirParseJson, MalformedJsonSaysWhere) {
  auto value = ParseJson("{\n  \"a\": 1,\n  \"b\": }");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().failure, Failure::kInvalid);
  ASSERT_EQ(value.error().issues.size(), 1u);
  EXPECT_NE(value.error().issues[0].diagnostics.find("line 3"), std::string::npos)
      << value.error().issues[0].diagnostics;
}

TEST(FhirParseJson, RefusesDuplicateKeysNamingThem) {
  auto value =
      ParseJson(R"({"resourceType":"Patient","name":[{"family":"A","given":["B"],"family":"C"}]})");
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().failure, Failure::kInvalid);
  EXPECT_EQ(value.error().issues.at(0).expression, "Patient.name[0].family");
  EXPECT_EQ(value.error().issues.at(0).diagnostics.find("\"A\""), std::string::npos);

  auto top = ParseJson(R"({"resourceType":"Patient","gender":"male","gender":"female"})");
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().issues.at(0).expression, "Patient.gender");
}

TEST(FhirParseJson, RefusesDepthOverTheLimit) {
  std::string deep;
  for (std::size_t i = 0; i < kMaxJsonDepth + 1; ++i) deep += "[";
  for (std::size_t i = 0; i < kMaxJsonDepth + 1; ++i) deep += "]";
  auto value = ParseJson(deep);
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().failure, Failure::kInvalid);
  EXPECT_NE(value.error().issues.at(0).diagnostics.find("deeper than 32"), std::string::npos);
  EXPECT_EQ(value.error().issues.at(0).expression, "");  // no element to name: the document

  std::string ok;
  for (std::size_t i = 0; i < kMaxJsonDepth; ++i) ok += "[";
  for (std::size_t i = 0; i < kMaxJsonDepth; ++i) ok += "]";
  EXPECT_TRUE(ParseJson(ok).has_value());
}

TEST(FhirParseJson, RefusesABodyOverTheSizeLimitAsTooLarge) {
  std::string big = "\"" + std::string(kMaxResourceBytes, 'a') + "\"";
  auto value = ParseJson(big);
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().failure, Failure::kTooLarge);
}

TEST(FhirParseJson, RefusesTrailingDataCommentsAndBadUtf8) {
  EXPECT_FALSE(ParseJson(R"({"a":1} {"b":2})").has_value());
  EXPECT_FALSE(ParseJson("{\"a\":1 /* no */}").has_value());
  EXPECT_FALSE(ParseJson("{\"a\":\"\xff\xfe\"}").has_value());
  EXPECT_FALSE(ParseJson("").has_value());
  EXPECT_FALSE(ParseJson(R"({"a":[1,2,]})").has_value());
  EXPECT_TRUE(ParseJson("  {\"a\":1}\n").has_value());
}

TEST(FhirParseResource, RefusesWhatIsNotAnObject) {
  for (std::string_view body : {"[]", "\"Patient\"", "42", "null"}) {
    auto resource = ParseResource(body);
    ASSERT_FALSE(resource.has_value()) << body;
    EXPECT_EQ(resource.error().failure, Failure::kInvalid);
    EXPECT_NE(resource.error().issues.at(0).diagnostics.find("JSON object"), std::string::npos);
  }
}

TEST(FhirParseResource, RefusesAMissingOrUnknownResourceType) {
  auto missing = ParseResource(R"({"id":"1"})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().issues.at(0).expression, "resourceType");

  auto unknown = ParseResource(R"({"resourceType":"Specimen","id":"1"})");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().failure, Failure::kInvalid);
  EXPECT_EQ(unknown.error().issues.at(0).expression, "resourceType");
  EXPECT_EQ(unknown.error().issues.at(0).code, IssueType::kNotSupported);

  auto bundle = ParseResource(R"({"resourceType":"Bundle","type":"batch"})");
  EXPECT_FALSE(bundle.has_value());

  auto number = ParseResource(R"({"resourceType":7})");
  ASSERT_FALSE(number.has_value());
  EXPECT_EQ(number.error().issues.at(0).expression, "resourceType");
}

// ---- Valid examples --------------------------------------------------------------------

TEST(FhirValidate, EveryExampleResourceIsValid) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::ExamplesDir())) {
    if (entry.path().extension() != ".json") continue;
    const std::string text = testing::ReadFile(entry.path());
    auto resource = ParseResource(text);
    ASSERT_TRUE(resource.has_value()) << entry.path();
    const auto issues = Check(*resource);
    EXPECT_TRUE(issues.empty()) << entry.path() << "\n" << Describe(issues);
    ++count;
  }
  EXPECT_GE(count, 2u);
}

// ---- Errors, each with its exact expression ---------------------------------------------

TEST(FhirValidate, UnknownElementIsNamed) {
  auto patient = With(Example("patient"), [](json::object& r) { r["favouriteColour"] = "blue"; });
  auto issues = Check(patient);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Patient.favouriteColour");
  EXPECT_EQ(issues[0].code, IssueType::kStructure);

  auto nested = With(Example("observation"), [](json::object& r) {
    r["code"].as_object()["coding"].as_array()[0].as_object()["colour"] = "x";
  });
  EXPECT_TRUE(HasIssue(Check(nested), "Observation.code.coding[0].colour", IssueType::kStructure));

  auto backbone = With(Example("observation"), [](json::object& r) {
    r["referenceRange"].as_array()[0].as_object()["extra"] = 1;
  });
  EXPECT_TRUE(HasIssue(Check(backbone), "Observation.referenceRange[0].extra"));
}

TEST(FhirValidate, WrongDatatypeIsNamed) {
  auto number_date = With(Example("patient"), [](json::object& r) { r["birthDate"] = 1985; });
  EXPECT_TRUE(HasIssue(Check(number_date), "Patient.birthDate", IssueType::kValue));

  auto string_bool = With(Example("patient"), [](json::object& r) { r["active"] = "true"; });
  EXPECT_TRUE(HasIssue(Check(string_bool), "Patient.active", IssueType::kValue));

  auto object_as_string =
      With(Example("observation"), [](json::object& r) { r["code"] = "glucose"; });
  EXPECT_TRUE(HasIssue(Check(object_as_string), "Observation.code", IssueType::kStructure));

  auto not_array =
      With(Example("patient"), [](json::object& r) { r["name"] = r["name"].as_array()[0]; });
  EXPECT_TRUE(HasIssue(Check(not_array), "Patient.name", IssueType::kStructure));

  auto decimal_integer = With(Example("patient"), [](json::object& r) {
    r["telecom"].as_array()[0].as_object()["rank"] = 1.5;
  });
  EXPECT_TRUE(HasIssue(Check(decimal_integer), "Patient.telecom[0].rank", IssueType::kValue));

  auto zero_positive = With(Example("patient"), [](json::object& r) {
    r["telecom"].as_array()[0].as_object()["rank"] = 0;
  });
  EXPECT_TRUE(HasIssue(Check(zero_positive), "Patient.telecom[0].rank", IssueType::kValue));

  auto string_decimal = With(Example("observation"), [](json::object& r) {
    r["valueQuantity"].as_object()["value"] = "0.92";
  });
  EXPECT_TRUE(HasIssue(Check(string_decimal), "Observation.valueQuantity.value"));
}

TEST(FhirValidate, MissingRequiredElementIsNamed) {
  auto no_status = With(Example("observation"), [](json::object& r) { r.erase("status"); });
  auto issues = Check(no_status);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Observation.status");
  EXPECT_EQ(issues[0].code, IssueType::kRequired);

  auto no_code = With(Example("observation"), [](json::object& r) { r.erase("code"); });
  EXPECT_TRUE(HasIssue(Check(no_code), "Observation.code", IssueType::kRequired));

  auto component = With(Example("observation_blood_pressure"), [](json::object& r) {
    r["component"].as_array()[1].as_object().erase("code");
  });
  EXPECT_TRUE(HasIssue(Check(component), "Observation.component[1].code", IssueType::kRequired));

  auto link = With(Example("patient"), [](json::object& r) {
    r["link"] = json::array{json::object{{"type", "seealso"}}};
  });
  EXPECT_TRUE(HasIssue(Check(link), "Patient.link[0].other", IssueType::kRequired));
}

TEST(FhirValidate, TooManyValuesIsNamed) {
  auto two_genders = With(Example("patient"), [](json::object& r) {
    r["gender"] = json::array{"female", "male"};
  });
  auto issues = Check(two_genders);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Patient.gender");
  EXPECT_EQ(issues[0].code, IssueType::kStructure);
  EXPECT_NE(issues[0].diagnostics.find("too many"), std::string::npos);

  auto two_values =
      With(Example("observation"), [](json::object& r) { r["valueString"] = "normal"; });
  EXPECT_TRUE(HasIssue(Check(two_values), "Observation.value[x]", IssueType::kStructure));
}

TEST(FhirValidate, EmptyAndNullValuesAreRefused) {
  auto empty_string = With(Example("patient"), [](json::object& r) { r["birthDate"] = ""; });
  EXPECT_TRUE(HasIssue(Check(empty_string), "Patient.birthDate"));
  auto null_value = With(Example("patient"), [](json::object& r) { r["gender"] = nullptr; });
  EXPECT_TRUE(HasIssue(Check(null_value), "Patient.gender"));
  auto empty_array = With(Example("patient"), [](json::object& r) { r["name"] = json::array(); });
  EXPECT_TRUE(HasIssue(Check(empty_array), "Patient.name"));
  auto empty_object =
      With(Example("patient"), [](json::object& r) { r["maritalStatus"] = json::object(); });
  EXPECT_TRUE(HasIssue(Check(empty_object), "Patient.maritalStatus"));
}

TEST(FhirValidate, BadCodeOfARequiredBindingIsNamed) {
  auto gender = With(Example("patient"), [](json::object& r) { r["gender"] = "F"; });
  auto issues = Check(gender);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Patient.gender");
  EXPECT_EQ(issues[0].code, IssueType::kCodeInvalid);
  EXPECT_NE(issues[0].diagnostics.find("administrative-gender"), std::string::npos);

  auto status = With(Example("observation"), [](json::object& r) { r["status"] = "done"; });
  EXPECT_TRUE(HasIssue(Check(status), "Observation.status", IssueType::kCodeInvalid));

  auto use = With(Example("patient"), [](json::object& r) {
    r["identifier"].as_array()[1].as_object()["use"] = "primary";
  });
  EXPECT_TRUE(HasIssue(Check(use), "Patient.identifier[1].use", IssueType::kCodeInvalid));

  auto name_use = With(Example("patient"), [](json::object& r) {
    r["name"].as_array()[1].as_object()["use"] = "birth";
  });
  EXPECT_TRUE(HasIssue(Check(name_use), "Patient.name[1].use", IssueType::kCodeInvalid));

  auto telecom = With(Example("patient"), [](json::object& r) {
    r["telecom"].as_array()[0].as_object()["system"] = "mobile";
  });
  EXPECT_TRUE(HasIssue(Check(telecom), "Patient.telecom[0].system", IssueType::kCodeInvalid));

  auto address = With(Example("patient"), [](json::object& r) {
    r["address"].as_array()[0].as_object()["use"] = "holiday";
  });
  EXPECT_TRUE(HasIssue(Check(address), "Patient.address[0].use", IssueType::kCodeInvalid));

  auto comparator = With(Example("observation"), [](json::object& r) {
    r["valueQuantity"].as_object()["comparator"] = "=";
  });
  EXPECT_TRUE(
      HasIssue(Check(comparator), "Observation.valueQuantity.comparator", IssueType::kCodeInvalid));

  auto narrative =
      With(Example("patient"), [](json::object& r) { r["text"].as_object()["status"] = "auto"; });
  EXPECT_TRUE(HasIssue(Check(narrative), "Patient.text.status", IssueType::kCodeInvalid));
}

TEST(FhirValidate, BadDateIsNamed) {
  for (std::string_view bad :
       {"1985-02-30", "85-03-12", "1985-13-01", "1985/03/12", "1985-03-12T10:00:00Z"}) {
    auto patient = With(Example("patient"), [&](json::object& r) { r["birthDate"] = bad; });
    auto issues = Check(patient);
    ASSERT_EQ(issues.size(), 1u) << bad << Describe(issues);
    EXPECT_EQ(issues[0].expression, "Patient.birthDate");
    EXPECT_EQ(issues[0].code, IssueType::kValue);
  }
  for (std::string_view bad : {"2024-03-05T08:30", "2024-03-05T08:30:00", "2024-03-05 08:30:00Z",
                               "2024-03-05T25:00:00Z", "2024-03-05T08:30:00+15:00"}) {
    auto observation =
        With(Example("observation"), [&](json::object& r) { r["effectiveDateTime"] = bad; });
    EXPECT_TRUE(HasIssue(Check(observation), "Observation.effectiveDateTime", IssueType::kValue))
        << bad;
  }
  auto issued = With(Example("observation"), [](json::object& r) { r["issued"] = "2024-03-05"; });
  EXPECT_TRUE(HasIssue(Check(issued), "Observation.issued", IssueType::kValue));
}

TEST(FhirValidate, BadReferenceIsNamed) {
  const auto subject = [](std::string_view reference) {
    return With(Example("observation"),
                [&](json::object& r) { r["subject"].as_object()["reference"] = reference; });
  };
  for (std::string_view bad :
       {"Patient/", "Patient", "/Patient/1", "Patient/a b", "http://other.example/fhir/Patient/1",
        "#p1", "Specimen/1", "Practitioner/prat-martin"}) {
    auto issues = Check(subject(bad));
    ASSERT_EQ(issues.size(), 1u) << bad << Describe(issues);
    EXPECT_EQ(issues[0].expression, "Observation.subject.reference") << bad;
    EXPECT_EQ(issues[0].code, IssueType::kValue);
  }
  EXPECT_TRUE(Check(subject("Patient/pat-dupont/_history/3")).empty());

  auto specimen = With(Example("observation"), [](json::object& r) {
    r["specimen"] = json::object{{"reference", "Specimen/s1"}};
  });
  EXPECT_TRUE(HasIssue(Check(specimen), "Observation.specimen.reference"));

  auto mismatched_type = With(Example("observation"),
                              [](json::object& r) { r["subject"].as_object()["type"] = "Group"; });
  EXPECT_TRUE(HasIssue(Check(mismatched_type), "Observation.subject.type"));
}

TEST(FhirValidate, UrnUuidReferencesOnlyInsideATransaction) {
  auto observation = With(Example("observation"), [](json::object& r) {
    r["subject"].as_object()["reference"] = "urn:uuid:8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b";
  });
  auto outside = Check(observation);
  ASSERT_EQ(outside.size(), 1u) << Describe(outside);
  EXPECT_EQ(outside[0].expression, "Observation.subject.reference");
  EXPECT_NE(outside[0].diagnostics.find("transaction"), std::string::npos);

  EXPECT_TRUE(Check(observation, ValidateOptions{.allow_urn_uuid_references = true}).empty());

  auto malformed = With(observation, [](json::object& r) {
    r["subject"].as_object()["reference"] = "urn:uuid:8F1E2C3A";
  });
  EXPECT_TRUE(HasIssue(Check(malformed, ValidateOptions{.allow_urn_uuid_references = true}),
                       "Observation.subject.reference"));
}

TEST(FhirValidate, BadNirKeyIsNamedWithoutQuotingTheNumber) {
  auto patient = With(Example("patient"), [](json::object& r) {
    r["identifier"].as_array()[0].as_object()["value"] = "285037511203465";
  });
  auto issues = Check(patient);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Patient.identifier[0].value");
  EXPECT_EQ(issues[0].code, IssueType::kValue);
  EXPECT_EQ(issues[0].diagnostics.find("28503751120346"), std::string::npos);

  auto nia = With(Example("patient"), [](json::object& r) {
    r["identifier"].as_array()[0].as_object()["system"] = std::string(kSystemInsNia);
    r["identifier"].as_array()[0].as_object()["value"] = "2850375112034";
  });
  EXPECT_TRUE(HasIssue(Check(nia), "Patient.identifier[0].value", IssueType::kValue));

  auto spaced = With(Example("patient"), [](json::object& r) {
    r["identifier"].as_array()[0].as_object()["value"] = "2 85 03 75 112 034 64";
  });
  EXPECT_TRUE(Check(spaced).empty());
}

TEST(FhirValidate, BadLoincCheckDigitIsNamed) {
  auto observation = With(Example("observation"), [](json::object& r) {
    r["code"].as_object()["coding"].as_array()[0].as_object()["code"] = "2345-6";
  });
  auto issues = Check(observation);
  ASSERT_EQ(issues.size(), 1u) << Describe(issues);
  EXPECT_EQ(issues[0].expression, "Observation.code.coding[0].code");
  EXPECT_EQ(issues[0].code, IssueType::kCodeInvalid);
  EXPECT_NE(issues[0].diagnostics.find("LOINC"), std::string::npos);

  auto component = With(Example("observation_blood_pressure"), [](json::object& r) {
    r["component"]
        .as_array()[1]
        .as_object()["code"]
        .as_object()["coding"]
        .as_array()[0]
        .as_object()["code"] = "8462";
  });
  EXPECT_TRUE(HasIssue(Check(component), "Observation.component[1].code.coding[0].code",
                       IssueType::kCodeInvalid));
}

TEST(FhirValidate, BadUcumUnitIsNamed) {
  for (std::string_view bad : {"g / L", "g//L", "grams", "g/L)", "{}", "10*", "mg{a b}"}) {
    auto observation = With(Example("observation"),
                            [&](json::object& r) { r["valueQuantity"].as_object()["code"] = bad; });
    auto issues = Check(observation);
    ASSERT_EQ(issues.size(), 1u) << bad << Describe(issues);
    EXPECT_EQ(issues[0].expression, "Observation.valueQuantity.code") << bad;
  }
  auto range = With(Example("observation"), [](json::object& r) {
    r["referenceRange"].as_array()[0].as_object()["high"].as_object()["code"] = "gL";
  });
  EXPECT_TRUE(
      HasIssue(Check(range), "Observation.referenceRange[0].high.code", IssueType::kCodeInvalid));
  auto no_system = With(Example("observation"),
                        [](json::object& r) { r["valueQuantity"].as_object().erase("system"); });
  EXPECT_TRUE(
      HasIssue(Check(no_system), "Observation.valueQuantity.system", IssueType::kInvariant));
}

TEST(FhirValidate, RequireIdForAnUpdate) {
  auto observation = With(Example("observation"), [](json::object& r) { r.erase("id"); });
  EXPECT_TRUE(Check(observation).empty());
  auto issues = Check(observation, ValidateOptions{.require_id = true});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].expression, "Observation.id");
  auto bad_id = With(Example("observation"), [](json::object& r) { r["id"] = "a/b"; });
  EXPECT_TRUE(HasIssue(Check(bad_id), "Observation.id", IssueType::kValue));
}

TEST(FhirValidate, ReportsEveryIssueNotOnlyTheFirst) {
  auto patient = With(Example("patient"), [](json::object& r) {
    r["gender"] = "F";
    r["birthDate"] = "1985-02-30";
    r["shoeSize"] = 42;
  });
  auto issues = Check(patient);
  EXPECT_EQ(issues.size(), 3u) << Describe(issues);
  EXPECT_TRUE(HasIssue(issues, "Patient.gender"));
  EXPECT_TRUE(HasIssue(issues, "Patient.birthDate"));
  EXPECT_TRUE(HasIssue(issues, "Patient.shoeSize"));
}

TEST(FhirValidate, DiagnosticsNeverQuoteTheValue) {
  const std::string secret = "Zorglub-1985";
  auto patient = With(Example("patient"), [&](json::object& r) {
    r["gender"] = secret;
    r["birthDate"] = secret;
    r["identifier"].as_array()[0].as_object()["value"] = secret;
    r["generalPractitioner"].as_array()[0].as_object()["reference"] = secret;
    r["telecom"].as_array()[0].as_object()["rank"] = secret;
  });
  auto issues = Check(patient);
  EXPECT_GE(issues.size(), 5u) << Describe(issues);
  for (const Issue& issue : issues) {
    EXPECT_EQ(issue.diagnostics.find("Zorglub"), std::string::npos) << issue.diagnostics;
    EXPECT_EQ(issue.expression.find("Zorglub"), std::string::npos) << issue.expression;
  }
}

TEST(FhirValidate, ExtensionsAreAcceptedAnywhereAndChecked) {
  auto patient = With(Example("patient"), [](json::object& r) {
    r["extension"] = json::array{
        json::object{{"url", "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"},
                     {"valueAddress", json::object{{"city", "Lyon"}, {"country", "FR"}}}}};
    r["name"].as_array()[0].as_object()["extension"] =
        json::array{json::object{{"url", "http://example.org/ext"}, {"valueString", "x"}}};
    r["_birthDate"] = json::object{
        {"extension", json::array{json::object{
                          {"url", "http://hl7.org/fhir/StructureDefinition/patient-birthTime"},
                          {"valueDateTime", "1985-03-12T04:15:00+01:00"}}}}};
  });
  EXPECT_TRUE(Check(patient).empty()) << Describe(Check(patient));

  auto no_url = With(Example("patient"), [](json::object& r) {
    r["extension"] = json::array{json::object{{"valueString", "x"}}};
  });
  EXPECT_TRUE(HasIssue(Check(no_url), "Patient.extension[0].url", IssueType::kRequired));

  auto both = With(Example("patient"), [](json::object& r) {
    r["extension"] = json::array{json::object{
        {"url", "http://example.org/ext"},
        {"valueString", "x"},
        {"extension", json::array{json::object{{"url", "a"}, {"valueBoolean", true}}}}}};
  });
  EXPECT_TRUE(HasIssue(Check(both), "Patient.extension[0]", IssueType::kInvariant));

  auto bad_value = With(Example("patient"), [](json::object& r) {
    r["extension"] =
        json::array{json::object{{"url", "http://example.org/ext"}, {"valueDate", "yesterday"}}};
  });
  EXPECT_TRUE(HasIssue(Check(bad_value), "Patient.extension[0].valueDate", IssueType::kValue));
}

TEST(FhirValidate, APrimitiveChoiceMayCarryExtensionsInAnyOrder) {
  json::object observation = Example("observation");
  observation.erase("valueQuantity");
  json::object reordered;
  for (const auto& member : observation) {
    if (member.key() == "interpretation") {
      reordered["_valueString"] = json::object{
          {"extension",
           json::array{json::object{{"url", "http://example.org/ext"}, {"valueCode", "fr"}}}}};
      reordered["valueString"] = "négatif";
    }
    reordered[member.key()] = member.value();
  }
  EXPECT_TRUE(Check(reordered).empty()) << Describe(Check(reordered));
  reordered["_valueBoolean"] = json::object{{"id", "x"}};
  EXPECT_TRUE(HasIssue(Check(reordered), "Observation.value[x]", IssueType::kStructure));
}

TEST(FhirValidate, ContainedResourcesAreRefused) {
  auto observation = With(Example("observation"), [](json::object& r) {
    r["contained"] = json::array{json::object{{"resourceType", "Patient"}}};
  });
  EXPECT_TRUE(HasIssue(Check(observation), "Observation.contained", IssueType::kNotSupported));
}

TEST(FhirValidate, NarrativeMustBeSafeXhtml) {
  auto script = With(Example("patient"), [](json::object& r) {
    r["text"].as_object()["div"] =
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>";
  });
  EXPECT_TRUE(HasIssue(Check(script), "Patient.text.div", IssueType::kValue));
  auto handler = With(Example("patient"), [](json::object& r) {
    r["text"].as_object()["div"] =
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">a</p></div>";
  });
  EXPECT_TRUE(HasIssue(Check(handler), "Patient.text.div", IssueType::kValue));
  auto prose = With(Example("patient"), [](json::object& r) {
    r["text"].as_object()["div"] =
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Suivi on = tous les mois</p></div>";
  });
  EXPECT_TRUE(Check(prose).empty());
  auto plain =
      With(Example("patient"), [](json::object& r) { r["text"].as_object()["div"] = "text"; });
  EXPECT_TRUE(HasIssue(Check(plain), "Patient.text.div"));
}

// ---- Facts about resources ---------------------------------------------------------------

TEST(FhirReferences, ListsEveryReferenceInDocumentOrder) {
  const auto references = References(Example("observation"));
  ASSERT_EQ(references.size(), 3u);
  EXPECT_EQ(references[0].expression, "Observation.subject");
  EXPECT_EQ(references[0].reference, "Patient/pat-dupont");
  EXPECT_EQ(references[1].expression, "Observation.encounter");
  EXPECT_EQ(references[1].reference, "Encounter/enc-consult-1");
  EXPECT_EQ(references[2].expression, "Observation.performer[0]");
  EXPECT_EQ(references[2].reference, "Organization/org-labo-bio");
}

TEST(FhirReferences, RewriteReplacesOnlyWhatTheCallbackReturns) {
  auto observation = With(Example("observation"), [](json::object& r) {
    r["subject"].as_object()["reference"] = "urn:uuid:8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b";
  });
  RewriteReferences(observation, [](std::string_view reference) -> std::optional<std::string> {
    if (reference.starts_with("urn:uuid:")) return "Patient/new-1";
    return std::nullopt;
  });
  EXPECT_EQ(observation.at("subject").at("reference"), "Patient/new-1");
  EXPECT_EQ(observation.at("encounter").at("reference"), "Encounter/enc-consult-1");
}

TEST(FhirPatientReferenceOf, NamesThePatientOfEachResource) {
  EXPECT_EQ(PatientReferenceOf(Example("patient")).value(), "pat-dupont");
  EXPECT_EQ(PatientReferenceOf(Example("observation")).value(), "pat-dupont");
  EXPECT_EQ(PatientReferenceOf(json::object{{"resourceType", "Organization"}}).value(), "");

  auto group = With(Example("observation"),
                    [](json::object& r) { r["subject"].as_object()["reference"] = "Group/g1"; });
  auto refused = PatientReferenceOf(group);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().failure, Failure::kInvalid);
  EXPECT_EQ(refused.error().issues.at(0).expression, "Observation.subject.reference");

  auto none = With(Example("observation"), [](json::object& r) { r.erase("subject"); });
  auto missing = PatientReferenceOf(none);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().issues.at(0).expression, "Observation.subject.reference");
}

TEST(FhirClinicalDateOf, ReadsTheDateOfEachType) {
  EXPECT_EQ(ClinicalDateOf(Example("observation")), "2024-03-05T08:30:00+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("observation_blood_pressure")), "2024-03-05T08:45:00+01:00");
  auto issued_only =
      With(Example("observation"), [](json::object& r) { r.erase("effectiveDateTime"); });
  EXPECT_EQ(ClinicalDateOf(issued_only), "2024-03-05T11:02:17+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("patient")), std::nullopt);
}

// ---- Syntax of primitives and codes -------------------------------------------------------

TEST(FhirPrimitives, DatesFollowTheCalendar) {
  EXPECT_TRUE(primitives::IsDate("2024"));
  EXPECT_TRUE(primitives::IsDate("2024-02"));
  EXPECT_TRUE(primitives::IsDate("2024-02-29"));
  EXPECT_FALSE(primitives::IsDate("2023-02-29"));
  EXPECT_FALSE(primitives::IsDate("2100-02-29"));
  EXPECT_TRUE(primitives::IsDate("2000-02-29"));
  EXPECT_FALSE(primitives::IsDate("0000"));
  EXPECT_FALSE(primitives::IsDate("2024-00"));
  EXPECT_FALSE(primitives::IsDate("2024-04-31"));
  EXPECT_TRUE(primitives::IsDateTime("2024-03-05T08:30:00.123Z"));
  EXPECT_FALSE(primitives::IsDateTime("2024-03-05T08:30:00-14:30"));
  EXPECT_TRUE(primitives::IsDateTime("2024-03-05T08:30:00+14:00"));
  EXPECT_FALSE(primitives::IsDateTime("2024-03T08:30:00Z"));
  EXPECT_TRUE(primitives::IsInstant("2024-03-05T08:30:00Z"));
  EXPECT_FALSE(primitives::IsInstant("2024-03-05"));
  EXPECT_FALSE(primitives::IsInstant("2024-03-05T08:30:00"));
}

TEST(FhirPrimitives, IdsUuidsAndCodes) {
  EXPECT_TRUE(primitives::IsId("pat-dupont.1"));
  EXPECT_FALSE(primitives::IsId(std::string(65, 'a')));
  EXPECT_FALSE(primitives::IsId("a_b"));
  EXPECT_TRUE(primitives::IsUuid("8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b"));
  EXPECT_FALSE(primitives::IsUuid("8F1E2C3A-9B7D-4E21-A0C4-1D2E3F405A6B"));
  EXPECT_TRUE(primitives::IsCode("a b"));
  EXPECT_FALSE(primitives::IsCode(" a"));
  EXPECT_FALSE(primitives::IsCode("a  b"));
  EXPECT_FALSE(primitives::CheckPrimitive("base64Binary", json::value("JVBERi0xLjQK")).has_value());
  EXPECT_TRUE(primitives::CheckPrimitive("base64Binary", json::value("JVBER=i0")).has_value());
  EXPECT_TRUE(primitives::CheckPrimitive("integer", json::value(3000000000LL)).has_value());
  EXPECT_FALSE(primitives::CheckPrimitive("oid", json::value("urn:oid:1.2.250.1.213")).has_value());
  EXPECT_TRUE(primitives::CheckPrimitive("oid", json::value("urn:oid:1.02")).has_value());
}

TEST(FhirCodeSyntax, LoincCheckDigit) {
  for (std::string_view good : {"2345-7", "718-7", "6690-2", "4548-4", "11502-2", "62238-1",
                                "85354-9", "LA6576-8", "LP15842-3"}) {
    EXPECT_TRUE(IsLoincCode(good)) << good;
  }
  for (std::string_view bad :
       {"2345-6", "718-1", "2345", "2345-", "-7", "23a5-7", "12345678-9", "2345-77", "LX123-4"}) {
    EXPECT_FALSE(IsLoincCode(bad)) << bad;
  }
}

TEST(FhirCodeSyntax, UcumGrammar) {
  for (std::string_view good :
       {"g/L",    "mg/dL", "mmol/L",      "10*9/L",   "10*3/uL", "10^12/L",   "mL/min/{1.73_m2}",
        "%",      "/min",  "{beats}/min", "mm[Hg]",   "cm[H2O]", "kg/m2",     "umol/L",
        "[iU]/L", "U/L",   "1",           "fL",       "pg",      "g.L-1",     "m2",
        "s",      "Cel",   "[degF]",      "mmol/mol", "ng/mL",   "(mg/dL)/h", "{score}",
        "ug/L",   "kBq",   "mL",          "[lb_av]",  "dL",      "h",         "wk",
        "a",      "mo",    "mg/(24.h)",   "[pH]",     "%{HbA1c}"}) {
    EXPECT_TRUE(IsUcumCode(good)) << good;
  }
  for (std::string_view bad : {"", " ", "g / L", "g//L", "grams", "g/L)", "(g/L", "{}", "10*",
                               "mg{a b}", "2mg", "m^2", "mg.", "/", "ka", "kmin", "g/L ", "{a"}) {
    EXPECT_FALSE(IsUcumCode(bad)) << bad;
  }
}

TEST(FhirCodeSyntax, MimeTypes) {
  for (std::string_view good : {"application/pdf", "image/jpeg", "text/plain; charset=utf-8",
                                "application/fhir+json", "text/plain;charset=\"UTF-8\""}) {
    EXPECT_TRUE(IsMimeType(good)) << good;
  }
  for (std::string_view bad : {"pdf", "application/", "/pdf", "application/pdf;", "text/plain; x",
                               "appli cation/pdf", "application/pdf/x"}) {
    EXPECT_FALSE(IsMimeType(bad)) << bad;
  }
}

}  // namespace
}  // namespace medvault::fhir
