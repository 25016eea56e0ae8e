#include "fhir/search.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>
#include <string>

#include "fhir/search_params.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

json::object Json(std::string_view text) { return json::parse(text).as_object(); }

SearchRequest Parse(std::string_view type, std::string_view query) {
  auto parsed = ParseSearch(type, query);
  EXPECT_TRUE(parsed.has_value()) << type << "?" << query << ": "
                                  << (parsed ? "" : parsed.error().issues.front().diagnostics);
  return parsed ? *parsed : SearchRequest{};
}

// The single issue of a refused search.
Issue Refused(std::string_view type, std::string_view query) {
  auto parsed = ParseSearch(type, query);
  EXPECT_FALSE(parsed.has_value()) << type << "?" << query;
  if (parsed) return {};
  EXPECT_EQ(parsed.error().failure, Failure::kInvalid);
  EXPECT_FALSE(parsed.error().issues.empty());
  return parsed.error().issues.front();
}

bool Match(std::string_view type, std::string_view query, const json::object& resource) {
  return Matches(Parse(type, query), resource);
}

const json::object& Patient() {
  static const json::object patient = Json(R"({
    "resourceType": "Patient", "id": "p1",
    "meta": {"versionId": "3", "lastUpdated": "2025-06-01T08:30:00Z"},
    "identifier": [
      {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "184127645108946"},
      {"system": "https://chu-lyon.example/ipp", "value": "IPP 00042"}],
    "name": [{"family": "Lefèvre-Dupont", "given": ["Hélène", "Marie"]},
             {"use": "maiden", "family": "Ly"}],
    "telecom": [{"system": "phone", "value": "06 12 34 56 78"},
                {"system": "email", "value": "Helene.Lefevre@Example.fr"}],
    "gender": "female", "birthDate": "1984-12-07"})");
  return patient;
}

const json::object& Glucose() {
  static const json::object observation = Json(R"({
    "resourceType": "Observation", "id": "o1", "status": "final",
    "meta": {"lastUpdated": "2024-03-05T10:20:00Z"},
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                              "code": "laboratory"}]}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}],
             "text": "Glycémie"},
    "subject": {"reference": "Patient/p1"},
    "basedOn": [{"reference": "MedicationRequest/m1"}],
    "effectiveDateTime": "2024-03-05T09:15:00+01:00",
    "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                      "code": "mmol/L"}})");
  return observation;
}

// --- The table ---------------------------------------------------------------------------

TEST(SearchParams, EveryServedSearchTypeHasIdAndLastUpdated) {
  for (std::string_view type :
       {"AllergyIntolerance", "AuditEvent", "CareTeam", "Condition", "DiagnosticReport",
        "DocumentReference", "Encounter", "MedicationRequest", "Observation", "Organization",
        "Patient", "Practitioner", "PractitionerRole"}) {
    std::set<std::string_view> names;
    for (const SearchParam* param : SearchParamsOf(type)) names.insert(param->name);
    EXPECT_TRUE(names.contains("_id")) << type;
    EXPECT_TRUE(names.contains("_lastUpdated")) << type;
  }
  EXPECT_TRUE(SearchParamsOf("Binary").empty());
}

TEST(SearchParams, BlindIndexFieldsAreExactlyTheIndexedOnes) {
  std::set<std::string> fields;
  for (const SearchParam& param : SearchParams()) {
    if (!param.blind_index_field.empty()) {
      fields.insert(std::string(param.resource_type) + " " + std::string(param.name) + " " +
                    std::string(param.blind_index_field));
    }
  }
  EXPECT_EQ(fields, (std::set<std::string>{
                        "DiagnosticReport identifier report.accession",
                        "DiagnosticReport status report.status",
                        "Patient birthdate patient.birthdate",
                        "Patient email patient.email",
                        "Patient family patient.family.prefix",
                        "Patient given patient.given.prefix",
                        "Patient identifier patient.identifier",
                        "Patient name patient.family.prefix",
                        "Patient phone patient.phone",
                    }));
}

TEST(SearchParams, EveryParameterHasExpressionAndDocumentation) {
  for (const SearchParam& param : SearchParams()) {
    EXPECT_TRUE(param.expression.starts_with(param.resource_type)) << param.name;
    EXPECT_FALSE(param.documentation.empty()) << param.resource_type << "." << param.name;
  }
}

// --- Parsing -----------------------------------------------------------------------------

TEST(ParseSearch, TokenWithSystemCodeAndBoth) {
  auto request = Parse("Observation", "patient=p1&code=http://loinc.org|2345-7,1234-5&category=|x");
  ASSERT_EQ(request.criteria.size(), 3u);
  const auto& code = request.criteria[1];
  EXPECT_EQ(code.param->name, "code");
  ASSERT_EQ(code.any_of.size(), 2u);
  EXPECT_TRUE(code.any_of[0].has_system);
  EXPECT_EQ(code.any_of[0].system, "http://loinc.org");
  EXPECT_EQ(code.any_of[0].code, "2345-7");
  EXPECT_FALSE(code.any_of[1].has_system);
  EXPECT_EQ(code.any_of[1].code, "1234-5");
  const auto& category = request.criteria[2];
  EXPECT_TRUE(category.any_of[0].has_system);
  EXPECT_EQ(category.any_of[0].system, "");

  auto system_only = Parse("Observation", "patient=p1&code=http%3A%2F%2Floinc.org%7C");
  EXPECT_EQ(system_only.criteria[1].any_of[0].system, "http://loinc.org");
  EXPECT_EQ(system_only.criteria[1].any_of[0].code, "");
}

