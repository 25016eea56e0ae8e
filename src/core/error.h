// Errors as values. Every fallible function returns Result<T>; an Error carries a
// code and a message that is safe to log: it never contains health data, secrets,
// or anything a client sent.
#pragma once

#include <string>
#include <utility>

#include "core/expected.h"

namespace medvault {

enum class ErrorCode {
  kInvalidArgument,   // the caller passed something malformed
  kNotFound,          // the thing asked for does not exist
  kAlreadyExists,     // refusing to overwrite
  kPermissionDenied,  // file modes, policy, authentication
  kConflict,          // optimistic concurrency: version mismatch
  kUnavailable,       // a dependency (store, audit log, port) cannot be used now
  kDataLoss,          // integrity check failed: ciphertext or file altered
  kInternal,          // a bug or an unexpected library failure
  kUnauthenticated,   // a fresher credential is needed first: a step-up (second factor)
};

// Stable lower-case name of a code, for logs and JSON.
const char* ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Error>;

// Result<void> for operations that only succeed or fail.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace medvault
