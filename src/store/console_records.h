// The rows of the security console's tables (migration 011_console): when each account last
// logged in with both factors, who acknowledged which alert, and which API clients an
// administrator disabled. Part of the store's public interface (included by store/store.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/identity_records.h"

namespace medvault::store {

// One account as the console lists it: the account row, its last full login (password and
// second factor; the epoch when never) and the kinds of its factors (password, totp, passkey,
// recovery_code), sorted, never their material.
struct AccountSummary {
  Account account;
  Timestamp last_login_at;
  std::vector<std::string> factor_kinds;
};

// A page of accounts by login: logins after `after_login`, of `kind` (empty: any), whose
// status starts with `status_prefix` ("pending" matches pending_enrollment and
// pending_approval; empty: any) and whose login starts with `login_prefix`.
struct AccountQuery {
  std::string after_login;
  std::string kind;
  std::string status_prefix;
  std::string login_prefix;
  std::size_t limit = 50;
};

// The first acknowledgement of an alert; later ones keep it.
struct AlertAck {
  std::int64_t alert_id = 0;
  std::string acknowledged_by;  // an account id
  Timestamp acknowledged_at;
};

}  // namespace medvault::store
