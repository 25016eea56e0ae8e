// The store: versioned resources, their blind-index rows and the wrapped patient keys, on
// SQLite (embedded) or PostgreSQL (shared by several medvault processes).
//
// Contract. The store keeps opaque bytes: payloads are ciphertexts and index tokens are keyed
// hashes, both made by the records layer; the store never sees plaintext and never logs or
// quotes what it stores. A resource is keyed by (resource type, id); every write appends a
// version (1, 2, 3...) and moves the resource's current pointer; a delete appends a deletion
// marker, so history stays readable. Every write names the version it expects to replace
// (0: the resource must not exist yet); any mismatch fails with kConflict and changes nothing.
// A transaction applies all its writes or none of them.
//
// Thread safety. A Store is thread-safe and may be shared by many threads; a Transaction
// belongs to the one call of the body it was given to and must not escape it.
//
// Failures. Every function returns an Error rather than throwing: kInvalidArgument for
// malformed input, kNotFound, kAlreadyExists, kConflict (stale expected version, or
// concurrent transactions that kept colliding), kUnavailable (database unreachable, busy or
// newer than this build), kInternal (unexpected database failure). Messages carry the
// operation and database error codes only, never ids, tokens or payloads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "store/approval_records.h"
#include "store/console_records.h"
#include "store/guard_records.h"
#include "store/identity_records.h"
#include "store/lab_records.h"
#include "store/policy_records.h"

namespace medvault::store {

using Bytes = std::vector<std::uint8_t>;

// Wall-clock instants are kept to the microsecond; callers pass them in so tests are exact.
using Timestamp = medvault::Timestamp;

// Longest resource type, id, patient id, key id and index field name the store accepts.
inline constexpr std::size_t kMaxNameBytes = 128;

enum class VersionState { kLive, kDeleted };

// A blind-index row: the token of one field of a resource (several per field are allowed,
// for example one per name prefix).
struct IndexToken {
  std::string field;
  Bytes token;
};

// One write of a resource: appends version expected_version + 1 and replaces every index
// row of the resource with `index`.
struct ResourceWrite {
  std::string resource_type;
  std::string id;
  std::int64_t expected_version = 0;  // 0: the resource must not exist yet
  std::string patient_id;             // empty for resources that belong to no patient
  std::string key_id;                 // which key sealed the payload
  Bytes payload;
  std::vector<IndexToken> index;
  Timestamp recorded_at;
};

// A soft delete: appends a deletion marker (no payload, same patient) and drops the
// resource's index rows. Deleting a resource that is already deleted is kNotFound.
struct ResourceDelete {
  std::string resource_type;
  std::string id;
  std::int64_t expected_version = 0;
  Timestamp recorded_at;
};

// One stored version. A deletion marker has state kDeleted, an empty payload and key_id.
struct ResourceVersion {
  std::string resource_type;
  std::string id;
  std::int64_t version = 0;
  VersionState state = VersionState::kLive;
  std::string patient_id;
  std::string key_id;
  Bytes payload;
  Timestamp recorded_at;
};

// A patient's data key, wrapped under a master key; deleting it crypto-shreds the patient.
struct WrappedKey {
  std::string patient_id;
  std::string key_id;
  Bytes wrapped;
};

// A security alert for the operators: a record that does not open, and later the guard's
// suspensions and canary touches. Ids and fixed text only, never a value from a record.
struct Alert {
  std::int64_t id = 0;  // assigned by the store, increasing
  Timestamp raised_at;
  std::string kind;     // e.g. "integrity_failure"
  std::string subject;  // what it is about, as ids: "Patient/<id>/_history/2"
  std::string detail;   // a fixed sentence
};

// Longest alert detail the store accepts.
inline constexpr std::size_t kMaxAlertDetailBytes = 1024;

// A resource's current version and the wrapped key its payload is sealed under, read together.
struct VersionWithKey {
  ResourceVersion version;
  std::optional<WrappedKey> key;  // none when the owner has no key row
};

// A position in a type's history, which ListVersions walks newest first by (recorded_at, id,
// version): a page holds the versions strictly before its cursor, and the last version of a
// page is the cursor of the next.
struct VersionCursor {
  Timestamp recorded_at;
  std::string id;
  std::int64_t version = 0;
};

// One audit log entry as the store keeps it: the encoded bytes its leaf hash covers, and copies
// of the fields searches filter on (the audit module keeps the two in agreement and its
// verifier checks them). The store never interprets `encoded`.
struct AuditRecord {
  std::int64_t index = 0;  // the leaf index: 0, 1, 2... without gaps
  Timestamp recorded_at;
  std::string account;  // may be empty
  std::string action;   // a fixed lower-case name
  std::vector<std::string> patient_ids;
  Bytes encoded;
};

// The head of the audit log: how many entries it has and the right edge of its Merkle tree
// (opaque to the store).
struct AuditHead {
  std::int64_t size = 0;
  Bytes frontier;
};

// The hash of one complete subtree of the audit tree: `level` 0 is a leaf.
struct AuditNode {
  int level = 0;
  std::int64_t index = 0;
  Bytes hash;
};

// One batch of appends: `records` take indexes head.size, head.size + 1, ... in order.
struct AuditAppend {
  std::int64_t expected_size = 0;
  std::vector<AuditRecord> records;
  std::vector<AuditNode> nodes;  // the subtrees the batch completed
  Bytes frontier;                // the head's new right edge
};

// A search of the audit log: entries in [from, to) that match one key (or all of them).
struct AuditQuery {
  enum class By { kTime, kAccount, kPatient, kAction };
  By by = By::kTime;
  std::string key;  // the account, patient id or action name; unused for kTime
  Timestamp from;
  Timestamp to;
};

// A signed checkpoint of the audit log (a signed note, opaque to the store).
struct AuditCheckpoint {
  std::int64_t size = 0;
  Timestamp signed_at;
  std::string note;
};

// A (leaf index, patient id) row of the audit log's patient index, as the verifier reads them.
struct AuditPatientRow {
  std::int64_t index = 0;
  std::string patient_id;
};

// Longest encoded audit entry, and longest signed checkpoint, the store accepts.
inline constexpr std::size_t kMaxAuditEntryBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxAuditNoteBytes = 16 * 1024;

enum class Access { kReadOnly, kReadWrite };

// The operations of one transaction. Not thread-safe; valid only during the body it was
// passed to. Reads see one consistent snapshot and the transaction's own writes. After a
// database failure every further call fails and the transaction cannot commit; a kConflict,
// kNotFound or kAlreadyExists answer leaves it usable (the body decides whether to go on).
class Transaction {
 public:
  virtual ~Transaction() = default;

