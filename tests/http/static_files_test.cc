#include "http/static_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

namespace medvault::http {
namespace {

constexpr StaticFile kFiles[] = {
    {"index.html", "text/html; charset=utf-8", "<!doctype html>", R"("aaaa")"},
    {"portal.js", "text/javascript; charset=utf-8", "export {};", R"("bbbb")"},
};

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(AddStaticRoutes(router_, kFiles, "index.html")); }

  std::optional<Response> Get(std::string_view target, std::string_view if_none_match = {}) {
    auto match = router_.Find(Verb::get, target);
    if (match.outcome != Router::Outcome::kFound) return std::nullopt;
    Request request{Verb::get, target, 11};
    if (!if_none_match.empty()) request.set(beast_http::field::if_none_match, if_none_match);
    RequestContext context{.request_id = "test", .route = match.route, .params = match.params, .peer = {}};
    std::optional<Response> answer;
    (*match.handler)(request, context, [&answer](Response response) { answer = response; });
    return answer;
  }

  Router router_;
};

TEST_F(StaticFilesTest, RootServesTheIndexPage) {
  auto response = Get("/");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), Status::ok);
  EXPECT_EQ(response->body(), "<!doctype html>");
  EXPECT_EQ((*response)[beast_http::field::content_type], "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, AssetsCarryTheirTypeEtagAndNoCache) {
  auto response = Get("/app/portal.js");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), Status::ok);
  EXPECT_EQ(response->body(), "export {};");
  EXPECT_EQ((*response)[beast_http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ((*response)[beast_http::field::etag], R"("bbbb")");
  EXPECT_EQ((*response)[beast_http::field::cache_control], "no-cache");
}

TEST_F(StaticFilesTest, MatchingIfNoneMatchGivesNotModifiedWithoutBody) {
  for (std::string_view header : {R"("bbbb")", R"("x", "bbbb")", R"(W/"bbbb")", "*"}) {
    auto response = Get("/app/portal.js", header);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), Status::not_modified) << header;
    EXPECT_TRUE(response->body().empty()) << header;
    EXPECT_EQ((*response)[beast_http::field::etag], R"("bbbb")");
  }
}

TEST_F(StaticFilesTest, OtherEtagGivesTheFile) {
  auto response = Get("/app/portal.js", R"("aaaa")");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), Status::ok);
  EXPECT_EQ(response->body(), "export {};");
}

TEST_F(StaticFilesTest, UnknownFileIsNotFound) {
  for (std::string_view target : {"/app/missing.js", "/app/portal.JS", "/app/%70ortal.js"}) {
    auto response = Get(target);
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->result(), Status::not_found) << target;
    EXPECT_EQ(response->body().find("export"), std::string::npos);
  }
}

TEST_F(StaticFilesTest, NoRouteOutsideTheAppFolder) {
  EXPECT_FALSE(Get("/app/../index.html"));
  EXPECT_FALSE(Get("/app/sub/portal.js"));
  EXPECT_FALSE(Get("/portal.js"));
}

TEST(StaticFiles, MissingIndexIsRefused) {
  Router router;
  EXPECT_FALSE(AddStaticRoutes(router, kFiles, "home.html"));
}

TEST(WebAssets, EmbedsThePortalWithStrongEtagsAndModuleType) {
  auto files = WebAssets();
  auto find = [&](std::string_view name) {
    return std::ranges::find(files, name, [](const StaticFile& file) { return file.name; });
  };
  ASSERT_NE(find("index.html"), files.end());
  auto script = find("portal.js");
  ASSERT_NE(script, files.end());
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  for (const auto& file : files) {
    EXPECT_FALSE(file.bytes.empty()) << file.name;
    EXPECT_EQ(file.etag.size(), 34u) << file.name;
    EXPECT_TRUE(file.etag.starts_with('"') && file.etag.ends_with('"')) << file.name;
    EXPECT_FALSE(file.etag.starts_with("W/")) << file.name;
  }
}

}  // namespace
}  // namespace medvault::http
