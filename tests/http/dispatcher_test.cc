#include "http/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <thread>

#include "core/log.h"

namespace medvault::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Dispatcher MakeDispatcher() {
  Router router;
  EXPECT_TRUE(router.Add(Verb::get, "/ok", [](const Request&, const RequestContext& context) {
    Response response{Status::ok, 11};
    response.body() = std::string(context.route);
    return response;
  }));
  EXPECT_TRUE(router.Add(Verb::get, "/asset", [](const Request&, const RequestContext&) {
    Response response{Status::ok, 11};
    response.set(beast_http::field::cache_control, "public, max-age=3600");
    response.set(beast_http::field::server, "leaky/1.0");
    return response;
  }));
  EXPECT_TRUE(
      router.Add(Verb::get, "/throws", [](const Request&, const RequestContext&) -> Response {
        throw std::runtime_error("patient Dupont has HIV");
      }));
  // Answers from another thread, as a handler that hashes a password on a worker pool does.
  EXPECT_TRUE(
      router.AddAsync(Verb::post, "/later",
                      [](const Request& request, const RequestContext& context, Respond respond) {
                        std::thread([body = request.body(), route = std::string(context.route),
                                     respond = std::move(respond)] {
                          Response response{Status::accepted, 11};
                          response.body() = route + " " + body;
                          respond(std::move(response));
                        }).detach();
                      }));
  EXPECT_TRUE(router.AddAsync(Verb::get, "/forgets",
                              [](const Request&, const RequestContext&, Respond) {}));
  EXPECT_TRUE(router.AddAsync(Verb::get, "/twice",
                              [](const Request&, const RequestContext&, Respond respond) {
                                respond(Response{Status::ok, 11});
                                respond(Response{Status::bad_request, 11});
                              }));
  EXPECT_TRUE(router.AddAsync(Verb::get, "/answers-then-throws",
                              [](const Request&, const RequestContext&, Respond respond) {
                                respond(Response{Status::created, 11});
                                throw std::runtime_error("after answering");
                              }));
  return Dispatcher(std::move(router));
}

Request Get(std::string_view target, Verb verb = Verb::get) {
  Request request{verb, target, 11};
  return request;
}

void ExpectSecurityHeaders(const Response& response) {
  EXPECT_EQ(response["Strict-Transport-Security"], "max-age=63072000; includeSubDomains");
  EXPECT_EQ(response["Content-Security-Policy"], "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(response["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(response.find(beast_http::field::server), response.end());
  EXPECT_EQ(response["X-Request-Id"].size(), 16u);
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { log::SetEnabled(false); }
  void TearDown() override { log::SetEnabled(true); }
  Dispatcher dispatcher_ = MakeDispatcher();
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
};

TEST_F(DispatcherTest, HandlerSeesItsRouteTemplateAndResponseGetsSecurityHeaders) {
  Response response = dispatcher_.Handle(Get("/ok?x=1"), "127.0.0.1:1", now_);
  EXPECT_EQ(response.result(), Status::ok);
  EXPECT_EQ(response.body(), "/ok");
  EXPECT_EQ(response[beast_http::field::cache_control], "no-store");
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, CacheableResponsesKeepTheirCacheControlButNeverAServerHeader) {
  Response response = dispatcher_.Handle(Get("/asset"), "", now_);
  EXPECT_EQ(response[beast_http::field::cache_control], "public, max-age=3600");
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, UnknownPathIsA404OperationOutcome) {
  Response response = dispatcher_.Handle(Get("/nope"), "", now_);
  EXPECT_EQ(response.result(), Status::not_found);
  EXPECT_EQ(response[beast_http::field::content_type], "application/fhir+json");
  EXPECT_THAT(response.body(), HasSubstr(R"("resourceType":"OperationOutcome")"));
  EXPECT_THAT(response.body(), HasSubstr(R"("code":"not-found")"));
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, WrongMethodIs405WithAllow) {
  Response response = dispatcher_.Handle(Get("/ok", Verb::delete_), "", now_);
  EXPECT_EQ(response.result(), Status::method_not_allowed);
  EXPECT_EQ(response[beast_http::field::allow], "GET");
}

TEST_F(DispatcherTest, HandlerExceptionIsA500ThatRevealsNothingOfItsMessage) {
  Response response = dispatcher_.Handle(Get("/throws"), "", now_);
  EXPECT_EQ(response.result(), Status::internal_server_error);
  EXPECT_THAT(response.body(), Not(HasSubstr("Dupont")));
  EXPECT_THAT(response.body(), HasSubstr(std::string(response["X-Request-Id"])));
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, HeadGetsTheLengthButNoBody) {
  Response response = dispatcher_.Handle(Get("/ok", Verb::head), "", now_);
  EXPECT_EQ(response.result(), Status::ok);
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(response[beast_http::field::content_length], "3");
}

TEST_F(DispatcherTest, AsyncHandlerAnswersFromAnotherThreadWithTheFinishedResponse) {
  Request request{Verb::post, "/later", 11};
  request.body() = "payload";
  std::promise<Response> answered;
  const auto caller = std::this_thread::get_id();
  std::thread::id answered_on;
  dispatcher_.HandleAsync(std::move(request), "127.0.0.1:9", now_, [&](Response response) {
    answered_on = std::this_thread::get_id();
    answered.set_value(std::move(response));
  });
  Response response = answered.get_future().get();
  EXPECT_NE(answered_on, caller);
  EXPECT_EQ(response.result(), Status::accepted);
  EXPECT_EQ(response.body(), "/later payload");  // the request outlived the call
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, AsyncHandlerThatDropsItsRespondStillGetsA500) {
  Response response = dispatcher_.Handle(Get("/forgets"), "", now_);
  EXPECT_EQ(response.result(), Status::internal_server_error);
  ExpectSecurityHeaders(response);
}

TEST_F(DispatcherTest, OnlyTheFirstAnswerOfAHandlerIsSent) {
  int answers = 0;
  Status status = Status::unknown;
  dispatcher_.HandleAsync(Get("/twice"), "", now_, [&](Response response) {
    ++answers;
    status = response.result();
  });
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(status, Status::ok);
  EXPECT_EQ(dispatcher_.Handle(Get("/answers-then-throws"), "", now_).result(), Status::created);
}

TEST_F(DispatcherTest, RejectClosesTheConnectionAndCarriesTheHeaders) {
  Response response = dispatcher_.Reject(Status::request_header_fields_too_large,
                                         "request header fields too large", 11, now_);
  EXPECT_EQ(response.result_int(), 431u);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_THAT(response.body(), HasSubstr(R"("code":"too-long")"));
  ExpectSecurityHeaders(response);
}

}  // namespace
}  // namespace medvault::http