  // The current version, which may be a deletion marker; kNotFound if it never existed.
  virtual Result<ResourceVersion> Get(std::string_view resource_type, std::string_view id) = 0;
  virtual Result<ResourceVersion> GetVersion(std::string_view resource_type, std::string_view id,
                                             std::int64_t version) = 0;
  // The current version with, in the same statement, the wrapped key of its patient, or of
  // `owner_without_patient` for a resource of no patient: a read of a sealed resource costs
  // one round trip. kNotFound if the resource never existed.
  virtual Result<VersionWithKey> GetWithKey(std::string_view resource_type, std::string_view id,
                                            std::string_view owner_without_patient) = 0;
  // Every version, oldest first; kNotFound if the resource never existed.
  virtual Result<std::vector<ResourceVersion>> History(std::string_view resource_type,
                                                       std::string_view id) = 0;
  // Ids of the current, not deleted resources of a type whose `field` has `token`, with
  // id > after_id ("" = from the first), in id order, at most `limit` of them.
  virtual Result<std::vector<std::string>> Lookup(std::string_view resource_type,
                                                  std::string_view field,
                                                  std::span<const std::uint8_t> token,
                                                  std::string_view after_id,
                                                  std::size_t limit) = 0;
  // The current, not deleted resources of a type whose patient is `patient_id` (empty: the
  // resources of no patient) with id > after_id, in id order, at most `limit`, each read with
  // the wrapped key of its owner as GetWithKey does (`owner_without_patient` for a resource of
  // no patient): a patient's compartment, one type at a time.
  virtual Result<std::vector<VersionWithKey>> ListCurrent(
      std::string_view resource_type, std::string_view patient_id, std::string_view after_id,
      std::size_t limit, std::string_view owner_without_patient) = 0;
  // Every version, deletion markers included, of the resources of a type that belong to
  // `patient_id` (empty: to no patient), newest first by (recorded_at desc, id desc, version
  // desc), strictly before `before` (none: from the newest), at most `limit`: a type's history.
  // A version counts under the patient it was written for.
  virtual Result<std::vector<ResourceVersion>> ListVersions(
      std::string_view resource_type, std::string_view patient_id,
      const std::optional<VersionCursor>& before, std::size_t limit) = 0;
  // Drops the blind-index rows of every resource whose current patient is `patient_id` (an
  // erased patient's resources must not be found by a search); returns how many rows went.
  virtual Result<std::int64_t> DeleteIndexOfPatient(std::string_view patient_id) = 0;
  // Returns the new version number.
  virtual Result<std::int64_t> Put(const ResourceWrite& write) = 0;
  // Returns the version number of the deletion marker.
  virtual Result<std::int64_t> Delete(const ResourceDelete& removal) = 0;

