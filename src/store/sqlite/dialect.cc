#include "store/sqlite/dialect.h"

#include <array>
#include <cstddef>

namespace medvault::store::sqlite {
namespace {

// Indexed by Query; the static_assert below keeps the order honest.
constexpr std::array<QuerySpec, static_cast<std::size_t>(Query::kCount)> kQueries{{
    {Query::kSelectHead,
     "SELECT current_version, deleted, patient_id FROM resources "
     "WHERE resource_type = ?1 AND id = ?2"},
    {Query::kSelectCurrent,
     "SELECT v.version, v.deleted, v.patient_id, v.key_id, v.payload, v.recorded_at "
     "FROM resources r JOIN resource_versions v ON v.resource_type = r.resource_type "
     "AND v.id = r.id AND v.version = r.current_version "
     "WHERE r.resource_type = ?1 AND r.id = ?2"},
    {Query::kSelectCurrentWithKey,
     "SELECT v.version, v.deleted, v.patient_id, v.key_id, v.payload, v.recorded_at, k.key_id, "
     "k.wrapped FROM resources r JOIN resource_versions v ON v.resource_type = r.resource_type "
     "AND v.id = r.id AND v.version = r.current_version "
     "LEFT JOIN patient_keys k ON k.patient_id = "
     "(CASE WHEN v.patient_id = '' THEN ?3 ELSE v.patient_id END) "
     "WHERE r.resource_type = ?1 AND r.id = ?2"},
    {Query::kSelectVersion,
     "SELECT version, deleted, patient_id, key_id, payload, recorded_at FROM resource_versions "
     "WHERE resource_type = ?1 AND id = ?2 AND version = ?3"},
    {Query::kSelectHistory,
     "SELECT version, deleted, patient_id, key_id, payload, recorded_at FROM resource_versions "
     "WHERE resource_type = ?1 AND id = ?2 ORDER BY version"},
    {Query::kInsertHead,
     "INSERT INTO resources (resource_type, id, current_version, deleted, patient_id) "
     "VALUES (?1, ?2, 1, 0, ?3) ON CONFLICT DO NOTHING"},
    {Query::kAdvanceHead,
     "UPDATE resources SET current_version = ?3 + 1, deleted = ?4, patient_id = ?5 "
     "WHERE resource_type = ?1 AND id = ?2 AND current_version = ?3"},
    {Query::kInsertVersion,
     "INSERT INTO resource_versions (resource_type, id, version, deleted, patient_id, key_id, "
     "payload, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
    {Query::kDeleteIndex, "DELETE FROM blind_index WHERE resource_type = ?1 AND id = ?2"},
    {Query::kInsertIndex,
     "INSERT INTO blind_index (resource_type, field, token, id) VALUES (?1, ?2, ?3, ?4) "
     "ON CONFLICT DO NOTHING"},
    {Query::kLookup,
     "SELECT id FROM blind_index WHERE resource_type = ?1 AND field = ?2 AND token = ?3 "
     "AND id > ?4 ORDER BY id LIMIT ?5"},
    {Query::kListCurrent,
     "SELECT v.version, v.deleted, v.patient_id, v.key_id, v.payload, v.recorded_at, k.key_id, "
     "k.wrapped, r.id FROM resources r JOIN resource_versions v "
     "ON v.resource_type = r.resource_type AND v.id = r.id AND v.version = r.current_version "
     "LEFT JOIN patient_keys k ON k.patient_id = "
     "(CASE WHEN r.patient_id = '' THEN ?4 ELSE r.patient_id END) "
     "WHERE r.patient_id = ?2 AND r.resource_type = ?1 AND r.id > ?3 AND r.deleted = 0 "
     "ORDER BY r.id LIMIT ?5"},
    {Query::kListVersions,
     "SELECT version, deleted, patient_id, key_id, payload, recorded_at, id "
     "FROM resource_versions WHERE resource_type = ?1 AND patient_id = ?2 "
     "ORDER BY recorded_at DESC, id DESC, version DESC LIMIT ?3"},
    {Query::kListVersionsBefore,
     "SELECT version, deleted, patient_id, key_id, payload, recorded_at, id "
     "FROM resource_versions WHERE resource_type = ?1 AND patient_id = ?2 "
     "AND (recorded_at, id, version) < (?3, ?4, ?5) "
     "ORDER BY recorded_at DESC, id DESC, version DESC LIMIT ?6"},
    {Query::kDeleteIndexOfPatient,
     "DELETE FROM blind_index WHERE (resource_type, id) IN "
     "(SELECT resource_type, id FROM resources WHERE patient_id = ?1)"},
    {Query::kSelectKey, "SELECT key_id, wrapped FROM patient_keys WHERE patient_id = ?1"},
    {Query::kInsertKey,
     "INSERT INTO patient_keys (patient_id, key_id, wrapped) VALUES (?1, ?2, ?3) "
     "ON CONFLICT DO NOTHING"},
    {Query::kReplaceKey,
     "UPDATE patient_keys SET key_id = ?2, wrapped = ?3 WHERE patient_id = ?1 AND key_id = ?4"},
    {Query::kDeleteKey, "DELETE FROM patient_keys WHERE patient_id = ?1"},
    {Query::kListKeys,
     "SELECT patient_id, key_id, wrapped FROM patient_keys WHERE patient_id > ?1 "
     "ORDER BY patient_id LIMIT ?2"},
    {Query::kInsertAlert,
     "INSERT INTO alerts (raised_at, kind, subject, detail) VALUES (?1, ?2, ?3, ?4) RETURNING id"},
    {Query::kListAlerts,
     "SELECT id, raised_at, kind, subject, detail FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"},
    {Query::kInsertAccount,
     "INSERT INTO accounts (id, login, kind, status, display_name, patient_id, "
     "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO "
     "NOTHING"},
    {Query::kSelectAccount,
     "SELECT id, login, kind, status, display_name, patient_id, created_at, updated_at "
     "FROM accounts WHERE id = ?1"},
    {Query::kSelectAccountByLogin,
     "SELECT id, login, kind, status, display_name, patient_id, created_at, updated_at "
     "FROM accounts WHERE login = ?1"},
    {Query::kUpdateAccountStatus,
     "UPDATE accounts SET status = ?2, updated_at = ?3 WHERE id = ?1"},
    {Query::kInsertCredential,
     "INSERT INTO credentials (id, account_id, kind, material, external_id, counter, "
     "algorithm, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO "
     "NOTHING"},
    {Query::kSelectCredential,
     "SELECT id, account_id, kind, material, external_id, counter, algorithm, "
     "created_at FROM credentials WHERE id = ?1"},
    {Query::kListCredentials,
     "SELECT id, account_id, kind, material, external_id, counter, algorithm, "
     "created_at FROM credentials WHERE account_id = ?1 ORDER BY created_at, id"},
    {Query::kSelectPasskey,
     "SELECT id, account_id, kind, material, external_id, counter, algorithm, "
     "created_at FROM credentials WHERE kind = 'passkey' AND external_id = ?1"},
    {Query::kAdvanceCounter,
     "UPDATE credentials SET counter = ?2 WHERE id = ?1 AND counter < ?2"},
    {Query::kUpdateMaterial,
     "UPDATE credentials SET material = ?2 WHERE id = ?1"},
    {Query::kDeleteCredential,
     "DELETE FROM credentials WHERE id = ?1"},
    {Query::kDeleteCredentials,
     "DELETE FROM credentials WHERE account_id = ?1 AND (?2 = '' OR kind = ?2)"},
    {Query::kInsertSession,
     "INSERT INTO sessions (token_hash, id, account_id, stage, created_at, "
     "last_seen_at, expires_at, second_factor_at, challenge, user_agent, source) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING"},
    {Query::kSelectSession,
     "SELECT token_hash, id, account_id, stage, created_at, last_seen_at, expires_at, "
     "second_factor_at, challenge, user_agent, source FROM sessions WHERE token_hash = "
     "?1"},
    {Query::kListSessions,
     "SELECT token_hash, id, account_id, stage, created_at, last_seen_at, expires_at, "
     "second_factor_at, challenge, user_agent, source FROM sessions WHERE account_id = "
     "?1 ORDER BY created_at, id"},
    {Query::kUpdateSession,
     "UPDATE sessions SET stage = ?2, last_seen_at = ?3, expires_at = ?4, "
     "second_factor_at = ?5, challenge = ?6 WHERE token_hash = ?1"},
    {Query::kDeleteSession,
     "DELETE FROM sessions WHERE token_hash = ?1"},
    {Query::kDeleteSessionById,
     "DELETE FROM sessions WHERE account_id = ?1 AND id = ?2"},
    {Query::kDeleteSessions,
     "DELETE FROM sessions WHERE account_id = ?1"},
    {Query::kDeleteExpiredSessions,
     "DELETE FROM sessions WHERE expires_at <= ?1"},
    {Query::kSelectThrottle,
     "SELECT consecutive_failures, next_allowed_at, disabled FROM login_throttle WHERE "
     "account_id = ?1"},
    {Query::kUpsertThrottle,
     "INSERT INTO login_throttle (account_id, consecutive_failures, next_allowed_at, "
     "disabled) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO UPDATE SET "
     "consecutive_failures = excluded.consecutive_failures, next_allowed_at = "
     "excluded.next_allowed_at, disabled = excluded.disabled"},
    {Query::kInsertCode,
     "INSERT INTO one_time_codes (code_hash, purpose, subject, created_at, expires_at, "
     "used_at) VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT DO NOTHING"},
    {Query::kSelectCode,
     "SELECT subject, created_at, expires_at FROM one_time_codes WHERE code_hash = ?1 AND "
     "purpose = ?2 AND used_at = 0 AND expires_at > ?3"},
    {Query::kConsumeCode,
     "UPDATE one_time_codes SET used_at = ?3 WHERE code_hash = ?1 AND purpose = ?2 AND "
     "used_at = 0 AND expires_at > ?3 RETURNING subject, created_at, expires_at"},
    {Query::kDeleteCodes,
     "DELETE FROM one_time_codes WHERE subject = ?1 AND purpose = ?2"},
    {Query::kInsertClient,
     "INSERT INTO api_clients (client_id, jwks, allowed_scopes, organization, "
     "created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"},
    {Query::kSelectClient,
     "SELECT client_id, jwks, allowed_scopes, organization, created_at FROM "
     "api_clients WHERE client_id = ?1"},
    {Query::kDeleteExpiredJtis,
     "DELETE FROM used_jtis WHERE expires_at <= ?1"},
    {Query::kInsertJti,
     "INSERT INTO used_jtis (client_id, jti, expires_at) VALUES (?1, ?2, ?3) ON "
     "CONFLICT DO NOTHING"},
    {Query::kDeleteExpiredAccessTokens,
     "DELETE FROM access_tokens WHERE expires_at <= ?1"},
    {Query::kInsertAccessToken,
     "INSERT INTO access_tokens (token_hash, client_id, scopes, created_at, "
     "expires_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"},
    {Query::kSelectAccessToken,
     "SELECT token_hash, client_id, scopes, created_at, expires_at FROM access_tokens "
     "WHERE token_hash = ?1 AND expires_at > ?2"},
    {Query::kSelectMigrations, "SELECT version FROM schema_migrations ORDER BY version"},
    {Query::kInsertMigration,
     "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)"},
    {Query::kPing, "SELECT 1"},
    {Query::kLockAuditHead, "SELECT size, frontier FROM audit_head WHERE id = 1"},
    {Query::kSelectAuditHead, "SELECT size, frontier FROM audit_head WHERE id = 1"},
    {Query::kAdvanceAuditHead,
     "UPDATE audit_head SET size = ?1, frontier = ?2 WHERE id = 1 AND size = ?3"},
    {Query::kInsertAuditEntry,
     "INSERT INTO audit_entries (seq, recorded_at, account, action, entry) VALUES (?1, ?2, ?3, ?4, ?5)"},
    {Query::kInsertAuditPatient,
     "INSERT INTO audit_patients (patient_id, seq, recorded_at) VALUES (?1, ?2, ?3) "
     "ON CONFLICT DO NOTHING"},
    {Query::kInsertAuditNode,
     "INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)"},
    {Query::kSelectAuditNode, "SELECT hash FROM audit_nodes WHERE level = ?1 AND idx = ?2"},
    {Query::kListAuditNodes,
     "SELECT idx, hash FROM audit_nodes WHERE level = ?1 AND idx >= ?2 ORDER BY idx LIMIT ?3"},
    {Query::kListAuditEntries,
     "SELECT seq, recorded_at, account, action, entry FROM audit_entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2"},
    {Query::kListAuditPatients,
     "SELECT seq, patient_id FROM audit_patients WHERE seq >= ?1 AND seq < ?2 "
     "ORDER BY seq, patient_id"},
    {Query::kFindAuditByTime,
     "SELECT seq, recorded_at, account, action, entry FROM audit_entries WHERE recorded_at >= ?1 AND recorded_at < ?2 "
     "AND seq > ?3 ORDER BY seq LIMIT ?4"},
    {Query::kFindAuditByAccount,
     "SELECT seq, recorded_at, account, action, entry FROM audit_entries WHERE account = ?1 AND recorded_at >= ?2 "
     "AND recorded_at < ?3 AND seq > ?4 ORDER BY seq LIMIT ?5"},
    {Query::kFindAuditByPatient,
     "SELECT e.seq, e.recorded_at, e.account, e.action, e.entry FROM audit_patients p JOIN audit_entries e "
     "ON e.seq = p.seq WHERE p.patient_id = ?1 AND p.recorded_at >= ?2 "
     "AND p.recorded_at < ?3 AND p.seq > ?4 ORDER BY p.seq LIMIT ?5"},
    {Query::kFindAuditByAction,
     "SELECT seq, recorded_at, account, action, entry FROM audit_entries WHERE action = ?1 AND recorded_at >= ?2 "
     "AND recorded_at < ?3 AND seq > ?4 ORDER BY seq LIMIT ?5"},
    {Query::kInsertAuditCheckpoint,
     "INSERT INTO audit_checkpoints (size, signed_at, note) VALUES (?1, ?2, ?3) "
     "ON CONFLICT DO NOTHING"},
    {Query::kListAuditCheckpoints,
     "SELECT size, signed_at, note FROM audit_checkpoints WHERE size > ?1 ORDER BY size "
     "LIMIT ?2"},
    // lab feed:
    {Query::kInsertLabMessage,
     "INSERT INTO lab_messages (sending_facility, control_id, ack_code, received_at) "
     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"},
    {Query::kSelectLabMessage,
     "SELECT ack_code, received_at FROM lab_messages WHERE sending_facility = ?1 "
     "AND control_id = ?2"},
    {Query::kInsertQuarantine,
     "INSERT INTO lab_quarantine (id, received_at, updated_at, state, error_condition, error, version, sealed) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING"},
    {Query::kSelectQuarantine,
     "SELECT id, received_at, updated_at, state, error_condition, error, version, sealed FROM lab_quarantine WHERE id = ?1"},
    {Query::kListQuarantine,
     "SELECT id, received_at, updated_at, state, error_condition, error, version, sealed FROM lab_quarantine "
     "WHERE (received_at, id) > (?1, ?2) ORDER BY received_at, id LIMIT ?3"},
    {Query::kUpdateQuarantine,
     "UPDATE lab_quarantine SET updated_at = ?2, state = ?3, error_condition = ?4, "
     "error = ?5, version = ?6, sealed = ?7 WHERE id = ?1 AND version = ?8"},
    // access policy:
    {Query::kDeleteCareRelations,
     "DELETE FROM care_relations WHERE source_type = ?1 AND source_id = ?2"},
    {Query::kInsertCareRelation,
     "INSERT INTO care_relations (practitioner_id, patient_id, source_type, source_id, "
     "expires_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"},
    {Query::kListCareRelations,
     "SELECT patient_id, source_type, source_id, expires_at FROM care_relations "
     "WHERE practitioner_id = ?1 AND expires_at > ?2 ORDER BY patient_id, source_type, source_id"},
    {Query::kHasCareRelation,
     "SELECT 1 FROM care_relations WHERE practitioner_id = ?1 AND patient_id = ?2 "
     "AND expires_at > ?3 LIMIT 1"},
    {Query::kUpsertAccountLink,
     "INSERT INTO account_links (account_id, practitioner_id, organization_id, updated_at) "
     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO UPDATE SET "
     "practitioner_id = excluded.practitioner_id, organization_id = excluded.organization_id, "
     "updated_at = excluded.updated_at"},
    {Query::kSelectAccountLink,
     "SELECT practitioner_id, organization_id, updated_at FROM account_links WHERE account_id = ?1"},
    {Query::kInsertSensitiveGrant,
     "INSERT INTO sensitive_grants (account_id, category, granted_at, granted_by) "
     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"},
    {Query::kListSensitiveGrants,
     "SELECT category, granted_at, granted_by FROM sensitive_grants WHERE account_id = ?1 "
     "ORDER BY category"},
    {Query::kInsertBreakGlass,
     "INSERT INTO break_glass (id, account_id, patient_id, reason, sealed_reason, granted_at, "
     "expires_at, reviewed_at, reviewer, sealed_note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, '', ?8) "
     "ON CONFLICT DO NOTHING"},
    {Query::kSelectBreakGlass,
     "SELECT id, account_id, patient_id, reason, sealed_reason, granted_at, expires_at, reviewed_at, reviewer, sealed_note FROM break_glass WHERE id = ?1"},
    {Query::kListActiveBreakGlass,
     "SELECT id, account_id, patient_id, reason, sealed_reason, granted_at, expires_at, reviewed_at, reviewer, sealed_note FROM break_glass WHERE account_id = ?1 AND expires_at > ?2 "
     "ORDER BY patient_id, id"},
    {Query::kListBreakGlassToReview,
     "SELECT id, account_id, patient_id, reason, sealed_reason, granted_at, expires_at, reviewed_at, reviewer, sealed_note FROM break_glass WHERE reviewed_at = 0 AND (granted_at, id) > (?1, ?2) "
     "ORDER BY granted_at, id LIMIT ?3"},
    {Query::kReviewBreakGlass,
     "UPDATE break_glass SET reviewed_at = ?2, reviewer = ?3, sealed_note = ?4 "
     "WHERE id = ?1 AND reviewed_at = 0"},
    // exfiltration guard:
    {Query::kLockGuardAccount,
     "INSERT INTO guard_accounts (account_id, suspended_at, reason, challenged_at) "
     "VALUES (?1, 0, '', 0) ON CONFLICT (account_id) DO UPDATE SET account_id = "
     "excluded.account_id RETURNING suspended_at, reason, challenged_at"},
    {Query::kSelectGuardAccount,
     "SELECT suspended_at, reason, challenged_at FROM guard_accounts WHERE account_id = ?1"},
    {Query::kUpsertGuardPatient,
     "INSERT INTO guard_patients (account_id, patient_id, last_seen) VALUES (?1, ?2, ?3) "
     "ON CONFLICT (account_id, patient_id) DO UPDATE SET last_seen = "
     "MAX(last_seen, excluded.last_seen)"},
    {Query::kAddGuardCounts,
     "INSERT INTO guard_counts (account_id, window_index, bucket_start, records, bytes, "
     "searches) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_id, window_index, "
     "bucket_start) DO UPDATE SET records = records + excluded.records, bytes = bytes + "
     "excluded.bytes, searches = searches + excluded.searches"},
    {Query::kCountGuardPatients,
     "SELECT COUNT(*) FILTER (WHERE last_seen >= ?2), COUNT(*) FILTER (WHERE last_seen >= ?3), "
     "COUNT(*) FILTER (WHERE last_seen >= ?4) FROM guard_patients WHERE account_id = ?1 "
     "AND last_seen >= MIN(?2, ?3, ?4)"},
    {Query::kSumGuardCounts,
     "SELECT window_index, SUM(records), SUM(bytes), SUM(searches) FROM guard_counts "
     "WHERE account_id = ?1 AND ((window_index = 0 AND bucket_start >= ?2) OR "
     "(window_index = 1 AND bucket_start >= ?3) OR (window_index = 2 AND bucket_start >= ?4)) "
     "GROUP BY window_index"},
    {Query::kSuspendGuardAccount,
     "INSERT INTO guard_accounts (account_id, suspended_at, reason, challenged_at) "
     "VALUES (?1, ?2, ?3, 0) ON CONFLICT (account_id) DO UPDATE SET suspended_at = "
     "excluded.suspended_at, reason = excluded.reason"},
    {Query::kSetGuardChallenge,
     "INSERT INTO guard_accounts (account_id, suspended_at, reason, challenged_at) "
     "VALUES (?1, 0, '', ?2) ON CONFLICT (account_id) DO UPDATE SET challenged_at = "
     "excluded.challenged_at"},
    {Query::kDeleteGuardAccount, "DELETE FROM guard_accounts WHERE account_id = ?1"},
    {Query::kDeleteGuardPatientsOf, "DELETE FROM guard_patients WHERE account_id = ?1"},
    {Query::kDeleteGuardCountsOf, "DELETE FROM guard_counts WHERE account_id = ?1"},
    {Query::kPruneGuardPatients, "DELETE FROM guard_patients WHERE last_seen < ?1"},
    {Query::kPruneGuardCounts, "DELETE FROM guard_counts WHERE bucket_start < ?1"},
    {Query::kDeleteAccessTokens, "DELETE FROM access_tokens WHERE client_id = ?1"},
    // sensitive categories (glass):
    {Query::kDeleteSensitiveGrant,
     "DELETE FROM sensitive_grants WHERE account_id = ?1 AND category = ?2"},
    // approvals:
    {Query::kInsertRoleGrant,
     "INSERT INTO role_grants (id, account_id, kind, state, requested_by, requested_at, "
     "expires_at, decided_by, decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
     "ON CONFLICT DO NOTHING"},
    {Query::kSelectRoleGrant,
     "SELECT id, account_id, kind, state, requested_by, requested_at, expires_at, decided_by, "
     "decided_at FROM role_grants WHERE id = ?1"},
    {Query::kListRoleGrants,
     "SELECT id, account_id, kind, state, requested_by, requested_at, expires_at, decided_by, "
     "decided_at FROM role_grants WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3"},
    {Query::kDecideRoleGrant,
     "UPDATE role_grants SET state = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1 "
     "AND state = ?5"},
    {Query::kCountAccounts,
     "SELECT COUNT(*) FROM accounts WHERE kind = ?1 AND status = ?2"},
    {Query::kInsertExportJob,
     "INSERT INTO export_jobs (id, state, requested_by, requester_role, types, recipient_key, "
     "requested_at, expires_at, decided_by, decided_at, file, file_bytes, patients, watermark) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
     "ON CONFLICT DO NOTHING"},
    {Query::kSelectExportJob,
     "SELECT id, state, requested_by, requester_role, types, recipient_key, requested_at, "
     "expires_at, decided_by, decided_at, file, file_bytes, patients, watermark FROM export_jobs "
     "WHERE id = ?1"},
    {Query::kListExportJobs,
     "SELECT id, state, requested_by, requester_role, types, recipient_key, requested_at, "
     "expires_at, decided_by, decided_at, file, file_bytes, patients, watermark FROM export_jobs "
     "WHERE id > ?1 ORDER BY id LIMIT ?2"},
    {Query::kUpdateExportJob,
     "UPDATE export_jobs SET state = ?2, expires_at = ?3, decided_by = ?4, decided_at = ?5, "
     "file = ?6, file_bytes = ?7, patients = ?8, watermark = ?9 WHERE id = ?1 AND state = ?10"},
    {Query::kListPatientIds,
     "SELECT id FROM resources WHERE resource_type = 'Patient' AND deleted = 0 AND id > ?1 "
     "ORDER BY id LIMIT ?2"},
    // security console (migration 011_console):
    {Query::kSetLastLogin, "UPDATE accounts SET last_login_at = ?2 WHERE id = ?1"},
    {Query::kListAccounts,
     "SELECT a.id, a.login, a.kind, a.status, a.display_name, a.patient_id, a.created_at, "
     "a.updated_at, a.last_login_at, COALESCE((SELECT group_concat(DISTINCT c.kind) FROM "
     "credentials c WHERE c.account_id = a.id), '') FROM accounts a WHERE a.login > ?1 AND "
     "(?2 = '' OR a.kind = ?2) AND substr(a.status, 1, length(?3)) = ?3 AND "
     "substr(a.login, 1, length(?4)) = ?4 ORDER BY a.login LIMIT ?5"},
    {Query::kSelectAlertExists, "SELECT COUNT(*) FROM alerts WHERE id = ?1"},
    {Query::kInsertAlertAck,
     "INSERT INTO alert_acks (alert_id, acknowledged_by, acknowledged_at) VALUES (?1, ?2, ?3) "
     "ON CONFLICT DO NOTHING"},
    {Query::kSelectAlertAck,
     "SELECT alert_id, acknowledged_by, acknowledged_at FROM alert_acks WHERE alert_id = ?1"},
    {Query::kListAlertAcks,
     "SELECT alert_id, acknowledged_by, acknowledged_at FROM alert_acks WHERE alert_id > ?1 "
     "AND alert_id <= ?2 ORDER BY alert_id"},
    {Query::kDisableClient,
     "INSERT INTO disabled_clients (client_id, disabled_by, disabled_at) VALUES (?1, ?2, ?3) "
     "ON CONFLICT DO NOTHING"},
    {Query::kSelectClientDisabled, "SELECT COUNT(*) FROM disabled_clients WHERE client_id = ?1"},
}};

static_assert(InEnumOrder(kQueries), "kQueries must list every Query in enum order");

// Text compares bytewise (SQLite's BINARY collation), as on PostgreSQL with COLLATE "C".
constexpr Migration kMigrations[] = {
    {1, "001_resources_index_keys", R"sql(
CREATE TABLE resources (
  resource_type TEXT NOT NULL,
  id TEXT NOT NULL,
  current_version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  PRIMARY KEY (resource_type, id)
) WITHOUT ROWID, STRICT;

CREATE TABLE resource_versions (
  resource_type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  payload BLOB NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (resource_type, id, version),
  FOREIGN KEY (resource_type, id) REFERENCES resources (resource_type, id)
) STRICT;
CREATE INDEX resource_versions_by_patient ON resource_versions (patient_id);

CREATE TABLE blind_index (
  resource_type TEXT NOT NULL,
  field TEXT NOT NULL,
  token BLOB NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (resource_type, field, token, id),
  FOREIGN KEY (resource_type, id) REFERENCES resources (resource_type, id)
) WITHOUT ROWID, STRICT;
CREATE INDEX blind_index_by_resource ON blind_index (resource_type, id);

CREATE TABLE patient_keys (
  patient_id TEXT NOT NULL PRIMARY KEY,
  key_id TEXT NOT NULL,
  wrapped BLOB NOT NULL
) WITHOUT ROWID, STRICT;
)sql"},
    {2, "002_alerts", R"sql(
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  raised_at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
)sql"},
    {3, "003_audit", R"sql(
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  frontier BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, size, frontier) VALUES (1, 0, X'');

CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  account TEXT NOT NULL,
  action TEXT NOT NULL,
  entry BLOB NOT NULL
) STRICT;
CREATE INDEX audit_entries_by_time ON audit_entries (recorded_at);
CREATE INDEX audit_entries_by_account ON audit_entries (account, recorded_at);
CREATE INDEX audit_entries_by_action ON audit_entries (action, recorded_at);

CREATE TABLE audit_patients (
  patient_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (patient_id, seq)
) WITHOUT ROWID, STRICT;
CREATE INDEX audit_patients_by_seq ON audit_patients (seq);

CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID, STRICT;

CREATE TABLE audit_checkpoints (
  size INTEGER PRIMARY KEY,
  signed_at INTEGER NOT NULL,
  note TEXT NOT NULL
) STRICT;
)sql"},
    {4, "004_identity", R"sql(
CREATE TABLE accounts (
  id TEXT NOT NULL PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  display_name TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE credentials (
  id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL,
  material BLOB NOT NULL,
  external_id BLOB NOT NULL,
  counter INTEGER NOT NULL,
  algorithm INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX credentials_by_account ON credentials (account_id);
CREATE UNIQUE INDEX passkeys_by_external_id ON credentials (external_id) WHERE kind = 'passkey';

CREATE TABLE sessions (
  token_hash BLOB NOT NULL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  stage INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  second_factor_at INTEGER NOT NULL,
  challenge BLOB NOT NULL,
  user_agent TEXT NOT NULL,
  source TEXT NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_throttle (
  account_id TEXT NOT NULL PRIMARY KEY REFERENCES accounts (id),
  consecutive_failures INTEGER NOT NULL,
  next_allowed_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE one_time_codes (
  code_hash BLOB NOT NULL PRIMARY KEY,
  purpose TEXT NOT NULL,
  subject TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX one_time_codes_by_subject ON one_time_codes (subject, purpose);

CREATE TABLE api_clients (
  client_id TEXT NOT NULL PRIMARY KEY,
  jwks TEXT NOT NULL,
  allowed_scopes TEXT NOT NULL,
  organization TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE used_jtis (
  client_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (client_id, jti)
) WITHOUT ROWID, STRICT;
CREATE INDEX used_jtis_by_expiry ON used_jtis (expires_at);

CREATE TABLE access_tokens (
  token_hash BLOB NOT NULL PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES api_clients (client_id),
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);
)sql"},
    {5, "005_compartments", R"sql(
CREATE INDEX resources_by_patient ON resources (patient_id, resource_type, id);
CREATE INDEX resource_versions_by_type_patient
  ON resource_versions (resource_type, patient_id, recorded_at, id, version);
)sql"},
    {6, "006_lab", R"sql(
CREATE TABLE lab_messages (
  sending_facility TEXT NOT NULL,
  control_id TEXT NOT NULL,
  ack_code TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (sending_facility, control_id)
) WITHOUT ROWID, STRICT;

CREATE TABLE lab_quarantine (
  id TEXT NOT NULL PRIMARY KEY,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  error_condition INTEGER NOT NULL,
  error TEXT NOT NULL,
  version INTEGER NOT NULL,
  sealed BLOB NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX lab_quarantine_by_time ON lab_quarantine (received_at, id);
)sql"},
    {7, "007_policy", R"sql(
CREATE TABLE care_relations (
  practitioner_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (practitioner_id, patient_id, source_type, source_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX care_relations_by_source ON care_relations (source_type, source_id);

CREATE TABLE account_links (
  account_id TEXT NOT NULL PRIMARY KEY,
  practitioner_id TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE sensitive_grants (
  account_id TEXT NOT NULL,
  category TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  granted_by TEXT NOT NULL,
  PRIMARY KEY (account_id, category)
) WITHOUT ROWID, STRICT;

CREATE TABLE break_glass (
  id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  reason INTEGER NOT NULL,
  sealed_reason BLOB NOT NULL,
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reviewed_at INTEGER NOT NULL,
  reviewer TEXT NOT NULL,
  sealed_note BLOB NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX break_glass_by_account ON break_glass (account_id, expires_at);
CREATE INDEX break_glass_to_review ON break_glass (reviewed_at, granted_at, id);
)sql"},
    {8, "008_guard", R"sql(
CREATE TABLE guard_accounts (
  account_id TEXT NOT NULL PRIMARY KEY,
  suspended_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  challenged_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE guard_patients (
  account_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (account_id, patient_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX guard_patients_by_time ON guard_patients (account_id, last_seen);
CREATE INDEX guard_patients_by_age ON guard_patients (last_seen);

CREATE TABLE guard_counts (
  account_id TEXT NOT NULL,
  window_index INTEGER NOT NULL,
  bucket_start INTEGER NOT NULL,
  records INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  searches INTEGER NOT NULL,
  PRIMARY KEY (account_id, window_index, bucket_start)
) WITHOUT ROWID, STRICT;
CREATE INDEX guard_counts_by_age ON guard_counts (bucket_start);
)sql"},
    {10, "010_approvals", R"sql(
CREATE TABLE role_grants (
  id TEXT NOT NULL PRIMARY KEY,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  decided_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
CREATE INDEX role_grants_by_state ON role_grants (state, id);
CREATE INDEX role_grants_by_account ON role_grants (account_id);

CREATE TABLE export_jobs (
  id TEXT NOT NULL PRIMARY KEY,
  state TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requester_role TEXT NOT NULL,
  types TEXT NOT NULL,
  recipient_key BLOB NOT NULL,
  requested_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  file TEXT NOT NULL,
  file_bytes INTEGER NOT NULL,
  patients INTEGER NOT NULL,
  watermark TEXT NOT NULL
) WITHOUT ROWID, STRICT;
)sql"},
    {11, "011_console", R"sql(
ALTER TABLE accounts ADD COLUMN last_login_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE alert_acks (
  alert_id INTEGER NOT NULL PRIMARY KEY,
  acknowledged_by TEXT NOT NULL,
  acknowledged_at INTEGER NOT NULL
) STRICT;

CREATE TABLE disabled_clients (
  client_id TEXT NOT NULL PRIMARY KEY,
  disabled_by TEXT NOT NULL,
  disabled_at INTEGER NOT NULL
) WITHOUT ROWID, STRICT;
)sql"},
};

}  // namespace

const char* const kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT";

const char* QueryText(Query query) { return kQueries[static_cast<std::size_t>(query)].sql; }

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace medvault::store::sqlite
