// The store's rules (versions, compare-and-set on the current pointer, soft delete, index
// replacement, wrapped keys) written once over SqlSession, so both backends behave alike.
// Internal to src/store.
#pragma once

#include <optional>

#include "store/sql_session.h"
#include "store/store.h"

namespace medvault::store {

// kInvalidArgument ("<what> is empty" / "is too long") unless `value` is a name the store
// holds: at most kMaxNameBytes, and not empty unless `may_be_empty`.
Status CheckName(std::string_view value, std::string_view what, bool may_be_empty = false);

// A Transaction over one session that is already inside BEGIN. The owner commits only if
// Failure() is empty.
class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(SqlSession& session, Access access) : session_(session), access_(access) {}

  Result<ResourceVersion> Get(std::string_view resource_type, std::string_view id) override;
  Result<ResourceVersion> GetVersion(std::string_view resource_type, std::string_view id,
                                     std::int64_t version) override;
  Result<VersionWithKey> GetWithKey(std::string_view resource_type, std::string_view id,
                                    std::string_view owner_without_patient) override;
  Result<std::vector<ResourceVersion>> History(std::string_view resource_type,
                                               std::string_view id) override;
  Result<std::vector<std::string>> Lookup(std::string_view resource_type, std::string_view field,
                                          std::span<const std::uint8_t> token,
                                          std::string_view after_id, std::size_t limit) override;
  Result<std::vector<VersionWithKey>> ListCurrent(std::string_view resource_type,
                                                  std::string_view patient_id,
                                                  std::string_view after_id, std::size_t limit,
                                                  std::string_view owner_without_patient) override;
  Result<std::vector<ResourceVersion>> ListVersions(std::string_view resource_type,
                                                    std::string_view patient_id,
                                                    const std::optional<VersionCursor>& before,
                                                    std::size_t limit) override;
  Result<std::int64_t> DeleteIndexOfPatient(std::string_view patient_id) override;
  Result<std::int64_t> Put(const ResourceWrite& write) override;
  Result<std::int64_t> Delete(const ResourceDelete& removal) override;
  Result<WrappedKey> GetWrappedKey(std::string_view patient_id) override;
  Result<std::vector<WrappedKey>> ListWrappedKeys(std::string_view after,
                                                  std::size_t limit) override;
  Status InsertWrappedKey(const WrappedKey& key) override;
  Status ReplaceWrappedKey(const WrappedKey& key, std::string_view expected_key_id) override;
  Status DeleteWrappedKey(std::string_view patient_id) override;
  Result<std::int64_t> InsertAlert(const Alert& alert) override;
  Result<std::vector<Alert>> ListAlerts(std::int64_t after_id, std::size_t limit) override;
  Result<AuditHead> LockAuditHead() override;
  Result<AuditHead> GetAuditHead() override;
  Status AppendAudit(const AuditAppend& batch) override;
  Result<std::vector<AuditRecord>> ListAuditEntries(std::int64_t from_index,
                                                    std::size_t limit) override;
  Result<std::vector<AuditPatientRow>> ListAuditPatientRows(std::int64_t from_index,
                                                            std::int64_t to_index) override;
  Result<std::vector<AuditRecord>> FindAuditEntries(const AuditQuery& query,
                                                    std::int64_t after_index,
                                                    std::size_t limit) override;
  Result<Bytes> GetAuditNode(int level, std::int64_t index) override;
  Result<std::vector<AuditNode>> ListAuditNodes(int level, std::int64_t from_index,
                                                std::size_t limit) override;
  Status InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints(std::int64_t after_size,
                                                            std::size_t limit) override;

  // Identity tables: sql_identity.cc.
  Status InsertAccount(const Account& account) override;
  Result<Account> GetAccount(std::string_view id) override;
  Result<Account> GetAccountByLogin(std::string_view login) override;
  Status SetAccountStatus(std::string_view id, std::string_view status, Timestamp at) override;
  Status InsertCredential(const Credential& credential) override;
  Result<std::vector<Credential>> ListCredentials(std::string_view account_id) override;
  Result<Credential> GetPasskey(std::span<const std::uint8_t> external_id) override;
  Status AdvanceCredentialCounter(std::string_view id, std::int64_t counter) override;
  Status ReplaceCredentialMaterial(std::string_view id,
                                   std::span<const std::uint8_t> material) override;
  Status DeleteCredential(std::string_view id) override;
  Result<std::int64_t> DeleteCredentials(std::string_view account_id,
                                         std::string_view kind) override;
  Status InsertSession(const SessionRecord& session) override;
  Result<SessionRecord> GetSession(std::span<const std::uint8_t> token_hash) override;
  Result<std::vector<SessionRecord>> ListSessions(std::string_view account_id) override;
  Status UpdateSession(const SessionRecord& session) override;
  Status DeleteSession(std::span<const std::uint8_t> token_hash) override;
  Status DeleteSessionById(std::string_view account_id, std::string_view id) override;
  Result<std::int64_t> DeleteSessions(std::string_view account_id) override;
  Result<std::int64_t> DeleteExpiredSessions(Timestamp now) override;
  Result<ThrottleState> GetThrottle(std::string_view account_id) override;
  Status PutThrottle(const ThrottleState& state) override;
  Status InsertOneTimeCode(const OneTimeCode& code) override;
  Result<OneTimeCode> ConsumeOneTimeCode(std::span<const std::uint8_t> code_hash,
                                         std::string_view purpose, Timestamp now) override;
  Result<OneTimeCode> PeekOneTimeCode(std::span<const std::uint8_t> code_hash,
                                      std::string_view purpose, Timestamp now) override;
  Result<std::int64_t> DeleteOneTimeCodes(std::string_view subject,
                                          std::string_view purpose) override;
  Status InsertApiClient(const ApiClient& client) override;
  Result<ApiClient> GetApiClient(std::string_view client_id) override;
  Status RecordUsedJti(std::string_view client_id, std::string_view jti, Timestamp expires_at,
                       Timestamp now) override;
  Status InsertAccessToken(const AccessToken& token) override;
  Result<AccessToken> GetAccessToken(std::span<const std::uint8_t> token_hash,
                                     Timestamp now) override;

