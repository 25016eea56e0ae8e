#include "crypto/envelope.h"

#include <algorithm>
#include <utility>

namespace medvault::crypto {
namespace {

// Wraps are bound through the same AssociatedData encoding as records, under a resource type
// that no record can have.
constexpr std::string_view kWrappedDekType = "medvault.dek";

std::vector<std::uint8_t> WrapAssociatedData(std::string_view patient_id,
                                             std::uint32_t kek_version) {
  return AssociatedData{.resource_type = std::string(kWrappedDekType),
                        .resource_id = std::string(patient_id),
                        .version = 0,
                        .patient_id = std::string(patient_id),
                        .key_id = kek_version}
      .Encode();
}

Status CheckDek(const Secret& dek) {
  if (dek.size() != kDekBytes)
    return Fail(ErrorCode::kInvalidArgument, "data key must be 32 bytes");
  return {};
}

}  // namespace

Envelope::Envelope(const Keyring& keyring, Options options)
    : keyring_(keyring), capacity_(std::max<std::size_t>(options.cache_capacity, 1)) {}

Result<Secret> Envelope::NewDek() { return Secret::Random(kDekBytes); }

Result<WrappedKey> Envelope::WrapDek(std::string_view patient_id, const Secret& dek) const {
  if (patient_id.empty()) return Fail(ErrorCode::kInvalidArgument, "patient id is empty");
  if (auto ok = CheckDek(dek); !ok) return std::unexpected(ok.error());
  const Kek& kek = keyring_.active();
  auto bytes = kek.Wrap(dek, WrapAssociatedData(patient_id, kek.version()));
  if (!bytes) return std::unexpected(bytes.error());
  return WrappedKey{kek.version(), std::move(*bytes)};
}

Result<Secret> Envelope::UnwrapDek(std::string_view patient_id, const WrappedKey& wrapped) const {
  if (patient_id.empty()) return Fail(ErrorCode::kInvalidArgument, "patient id is empty");
  auto kek = keyring_.Find(wrapped.kek_version);
  if (!kek) return std::unexpected(kek.error());
  auto dek = (*kek)->Unwrap(wrapped.bytes, WrapAssociatedData(patient_id, wrapped.kek_version));
  if (!dek) {
    return Fail(ErrorCode::kDataLoss,
                "wrapped data key does not open (altered, or wrapped for another patient)");
  }
  if (auto ok = CheckDek(*dek); !ok) {
    return Fail(ErrorCode::kDataLoss, "wrapped data key has the wrong size");
  }
  return dek;
}

Result<WrappedKey> Envelope::Rewrap(std::string_view patient_id, const WrappedKey& wrapped) const {
  if (wrapped.kek_version == keyring_.active_version()) {
    // Still prove the wrap is intact, so a rotation never carries a broken wrap forward.
    if (auto dek = UnwrapDek(patient_id, wrapped); !dek) return std::unexpected(dek.error());
    return wrapped;
  }
  auto dek = UnwrapDek(patient_id, wrapped);
  if (!dek) return std::unexpected(dek.error());
  return WrapDek(patient_id, *dek);
}

Result<std::shared_ptr<const Secret>> Envelope::Dek(std::string_view patient_id,
                                                    const WrappedKey& wrapped) {
  std::uint64_t evictions_before = 0;
  {
    std::lock_guard lock(mutex_);
    evictions_before = evictions_;
    auto found = index_.find(std::string(patient_id));
    if (found != index_.end() && found->second->wrapped == wrapped) {
      lru_.splice(lru_.begin(), lru_, found->second);
      return found->second->dek;
    }
  }
  // Unwrap outside the lock so that one slow unwrap (a token, later) does not stall others.
  auto dek = UnwrapDek(patient_id, wrapped);
  if (!dek) return std::unexpected(dek.error());
  auto shared = std::make_shared<const Secret>(std::move(*dek));

  std::lock_guard lock(mutex_);
  if (evictions_ != evictions_before) return shared;  // maybe shredded meanwhile: don't keep it
  std::string key(patient_id);
  if (auto found = index_.find(key); found != index_.end()) {
    lru_.erase(found->second);
    index_.erase(found);
  }
  lru_.push_front(CacheEntry{key, wrapped, shared});
  index_.emplace(std::move(key), lru_.begin());
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().patient_id);
    lru_.pop_back();
  }
  return shared;
}

void Envelope::Evict(std::string_view patient_id) {
  std::lock_guard lock(mutex_);
  ++evictions_;
  if (auto found = index_.find(std::string(patient_id)); found != index_.end()) {
    lru_.erase(found->second);
    index_.erase(found);
  }
}

std::size_t Envelope::cached_count() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

Result<std::vector<std::uint8_t>> Envelope::SealRecord(const Secret& dek,
                                                       const AssociatedData& associated_data,
                                                       std::span<const std::uint8_t> plaintext) {
  if (auto ok = CheckDek(dek); !ok) return std::unexpected(ok.error());
  return AeadSeal(dek, plaintext, associated_data.Encode());
}

Result<std::vector<std::uint8_t>> Envelope::OpenRecord(const Secret& dek,
                                                       const AssociatedData& associated_data,
                                                       std::span<const std::uint8_t> sealed) {
  if (auto ok = CheckDek(dek); !ok) return std::unexpected(ok.error());
  return AeadOpen(dek, sealed, associated_data.Encode());
}

Result<WipedText> Envelope::OpenRecordText(const Secret& dek,
                                           const AssociatedData& associated_data,
                                           std::span<const std::uint8_t> sealed) {
  if (auto ok = CheckDek(dek); !ok) return std::unexpected(ok.error());
  return AeadOpenText(dek, sealed, associated_data.Encode());
}

}  // namespace medvault::crypto
