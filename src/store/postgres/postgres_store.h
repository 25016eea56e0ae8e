// The shared store: a PostgreSQL database that several medvault processes may use at once.
// Thread-safe: each transaction borrows a connection from a bounded pool. Transactions run at
// REPEATABLE READ, so reads see one snapshot and a write racing another committed write is
// aborted by the server; such aborts (and deadlocks, and connections found dropped before
// commit) are retried a few times with a fresh snapshot, after which the expected-version
// checks decide. Migrations are serialized across processes by a transaction-scoped
// advisory lock.
#pragma once

#include <memory>
#include <string>

#include "store/postgres/connection_pool.h"
#include "store/store.h"

namespace medvault::store::postgres {

class PostgresStore final : public Store {
 public:
  // `url` is a libpq URI (postgres:// or postgresql://). Connects once, then migrates.
  static Result<std::unique_ptr<Store>> Open(const std::string& url, const Options& options);

 protected:
  Status RunTransaction(const TransactionBody& body, Access access) override;
  Status RunPing() override;
  Result<std::vector<int>> ReadAppliedMigrations() override;

 private:
  PostgresStore(std::string url, const Options& options);
  Status Migrate();

  ConnectionPool pool_;
};

}  // namespace medvault::store::postgres
