#include "fhir/outcome.h"

#include <boost/json/array.hpp>
#include <utility>

namespace medvault::fhir {

namespace json = boost::json;

namespace {

std::string_view SeverityCode(Severity severity) {
  switch (severity) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInformation:
      return "information";
  }
  return "error";
}

std::string_view IssueTypeCode(IssueType code) {
  switch (code) {
    case IssueType::kInvalid:
      return "invalid";
    case IssueType::kStructure:
      return "structure";
    case IssueType::kRequired:
      return "required";
    case IssueType::kValue:
      return "value";
    case IssueType::kInvariant:
      return "invariant";
    case IssueType::kSecurity:
      return "security";
    case IssueType::kLogin:
      return "login";
    case IssueType::kForbidden:
      return "forbidden";
    case IssueType::kNotFound:
      return "not-found";
    case IssueType::kDeleted:
      return "deleted";
    case IssueType::kTooLong:
      return "too-long";
    case IssueType::kCodeInvalid:
      return "code-invalid";
    case IssueType::kNotSupported:
      return "not-supported";
    case IssueType::kDuplicate:
      return "duplicate";
    case IssueType::kConflict:
      return "conflict";
    case IssueType::kBusinessRule:
      return "business-rule";
    case IssueType::kTransient:
      return "transient";
    case IssueType::kException:
      return "exception";
    case IssueType::kTooCostly:
      return "too-costly";
    case IssueType::kProcessing:
      return "processing";
    case IssueType::kInformational:
      return "informational";
  }
  return "exception";
}

json::object IssueJson(const Issue& issue) {
  json::object out;
  out["severity"] = SeverityCode(issue.severity);
  out["code"] = IssueTypeCode(issue.code);
  if (!issue.diagnostics.empty()) out["diagnostics"] = issue.diagnostics;
  if (!issue.expression.empty()) out["expression"] = json::array{json::string(issue.expression)};
  return out;
}

}  // namespace

std::unexpected<Outcome> Refuse(Failure failure, IssueType code, std::string expression,
                                std::string diagnostics) {
  Outcome outcome;
  outcome.failure = failure;
  outcome.issues.push_back(Issue{.severity = Severity::kError,
                                 .code = code,
                                 .expression = std::move(expression),
                                 .diagnostics = std::move(diagnostics)});
  return std::unexpected<Outcome>(std::move(outcome));
}

int HttpStatusOf(Failure failure) {
  switch (failure) {
    case Failure::kInvalid:
      return 400;
    case Failure::kUnauthenticated:
      return 401;
    case Failure::kForbidden:
      return 403;
    case Failure::kNotFound:
      return 404;
    case Failure::kMethodNotAllowed:
      return 405;
    case Failure::kConflict:
      return 409;
    case Failure::kGone:
      return 410;
    case Failure::kPreconditionFailed:
      return 412;
    case Failure::kTooLarge:
      return 413;
    case Failure::kUnsupportedMedia:
      return 415;
    case Failure::kBusinessRule:
      return 422;
    case Failure::kTooMany:
      return 429;
    case Failure::kInternal:
      return 500;
    case Failure::kUnavailable:
      return 503;
  }
  return 500;
}

Outcome OutcomeOf(const Error& error) {
  Failure failure = Failure::kInternal;
  IssueType code = IssueType::kException;
  std::string diagnostics;
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      failure = Failure::kInvalid;
      code = IssueType::kInvalid;
      diagnostics = error.message();
      break;
    case ErrorCode::kNotFound:
      failure = Failure::kNotFound;
      code = IssueType::kNotFound;
      diagnostics = "the resource was not found";
      break;
    case ErrorCode::kAlreadyExists:
      failure = Failure::kConflict;
      code = IssueType::kDuplicate;
      diagnostics = error.message();
      break;
    case ErrorCode::kConflict:
      failure = Failure::kConflict;
      code = IssueType::kConflict;
      diagnostics = error.message();
      break;
    case ErrorCode::kPermissionDenied:
      failure = Failure::kForbidden;
      code = IssueType::kForbidden;
      diagnostics = "the request is not allowed";
      break;
    case ErrorCode::kUnauthenticated:
      failure = Failure::kUnauthenticated;
      code = IssueType::kLogin;
      diagnostics = error.message();
      break;
    case ErrorCode::kUnavailable:
      failure = Failure::kUnavailable;
      code = IssueType::kTransient;
      diagnostics = "the service cannot be used now; retry later";
      break;
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
      failure = Failure::kInternal;
      code = IssueType::kException;
      diagnostics = "internal error: the request id in the logs tells the operators more";
      break;
  }
  Outcome outcome;
  outcome.failure = failure;
  outcome.issues.push_back(Issue{.severity = Severity::kError,
                                 .code = code,
                                 .expression = {},
                                 .diagnostics = std::move(diagnostics)});
  return outcome;
}

json::object OperationOutcomeJson(const Outcome& outcome) {
  json::array issues;
  for (const Issue& issue : outcome.issues) issues.push_back(IssueJson(issue));
  if (issues.empty()) {
    // An Outcome always has an issue; an empty one still yields a valid OperationOutcome.
    issues.push_back(IssueJson(Issue{.severity = Severity::kError,
                                     .code = IssueType::kException,
                                     .expression = {},
                                     .diagnostics = "the request failed"}));
  }
  json::object out;
  out["resourceType"] = "OperationOutcome";
  out["issue"] = std::move(issues);
  return out;
}

json::object InformationOutcomeJson(std::string diagnostics) {
  json::array issues;
  issues.push_back(IssueJson(Issue{.severity = Severity::kInformation,
                                   .code = IssueType::kInformational,
                                   .expression = {},
                                   .diagnostics = std::move(diagnostics)}));
  json::object out;
  out["resourceType"] = "OperationOutcome";
  out["issue"] = std::move(issues);
  return out;
}

}  // namespace medvault::fhir