  virtual Result<WrappedKey> GetWrappedKey(std::string_view patient_id) = 0;
  // Keys with patient_id > after (byte order), in that order, at most `limit`: for rotation.
  virtual Result<std::vector<WrappedKey>> ListWrappedKeys(std::string_view after,
                                                          std::size_t limit) = 0;
  // kAlreadyExists if the patient has a key: two processes never both create one.
  virtual Status InsertWrappedKey(const WrappedKey& key) = 0;
  // Rewraps: replaces the key only if it is still wrapped under expected_key_id (kConflict
  // otherwise, kNotFound if the patient has no key).
  virtual Status ReplaceWrappedKey(const WrappedKey& key, std::string_view expected_key_id) = 0;
  virtual Status DeleteWrappedKey(std::string_view patient_id) = 0;

  // Returns the new alert's id.
  virtual Result<std::int64_t> InsertAlert(const Alert& alert) = 0;
  // Alerts with id > after_id, oldest first, at most `limit`.
  virtual Result<std::vector<Alert>> ListAlerts(std::int64_t after_id, std::size_t limit) = 0;

  // The audit log (append-only; see audit/audit_log.h). Several processes sharing a database
  // write one log: LockAuditHead takes the head row for the rest of a read-write transaction
  // (PostgreSQL: SELECT ... FOR UPDATE, a concurrent appender then conflicts and retries;
  // SQLite: the transaction already holds the write lock), so indexes stay dense.
  virtual Result<AuditHead> LockAuditHead() = 0;
  virtual Result<AuditHead> GetAuditHead() = 0;
  // Writes the batch and moves the head, only if the head is still at expected_size
  // (kConflict otherwise); records must be numbered from expected_size without gaps
  // (kInvalidArgument).
  virtual Status AppendAudit(const AuditAppend& batch) = 0;
  // Entries with index >= from_index, in index order, at most `limit`, with their patient ids.
  virtual Result<std::vector<AuditRecord>> ListAuditEntries(std::int64_t from_index,
                                                            std::size_t limit) = 0;
  // Patient index rows with from_index <= index < to_index, by index then patient id.
  virtual Result<std::vector<AuditPatientRow>> ListAuditPatientRows(std::int64_t from_index,
                                                                    std::int64_t to_index) = 0;
  // Entries matching `query` with index > after_index, in index order, at most `limit`;
  // patient_ids are left empty (they are in `encoded`).
  virtual Result<std::vector<AuditRecord>> FindAuditEntries(const AuditQuery& query,
                                                            std::int64_t after_index,
                                                            std::size_t limit) = 0;
  // kNotFound when the subtree is not stored.
  virtual Result<Bytes> GetAuditNode(int level, std::int64_t index) = 0;
  // Nodes of one level with index >= from_index, in index order, at most `limit`.
  virtual Result<std::vector<AuditNode>> ListAuditNodes(int level, std::int64_t from_index,
                                                        std::size_t limit) = 0;
  // kAlreadyExists if a checkpoint of that size is stored.
  virtual Status InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  // Checkpoints with size > after_size, by size, at most `limit`.
  virtual Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints(std::int64_t after_size,
                                                                    std::size_t limit) = 0;
  // Identity (migration 004_identity, rows in store/identity_records.h). Ids, logins, kinds
  // and sources are at most kMaxNameBytes; hashes are exactly 32 bytes.

  // kAlreadyExists when the id or the login is taken.
  virtual Status InsertAccount(const Account& account) = 0;
  virtual Result<Account> GetAccount(std::string_view id) = 0;
  virtual Result<Account> GetAccountByLogin(std::string_view login) = 0;
  virtual Status SetAccountStatus(std::string_view id, std::string_view status, Timestamp at) = 0;