TEST(ParseSearch, PercentDecodingPlusAndEscapedCommas) {
  auto request = Parse("Organization", "name=Centre+Hospitalier%20de%20Lyon&identifier=a\\,b,c");
  ASSERT_EQ(request.criteria.size(), 2u);
  EXPECT_EQ(request.criteria[0].any_of[0].code, "Centre Hospitalier de Lyon");
  ASSERT_EQ(request.criteria[1].any_of.size(), 2u);
  EXPECT_EQ(request.criteria[1].any_of[0].code, "a,b");
  EXPECT_EQ(request.criteria[1].any_of[1].code, "c");
  auto escaped_bar = Parse("Organization", "identifier=sys|a\\|b");
  EXPECT_EQ(escaped_bar.criteria[0].any_of[0].system, "sys");
  EXPECT_EQ(escaped_bar.criteria[0].any_of[0].code, "a|b");
}

TEST(ParseSearch, BadEncodingIsRefusedNamingTheParameter) {
  Issue bad_percent = Refused("Organization", "name=ab%2");
  EXPECT_EQ(bad_percent.expression, "name");
  EXPECT_THAT(bad_percent.diagnostics, HasSubstr("percent-encoded"));
  EXPECT_EQ(Refused("Organization", "name=%FF%FE").expression, "name");
  Issue bad_escape = Refused("Organization", "name=a\\b");
  EXPECT_EQ(bad_escape.expression, "name");
  EXPECT_THAT(bad_escape.diagnostics, HasSubstr("backslash"));
  EXPECT_EQ(Refused("Organization", "name=").expression, "name");
}

TEST(ParseSearch, DatePrefixesAndPrecisions) {
  auto request = Parse("Observation",
                       "patient=p1&date=ge2024-01&date=lt2024-03-05T10:00:00%2B01:00&date=2024"
                       "&date=sa2023-12-31&date=eb2025&date=ne2024-02-29&date=le2024-06-01T12:00Z"
                       "&date=gt2024-01-01T00:00:00.250Z");
  ASSERT_EQ(request.criteria.size(), 9u);
  EXPECT_EQ(request.criteria[1].any_of[0].prefix, DatePrefix::kGe);
  EXPECT_EQ(request.criteria[1].any_of[0].code, "2024-01");
  EXPECT_EQ(request.criteria[2].any_of[0].prefix, DatePrefix::kLt);
  EXPECT_EQ(request.criteria[2].any_of[0].code, "2024-03-05T10:00:00+01:00");
  EXPECT_EQ(request.criteria[3].any_of[0].prefix, DatePrefix::kEq);
  EXPECT_EQ(request.criteria[4].any_of[0].prefix, DatePrefix::kSa);
  EXPECT_EQ(request.criteria[5].any_of[0].prefix, DatePrefix::kEb);
  EXPECT_EQ(request.criteria[6].any_of[0].prefix, DatePrefix::kNe);
  EXPECT_EQ(request.criteria[7].any_of[0].prefix, DatePrefix::kLe);
  EXPECT_EQ(request.criteria[8].any_of[0].prefix, DatePrefix::kGt);
}

TEST(ParseSearch, AnUnencodedPlusOfATimeZoneIsRead) {
  auto request = Parse("Observation", "patient=p1&date=ge2024-03-05T10:00:00+01:00");
  EXPECT_EQ(request.criteria[1].any_of[0].code, "2024-03-05T10:00:00+01:00");
}

TEST(ParseSearch, BadDatesAreRefused) {
  for (std::string_view query :
       {"patient=p1&date=2024-13", "patient=p1&date=2023-02-29", "patient=p1&date=xx2024",
        "patient=p1&date=2024-03-05T10:00", "patient=p1&date=24-03-05",
        "patient=p1&date=2024-03-05T25:00Z", "patient=p1&date=2024-03-05T10:00:00+01"}) {
    Issue issue = Refused("Observation", query);
    EXPECT_EQ(issue.expression, "date") << query;
    EXPECT_EQ(issue.code, IssueType::kValue) << query;
  }
  EXPECT_THAT(Refused("Observation", "patient=p1&date=xx2024").diagnostics, HasSubstr("prefix"));
}

TEST(ParseSearch, StringsAndExactModifier) {
  auto request = Parse("Patient", "family:exact=Lefèvre-Dupont&given=h%C3%A9l");
  ASSERT_EQ(request.criteria.size(), 2u);
  EXPECT_EQ(request.criteria[0].modifier, "exact");
  EXPECT_EQ(request.criteria[0].any_of[0].code, "Lefèvre-Dupont");
  EXPECT_EQ(request.criteria[1].modifier, "");
  EXPECT_EQ(request.criteria[1].any_of[0].code, "hél");
  EXPECT_EQ(Refused("Patient", "family=---").expression, "family");
}

TEST(ParseSearch, ReferencesTypedOrBare) {
  auto request = Parse("Observation", "subject=p1&based-on=MedicationRequest/m1");
  EXPECT_EQ(request.criteria[0].any_of[0].code, "Patient/p1");
  EXPECT_EQ(request.criteria[1].any_of[0].code, "MedicationRequest/m1");
  auto participant = Parse("CareTeam", "patient=p1&participant=pr7");
  EXPECT_EQ(participant.criteria[1].any_of[0].code, "pr7");  // several target types: bare
  Issue wrong_type = Refused("Observation", "patient=Practitioner/x");
  EXPECT_EQ(wrong_type.expression, "patient");
  EXPECT_THAT(wrong_type.diagnostics, HasSubstr("refers to Patient"));
  EXPECT_EQ(Refused("Observation", "patient=Patient/a%20b").expression, "patient");
}

