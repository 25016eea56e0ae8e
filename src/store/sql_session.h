// What a backend gives the shared transaction logic: named queries run as prepared
// statements with bound values. Each backend spells every Query in its own SQL dialect
// (sqlite/sqlite_queries.cc, postgres/postgres_queries.cc); no SQL text is ever built
// from values. Internal to src/store.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace medvault::store {

// Every statement the store runs. The parameter lists are documented in each backend's
// query table and must agree across backends.
enum class Query {
  kSelectHead,        // (type, id) -> current_version, deleted, patient_id
  kSelectCurrent,     // (type, id) -> version, deleted, patient_id, key_id, payload, recorded_at
  kSelectCurrentWithKey,  // (type, id, owner_without_patient) -> same columns, key_id, wrapped
  kSelectVersion,     // (type, id, version) -> same columns
  kSelectHistory,     // (type, id) -> same columns, oldest first
  kInsertHead,        // (type, id, patient_id): version 1, live; no row if it exists
  kAdvanceHead,       // (type, id, expected, deleted, patient_id): compare-and-set
  kInsertVersion,     // (type, id, version, deleted, patient_id, key_id, payload, recorded_at)
  kDeleteIndex,       // (type, id)
  kInsertIndex,       // (type, field, token, id)
  kLookup,            // (type, field, token, after_id, limit) -> id
  kListCurrent,       // (type, patient_id, after_id, owner_without_patient, limit) -> the
                      //  columns of kSelectCurrentWithKey, id; live only, by id
  kListVersions,      // (type, patient_id, limit) -> the columns of kSelectVersion, id;
                      //  newest first by (recorded_at, id, version)
  kListVersionsBefore,  // (type, patient_id, recorded_at, id, version, limit) -> same columns,
                        //  strictly before the cursor
  kDeleteIndexOfPatient,  // (patient_id): the index rows of the patient's resources
  kSelectKey,         // (patient_id) -> key_id, wrapped
  kInsertKey,         // (patient_id, key_id, wrapped): no row if one exists
  kReplaceKey,        // (patient_id, key_id, wrapped, expected_key_id)
  kDeleteKey,         // (patient_id)
  kListKeys,          // (after, limit) -> patient_id, key_id, wrapped
  kInsertAlert,       // (raised_at_micros, kind, subject, detail) -> id
  kListAlerts,        // (after_id, limit) -> id, raised_at, kind, subject, detail
  kInsertAccount,     // (id, login, kind, status, display_name, patient_id, created, updated)
  kSelectAccount,     // (id) -> the account columns in that order
  kSelectAccountByLogin,  // (login) -> the account columns
  kUpdateAccountStatus,   // (id, status, updated)
  kInsertCredential,  // (id, account_id, kind, material, external_id, counter, algorithm, created)
  kSelectCredential,  // (id) -> the credential columns in that order
  kListCredentials,   // (account_id) -> the credential columns, oldest first
  kSelectPasskey,     // (external_id) -> the credential columns
  kAdvanceCounter,    // (id, counter): only if counter is greater
  kUpdateMaterial,    // (id, material)
  kDeleteCredential,  // (id)
  kDeleteCredentials, // (account_id, kind or '')
  kInsertSession,     // (token_hash, id, account_id, stage, created, last_seen, expires,
                      //  second_factor_at, challenge, user_agent, source)
  kSelectSession,     // (token_hash) -> the session columns in that order
  kListSessions,      // (account_id) -> the session columns, oldest first
  kUpdateSession,     // (token_hash, stage, last_seen, expires, second_factor_at, challenge)
  kDeleteSession,     // (token_hash)
  kDeleteSessionById, // (account_id, id)
  kDeleteSessions,    // (account_id)
  kDeleteExpiredSessions,  // (now)
  kSelectThrottle,    // (account_id) -> failures, next_allowed_at, disabled
  kUpsertThrottle,    // (account_id, failures, next_allowed_at, disabled)
  kInsertCode,        // (code_hash, purpose, subject, created, expires)
  kSelectCode,        // (code_hash, purpose, now) -> subject, created, expires: usable only
  kConsumeCode,       // (code_hash, purpose, now) -> subject, created, expires
  kDeleteCodes,       // (subject, purpose)
  kInsertClient,      // (client_id, jwks, scopes, organization, created)
  kSelectClient,      // (client_id) -> client_id, jwks, scopes, organization, created
  kDeleteExpiredJtis, // (now)
  kInsertJti,         // (client_id, jti, expires): no row if it exists
  kDeleteExpiredAccessTokens,  // (now)
  kInsertAccessToken, // (token_hash, client_id, scopes, created, expires)
  kSelectAccessToken, // (token_hash, now) -> token_hash, client_id, scopes, created, expires
  kSelectMigrations,  // () -> version
  kInsertMigration,   // (version, name, applied_at_micros)
  kPing,              // () -> 1
  kLockAuditHead,     // () -> size, frontier; locks the head row
  kSelectAuditHead,   // () -> size, frontier
  kAdvanceAuditHead,  // (new_size, frontier, expected_size): compare-and-set
  kInsertAuditEntry,  // (seq, recorded_at, account, action, entry)
  kInsertAuditPatient,     // (patient_id, seq, recorded_at): no row if it exists
  kInsertAuditNode,        // (level, idx, hash)
  kSelectAuditNode,        // (level, idx) -> hash
  kListAuditNodes,         // (level, from_idx, limit) -> idx, hash
  kListAuditEntries,       // (from_seq, limit) -> seq, recorded_at, account, action, entry
  kListAuditPatients,      // (from_seq, to_seq) -> seq, patient_id
  kFindAuditByTime,        // (from, to, after_seq, limit) -> the columns of kListAuditEntries
  kFindAuditByAccount,     // (account, from, to, after_seq, limit) -> same columns
  kFindAuditByPatient,     // (patient_id, from, to, after_seq, limit) -> same columns
  kFindAuditByAction,      // (action, from, to, after_seq, limit) -> same columns
  kInsertAuditCheckpoint,  // (size, signed_at, note): no row if one of that size exists
  kListAuditCheckpoints,   // (after_size, limit) -> size, signed_at, note
  // lab feed (migration 006_lab):
  kInsertLabMessage,    // (sending_facility, control_id, ack_code, received_at): no row if
                        //  one exists
  kSelectLabMessage,    // (sending_facility, control_id) -> ack_code, received_at
  kInsertQuarantine,    // (id, received_at, updated_at, state, condition, error, version, sealed)
  kSelectQuarantine,    // (id) -> the quarantine columns in that order
  kListQuarantine,      // (after_received_at, after_id, limit) -> the quarantine columns, by
                        //  (received_at, id)
  kUpdateQuarantine,    // (id, updated_at, state, condition, error, version, sealed,
                        //  expected_version)
  // access policy (migration 007_policy):
  kDeleteCareRelations,   // (source_type, source_id)
  kInsertCareRelation,    // (practitioner_id, patient_id, source_type, source_id, expires_at):
                          //  no row if it exists
  kListCareRelations,     // (practitioner_id, now) -> patient_id, source_type, source_id,
                          //  expires_at; expires_at > now, by patient_id
  kHasCareRelation,       // (practitioner_id, patient_id, now) -> one row when one holds
  kUpsertAccountLink,     // (account_id, practitioner_id, organization_id, updated_at)
  kSelectAccountLink,     // (account_id) -> practitioner_id, organization_id, updated_at
  kInsertSensitiveGrant,  // (account_id, category, granted_at, granted_by): no row if it exists
  kListSensitiveGrants,   // (account_id) -> category, granted_at, granted_by; by category
  kInsertBreakGlass,      // (id, account_id, patient_id, reason, sealed_reason, granted_at,
                          //  expires_at, sealed_note): not reviewed; no row if the id exists
  kSelectBreakGlass,      // (id) -> the break-glass columns (id, account_id, patient_id, reason,
                          //  sealed_reason, granted_at, expires_at, reviewed_at, reviewer,
                          //  sealed_note)
  kListActiveBreakGlass,  // (account_id, now) -> the break-glass columns; expires_at > now
  kListBreakGlassToReview,  // (after_granted_at, after_id, limit) -> the break-glass columns;
                            //  reviewed_at = 0, by (granted_at, id)
  kReviewBreakGlass,      // (id, reviewed_at, reviewer, sealed_note): only if reviewed_at = 0
  // exfiltration guard (migration 008_guard):
  kLockGuardAccount,    // (account_id): creates or takes the row -> suspended_at, reason,
                        //  challenged_at
  kSelectGuardAccount,  // (account_id) -> suspended_at, reason, challenged_at
  kUpsertGuardPatient,  // (account_id, patient_id, at): last_seen moves to at, never back
  kAddGuardCounts,      // (account_id, window, bucket_start, records, bytes, searches): added
  kCountGuardPatients,  // (account_id, since_minute, since_hour, since_day) -> three counts
  kSumGuardCounts,      // (account_id, since_minute, since_hour, since_day) -> window,
                        //  records, bytes, searches; one row per window that has buckets
  kSuspendGuardAccount,  // (account_id, at, reason): creates or updates the row
  kSetGuardChallenge,   // (account_id, challenged_at): creates or updates the row
  kDeleteGuardAccount,  // (account_id)
  kDeleteGuardPatientsOf,  // (account_id)
  kDeleteGuardCountsOf,    // (account_id)
  kPruneGuardPatients,  // (before)
  kPruneGuardCounts,    // (before)
  kDeleteAccessTokens,  // (client_id)
  // sensitive categories (glass):
  kDeleteSensitiveGrant,  // (account_id, category)
  // approvals (migration 010_approvals):
  kInsertRoleGrant,     // (id, account_id, kind, state, requested_by, requested_at,
                        //  expires_at, decided_by, decided_at): no row if the id exists
  kSelectRoleGrant,     // (id) -> the grant columns in that order
  kListRoleGrants,      // (state, after_id, limit) -> the grant columns, by id
  kDecideRoleGrant,     // (id, state, decided_by, decided_at, expected_state)
  kCountAccounts,       // (kind, status) -> count
  kInsertExportJob,     // (id, state, requested_by, requester_role, types, recipient_key,
                        //  requested_at, expires_at, decided_by, decided_at, file,
                        //  file_bytes, patients, watermark): no row if the id exists
  kSelectExportJob,     // (id) -> the export job columns in that order
  kListExportJobs,      // (after_id, limit) -> the export job columns, by id
  kUpdateExportJob,     // (id, state, expires_at, decided_by, decided_at, file, file_bytes,
                        //  patients, watermark, expected_state)
  kListPatientIds,      // (after_id, limit) -> id of live Patient resources, by id
  // security console (migration 011_console):
  kSetLastLogin,        // (account_id, at)
  kListAccounts,        // (after_login, kind or '', status_prefix, login_prefix, limit) -> the
                        //  account columns, last_login_at, factor kinds joined by ','; by login
  kSelectAlertExists,   // (alert_id) -> count
  kInsertAlertAck,      // (alert_id, by, at): no row if the alert has one
  kSelectAlertAck,      // (alert_id) -> alert_id, by, at
  kListAlertAcks,       // (after_id, up_to_id) -> alert_id, by, at; by alert id
  kDisableClient,       // (client_id, by, at): no row if it is disabled already
  kSelectClientDisabled,  // (client_id) -> count
  kCount,
};

