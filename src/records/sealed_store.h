// The encrypted record store: FHIR resources sealed under their patient's data key, with
// blind-index rows for searching encrypted fields, over any store::Store backend.
//
// Security property. What reaches the store is ciphertext bound to its row (resource type,
// id, version, patient id, key id: a ciphertext copied to another row does not open), keyed
// blind-index tokens, and data keys wrapped under the master key. Resources that belong to
// no patient (a Practitioner, an Organization) are sealed the same way under a vault-wide
// data key. The derivation root of the blind-index and signing keys is kept wrapped the
// same way. Decrypting needs a policy::PhiAccess. Erasing a patient destroys their data key:
// every version, and every backup taken after a rotation retired the old master key, stays
// unreadable for good.
//
// Failures. Errors never quote a value or an id. A record or wrapped key that does not
// open (altered on disk, moved to another row) fails with kDataLoss for that record only,
// and is reported through Options::on_integrity_failure; other records keep being served.
// An erased patient's data is kNotFound, and writing for them again is refused.
//
// Master-key rotation runs while the vault serves, possibly from another process (`medvault
// keys rotate`): a SealedStore that meets a key wrapped under a master-key version it has not
// loaded reloads its KekSource. A marker row records the active version; every new data key
// is wrapped in a transaction that checks and touches it, so once a rotation has moved the
// marker, no process can add a wrap under the old version behind its back.
//
// Thread-safe: every member may be called concurrently; the store and the key source must
// outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "crypto/blind_index.h"
#include "crypto/derived_keys.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"
#include "crypto/wiped_text.h"
#include "policy/care_relations.h"
#include "policy/phi_access.h"
#include "store/store.h"

namespace medvault::records {

// Owner ids of the vault-wide keys in the wrapped-key table. ':' cannot occur in a FHIR id,
// so no patient can ever collide with them.
inline constexpr std::string_view kDerivationRootOwner = "medvault:derivation-root";
inline constexpr std::string_view kSharedKeyOwner = "medvault:shared";
// The marker row of the active master-key version (key_id "kek-<n>", no key bytes).
inline constexpr std::string_view kActiveKekOwner = "medvault:active-kek";
// key_id of an erased patient's marker row: it keeps the patient from getting a new key.
inline constexpr std::string_view kErasedKeyId = "erased";

// One resource version to write, as plaintext FHIR JSON.
struct SealedWrite {
  std::string resource_type;
  std::string id;
  std::int64_t expected_version = 0;  // 0: must not exist yet
  std::string patient_id;             // empty for resources that belong to no patient
  std::string_view json;
  store::Timestamp recorded_at;
};

// One decrypted version. A deletion marker has state kDeleted and no JSON.
struct Resource {
  std::string resource_type;
  std::string id;
  std::int64_t version = 0;
  store::VersionState state = store::VersionState::kLive;
  std::string patient_id;
  store::Timestamp recorded_at;
  crypto::WipedText json;  // wiped when the Resource goes away
};

// What did not open, for the security alert (ids only).
struct IntegrityFailure {
  std::string_view what;  // "record" or "data key"
  std::string_view resource_type;
  std::string_view resource_id;
  std::int64_t version = 0;
};

// How the wrapped keys stand: per master-key version, how many keys it wraps.
struct KeyStatus {
  std::vector<std::uint32_t> loaded_kek_versions;      // from the key source, oldest first
  std::uint32_t marked_kek_version = 0;                // the marker row; 0 before the first key
  std::map<std::string, std::size_t> wraps_by_key_id;  // "kek-1" -> n, "erased" -> n
};

class SealedStore {
 public:
  struct Options {
    std::size_t dek_cache_capacity = 4096;
    // Candidates a search examines at most. It needs only as many as it takes to find
    // `limit` matches; if those run out first with candidates left over, it fails with
    // kUnavailable (narrow it) rather than answer incompletely.
    std::size_t max_search_candidates = 1000;
    // Called for every record or key that does not open; the default is RaiseIntegrityAlert.
    std::function<void(const IntegrityFailure&)> on_integrity_failure;
    // How long the care relations of a written CareTeam, Encounter or order last after it
    // ends (policy/care_relations.h).
    policy::RelationTerms care_relations;
  };

  // Loads the master keys from `keys` and the vault's derivation root from `store`, creating
  // the root on first use. Fails (saying so) when the root does not open with these keys.
  static Result<std::unique_ptr<SealedStore>> Open(store::Store& store,
                                                   const crypto::KekSource& keys, Options options);