TEST(ParseSearch, OrAndAnd) {
  auto request = Parse("Observation", "patient=p1&status=final,amended&status=final");
  ASSERT_EQ(request.criteria.size(), 3u);
  EXPECT_EQ(request.criteria[1].any_of.size(), 2u);
  EXPECT_EQ(request.criteria[2].any_of.size(), 1u);
}

TEST(ParseSearch, ResultParameters) {
  auto request = Parse("DiagnosticReport",
                       "patient=p1&_count=50&_sort=-date&_include=DiagnosticReport:result"
                       "&_include=DiagnosticReport:subject&_elements=status,code&_total=accurate"
                       "&_page=b2Zmc2V0OjIw&_format=json");
  EXPECT_EQ(request.count, 50u);
  EXPECT_TRUE(request.sort_by_date);
  EXPECT_TRUE(request.sort_descending);
  EXPECT_EQ(request.include,
            (std::vector<std::string>{"DiagnosticReport:result", "DiagnosticReport:subject"}));
  EXPECT_EQ(request.elements, (std::vector<std::string>{"status", "code"}));
  EXPECT_EQ(request.page, "b2Zmc2V0OjIw");
  EXPECT_FALSE(request.summary_count);
  EXPECT_TRUE(Parse("Observation", "patient=p1&_summary=count").summary_count);
  auto defaults = Parse("Observation", "patient=p1");
  EXPECT_EQ(defaults.count, kDefaultCount);
  EXPECT_FALSE(defaults.sort_by_date);
}

TEST(ParseSearch, CountBounds) {
  EXPECT_EQ(Parse("Observation", "patient=p1&_count=1").count, 1u);
  EXPECT_EQ(Parse("Observation", "patient=p1&_count=100").count, kMaxCount);
  for (std::string_view query :
       {"patient=p1&_count=0", "patient=p1&_count=101", "patient=p1&_count=-1",
        "patient=p1&_count=ten", "patient=p1&_count=99999999999999999999"}) {
    Issue issue = Refused("Observation", query);
    EXPECT_EQ(issue.expression, "_count") << query;
    EXPECT_THAT(issue.diagnostics, HasSubstr("1 to 100"));
  }
  EXPECT_THAT(Refused("Observation", "patient=p1&_count=5&_count=6").diagnostics,
              HasSubstr("more than once"));
}

TEST(ParseSearch, BadResultParametersAreRefused) {
  EXPECT_EQ(Refused("Observation", "patient=p1&_include=DiagnosticReport:result").expression,
            "_include");
  EXPECT_EQ(Refused("Observation", "patient=p1&_sort=status").expression, "_sort");
  EXPECT_EQ(Refused("Practitioner", "_sort=date").expression, "_sort");
  EXPECT_EQ(Refused("Observation", "patient=p1&_summary=true").expression, "_summary");
  EXPECT_EQ(Refused("Observation", "patient=p1&_elements=a.b").expression, "_elements");
  EXPECT_EQ(Refused("Observation", "patient=p1&_total=estimate").expression, "_total");
  EXPECT_EQ(Refused("Observation", "patient=p1&_page=a%20b").expression, "_page");
  EXPECT_EQ(Refused("Observation", "patient=p1&_format=xml").expression, "_format");
  EXPECT_EQ(Refused("Observation", "patient=p1&_revinclude=Provenance:target").expression,
            "_revinclude");
}

TEST(ParseSearch, UnknownParameterIsRefusedNamingIt) {
  Issue issue = Refused("Observation", "patient=p1&value-quantity=5");
  EXPECT_EQ(issue.expression, "value-quantity");
  EXPECT_EQ(issue.code, IssueType::kNotSupported);
  EXPECT_THAT(issue.diagnostics, HasSubstr("unknown search parameter"));
  EXPECT_THAT(issue.diagnostics, HasSubstr("based-on"));  // lists what is supported
  EXPECT_EQ(Refused("Patient", "_id=p1&_unknown=1").expression, "_unknown");
  // A name that is not of the usual shape is not repeated back.
  EXPECT_EQ(Refused("Patient", "_id=p1&%3Cscript%3E=1").expression, "");
}

TEST(ParseSearch, EveryBadParameterGetsItsIssue) {
  auto parsed = ParseSearch("Observation", "patient=p1&colour=red&date=soon&_count=0");
  ASSERT_FALSE(parsed);
  std::vector<std::string> expressions;
  for (const Issue& issue : parsed.error().issues) expressions.push_back(issue.expression);
  EXPECT_EQ(expressions, (std::vector<std::string>{"colour", "date", "_count"}));
}

TEST(ParseSearch, UnsupportedModifierIsRefused) {
  for (std::string_view query : {"patient=p1&code:text=glucose", "patient=p1&code:not=x",
                                 "patient=p1&date:missing=true", "patient:Patient=p1"}) {
    Issue issue = Refused("Observation", query);
    EXPECT_EQ(issue.code, IssueType::kNotSupported) << query;
    EXPECT_THAT(issue.diagnostics, HasSubstr("modifier")) << query;
  }
  EXPECT_EQ(Refused("Patient", "family:contains=lef").expression, "family:contains");
}

TEST(ParseSearch, CodeOnlyTokensRefuseASystem) {
  Issue issue =
      Refused("Observation", "patient=p1&status=http://hl7.org/fhir/observation-status|final");
  EXPECT_EQ(issue.expression, "status");
  EXPECT_THAT(issue.diagnostics, HasSubstr("without system"));
}

