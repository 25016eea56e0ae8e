#include "store/migration.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include "core/log.h"

namespace medvault::store {

Result<std::vector<int>> ReadMigrationVersions(SqlSession& session) {
  auto result = session.Run(Query::kSelectMigrations, {});
  if (!result) return std::unexpected(result.error());
  std::vector<int> versions;
  versions.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto version = CellInt(row, 0);
    if (!version) return std::unexpected(version.error());
    versions.push_back(static_cast<int>(*version));
  }
  return versions;
}

Status ApplyMigrations(SqlSession& session, std::span<const Migration> known,
                       const ExecuteDdl& execute, std::string_view backend) {
  auto applied = ReadMigrationVersions(session);
  if (!applied) return std::unexpected(applied.error());
  if (!applied->empty() && !known.empty() && applied->back() > known.back().version) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("{}: the database schema is newer than this build of medvault", backend));
  }
  for (const Migration& migration : known) {
    if (std::ranges::find(*applied, migration.version) != applied->end()) continue;
    if (auto s = execute(migration); !s) return s;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const std::array<Param, 3> params{std::int64_t{migration.version},
                                      std::string_view(migration.name), now};
    if (auto recorded = session.Run(Query::kInsertMigration, params); !recorded) {
      return std::unexpected(recorded.error());
    }
    log::Info("store_migration_applied",
              {{"backend", backend}, {"version", std::int64_t{migration.version}}});
  }
  return {};
}

}  // namespace medvault::store
