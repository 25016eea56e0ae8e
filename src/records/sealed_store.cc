#include "records/sealed_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>
#include <set>

#include "core/log.h"
#include "records/indexed_fields.h"

namespace medvault::records {
namespace {

// Data keys are never replaced, only rewrapped: every record is sealed under version 1.
constexpr std::uint32_t kDekVersion = 1;
constexpr std::string_view kDekKeyId = "dek-1";
constexpr std::string_view kKekPrefix = "kek-";

std::string_view OwnerOf(std::string_view patient_id) {
  return patient_id.empty() ? kSharedKeyOwner : patient_id;
}

crypto::AssociatedData RowOf(std::string_view resource_type, std::string_view id,
                             std::int64_t version, std::string_view patient_id) {
  return {.resource_type = std::string(resource_type),
          .resource_id = std::string(id),
          .version = static_cast<std::uint64_t>(version),
          .patient_id = std::string(patient_id),
          .key_id = kDekVersion};
}

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Result<crypto::WrappedKey> FromStored(const store::WrappedKey& stored) {
  auto version = ParseKekKeyId(stored.key_id);
  if (!version) return std::unexpected(version.error());
  return crypto::WrappedKey{*version, stored.wrapped};
}

store::WrappedKey ToStored(std::string_view owner, const crypto::WrappedKey& wrapped) {
  return {std::string(owner), KekKeyId(wrapped.kek_version), wrapped.bytes};
}

Status ErasedError() { return Fail(ErrorCode::kNotFound, "the patient's data has been erased"); }

// Does a stored value match the query? Both are normalized the same way (crypto/normalize.h).
bool Matches(crypto::ValueKind kind, std::string_view stored, std::string_view normalized_query,
             bool whole_name) {
  auto normalized = crypto::Normalize(kind, stored);
  if (!normalized) return false;
  crypto::WipedText value(std::move(*normalized));
  if (kind == crypto::ValueKind::kName && !whole_name) {
    return value.view().starts_with(normalized_query);
  }
  return value.view() == normalized_query;
}

}  // namespace

void RaiseIntegrityAlert(store::Store& store, const IntegrityFailure& failure) {
  log::Warning("integrity_failure", {{"what", failure.what},
                                     {"resource_type", failure.resource_type},
                                     {"resource_id", failure.resource_id},
                                     {"version", failure.version}});
  std::string subject = fmt::format("{}/{}", failure.resource_type, failure.resource_id);
  if (failure.version > 0) subject += fmt::format("/_history/{}", failure.version);
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto raised = store.InsertAlert(
      {0, now, "integrity_failure", subject,
       fmt::format("the stored {} does not open: altered or moved on disk", failure.what)});
  if (!raised) {
    log::Error("alert_not_recorded",
               {{"kind", "integrity_failure"}, {"error", raised.error().message()}});
  }
}

std::string KekKeyId(std::uint32_t version) { return fmt::format("{}{}", kKekPrefix, version); }

Result<std::uint32_t> ParseKekKeyId(std::string_view key_id) {
  std::uint32_t version = 0;
  if (key_id.starts_with(kKekPrefix)) {
    std::string_view digits = key_id.substr(kKekPrefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
    if (ec == std::errc() && end == digits.data() + digits.size() && version != 0) {
      return version;
    }
  }
  return Fail(ErrorCode::kDataLoss, "a wrapped key names no master-key version");
}

SealedStore::SealedStore(store::Store& store, const crypto::KekSource& source, Options options,
                         std::shared_ptr<KeySet> keys,
                         std::unique_ptr<crypto::DerivedKeys> derived_keys,
                         std::map<std::string, crypto::BlindIndex, std::less<>> indexes)
    : store_(store),
      source_(source),
      options_(std::move(options)),
      keys_(std::move(keys)),
      derived_keys_(std::move(derived_keys)),
      indexes_(std::move(indexes)) {}

Result<std::shared_ptr<SealedStore::KeySet>> SealedStore::LoadKeySet(
    const crypto::KekSource& source, std::size_t cache_capacity) {
  auto keyring = crypto::Keyring::Load(source);
  if (!keyring) return std::unexpected(keyring.error());
  auto keys = std::make_shared<KeySet>();
  keys->keyring = std::move(*keyring);
  keys->envelope = std::make_unique<crypto::Envelope>(
      *keys->keyring, crypto::Envelope::Options{.cache_capacity = cache_capacity});
  return keys;
}

Result<std::unique_ptr<SealedStore>> SealedStore::Open(store::Store& store,
                                                       const crypto::KekSource& source,
                                                       Options options) {
  auto keys = LoadKeySet(source, options.dek_cache_capacity);
  if (!keys) return std::unexpected(keys.error());
  const crypto::Envelope& envelope = *(*keys)->envelope;
  auto stored = store.GetWrappedKey(kDerivationRootOwner);
  if (!stored && stored.error().code() == ErrorCode::kNotFound) {
    auto root = crypto::DerivedKeys::NewRoot();
    if (!root) return std::unexpected(root.error());
    auto wrapped = envelope.WrapDek(kDerivationRootOwner, *root);
    if (!wrapped) return std::unexpected(wrapped.error());
    auto inserted = store.InsertWrappedKey(ToStored(kDerivationRootOwner, *wrapped));
    // Another process may have created it first: then use theirs.
    if (!inserted && inserted.error().code() != ErrorCode::kAlreadyExists) {
      return std::unexpected(inserted.error());
    }
    stored = store.GetWrappedKey(kDerivationRootOwner);
  }
  if (!stored) return std::unexpected(stored.error());
  auto wrapped = FromStored(*stored);
  if (!wrapped) return std::unexpected(wrapped.error());
  auto root = envelope.UnwrapDek(kDerivationRootOwner, *wrapped);
  if (!root) {
    return Fail(root.error().code(),
                fmt::format("the vault's key root does not open with this master key: {}",
                            root.error().message()));
  }
  auto derived_keys = crypto::DerivedKeys::FromRoot(std::move(*root));
  if (!derived_keys) return std::unexpected(derived_keys.error());

  std::map<std::string, crypto::BlindIndex, std::less<>> indexes;
  for (const IndexedField& field : IndexedFields()) {
    auto index = crypto::BlindIndex::Open(**derived_keys, field.field, field.kind);
    if (!index) return std::unexpected(index.error());
    indexes.emplace(std::string(field.field), std::move(*index));
  }
  if (!options.on_integrity_failure) {
    options.on_integrity_failure = [&store](const IntegrityFailure& failure) {
      RaiseIntegrityAlert(store, failure);
    };
  }
  return std::unique_ptr<SealedStore>(new SealedStore(store, source, std::move(options),
                                                      std::move(*keys), std::move(*derived_keys),
                                                      std::move(indexes)));
}

std::shared_ptr<SealedStore::KeySet> SealedStore::CurrentKeySet() const {
  std::lock_guard lock(keys_mutex_);
  return keys_;
}

Result<std::shared_ptr<SealedStore::KeySet>> SealedStore::KeySetWith(std::uint32_t version) {
  std::lock_guard lock(keys_mutex_);
  if (keys_->keyring->Find(version)) return keys_;
  auto reloaded = LoadKeySet(source_, options_.dek_cache_capacity);
  if (!reloaded) return std::unexpected(reloaded.error());
  if (auto found = (*reloaded)->keyring->Find(version); !found) {
    return std::unexpected(found.error());
  }
  log::Info(
      "master_keys_reloaded",
      {{"active_version", static_cast<std::int64_t>((*reloaded)->keyring->active_version())}});
  keys_ = std::move(*reloaded);
  return keys_;
}

Result<std::shared_ptr<const Secret>> SealedStore::DekOf(std::string_view owner,
                                                         const store::WrappedKey& stored) {
  if (stored.key_id == kErasedKeyId) return std::unexpected(ErasedError().error());
  auto wrapped = FromStored(stored);
  if (!wrapped) return std::unexpected(wrapped.error());
  auto keys = KeySetWith(wrapped->kek_version);
  if (!keys) return std::unexpected(keys.error());
  return (*keys)->envelope->Dek(owner, *wrapped);
}

void SealedStore::ReportIntegrityFailure(const IntegrityFailure& failure) const {
  options_.on_integrity_failure(failure);
}

Result<std::shared_ptr<const Secret>> SealedStore::DekForWrite(store::Transaction& transaction,
                                                               std::string_view owner,
                                                               WriteKeys& keys) {
  if (auto made = keys.created.find(owner); made != keys.created.end()) return made->second;
  auto stored = transaction.GetWrappedKey(owner);
  if (stored) {
    auto dek = DekOf(owner, *stored);
    if (!dek && dek.error().code() == ErrorCode::kDataLoss) {
      ReportIntegrityFailure({"data key", "Patient", owner, 0});
    }
    return dek;
  }
  if (stored.error().code() != ErrorCode::kNotFound) return std::unexpected(stored.error());

  // A new owner. The first new key of the transaction checks the active-version marker and
  // writes it back: that makes this transaction collide with a rotation moving it, so no wrap
  // under a retiring version can slip in behind the rotation.
  const std::uint32_t active = keys.set->keyring->active_version();
  if (!keys.marker_checked) {
    auto marker = transaction.GetWrappedKey(kActiveKekOwner);
    if (!marker) {
      if (marker.error().code() != ErrorCode::kNotFound) return std::unexpected(marker.error());
      store::WrappedKey ours{std::string(kActiveKekOwner), KekKeyId(active), {}};
      if (auto ok = transaction.InsertWrappedKey(ours); !ok) return std::unexpected(ok.error());
    } else {
      auto version = ParseKekKeyId(marker->key_id);
      if (!version) return std::unexpected(version.error());
      if (*version > active) {
        keys.reload_to = *version;  // a rotation is under way: reload, then write again
        return Fail(ErrorCode::kConflict, "the master key changed: writing again");
      }
      if (auto ok = transaction.ReplaceWrappedKey(*marker, marker->key_id); !ok) {
        return std::unexpected(ok.error());
      }
    }
    keys.marker_checked = true;
  }
  auto dek = crypto::Envelope::NewDek();
  if (!dek) return std::unexpected(dek.error());
  auto wrapped = keys.set->envelope->WrapDek(owner, *dek);
  if (!wrapped) return std::unexpected(wrapped.error());
  if (auto ok = transaction.InsertWrappedKey(ToStored(owner, *wrapped)); !ok) {
    return std::unexpected(ok.error());
  }
  auto shared = std::make_shared<const Secret>(std::move(*dek));
  keys.created.emplace(std::string(owner), shared);
  return shared;
}

Result<std::vector<store::IndexToken>> SealedStore::IndexTokens(std::string_view resource_type,
                                                                std::string_view json) const {
  auto values = ExtractIndexedValues(resource_type, json);
  if (!values) return std::unexpected(values.error());
  std::vector<store::IndexToken> rows;
  for (IndexedValue& value : *values) {
    crypto::WipedText plain(std::move(value.value));
    auto tokens = indexes_.find(value.field)->second.TokensFor(plain.view());
    if (!tokens) {
      return Fail(tokens.error().code(),
                  fmt::format("{}: {}", value.field, tokens.error().message()));
    }
    for (auto& token : *tokens) rows.push_back({std::move(token.field), std::move(token.bytes)});
  }
  // A value given twice (the same name in two name entries) is stored once.
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.field, a.token) < std::tie(b.field, b.token);
  });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) {
                           return a.field == b.field && a.token == b.token;
                         }),
             rows.end());
  return rows;
}

