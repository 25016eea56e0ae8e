// The embedded store: one SQLite file in WAL mode with durable commits (synchronous=FULL),
// foreign keys on, deleted content overwritten (secure_delete). Thread-safe: one connection
// behind a mutex, so transactions of one process run one at a time; other processes on the
// same file wait up to the busy timeout, then get kUnavailable.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

struct sqlite3;

namespace medvault::store::sqlite {

class SqliteStore final : public Store {
 public:
  // Creates the file (mode 0600) if needed and applies missing migrations.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const Options& options);
  ~SqliteStore() override;

 protected:
  Status RunTransaction(const TransactionBody& body, Access access) override;
  Status RunPing() override;
  Result<std::vector<int>> ReadAppliedMigrations() override;

 private:
  class Session;

  SqliteStore(sqlite3* db, std::unique_ptr<Session> session);
  Status Migrate();

  std::mutex mutex_;
  sqlite3* db_;
  std::unique_ptr<Session> session_;
};

}  // namespace medvault::store::sqlite