  // kAlreadyExists when the id, or a passkey's external id, is taken.
  virtual Status InsertCredential(const Credential& credential) = 0;
  // An account's credentials, oldest first (empty when it has none).
  virtual Result<std::vector<Credential>> ListCredentials(std::string_view account_id) = 0;
  // The passkey with this credential id; kNotFound.
  virtual Result<Credential> GetPasskey(std::span<const std::uint8_t> external_id) = 0;
  // Moves a credential's counter to `counter` only if that is greater than the stored one, so
  // a TOTP step or a sign count is accepted once even when two logins race: kConflict when it
  // is not greater, kNotFound when the credential is gone.
  virtual Status AdvanceCredentialCounter(std::string_view id, std::int64_t counter) = 0;
  // Replaces the material (a password rehashed at new parameters); kNotFound.
  virtual Status ReplaceCredentialMaterial(std::string_view id,
                                           std::span<const std::uint8_t> material) = 0;
  virtual Status DeleteCredential(std::string_view id) = 0;  // kNotFound
  // Removes an account's credentials of `kind` (every kind when empty); returns how many.
  virtual Result<std::int64_t> DeleteCredentials(std::string_view account_id,
                                                 std::string_view kind) = 0;

  // kAlreadyExists when the token hash or the id is taken.
  virtual Status InsertSession(const SessionRecord& session) = 0;
  // kNotFound; expiry is the caller's check (it knows the idle timeout of the account's kind).
  virtual Result<SessionRecord> GetSession(std::span<const std::uint8_t> token_hash) = 0;
  // An account's sessions and pending logins, oldest first.
  virtual Result<std::vector<SessionRecord>> ListSessions(std::string_view account_id) = 0;
  // Writes stage, last_seen_at, expires_at, second_factor_at and challenge of the session
  // with session.token_hash; kNotFound.
  virtual Status UpdateSession(const SessionRecord& session) = 0;
  virtual Status DeleteSession(std::span<const std::uint8_t> token_hash) = 0;  // kNotFound
  // Ends the account's session with this public id; kNotFound (also for another's session).
  virtual Status DeleteSessionById(std::string_view account_id, std::string_view id) = 0;
  // Ends every session and pending login of an account; returns how many.
  virtual Result<std::int64_t> DeleteSessions(std::string_view account_id) = 0;
  // Forgets sessions whose absolute expiry is at or before `now`; returns how many.
  virtual Result<std::int64_t> DeleteExpiredSessions(Timestamp now) = 0;

  // The zero state when the account has no row.
  virtual Result<ThrottleState> GetThrottle(std::string_view account_id) = 0;
  virtual Status PutThrottle(const ThrottleState& state) = 0;  // insert or replace

  virtual Status InsertOneTimeCode(const OneTimeCode& code) = 0;  // kAlreadyExists
  // Marks the code used and returns it when it exists with this purpose, is unused and has
  // not expired at `now`; kNotFound in every other case (one answer, so nothing leaks).
  virtual Result<OneTimeCode> ConsumeOneTimeCode(std::span<const std::uint8_t> code_hash,
                                                 std::string_view purpose, Timestamp now) = 0;
  // The code as ConsumeOneTimeCode would find it, without using it up (kNotFound likewise).
  virtual Result<OneTimeCode> PeekOneTimeCode(std::span<const std::uint8_t> code_hash,
                                              std::string_view purpose, Timestamp now) = 0;
  // Removes the codes of a subject for a purpose (used or not); returns how many.
  virtual Result<std::int64_t> DeleteOneTimeCodes(std::string_view subject,
                                                  std::string_view purpose) = 0;

  virtual Status InsertApiClient(const ApiClient& client) = 0;             // kAlreadyExists
  virtual Result<ApiClient> GetApiClient(std::string_view client_id) = 0;  // kNotFound
  // Records an assertion id until it expires, first forgetting the ones expired at `now`:
  // kAlreadyExists when this client used this jti already (a replay).
  virtual Status RecordUsedJti(std::string_view client_id, std::string_view jti,
                               Timestamp expires_at, Timestamp now) = 0;
  // Stores a new access token, first forgetting the ones expired at token.created_at.
  virtual Status InsertAccessToken(const AccessToken& token) = 0;
  // The token when it exists and has not expired at `now`; kNotFound otherwise.
  virtual Result<AccessToken> GetAccessToken(std::span<const std::uint8_t> token_hash,
                                             Timestamp now) = 0;

