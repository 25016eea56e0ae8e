#include "store/store.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace medvault::store {
namespace {

// Stores with a transaction body running on this thread. A body that calls its own store
// would wait for itself (SQLite's mutex) or hold two pooled connections (PostgreSQL).
thread_local std::vector<const Store*> active_stores;

class ActiveGuard {
 public:
  explicit ActiveGuard(const Store* store) : store_(store) { active_stores.push_back(store_); }
  ~ActiveGuard() { std::erase(active_stores, store_); }
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;

 private:
  const Store* store_;
};

// Runs `op` in a transaction of `store` and returns what it produced.
template <typename T, typename Op>
Result<T> RunOne(Store& store, Access access, Op op) {
  std::optional<T> value;
  Status status = store.Transact(
      [&](Transaction& tx) -> Status {
        Result<T> produced = op(tx);
        if (!produced) return std::unexpected(produced.error());
        value = std::move(*produced);
        return {};
      },
      access);
  if (!status) return std::unexpected(status.error());
  return std::move(*value);
}

}  // namespace

Status Store::Transact(const TransactionBody& body, Access access) {
  if (std::ranges::find(active_stores, this) != active_stores.end()) {
    return Fail(ErrorCode::kInternal, "store: transaction started inside a transaction body");
  }
  ActiveGuard guard(this);
  return RunTransaction(body, access);
}

Status Store::Ping() {
  if (std::ranges::find(active_stores, this) != active_stores.end()) {
    return Fail(ErrorCode::kInternal, "store: ping inside a transaction body");
  }
  return RunPing();
}

Result<std::vector<int>> Store::AppliedMigrations() {
  if (std::ranges::find(active_stores, this) != active_stores.end()) {
    return Fail(ErrorCode::kInternal, "store: migration query inside a transaction body");
  }
  return ReadAppliedMigrations();
}

Result<ResourceVersion> Store::Get(std::string_view resource_type, std::string_view id) {
  return RunOne<ResourceVersion>(*this, Access::kReadOnly,
                                 [&](Transaction& tx) { return tx.Get(resource_type, id); });
}

Result<ResourceVersion> Store::GetVersion(std::string_view resource_type, std::string_view id,
                                          std::int64_t version) {
  return RunOne<ResourceVersion>(*this, Access::kReadOnly, [&](Transaction& tx) {
    return tx.GetVersion(resource_type, id, version);
  });
}

Result<VersionWithKey> Store::GetWithKey(std::string_view resource_type, std::string_view id,
                                         std::string_view owner_without_patient) {
  return RunOne<VersionWithKey>(*this, Access::kReadOnly, [&](Transaction& tx) {
    return tx.GetWithKey(resource_type, id, owner_without_patient);
  });
}

Result<std::vector<ResourceVersion>> Store::History(std::string_view resource_type,
                                                    std::string_view id) {
  return RunOne<std::vector<ResourceVersion>>(
      *this, Access::kReadOnly, [&](Transaction& tx) { return tx.History(resource_type, id); });
}

Result<std::vector<std::string>> Store::Lookup(std::string_view resource_type,
                                               std::string_view field,
                                               std::span<const std::uint8_t> token,
                                               std::string_view after_id, std::size_t limit) {
  return RunOne<std::vector<std::string>>(*this, Access::kReadOnly, [&](Transaction& tx) {
    return tx.Lookup(resource_type, field, token, after_id, limit);
  });
}

Result<std::vector<VersionWithKey>> Store::ListCurrent(std::string_view resource_type,
                                                       std::string_view patient_id,
                                                       std::string_view after_id, std::size_t limit,
                                                       std::string_view owner_without_patient) {
  return RunOne<std::vector<VersionWithKey>>(*this, Access::kReadOnly, [&](Transaction& tx) {
    return tx.ListCurrent(resource_type, patient_id, after_id, limit, owner_without_patient);
  });
}

Result<std::vector<ResourceVersion>> Store::ListVersions(std::string_view resource_type,
                                                         std::string_view patient_id,
                                                         const std::optional<VersionCursor>& before,
                                                         std::size_t limit) {
  return RunOne<std::vector<ResourceVersion>>(*this, Access::kReadOnly, [&](Transaction& tx) {
    return tx.ListVersions(resource_type, patient_id, before, limit);
  });
}

Result<std::int64_t> Store::DeleteIndexOfPatient(std::string_view patient_id) {
  return RunOne<std::int64_t>(*this, Access::kReadWrite,
                              [&](Transaction& tx) { return tx.DeleteIndexOfPatient(patient_id); });
}

Result<std::int64_t> Store::Put(const ResourceWrite& write) {
  return RunOne<std::int64_t>(*this, Access::kReadWrite,
                              [&](Transaction& tx) { return tx.Put(write); });
}

Result<std::int64_t> Store::Delete(const ResourceDelete& removal) {
  return RunOne<std::int64_t>(*this, Access::kReadWrite,
                              [&](Transaction& tx) { return tx.Delete(removal); });
}

Result<WrappedKey> Store::GetWrappedKey(std::string_view patient_id) {
  return RunOne<WrappedKey>(*this, Access::kReadOnly,
                            [&](Transaction& tx) { return tx.GetWrappedKey(patient_id); });
}

Result<std::vector<WrappedKey>> Store::ListWrappedKeys(std::string_view after, std::size_t limit) {
  return RunOne<std::vector<WrappedKey>>(
      *this, Access::kReadOnly, [&](Transaction& tx) { return tx.ListWrappedKeys(after, limit); });
}

Status Store::InsertWrappedKey(const WrappedKey& key) {
  return Transact([&](Transaction& tx) { return tx.InsertWrappedKey(key); });
}

Status Store::ReplaceWrappedKey(const WrappedKey& key, std::string_view expected_key_id) {
  return Transact([&](Transaction& tx) { return tx.ReplaceWrappedKey(key, expected_key_id); });
}

Status Store::DeleteWrappedKey(std::string_view patient_id) {
  return Transact([&](Transaction& tx) { return tx.DeleteWrappedKey(patient_id); });
}

Result<std::int64_t> Store::InsertAlert(const Alert& alert) {
  return RunOne<std::int64_t>(*this, Access::kReadWrite,
                              [&](Transaction& tx) { return tx.InsertAlert(alert); });
}

Result<std::vector<Alert>> Store::ListAlerts(std::int64_t after_id, std::size_t limit) {
  return RunOne<std::vector<Alert>>(
      *this, Access::kReadOnly, [&](Transaction& tx) { return tx.ListAlerts(after_id, limit); });
}

}  // namespace medvault::store
