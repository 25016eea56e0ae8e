#include "store/sql_transaction.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace medvault::store {

Status CheckName(std::string_view value, std::string_view what, bool may_be_empty) {
  if (value.empty() && !may_be_empty) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  }
  if (value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + " is too long");
  }
  return {};
}

namespace {

constexpr std::int64_t kLive = 0;
constexpr std::int64_t kDeleted = 1;

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

// Columns: those of VersionFromRow, then the owner's key_id and wrapped key (NULL when the
// owner has no key row).
Result<VersionWithKey> VersionWithKeyFromRow(Row& row, std::string_view resource_type,
                                             std::string_view id,
                                             std::string_view owner_without_patient) {
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
    found.key->patient_id = found.version.patient_id.empty() ? std::string(owner_without_patient)
                                                             : found.version.patient_id;
  }
  return found;
}

}  // namespace

Result<QueryResult> SqlTransaction::Run(Query query, std::initializer_list<Param> params) {
  if (failure_) return std::unexpected(*failure_);
  auto result = session_.Run(query, std::span<const Param>(params.begin(), params.size()));
  if (!result) failure_ = result.error();
  return result;
}

Status SqlTransaction::Each(Query query, std::initializer_list<Param> params,
                           const RowVisitor& visit) {
  if (failure_) return std::unexpected(*failure_);
  Status status =
      session_.Each(query, std::span<const Param>(params.begin(), params.size()), visit);
  if (!status) failure_ = status.error();
  return status;
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
  return VersionWithKeyFromRow(result->rows.front(), resource_type, id, owner_without_patient);
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
                                                        std::string_view after_id,
                                                        std::size_t limit) {
  if (auto s = CheckName(resource_type, "resource type"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(field, "index field"); !s) return std::unexpected(s.error());
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kLookup, {resource_type, field, token, after_id, *bound});
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

Result<std::vector<VersionWithKey>> SqlTransaction::ListCurrent(
    std::string_view resource_type, std::string_view patient_id, std::string_view after_id,
    std::size_t limit, std::string_view owner_without_patient) {
  if (auto s = CheckName(resource_type, "resource type"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(patient_id, "patient id", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = CheckName(after_id, "resource id", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = CheckName(owner_without_patient, "owner"); !s) return std::unexpected(s.error());
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kListCurrent,
                    {resource_type, patient_id, after_id, owner_without_patient, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<VersionWithKey> found;
  found.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto id = CellText(row, 8);
    if (!id) return std::unexpected(id.error());
    auto one = VersionWithKeyFromRow(row, resource_type, *id, owner_without_patient);
    if (!one) return std::unexpected(one.error());
    found.push_back(std::move(*one));
  }
  return found;
}

Result<std::vector<ResourceVersion>> SqlTransaction::ListVersions(
    std::string_view resource_type, std::string_view patient_id,
    const std::optional<VersionCursor>& before, std::size_t limit) {
  if (auto s = CheckName(resource_type, "resource type"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(patient_id, "patient id", /*may_be_empty=*/true); !s) {
    return std::unexpected(s.error());
  }
  if (before) {
    if (auto s = CheckName(before->id, "resource id", /*may_be_empty=*/true); !s) {
      return std::unexpected(s.error());
    }
  }
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result =
      before ? Run(Query::kListVersionsBefore,
                   {resource_type, patient_id, before->recorded_at.time_since_epoch().count(),
                    std::string_view(before->id), before->version, *bound})
             : Run(Query::kListVersions, {resource_type, patient_id, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<ResourceVersion> versions;
  versions.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto id = CellText(row, 6);
    if (!id) return std::unexpected(id.error());
    auto version = VersionFromRow(row, resource_type, *id);
    if (!version) return std::unexpected(version.error());
    versions.push_back(std::move(*version));
  }
  return versions;
}

Result<std::int64_t> SqlTransaction::DeleteIndexOfPatient(std::string_view patient_id) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(patient_id, "patient id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteIndexOfPatient, {patient_id});
  if (!result) return std::unexpected(result.error());
  return result->affected;
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
  // A resource created just now has no index rows yet (they reference its head).
  if (write.expected_version != 0) {
    if (auto cleared = Run(Query::kDeleteIndex, {type, id}); !cleared) {
      return std::unexpected(cleared.error());
    }
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

namespace medvault::store {
namespace {

constexpr int kMaxAuditLevel = 63;
// Rows a page reserves room for up front (a caller's limit may be far larger than the log).
constexpr std::size_t kAuditPageReserve = 8192;

// Columns: seq, recorded_at, account, action, entry. Read in place: long pages of the log
// (the verifier's) allocate only the entry bytes.
Status AppendAuditRecord(const RowView& row, std::vector<AuditRecord>& records) {
  auto seq = row.Int(0);
  auto recorded_at = row.Int(1);
  auto account = row.Text(2);
  auto action = row.Text(3);
  auto entry = row.Blob(4);
  if (!seq) return std::unexpected(seq.error());
  if (!recorded_at) return std::unexpected(recorded_at.error());
  if (!account) return std::unexpected(account.error());
  if (!action) return std::unexpected(action.error());
  if (!entry) return std::unexpected(entry.error());
  AuditRecord& record = records.emplace_back();
  record.index = *seq;
  record.recorded_at = Timestamp(std::chrono::microseconds(*recorded_at));
  record.account = *account;
  record.action = *action;
  record.encoded.assign(entry->begin(), entry->end());
  return {};
}

Status CheckAuditLevel(int level) {
  if (level < 0 || level > kMaxAuditLevel) {
    return Fail(ErrorCode::kInvalidArgument, "store: audit tree level out of range");
  }
  return {};
}

}  // namespace

Result<AuditHead> SqlTransaction::ReadAuditHead(Query query) {
  auto result = Run(query, {});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kDataLoss, "store: the audit head is missing");
  Row& row = result->rows.front();
  auto size = CellInt(row, 0);
  auto frontier = CellBytes(row, 1);
  if (!size) return std::unexpected(size.error());
  if (!frontier) return std::unexpected(frontier.error());
  return AuditHead{*size, std::move(*frontier)};
}

Result<AuditHead> SqlTransaction::LockAuditHead() {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  return ReadAuditHead(Query::kLockAuditHead);
}

Result<AuditHead> SqlTransaction::GetAuditHead() { return ReadAuditHead(Query::kSelectAuditHead); }

Status SqlTransaction::AppendAudit(const AuditAppend& batch) {
  if (auto s = RequireWritable(); !s) return s;
  if (batch.expected_size < 0) {
    return Fail(ErrorCode::kInvalidArgument, "store: audit size out of range");
  }
  std::int64_t next = batch.expected_size;
  for (const AuditRecord& record : batch.records) {
    if (record.index != next++) {
      return Fail(ErrorCode::kInvalidArgument, "store: audit entries must follow the head");
    }
    if (auto s = CheckName(record.account, "account", /*may_be_empty=*/true); !s) return s;
    if (auto s = CheckName(record.action, "action"); !s) return s;
    if (record.encoded.empty() || record.encoded.size() > kMaxAuditEntryBytes) {
      return Fail(ErrorCode::kInvalidArgument, "store: audit entry size out of range");
    }
    for (const std::string& patient : record.patient_ids) {
      if (auto s = CheckName(patient, "patient id"); !s) return s;
    }
  }
  for (const AuditNode& node : batch.nodes) {
    if (auto s = CheckAuditLevel(node.level); !s) return s;
  }
  // The head moves first: a concurrent appender that got here before us makes this a conflict
  // before anything is written.
  auto advanced = Run(Query::kAdvanceAuditHead, {next, View(batch.frontier), batch.expected_size});
  if (!advanced) return std::unexpected(advanced.error());
  if (advanced->affected == 0) {
    return Fail(ErrorCode::kConflict, "store: the audit head moved");
  }
  for (const AuditRecord& record : batch.records) {
    const std::int64_t micros = record.recorded_at.time_since_epoch().count();
    auto inserted =
        Run(Query::kInsertAuditEntry, {record.index, micros, std::string_view(record.account),
                                       std::string_view(record.action), View(record.encoded)});
    if (!inserted) return std::unexpected(inserted.error());
    for (const std::string& patient : record.patient_ids) {
      auto indexed =
          Run(Query::kInsertAuditPatient, {std::string_view(patient), record.index, micros});
      if (!indexed) return std::unexpected(indexed.error());
    }
  }
  for (const AuditNode& node : batch.nodes) {
    auto inserted =
        Run(Query::kInsertAuditNode, {std::int64_t{node.level}, node.index, View(node.hash)});
    if (!inserted) return std::unexpected(inserted.error());
  }
  return {};
}

Result<std::vector<AuditRecord>> SqlTransaction::ListAuditEntries(std::int64_t from_index,
                                                                  std::size_t limit) {
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  std::vector<AuditRecord> records;
  records.reserve(std::min<std::size_t>(limit, kAuditPageReserve));
  auto read = Each(Query::kListAuditEntries, {from_index, *bound},
                   [&](const RowView& row) { return AppendAuditRecord(row, records); });
  if (!read) return std::unexpected(read.error());
  if (records.empty()) return records;
  // Both lists are in index order: one merge attaches every patient row to its entry.
  std::size_t r = 0;
  auto patients = Each(Query::kListAuditPatients, {records.front().index, records.back().index + 1},
                       [&](const RowView& row) -> Status {
                         auto seq = row.Int(0);
                         auto patient = row.Text(1);
                         if (!seq) return std::unexpected(seq.error());
                         if (!patient) return std::unexpected(patient.error());
                         while (r < records.size() && records[r].index < *seq) ++r;
                         if (r < records.size() && records[r].index == *seq) {
                           records[r].patient_ids.emplace_back(*patient);
                         }
                         return {};
                       });
  if (!patients) return std::unexpected(patients.error());
  return records;
}

Result<std::vector<AuditPatientRow>> SqlTransaction::ListAuditPatientRows(std::int64_t from_index,
                                                                          std::int64_t to_index) {
  std::vector<AuditPatientRow> rows;
  auto read = Each(Query::kListAuditPatients, {from_index, to_index},
                   [&](const RowView& row) -> Status {
                     auto seq = row.Int(0);
                     auto patient = row.Text(1);
                     if (!seq) return std::unexpected(seq.error());
                     if (!patient) return std::unexpected(patient.error());
                     rows.push_back({*seq, std::string(*patient)});
                     return {};
                   });
  if (!read) return std::unexpected(read.error());
  return rows;
}

Result<std::vector<AuditRecord>> SqlTransaction::FindAuditEntries(const AuditQuery& query,
                                                                  std::int64_t after_index,
                                                                  std::size_t limit) {
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  const std::int64_t from = query.from.time_since_epoch().count();
  const std::int64_t to = query.to.time_since_epoch().count();
  const std::string_view key = query.key;
  std::vector<AuditRecord> records;
  const RowVisitor visit = [&](const RowView& row) { return AppendAuditRecord(row, records); };
  Status read;
  switch (query.by) {
    case AuditQuery::By::kTime:
      read = Each(Query::kFindAuditByTime, {from, to, after_index, *bound}, visit);
      break;
    case AuditQuery::By::kAccount:
      if (auto s = CheckName(key, "account"); !s) return std::unexpected(s.error());
      read = Each(Query::kFindAuditByAccount, {key, from, to, after_index, *bound}, visit);
      break;
    case AuditQuery::By::kPatient:
      if (auto s = CheckName(key, "patient id"); !s) return std::unexpected(s.error());
      read = Each(Query::kFindAuditByPatient, {key, from, to, after_index, *bound}, visit);
      break;
    case AuditQuery::By::kAction:
      if (auto s = CheckName(key, "action"); !s) return std::unexpected(s.error());
      read = Each(Query::kFindAuditByAction, {key, from, to, after_index, *bound}, visit);
      break;
  }
  if (!read) return std::unexpected(read.error());
  return records;
}

Result<Bytes> SqlTransaction::GetAuditNode(int level, std::int64_t index) {
  if (auto s = CheckAuditLevel(level); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectAuditNode, {std::int64_t{level}, index});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such audit tree node");
  return CellBytes(result->rows.front(), 0);
}

Result<std::vector<AuditNode>> SqlTransaction::ListAuditNodes(int level, std::int64_t from_index,
                                                              std::size_t limit) {
  if (auto s = CheckAuditLevel(level); !s) return std::unexpected(s.error());
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  std::vector<AuditNode> nodes;
  nodes.reserve(std::min<std::size_t>(limit, kAuditPageReserve));
  auto read = Each(Query::kListAuditNodes, {std::int64_t{level}, from_index, *bound},
                   [&](const RowView& row) -> Status {
                     auto index = row.Int(0);
                     auto hash = row.Blob(1);
                     if (!index) return std::unexpected(index.error());
                     if (!hash) return std::unexpected(hash.error());
                     nodes.push_back({level, *index, Bytes(hash->begin(), hash->end())});
                     return {};
                   });
  if (!read) return std::unexpected(read.error());
  return nodes;
}

Status SqlTransaction::InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  if (auto s = RequireWritable(); !s) return s;
  if (checkpoint.size < 0) return Fail(ErrorCode::kInvalidArgument, "store: size out of range");
  if (checkpoint.note.empty() || checkpoint.note.size() > kMaxAuditNoteBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: checkpoint size out of range");
  }
  auto result = Run(Query::kInsertAuditCheckpoint,
                    {checkpoint.size, checkpoint.signed_at.time_since_epoch().count(),
                     std::string_view(checkpoint.note)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) {
    return Fail(ErrorCode::kAlreadyExists, "store: a checkpoint of that size exists");
  }
  return {};
}

Result<std::vector<AuditCheckpoint>> SqlTransaction::ListAuditCheckpoints(std::int64_t after_size,
                                                                          std::size_t limit) {
  auto bound = CheckLimit(limit);
  if (!bound) return std::unexpected(bound.error());
  auto result = Run(Query::kListAuditCheckpoints, {after_size, *bound});
  if (!result) return std::unexpected(result.error());
  std::vector<AuditCheckpoint> checkpoints;
  checkpoints.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto size = CellInt(row, 0);
    auto signed_at = CellInt(row, 1);
    auto note = CellText(row, 2);
    if (!size) return std::unexpected(size.error());
    if (!signed_at) return std::unexpected(signed_at.error());
    if (!note) return std::unexpected(note.error());
    checkpoints.push_back(
        {*size, Timestamp(std::chrono::microseconds(*signed_at)), std::move(*note)});
  }
  return checkpoints;
}

}  // namespace medvault::store
