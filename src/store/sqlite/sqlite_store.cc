#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.h"
#include "store/migration.h"
#include "store/sql_transaction.h"
#include "store/sqlite/dialect.h"

namespace medvault::store::sqlite {
namespace {

// sqlite3_errstr gives the generic text of a result code; sqlite3_errmsg could name
// constraint columns and is not needed to diagnose.
Error SqliteError(int rc, std::string_view what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      code = ErrorCode::kUnavailable;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = ErrorCode::kDataLoss;
      break;
    default:
      break;
  }
  return Error(code, fmt::format("sqlite: {} failed: {} (code {})", what, sqlite3_errstr(rc), rc));
}

// For constant statements without values: pragmas, transaction control, migrations.
Status ExecConstant(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(SqliteError(rc, what));
  return {};
}

// Rolls back a transaction the body left open, even when it throws.
class OpenTransaction {
 public:
  explicit OpenTransaction(sqlite3* db) : db_(db) {}
  ~OpenTransaction() {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  OpenTransaction(const OpenTransaction&) = delete;
  OpenTransaction& operator=(const OpenTransaction&) = delete;

 private:
  sqlite3* db_;
};

// The current row of a stepped statement, read in place.
class ColumnsView final : public RowView {
 public:
  explicit ColumnsView(sqlite3_stmt* statement) : statement_(statement) {}

  Result<std::int64_t> Int(std::size_t column) const override {
    const int c = static_cast<int>(column);
    if (!Has(column) || sqlite3_column_type(statement_, c) != SQLITE_INTEGER) {
      return Fail(ErrorCode::kInternal, "store: expected an integer column");
    }
    return static_cast<std::int64_t>(sqlite3_column_int64(statement_, c));
  }
  Result<std::string_view> Text(std::size_t column) const override {
    const int c = static_cast<int>(column);
    if (!Has(column) || sqlite3_column_type(statement_, c) != SQLITE_TEXT) {
      return Fail(ErrorCode::kInternal, "store: expected a text column");
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, c));
    return std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(statement_, c)));
  }
  Result<std::span<const std::uint8_t>> Blob(std::size_t column) const override {
    const int c = static_cast<int>(column);
    if (!Has(column) || sqlite3_column_type(statement_, c) != SQLITE_BLOB) {
      return Fail(ErrorCode::kInternal, "store: expected a bytes column");
    }
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_, c));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, c));
    if (data == nullptr) return std::span<const std::uint8_t>();
    return std::span<const std::uint8_t>(data, size);
  }

 private:
  bool Has(std::size_t column) const {
    return column < static_cast<std::size_t>(sqlite3_column_count(statement_));
  }

  sqlite3_stmt* statement_;
};

}  // namespace

// Runs the cached prepared statement of each Query with bound values.
class SqliteStore::Session final : public SqlSession {
 public:
  explicit Session(sqlite3* db) : db_(db) { statements_.fill(nullptr); }
  ~Session() override {
    for (sqlite3_stmt* statement : statements_) sqlite3_finalize(statement);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Result<QueryResult> Run(Query query, std::span<const Param> params) override {
    auto prepared = Prepared(query);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite3_stmt* statement = *prepared;
    auto result = Step(statement, query, params);
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return result;
  }

  Status Each(Query query, std::span<const Param> params, const RowVisitor& visit) override {
    auto prepared = Prepared(query);
    if (!prepared) return std::unexpected(prepared.error());
    sqlite3_stmt* statement = *prepared;
    Status status = Bind(statement, query, params);
    if (status) {
      const ColumnsView row(statement);
      for (;;) {
        const int rc = sqlite3_step(statement);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
          status = std::unexpected(SqliteError(rc, QueryName(query)));
          break;
        }
        status = visit(row);
        if (!status) break;
      }
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return status;
  }

 private:
  Result<sqlite3_stmt*> Prepared(Query query) {
    sqlite3_stmt*& slot = statements_[static_cast<std::size_t>(query)];
    if (slot == nullptr) {
      const int rc =
          sqlite3_prepare_v3(db_, QueryText(query), -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(slot);
        slot = nullptr;
        return std::unexpected(SqliteError(rc, QueryName(query)));
      }
    }
    return slot;
  }

  Status Bind(sqlite3_stmt* statement, Query query, std::span<const Param> params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(statement)) {
      return Fail(ErrorCode::kInternal,
                  fmt::format("sqlite: {} got the wrong number of values", QueryName(query)));
    }
    static constexpr char kEmpty[] = "";
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(statement, index, *number);
      } else if (const auto* text = std::get_if<std::string_view>(&params[i])) {
        // A null pointer would bind SQL NULL; an empty string must stay a string.
        const char* data = text->data() != nullptr ? text->data() : kEmpty;
        rc = sqlite3_bind_text64(statement, index, data, text->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        const auto& bytes = std::get<std::span<const std::uint8_t>>(params[i]);
        rc = bytes.empty()
                 ? sqlite3_bind_zeroblob(statement, index, 0)
                 : sqlite3_bind_blob64(statement, index, bytes.data(), bytes.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return std::unexpected(SqliteError(rc, QueryName(query)));
    }
    return {};
  }

  Result<QueryResult> Step(sqlite3_stmt* statement, Query query, std::span<const Param> params) {
    if (auto bound = Bind(statement, query, params); !bound) {
      return std::unexpected(bound.error());
    }
    QueryResult result;
    for (;;) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return std::unexpected(SqliteError(rc, QueryName(query)));
      const int columns = sqlite3_column_count(statement);
      Row row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(statement, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c)));
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
            const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
            row.emplace_back(std::string(text, size));
            break;
          }
          case SQLITE_BLOB: {
            const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement, c));
            const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, c));
            row.emplace_back(data == nullptr ? Bytes() : Bytes(data, data + size));
            break;
          }
          case SQLITE_NULL:
            row.emplace_back(std::monostate());
            break;
          default:
            return Fail(
                ErrorCode::kInternal,
                fmt::format("sqlite: {} returned an unexpected column type", QueryName(query)));
        }
      }
      result.rows.push_back(std::move(row));
    }
    if (sqlite3_stmt_readonly(statement) == 0) result.affected = sqlite3_changes64(db_);
    return result;
  }

  sqlite3* db_;
  std::array<sqlite3_stmt*, static_cast<std::size_t>(Query::kCount)> statements_;
};

