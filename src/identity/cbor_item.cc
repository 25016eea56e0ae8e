#include "identity/cbor_item.h"

#include <limits>
#include <utility>
#include <vector>

namespace medvault::identity {
namespace {

enum MajorType : std::uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kByteString = 2,
  kTextString = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7,
};

constexpr std::uint8_t kSimpleFalse = 20;
constexpr std::uint8_t kSimpleNull = 22;

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. CBOR text strings
// must be UTF-8, and libcbor refuses them otherwise, so the shape check does too.
bool IsUtf8(std::span<const std::uint8_t> text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::uint8_t lead = text[i];
    std::size_t extra = 0;
    std::uint32_t point = 0;
    std::uint32_t min = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1;
      point = lead & 0x1f;
      min = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2;
      point = lead & 0x0f;
      min = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3;
      point = lead & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i - 1 < extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const std::uint8_t next = text[i + k];
      if ((next & 0xc0) != 0x80) return false;
      point = (point << 6) | (next & 0x3f);
    }
    if (point < min || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

CborItem& CborItem::operator=(CborItem&& other) noexcept {
  if (this != &other) {
    if (item_ != nullptr) cbor_decref(&item_);
    item_ = other.item_;
    other.item_ = nullptr;
  }
  return *this;
}

CborItem::~CborItem() {
  if (item_ != nullptr) cbor_decref(&item_);
}

// Walks item heads without recursion: `open` holds, for each enclosing array or map, how many
// items it still expects.
Result<std::size_t> CborItemLength(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint64_t> open;
  std::size_t pos = 0;
  do {
    if (pos >= bytes.size()) return Fail(ErrorCode::kInvalidArgument, "CBOR item is truncated");
    const std::uint8_t initial = bytes[pos++];
    const auto major = static_cast<std::uint8_t>(initial >> 5);
    const auto info = static_cast<std::uint8_t>(initial & 0x1f);
    std::uint64_t argument = info;
    if (info >= 24 && info <= 27) {
      const std::size_t width = std::size_t{1} << (info - 24);
      if (bytes.size() - pos < width) {
        return Fail(ErrorCode::kInvalidArgument, "CBOR item is truncated");
      }
      argument = 0;
      for (std::size_t i = 0; i < width; ++i) argument = (argument << 8) | bytes[pos++];
    } else if (info > 27) {
      // 28-30 are reserved; 31 is an indefinite length (or "break"), which WebAuthn never uses.
      return Fail(ErrorCode::kInvalidArgument, "CBOR indefinite lengths are not accepted");
    }
    const std::size_t left = bytes.size() - pos;
    std::uint64_t children = 0;
    switch (major) {
      case kUnsigned:
      case kNegative:
        break;
      case kByteString:
      case kTextString:
        if (argument > left) return Fail(ErrorCode::kInvalidArgument, "CBOR item is truncated");
        if (major == kTextString &&
            !IsUtf8(bytes.subspan(pos, static_cast<std::size_t>(argument)))) {
          return Fail(ErrorCode::kInvalidArgument, "CBOR text string is not UTF-8");
        }
        pos += static_cast<std::size_t>(argument);
        break;
      case kArray:
        // Every element takes at least one byte, so a longer count cannot be honest.
        if (argument > left) return Fail(ErrorCode::kInvalidArgument, "CBOR item is truncated");
        children = argument;
        break;
      case kMap:
        if (argument > left / 2) {
          return Fail(ErrorCode::kInvalidArgument, "CBOR item is truncated");
        }
        children = argument * 2;
        break;
      case kTag:
        return Fail(ErrorCode::kInvalidArgument, "CBOR tags are not accepted");
      case kSimple:
        if (info < kSimpleFalse || info > kSimpleNull) {
          return Fail(ErrorCode::kInvalidArgument,
                      "CBOR floats and simple values are not accepted");
        }
        break;
    }
    if (children > 0) {
      if (open.size() >= kMaxCborDepth) {
        return Fail(ErrorCode::kInvalidArgument, "CBOR nesting is too deep");
      }
      open.push_back(children);
      continue;
    }
    // A complete item: it fills one slot of its container, which may complete in turn.
    while (!open.empty()) {
      if (--open.back() != 0) break;
      open.pop_back();
    }
  } while (!open.empty());
  return pos;
}

Result<CborPrefix> DecodeCborPrefix(std::span<const std::uint8_t> bytes) {
  auto length = CborItemLength(bytes);
  if (!length) return std::unexpected(length.error());
  cbor_load_result result{};
  cbor_item_t* item = cbor_load(bytes.data(), *length, &result);
  if (item == nullptr || result.error.code != CBOR_ERR_NONE || result.read != *length) {
    if (item != nullptr) cbor_decref(&item);
    return Fail(ErrorCode::kInvalidArgument, "CBOR item could not be decoded");
  }
  return CborPrefix{CborItem(item), *length};
}

Result<CborItem> DecodeCbor(std::span<const std::uint8_t> bytes) {
  auto prefix = DecodeCborPrefix(bytes);
  if (!prefix) return std::unexpected(prefix.error());
  if (prefix->length != bytes.size()) {
    return Fail(ErrorCode::kInvalidArgument, "CBOR item is followed by trailing bytes");
  }
  return std::move(prefix->item);
}

std::optional<std::int64_t> CborInteger(const cbor_item_t* item) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (cbor_isa_uint(item)) {
    const std::uint64_t value = cbor_get_int(item);
    if (value > kMax) return std::nullopt;
    return static_cast<std::int64_t>(value);
  }
  if (cbor_isa_negint(item)) {
    const std::uint64_t value = cbor_get_int(item);  // the integer is -1 - value
    if (value > kMax) return std::nullopt;
    return -1 - static_cast<std::int64_t>(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> CborText(const cbor_item_t* item) {
  if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                          cbor_string_length(item));
}

std::optional<std::span<const std::uint8_t>> CborBytes(const cbor_item_t* item) {
  if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) return std::nullopt;
  return std::span<const std::uint8_t>(cbor_bytestring_handle(item), cbor_bytestring_length(item));
}

}  // namespace medvault::identity
