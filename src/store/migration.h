// Numbered schema changes. Each backend lists its own in order (001, 002, ...); Open applies
// the missing ones inside one transaction and records each in schema_migrations. Migrations
// are append-only: a released one is never edited. Internal to src/store.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/sql_session.h"

namespace medvault::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // constant DDL, no values
};

// Runs one migration's constant DDL on the backend's connection.
using ExecuteDdl = std::function<Status(const Migration&)>;

// Versions recorded in schema_migrations, ascending.
Result<std::vector<int>> ReadMigrationVersions(SqlSession& session);

// Applies the migrations of `known` that are not recorded yet, in order; the caller holds a
// transaction (and, on PostgreSQL, the migration lock) and commits. Refuses a database that
// records a migration this build does not know.
Status ApplyMigrations(SqlSession& session, std::span<const Migration> known,
                       const ExecuteDdl& execute, std::string_view backend);

}  // namespace medvault::store