Result<std::int64_t> SealedStore::Put(const SealedWrite& write) {
  if (auto ok = PutAll(std::span(&write, 1)); !ok) return std::unexpected(ok.error());
  return write.expected_version + 1;
}

Status SealedStore::PutAll(std::span<const SealedWrite> writes,
                           std::span<const store::ResourceDelete> deletes,
                           const store::Store::TransactionBody& along) {
  // Index tokens depend only on the values: computed once, outside the transaction.
  std::vector<std::vector<store::IndexToken>> indexes;
  indexes.reserve(writes.size());
  for (const SealedWrite& write : writes) {
    auto index = IndexTokens(write.resource_type, write.json);
    if (!index) return std::unexpected(index.error());
    indexes.push_back(std::move(*index));
  }
  // So are the care relations of the sources: ids and expiries only.
  std::vector<std::optional<std::vector<store::CareRelation>>> relations;
  relations.reserve(writes.size());
  for (const SealedWrite& write : writes) {
    auto of_write = CareRelationsOf(write);
    if (!of_write) return std::unexpected(of_write.error());
    relations.push_back(std::move(*of_write));
  }
  for (;;) {
    WriteKeys keys;
    keys.set = CurrentKeySet();
    auto written = store_.Transact([&](store::Transaction& transaction) -> Status {
      keys.created.clear();  // the body may run again after a database retry
      keys.marker_checked = false;
      for (const store::ResourceDelete& removal : deletes) {
        if (auto deleted = transaction.Delete(removal); !deleted) {
          return std::unexpected(deleted.error());
        }
        if (policy::IsCareRelationSource(removal.resource_type)) {
          if (auto ended = transaction.ReplaceCareRelations(removal.resource_type, removal.id, {});
              !ended) {
            return ended;
          }
        }
      }
      for (std::size_t i = 0; i < writes.size(); ++i) {
        const SealedWrite& write = writes[i];
        auto dek = DekForWrite(transaction, OwnerOf(write.patient_id), keys);
        if (!dek) return std::unexpected(dek.error());
        const std::int64_t version = write.expected_version + 1;
        auto sealed = crypto::Envelope::SealRecord(
            **dek, RowOf(write.resource_type, write.id, version, write.patient_id),
            AsBytes(write.json));
        if (!sealed) return std::unexpected(sealed.error());
        auto put = transaction.Put({.resource_type = write.resource_type,
                                    .id = write.id,
                                    .expected_version = write.expected_version,
                                    .patient_id = write.patient_id,
                                    .key_id = std::string(kDekKeyId),
                                    .payload = std::move(*sealed),
                                    .index = indexes[i],
                                    .recorded_at = write.recorded_at});
        if (!put) return std::unexpected(put.error());
        if (relations[i]) {
          if (auto related =
                  transaction.ReplaceCareRelations(write.resource_type, write.id, *relations[i]);
              !related) {
            return related;
          }
        }
      }
      if (along) return along(transaction);
      return {};
    });
    if (written || keys.reload_to == 0) return written;
    if (auto reloaded = KeySetWith(keys.reload_to); !reloaded) {
      return std::unexpected(reloaded.error());
    }
  }
}

