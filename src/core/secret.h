// Secret bytes in guarded memory: allocated with sodium_malloc (guard pages, locked in memory,
// excluded from core dumps where the kernel allows; secrets of up to 64 bytes share guarded
// slabs, see secret.cc), wiped when freed, never copied implicitly, compared in constant
// time, and never printed. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"

namespace medvault {

class Secret {
 public:
  // Guarded, zero-filled memory of `size` bytes. Fails only when the allocator does.
  static Result<Secret> Allocate(std::size_t size);
  // A copy of `bytes` in guarded memory (the caller wipes its own copy).
  static Result<Secret> CopyOf(std::span<const std::uint8_t> bytes);
  // `size` bytes from the operating system's CSPRNG.
  static Result<Secret> Random(std::size_t size);

  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret();

  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::span<std::uint8_t> mutable_bytes() { return {data_, size_}; }

  // An explicit copy, so that every duplication of a secret is visible in the code.
  Result<Secret> Clone() const;

  // Constant-time equality.
  bool Equals(const Secret& other) const;

 private:
  Secret(std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  void Release();

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Initializes libsodium once; safe to call from any thread, any number of times.
Status InitSodium();

}  // namespace medvault