// A query-only connection of the read pool, with its own prepared statements.
struct SqliteStore::Reader {
  sqlite3* db = nullptr;
  std::unique_ptr<Session> session;

  explicit Reader(sqlite3* opened) : db(opened), session(std::make_unique<Session>(opened)) {}
  ~Reader() {
    session.reset();  // statements first: sqlite3_close refuses while any is alive
    sqlite3_close(db);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
};

namespace {

// Read-only transactions that may run at once beside the writer. Each holds a page cache of
// its own (Options::sqlite_cache_mib).
constexpr std::size_t kReaders = 4;

// WAL frames (pages) after a commit that wake the checkpointer: SQLite's own autocheckpoint
// default. A passive checkpoint beside a busy writer never quite catches up, and the WAL only
// starts over once one has copied every frame; so past kWriterCheckpointFrames the writer
// checkpoints itself, copying only what the checkpointer left (the WAL then starts over).
constexpr int kCheckpointFrames = 1000;
constexpr int kWriterCheckpointFrames = 4 * kCheckpointFrames;

// Opens one connection to the file and applies what every connection needs: extended result
// codes, the busy timeout, the page cache and memory map sizes, temporary data in memory and
// no trust in the schema's functions.
Result<sqlite3*> OpenConnection(const std::string& path, const Store::Options& options) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return std::unexpected(SqliteError(rc, "open"));
  }
  sqlite3_extended_result_codes(db, 1);
  const auto timeout_ms = std::clamp<std::int64_t>(options.busy_timeout.count(), 0, 1 << 30);
  sqlite3_busy_timeout(db, static_cast<int>(timeout_ms));
  // Pragmas take no bound values: these are integers clamped here, never text from outside.
  constexpr std::size_t kMaxMib = std::size_t{1} << 20;  // 1 TiB
  const auto cache_kib = static_cast<long long>(std::min(options.sqlite_cache_mib, kMaxMib)) * 1024;
  const auto mmap_bytes =
      static_cast<long long>(std::min(options.sqlite_mmap_mib, kMaxMib)) * 1024 * 1024;
  // A negative cache_size counts KiB, a positive one pages.
  const std::string pragmas = fmt::format(
      "PRAGMA cache_size = -{}; PRAGMA mmap_size = {}; PRAGMA temp_store = MEMORY; "
      "PRAGMA trusted_schema = OFF",
      cache_kib, mmap_bytes);
  if (auto s = ExecConstant(db, pragmas.c_str(), "pragma"); !s) {
    sqlite3_close(db);
    return std::unexpected(s.error());
  }
  return db;
}

}  // namespace

// Borrows a reader from the pool, waiting for one, and returns it however the transaction ends.
class SqliteStore::ReaderLoan {
 public:
  explicit ReaderLoan(SqliteStore& store) : store_(store) {
    std::unique_lock lock(store_.readers_mutex_);
    store_.reader_returned_.wait(lock, [&] { return !store_.idle_readers_.empty(); });
    reader_ = store_.idle_readers_.back();
    store_.idle_readers_.pop_back();
  }
  ~ReaderLoan() {
    {
      std::lock_guard lock(store_.readers_mutex_);
      store_.idle_readers_.push_back(reader_);
    }
    store_.reader_returned_.notify_one();
  }
  ReaderLoan(const ReaderLoan&) = delete;
  ReaderLoan& operator=(const ReaderLoan&) = delete;