TEST(ParseSearch, ValuesTheBlindIndexCannotReadAreRefused) {
  EXPECT_EQ(Refused("Patient", "phone=not-a-phone").expression, "phone");
  EXPECT_EQ(Refused("Patient", "email=nobody").expression, "email");
  EXPECT_EQ(Refused("Patient", "identifier=urn:oid:1.2.250.1.213.1.4.8|184127645108947").expression,
            "identifier");
  EXPECT_EQ(Refused("DiagnosticReport", "identifier=a/b").expression, "identifier");
  // The diagnostics never quote the value.
  EXPECT_THAT(Refused("Patient", "phone=secret-number").diagnostics,
              ::testing::Not(HasSubstr("secret")));
}

TEST(ParseSearch, PatientConfinement) {
  EXPECT_EQ(Parse("Observation", "patient=p1").patient_id, "p1");
  EXPECT_EQ(Parse("Observation", "patient=Patient/p1").patient_id, "p1");
  EXPECT_EQ(Parse("Observation", "subject=Patient/p1&code=2345-7").patient_id, "p1");
  EXPECT_EQ(Parse("Patient", "_id=p1&gender=female").patient_id, "p1");
  EXPECT_EQ(Parse("Patient", "family=lef").patient_id, std::nullopt);
  EXPECT_EQ(Parse("Practitioner", "family=mar").patient_id, std::nullopt);
  EXPECT_EQ(Refused("Observation", "patient=p1,p2").expression, "patient");
  EXPECT_THAT(Refused("Observation", "patient=p1&subject=Patient/p2").diagnostics,
              HasSubstr("two different patients"));
  EXPECT_EQ(Parse("Observation", "patient=p1&subject=p1").patient_id, "p1");
}

TEST(ParseSearch, CrossPatientSearchNeedsABlindIndexedParameter) {
  Issue observation = Refused("Observation", "code=http://loinc.org|2345-7");
  EXPECT_EQ(observation.code, IssueType::kNotSupported);
  EXPECT_EQ(observation.expression, "code");
  EXPECT_THAT(observation.diagnostics, HasSubstr("narrow it to a patient"));
  EXPECT_THAT(Refused("Observation", "").diagnostics, HasSubstr("narrow it to a patient"));
  EXPECT_EQ(Refused("Observation", "").expression, "patient");
  Issue gender = Refused("Patient", "gender=female");
  EXPECT_EQ(gender.expression, "gender");
  EXPECT_THAT(gender.diagnostics, HasSubstr("family"));
  // birthdate serves across patients only as one full date.
  EXPECT_THAT(Refused("Patient", "birthdate=1984").diagnostics, HasSubstr("narrow it"));
  EXPECT_THAT(Refused("Patient", "birthdate=ge1984-12-07").diagnostics, HasSubstr("narrow it"));
  EXPECT_TRUE(ParseSearch("Patient", "birthdate=1984-12-07"));
  EXPECT_TRUE(ParseSearch("Patient", "birthdate=1984&family=lef"));
  EXPECT_TRUE(ParseSearch("Patient", "name=hel&gender=female"));
  EXPECT_TRUE(ParseSearch("DiagnosticReport", "identifier=ACC-2024-0001&status=final"));
  // Not patient data: every parameter, no patient needed.
  EXPECT_TRUE(ParseSearch("Organization", "type=prov"));
  EXPECT_TRUE(ParseSearch("PractitionerRole", "role=doctor"));
  EXPECT_TRUE(ParseSearch("Practitioner", ""));
  // The audit log's own parameters are the records layer's business.
  EXPECT_TRUE(ParseSearch("AuditEvent", "date=ge2025-01-01"));
  EXPECT_FALSE(ParseSearch("Binary", "_id=b1"));
}

