#include "fhir/outcome.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "core/error.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;

TEST(FhirOutcome, EveryFailureHasItsHttpStatus) {
  EXPECT_EQ(HttpStatusOf(Failure::kInvalid), 400);
  EXPECT_EQ(HttpStatusOf(Failure::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(Failure::kForbidden), 403);
  EXPECT_EQ(HttpStatusOf(Failure::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(Failure::kMethodNotAllowed), 405);
  EXPECT_EQ(HttpStatusOf(Failure::kConflict), 409);
  EXPECT_EQ(HttpStatusOf(Failure::kGone), 410);
  EXPECT_EQ(HttpStatusOf(Failure::kPreconditionFailed), 412);
  EXPECT_EQ(HttpStatusOf(Failure::kTooLarge), 413);
  EXPECT_EQ(HttpStatusOf(Failure::kUnsupportedMedia), 415);
  EXPECT_EQ(HttpStatusOf(Failure::kBusinessRule), 422);
  EXPECT_EQ(HttpStatusOf(Failure::kTooMany), 429);
  EXPECT_EQ(HttpStatusOf(Failure::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(Failure::kUnavailable), 503);
}

TEST(FhirOutcome, RefuseMakesOneErrorIssue) {
  auto refused = Refuse(Failure::kNotFound, IssueType::kNotFound, "Patient.id", "no such patient");
  const Outcome& outcome = refused.error();
  EXPECT_EQ(outcome.failure, Failure::kNotFound);
  ASSERT_EQ(outcome.issues.size(), 1u);
  EXPECT_EQ(outcome.issues[0].severity, Severity::kError);
  EXPECT_EQ(outcome.issues[0].code, IssueType::kNotFound);
  EXPECT_EQ(outcome.issues[0].expression, "Patient.id");
  EXPECT_EQ(outcome.issues[0].diagnostics, "no such patient");
}

TEST(FhirOutcome, OperationOutcomeJsonListsEveryIssue) {
  Outcome outcome;
  outcome.failure = Failure::kInvalid;
  outcome.issues.push_back(Issue{.severity = Severity::kError,
                                 .code = IssueType::kCodeInvalid,
                                 .expression = "Patient.gender",
                                 .diagnostics = "the code is not in the required value set"});
  outcome.issues.push_back(Issue{.severity = Severity::kWarning,
                                 .code = IssueType::kRequired,
                                 .expression = "",
                                 .diagnostics = "something else"});
  const json::object out = OperationOutcomeJson(outcome);
  EXPECT_EQ(out.at("resourceType"), "OperationOutcome");
  const json::array& issues = out.at("issue").as_array();
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].at("severity"), "error");
  EXPECT_EQ(issues[0].at("code"), "code-invalid");
  EXPECT_EQ(issues[0].at("expression").as_array().at(0), "Patient.gender");
  EXPECT_EQ(issues[0].at("diagnostics"), "the code is not in the required value set");
  EXPECT_EQ(issues[1].at("severity"), "warning");
  EXPECT_EQ(issues[1].at("code"), "required");
  EXPECT_FALSE(issues[1].as_object().contains("expression"));
}

TEST(FhirOutcome, InformationOutcomeHasOneInformationalIssue) {
  const json::object out = InformationOutcomeJson("deleted");
  const json::array& issues = out.at("issue").as_array();
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].at("severity"), "information");
  EXPECT_EQ(issues[0].at("code"), "informational");
  EXPECT_EQ(issues[0].at("diagnostics"), "deleted");
}

TEST(FhirOutcome, CoreErrorsMapToFailures) {
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kInvalidArgument, "x")).failure, Failure::kInvalid);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kNotFound, "x")).failure, Failure::kNotFound);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kAlreadyExists, "x")).failure, Failure::kConflict);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kConflict, "x")).failure, Failure::kConflict);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kPermissionDenied, "x")).failure, Failure::kForbidden);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kUnavailable, "x")).failure, Failure::kUnavailable);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kDataLoss, "x")).failure, Failure::kInternal);
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kInternal, "x")).failure, Failure::kInternal);
}

TEST(FhirOutcome, OnlySafeCoreMessagesAreKept) {
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kInvalidArgument, "bad count")).issues.at(0).diagnostics,
            "bad count");
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kConflict, "version moved")).issues.at(0).diagnostics,
            "version moved");
  EXPECT_EQ(OutcomeOf(Error(ErrorCode::kAlreadyExists, "exists")).issues.at(0).diagnostics,
            "exists");
  for (ErrorCode code : {ErrorCode::kNotFound, ErrorCode::kPermissionDenied,
                         ErrorCode::kUnavailable, ErrorCode::kDataLoss, ErrorCode::kInternal}) {
    const Outcome outcome = OutcomeOf(Error(code, "row 42 of patient 7 is secret"));
    ASSERT_EQ(outcome.issues.size(), 1u);
    EXPECT_EQ(outcome.issues[0].diagnostics.find("secret"), std::string::npos);
    EXPECT_FALSE(outcome.issues[0].diagnostics.empty());
  }
  const Outcome internal = OutcomeOf(Error(ErrorCode::kInternal, "sqlite said no"));
  EXPECT_NE(internal.issues[0].diagnostics.find("request id in the logs"), std::string::npos);
}

}  // namespace
}  // namespace medvault::fhir
