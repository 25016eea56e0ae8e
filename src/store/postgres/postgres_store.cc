#include "store/postgres/postgres_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "store/migration.h"
#include "store/postgres/dialect.h"
#include "store/sql_transaction.h"

namespace medvault::store::postgres {
namespace {

// Attempts of one transaction body when the server aborts it for a concurrent one or the
// connection turns out dropped before commit.
constexpr int kMaxAttempts = 6;

// Serializes migrations of every process sharing the database ("medvault" in ASCII).
constexpr const char* kLockMigrations = "SELECT pg_advisory_xact_lock(7306916505437955188)";

// Type OIDs from PostgreSQL's pg_type.dat; stable across server versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kVarcharOid = 1043;

constexpr int kBinary = 1;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

bool IsRetryableState(std::string_view sqlstate) {
  return sqlstate == "40001" /* serialization_failure */ ||
         sqlstate == "40P01" /* deadlock_detected */;
}

// The server's message text can quote values (a duplicate key, a bad literal), so errors
// carry the SQLSTATE only.
Error PgError(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = field != nullptr ? field : "";
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.empty()) {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("postgres: {} failed: connection lost", what));
  }
  ErrorCode code = ErrorCode::kInternal;
  if (IsRetryableState(sqlstate)) {
    code = ErrorCode::kConflict;
  } else if (sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
             sqlstate.starts_with("57")) {
    code = ErrorCode::kUnavailable;  // connection, resources, operator intervention
  }
  return Error(code, fmt::format("postgres: {} failed (SQLSTATE {})", what, sqlstate));
}

bool IsRetryable(PGconn* conn, const PGresult* result) {
  if (PQstatus(conn) != CONNECTION_OK) return true;
  const char* field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return field != nullptr && IsRetryableState(field);
}

// For constant statements without values: transaction control, locks, migrations.
Status ExecConstant(Connection& connection, const char* sql, std::string_view what) {
  ResultPtr result(PQexec(connection.handle(), sql));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return std::unexpected(PgError(connection.handle(), result.get(), what));
  }
  return {};
}

template <typename T>
T ReadBigEndian(const char* data) {
  T value;
  std::memcpy(&value, data, sizeof value);
  if constexpr (std::endian::native == std::endian::little) value = std::byteswap(value);
  return value;
}

void Backoff(int attempt) {
  thread_local std::minstd_rand jitter(
      static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())));
  const int millis = attempt * 3 + static_cast<int>(jitter() % 7);
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
}

// Runs each Query as a statement prepared once per connection, values bound in binary.
class PgSession final : public SqlSession {
 public:
  explicit PgSession(Connection& connection) : connection_(connection) {}

  Result<QueryResult> Run(Query query, std::span<const Param> params) override {
    PGconn* conn = connection_.handle();
    const char* name = QueryName(query);
    if (params.size() > 16) return Fail(ErrorCode::kInternal, "postgres: too many values");
    std::array<Oid, 16> types{};
    std::array<const char*, 16> values{};
    std::array<int, 16> lengths{};
    std::array<int, 16> formats{};
    std::array<std::int64_t, 16> numbers{};
    static constexpr char kEmpty[] = "";
    for (std::size_t i = 0; i < params.size(); ++i) {
      formats[i] = kBinary;
      if (const auto* number = std::get_if<std::int64_t>(&params[i])) {
        types[i] = kInt8Oid;
        numbers[i] = std::endian::native == std::endian::little ? std::byteswap(*number) : *number;
        values[i] = reinterpret_cast<const char*>(&numbers[i]);
        lengths[i] = sizeof(std::int64_t);
      } else if (const auto* text = std::get_if<std::string_view>(&params[i])) {
        types[i] = kTextOid;
        values[i] = text->data() != nullptr ? text->data() : kEmpty;  // null pointer is SQL NULL
        lengths[i] = static_cast<int>(text->size());
      } else {
        const auto& bytes = std::get<std::span<const std::uint8_t>>(params[i]);
        if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
          return Fail(ErrorCode::kInvalidArgument, "postgres: value too large");
        }
        types[i] = kByteaOid;
        values[i] = bytes.empty() ? kEmpty : reinterpret_cast<const char*>(bytes.data());
        lengths[i] = static_cast<int>(bytes.size());
      }
    }
    const int count = static_cast<int>(params.size());
    if (!connection_.IsPrepared(query)) {
      ResultPtr prepared(PQprepare(conn, name, QueryText(query), count, types.data()));
      if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        retryable_ = retryable_ || IsRetryable(conn, prepared.get());
        return std::unexpected(PgError(conn, prepared.get(), name));
      }
      connection_.MarkPrepared(query);
    }
    ResultPtr result(
        PQexecPrepared(conn, name, count, values.data(), lengths.data(), formats.data(), kBinary));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK) {
      QueryResult out;
      const std::string_view tuples = PQcmdTuples(result.get());
      for (char digit : tuples) out.affected = out.affected * 10 + (digit - '0');
      return out;
    }
    if (status != PGRES_TUPLES_OK) {
      retryable_ = retryable_ || IsRetryable(conn, result.get());
      return std::unexpected(PgError(conn, result.get(), name));
    }
    return Decode(result.get(), name);
  }

  // Whether a failure seen so far may go away on a fresh attempt.
  bool Retryable() const { return retryable_; }

 private:
  static Result<QueryResult> Decode(const PGresult* result, const char* name) {
    QueryResult out;
    const int rows = PQntuples(result);
    const int columns = PQnfields(result);
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      Row row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, r, c)) {
          row.emplace_back(std::monostate());
          continue;
        }
        const char* data = PQgetvalue(result, r, c);
        const auto length = static_cast<std::size_t>(PQgetlength(result, r, c));
        const Oid type = PQftype(result, c);
        if (type == kInt8Oid && length == 8) {
          row.emplace_back(ReadBigEndian<std::int64_t>(data));
        } else if (type == kInt4Oid && length == 4) {
          row.emplace_back(std::int64_t{ReadBigEndian<std::int32_t>(data)});
        } else if (type == kInt2Oid && length == 2) {
          row.emplace_back(std::int64_t{ReadBigEndian<std::int16_t>(data)});
        } else if (type == kBoolOid && length == 1) {
          row.emplace_back(std::int64_t{data[0] != 0});
        } else if (type == kTextOid || type == kVarcharOid || type == kNameOid) {
          row.emplace_back(std::string(data, length));
        } else if (type == kByteaOid) {
          const auto* bytes = reinterpret_cast<const std::uint8_t*>(data);
          row.emplace_back(Bytes(bytes, bytes + length));
        } else {
          return Fail(ErrorCode::kInternal,
                      fmt::format("postgres: {} returned an unexpected column type", name));
        }
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  Connection& connection_;
  bool retryable_ = false;
};

