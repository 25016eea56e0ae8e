// The embedded store: one SQLite file in WAL mode with durable commits (synchronous=FULL),
// foreign keys on, deleted content overwritten (secure_delete). Thread-safe: writing
// transactions of one process run one at a time on the writer connection; read-only ones run
// on a small pool of query-only connections beside it (WAL readers see the last commit and
// never wait for a writer, not even while it syncs). Other processes on the same file wait up
// to the busy timeout, then get kUnavailable.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  struct Reader;
  class ReaderLoan;

  SqliteStore(sqlite3* db, std::unique_ptr<Session> session);
  Status Migrate();
  Status RunReadOnly(const TransactionBody& body);

  std::mutex mutex_;  // the writer connection
  sqlite3* db_;
  std::unique_ptr<Session> session_;

  std::mutex readers_mutex_;
  std::condition_variable reader_returned_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<Reader*> idle_readers_;
};

}  // namespace medvault::store::sqlite