TEST(ParseSearch, LimitsOnSize) {
  std::string many = "_id=p1";
  for (int i = 0; i < 70; ++i) many += "&gender=female";
  EXPECT_EQ(Refused("Patient", many).code, IssueType::kTooLong);
  std::string wide = "_id=p1&gender=female";
  for (int i = 0; i < 70; ++i) wide += ",female";
  EXPECT_EQ(Refused("Patient", wide).code, IssueType::kTooLong);
  EXPECT_EQ(Refused("Patient", std::string(600'000, 'a')).code, IssueType::kTooLong);
  Issue long_value = Refused("Patient", "family=" + std::string(2049, 'a'));
  EXPECT_EQ(long_value.expression, "family");
  EXPECT_EQ(long_value.code, IssueType::kTooLong);
  EXPECT_TRUE(ParseSearch("Organization", "identifier=" + std::string(2048, 'a')));
}

// --- Blind-index lookups -------------------------------------------------------------------

TEST(BlindIndexLookups, NameQueriesFamilyAndGiven) {
  auto request = Parse("Patient", "name=hel,dup");
  auto lookups = BlindIndexLookupsOf(request.criteria[0]);
  ASSERT_TRUE(lookups);
  ASSERT_EQ(lookups->size(), 4u);
  EXPECT_EQ((*lookups)[0].field, "patient.family.prefix");
  EXPECT_EQ((*lookups)[1].field, "patient.given.prefix");
  EXPECT_EQ((*lookups)[3].value, "dup");
}

TEST(BlindIndexLookups, IdentifierFieldDependsOnSystem) {
  auto ins = BlindIndexLookupsOf(
      Parse("Patient", "identifier=urn:oid:1.2.250.1.213.1.4.8|184127645108946").criteria[0]);
  ASSERT_TRUE(ins);
  ASSERT_EQ(ins->size(), 1u);
  EXPECT_EQ((*ins)[0].field, "patient.nir");
  auto local = BlindIndexLookupsOf(
      Parse("Patient", "identifier=https://chu-lyon.example/ipp|IPP00042").criteria[0]);
  ASSERT_EQ(local->size(), 1u);
  EXPECT_EQ((*local)[0].field, "patient.identifier");
  auto either = BlindIndexLookupsOf(Parse("Patient", "identifier=184127645108946").criteria[0]);
  ASSERT_EQ(either->size(), 2u);
  EXPECT_EQ((*either)[0].field, "patient.nir");
  EXPECT_EQ((*either)[1].field, "patient.identifier");
  auto accession = BlindIndexLookupsOf(Parse("DiagnosticReport", "identifier=acc-1").criteria[0]);
  ASSERT_EQ(accession->size(), 1u);
  EXPECT_EQ((*accession)[0].field, "report.accession");
}

TEST(BlindIndexLookups, UnindexedCriteriaHaveNone) {
  auto request = Parse("Patient", "_id=p1&gender=female&birthdate=1984");
  for (const auto& criterion : request.criteria) EXPECT_FALSE(BlindIndexLookupsOf(criterion));
  EXPECT_FALSE(BlindIndexLookupsOf(
      Parse("Patient", "identifier=urn:oid:1.2.250.1.213.1.4.8|&family=lef").criteria[0]));
}

// --- Matches -------------------------------------------------------------------------------

TEST(Matches, PatientNamesFoldCaseAccentsAndHyphens) {
  EXPECT_TRUE(Match("Patient", "family=lefevre", Patient()));
  EXPECT_TRUE(Match("Patient", "family=LEFÈVRE%20dup", Patient()));
  EXPECT_TRUE(Match("Patient", "given=hel", Patient()));
  EXPECT_TRUE(Match("Patient", "given=marie", Patient()));
  EXPECT_TRUE(Match("Patient", "name=mar", Patient()));        // a given name
  EXPECT_TRUE(Match("Patient", "name=lef", Patient()));        // a family name
  EXPECT_FALSE(Match("Patient", "family=dupont", Patient()));  // not a prefix
  EXPECT_FALSE(Match("Patient", "given=lef", Patient()));
  EXPECT_TRUE(Match("Patient", "family:exact=Lefèvre-Dupont", Patient()));
  EXPECT_FALSE(Match("Patient", "family:exact=Lefevre-Dupont", Patient()));
}

TEST(Matches, ShortNamesMatchWholeAsTheBlindIndexDoes) {
  EXPECT_TRUE(Match("Patient", "family=ly", Patient()));
  EXPECT_FALSE(Match("Patient", "family=le", Patient()));  // "lefevre dupont" is no 2-letter name
  const json::object lyon = Json(R"({"resourceType": "Patient", "id": "p2",
    "name": [{"family": "Lyon"}]})");
  EXPECT_FALSE(Match("Patient", "family=ly", lyon));
  EXPECT_TRUE(Match("Patient", "family=lyo", lyon));
  // Spaces do not count as letters: "l y" is a 2-letter name, matched whole.
  const json::object spaced = Json(R"({"resourceType": "Patient", "id": "p4",
    "name": [{"family": "L Y"}, {"family": "L Yves"}]})");
  EXPECT_TRUE(Match("Patient", "family=l-y", spaced));
  EXPECT_FALSE(Match("Patient", "family=l-y", Json(R"({"resourceType": "Patient", "id": "p5",
    "name": [{"family": "L Yves"}]})")));
  // Not blind-indexed: a plain prefix.
  const json::object practitioner = Json(R"({"resourceType": "Practitioner", "id": "d1",
    "name": [{"family": "Lyon", "given": ["Paul"]}]})");
  EXPECT_TRUE(Match("Practitioner", "family=ly", practitioner));
}

TEST(Matches, PatientTokens) {
  EXPECT_TRUE(Match("Patient",
                    "identifier=urn:oid:1.2.250.1.213.1.4.8|1%2084%2012%2076%20451%20089%2046",
                    Patient()));
  EXPECT_TRUE(Match("Patient", "identifier=184127645108946", Patient()));
  EXPECT_TRUE(Match("Patient", "identifier=https://chu-lyon.example/ipp|IPP00042", Patient()));
  EXPECT_FALSE(Match("Patient", "identifier=https://other.example|IPP00042", Patient()));
  EXPECT_TRUE(Match("Patient", "_id=p1&identifier=https://chu-lyon.example/ipp|", Patient()));
  EXPECT_FALSE(Match("Patient", "identifier=|IPP00042", Patient()));  // it has a system
  EXPECT_TRUE(Match("Patient", "phone=%2B33612345678", Patient()));
  EXPECT_TRUE(Match("Patient", "phone=0612345678", Patient()));
  EXPECT_FALSE(Match("Patient", "phone=0612345679", Patient()));
  EXPECT_TRUE(Match("Patient", "email=helene.lefevre@example.fr", Patient()));
  EXPECT_FALSE(Match("Patient", "phone=0612345678", Json(R"({"resourceType": "Patient", "id": "p3",
    "telecom": [{"system": "fax", "value": "06 12 34 56 78"}]})")));
  EXPECT_TRUE(Match("Patient", "_id=p1&gender=female", Patient()));
  EXPECT_FALSE(Match("Patient", "_id=p1&gender=male", Patient()));
  EXPECT_FALSE(Match("Patient", "_id=p2", Patient()));
}

TEST(Matches, BirthdateByPrecision) {
  EXPECT_TRUE(Match("Patient", "birthdate=1984-12-07", Patient()));
  EXPECT_TRUE(Match("Patient", "_id=p1&birthdate=1984", Patient()));
  EXPECT_TRUE(Match("Patient", "_id=p1&birthdate=1984-12", Patient()));
  EXPECT_FALSE(Match("Patient", "_id=p1&birthdate=1984-11", Patient()));
  EXPECT_TRUE(Match("Patient", "_id=p1&birthdate=lt1985", Patient()));
  EXPECT_FALSE(Match("Patient", "_id=p1&birthdate=gt1984-12-07", Patient()));
  EXPECT_TRUE(Match("Patient", "_id=p1&birthdate=ge1984-12-07", Patient()));
}

TEST(Matches, ObservationDateRangesWithPrecision) {
  // effective 2024-03-05T09:15:00+01:00 = 08:15:00Z, a one-second range.
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2024", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2024-03", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2024-03-05", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=2024-03-06", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2024-03-05T08:15Z", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=2024-03-05T09:15Z", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=ge2024-03-01&date=lt2024-04", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=ge2024-03-06&date=lt2024-04", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=gt2024-03-05T08:00:00Z", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=gt2024-03-05", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=lt2024-03-05T08:15:01Z", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=sa2024-03-04", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=sa2024-03-05", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=eb2024-03-06", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=ne2024-02", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&date=ne2024-03", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2023,2024", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&_lastUpdated=ge2024-03-05T10:00:00Z", Glucose()));
}

