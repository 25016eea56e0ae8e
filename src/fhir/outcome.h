// FHIR failures as values: what went wrong (issues naming the element and the problem) and
// which class of failure it is, which the API turns into an HTTP status and an
// OperationOutcome body. Every layer that speaks FHIR (fhir, records, api) returns these.
//
// Rule: diagnostics say what is wrong and how to fix it, and name the element by its FHIRPath
// ("Patient.identifier[0].value"); they never quote a value from the request or a record, and
// never reveal whether another patient or resource exists (a resource the caller may not see
// is kNotFound, exactly as one that does not exist).
//
// Thread-safe: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <expected>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault::fhir {

enum class Severity { kFatal, kError, kWarning, kInformation };

// The FHIR IssueType codes medvault uses (http://hl7.org/fhir/issue-type).
enum class IssueType {
  kInvalid,
  kStructure,
  kRequired,
  kValue,
  kInvariant,
  kSecurity,
  kLogin,
  kForbidden,
  kNotFound,
  kDeleted,
  kTooLong,
  kCodeInvalid,
  kNotSupported,
  kDuplicate,
  kConflict,
  kBusinessRule,
  kTransient,
  kException,
  kTooCostly,
  kProcessing,
  kInformational,
};

struct Issue {
  Severity severity = Severity::kError;
  IssueType code = IssueType::kInvalid;
  std::string expression;   // FHIRPath of the element at fault; empty when none applies
  std::string diagnostics;  // what is wrong and what to do, never a value
};

// The class of a failure; HttpStatusOf gives its status.
enum class Failure {
  kInvalid,             // 400 malformed or invalid request or resource
  kUnauthenticated,     // 401 no valid session or token
  kForbidden,           // 403 authenticated, not allowed
  kNotFound,            // 404 (also: exists but the caller may not know it does)
  kMethodNotAllowed,    // 405
  kConflict,            // 409 version conflict without If-Match, duplicate
  kGone,                // 410 deleted
  kPreconditionFailed,  // 412 If-Match does not match, or If-None-Exist matched several
  kTooLarge,            // 413
  kUnsupportedMedia,    // 415
  kBusinessRule,        // 422 valid FHIR that medvault's rules refuse
  kTooMany,             // 429
  kInternal,            // 500
  kUnavailable,         // 503 store or audit log cannot be used now
};

struct Outcome {
  Failure failure = Failure::kInvalid;
  std::vector<Issue> issues;  // at least one
};

template <typename T>
using FhirResult = std::expected<T, Outcome>;
using FhirStatus = std::expected<void, Outcome>;

// One-issue failure.
std::unexpected<Outcome> Refuse(Failure failure, IssueType code, std::string expression,
                                std::string diagnostics);

// The HTTP status code of a failure class (400, 401, ...).
int HttpStatusOf(Failure failure);

// A core Error as a FHIR failure: kInvalidArgument -> kInvalid, kNotFound -> kNotFound,
// kAlreadyExists and kConflict -> kConflict, kPermissionDenied -> kForbidden, kUnavailable ->
// kUnavailable, kDataLoss and kInternal -> kInternal (with a fixed message: "the request id in
// the logs tells the operators more"; the Error's own message is kept only for kInvalidArgument,
// kConflict and kAlreadyExists, whose messages are safe by core's rule).
Outcome OutcomeOf(const Error& error);

// {"resourceType":"OperationOutcome","issue":[...]} for a failure.
boost::json::object OperationOutcomeJson(const Outcome& outcome);
// An OperationOutcome with one information issue, for answers that have no resource to
// return (a delete, a $validate that passed).
boost::json::object InformationOutcomeJson(std::string diagnostics);

}  // namespace medvault::fhir