  // Lab feed (migration 006_lab, rows in store/lab_records.h). Facilities, control ids and
  // quarantine ids are at most kMaxNameBytes; the quarantine payload is sealed by the caller.

  // kAlreadyExists when this facility's control id is recorded: a message is taken once.
  virtual Status InsertLabMessage(const LabMessageRecord& message) = 0;
  virtual Result<LabMessageRecord> GetLabMessage(std::string_view sending_facility,
                                                 std::string_view control_id) = 0;  // kNotFound
  virtual Status InsertQuarantined(const QuarantinedMessage& message) = 0;  // kAlreadyExists
  virtual Result<QuarantinedMessage> GetQuarantined(std::string_view id) = 0;  // kNotFound
  // Oldest first by (received_at, id), strictly after the cursor, at most `limit`.
  virtual Result<std::vector<QuarantinedMessage>> ListQuarantined(Timestamp after_received_at,
                                                                  std::string_view after_id,
                                                                  std::size_t limit) = 0;
  // Writes every column but received_at, only if the stored version is expected_version
  // (kConflict otherwise, kNotFound when there is no such message).
  virtual Status UpdateQuarantined(const QuarantinedMessage& message,
                                   std::int64_t expected_version) = 0;

  // Access policy (migration 007_policy, rows in store/policy_records.h). Ids and categories
  // are at most kMaxNameBytes.

  // Replaces every care relation whose source is (source_type, source_id) with `relations`
  // (which must all name that source; none: the source gives no relation any more).
  virtual Status ReplaceCareRelations(std::string_view source_type, std::string_view source_id,
                                      std::span<const CareRelation> relations) = 0;
  // A practitioner's relations that still hold at `now` (expires_at > now), by patient id.
  virtual Result<std::vector<CareRelation>> ListCareRelations(std::string_view practitioner_id,
                                                              Timestamp now) = 0;
  // Whether a relation of `practitioner_id` (or lab party) to `patient_id` holds at `now`: one
  // indexed lookup, for parties with too many patients to list (an organization's).
  virtual Result<bool> HasCareRelation(std::string_view practitioner_id,
                                       std::string_view patient_id, Timestamp now) = 0;
  // Inserts or replaces the account's link.
  virtual Status PutAccountLink(const AccountLink& link) = 0;
  virtual Result<AccountLink> GetAccountLink(std::string_view account_id) = 0;  // kNotFound
  // Inserts the grant, or keeps the one already there (kAlreadyExists).
  virtual Status InsertSensitiveGrant(const SensitiveGrant& grant) = 0;
  // An account's grants, by category.
  virtual Result<std::vector<SensitiveGrant>> ListSensitiveGrants(
      std::string_view account_id) = 0;
  virtual Status InsertBreakGlass(const BreakGlassGrant& grant) = 0;  // kAlreadyExists
  virtual Result<BreakGlassGrant> GetBreakGlass(std::string_view id) = 0;  // kNotFound
  // An account's grants that still hold at `now`, by patient id.
  virtual Result<std::vector<BreakGlassGrant>> ListActiveBreakGlass(std::string_view account_id,
                                                                    Timestamp now) = 0;
  // Grants not reviewed yet, oldest first by (granted_at, id), strictly after the cursor, at
  // most `limit`.
  virtual Result<std::vector<BreakGlassGrant>> ListBreakGlassToReview(Timestamp after_granted_at,
                                                                      std::string_view after_id,
                                                                      std::size_t limit) = 0;
  // Records the review (reviewed_at, reviewer, sealed_note of `review`) of a grant not
  // reviewed yet: kConflict when it was reviewed already, kNotFound.
  virtual Status ReviewBreakGlass(const BreakGlassGrant& review) = 0;
  // Exfiltration guard (migration 008_guard, rows in store/guard_records.h). Account and
  // patient ids are at most kMaxNameBytes. Several processes sharing a database share the
  // counters: RecordGuardAccess first takes the account's guard row (PostgreSQL: a row lock
  // held to the end of the transaction; SQLite: the write lock), so concurrent accesses of one
  // account are counted one after the other and none is lost.