// One row of a backend's query table, which lists every Query in enum order.
struct QuerySpec {
  Query query;
  const char* sql;
};

template <std::size_t N>
constexpr bool InEnumOrder(const std::array<QuerySpec, N>& table) {
  if (N != static_cast<std::size_t>(Query::kCount)) return false;
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(table[i].query) != i) return false;
  }
  return true;
}

using Param = std::variant<std::int64_t, std::string_view, std::span<const std::uint8_t>>;
using Cell = std::variant<std::monostate, std::int64_t, std::string, Bytes>;
using Row = std::vector<Cell>;

struct QueryResult {
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT, UPDATE or DELETE
};

// One result row read in place: the views stay valid only while the visitor runs. A wrong
// type (kInternal) means the schema and the code disagree, as with the Cell* reads below.
class RowView {
 public:
  virtual Result<std::int64_t> Int(std::size_t column) const = 0;
  virtual Result<std::string_view> Text(std::size_t column) const = 0;
  virtual Result<std::span<const std::uint8_t>> Blob(std::size_t column) const = 0;

 protected:
  ~RowView() = default;
};
using RowVisitor = std::function<Status(const RowView&)>;

// One database connection inside a transaction. Not thread-safe.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual Result<QueryResult> Run(Query query, std::span<const Param> params) = 0;
  // Runs a query that returns rows and hands each one to `visit` without materializing it
  // (for long scans such as the audit verifier's); the first failing visit stops the query
  // and is returned. This default reads the rows through Run; a backend may read in place.
  virtual Status Each(Query query, std::span<const Param> params, const RowVisitor& visit);
};

// Stable name of a query for error messages and PostgreSQL prepared statement names.
const char* QueryName(Query query);

// Typed reads of result cells (text and bytes are moved out); a wrong type means the
// schema and the code disagree.
Result<std::int64_t> CellInt(const Row& row, std::size_t column);
Result<std::string> CellText(Row& row, std::size_t column);
Result<Bytes> CellBytes(Row& row, std::size_t column);

}  // namespace medvault::store
