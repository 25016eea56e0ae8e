#include "core/secret.h"

#include <sodium.h>

#include <cstring>
#include <utility>

namespace medvault {

Status InitSodium() {
  static const int result = sodium_init();
  if (result < 0) return Fail(ErrorCode::kInternal, "libsodium failed to initialize");
  return {};
}

Result<Secret> Secret::Allocate(std::size_t size) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  // sodium_malloc(0) is allowed but returns a pointer we must still free; keep one byte
  // so that data_ is never null for a live Secret.
  auto* data = static_cast<std::uint8_t*>(sodium_malloc(size == 0 ? 1 : size));
  if (data == nullptr) return Fail(ErrorCode::kUnavailable, "cannot allocate guarded memory");
  sodium_memzero(data, size == 0 ? 1 : size);
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
  // sodium_free wipes the memory before unmapping it.
  if (data_ != nullptr) sodium_free(data_);
  data_ = nullptr;
  size_ = 0;
}

Result<Secret> Secret::Clone() const { return CopyOf(bytes()); }

bool Secret::Equals(const Secret& other) const {
  return size_ == other.size_ && (size_ == 0 || sodium_memcmp(data_, other.data_, size_) == 0);
}

}  // namespace medvault
