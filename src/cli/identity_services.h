// The identity services a vault runs with (hasher pool, sessions, throttles, login, API
// clients), built from its configuration; shared by `medvault serve` and the account and
// client commands. Auth events go to the tamper-evident audit log.
#pragma once

#include <memory>

#include "audit/audit_log.h"
#include "cli/vault.h"
#include "core/clock.h"
#include "core/error.h"
#include "identity/accounts.h"
#include "identity/api_clients.h"
#include "identity/auth_events.h"
#include "identity/login.h"
#include "identity/password_hasher.h"
#include "identity/sessions.h"
#include "identity/throttle.h"

namespace medvault::cli {

// Appends each auth event to the audit log (ids and fixed words only) and writes it as one
// log line. `client` names the front end in the entry: "api" for the server, "cli" for the
// medvault command, whose actor is the operator at the console. Record waits for the durable
// append; an event the log refuses is logged as audit_write_failed (AuthEventSink cannot fail
// the request yet: see issue 5's note).
class AuditAuthEvents final : public identity::AuthEventSink {
 public:
  AuditAuthEvents(audit::AuditLog& log, std::string client)
      : log_(log), client_(std::move(client)) {}
  Status Record(const identity::AuthEvent& event) override;

 private:
  audit::AuditLog& log_;
  std::string client_;
};

// The audit entry of one auth event (exposed for tests).
audit::Entry AuditEntryOf(const identity::AuthEvent& event, std::string_view client);

struct IdentityServices {
  SystemClock clock;
  std::unique_ptr<AuditAuthEvents> events;
  std::unique_ptr<identity::PasswordHasher> hasher;
  std::unique_ptr<identity::Sessions> sessions;
  std::unique_ptr<identity::SourceThrottle> source_throttle;
  std::unique_ptr<identity::StuffingDetector> stuffing;
  std::unique_ptr<identity::Accounts> accounts;
  std::unique_ptr<identity::ApiClients> clients;
  std::unique_ptr<identity::LoginService> login;
};

// Errors name the configuration key that is wrong.
Result<std::unique_ptr<IdentityServices>> MakeIdentityServices(OpenedVault& vault,
                                                               audit::AuditLog& audit_log);

}  // namespace medvault::cli
