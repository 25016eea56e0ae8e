// The SQL the SQLite backend speaks: one statement per Query and the numbered migrations.
#pragma once

#include <span>

#include "store/migration.h"
#include "store/sql_session.h"

namespace medvault::store::sqlite {

// Creates the migrations ledger; runs before every migration check.
extern const char* const kCreateMigrationsTable;

const char* QueryText(Query query);
std::span<const Migration> Migrations();

}  // namespace medvault::store::sqlite
