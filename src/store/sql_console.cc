// SqlTransaction's operations on the security console's tables (migration 011_console).
#include <algorithm>
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

constexpr std::size_t kMaxAccountPage = 1000;

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

std::vector<std::string> SplitKinds(std::string_view joined) {
  std::vector<std::string> kinds;
  while (!joined.empty()) {
    const auto comma = joined.find(',');
    if (comma != 0) kinds.emplace_back(joined.substr(0, comma));
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  std::ranges::sort(kinds);
  return kinds;
}

// Columns: id, login, kind, status, display_name, patient_id, created_at, updated_at,
// last_login_at, factor kinds.
Result<AccountSummary> SummaryFromRow(Row& row) {
  auto id = CellText(row, 0);
  auto login = CellText(row, 1);
  auto kind = CellText(row, 2);
  auto status = CellText(row, 3);
  auto display_name = CellText(row, 4);
  auto patient_id = CellText(row, 5);
  auto created_at = CellInt(row, 6);
  auto updated_at = CellInt(row, 7);
  auto last_login_at = CellInt(row, 8);
  auto kinds = CellText(row, 9);
  if (!id || !login || !kind || !status || !display_name || !patient_id || !created_at ||
      !updated_at || !last_login_at || !kinds) {
    return Fail(ErrorCode::kInternal, "store: an account row has unexpected columns");
  }
  AccountSummary summary;
  summary.account = Account{std::move(*id),     std::move(*login),        std::move(*kind),
                            std::move(*status), std::move(*display_name), std::move(*patient_id),
                            At(*created_at),    At(*updated_at)};
  summary.last_login_at = At(*last_login_at);
  summary.factor_kinds = SplitKinds(*kinds);
  return summary;
}

// Columns: alert_id, acknowledged_by, acknowledged_at.
Result<AlertAck> AckFromRow(Row& row) {
  auto id = CellInt(row, 0);
  auto by = CellText(row, 1);
  auto at = CellInt(row, 2);
  if (!id || !by || !at) {
    return Fail(ErrorCode::kInternal, "store: an alert acknowledgement row has unexpected columns");
  }
  return AlertAck{*id, std::move(*by), At(*at)};
}

}  // namespace

Status SqlTransaction::SetAccountLastLogin(std::string_view account_id, Timestamp at) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(account_id, "account id"); !s) return s;
  auto result = Run(Query::kSetLastLogin, {account_id, Micros(at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such account");
  return {};
}

Result<std::vector<AccountSummary>> SqlTransaction::ListAccounts(const AccountQuery& query) {
  if (auto s = CheckName(query.after_login, "login cursor", true); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = CheckName(query.kind, "account kind", true); !s) return std::unexpected(s.error());
  if (auto s = CheckName(query.status_prefix, "account status", true); !s) {
    return std::unexpected(s.error());
  }
  if (auto s = CheckName(query.login_prefix, "login prefix", true); !s) {
    return std::unexpected(s.error());
  }
  if (query.limit == 0 || query.limit > kMaxAccountPage) {
    return Fail(ErrorCode::kInvalidArgument, "store: bad page");
  }
  auto result = Run(Query::kListAccounts,
                    {std::string_view(query.after_login), std::string_view(query.kind),
                     std::string_view(query.status_prefix), std::string_view(query.login_prefix),
                     static_cast<std::int64_t>(query.limit)});
  if (!result) return std::unexpected(result.error());
  std::vector<AccountSummary> accounts;
  accounts.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto summary = SummaryFromRow(row);
    if (!summary) return std::unexpected(summary.error());
    accounts.push_back(std::move(*summary));
  }
  return accounts;
}

Result<AlertAck> SqlTransaction::AcknowledgeAlert(const AlertAck& ack) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(ack.acknowledged_by, "acknowledging account"); !s) {
    return std::unexpected(s.error());
  }
  auto exists = Run(Query::kSelectAlertExists, {ack.alert_id});
  if (!exists) return std::unexpected(exists.error());
  auto count = exists->rows.empty() ? Result<std::int64_t>(0) : CellInt(exists->rows.front(), 0);
  if (!count) return std::unexpected(count.error());
  if (*count == 0) return Fail(ErrorCode::kNotFound, "store: no such alert");
  auto inserted = Run(Query::kInsertAlertAck, {ack.alert_id, std::string_view(ack.acknowledged_by),
                                               Micros(ack.acknowledged_at)});
  if (!inserted) return std::unexpected(inserted.error());
  auto first = Run(Query::kSelectAlertAck, {ack.alert_id});
  if (!first) return std::unexpected(first.error());
  if (first->rows.empty()) return Fail(ErrorCode::kInternal, "store: acknowledgement not kept");
  return AckFromRow(first->rows.front());
}

Result<std::vector<AlertAck>> SqlTransaction::ListAlertAcks(std::int64_t after_id,
                                                            std::int64_t up_to_id) {
  auto result = Run(Query::kListAlertAcks, {after_id, up_to_id});
  if (!result) return std::unexpected(result.error());
  std::vector<AlertAck> acks;
  acks.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto ack = AckFromRow(row);
    if (!ack) return std::unexpected(ack.error());
    acks.push_back(std::move(*ack));
  }
  return acks;
}

Status SqlTransaction::DisableApiClient(std::string_view client_id, std::string_view by,
                                        Timestamp at) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(by, "disabling account"); !s) return s;
  if (auto client = GetApiClient(client_id); !client) return std::unexpected(client.error());
  auto result = Run(Query::kDisableClient, {client_id, by, Micros(at)});
  if (!result) return std::unexpected(result.error());
  return {};
}

Result<bool> SqlTransaction::IsApiClientDisabled(std::string_view client_id) {
  if (auto s = CheckName(client_id, "client id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectClientDisabled, {client_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return false;
  auto count = CellInt(result->rows.front(), 0);
  if (!count) return std::unexpected(count.error());
  return *count > 0;
}

}  // namespace medvault::store