Result<std::int64_t> SealedStore::Delete(std::string_view resource_type, std::string_view id,
                                         std::int64_t expected_version,
                                         store::Timestamp recorded_at) {
  const store::ResourceDelete removal{std::string(resource_type), std::string(id),
                                      expected_version, recorded_at};
  if (!policy::IsCareRelationSource(resource_type)) return store_.Delete(removal);
  if (auto deleted = PutAll({}, std::span(&removal, 1)); !deleted) {
    return std::unexpected(deleted.error());
  }
  return expected_version + 1;  // the deletion marker follows the version it replaced
}

Result<std::optional<std::vector<store::CareRelation>>> SealedStore::CareRelationsOf(
    const SealedWrite& write) const {
  if (!policy::IsCareRelationSource(write.resource_type)) return std::nullopt;
  boost::system::error_code error;
  boost::json::value parsed = boost::json::parse(write.json, error);
  if (error || !parsed.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "records: a care relation source is not JSON");
  }
  return policy::CareRelationsOf(parsed.as_object(), write.resource_type, write.id,
                                 write.patient_id, write.recorded_at, options_.care_relations);
}

Result<Resource> SealedStore::Decrypt(const store::ResourceVersion& version,
                                      const store::WrappedKey& key) {
  auto resource = [&version](crypto::WipedText json) {
    return Resource{.resource_type = version.resource_type,
                    .id = version.id,
                    .version = version.version,
                    .state = version.state,
                    .patient_id = version.patient_id,
                    .recorded_at = version.recorded_at,
                    .json = std::move(json)};
  };
  if (version.state == store::VersionState::kDeleted) return resource({});
  auto dek = DekOf(OwnerOf(version.patient_id), key);
  if (!dek) {
    if (dek.error().code() == ErrorCode::kDataLoss) {
      ReportIntegrityFailure({"data key", version.resource_type, version.id, version.version});
    }
    return std::unexpected(dek.error());
  }
  auto json = crypto::Envelope::OpenRecordText(
      **dek, RowOf(version.resource_type, version.id, version.version, version.patient_id),
      version.payload);
  if (!json) {
    ReportIntegrityFailure({"record", version.resource_type, version.id, version.version});
    return Fail(ErrorCode::kDataLoss,
                "a stored record does not open: it was altered or moved on disk");
  }
  return resource(std::move(*json));
}