TEST(Matches, PeriodsAreRanges) {
  const json::object encounter = Json(R"({"resourceType": "Encounter", "id": "e1",
    "status": "finished", "subject": {"reference": "Patient/p1"},
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
    "period": {"start": "2024-03-04T22:00:00Z", "end": "2024-03-07T10:00:00Z"}})");
  EXPECT_TRUE(Match("Encounter", "patient=p1&date=2024-03", encounter));
  EXPECT_FALSE(Match("Encounter", "patient=p1&date=2024-03-05", encounter));   // not contained
  EXPECT_TRUE(Match("Encounter", "patient=p1&date=ge2024-03-05", encounter));  // overlaps after
  EXPECT_TRUE(Match("Encounter", "patient=p1&date=le2024-03-05", encounter));  // starts before
  EXPECT_FALSE(Match("Encounter", "patient=p1&date=sa2024-03-04", encounter));
  EXPECT_TRUE(Match("Encounter", "patient=p1&date=sa2024-03-03", encounter));
  EXPECT_TRUE(Match("Encounter", "patient=p1&class=IMP&status=finished", encounter));
  EXPECT_FALSE(Match("Encounter", "patient=p1&class=AMB", encounter));
  const json::object ongoing = Json(R"({"resourceType": "Condition", "id": "c1",
    "subject": {"reference": "Patient/p1"}, "onsetPeriod": {"start": "2020-05"},
    "recordedDate": "2020-06-02"})");
  EXPECT_TRUE(Match("Condition", "patient=p1&onset-date=gt2030", ongoing));  // open end
  EXPECT_FALSE(Match("Condition", "patient=p1&onset-date=lt2020-05", ongoing));
  EXPECT_TRUE(Match("Condition", "patient=p1&recorded-date=2020-06", ongoing));
}

TEST(Matches, TokensOnCodeableConceptWithAndWithoutSystem) {
  EXPECT_TRUE(Match("Observation", "patient=p1&code=2345-7", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&code=http://loinc.org|2345-7", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&code=http://snomed.info/sct|2345-7", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&code=|2345-7", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&code=http://loinc.org|", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&code=1234-5,2345-7", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&code=1234-5", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&category=laboratory&status=final", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p1&status=preliminary", Glucose()));
  EXPECT_TRUE(Match("Observation", "patient=p1&based-on=MedicationRequest/m1", Glucose()));
}

TEST(Matches, PatientConfinementAndReferences) {
  EXPECT_TRUE(Match("Observation", "patient=p1", Glucose()));
  EXPECT_FALSE(Match("Observation", "patient=p2", Glucose()));
  EXPECT_TRUE(Match("Observation", "subject=Patient/p1", Glucose()));
  EXPECT_FALSE(Match("Patient", "_id=p1", Glucose()));  // another type
  SearchRequest confined = Parse("Observation", "patient=p1&code=2345-7");
  confined.patient_id = "p2";  // the confinement is checked on its own too
  EXPECT_FALSE(Matches(confined, Glucose()));
  const json::object report = Json(R"({"resourceType": "DiagnosticReport", "id": "r1",
    "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8"}]},
    "subject": {"reference": "Patient/p1"}, "issued": "2024-03-05T12:00:00.123+01:00",
    "identifier": [{"system": "https://lab.example/accession", "value": "acc-2024-0001"}],
    "result": [{"reference": "Observation/o1"}, {"reference": "Observation/o2"}]})");
  EXPECT_TRUE(Match("DiagnosticReport", "identifier=ACC-2024-0001", report));  // folded
  EXPECT_TRUE(Match("DiagnosticReport", "patient=p1&result=o2", report));
  EXPECT_FALSE(Match("DiagnosticReport", "patient=p1&result=o3", report));
  EXPECT_TRUE(Match("DiagnosticReport", "patient=p1&issued=2024-03-05T11:00:00.123Z", report));
  EXPECT_FALSE(Match("DiagnosticReport", "patient=p1&issued=2024-03-05T11:00:00.124Z", report));
  const json::object team = Json(R"({"resourceType": "CareTeam", "id": "t1", "status": "active",
    "subject": {"reference": "Patient/p1"},
    "participant": [{"member": {"reference": "Practitioner/d1"}},
                    {"member": {"reference": "Organization/lab"}}]})");
  EXPECT_TRUE(Match("CareTeam", "patient=p1&participant=d1", team));
  EXPECT_TRUE(Match("CareTeam", "patient=p1&participant=Organization/lab", team));
  EXPECT_FALSE(Match("CareTeam", "patient=p1&participant=Practitioner/lab", team));
}

