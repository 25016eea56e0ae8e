// Strict decoding of the CBOR (RFC 8949) that WebAuthn carries: attestation objects, COSE keys
// and authenticator extensions. libcbor decodes; a shape check runs first so that libcbor only
// ever sees input that already fits WebAuthn's profile of CBOR.
//
// Security property: an input is accepted only when it is exactly one well-formed data item
// (or, for DecodeCborPrefix, one item followed by bytes the caller reads itself) with definite
// lengths, text strings in UTF-8, no tags, no floating-point or unassigned simple values, nesting
// at most kMaxCborDepth deep, and no length that claims more bytes than the input holds. Nothing is
// allocated for a claimed length before the bytes are known to be there. Thread-safe: the
// functions are stateless; a CborItem is not shared between threads.
#pragma once

#include <cbor.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/error.h"

namespace medvault::identity {

// Attestation object -> attStmt -> x5c -> certificate is depth 3; extensions may nest a little.
inline constexpr std::size_t kMaxCborDepth = 8;

// One decoded CBOR item, owned (libcbor reference counting hidden). Move-only.
class CborItem {
 public:
  CborItem(CborItem&& other) noexcept : item_(other.item_) { other.item_ = nullptr; }
  CborItem& operator=(CborItem&& other) noexcept;
  CborItem(const CborItem&) = delete;
  CborItem& operator=(const CborItem&) = delete;
  ~CborItem();

  const cbor_item_t* get() const { return item_; }

 private:
  friend Result<struct CborPrefix> DecodeCborPrefix(std::span<const std::uint8_t> bytes);
  explicit CborItem(cbor_item_t* item) : item_(item) {}

  cbor_item_t* item_ = nullptr;
};

// The length in bytes of the one item at the front of `bytes`, checked as above.
// kInvalidArgument when it is malformed, truncated, or outside the profile.
Result<std::size_t> CborItemLength(std::span<const std::uint8_t> bytes);

// `bytes` must be exactly one item: trailing bytes are refused.
Result<CborItem> DecodeCbor(std::span<const std::uint8_t> bytes);

// The item at the front of `bytes` and how many bytes it took.
struct CborPrefix {
  CborItem item;
  std::size_t length;
};
Result<CborPrefix> DecodeCborPrefix(std::span<const std::uint8_t> bytes);

// Typed views of an item; nullopt when the item has another type (or, for integers, lies
// outside int64_t).
std::optional<std::int64_t> CborInteger(const cbor_item_t* item);
std::optional<std::string_view> CborText(const cbor_item_t* item);
std::optional<std::span<const std::uint8_t>> CborBytes(const cbor_item_t* item);

}  // namespace medvault::identity