namespace {

// The key of each distinct owner of `versions`, read in `transaction` (none for an owner
// without a key row), attached to every live version.
Result<std::vector<store::VersionWithKey>> WithKeys(store::Transaction& transaction,
                                                    std::vector<store::ResourceVersion> versions) {
  std::map<std::string, std::optional<store::WrappedKey>, std::less<>> keys;  // by owner
  std::vector<store::VersionWithKey> out;
  out.reserve(versions.size());
  for (store::ResourceVersion& version : versions) {
    std::optional<store::WrappedKey> key;
    if (version.state == store::VersionState::kLive) {
      const std::string_view owner = OwnerOf(version.patient_id);
      auto known = keys.find(owner);
      if (known == keys.end()) {
        auto wrapped = transaction.GetWrappedKey(owner);
        std::optional<store::WrappedKey> found;
        if (wrapped) {
          found = std::move(*wrapped);
        } else if (wrapped.error().code() != ErrorCode::kNotFound) {
          return std::unexpected(wrapped.error());
        }
        known = keys.emplace(std::string(owner), std::move(found)).first;
      }
      key = known->second;
    }
    out.push_back({std::move(version), std::move(key)});
  }
  return out;
}

}  // namespace

Result<store::VersionWithKey> SealedStore::Fetch(std::string_view resource_type,
                                                 std::string_view id) {
  // The hot path: the resource and its key in one statement.
  return store_.GetWithKey(resource_type, id, kSharedKeyOwner);
}