// Commits; a COMMIT answered with ROLLBACK means the server had aborted the transaction.
struct CommitOutcome {
  Status status;
  bool retryable = false;
};

CommitOutcome Commit(Connection& connection) {
  PGconn* conn = connection.handle();
  ResultPtr result(PQexec(conn, "COMMIT"));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK) {
    if (std::string_view(PQcmdStatus(result.get())) == "COMMIT") return {};
    return {Fail(ErrorCode::kInternal, "postgres: the transaction was aborted before commit")};
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    return {Fail(ErrorCode::kUnavailable,
                 "postgres: connection lost during commit; the outcome is unknown")};
  }
  const char* field = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  const bool retryable = field != nullptr && IsRetryableState(field);
  return {std::unexpected(PgError(conn, result.get(), "commit")), retryable};
}

}  // namespace

PostgresStore::PostgresStore(std::string url, const Options& options)
    : pool_(std::move(url), options.pool_size, options.busy_timeout) {}

Result<std::unique_ptr<Store>> PostgresStore::Open(const std::string& url, const Options& options) {
  if (options.pool_size == 0) {
    return Fail(ErrorCode::kInvalidArgument, "postgres: pool size must be positive");
  }
  std::unique_ptr<PostgresStore> store(new PostgresStore(url, options));
  if (auto migrated = store->Migrate(); !migrated) return std::unexpected(migrated.error());
  return std::unique_ptr<Store>(std::move(store));
}

Status PostgresStore::Migrate() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  Connection& connection = **lease;
  // READ COMMITTED on purpose: each statement after the lock sees what the previous holder
  // of the lock committed. Any failure leaves the transaction open and the Lease closes it.
  if (auto s = ExecConstant(connection, "BEGIN", "begin migration"); !s) return s;
  if (auto s = ExecConstant(connection, kLockMigrations, "lock migrations"); !s) return s;
  if (auto s = ExecConstant(connection, kCreateMigrationsTable, "create schema_migrations"); !s) {
    return s;
  }
  PgSession session(connection);
  auto applied = ApplyMigrations(
      session, Migrations(),
      [&](const Migration& migration) {
        return ExecConstant(connection, migration.sql, migration.name);
      },
      "postgres");
  if (!applied) return applied;
  return Commit(connection).status;
}

Status PostgresStore::RunTransaction(const TransactionBody& body, Access access) {
  const char* begin = access == Access::kReadOnly
                          ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                          : "BEGIN ISOLATION LEVEL REPEATABLE READ";
  Status status;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    if (attempt > 1) Backoff(attempt);
    auto lease = pool_.Acquire();
    if (!lease) return std::unexpected(lease.error());
    Connection& connection = **lease;
    // A dropped idle connection shows up here: the Lease closes it and we try a new one.
    if (auto begun = ExecConstant(connection, begin, "begin"); !begun) {
      status = begun;
      if (PQstatus(connection.handle()) != CONNECTION_OK) continue;
      return status;
    }
    PgSession session(connection);
    SqlTransaction transaction(session, access);
    status = body(transaction);
    if (status && transaction.Failure()) status = std::unexpected(*transaction.Failure());
    if (!status) {
      if (PQstatus(connection.handle()) == CONNECTION_OK) {
        // A failed rollback leaves the connection inside the transaction: the Lease closes it.
        (void)ExecConstant(connection, "ROLLBACK", "rollback");
      }
      if (session.Retryable()) continue;
      return status;
    }
    CommitOutcome outcome = Commit(connection);
    if (outcome.status || !outcome.retryable) return outcome.status;
    status = outcome.status;
  }
  if (status.error().code() == ErrorCode::kConflict) {
    return Fail(ErrorCode::kConflict, "postgres: concurrent transactions kept conflicting");
  }
  return status;
}

Status PostgresStore::RunPing() {
  Status status;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto lease = pool_.Acquire();
    if (!lease) return std::unexpected(lease.error());
    PgSession session(**lease);
    auto result = session.Run(Query::kPing, {});
    if (result) return {};
    status = std::unexpected(result.error());
    if (!session.Retryable()) break;
  }
  return status;
}

Result<std::vector<int>> PostgresStore::ReadAppliedMigrations() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  PgSession session(**lease);
  return ReadMigrationVersions(session);
}

}  // namespace medvault::store::postgres