TEST(Matches, OtherTypes) {
  const json::object prescription = Json(R"({"resourceType": "MedicationRequest", "id": "m1",
    "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"},
    "authoredOn": "2024-02-01",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "A10BA02"}]}})");
  EXPECT_TRUE(Match("MedicationRequest",
                    "patient=p1&code=http://www.whocc.no/atc|A10BA02&status=active&intent=order"
                    "&authoredon=2024-02",
                    prescription));
  EXPECT_FALSE(Match("MedicationRequest", "patient=p1&intent=plan", prescription));
  const json::object allergy = Json(R"({"resourceType": "AllergyIntolerance", "id": "a1",
    "patient": {"reference": "Patient/p1"}, "criticality": "high",
    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
    "reaction": [{"substance": {"coding": [{"system": "http://snomed.info/sct", "code": "764146007"}]}}],
    "recordedDate": "2019-04-01T10:00:00Z"})");
  EXPECT_TRUE(Match("AllergyIntolerance",
                    "patient=p1&code=764146007&criticality=high"
                    "&clinical-status=active&date=2019",
                    allergy));
  const json::object organization = Json(R"({"resourceType": "Organization", "id": "lab",
    "name": "Laboratoire Bio-Santé", "alias": ["LBS Lyon"],
    "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "690000001"}]})");
  EXPECT_TRUE(Match("Organization", "name=labo", organization));
  EXPECT_TRUE(Match("Organization", "name=lbs", organization));
  EXPECT_TRUE(Match("Organization", "identifier=690000001", organization));
  EXPECT_FALSE(Match("Organization", "name=sante", organization));
}

TEST(Matches, ChoiceElementsAreReadByTheirDatatypeOnly) {
  // Encounter.classHistory is not class[x], MedicationRequest.statusReason not status[x].
  const json::object encounter = Json(R"({"resourceType": "Encounter", "id": "e2",
    "subject": {"reference": "Patient/p1"}, "status": "finished",
    "classHistory": [{"class": {"code": "IMP"}, "period": {"start": "2024"}}]})");
  EXPECT_FALSE(Match("Encounter", "patient=p1&class=IMP", encounter));
  const json::object observation = Json(R"({"resourceType": "Observation", "id": "o3",
    "subject": {"reference": "Patient/p1"}, "effectivePeriod": {"start": "2024-01-01", "end": "2024-01-02"}})");
  EXPECT_TRUE(Match("Observation", "patient=p1&date=2024-01", observation));
}

// Guards the table: every parameter's expression selects an element of a resource that has
// them all, so no expression is misspelt.
TEST(Matches, EveryExpressionSelectsItsElement) {
  const std::map<std::string, json::object> samples = {
      {"Patient", Patient()},
      {"Observation", Glucose()},
      {"DiagnosticReport", Json(R"({"resourceType": "DiagnosticReport", "id": "r1",
        "meta": {"lastUpdated": "2024-03-05T12:00:00Z"}, "status": "final",
        "subject": {"reference": "Patient/p1"}, "code": {"coding": [{"code": "x"}]},
        "category": [{"coding": [{"code": "LAB"}]}], "effectivePeriod": {"start": "2024-03-05"},
        "basedOn": [{"reference": "MedicationRequest/m1"}], "identifier": [{"value": "A-1"}],
        "result": [{"reference": "Observation/o1"}], "issued": "2024-03-05T12:00:00Z"})")},
      {"Encounter",
       Json(
           R"({"resourceType": "Encounter", "id": "e1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "status": "finished", "subject": {"reference": "Patient/p1"}, "class": {"code": "AMB"},
        "type": [{"coding": [{"code": "x"}]}], "period": {"start": "2024-01-01"}})")},
      {"Condition",
       Json(
           R"({"resourceType": "Condition", "id": "c1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "subject": {"reference": "Patient/p1"}, "code": {"coding": [{"code": "x"}]},
        "clinicalStatus": {"coding": [{"code": "active"}]}, "category": [{"coding": [{"code": "y"}]}],
        "onsetDateTime": "2020", "recordedDate": "2020-02-02"})")},
      {"AllergyIntolerance", Json(R"({"resourceType": "AllergyIntolerance", "id": "a1",
        "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}, "patient": {"reference": "Patient/p1"},
        "code": {"coding": [{"code": "x"}]}, "clinicalStatus": {"coding": [{"code": "active"}]},
        "criticality": "low", "recordedDate": "2020"})")},
      {"MedicationRequest", Json(R"({"resourceType": "MedicationRequest", "id": "m1",
        "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}, "subject": {"reference": "Patient/p1"},
        "status": "active", "intent": "order", "authoredOn": "2024",
        "medicationCodeableConcept": {"coding": [{"code": "x"}]}})")},
      {"DocumentReference", Json(R"({"resourceType": "DocumentReference", "id": "d1",
        "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}, "subject": {"reference": "Patient/p1"},
        "type": {"coding": [{"code": "x"}]}, "category": [{"coding": [{"code": "y"}]}],
        "date": "2024-01-01T00:00:00Z", "status": "current"})")},
      {"CareTeam",
       Json(
           R"({"resourceType": "CareTeam", "id": "t1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "subject": {"reference": "Patient/p1"}, "status": "active",
        "participant": [{"member": {"reference": "Practitioner/d1"}}]})")},
      {"Practitioner",
       Json(
           R"({"resourceType": "Practitioner", "id": "d1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "identifier": [{"value": "10001"}], "name": [{"family": "Martin", "given": ["Paul"]}]})")},
      {"PractitionerRole", Json(R"({"resourceType": "PractitionerRole", "id": "r1",
        "meta": {"lastUpdated": "2024-01-01T00:00:00Z"}, "practitioner": {"reference": "Practitioner/d1"},
        "organization": {"reference": "Organization/o1"}, "code": [{"coding": [{"code": "doctor"}]}]})")},
      {"Organization",
       Json(
           R"({"resourceType": "Organization", "id": "o1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "identifier": [{"value": "1"}], "name": "Lab", "type": [{"coding": [{"code": "prov"}]}]})")},
      {"AuditEvent",
       Json(
           R"({"resourceType": "AuditEvent", "id": "ae1", "meta": {"lastUpdated": "2024-01-01T00:00:00Z"},
        "type": {"code": "rest"}, "action": "R", "recorded": "2024-01-01T00:00:00Z",
        "agent": [{"who": {"reference": "Practitioner/d1"}}],
        "entity": [{"what": {"reference": "Patient/p1"}}, {"what": {"reference": "Observation/o1"}}]})")},
  };
  for (const auto& rule : search_internal::Rules()) {
    auto sample = samples.find(std::string(rule.param.resource_type));
    ASSERT_NE(sample, samples.end()) << rule.param.resource_type;
    EXPECT_FALSE(search_internal::EvaluatePaths(rule.paths, sample->second).empty())
        << rule.param.resource_type << "." << rule.param.name;
  }
  // where(resolve() is Patient) keeps only the Patient references.
  const auto& audit_patient = *std::ranges::find_if(search_internal::Rules(), [](const auto& rule) {
    return rule.param.resource_type == "AuditEvent" && rule.param.name == "patient";
  });
  EXPECT_EQ(search_internal::EvaluatePaths(audit_patient.paths, samples.at("AuditEvent")).size(),
            1u);
}