  // One round of the guard (see GuardAccess); the account's row is created when missing.
  virtual Result<GuardTally> RecordGuardAccess(const GuardAccess& access) = 0;
  // Suspends the account (kept until ResetGuardAccount) with a fixed reason.
  virtual Status SuspendGuardAccount(std::string_view account_id, Timestamp at,
                                     std::string_view reason) = 0;
  // Sets (or, with the epoch, clears) the time after which a second factor is asked for.
  virtual Status SetGuardChallenge(std::string_view account_id, Timestamp challenged_at) = 0;
  // The account's state; the zero state when it has no row.
  virtual Result<GuardState> GetGuardState(std::string_view account_id) = 0;
  // Forgets the account's guard row, counters and patients seen (an administrator's
  // reinstatement); returns whether it had a row.
  virtual Result<bool> ResetGuardAccount(std::string_view account_id) = 0;
  // Forgets counters in buckets that started before `buckets_before` and patients last seen
  // before `patients_before`, for every account; returns how many rows went.
  virtual Result<std::int64_t> PruneGuardCounters(Timestamp buckets_before,
                                                  Timestamp patients_before) = 0;
  // Ends every access token of an API client; returns how many.
  virtual Result<std::int64_t> DeleteAccessTokens(std::string_view client_id) = 0;
  // Sensitive categories (glass): revokes an account's permission for one category
  // (kNotFound when it had none).
  virtual Status DeleteSensitiveGrant(std::string_view account_id, std::string_view category) = 0;

  // Approvals (migration 010_approvals, rows in store/approval_records.h): four eyes on staff
  // roles and bulk export jobs. Ids, kinds, states and account ids are at most kMaxNameBytes.
  virtual Status InsertRoleGrant(const RoleGrant& grant) = 0;             // kAlreadyExists
  virtual Result<RoleGrant> GetRoleGrant(std::string_view id) = 0;        // kNotFound
  // Grants in `state` with id > after_id, in id order, at most `limit`.
  virtual Result<std::vector<RoleGrant>> ListRoleGrants(std::string_view state,
                                                        std::string_view after_id,
                                                        std::size_t limit) = 0;
  // Writes state, decided_by and decided_at only if the stored state is still
  // `expected_state` (kConflict otherwise, kNotFound when there is no such grant): two
  // administrators deciding at once cannot both win.
  virtual Status DecideRoleGrant(const RoleGrant& grant, std::string_view expected_state) = 0;
  // How many accounts have this kind and status.
  virtual Result<std::int64_t> CountAccounts(std::string_view kind, std::string_view status) = 0;
  virtual Status InsertExportJob(const ExportJobRecord& job) = 0;         // kAlreadyExists
  virtual Result<ExportJobRecord> GetExportJob(std::string_view id) = 0;  // kNotFound
  // Jobs with id > after_id, in id order, at most `limit`.
  virtual Result<std::vector<ExportJobRecord>> ListExportJobs(std::string_view after_id,
                                                              std::size_t limit) = 0;
  // Writes every column but id, requested_by, requester_role, types, recipient_key and
  // requested_at, only if the stored state is `expected_state` (kConflict otherwise,
  // kNotFound when there is no such job).
  virtual Status UpdateExportJob(const ExportJobRecord& job, std::string_view expected_state) = 0;
  // Ids of the current, not deleted Patient resources with id > after_id, in id order, at
  // most `limit`: the compartments an approved bulk export walks (ids only, nothing opened).
  virtual Result<std::vector<std::string>> ListPatientIds(std::string_view after_id,
                                                          std::size_t limit) = 0;

  // The security console (migration 011_console, rows in store/console_records.h).
  // Marks a full login (both factors) of the account; kNotFound.
  virtual Status SetAccountLastLogin(std::string_view account_id, Timestamp at) = 0;
  // A page of accounts (AccountQuery), by login.
  virtual Result<std::vector<AccountSummary>> ListAccounts(const AccountQuery& query) = 0;
  // Records the acknowledgement unless the alert has one, and returns the one it now has:
  // the first acknowledger's. kNotFound when there is no such alert.
  virtual Result<AlertAck> AcknowledgeAlert(const AlertAck& ack) = 0;
  // Acknowledgements of the alerts with after_id < id <= up_to_id, by alert id.
  virtual Result<std::vector<AlertAck>> ListAlertAcks(std::int64_t after_id,
                                                      std::int64_t up_to_id) = 0;
  // Disables an API client for good (kept if it is already); kNotFound when there is none.
  virtual Status DisableApiClient(std::string_view client_id, std::string_view by,
                                  Timestamp at) = 0;
  // Whether an administrator disabled the client.
  virtual Result<bool> IsApiClientDisabled(std::string_view client_id) = 0;
};

// A store backend. Later tables (accounts, sessions) arrive as numbered
// migrations of each backend and as new operations here.
class Store {
 public:
  // Body of a transaction: return an error to roll back everything it wrote.
  using TransactionBody = std::function<Status(Transaction&)>;

