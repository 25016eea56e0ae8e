// SqlTransaction's operations on the approval tables (migration 010_approvals).
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

constexpr std::size_t kMaxListLimit = 10'000;
constexpr std::size_t kRecipientKeyBytes = 32;  // X25519

Status CheckWord(std::string_view value, std::string_view what, bool may_be_empty = false) {
  if ((value.empty() && !may_be_empty) || value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "store: " + std::string(what) + " is empty or too long");
  }
  return {};
}

Status CheckGrant(const RoleGrant& grant) {
  if (auto s = CheckWord(grant.id, "grant id"); !s) return s;
  if (auto s = CheckWord(grant.account_id, "grant account"); !s) return s;
  if (auto s = CheckWord(grant.kind, "grant kind"); !s) return s;
  if (auto s = CheckWord(grant.state, "grant state"); !s) return s;
  if (auto s = CheckWord(grant.requested_by, "grant requester"); !s) return s;
  return CheckWord(grant.decided_by, "grant decider", true);
}

Status CheckJob(const ExportJobRecord& job) {
  if (auto s = CheckWord(job.id, "export job id"); !s) return s;
  if (auto s = CheckWord(job.state, "export job state"); !s) return s;
  if (auto s = CheckWord(job.requested_by, "export requester"); !s) return s;
  if (auto s = CheckWord(job.requester_role, "export requester role"); !s) return s;
  if (auto s = CheckWord(job.decided_by, "export approver", true); !s) return s;
  if (auto s = CheckWord(job.file, "export file", true); !s) return s;
  if (job.types.empty() || job.types.size() > kMaxExportTypesBytes ||
      job.watermark.size() > kMaxWatermarkBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: export types or watermark too long");
  }
  if (job.recipient_key.size() != kRecipientKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: a recipient key is 32 bytes");
  }
  return {};
}

Status CheckPage(std::string_view after_id, std::size_t limit) {
  if (after_id.size() > kMaxNameBytes || limit == 0 || limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument, "store: bad page");
  }
  return {};
}

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// Columns: id, account_id, kind, state, requested_by, requested_at, expires_at, decided_by,
// decided_at.
Result<RoleGrant> GrantFromRow(Row& row) {
  auto id = CellText(row, 0);
  auto account_id = CellText(row, 1);
  auto kind = CellText(row, 2);
  auto state = CellText(row, 3);
  auto requested_by = CellText(row, 4);
  auto requested_at = CellInt(row, 5);
  auto expires_at = CellInt(row, 6);
  auto decided_by = CellText(row, 7);
  auto decided_at = CellInt(row, 8);
  if (!id || !account_id || !kind || !state || !requested_by || !requested_at || !expires_at ||
      !decided_by || !decided_at) {
    return Fail(ErrorCode::kInternal, "store: a role grant row has unexpected columns");
  }
  return RoleGrant{std::move(*id),           std::move(*account_id), std::move(*kind),
                   std::move(*state),        std::move(*requested_by), At(*requested_at),
                   At(*expires_at),          std::move(*decided_by), At(*decided_at)};
}

// Columns: id, state, requested_by, requester_role, types, recipient_key, requested_at,
// expires_at, decided_by, decided_at, file, file_bytes, patients, watermark.
Result<ExportJobRecord> JobFromRow(Row& row) {
  auto id = CellText(row, 0);
  auto state = CellText(row, 1);
  auto requested_by = CellText(row, 2);
  auto requester_role = CellText(row, 3);
  auto types = CellText(row, 4);
  auto recipient_key = CellBytes(row, 5);
  auto requested_at = CellInt(row, 6);
  auto expires_at = CellInt(row, 7);
  auto decided_by = CellText(row, 8);
  auto decided_at = CellInt(row, 9);
  auto file = CellText(row, 10);
  auto file_bytes = CellInt(row, 11);
  auto patients = CellInt(row, 12);
  auto watermark = CellText(row, 13);
  if (!id || !state || !requested_by || !requester_role || !types || !recipient_key ||
      !requested_at || !expires_at || !decided_by || !decided_at || !file || !file_bytes ||
      !patients || !watermark) {
    return Fail(ErrorCode::kInternal, "store: an export job row has unexpected columns");
  }
  ExportJobRecord job;
  job.id = std::move(*id);
  job.state = std::move(*state);
  job.requested_by = std::move(*requested_by);
  job.requester_role = std::move(*requester_role);
  job.types = std::move(*types);
  job.recipient_key = std::move(*recipient_key);
  job.requested_at = At(*requested_at);
  job.expires_at = At(*expires_at);
  job.decided_by = std::move(*decided_by);
  job.decided_at = At(*decided_at);
  job.file = std::move(*file);
  job.file_bytes = *file_bytes;
  job.patients = *patients;
  job.watermark = std::move(*watermark);
  return job;
}

}  // namespace

