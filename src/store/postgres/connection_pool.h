// A bounded pool of libpq connections to one database. Thread-safe. Connections are opened
// lazily up to the bound; a caller waits for a free one up to a deadline (kUnavailable after).
// A connection that comes back broken or still inside a transaction is closed, never reused,
// so a dropped server connection heals on the next Acquire.
#pragma once

#include <bitset>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/sql_session.h"

struct pg_conn;

namespace medvault::store::postgres {

// One libpq connection and the statements prepared on it.
class Connection {
 public:
  // The URL may hold a password: it is never put in an error message.
  static Result<std::unique_ptr<Connection>> Connect(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  pg_conn* handle() const { return conn_; }
  // Lost connection, or left inside a transaction: not fit to reuse.
  bool Reusable() const;
  bool IsPrepared(Query query) const { return prepared_.test(static_cast<std::size_t>(query)); }
  void MarkPrepared(Query query) { prepared_.set(static_cast<std::size_t>(query)); }

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}

  pg_conn* conn_;
  std::bitset<static_cast<std::size_t>(Query::kCount)> prepared_;
};

class ConnectionPool;

// A borrowed connection, given back to its pool when destroyed.
class Lease {
 public:
  Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
      : pool_(&pool), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();

  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  ConnectionPool* pool_;
  std::unique_ptr<Connection> connection_;
};

class ConnectionPool {
 public:
  ConnectionPool(std::string url, std::size_t max_connections, std::chrono::milliseconds wait)
      : url_(std::move(url)), max_connections_(max_connections), wait_(wait) {}

  Result<Lease> Acquire();

 private:
  friend class Lease;
  void Release(std::unique_ptr<Connection> connection);

  const std::string url_;
  const std::size_t max_connections_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle plus leased
};

}  // namespace medvault::store::postgres
