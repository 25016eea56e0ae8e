// The identity services a vault runs with (hasher pool, sessions, throttles, login, API
// clients), built from its configuration; shared by `medvault serve` and the account and
// client commands. Auth events go to the structured log until the audit log takes them.
#pragma once

#include <memory>

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

// Writes each auth event as one log line of ids and fixed words.
class LogAuthEvents final : public identity::AuthEventSink {
 public:
  void Record(const identity::AuthEvent& event) override;
};

struct IdentityServices {
  SystemClock clock;
  LogAuthEvents events;
  std::unique_ptr<identity::PasswordHasher> hasher;
  std::unique_ptr<identity::Sessions> sessions;
  std::unique_ptr<identity::SourceThrottle> source_throttle;
  std::unique_ptr<identity::StuffingDetector> stuffing;
  std::unique_ptr<identity::Accounts> accounts;
  std::unique_ptr<identity::ApiClients> clients;
  std::unique_ptr<identity::LoginService> login;
};

// Errors name the configuration key that is wrong.
Result<std::unique_ptr<IdentityServices>> MakeIdentityServices(OpenedVault& vault);

}  // namespace medvault::cli