Result<store::VersionWithKey> SealedStore::FetchVersion(std::string_view resource_type,
                                                        std::string_view id, std::int64_t version) {
  if (version <= 0) return Fail(ErrorCode::kNotFound, "no such version");
  std::vector<store::VersionWithKey> found;
  auto read = store_.Transact(
      [&](store::Transaction& transaction) -> Status {
        auto got = transaction.GetVersion(resource_type, id, version);
        if (!got) return std::unexpected(got.error());
        std::vector<store::ResourceVersion> one;
        one.push_back(std::move(*got));
        auto keyed = WithKeys(transaction, std::move(one));
        if (!keyed) return std::unexpected(keyed.error());
        found = std::move(*keyed);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return std::move(found.front());
}

Result<std::vector<store::VersionWithKey>> SealedStore::FetchHistory(std::string_view resource_type,
                                                                     std::string_view id) {
  std::vector<store::VersionWithKey> found;
  auto read = store_.Transact(
      [&](store::Transaction& transaction) -> Status {
        auto all = transaction.History(resource_type, id);
        if (!all) return std::unexpected(all.error());
        auto keyed = WithKeys(transaction, std::move(*all));
        if (!keyed) return std::unexpected(keyed.error());
        found = std::move(*keyed);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return found;
}

Result<std::vector<store::VersionWithKey>> SealedStore::FetchCompartment(
    std::string_view resource_type, std::string_view patient_id, std::string_view after_id,
    std::size_t limit) {
  return store_.ListCurrent(resource_type, patient_id, after_id, limit, kSharedKeyOwner);
}

Result<std::vector<store::VersionWithKey>> SealedStore::FetchTypeHistory(
    std::string_view resource_type, std::string_view patient_id,
    const std::optional<store::VersionCursor>& before, std::size_t limit) {
  std::vector<store::VersionWithKey> found;
  auto read = store_.Transact(
      [&](store::Transaction& transaction) -> Status {
        auto page = transaction.ListVersions(resource_type, patient_id, before, limit);
        if (!page) return std::unexpected(page.error());
        auto keyed = WithKeys(transaction, std::move(*page));
        if (!keyed) return std::unexpected(keyed.error());
        found = std::move(*keyed);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return found;
}

Result<Resource> SealedStore::Open(const policy::PhiAccess&, const store::ResourceVersion& version,
                                   const std::optional<store::WrappedKey>& key) {
  if (!key && version.state == store::VersionState::kLive) {
    // A live record whose key row is gone: removed on disk, since erasure leaves a marker.
    ReportIntegrityFailure({"data key", version.resource_type, version.id, version.version});
    return Fail(ErrorCode::kDataLoss, "a stored record has no data key: it was removed on disk");
  }
  return Decrypt(version, key.value_or(store::WrappedKey{}));
}

Result<Resource> SealedStore::Get(const policy::PhiAccess& access, std::string_view resource_type,
                                  std::string_view id) {
  auto found = Fetch(resource_type, id);
  if (!found) return std::unexpected(found.error());
  return Open(access, found->version, found->key);
}

Result<Resource> SealedStore::GetVersion(const policy::PhiAccess& access,
                                         std::string_view resource_type, std::string_view id,
                                         std::int64_t version) {
  auto found = FetchVersion(resource_type, id, version);
  if (!found) return std::unexpected(found.error());
  return Open(access, found->version, found->key);
}

Result<std::vector<Resource>> SealedStore::History(const policy::PhiAccess& access,
                                                   std::string_view resource_type,
                                                   std::string_view id) {
  auto versions = FetchHistory(resource_type, id);
  if (!versions) return std::unexpected(versions.error());
  std::vector<Resource> out;
  out.reserve(versions->size());
  for (const store::VersionWithKey& version : *versions) {
    auto opened = Open(access, version.version, version.key);
    if (!opened) return std::unexpected(opened.error());
    out.push_back(std::move(*opened));
  }
  return out;
}

Result<SealedStore::PreparedQuery> SealedStore::Prepare(std::string_view resource_type,
                                                        std::string_view field,
                                                        std::string_view query) const {
  auto spec = FindIndexedField(resource_type, field);
  if (!spec) return std::unexpected(spec.error());
  const crypto::BlindIndex& index = indexes_.find(field)->second;
  auto normalized = crypto::Normalize(spec->kind, query);
  if (!normalized) return std::unexpected(normalized.error());
  PreparedQuery prepared{.kind = spec->kind,
                         .normalized = crypto::WipedText(std::move(*normalized)),
                         .token = {},
                         .whole_name = false};
  auto token = index.QueryToken(query);
  if (!token && spec->kind == crypto::ValueKind::kName) {
    // "Ly", "Wu": too short for a prefix, but a whole short name is indexed on its own.
    token = index.ShortNameQueryToken(query);
    prepared.whole_name = true;
  }
  if (!token) return std::unexpected(token.error());
  prepared.token = std::move(token->bytes);
  return prepared;
}

Result<std::vector<std::string>> SealedStore::Candidates(std::string_view resource_type,
                                                         std::string_view field,
                                                         std::string_view query,
                                                         std::string_view after_id,
                                                         std::size_t limit) {
  auto prepared = Prepare(resource_type, field, query);
  if (!prepared) return std::unexpected(prepared.error());
  return store_.Lookup(resource_type, field, prepared->token, after_id, limit);
}

Result<std::vector<Resource>> SealedStore::Search(const policy::PhiAccess& access,
                                                  std::string_view resource_type,
                                                  std::string_view field, std::string_view query,
                                                  std::size_t limit) {
  auto prepared = Prepare(resource_type, field, query);
  if (!prepared) return std::unexpected(prepared.error());
  const crypto::ValueKind kind = prepared->kind;
  const bool whole_name = prepared->whole_name;
  // Candidates are read a few more at a time than the matches still missing: almost every
  // candidate matches, so a search reads about `limit` index rows, not its whole budget.
  constexpr std::size_t kSlack = 4;
  const std::size_t budget = options_.max_search_candidates;
  std::vector<Resource> matches;
  std::string after;
  std::size_t examined = 0;
  bool more = true;  // candidates may be left after `after`
  while (more && matches.size() < limit && examined < budget) {
    const std::size_t wanted = std::min(limit - matches.size() + kSlack, budget - examined);
    auto candidates = store_.Lookup(resource_type, field, prepared->token, after, wanted + 1);
    if (!candidates) return std::unexpected(candidates.error());
    more = candidates->size() > wanted;
    if (more) candidates->pop_back();
    for (const std::string& id : *candidates) {
      if (matches.size() >= limit) break;
      ++examined;
      after = id;
      auto resource = Get(access, resource_type, id);
      if (!resource) {
        // Erased since the lookup, or deleted in between: not a match. Anything else fails.
        if (resource.error().code() == ErrorCode::kNotFound) continue;
        return std::unexpected(resource.error());
      }
      if (resource->state == store::VersionState::kDeleted) continue;
      auto values = ExtractIndexedValues(resource_type, resource->json.view());
      if (!values) return std::unexpected(values.error());
      bool match = std::any_of(values->begin(), values->end(), [&](const IndexedValue& value) {
        return value.field == field &&
               Matches(kind, value.value, prepared->normalized.view(), whole_name);
      });
      for (IndexedValue& value : *values) crypto::WipedText wipe(std::move(value.value));
      if (match) matches.push_back(std::move(*resource));
    }
  }
  // Candidates come in id order, so `limit` matches among the first ones are the right
  // answer; fewer, with candidates left unexamined, would silently miss some.
  if (matches.size() < limit && more) {
    return Fail(ErrorCode::kUnavailable, "the search matches too many records: narrow it");
  }
  return matches;
}

Status SealedStore::ErasePatient(std::string_view patient_id) {
  if (patient_id.empty() || patient_id.find(':') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "not a patient id");
  }
  auto erased = store_.Transact([&](store::Transaction& transaction) -> Status {
    auto current = transaction.GetWrappedKey(patient_id);
    if (!current) return std::unexpected(current.error());
    if (current->key_id == kErasedKeyId) return ErasedError();
    if (auto removed = transaction.DeleteWrappedKey(patient_id); !removed) return removed;
    // Their index rows go too: a search must not even count them as candidates.
    if (auto unindexed = transaction.DeleteIndexOfPatient(patient_id); !unindexed) {
      return std::unexpected(unindexed.error());
    }
    auto marked =
        transaction.InsertWrappedKey({std::string(patient_id), std::string(kErasedKeyId), {}});
    if (!marked) return marked;
    // The erasure is recorded with it, in the same transaction: ids only.
    auto recorded = transaction.InsertAlert(
        {0,
         std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()),
         "patient_erased", fmt::format("Patient/{}", patient_id),
         "the patient's data key was destroyed (crypto-shredding)"});
    if (!recorded) return std::unexpected(recorded.error());
    return {};
  });
  CurrentKeySet()->envelope->Evict(patient_id);
  return erased;
}

Result<std::uint32_t> SealedStore::BeginRotation() {
  auto reloaded = LoadKeySet(source_, options_.dek_cache_capacity);
  if (!reloaded) return std::unexpected(reloaded.error());
  {
    std::lock_guard lock(keys_mutex_);
    keys_ = *reloaded;
  }
  const std::uint32_t active = (*reloaded)->keyring->active_version();
  store::WrappedKey marker{std::string(kActiveKekOwner), KekKeyId(active), {}};
  auto marked = store_.Transact([&](store::Transaction& transaction) -> Status {
    auto current = transaction.GetWrappedKey(kActiveKekOwner);
    if (!current) {
      if (current.error().code() != ErrorCode::kNotFound) return std::unexpected(current.error());
      return transaction.InsertWrappedKey(marker);
    }
    auto version = ParseKekKeyId(current->key_id);
    if (!version) return std::unexpected(version.error());
    if (*version > active) {
      return Fail(ErrorCode::kConflict,
                  fmt::format("the vault already uses master key version {}, newer than the "
                              "newest loaded ({})",
                              *version, active));
    }
    return transaction.ReplaceWrappedKey(marker, current->key_id);
  });
  if (!marked) return std::unexpected(marked.error());
  return active;
}

Result<std::size_t> SealedStore::RewrapBatch(std::size_t batch) {
  std::shared_ptr<KeySet> keys = CurrentKeySet();
  const std::string active = KekKeyId(keys->keyring->active_version());
  std::size_t moved = 0;
  std::string after;
  while (moved < batch) {
    auto listed = store_.ListWrappedKeys(after, batch);
    if (!listed) return std::unexpected(listed.error());
    if (listed->empty()) break;
    after = listed->back().patient_id;
    for (const store::WrappedKey& key : *listed) {
      if (moved >= batch) break;
      if (key.key_id == active || key.key_id == kErasedKeyId || key.patient_id == kActiveKekOwner) {
        continue;
      }
      auto wrapped = FromStored(key);
      if (!wrapped) return std::unexpected(wrapped.error());
      auto rewrapped = keys->envelope->Rewrap(key.patient_id, *wrapped);
      if (!rewrapped) {
        if (rewrapped.error().code() == ErrorCode::kDataLoss) {
          ReportIntegrityFailure({"data key", "Patient", key.patient_id, 0});
        }
        return std::unexpected(rewrapped.error());
      }
      auto replaced = store_.ReplaceWrappedKey(ToStored(key.patient_id, *rewrapped), key.key_id);
      // kConflict: another process moved or erased it meanwhile, which is just as good.
      if (!replaced && replaced.error().code() != ErrorCode::kConflict) {
        return std::unexpected(replaced.error());
      }
      if (replaced) ++moved;
    }
  }
  return moved;
}

Result<KeyStatus> SealedStore::Keys() {
  KeyStatus status;
  status.loaded_kek_versions = CurrentKeySet()->keyring->versions();
  std::string after;
  constexpr std::size_t kPage = 1000;
  for (;;) {
    auto listed = store_.ListWrappedKeys(after, kPage);
    if (!listed) return std::unexpected(listed.error());
    for (const auto& key : *listed) {
      if (key.patient_id == kActiveKekOwner) {
        status.marked_kek_version = ParseKekKeyId(key.key_id).value_or(0);
      } else {
        ++status.wraps_by_key_id[key.key_id];
      }
    }
    if (listed->size() < kPage) break;
    after = listed->back().patient_id;
  }
  return status;
}

}  // namespace medvault::records
