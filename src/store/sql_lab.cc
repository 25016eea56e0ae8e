// SqlTransaction's operations on the lab feed's tables (migration 006_lab).
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

// The largest sealed quarantined message: the MLLP listener's limit is far below it.
constexpr std::size_t kMaxSealedMessageBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxErrorBytes = 1024;
constexpr std::size_t kMaxListLimit = 10'000;

Status CheckKey(std::string_view value, std::string_view what) {
  if (value.empty() || value.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "store: " + std::string(what) + " is empty or too long");
  }
  return {};
}

Status CheckQuarantined(const QuarantinedMessage& message) {
  if (auto s = CheckKey(message.id, "quarantine id"); !s) return s;
  if (auto s = CheckKey(message.state, "quarantine state"); !s) return s;
  if (message.error.size() > kMaxErrorBytes || message.sealed.empty() ||
      message.sealed.size() > kMaxSealedMessageBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: quarantined message is empty or too long");
  }
  return {};
}

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

// Columns: id, received_at, updated_at, state, error_condition, error, version, sealed.
Result<QuarantinedMessage> QuarantinedFromRow(Row& row) {
  QuarantinedMessage message;
  auto id = CellText(row, 0);
  auto received_at = CellInt(row, 1);
  auto updated_at = CellInt(row, 2);
  auto state = CellText(row, 3);
  auto condition = CellInt(row, 4);
  auto error = CellText(row, 5);
  auto version = CellInt(row, 6);
  auto sealed = CellBytes(row, 7);
  if (!id || !received_at || !updated_at || !state || !condition || !error || !version || !sealed) {
    return Fail(ErrorCode::kInternal, "store: a quarantine row has unexpected columns");
  }
  message.id = std::move(*id);
  message.received_at = At(*received_at);
  message.updated_at = At(*updated_at);
  message.state = std::move(*state);
  message.condition = *condition;
  message.error = std::move(*error);
  message.version = *version;
  message.sealed = std::move(*sealed);
  return message;
}

}  // namespace

Status SqlTransaction::InsertLabMessage(const LabMessageRecord& message) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckKey(message.sending_facility, "sending facility"); !s) return s;
  if (auto s = CheckKey(message.control_id, "control id"); !s) return s;
  if (auto s = CheckKey(message.ack_code, "acknowledgement code"); !s) return s;
  auto result =
      Run(Query::kInsertLabMessage,
          {std::string_view(message.sending_facility), std::string_view(message.control_id),
           std::string_view(message.ack_code), Micros(message.received_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: message taken");
  return {};
}

Result<LabMessageRecord> SqlTransaction::GetLabMessage(std::string_view sending_facility,
                                                       std::string_view control_id) {
  if (auto s = CheckKey(sending_facility, "sending facility"); !s)
    return std::unexpected(s.error());
  if (auto s = CheckKey(control_id, "control id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectLabMessage, {sending_facility, control_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such message");
  auto ack_code = CellText(result->rows.front(), 0);
  auto received_at = CellInt(result->rows.front(), 1);
  if (!ack_code || !received_at) {
    return Fail(ErrorCode::kInternal, "store: a lab message row has unexpected columns");
  }
  return LabMessageRecord{std::string(sending_facility), std::string(control_id),
                          std::move(*ack_code), At(*received_at)};
}

Status SqlTransaction::InsertQuarantined(const QuarantinedMessage& message) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckQuarantined(message); !s) return s;
  auto result =
      Run(Query::kInsertQuarantine,
          {std::string_view(message.id), Micros(message.received_at), Micros(message.updated_at),
           std::string_view(message.state), message.condition, std::string_view(message.error),
           message.version, std::span<const std::uint8_t>(message.sealed)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: quarantine id taken");
  return {};
}

Result<QuarantinedMessage> SqlTransaction::GetQuarantined(std::string_view id) {
  if (auto s = CheckKey(id, "quarantine id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectQuarantine, {id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such quarantined message");
  return QuarantinedFromRow(result->rows.front());
}

Result<std::vector<QuarantinedMessage>> SqlTransaction::ListQuarantined(Timestamp after_received_at,
                                                                        std::string_view after_id,
                                                                        std::size_t limit) {
  if (after_id.size() > kMaxNameBytes || limit == 0 || limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument, "store: bad quarantine page");
  }
  auto result = Run(Query::kListQuarantine,
                    {Micros(after_received_at), after_id, static_cast<std::int64_t>(limit)});
  if (!result) return std::unexpected(result.error());
  std::vector<QuarantinedMessage> messages;
  messages.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto message = QuarantinedFromRow(row);
    if (!message) return std::unexpected(message.error());
    messages.push_back(std::move(*message));
  }
  return messages;
}

Status SqlTransaction::UpdateQuarantined(const QuarantinedMessage& message,
                                         std::int64_t expected_version) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckQuarantined(message); !s) return s;
  auto result =
      Run(Query::kUpdateQuarantine,
          {std::string_view(message.id), Micros(message.updated_at),
           std::string_view(message.state), message.condition, std::string_view(message.error),
           message.version, std::span<const std::uint8_t>(message.sealed), expected_version});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) {
    auto current = Run(Query::kSelectQuarantine, {std::string_view(message.id)});
    if (!current) return std::unexpected(current.error());
    if (current->rows.empty())
      return Fail(ErrorCode::kNotFound, "store: no such quarantined message");
    return Fail(ErrorCode::kConflict, "store: the quarantined message changed meanwhile");
  }
  return {};
}

}  // namespace medvault::store
