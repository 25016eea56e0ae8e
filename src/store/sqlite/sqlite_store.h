// The embedded store: one SQLite file in WAL mode with durable commits (synchronous=FULL),
// foreign keys on, deleted content overwritten (secure_delete). Thread-safe: writing
// transactions of one process run one at a time on the writer connection; read-only ones run
// on a small pool of query-only connections beside it (WAL readers see the last commit and
// never wait for a writer, not even while it syncs). Other processes on the same file wait up
// to the busy timeout, then get kUnavailable.
//
// Group commit: writing transactions that arrive while one commits are run together, one
// after the other inside one SQLite transaction, each in a savepoint of its own, and made
// durable by one commit (one sync). Each still sees the ones before it and fails or succeeds on
// its own: a body's error rolls back its savepoint only. None returns before the commit is
// durable; a failed commit fails them all.
//
// Checkpoints run beside the writer: a thread with a connection of its own copies the WAL back
// into the database file (a passive checkpoint) once a commit leaves 1,000 frames in it, so
// commits rarely wait for that copy and its sync. The writer checkpoints itself at 4,000
// frames, copying what the checkpointer has not, so that the WAL starts over, and after a key
// is shredded (the WAL is truncated so that secure_delete reaches the file).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
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
  struct PendingWrite;

  SqliteStore(sqlite3* db, std::unique_ptr<Session> session);
  Status Migrate();
  Status RunReadOnly(const TransactionBody& body);
  Status RunWrite(const TransactionBody& body);
  void CommitGroup(std::span<PendingWrite* const> group);
  // The writer's WAL hook (sqlite3_wal_hook) after each commit; `frames` are in the WAL now.
  static int OnWalCommit(void* store, sqlite3* db, const char* schema, int frames);
  void RunCheckpointer(sqlite3* db);

  std::mutex mutex_;  // the writer connection
  sqlite3* db_;
  std::unique_ptr<Session> session_;

  std::mutex readers_mutex_;
  std::condition_variable reader_returned_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<Reader*> idle_readers_;

  std::mutex writes_mutex_;
  std::condition_variable writes_done_;
  std::deque<PendingWrite*> pending_writes_;
  bool committing_ = false;  // a thread is running a group

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_due_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;  // owns its connection; joined first in the destructor
};

}  // namespace medvault::store::sqlite
