#include "store/sql_session.h"

#include <array>
#include <utility>

namespace medvault::store {
namespace {

constexpr std::array<const char*, static_cast<std::size_t>(Query::kCount)> kQueryNames{
    "select_head",       "select_current",   "select_current_with_key", "select_version", "select_history", "insert_head",
    "advance_head",      "insert_version",   "delete_index",   "insert_index",   "lookup",
    "list_current",      "list_versions",    "list_versions_before", "delete_index_of_patient",
    "select_key",        "insert_key",       "replace_key",    "delete_key",     "list_keys",
    "insert_alert",      "list_alerts",      "insert_account", "select_account", "select_account_by_login", "update_account_status",
    "insert_credential", "select_credential", "list_credentials", "select_passkey",
    "advance_counter", "update_material", "delete_credential", "delete_credentials",
    "insert_session", "select_session", "list_sessions", "update_session", "delete_session",
    "delete_session_by_id", "delete_sessions", "delete_expired_sessions", "select_throttle",
    "upsert_throttle", "insert_code", "select_code", "consume_code", "delete_codes", "insert_client",
    "select_client", "delete_expired_jtis", "insert_jti", "delete_expired_access_tokens",
    "insert_access_token", "select_access_token",
    "select_migrations", "insert_migration", "ping",
    "lock_audit_head", "select_audit_head", "advance_audit_head", "insert_audit_entry",
    "insert_audit_patient", "insert_audit_node", "select_audit_node", "list_audit_nodes",
    "list_audit_entries", "list_audit_patients", "find_audit_by_time", "find_audit_by_account",
    "find_audit_by_patient", "find_audit_by_action", "insert_audit_checkpoint",
    "list_audit_checkpoints",
    // lab feed:
    "insert_lab_message", "select_lab_message", "insert_quarantine", "select_quarantine",
    "list_quarantine", "update_quarantine",
    // access policy:
    "delete_care_relations", "insert_care_relation", "list_care_relations", "has_care_relation",
    "upsert_account_link",
    "select_account_link", "insert_sensitive_grant", "list_sensitive_grants", "insert_break_glass",
    "select_break_glass", "list_active_break_glass", "list_break_glass_to_review",
    "review_break_glass",
    // exfiltration guard:
    "lock_guard_account", "select_guard_account", "upsert_guard_patient", "add_guard_counts",
    "count_guard_patients", "sum_guard_counts", "suspend_guard_account", "set_guard_challenge",
    "delete_guard_account", "delete_guard_patients_of", "delete_guard_counts_of",
    "prune_guard_patients", "prune_guard_counts", "delete_access_tokens",
    // sensitive categories (glass):
    "delete_sensitive_grant",
    // approvals:
    "insert_role_grant", "select_role_grant", "list_role_grants", "decide_role_grant",
    "count_accounts", "insert_export_job", "select_export_job", "list_export_jobs",
    "update_export_job", "list_patient_ids",
    // security console:
    "set_last_login", "list_accounts", "select_alert_exists", "insert_alert_ack",
    "select_alert_ack", "list_alert_acks", "disable_client", "select_client_disabled",
};

// A Query added without a name would leave a null at the end of the table.
constexpr bool EveryQueryNamed() {
  for (const char* name : kQueryNames) {
    if (name == nullptr) return false;
  }
  return true;
}
static_assert(EveryQueryNamed(), "kQueryNames must name every Query, in enum order");

// A materialized row seen through the RowView interface.
class CellsView final : public RowView {
 public:
  explicit CellsView(const Row& row) : row_(row) {}
  Result<std::int64_t> Int(std::size_t column) const override { return CellInt(row_, column); }
  Result<std::string_view> Text(std::size_t column) const override {
    if (column < row_.size()) {
      if (const auto* value = std::get_if<std::string>(&row_[column])) return *value;
    }
    return Fail(ErrorCode::kInternal, "store: expected a text column");
  }
  Result<std::span<const std::uint8_t>> Blob(std::size_t column) const override {
    if (column < row_.size()) {
      if (const auto* value = std::get_if<Bytes>(&row_[column])) {
        return std::span<const std::uint8_t>(value->data(), value->size());
      }
    }
    return Fail(ErrorCode::kInternal, "store: expected a bytes column");
  }

 private:
  const Row& row_;
};

}  // namespace

Status SqlSession::Each(Query query, std::span<const Param> params, const RowVisitor& visit) {
  auto result = Run(query, params);
  if (!result) return std::unexpected(result.error());
  for (const Row& row : result->rows) {
    if (auto s = visit(CellsView(row)); !s) return s;
  }
  return {};
}

const char* QueryName(Query query) {
  const auto index = static_cast<std::size_t>(query);
  return index < kQueryNames.size() ? kQueryNames[index] : "unknown";
}

Result<std::int64_t> CellInt(const Row& row, std::size_t column) {
  if (column < row.size()) {
    if (const auto* value = std::get_if<std::int64_t>(&row[column])) return *value;
  }
  return Fail(ErrorCode::kInternal, "store: expected an integer column");
}

Result<std::string> CellText(Row& row, std::size_t column) {
  if (column < row.size()) {
    if (auto* value = std::get_if<std::string>(&row[column])) return std::move(*value);
  }
  return Fail(ErrorCode::kInternal, "store: expected a text column");
}

Result<Bytes> CellBytes(Row& row, std::size_t column) {
  if (column < row.size()) {
    if (auto* value = std::get_if<Bytes>(&row[column])) return std::move(*value);
  }
  return Fail(ErrorCode::kInternal, "store: expected a bytes column");
}

}  // namespace medvault::store
