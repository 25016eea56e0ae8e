#include "api/fhir_request.h"

#include <gtest/gtest.h>

namespace medvault::api {
namespace {

using fhir::Failure;

http::Request Make(http::Verb verb, std::string target,
                   std::vector<std::pair<std::string, std::string>> headers = {},
                   std::string body = "") {
  http::Request request(verb, target, 11);
  for (auto& [name, value] : headers) request.insert(name, value);
  request.body() = std::move(body);
  return request;
}

TEST(FhirRequest, FhirJsonAndPlainJsonBodiesAreAcceptedAndOtherMediaAre415) {
  for (const char* type : {"application/fhir+json", "application/json; charset=utf-8",
                           "Application/FHIR+JSON;charset=\"UTF-8\""}) {
    EXPECT_TRUE(CheckContentType(Make(http::Verb::post, "/fhir/Patient", {{"Content-Type", type}}),
                                 BodyMedia::kFhirJson))
        << type;
  }
  for (const char* type : {"text/plain", "application/xml", "application/fhir+json; charset=latin1",
                           "application/x-www-form-urlencoded"}) {
    auto refused = CheckContentType(
        Make(http::Verb::post, "/fhir/Patient", {{"Content-Type", type}}), BodyMedia::kFhirJson);
    ASSERT_FALSE(refused) << type;
    EXPECT_EQ(refused.error().failure, Failure::kUnsupportedMedia);
  }
  EXPECT_FALSE(
      CheckContentType(Make(http::Verb::post, "/fhir/Patient", {}, "{}"), BodyMedia::kFhirJson));
}

TEST(FhirRequest, SearchFormsNeedTheirMediaTypeUnlessEmpty) {
  EXPECT_TRUE(CheckContentType(Make(http::Verb::post, "/fhir/Patient/_search"), BodyMedia::kForm));
  EXPECT_TRUE(
      CheckContentType(Make(http::Verb::post, "/fhir/Patient/_search",
                            {{"Content-Type", "application/x-www-form-urlencoded"}}, "family=du"),
                       BodyMedia::kForm));
  EXPECT_FALSE(CheckContentType(Make(http::Verb::post, "/fhir/Patient/_search",
                                     {{"Content-Type", "application/json"}}, "family=du"),
                                BodyMedia::kForm));
}

TEST(FhirRequest, QueryDropsFormatAndPrettyAndRefusesNonJsonFormats) {
  auto query = QueryOf(Make(http::Verb::get,
                            "/fhir/Patient?_format=json&family=du&_pretty=true"
                            "&given=h%C3%A9"));
  ASSERT_TRUE(query);
  EXPECT_EQ(*query, "family=du&given=h%C3%A9");
  EXPECT_TRUE(QueryOf(Make(http::Verb::get, "/fhir/Patient?_format=application%2Ffhir%2Bjson")));
  auto xml = QueryOf(Make(http::Verb::get, "/fhir/Patient?_format=xml"));
  ASSERT_FALSE(xml);
  EXPECT_EQ(xml.error().failure, Failure::kUnsupportedMedia);
  EXPECT_EQ(xml.error().issues.at(0).expression, "_format");
  EXPECT_EQ(*QueryOf(Make(http::Verb::get, "/fhir/Patient")), "");
}

TEST(FhirRequest, OnlyAFhirJsonAcceptOrFormatAsksForTheBinaryResource) {
  EXPECT_FALSE(AcceptsFhirJson(Make(http::Verb::get, "/fhir/Binary/1")));
  EXPECT_FALSE(AcceptsFhirJson(Make(http::Verb::get, "/fhir/Binary/1", {{"Accept", "*/*"}})));
  EXPECT_FALSE(
      AcceptsFhirJson(Make(http::Verb::get, "/fhir/Binary/1", {{"Accept", "application/pdf"}})));
  EXPECT_TRUE(AcceptsFhirJson(Make(http::Verb::get, "/fhir/Binary/1",
                                   {{"Accept", "application/pdf, application/fhir+json"}})));
  EXPECT_TRUE(AcceptsFhirJson(Make(http::Verb::get, "/fhir/Binary/1?_format=json")));
}

TEST(FhirRequest, IdsAndVersionsFollowTheFhirRules) {
  EXPECT_TRUE(IsValidId("6f1c2a3e-0000-4000-8000-000000000001"));
  EXPECT_TRUE(IsValidId("a.b-C"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_FALSE(IsValidId("a%20b"));
  EXPECT_EQ(ParseVersionId("12"), 12);
  EXPECT_EQ(ParseVersionId("0"), std::nullopt);
  EXPECT_EQ(ParseVersionId("-1"), std::nullopt);
  EXPECT_EQ(ParseVersionId("1x"), std::nullopt);
  EXPECT_EQ(ParseVersionId("99999999999999999999"), std::nullopt);
}

TEST(FhirRequest, IfMatchTakesWeakAndStrongEtagsAndRefusesOthers) {
  EXPECT_EQ(IfMatchOf(Make(http::Verb::put, "/", {{"If-Match", "W/\"3\""}})).value(), 3);
  EXPECT_EQ(IfMatchOf(Make(http::Verb::put, "/", {{"If-Match", "\"7\""}})).value(), 7);
  EXPECT_EQ(IfMatchOf(Make(http::Verb::put, "/")).value(), std::nullopt);
  auto bad = IfMatchOf(Make(http::Verb::put, "/", {{"If-Match", "W/\"three\""}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().failure, Failure::kInvalid);
  EXPECT_EQ(bad.error().issues.at(0).expression, "If-Match");
  EXPECT_EQ(bad.error().issues.at(0).diagnostics.find("three"), std::string::npos);
}

TEST(FhirRequest, PreferReturnIsRead) {
  EXPECT_EQ(ReturnPreferenceOf(Make(http::Verb::post, "/")), ReturnPreference::kRepresentation);
  EXPECT_EQ(ReturnPreferenceOf(Make(http::Verb::post, "/", {{"Prefer", "return=minimal"}})),
            ReturnPreference::kMinimal);
  EXPECT_EQ(ReturnPreferenceOf(Make(http::Verb::post, "/",
                                    {{"Prefer", "handling=strict; return=OperationOutcome"}})),
            ReturnPreference::kOperationOutcome);
}

TEST(FhirRequest, TypeHistoryNeedsAPatientForCompartmentTypesAndNamesUnknownParameters) {
  auto observation = ParseTypeHistoryQuery("Observation", "patient=Patient%2Fabc&_count=5");
  ASSERT_TRUE(observation);
  EXPECT_EQ(observation->patient_id, "abc");
  EXPECT_EQ(observation->count, 5u);
  auto missing = ParseTypeHistoryQuery("Observation", "_count=5");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().issues.at(0).expression, "patient");
  auto unknown = ParseTypeHistoryQuery("Observation", "patient=abc&colour=blue&_count=500");
  ASSERT_FALSE(unknown);
  ASSERT_EQ(unknown.error().issues.size(), 2u);
  EXPECT_EQ(unknown.error().issues[0].expression, "colour");
  EXPECT_EQ(unknown.error().issues[1].expression, "_count");
  EXPECT_TRUE(ParseTypeHistoryQuery("Organization", "_count=10"));
  EXPECT_FALSE(ParseTypeHistoryQuery("Organization", "patient=abc"));
}

TEST(FhirRequest, BearerTokensAreTakenFromTheAuthorizationHeader) {
  EXPECT_EQ(BearerTokenOf(Make(http::Verb::get, "/")), std::nullopt);
  EXPECT_EQ(BearerTokenOf(Make(http::Verb::get, "/", {{"Authorization", "Bearer abc"}})), "abc");
  EXPECT_EQ(BearerTokenOf(Make(http::Verb::get, "/", {{"Authorization", "bearer  abc "}})), "abc");
  EXPECT_EQ(BearerTokenOf(Make(http::Verb::get, "/", {{"Authorization", "Basic dXNlcg=="}})), "");
}

}  // namespace
}  // namespace medvault::api
