// The auth API's stable error codes, from the real errors of the password policy and of the
// request parser (not from copies of their messages), and the body that carries them.
#include "api/auth_errors.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/auth_request.h"
#include "identity/password_policy.h"

namespace medvault::api {
namespace {

// The code the API gives to the policy's refusal of `password`.
std::string_view PolicyCode(std::string_view password, std::vector<std::string> terms = {}) {
  auto normalized = identity::NormalizePassword(password);
  if (!normalized) return AuthErrorCodeFor(normalized.error());
  auto checked = identity::CheckNewPassword(*normalized, terms);
  EXPECT_FALSE(checked) << "the policy accepted a password the test expects refused";
  return checked ? std::string_view("accepted") : AuthErrorCodeFor(checked.error());
}

TEST(AuthErrorCodes, EveryPasswordRefusalHasItsOwnCode) {
  EXPECT_EQ(PolicyCode("Tr0ub4dor&3"), kErrPasswordTooShort);
  EXPECT_EQ(PolicyCode(std::string(300, 'x')), kErrPasswordTooLong);
  EXPECT_EQ(PolicyCode("valid start \xff\xfe and more"), kErrPasswordNotText);
  EXPECT_EQ(PolicyCode("violet tram\tledger quietly"), kErrPasswordControlCharacter);
  EXPECT_EQ(PolicyCode("helene.d forever 2026", {"helene.d", "Hélène Dupont"}),
            kErrPasswordContainsName);
  EXPECT_EQ(PolicyCode("correct horse battery staple"), kErrPasswordTooCommon);
  EXPECT_EQ(PolicyCode("abcdefghijklmnop"), kErrPasswordTooWeak);
}

TEST(AuthErrorCodes, EveryRequestParsingRefusalHasItsOwnCode) {
  static constexpr FieldRule kRules[] = {{"login", 8}, {"code", 8}};
  const auto code = [](std::string_view body) {
    auto parsed = ParseJsonFields(body, kRules);
    EXPECT_FALSE(parsed) << body;
    return parsed ? std::string_view("accepted") : AuthErrorCodeFor(parsed.error());
  };
  EXPECT_EQ(code(std::string(kMaxAuthBodyBytes + 1, ' ')), kErrRequestTooLarge);
  EXPECT_EQ(code("{\"login\":"), kErrRequestNotJson);
  EXPECT_EQ(code("[]"), kErrRequestNotObject);
  EXPECT_EQ(code("{\"login\":1,\"code\":\"a\"}"), kErrRequestMemberNotString);
  EXPECT_EQ(code("{\"login\":\"a\",\"code\":\"a\",\"other\":\"a\"}"), kErrRequestUnknownMember);
  EXPECT_EQ(code("{\"login\":\"much too long\",\"code\":\"a\"}"), kErrRequestMemberTooLong);
  EXPECT_EQ(code("{\"login\":\"a\"}"), kErrRequestMissingMember);
  // A member twice can only be told in a form body (JSON objects keep the last one).
  auto twice = ParseFormFields("login=a&login=b&code=c", kRules);
  ASSERT_FALSE(twice);
  EXPECT_EQ(AuthErrorCodeFor(twice.error()), kErrRequestDuplicateMember);
  auto form = ParseFormFields("login", kRules);
  ASSERT_FALSE(form);
  EXPECT_EQ(AuthErrorCodeFor(form.error()), kErrRequestNotForm);
}

TEST(AuthErrorCodes, UnknownMessagesGetTheGenericCodeOfTheirKind) {
  EXPECT_EQ(AuthErrorCodeFor(Error(ErrorCode::kInvalidArgument, "something new")),
            kErrInvalidRequest);
  EXPECT_EQ(AuthErrorCodeFor(Error(ErrorCode::kPermissionDenied, "something new")), kErrNotAllowed);
  EXPECT_EQ(AuthErrorCodeFor(Error(ErrorCode::kNotFound, "x")), kErrNotFound);
  EXPECT_EQ(AuthErrorCodeFor(Error(ErrorCode::kAlreadyExists, "x")), kErrAlreadyExists);
  EXPECT_EQ(AuthErrorCodeFor(Error(ErrorCode::kInternal, "x")), kErrInternal);
}

TEST(AuthProblem, IsAnOperationOutcomeWithTheCodeBesideTheSentence) {
  const http::Response response =
      AuthProblem(http::Status::bad_request, "invalid", kErrPasswordTooWeak, "Say \"why\".", 11);
  EXPECT_EQ(response.result(), http::Status::bad_request);
  EXPECT_EQ(response[http::beast_http::field::content_type], "application/fhir+json");
  const boost::json::value body = boost::json::parse(response.body());
  EXPECT_EQ(body.at("resourceType").as_string(), "OperationOutcome");
  const auto& issue = body.at("issue").as_array().at(0);
  EXPECT_EQ(issue.at("severity").as_string(), "error");
  EXPECT_EQ(issue.at("code").as_string(), "invalid");
  EXPECT_EQ(issue.at("diagnostics").as_string(), "Say \"why\".");
  const auto& coding = issue.at("details").at("coding").as_array();
  ASSERT_EQ(coding.size(), 1u);
  EXPECT_EQ(coding[0].at("system").as_string(), kAuthErrorSystem);
  EXPECT_EQ(coding[0].at("code").as_string(), "password_too_weak");
}

}  // namespace
}  // namespace medvault::api
