// Authentication events for the audit log: every login step, enrollment, reset, step-up and
// lockout is reported here, as ids and fixed words only (never a login name typed by a user,
// a password, a code or a token). The server wires the sink to the audit log; tests record.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/error.h"

namespace medvault::identity {

struct AuthEvent {
  Timestamp at;
  std::string account_id;    // empty when the login named no account
  std::string account_kind;  // patient, clinician, ... or empty
  std::string source;        // the client's address
  std::string event;         // e.g. "login_password", "login_second_factor", "enrollment_reset"
  std::string outcome;       // "success", "failure", "throttled", "disabled", "refused"
  std::string actor_id;      // who acted on the account (an administrator), when not its owner
};

// Thread-safe implementations only: events arrive from network and hashing threads.
//
// Fail-closed: Record returns once the event is durably recorded. When it fails
// (kUnavailable), a success that hands something out (a session, a pending login, an
// enrollment, recovery codes, an access token) is withdrawn and the caller gets the error, so
// nothing leaves that the audit log does not hold; a refusal is answered as a refusal anyway.
class AuthEventSink {
 public:
  virtual ~AuthEventSink() = default;
  virtual Status Record(const AuthEvent& event) = 0;
};

// Drops every event, for tools that have no audit log yet.
class NoAuthEvents final : public AuthEventSink {
 public:
  Status Record(const AuthEvent&) override { return {}; }
};

}  // namespace medvault::identity
