#include "http/router.h"

#include <gtest/gtest.h>

namespace medvault::http {
namespace {

Handler Named(std::string name) {
  return [name](const Request&, const RequestContext&) {
    Response response;
    response.body() = name;
    return response;
  };
}

std::string Call(const Router::Match& match) {
  if (match.outcome != Router::Outcome::kFound) return "<none>";
  std::string body;
  (*match.handler)(Request{}, RequestContext{},
                   [&body](Response response) { body = response.body(); });
  return body;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_.Add(Verb::get, "/", Named("root")));
    ASSERT_TRUE(router_.Add(Verb::get, "/healthz", Named("health")));
    ASSERT_TRUE(router_.Add(Verb::get, "/fhir/metadata", Named("metadata")));
    ASSERT_TRUE(router_.Add(Verb::get, "/fhir/{type}", Named("search")));
    ASSERT_TRUE(router_.Add(Verb::post, "/fhir/{type}", Named("create")));
    ASSERT_TRUE(router_.Add(Verb::get, "/fhir/{type}/{id}", Named("read")));
    ASSERT_TRUE(router_.Add(Verb::get, "/fhir/{type}/{id}/_history/{vid}", Named("vread")));
  }
  Router router_;
};

TEST_F(RouterTest, LiteralSegmentBeatsParameter) {
  auto match = router_.Find(Verb::get, "/fhir/metadata");
  EXPECT_EQ(Call(match), "metadata");
  EXPECT_EQ(match.route, "/fhir/metadata");
}

TEST_F(RouterTest, ParametersAreCapturedInOrderAndTheTemplateIsReported) {
  auto match = router_.Find(Verb::get, "/fhir/Patient/123/_history/2?_format=json");
  ASSERT_EQ(match.outcome, Router::Outcome::kFound);
  EXPECT_EQ(Call(match), "vread");
  EXPECT_EQ(match.route, "/fhir/{type}/{id}/_history/{vid}");
  EXPECT_EQ(match.params.Get("type"), "Patient");
  EXPECT_EQ(match.params.Get("id"), "123");
  EXPECT_EQ(match.params.Get("vid"), "2");
}

TEST_F(RouterTest, BacktracksFromALiteralDeadEndToTheParameterRoute) {
  // "metadata" matches the literal node, which has no child "x": the parameter route wins.
  auto match = router_.Find(Verb::get, "/fhir/metadata/x");
  EXPECT_EQ(Call(match), "read");
  EXPECT_EQ(match.params.Get("type"), "metadata");
  EXPECT_EQ(match.params.Get("id"), "x");
}

TEST_F(RouterTest, QueryStringIsIgnoredForMatching) {
  EXPECT_EQ(Call(router_.Find(Verb::get, "/healthz?verbose=1")), "health");
  EXPECT_EQ(Call(router_.Find(Verb::get, "/")), "root");
}

TEST_F(RouterTest, WrongMethodListsTheAllowedOnes) {
  auto match = router_.Find(Verb::delete_, "/fhir/Patient");
  ASSERT_EQ(match.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(match.allowed, (std::vector<Verb>{Verb::get, Verb::post}));
}

TEST_F(RouterTest, HeadIsAnsweredByTheGetRoute) {
  EXPECT_EQ(Call(router_.Find(Verb::head, "/healthz")), "health");
}

TEST_F(RouterTest, DotSegmentsEmptySegmentsAndRelativeTargetsNeverMatch) {
  for (const char* target : {"/fhir/../healthz", "/fhir/./Patient", "//healthz", "/healthz/",
                             "/fhir//Patient", "healthz", "", "*", "http://x/healthz"}) {
    EXPECT_EQ(router_.Find(Verb::get, target).outcome, Router::Outcome::kNotFound) << target;
  }
}

TEST(Router, ATrailingSlashMatchesOnlyATemplateWithOne) {
  Router router;
  ASSERT_TRUE(router.Add(Verb::post, "/fhir", Named("system")));
  ASSERT_TRUE(router.Add(Verb::post, "/fhir/", Named("system-slash")));
  ASSERT_TRUE(router.Add(Verb::get, "/fhir/{type}", Named("search")));
  ASSERT_TRUE(router.Add(Verb::get, "/fhir/{type}/{id}", Named("read")));
  EXPECT_EQ(Call(router.Find(Verb::post, "/fhir")), "system");
  EXPECT_EQ(Call(router.Find(Verb::post, "/fhir/")), "system-slash");
  EXPECT_EQ(router.Find(Verb::post, "/fhir/").route, "/fhir/");
  EXPECT_EQ(router.Find(Verb::get, "/fhir/").outcome, Router::Outcome::kMethodNotAllowed)
      << "no parameter takes the trailing slash";
  EXPECT_EQ(router.Find(Verb::get, "/fhir/Patient/").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(router.Find(Verb::post, "/fhir//").outcome, Router::Outcome::kNotFound);
}

TEST_F(RouterTest, PercentEncodingIsNotDecoded) {
  auto match = router_.Find(Verb::get, "/fhir/Patient/a%2Fb");
  EXPECT_EQ(match.params.Get("id"), "a%2Fb");
  EXPECT_EQ(router_.Find(Verb::get, "/fhir%2Fmetadata").outcome, Router::Outcome::kNotFound);
}

TEST_F(RouterTest, TooManySegmentsDoNotMatch) {
  std::string target;
  for (std::size_t i = 0; i <= Router::kMaxSegments; ++i) target += "/a";
  EXPECT_EQ(router_.Find(Verb::get, target).outcome, Router::Outcome::kNotFound);
}

TEST(Router, RefusesDuplicateAndMalformedTemplates) {
  Router router;
  ASSERT_TRUE(router.Add(Verb::get, "/a/{id}", Named("a")));
  EXPECT_FALSE(router.Add(Verb::get, "/a/{id}", Named("again")));
  EXPECT_FALSE(router.Add(Verb::get, "/a/{other}/b", Named("renamed")));
  EXPECT_FALSE(router.Add(Verb::get, "no-slash", Named("x")));
  EXPECT_FALSE(router.Add(Verb::get, "/a/../b", Named("x")));
  EXPECT_FALSE(router.Add(Verb::get, "/a/x{y}", Named("x")));
}

}  // namespace
}  // namespace medvault::http