// --- CanonicalQuery --------------------------------------------------------------------------

TEST(CanonicalQuery, RoundTripsAndSortsCriteria) {
  auto request = Parse("Observation",
                       "status=final&patient=p1&code=http://"
                       "loinc.org|2345-7,a\\,b&date=ge2024-03-05T10:00:00%2B01:00"
                       "&_count=5&_sort=-date&_include=Observation:subject&_elements=code");
  std::string canonical = CanonicalQuery(request, "");
  EXPECT_EQ(canonical,
            "code=http://loinc.org%7C2345-7%2Ca%5C%2Cb&date=ge2024-03-05T10:00:00%2B01:00"
            "&patient=p1&status=final&_sort=-date&_count=5&_include=Observation:subject"
            "&_elements=code");
  auto again = Parse("Observation", canonical);
  EXPECT_EQ(CanonicalQuery(again, ""), canonical);
  EXPECT_EQ(again.criteria.size(), request.criteria.size());
  EXPECT_EQ(again.patient_id, "p1");
  std::string next = CanonicalQuery(request, "b2Zmc2V0OjIw");
  EXPECT_THAT(next, ::testing::EndsWith("&_page=b2Zmc2V0OjIw"));
  EXPECT_EQ(Parse("Observation", next).page, "b2Zmc2V0OjIw");
}

TEST(CanonicalQuery, StringsKeepTheirSpelling) {
  auto request = Parse("Patient", "family=Lef%C3%A8vre+D&given:exact=H%C3%A9l%C3%A8ne");
  std::string canonical = CanonicalQuery(request, "");
  EXPECT_EQ(canonical, "family=Lef%C3%A8vre%20D&given:exact=H%C3%A9l%C3%A8ne");
  EXPECT_EQ(CanonicalQuery(Parse("Patient", canonical), ""), canonical);
}

// --- ApplyElements ---------------------------------------------------------------------------

TEST(ApplyElements, KeepsNamedElementsAndTagsSubsetted) {
  std::vector<std::string> elements = {"code", "value", "status"};
  json::object subset = ApplyElements(Glucose(), elements);
  EXPECT_TRUE(subset.contains("resourceType"));
  EXPECT_TRUE(subset.contains("id"));
  EXPECT_TRUE(subset.contains("code"));
  EXPECT_TRUE(subset.contains("status"));
  EXPECT_TRUE(subset.contains("valueQuantity"));  // value[x]
  EXPECT_FALSE(subset.contains("subject"));
  EXPECT_FALSE(subset.contains("effectiveDateTime"));
  const json::object& meta = subset.at("meta").as_object();
  EXPECT_EQ(meta.at("lastUpdated").as_string(), "2024-03-05T10:20:00Z");
  const json::array& tags = meta.at("tag").as_array();
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].at("code").as_string(), "SUBSETTED");
  EXPECT_EQ(tags[0].at("system").as_string(),
            "http://terminology.hl7.org/CodeSystem/v3-ObservationValue");
  // Applying it twice adds no second tag.
  json::object twice = ApplyElements(subset, elements);
  EXPECT_EQ(twice.at("meta").at("tag").as_array().size(), 1u);
  json::object bare = ApplyElements(Json(R"({"resourceType": "Patient", "id": "x",
    "birthDate": "1990-01-01", "_birthDate": {"extension": []}, "gender": "male"})"),
                                    std::vector<std::string>{"birthDate"});
  EXPECT_TRUE(bare.contains("_birthDate"));
  EXPECT_FALSE(bare.contains("gender"));
  EXPECT_TRUE(bare.at("meta").as_object().contains("tag"));
  // A choice element is named by its base; an element that merely starts alike is not.
  json::object request = ApplyElements(Json(R"({"resourceType": "MedicationRequest", "id": "m",
    "status": "active", "statusReason": {"text": "x"}, "medicationCodeableConcept": {"text": "y"}})"),
                                       std::vector<std::string>{"status", "medication"});
  EXPECT_TRUE(request.contains("status"));
  EXPECT_TRUE(request.contains("medicationCodeableConcept"));
  EXPECT_FALSE(request.contains("statusReason"));
}

}  // namespace
}  // namespace medvault::fhir
