#include "core/secret.h"

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace medvault {
namespace {

// Small secrets (keys, PINs) come from slabs of guarded memory instead of one sodium_malloc
// each. A sodium_malloc maps, locks and guards pages of its own: on this project's machines
// that costs 90 to 150 microseconds, which made every data-key unwrap, and so every read of a
// patient whose key is not cached, cost that much. A slab is one sodium_malloc (guard pages
// around it, locked in memory, left out of core dumps); its slots are wiped when freed and
// reused, and slabs are never returned, so the pool is as large as the most small secrets
// ever alive at once. Secrets in one slab have no guard page between them.
class SmallSecretPool {
 public:
  static constexpr std::size_t kSlotBytes = 64;
  static constexpr std::size_t kSlotsPerSlab = 1024;

  static SmallSecretPool& Instance() {
    // Never destroyed: secrets may outlive other statics.
    static SmallSecretPool* pool = new SmallSecretPool();
    return *pool;
  }

  std::uint8_t* Take() {
    std::lock_guard lock(mutex_);
    if (free_.empty() && !Grow()) return nullptr;
    std::uint8_t* slot = free_.back();
    free_.pop_back();
    return slot;
  }

  // The slot is wiped before it can be handed out again.
  void Give(std::uint8_t* slot) {
    sodium_memzero(slot, kSlotBytes);
    std::lock_guard lock(mutex_);
    free_.push_back(slot);
  }

 private:
  bool Grow() {
    auto* slab = static_cast<std::uint8_t*>(sodium_malloc(kSlotBytes * kSlotsPerSlab));
    if (slab == nullptr) return false;
    sodium_memzero(slab, kSlotBytes * kSlotsPerSlab);
    free_.reserve(free_.size() + kSlotsPerSlab);
    for (std::size_t i = kSlotsPerSlab; i-- > 0;) free_.push_back(slab + i * kSlotBytes);
    return true;
  }

  std::mutex mutex_;
  std::vector<std::uint8_t*> free_;
};

}  // namespace

Status InitSodium() {
  static const int result = sodium_init();
  if (result < 0) return Fail(ErrorCode::kInternal, "libsodium failed to initialize");
  return {};
}

Result<Secret> Secret::Allocate(std::size_t size) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  // Every live Secret has a non-null data_, even an empty one.
  const bool pooled = size <= SmallSecretPool::kSlotBytes;
  auto* data =
      pooled ? SmallSecretPool::Instance().Take() : static_cast<std::uint8_t*>(sodium_malloc(size));
  if (data == nullptr) return Fail(ErrorCode::kUnavailable, "cannot allocate guarded memory");
  if (!pooled) sodium_memzero(data, size);
  return Secret(data, size);
}

Result<Secret> Secret::CopyOf(std::span<const std::uint8_t> bytes) {
  auto secret = Allocate(bytes.size());
  if (!secret) return secret;
  if (!bytes.empty()) std::memcpy(secret->data_, bytes.data(), bytes.size());
  return secret;
}

Result<Secret> Secret::Random(std::size_t size) {
  auto secret = Allocate(size);
  if (!secret) return secret;
  randombytes_buf(secret->data_, size);
  return secret;
}

Secret::Secret(Secret&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Secret::~Secret() { Release(); }

void Secret::Release() {
  if (data_ != nullptr) {
    if (size_ <= SmallSecretPool::kSlotBytes) {
      SmallSecretPool::Instance().Give(data_);
    } else {
      sodium_free(data_);  // wipes the memory before unmapping it
    }
  }
  data_ = nullptr;
  size_ = 0;
}

Result<Secret> Secret::Clone() const { return CopyOf(bytes()); }

bool Secret::Equals(const Secret& other) const {
  return size_ == other.size_ && (size_ == 0 || sodium_memcmp(data_, other.data_, size_) == 0);
}

}  // namespace medvault