  // Lab feed tables: sql_lab.cc.
  Status InsertLabMessage(const LabMessageRecord& message) override;
  Result<LabMessageRecord> GetLabMessage(std::string_view sending_facility,
                                         std::string_view control_id) override;
  Status InsertQuarantined(const QuarantinedMessage& message) override;
  Result<QuarantinedMessage> GetQuarantined(std::string_view id) override;
  Result<std::vector<QuarantinedMessage>> ListQuarantined(Timestamp after_received_at,
                                                          std::string_view after_id,
                                                          std::size_t limit) override;
  Status UpdateQuarantined(const QuarantinedMessage& message,
                           std::int64_t expected_version) override;

  // Access policy tables: sql_policy.cc.
  Status ReplaceCareRelations(std::string_view source_type, std::string_view source_id,
                              std::span<const CareRelation> relations) override;
  Result<std::vector<CareRelation>> ListCareRelations(std::string_view practitioner_id,
                                                      Timestamp now) override;
  Result<bool> HasCareRelation(std::string_view practitioner_id, std::string_view patient_id,
                               Timestamp now) override;
  Status PutAccountLink(const AccountLink& link) override;
  Result<AccountLink> GetAccountLink(std::string_view account_id) override;
  Status InsertSensitiveGrant(const SensitiveGrant& grant) override;
  Result<std::vector<SensitiveGrant>> ListSensitiveGrants(std::string_view account_id) override;
  Status InsertBreakGlass(const BreakGlassGrant& grant) override;
  Result<BreakGlassGrant> GetBreakGlass(std::string_view id) override;
  Result<std::vector<BreakGlassGrant>> ListActiveBreakGlass(std::string_view account_id,
                                                            Timestamp now) override;
  Result<std::vector<BreakGlassGrant>> ListBreakGlassToReview(Timestamp after_granted_at,
                                                              std::string_view after_id,
                                                              std::size_t limit) override;
  Status ReviewBreakGlass(const BreakGlassGrant& review) override;
  // Exfiltration guard tables: sql_guard.cc.
  Result<GuardTally> RecordGuardAccess(const GuardAccess& access) override;
  Status SuspendGuardAccount(std::string_view account_id, Timestamp at,
                             std::string_view reason) override;
  Status SetGuardChallenge(std::string_view account_id, Timestamp challenged_at) override;
  Result<GuardState> GetGuardState(std::string_view account_id) override;
  Result<bool> ResetGuardAccount(std::string_view account_id) override;
  Result<std::int64_t> PruneGuardCounters(Timestamp buckets_before,
                                          Timestamp patients_before) override;
  Result<std::int64_t> DeleteAccessTokens(std::string_view client_id) override;
  // sensitive categories (glass):
  Status DeleteSensitiveGrant(std::string_view account_id, std::string_view category) override;
  // Approval tables: sql_approvals.cc.
  Status InsertRoleGrant(const RoleGrant& grant) override;
  Result<RoleGrant> GetRoleGrant(std::string_view id) override;
  Result<std::vector<RoleGrant>> ListRoleGrants(std::string_view state, std::string_view after_id,
                                                std::size_t limit) override;
  Status DecideRoleGrant(const RoleGrant& grant, std::string_view expected_state) override;
  Result<std::int64_t> CountAccounts(std::string_view kind, std::string_view status) override;
  Status InsertExportJob(const ExportJobRecord& job) override;
  Result<ExportJobRecord> GetExportJob(std::string_view id) override;
  Result<std::vector<ExportJobRecord>> ListExportJobs(std::string_view after_id,
                                                      std::size_t limit) override;
  Status UpdateExportJob(const ExportJobRecord& job, std::string_view expected_state) override;
  Result<std::vector<std::string>> ListPatientIds(std::string_view after_id,
                                                  std::size_t limit) override;
  // security console (sql_console.cc):
  Status SetAccountLastLogin(std::string_view account_id, Timestamp at) override;
  Result<std::vector<AccountSummary>> ListAccounts(const AccountQuery& query) override;
  Result<AlertAck> AcknowledgeAlert(const AlertAck& ack) override;
  Result<std::vector<AlertAck>> ListAlertAcks(std::int64_t after_id,
                                              std::int64_t up_to_id) override;
  Status DisableApiClient(std::string_view client_id, std::string_view by, Timestamp at) override;
  Result<bool> IsApiClientDisabled(std::string_view client_id) override;

  // The first database failure, which forbids committing.
  const std::optional<Error>& Failure() const { return failure_; }
  // Whether the transaction deleted a wrapped key (SQLite then checkpoints its WAL).
  bool ShreddedKey() const { return shredded_key_; }

 private:
  Result<QueryResult> Run(Query query, std::initializer_list<Param> params);
  Status Each(Query query, std::initializer_list<Param> params, const RowVisitor& visit);
  Status RequireWritable() const;
  Result<AuditHead> ReadAuditHead(Query query);
  Result<OneTimeCode> FindOneTimeCode(Query query, std::span<const std::uint8_t> code_hash,
                                      std::string_view purpose, Timestamp now);

  SqlSession& session_;
  Access access_;
  std::optional<Error> failure_;
  bool shredded_key_ = false;
};

}  // namespace medvault::store