  // Writes one version (kConflict when expected_version is stale). kInvalidArgument when a
  // searchable value is invalid for its kind (the message names the field).
  Result<std::int64_t> Put(const SealedWrite& write);
  // Writes several versions in one transaction: all of them or none; with `deletes` (applied
  // first, each kConflict when its expected version is stale), a FHIR transaction's deletions
  // in the same store transaction. The care relations of every source written or deleted
  // (policy/care_relations.h) are replaced in that transaction too (Put and Delete likewise).
  // `along`, if given, runs in the same transaction after the writes (it may run more than
  // once, when the transaction is tried again): what must be stored with them or not at all.
  // Its failure rolls back everything and is returned as it is.
  Status PutAll(std::span<const SealedWrite> writes,
                std::span<const store::ResourceDelete> deletes = {},
                const store::Store::TransactionBody& along = {});
  Result<std::int64_t> Delete(std::string_view resource_type, std::string_view id,
                              std::int64_t expected_version, store::Timestamp recorded_at);

  // Reading is two steps, so that the policy sees whose data a row is (the store keeps the
  // patient id in clear) before it mints the PhiAccess that decrypting needs: Fetch* read
  // rows and their owner's wrapped key without decrypting anything, Open decrypts one.
  // Fetched rows are ciphertext: pass them to Open and nowhere else.

  // The current version (maybe a deletion marker) and its owner's key; kNotFound if the
  // resource never existed.
  Result<store::VersionWithKey> Fetch(std::string_view resource_type, std::string_view id);
  // One version and its owner's key; kNotFound for an unknown resource or version.
  Result<store::VersionWithKey> FetchVersion(std::string_view resource_type, std::string_view id,
                                             std::int64_t version);
  // Every version, oldest first, each with its owner's key, read in one snapshot; kNotFound
  // if the resource never existed.
  Result<std::vector<store::VersionWithKey>> FetchHistory(std::string_view resource_type,
                                                          std::string_view id);
  // A patient's compartment, one type at a time (store::Transaction::ListCurrent): current,
  // not deleted resources of `patient_id` ("" = of no patient) with id > after_id, in id
  // order, at most `limit`. An erased patient's resources are still listed (their rows stay);
  // Open answers kNotFound for them.
  Result<std::vector<store::VersionWithKey>> FetchCompartment(std::string_view resource_type,
                                                              std::string_view patient_id,
                                                              std::string_view after_id,
                                                              std::size_t limit);
  // A type's history for one patient ("" = of no patient), newest first, strictly before
  // `before` (store::Transaction::ListVersions), deletion markers included, each with the key.
  Result<std::vector<store::VersionWithKey>> FetchTypeHistory(
      std::string_view resource_type, std::string_view patient_id,
      const std::optional<store::VersionCursor>& before, std::size_t limit);

  // Decrypts one fetched version with its owner's key. A deletion marker opens to a Resource
  // with state kDeleted and no JSON (no key needed). An erased patient's record: kNotFound.
  // A record or key that does not open, or a live record without a key row: kDataLoss,
  // reported through Options::on_integrity_failure.
  Result<Resource> Open(const policy::PhiAccess& access, const store::ResourceVersion& version,
                        const std::optional<store::WrappedKey>& key);

  // Fetch + Open, and the same for one version and for every version.
  Result<Resource> Get(const policy::PhiAccess& access, std::string_view resource_type,
                       std::string_view id);
  Result<Resource> GetVersion(const policy::PhiAccess& access, std::string_view resource_type,
                              std::string_view id, std::int64_t version);
  Result<std::vector<Resource>> History(const policy::PhiAccess& access,
                                        std::string_view resource_type, std::string_view id);

  // Current resources of `resource_type` whose indexed `field` (records/indexed_fields.h)
  // matches `query`: equal normalized values for exact fields; for names, normalized names
  // that start with the normalized query (3+ letters), or equal it for a 1- or 2-letter name.
  // Results are exact (candidates are decrypted and checked), in id order, at most `limit`.
  Result<std::vector<Resource>> Search(const policy::PhiAccess& access,
                                       std::string_view resource_type, std::string_view field,
                                       std::string_view query, std::size_t limit);

  // The blind-index lookup of Search alone, nothing decrypted: ids of current resources whose
  // `field` token is the one `query` gives (exactly the token Search uses, for name prefixes
  // and whole short names alike), with id > after_id ("" = from the first), in id order, at
  // most `limit`. Candidates, not matches: a token is shared by other values
  // (crypto/blind_index.h), so each must be opened and checked. kInvalidArgument for an
  // unknown field or a query its kind refuses.
  Result<std::vector<std::string>> Candidates(std::string_view resource_type,
                                              std::string_view field, std::string_view query,
                                              std::string_view after_id, std::size_t limit);

