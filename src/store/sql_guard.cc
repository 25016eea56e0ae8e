// SqlTransaction's operations on the exfiltration guard's tables (migration 008_guard).
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

Status CheckId(std::string_view value, std::string_view what) {
  if (value.empty() || value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: " + std::string(what) + " is empty or too long");
  }
  return {};
}

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// Columns: suspended_at, reason, challenged_at.
Result<GuardState> StateFromRow(Row& row) {
  auto suspended_at = CellInt(row, 0);
  auto reason = CellText(row, 1);
  auto challenged_at = CellInt(row, 2);
  if (!suspended_at || !reason || !challenged_at) {
    return Fail(ErrorCode::kInternal, "store: a guard account row has unexpected columns");
  }
  return GuardState{At(*suspended_at), std::move(*reason), At(*challenged_at)};
}

}  // namespace

Result<GuardTally> SqlTransaction::RecordGuardAccess(const GuardAccess& access) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckId(access.account_id, "account id"); !s) return std::unexpected(s.error());
  for (const std::string& patient : access.patients) {
    if (auto s = CheckId(patient, "patient id"); !s) return std::unexpected(s.error());
  }
  if (access.records < 0 || access.bytes < 0 || access.searches < 0) {
    return Fail(ErrorCode::kInvalidArgument, "store: guard counts only grow");
  }
  const std::string_view account = access.account_id;
  // First the account's row: concurrent rounds of one account queue here.
  auto locked = Run(Query::kLockGuardAccount, {account});
  if (!locked) return std::unexpected(locked.error());
  if (locked->rows.empty()) return Fail(ErrorCode::kInternal, "store: guard account not locked");
  GuardTally tally;
  auto state = StateFromRow(locked->rows.front());
  if (!state) return std::unexpected(state.error());
  tally.state = std::move(*state);
  for (const std::string& patient : access.patients) {
    auto seen = Run(Query::kUpsertGuardPatient,
                    {account, std::string_view(patient), Micros(access.at)});
    if (!seen) return std::unexpected(seen.error());
  }
  if (access.records != 0 || access.bytes != 0 || access.searches != 0) {
    for (std::size_t w = 0; w < kGuardWindows; ++w) {
      auto added = Run(Query::kAddGuardCounts,
                       {account, static_cast<std::int64_t>(w),
                        Micros(access.windows[w].bucket_start), access.records, access.bytes,
                        access.searches});
      if (!added) return std::unexpected(added.error());
    }
  }
  const std::int64_t since[kGuardWindows] = {Micros(access.windows[0].since),
                                             Micros(access.windows[1].since),
                                             Micros(access.windows[2].since)};
  if (access.count_patients) {
    auto patients = Run(Query::kCountGuardPatients, {account, since[0], since[1], since[2]});
    if (!patients) return std::unexpected(patients.error());
    if (patients->rows.size() != 1) return Fail(ErrorCode::kInternal, "store: no guard count");
    for (std::size_t w = 0; w < kGuardWindows; ++w) {
      auto count = CellInt(patients->rows.front(), w);
      if (!count) return std::unexpected(count.error());
      tally.counts[w].patients = *count;
    }
  }
  if (!access.sum_counts) return tally;
  auto sums = Run(Query::kSumGuardCounts, {account, since[0], since[1], since[2]});
  if (!sums) return std::unexpected(sums.error());
  for (Row& row : sums->rows) {
    auto window = CellInt(row, 0);
    auto records = CellInt(row, 1);
    auto bytes = CellInt(row, 2);
    auto searches = CellInt(row, 3);
    if (!window || !records || !bytes || !searches || *window < 0 ||
        *window >= static_cast<std::int64_t>(kGuardWindows)) {
      return Fail(ErrorCode::kInternal, "store: a guard sum has unexpected columns");
    }
    GuardWindowCounts& counts = tally.counts[static_cast<std::size_t>(*window)];
    counts.records = *records;
    counts.bytes = *bytes;
    counts.searches = *searches;
  }
  return tally;
}

Status SqlTransaction::SuspendGuardAccount(std::string_view account_id, Timestamp at,
                                           std::string_view reason) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckId(account_id, "account id"); !s) return s;
  if (reason.size() > kMaxAlertDetailBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: suspension reason is too long");
  }
  auto result = Run(Query::kSuspendGuardAccount, {account_id, Micros(at), reason});
  if (!result) return std::unexpected(result.error());
  return {};
}

Status SqlTransaction::SetGuardChallenge(std::string_view account_id, Timestamp challenged_at) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckId(account_id, "account id"); !s) return s;
  auto result = Run(Query::kSetGuardChallenge, {account_id, Micros(challenged_at)});
  if (!result) return std::unexpected(result.error());
  return {};
}

Result<GuardState> SqlTransaction::GetGuardState(std::string_view account_id) {
  if (auto s = CheckId(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectGuardAccount, {account_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return GuardState{};
  return StateFromRow(result->rows.front());
}

Result<bool> SqlTransaction::ResetGuardAccount(std::string_view account_id) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckId(account_id, "account id"); !s) return std::unexpected(s.error());
  auto removed = Run(Query::kDeleteGuardAccount, {account_id});
  if (!removed) return std::unexpected(removed.error());
  for (Query query : {Query::kDeleteGuardPatientsOf, Query::kDeleteGuardCountsOf}) {
    if (auto r = Run(query, {account_id}); !r) return std::unexpected(r.error());
  }
  return removed->affected > 0;
}

Result<std::int64_t> SqlTransaction::PruneGuardCounters(Timestamp buckets_before,
                                                        Timestamp patients_before) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  auto counts = Run(Query::kPruneGuardCounts, {Micros(buckets_before)});
  if (!counts) return std::unexpected(counts.error());
  auto patients = Run(Query::kPruneGuardPatients, {Micros(patients_before)});
  if (!patients) return std::unexpected(patients.error());
  return counts->affected + patients->affected;
}

Result<std::int64_t> SqlTransaction::DeleteAccessTokens(std::string_view client_id) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckId(client_id, "client id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteAccessTokens, {client_id});
  if (!result) return std::unexpected(result.error());
  return result->affected;
}

}  // namespace medvault::store
