#include "store/sql_transaction.h"

#include <limits>
#include <utility>

namespace medvault::store {
namespace {

constexpr std::int64_t kLive = 0;
constexpr std::int64_t kDeleted = 1;

Status CheckName(std::string_view value, std::string_view what, bool may_be_empty = false) {
  if (value.empty() && !may_be_empty) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  }
  if (value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + " is too long");
  }
  return {};
}

Status CheckKey(std::string_view resource_type, std::string_view id) {
  if (auto s = CheckName(resource_type, "resource type"); !s) return s;
  return CheckName(id, "resource id");
}

Result<std::int64_t> CheckLimit(std::size_t limit) {
  if (limit == 0 || limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
    return Fail(ErrorCode::kInvalidArgument, "limit must be positive");
  }
  return static_cast<std::int64_t>(limit);
}

// Columns: version, deleted, patient_id, key_id, payload, recorded_at.
Result<ResourceVersion> VersionFromRow(Row& row, std::string_view resource_type,
                                       std::string_view id) {
  ResourceVersion v;
  v.resource_type = resource_type;
  v.id = id;
  auto version = CellInt(row, 0);
  auto deleted = CellInt(row, 1);
  auto patient_id = CellText(row, 2);
  auto key_id = CellText(row, 3);
  auto payload = CellBytes(row, 4);
  auto recorded_at = CellInt(row, 5);
  if (!version) return std::unexpected(version.error());
  if (!deleted) return std::unexpected(deleted.error());
  if (!patient_id) return std::unexpected(patient_id.error());
  if (!key_id) return std::unexpected(key_id.error());
  if (!payload) return std::unexpected(payload.error());
  if (!recorded_at) return std::unexpected(recorded_at.error());
  v.version = *version;
  v.state = *deleted == kLive ? VersionState::kLive : VersionState::kDeleted;
  v.patient_id = std::move(*patient_id);
  v.key_id = std::move(*key_id);
  v.payload = std::move(*payload);
  v.recorded_at = Timestamp(std::chrono::microseconds(*recorded_at));
  return v;
}

// Columns: patient_id, key_id, wrapped.
Result<WrappedKey> KeyFromRow(Row& row) {
  auto patient_id = CellText(row, 0);
  auto key_id = CellText(row, 1);
  auto wrapped = CellBytes(row, 2);
  if (!patient_id) return std::unexpected(patient_id.error());
  if (!key_id) return std::unexpected(key_id.error());
  if (!wrapped) return std::unexpected(wrapped.error());
  return WrappedKey{std::move(*patient_id), std::move(*key_id), std::move(*wrapped)};
}

std::span<const std::uint8_t> View(const Bytes& bytes) { return {bytes.data(), bytes.size()}; }

}  // namespace

Result<QueryResult> SqlTransaction::Run(Query query, std::initializer_list<Param> params) {
  if (failure_) return std::unexpected(*failure_);
  auto result = session_.Run(query, std::span<const Param>(params.begin(), params.size()));
  if (!result) failure_ = result.error();
  return result;
}

Status SqlTransaction::RequireWritable() const {
  if (access_ == Access::kReadOnly) {
    return Fail(ErrorCode::kInvalidArgument, "store: write in a read-only transaction");
  }
  return {};
}

