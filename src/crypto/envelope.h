// Envelope encryption: each patient has a random data key (DEK) that seals all of their
// records; the DEK is stored only wrapped under a master key version (KEK). Rotation rewraps
// DEKs without touching records; destroying a patient's wrapped DEK (and evicting it here)
// makes every copy of their records unreadable (crypto-shredding).
//
// Security property: a wrapped DEK opens only for the patient and KEK version it was wrapped
// for, and a sealed record opens only with its own AssociatedData, so neither can be moved to
// another patient or row. Unwrapped DEKs exist only in guarded memory, in a bounded cache.
// Thread-safe: every member may be called concurrently. Failures are Result values:
// kDataLoss for anything altered or moved, kNotFound for a retired KEK version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/aead.h"
#include "crypto/keyring.h"

namespace medvault::crypto {

inline constexpr std::size_t kDekBytes = 32;

// A DEK as stored: which KEK version wrapped it, and nonce || ciphertext || tag.
struct WrappedKey {
  std::uint32_t kek_version = 0;
  std::vector<std::uint8_t> bytes;

  friend bool operator==(const WrappedKey&, const WrappedKey&) = default;
};

class Envelope {
 public:
  struct Options {
    // Unwrapped DEKs kept in memory; the least recently used is dropped first. At least 1.
    std::size_t cache_capacity = 1024;
  };

  // `keyring` must outlive the Envelope.
  Envelope(const Keyring& keyring, Options options);

  // A fresh random DEK.
  static Result<Secret> NewDek();

  // Wraps `dek` under the active KEK, bound to `patient_id` and the KEK version.
  Result<WrappedKey> WrapDek(std::string_view patient_id, const Secret& dek) const;
  // Fails with kDataLoss for a wrap altered or made for another patient, kNotFound when its
  // KEK version is not loaded. Does not use the cache.
  Result<Secret> UnwrapDek(std::string_view patient_id, const WrappedKey& wrapped) const;
  // The same DEK wrapped under the active KEK (key rotation). A wrap already under the active
  // version is returned unchanged, so an interrupted rotation can simply run again.
  Result<WrappedKey> Rewrap(std::string_view patient_id, const WrappedKey& wrapped) const;

  // The patient's DEK from the cache, unwrapping `wrapped` on a miss or when the cached entry
  // came from different wrapped bytes. The caller keeps the returned key alive while using it;
  // Evict does not wait for such users.
  Result<std::shared_ptr<const Secret>> Dek(std::string_view patient_id, const WrappedKey& wrapped);
  // Drops the patient's DEK from the cache (crypto-shredding, or a replaced DEK).
  void Evict(std::string_view patient_id);
  std::size_t cached_count() const;
  std::size_t cache_capacity() const { return capacity_; }

  // Seals one record under its patient's DEK; it opens only with the same AssociatedData.
  static Result<std::vector<std::uint8_t>> SealRecord(const Secret& dek,
                                                      const AssociatedData& associated_data,
                                                      std::span<const std::uint8_t> plaintext);
  // Fails with kDataLoss if the record was altered, belongs to another row, or the DEK is not
  // its patient's.
  static Result<std::vector<std::uint8_t>> OpenRecord(const Secret& dek,
                                                      const AssociatedData& associated_data,
                                                      std::span<const std::uint8_t> sealed);
  // As OpenRecord, straight into wiped text (what a read hands on).
  static Result<WipedText> OpenRecordText(const Secret& dek, const AssociatedData& associated_data,
                                          std::span<const std::uint8_t> sealed);

 private:
  struct CacheEntry {
    std::string patient_id;
    WrappedKey wrapped;  // what the DEK was unwrapped from, to notice a rewrap or a new DEK
    std::shared_ptr<const Secret> dek;
  };

  const Keyring& keyring_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::uint64_t evictions_ = 0;  // so a DEK unwrapped during an Evict is not cached again
  std::list<CacheEntry> lru_;    // most recently used first
  std::unordered_map<std::string, std::list<CacheEntry>::iterator> index_;
};

}  // namespace medvault::crypto