  Reader* operator->() const { return reader_; }

 private:
  SqliteStore& store_;
  Reader* reader_ = nullptr;
};

SqliteStore::SqliteStore(sqlite3* db, std::unique_ptr<Session> session)
    : db_(db), session_(std::move(session)) {}

SqliteStore::~SqliteStore() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(checkpoint_mutex_);
      stopping_ = true;
    }
    checkpoint_wanted_.notify_one();
    checkpointer_.join();
  }
  idle_readers_.clear();
  readers_.clear();
  session_.reset();  // statements first: sqlite3_close refuses while any is alive
  sqlite3_close(db_);
}

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path, const Options& options) {
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "sqlite: empty database path");
  // Created here so the file and its -wal and -shm companions are private to the owner.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("sqlite: cannot create the database file: {}", std::strerror(errno)));
  }
  ::close(fd);

  auto opened = OpenConnection(path, options);
  if (!opened) return std::unexpected(opened.error());
  sqlite3* db = *opened;
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(db, std::make_unique<Session>(db)));  // owns db from here on

  // Switching to WAL needs a moment of exclusive access; retried while the busy timeout runs.
  sqlite3_stmt* statement = nullptr;
  int mode_rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &statement, nullptr);
  if (mode_rc == SQLITE_OK) mode_rc = sqlite3_step(statement);
  bool wal = false;
  if (mode_rc == SQLITE_ROW) {
    const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    wal = mode != nullptr && std::string_view(mode) == "wal";
  }
  sqlite3_finalize(statement);
  if (mode_rc != SQLITE_ROW) return std::unexpected(SqliteError(mode_rc, "journal_mode"));
  if (!wal) return Fail(ErrorCode::kUnavailable, "sqlite: the database refused WAL mode");

  for (const char* pragma :
       {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA secure_delete = ON"}) {
    if (auto s = ExecConstant(db, pragma, "pragma"); !s) return std::unexpected(s.error());
  }
  if (auto migrated = store->Migrate(); !migrated) return std::unexpected(migrated.error());
  // The read pool, once the schema is in place.
  for (std::size_t i = 0; i < kReaders; ++i) {
    auto reader = OpenConnection(path, options);
    if (!reader) return std::unexpected(reader.error());
    store->readers_.push_back(std::make_unique<Reader>(*reader));
    if (auto s = ExecConstant(*reader, "PRAGMA query_only = ON", "pragma"); !s) {
      return std::unexpected(s.error());
    }
    store->idle_readers_.push_back(store->readers_.back().get());
  }
  auto checkpointer = OpenConnection(path, options);
  if (!checkpointer) return std::unexpected(checkpointer.error());
  sqlite3_wal_hook(db, &SqliteStore::OnWalCommit, store.get());  // replaces the autocheckpoint
  store->checkpointer_ = std::thread([raw = store.get(), checkpointer = *checkpointer] {
    raw->RunCheckpointer(checkpointer);
  });
  return std::unique_ptr<Store>(std::move(store));
}