Status SqlTransaction::InsertRoleGrant(const RoleGrant& grant) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckGrant(grant); !s) return s;
  auto result = Run(Query::kInsertRoleGrant,
                    {std::string_view(grant.id), std::string_view(grant.account_id),
                     std::string_view(grant.kind), std::string_view(grant.state),
                     std::string_view(grant.requested_by), Micros(grant.requested_at),
                     Micros(grant.expires_at), std::string_view(grant.decided_by),
                     Micros(grant.decided_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: grant id taken");
  return {};
}

Result<RoleGrant> SqlTransaction::GetRoleGrant(std::string_view id) {
  if (auto s = CheckWord(id, "grant id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectRoleGrant, {id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such grant");
  return GrantFromRow(result->rows.front());
}

Result<std::vector<RoleGrant>> SqlTransaction::ListRoleGrants(std::string_view state,
                                                              std::string_view after_id,
                                                              std::size_t limit) {
  if (auto s = CheckWord(state, "grant state"); !s) return std::unexpected(s.error());
  if (auto s = CheckPage(after_id, limit); !s) return std::unexpected(s.error());
  auto result =
      Run(Query::kListRoleGrants, {state, after_id, static_cast<std::int64_t>(limit)});
  if (!result) return std::unexpected(result.error());
  std::vector<RoleGrant> grants;
  grants.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto grant = GrantFromRow(row);
    if (!grant) return std::unexpected(grant.error());
    grants.push_back(std::move(*grant));
  }
  return grants;
}

Status SqlTransaction::DecideRoleGrant(const RoleGrant& grant, std::string_view expected_state) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckGrant(grant); !s) return s;
  auto result = Run(Query::kDecideRoleGrant,
                    {std::string_view(grant.id), std::string_view(grant.state),
                     std::string_view(grant.decided_by), Micros(grant.decided_at),
                     expected_state});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) {
    auto current = Run(Query::kSelectRoleGrant, {std::string_view(grant.id)});
    if (!current) return std::unexpected(current.error());
    if (current->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such grant");
    return Fail(ErrorCode::kConflict, "store: the grant was decided meanwhile");
  }
  return {};
}

Result<std::int64_t> SqlTransaction::CountAccounts(std::string_view kind,
                                                   std::string_view status) {
  if (auto s = CheckWord(kind, "account kind"); !s) return std::unexpected(s.error());
  if (auto s = CheckWord(status, "account status"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kCountAccounts, {kind, status});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return std::int64_t{0};
  return CellInt(result->rows.front(), 0);
}

Status SqlTransaction::InsertExportJob(const ExportJobRecord& job) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckJob(job); !s) return s;
  auto result = Run(
      Query::kInsertExportJob,
      {std::string_view(job.id), std::string_view(job.state), std::string_view(job.requested_by),
       std::string_view(job.requester_role), std::string_view(job.types),
       std::span<const std::uint8_t>(job.recipient_key), Micros(job.requested_at),
       Micros(job.expires_at), std::string_view(job.decided_by), Micros(job.decided_at),
       std::string_view(job.file), job.file_bytes, job.patients, std::string_view(job.watermark)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: export job id taken");
  return {};
}

Result<ExportJobRecord> SqlTransaction::GetExportJob(std::string_view id) {
  if (auto s = CheckWord(id, "export job id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectExportJob, {id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such export job");
  return JobFromRow(result->rows.front());
}

Result<std::vector<ExportJobRecord>> SqlTransaction::ListExportJobs(std::string_view after_id,
                                                                    std::size_t limit) {
  if (auto s = CheckPage(after_id, limit); !s) return std::unexpected(s.error());
  auto result = Run(Query::kListExportJobs, {after_id, static_cast<std::int64_t>(limit)});
  if (!result) return std::unexpected(result.error());
  std::vector<ExportJobRecord> jobs;
  jobs.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto job = JobFromRow(row);
    if (!job) return std::unexpected(job.error());
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

Status SqlTransaction::UpdateExportJob(const ExportJobRecord& job,
                                       std::string_view expected_state) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckJob(job); !s) return s;
  auto result =
      Run(Query::kUpdateExportJob,
          {std::string_view(job.id), std::string_view(job.state), Micros(job.expires_at),
           std::string_view(job.decided_by), Micros(job.decided_at), std::string_view(job.file),
           job.file_bytes, job.patients, std::string_view(job.watermark), expected_state});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) {
    auto current = Run(Query::kSelectExportJob, {std::string_view(job.id)});
    if (!current) return std::unexpected(current.error());
    if (current->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such export job");
    return Fail(ErrorCode::kConflict, "store: the export job changed meanwhile");
  }
  return {};
}

Result<std::vector<std::string>> SqlTransaction::ListPatientIds(std::string_view after_id,
                                                                std::size_t limit) {
  if (auto s = CheckPage(after_id, limit); !s) return std::unexpected(s.error());
  auto result = Run(Query::kListPatientIds, {after_id, static_cast<std::int64_t>(limit)});
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

}  // namespace medvault::store
