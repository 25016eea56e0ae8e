#include "store/postgres/connection_pool.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace medvault::store::postgres {
namespace {

// libpq's connection messages name host, port and user but never the password; newlines
// are folded so the message stays one log field.
std::string ConnectionMessage(PGconn* conn) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  std::ranges::replace(message, '\n', ' ');
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Connect(const std::string& url) {
  // Later keywords win: the URL may override these defaults.
  const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname",
                                  nullptr};
  const char* const values[] = {"10", "medvault", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = ConnectionMessage(conn);
    PQfinish(conn);
    return Fail(ErrorCode::kUnavailable, fmt::format("postgres: cannot connect: {}", message));
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::Reusable() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Lease::~Lease() {
  if (connection_) pool_->Release(std::move(connection_));
}

Result<Lease> ConnectionPool::Acquire() {
  {
    std::unique_lock lock(mutex_);
    const bool free =
        freed_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!free) return Fail(ErrorCode::kUnavailable, "postgres: no free connection in the pool");
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(connection));
    }
    ++open_;  // reserve the slot, connect without holding the lock
  }
  auto connection = Connection::Connect(url_);
  if (!connection) {
    std::lock_guard lock(mutex_);
    --open_;
    freed_.notify_one();
    return std::unexpected(connection.error());
  }
  return Lease(*this, std::move(*connection));
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  const bool reusable = connection->Reusable();
  if (!reusable) connection.reset();  // closing aborts whatever the server still holds
  std::lock_guard lock(mutex_);
  if (reusable) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  freed_.notify_one();
}

}  // namespace medvault::store::postgres
