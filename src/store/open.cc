// Store::Open: picks the backend from the URL scheme.
#include <string>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace medvault::store {

Result<std::unique_ptr<Store>> Store::Open(std::string_view url, const Options& options) {
  // The URL is never echoed: a PostgreSQL URL may carry a password.
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    return sqlite::SqliteStore::Open(std::string(url.substr(kSqlite.size())), options);
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return postgres::PostgresStore::Open(std::string(url), options);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "store: unsupported store URL; expected sqlite:PATH, postgres://... or "
              "postgresql://...");
}

}  // namespace medvault::store