Result<ResourceVersion> SqlTransaction::Get(std::string_view resource_type, std::string_view id) {
  if (auto s = CheckKey(resource_type, id); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectCurrent, {resource_type, id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such resource");
  return VersionFromRow(result->rows.front(), resource_type, id);
}

Result<VersionWithKey> SqlTransaction::GetWithKey(std::string_view resource_type,
                                                  std::string_view id,
                                                  std::string_view owner_without_patient) {
  if (auto s = CheckKey(resource_type, id); !s) return std::unexpected(s.error());
  if (auto s = CheckName(owner_without_patient, "owner"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectCurrentWithKey, {resource_type, id, owner_without_patient});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such resource");
  Row& row = result->rows.front();
  VersionWithKey found;
  const bool has_key = row.size() > 7 && !std::holds_alternative<std::monostate>(row[6]);
  if (has_key) {
    auto key_id = CellText(row, 6);
    auto wrapped = CellBytes(row, 7);
    if (!key_id) return std::unexpected(key_id.error());
    if (!wrapped) return std::unexpected(wrapped.error());
    found.key = WrappedKey{"", std::move(*key_id), std::move(*wrapped)};
  }
  auto version = VersionFromRow(row, resource_type, id);
  if (!version) return std::unexpected(version.error());
  found.version = std::move(*version);
  if (found.key) {
    found.key->patient_id =
        found.version.patient_id.empty() ? std::string(owner_without_patient) : found.version.patient_id;
  }
  return found;
}

Result<ResourceVersion> SqlTransaction::GetVersion(std::string_view resource_type,
                                                   std::string_view id, std::int64_t version) {
  if (auto s = CheckKey(resource_type, id); !s) return std::unexpected(s.error());
  if (version <= 0) return Fail(ErrorCode::kInvalidArgument, "store: version must be positive");
  auto result = Run(Query::kSelectVersion, {resource_type, id, version});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such version");
  return VersionFromRow(result->rows.front(), resource_type, id);
}

Result<std::vector<ResourceVersion>> SqlTransaction::History(std::string_view resource_type,
                                                             std::string_view id) {
  if (auto s = CheckKey(resource_type, id); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectHistory, {resource_type, id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such resource");
  std::vector<ResourceVersion> versions;
  versions.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto version = VersionFromRow(row, resource_type, id);
    if (!version) return std::unexpected(version.error());
    versions.push_back(std::move(*version));
  }
  return versions;
}

Result<std::vector<std::string>> SqlTransaction::Lookup(std::string_view resource_type,
                                                        std::string_view field,
                                                        std::span<const std::uint8_t> token,
                                                        std::size_t limit) {
  if (auto s = CheckName(resource_type, "resource type"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(field, "index field"); !s) return std::unexpected(s.error());
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kLookup, {resource_type, field, token, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<std::string> ids;
  ids.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto id = CellText(row, 0);
    if (!id) return std::unexpected(id.error());
    ids.push_back(std::move(*id));
  }
  return ids;
}

Result<std::int64_t> SqlTransaction::Put(const ResourceWrite& write) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckKey(write.resource_type, write.id); !s) return std::unexpected(s.error());
  if (auto s = CheckName(write.patient_id, "patient id", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = CheckName(write.key_id, "key id"); !s) return std::unexpected(s.error());
  if (write.expected_version < 0 ||
      write.expected_version == std::numeric_limits<std::int64_t>::max()) {
    return Fail(ErrorCode::kInvalidArgument, "store: expected version out of range");
  }
  for (const IndexToken& entry : write.index) {
    if (auto s = CheckName(entry.field, "index field"); !s) return std::unexpected(s.error());
  }

  // The compare-and-set on the current pointer comes first: a conflict writes nothing.
  const std::string_view type = write.resource_type;
  const std::string_view id = write.id;
  const std::string_view patient = write.patient_id;
  Result<QueryResult> head =
      write.expected_version == 0
          ? Run(Query::kInsertHead, {type, id, patient})
          : Run(Query::kAdvanceHead, {type, id, write.expected_version, kLive, patient});
  if (!head) return std::unexpected(head.error());
  if (head->affected == 0) {
    return Fail(ErrorCode::kConflict, write.expected_version == 0
                                          ? "store: resource already exists"
                                          : "store: resource is not at the expected version");
  }
  const std::int64_t version = write.expected_version + 1;
  auto inserted = Run(Query::kInsertVersion,
                      {type, id, version, kLive, patient, std::string_view(write.key_id),
                       View(write.payload), write.recorded_at.time_since_epoch().count()});
  if (!inserted) return std::unexpected(inserted.error());
  if (auto cleared = Run(Query::kDeleteIndex, {type, id}); !cleared) {
    return std::unexpected(cleared.error());
  }
  for (const IndexToken& entry : write.index) {
    auto added =
        Run(Query::kInsertIndex, {type, std::string_view(entry.field), View(entry.token), id});
    if (!added) return std::unexpected(added.error());
  }
  return version;
}

Result<std::int64_t> SqlTransaction::Delete(const ResourceDelete& removal) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckKey(removal.resource_type, removal.id); !s) return std::unexpected(s.error());
  if (removal.expected_version <= 0 ||
      removal.expected_version == std::numeric_limits<std::int64_t>::max()) {
    return Fail(ErrorCode::kInvalidArgument, "store: expected version out of range");
  }
  const std::string_view type = removal.resource_type;
  const std::string_view id = removal.id;
  auto head = Run(Query::kSelectHead, {type, id});
  if (!head) return std::unexpected(head.error());
  if (head->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such resource");
  Row& row = head->rows.front();
  auto current = CellInt(row, 0);
  auto deleted = CellInt(row, 1);
  auto patient = CellText(row, 2);
  if (!current) return std::unexpected(current.error());
  if (!deleted) return std::unexpected(deleted.error());
  if (!patient) return std::unexpected(patient.error());
  if (*current != removal.expected_version) {
    return Fail(ErrorCode::kConflict, "store: resource is not at the expected version");
  }
  if (*deleted != kLive) return Fail(ErrorCode::kNotFound, "store: resource is already deleted");

  const std::string_view patient_id = *patient;
  auto advanced =
      Run(Query::kAdvanceHead, {type, id, removal.expected_version, kDeleted, patient_id});
  if (!advanced) return std::unexpected(advanced.error());
  if (advanced->affected == 0) {
    return Fail(ErrorCode::kConflict, "store: resource is not at the expected version");
  }
  const std::int64_t version = removal.expected_version + 1;
  const Bytes no_payload;
  auto inserted = Run(Query::kInsertVersion,
                      {type, id, version, kDeleted, patient_id, std::string_view(),
                       View(no_payload), removal.recorded_at.time_since_epoch().count()});
  if (!inserted) return std::unexpected(inserted.error());
  if (auto cleared = Run(Query::kDeleteIndex, {type, id}); !cleared) {
    return std::unexpected(cleared.error());
  }
  return version;
}

Result<WrappedKey> SqlTransaction::GetWrappedKey(std::string_view patient_id) {
  if (auto s = CheckName(patient_id, "patient id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectKey, {patient_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: patient has no key");
  Row& row = result->rows.front();
  auto key_id = CellText(row, 0);
  auto wrapped = CellBytes(row, 1);
  if (!key_id) return std::unexpected(key_id.error());
  if (!wrapped) return std::unexpected(wrapped.error());
  return WrappedKey{std::string(patient_id), std::move(*key_id), std::move(*wrapped)};
}

Result<std::vector<WrappedKey>> SqlTransaction::ListWrappedKeys(std::string_view after,
                                                                std::size_t limit) {
  if (auto s = CheckName(after, "patient id", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kListKeys, {after, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<WrappedKey> keys;
  keys.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto key = KeyFromRow(row);
    if (!key) return std::unexpected(key.error());
    keys.push_back(std::move(*key));
  }
  return keys;
}

Status SqlTransaction::InsertWrappedKey(const WrappedKey& key) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(key.patient_id, "patient id"); !s) return s;
  if (auto s = CheckName(key.key_id, "key id"); !s) return s;
  auto result = Run(Query::kInsertKey, {std::string_view(key.patient_id),
                                        std::string_view(key.key_id), View(key.wrapped)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: patient has a key");
  return {};
}

Status SqlTransaction::ReplaceWrappedKey(const WrappedKey& key, std::string_view expected_key_id) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(key.patient_id, "patient id"); !s) return s;
  if (auto s = CheckName(key.key_id, "key id"); !s) return s;
  if (auto s = CheckName(expected_key_id, "expected key id"); !s) return s;
  const std::string_view patient_id = key.patient_id;
  auto result = Run(Query::kReplaceKey,
                    {patient_id, std::string_view(key.key_id), View(key.wrapped), expected_key_id});
  if (!result) return std::unexpected(result.error());
  if (result->affected > 0) return {};
  auto existing = Run(Query::kSelectKey, {patient_id});
  if (!existing) return std::unexpected(existing.error());
  if (existing->rows.empty()) return Fail(ErrorCode::kNotFound, "store: patient has no key");
  return Fail(ErrorCode::kConflict, "store: key is not wrapped under the expected key id");
}

Status SqlTransaction::DeleteWrappedKey(std::string_view patient_id) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(patient_id, "patient id"); !s) return s;
  auto result = Run(Query::kDeleteKey, {patient_id});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: patient has no key");
  shredded_key_ = true;
  return {};
}

Result<std::int64_t> SqlTransaction::InsertAlert(const Alert& alert) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(alert.kind, "alert kind"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(alert.subject, "alert subject", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  if (alert.detail.size() > kMaxAlertDetailBytes) {
    return Fail(ErrorCode::kInvalidArgument, "alert detail is too long");
  }
  auto result = Run(Query::kInsertAlert,
                    {alert.raised_at.time_since_epoch().count(), std::string_view(alert.kind),
                     std::string_view(alert.subject), std::string_view(alert.detail)});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kInternal, "store: alert got no id");
  return CellInt(result->rows.front(), 0);
}

Result<std::vector<Alert>> SqlTransaction::ListAlerts(std::int64_t after_id, std::size_t limit) {
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kListAlerts, {after_id, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<Alert> alerts;
  alerts.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto id = CellInt(row, 0);
    auto raised_at = CellInt(row, 1);
    auto kind = CellText(row, 2);
    auto subject = CellText(row, 3);
    auto detail = CellText(row, 4);
    if (!id) return std::unexpected(id.error());
    if (!raised_at) return std::unexpected(raised_at.error());
    if (!kind) return std::unexpected(kind.error());
    if (!subject) return std::unexpected(subject.error());
    if (!detail) return std::unexpected(detail.error());
    alerts.push_back({*id, Timestamp(std::chrono::microseconds(*raised_at)), std::move(*kind),
                      std::move(*subject), std::move(*detail)});
  }
  return alerts;
}

}  // namespace medvault::store