  struct Options {
    std::size_t pool_size = 8;  // most PostgreSQL connections this Store opens
    // How long to wait for another process's write lock (SQLite) or for a free pooled
    // connection (PostgreSQL) before kUnavailable.
    std::chrono::milliseconds busy_timeout{5000};
    // SQLite only. Each connection's page cache (PRAGMA cache_size), in MiB (the writer and
    // each reader of the read pool hold one, see sqlite_store.h): B-tree pages
    // beyond it are read again from the operating system on every use. It fills only as
    // the database is read. The default is SQLite's own; more pays off when the store, or
    // the part of it in use, fits (bench/results/2026-12-01-store.md).
    std::size_t sqlite_cache_mib = 2;
    // SQLite only. How much of the database file is read through a read-only memory map
    // (PRAGMA mmap_size), in MiB, instead of a copy per page read; 0 (SQLite's default)
    // turns it off. The SQLite library caps it (Debian's build: just under 2 GiB).
    std::size_t sqlite_mmap_mib = 0;
  };
  // "sqlite:PATH" or "postgres://..." / "postgresql://..." (libpq URI syntax); anything else
  // is kInvalidArgument. Creates or migrates the schema before returning.
  static Result<std::unique_ptr<Store>> Open(std::string_view url, const Options& options);
  static Result<std::unique_ptr<Store>> Open(std::string_view url) { return Open(url, {}); }

  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs `body` in one transaction and commits if it returns success. The body may run more
  // than once when the database aborts it for a concurrent transaction or a dropped
  // connection, so it must touch nothing but the Transaction. A body must not call this
  // Store again (kInternal).
  Status Transact(const TransactionBody& body, Access access = Access::kReadWrite);

  // Ready to serve: the database answers a trivial query.
  Status Ping();
  // Numbers of the migrations recorded in the database, ascending.
  Result<std::vector<int>> AppliedMigrations();

  // One-operation transactions.
  Result<ResourceVersion> Get(std::string_view resource_type, std::string_view id);
  Result<ResourceVersion> GetVersion(std::string_view resource_type, std::string_view id,
                                     std::int64_t version);
  Result<VersionWithKey> GetWithKey(std::string_view resource_type, std::string_view id,
                                    std::string_view owner_without_patient);
  Result<std::vector<ResourceVersion>> History(std::string_view resource_type, std::string_view id);
  Result<std::vector<std::string>> Lookup(std::string_view resource_type, std::string_view field,
                                          std::span<const std::uint8_t> token,
                                          std::string_view after_id, std::size_t limit);
  Result<std::vector<VersionWithKey>> ListCurrent(std::string_view resource_type,
                                                  std::string_view patient_id,
                                                  std::string_view after_id, std::size_t limit,
                                                  std::string_view owner_without_patient);
  Result<std::vector<ResourceVersion>> ListVersions(std::string_view resource_type,
                                                    std::string_view patient_id,
                                                    const std::optional<VersionCursor>& before,
                                                    std::size_t limit);
  Result<std::int64_t> DeleteIndexOfPatient(std::string_view patient_id);
  Result<std::int64_t> Put(const ResourceWrite& write);
  Result<std::int64_t> Delete(const ResourceDelete& removal);
  Result<WrappedKey> GetWrappedKey(std::string_view patient_id);
  Result<std::vector<WrappedKey>> ListWrappedKeys(std::string_view after, std::size_t limit);
  Status InsertWrappedKey(const WrappedKey& key);
  Status ReplaceWrappedKey(const WrappedKey& key, std::string_view expected_key_id);
  Status DeleteWrappedKey(std::string_view patient_id);
  Result<std::int64_t> InsertAlert(const Alert& alert);
  Result<std::vector<Alert>> ListAlerts(std::int64_t after_id, std::size_t limit);

 protected:
  Store() = default;
  virtual Status RunTransaction(const TransactionBody& body, Access access) = 0;
  virtual Status RunPing() = 0;
  virtual Result<std::vector<int>> ReadAppliedMigrations() = 0;
};

}  // namespace medvault::store