  // Crypto-shredding: destroys the patient's data key, drops the blind-index rows of their
  // resources and records a "patient_erased" alert, in one transaction. kNotFound if they
  // have none.
  Status ErasePatient(std::string_view patient_id);

  // Rotation: reloads the key source and marks its newest version active for every process.
  // Returns that version.
  Result<std::uint32_t> BeginRotation();
  // Rewraps up to `batch` keys not yet under the active master key; returns how many moved.
  // Run until it returns 0 to finish a rotation; safe to interrupt and to run concurrently.
  Result<std::size_t> RewrapBatch(std::size_t batch);
  Result<KeyStatus> Keys();

  const crypto::DerivedKeys& derived_keys() const { return *derived_keys_; }
  const policy::RelationTerms& care_relation_terms() const { return options_.care_relations; }

 private:
  // The loaded master keys and the data-key cache that goes with them; replaced whole when
  // the key source is reloaded.
  struct KeySet {
    std::unique_ptr<crypto::Keyring> keyring;
    std::unique_ptr<crypto::Envelope> envelope;
  };
  static Result<std::shared_ptr<KeySet>> LoadKeySet(const crypto::KekSource& source,
                                                    std::size_t cache_capacity);

  SealedStore(store::Store& store, const crypto::KekSource& source, Options options,
              std::shared_ptr<KeySet> keys, std::unique_ptr<crypto::DerivedKeys> derived_keys,
              std::map<std::string, crypto::BlindIndex, std::less<>> indexes);

  std::shared_ptr<KeySet> CurrentKeySet() const;
  // The key set with master-key `version` loaded, reloading the source if needed.
  Result<std::shared_ptr<KeySet>> KeySetWith(std::uint32_t version);
  // Unwraps a stored key of `owner` (cached), reporting a key that does not open.
  Result<std::shared_ptr<const Secret>> DekOf(std::string_view owner,
                                              const store::WrappedKey& stored);
  // What one write transaction knows about keys: the key set it wraps new keys with, the
  // keys it created, whether it checked the active-version marker, and the version to
  // reload before trying again when a rotation moved the marker.
  struct WriteKeys {
    std::shared_ptr<KeySet> set;
    std::map<std::string, std::shared_ptr<const Secret>, std::less<>> created;
    bool marker_checked = false;
    std::uint32_t reload_to = 0;
  };
  // The owner's data key inside a write transaction, created and stored wrapped (in the
  // same transaction) on the owner's first write.
  Result<std::shared_ptr<const Secret>> DekForWrite(store::Transaction& transaction,
                                                    std::string_view owner, WriteKeys& keys);
  Result<Resource> Decrypt(const store::ResourceVersion& version, const store::WrappedKey& key);
  // A search query made ready: its kind, normalized value and the token to look up.
  struct PreparedQuery {
    crypto::ValueKind kind;
    crypto::WipedText normalized;
    std::vector<std::uint8_t> token;
    bool whole_name = false;  // a 1- or 2-letter name, matched whole
  };
  Result<PreparedQuery> Prepare(std::string_view resource_type, std::string_view field,
                                std::string_view query) const;
  Result<std::vector<store::IndexToken>> IndexTokens(std::string_view resource_type,
                                                     std::string_view json) const;
  void ReportIntegrityFailure(const IntegrityFailure& failure) const;
  // The care relations a write gives (policy/care_relations.h); nullopt for a type that gives
  // none.
  Result<std::optional<std::vector<store::CareRelation>>> CareRelationsOf(
      const SealedWrite& write) const;

  store::Store& store_;
  const crypto::KekSource& source_;
  Options options_;
  mutable std::mutex keys_mutex_;
  std::shared_ptr<KeySet> keys_;  // guarded by keys_mutex_
  std::unique_ptr<crypto::DerivedKeys> derived_keys_;
  std::map<std::string, crypto::BlindIndex, std::less<>> indexes_;  // by field name
};

// The default integrity report: a warning in the log and an "integrity_failure" alert in the
// store (ids only).
void RaiseIntegrityAlert(store::Store& store, const IntegrityFailure& failure);

// The key_id under which a master-key version wraps ("kek-3"), and back.
std::string KekKeyId(std::uint32_t version);
Result<std::uint32_t> ParseKekKeyId(std::string_view key_id);

}  // namespace medvault::records
