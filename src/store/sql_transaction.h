// The store's rules (versions, compare-and-set on the current pointer, soft delete, index
// replacement, wrapped keys) written once over SqlSession, so both backends behave alike.
// Internal to src/store.
#pragma once

#include <optional>

#include "store/sql_session.h"
#include "store/store.h"

namespace medvault::store {

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
                                          std::size_t limit) override;
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

  // The first database failure, which forbids committing.
  const std::optional<Error>& Failure() const { return failure_; }
  // Whether the transaction deleted a wrapped key (SQLite then checkpoints its WAL).
  bool ShreddedKey() const { return shredded_key_; }

 private:
  Result<QueryResult> Run(Query query, std::initializer_list<Param> params);
  Status RequireWritable() const;
  Result<AuditHead> ReadAuditHead(Query query);

  SqlSession& session_;
  Access access_;
  std::optional<Error> failure_;
  bool shredded_key_ = false;
};

}  // namespace medvault::store