int SqliteStore::OnWalCommit(void* opaque, sqlite3* db, const char* schema, int frames) {
  auto* store = static_cast<SqliteStore*>(opaque);
  if (frames >= kWriterCheckpointFrames) {
    // Copies the rest while no commit adds frames, so the WAL can start over.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= kCheckpointFrames) {
    {
      std::lock_guard lock(store->checkpoint_mutex_);
      store->checkpoint_due_ = true;
    }
    store->checkpoint_wanted_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::RunCheckpointer(sqlite3* db) {
  std::unique_lock lock(checkpoint_mutex_);
  while (true) {
    checkpoint_wanted_.wait(lock, [&] { return checkpoint_due_ || stopping_; });
    if (stopping_) break;
    checkpoint_due_ = false;
    lock.unlock();
    // Passive: takes no lock that a writer or reader waits for; what readers still use stays.
    const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                             nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      log::Warning("store_checkpoint_failed",
                   {{"backend", std::string_view("sqlite")}, {"code", std::int64_t{rc}}});
    }
    lock.lock();
  }
  lock.unlock();
  sqlite3_close(db);
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(mutex_);
  OpenTransaction open(db_);
  if (auto s = ExecConstant(db_, "BEGIN IMMEDIATE", "begin migration"); !s) return s;
  if (auto s = ExecConstant(db_, kCreateMigrationsTable, "create schema_migrations"); !s) return s;
  auto applied = ApplyMigrations(
      *session_, Migrations(),
      [&](const Migration& migration) { return ExecConstant(db_, migration.sql, migration.name); },
      "sqlite");
  if (!applied) return applied;
  return ExecConstant(db_, "COMMIT", "commit migration");
}

Status SqliteStore::RunReadOnly(const TransactionBody& body) {
  ReaderLoan reader(*this);
  OpenTransaction open(reader->db);
  // A deferred BEGIN: the snapshot is the last commit when the first statement runs.
  if (auto s = ExecConstant(reader->db, "BEGIN", "begin"); !s) return s;
  SqlTransaction transaction(*reader->session, Access::kReadOnly);
  Status status = body(transaction);
  if (status && transaction.Failure()) status = std::unexpected(*transaction.Failure());
  if (!status) return status;  // OpenTransaction rolls back
  return ExecConstant(reader->db, "COMMIT", "commit");
}

// A writing transaction waiting for its group, and how it ended.
struct SqliteStore::PendingWrite {
  const TransactionBody* body = nullptr;
  Status status;
  bool done = false;
};

Status SqliteStore::RunTransaction(const TransactionBody& body, Access access) {
  if (access == Access::kReadOnly) return RunReadOnly(body);
  return RunWrite(body);
}

// Queues the transaction; the first thread to find no group running runs the queue as one
// group (its own transaction among them) while the others wait for theirs to be done.
Status SqliteStore::RunWrite(const TransactionBody& body) {
  constexpr std::size_t kMaxGroup = 128;
  PendingWrite write;
  write.body = &body;
  std::unique_lock lock(writes_mutex_);
  pending_writes_.push_back(&write);
  while (!write.done) {
    if (committing_) {
      writes_done_.wait(lock);
      continue;
    }
    committing_ = true;
    const std::size_t size = std::min(pending_writes_.size(), kMaxGroup);
    std::vector<PendingWrite*> group(pending_writes_.begin(), pending_writes_.begin() + size);
    pending_writes_.erase(pending_writes_.begin(), pending_writes_.begin() + size);
    lock.unlock();
    CommitGroup(group);
    lock.lock();
    for (PendingWrite* member : group) member->done = true;
    committing_ = false;
    writes_done_.notify_all();
  }
  return write.status;
}

void SqliteStore::CommitGroup(std::span<PendingWrite* const> group) {
  auto fail_all = [&](const Error& error) {
    for (PendingWrite* member : group) member->status = std::unexpected(error);
  };
  std::lock_guard lock(mutex_);
  OpenTransaction open(db_);
  // IMMEDIATE takes the write lock up front: upgrading a read lock later could fail at once
  // with SQLITE_BUSY when another process writes.
  if (auto s = ExecConstant(db_, "BEGIN IMMEDIATE", "begin"); !s) return fail_all(s.error());
  bool shredded_key = false;
  for (PendingWrite* member : group) {
    if (auto s = ExecConstant(db_, "SAVEPOINT member", "savepoint"); !s) {
      return fail_all(s.error());
    }
    SqlTransaction transaction(*session_, Access::kReadWrite);
    Status status;
    try {
      status = (*member->body)(transaction);
    } catch (const std::exception&) {
      status = Fail(ErrorCode::kInternal, "sqlite: a transaction body threw");
    }
    if (status && transaction.Failure()) status = std::unexpected(*transaction.Failure());
    if (sqlite3_get_autocommit(db_) != 0) {
      // SQLite abandoned the whole transaction (I/O error, disk full): nothing of the group
      // was written.
      return fail_all(status ? Error(ErrorCode::kUnavailable,
                                     "sqlite: the transaction was rolled back by the database")
                             : status.error());
    }
    const char* end = status ? "RELEASE member" : "ROLLBACK TO member; RELEASE member";
    if (auto s = ExecConstant(db_, end, "savepoint"); !s) return fail_all(s.error());
    member->status = std::move(status);
    shredded_key = shredded_key || (member->status && transaction.ShreddedKey());
  }
  if (auto s = ExecConstant(db_, "COMMIT", "commit"); !s) return fail_all(s.error());
  if (shredded_key) {
    // Moves the deleted key out of the WAL so secure_delete can overwrite it in the file.
    int log_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                             &checkpointed);
    if (rc != SQLITE_OK) {
      log::Warning("store_checkpoint_incomplete",
                   {{"backend", std::string_view("sqlite")}, {"code", std::int64_t{rc}}});
    }
  }
}

Status SqliteStore::RunPing() {
  std::lock_guard lock(mutex_);
  auto result = session_->Run(Query::kPing, {});
  if (!result) return std::unexpected(result.error());
  return {};
}

Result<std::vector<int>> SqliteStore::ReadAppliedMigrations() {
  std::lock_guard lock(mutex_);
  return ReadMigrationVersions(*session_);
}

}  // namespace medvault::store::sqlite
