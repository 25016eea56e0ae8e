#include "crypto/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>

namespace medvault::crypto {
namespace {

static_assert(kHmacSha256Bytes == crypto_auth_hmacsha256_BYTES);

// The HMAC state holds key-derived pads; it is wiped when it goes out of scope.
class HmacState {
 public:
  explicit HmacState(std::span<const std::uint8_t> key) {
    crypto_auth_hmacsha256_init(&state_, key.data(), key.size());
  }
  HmacState(const HmacState&) = delete;
  HmacState& operator=(const HmacState&) = delete;
  ~HmacState() { sodium_memzero(&state_, sizeof state_); }

  void Update(std::span<const std::uint8_t> bytes) {
    crypto_auth_hmacsha256_update(&state_, bytes.data(), bytes.size());
  }
  void Final(std::span<std::uint8_t, kHmacSha256Bytes> out) {
    crypto_auth_hmacsha256_final(&state_, out.data());
  }

 private:
  crypto_auth_hmacsha256_state state_{};
};

}  // namespace

Result<HmacSha256Tag> HmacSha256(const Secret& key, std::span<const std::uint8_t> message) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  HmacSha256Tag tag{};
  HmacState state(key.bytes());
  state.Update(message);
  state.Final(tag);
  return tag;
}

Status VerifyHmacSha256(const Secret& key, std::span<const std::uint8_t> message,
                        std::span<const std::uint8_t> tag) {
  if (tag.size() < kHmacMinVerifyBytes || tag.size() > kHmacSha256Bytes) {
    return Fail(ErrorCode::kInvalidArgument, "HMAC tag has an unsupported length");
  }
  auto expected = HmacSha256(key, message);
  if (!expected) return std::unexpected(expected.error());
  const bool match = sodium_memcmp(expected->data(), tag.data(), tag.size()) == 0;
  sodium_memzero(expected->data(), expected->size());
  if (!match) return Fail(ErrorCode::kDataLoss, "HMAC tag does not match");
  return {};
}

Result<HmacSha1Tag> HmacSha1(const Secret& key, std::span<const std::uint8_t> message) {
  HmacSha1Tag tag{};
  unsigned int length = 0;
  // OpenSSL wants a non-null pointer even for an empty key or message.
  static constexpr std::uint8_t kEmpty = 0;
  const std::uint8_t* key_bytes = key.size() == 0 ? &kEmpty : key.bytes().data();
  const std::uint8_t* message_bytes = message.empty() ? &kEmpty : message.data();
  if (HMAC(EVP_sha1(), key_bytes, static_cast<int>(key.size()), message_bytes, message.size(),
           tag.data(), &length) == nullptr ||
      length != kHmacSha1Bytes) {
    return Fail(ErrorCode::kInternal, "HMAC-SHA1 failed");
  }
  return tag;
}

Result<Secret> HkdfSha256(const Secret& input_key, std::span<const std::uint8_t> salt,
                          std::span<const std::uint8_t> info, std::size_t size) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  if (size == 0 || size > 255 * kHmacSha256Bytes) {
    return Fail(ErrorCode::kInvalidArgument, "HKDF output size must be 1..8160 bytes");
  }
  // Extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zero bytes (RFC 5869 2.2).
  auto prk = Secret::Allocate(kHmacSha256Bytes);
  if (!prk) return prk;
  {
    const std::array<std::uint8_t, kHmacSha256Bytes> zero_salt{};
    HmacState extract(salt.empty() ? std::span<const std::uint8_t>(zero_salt) : salt);
    extract.Update(input_key.bytes());
    extract.Final(prk->mutable_bytes().first<kHmacSha256Bytes>());
  }
  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
  auto out = Secret::Allocate(size);
  if (!out) return out;
  auto block = Secret::Allocate(kHmacSha256Bytes);
  if (!block) return block;
  std::size_t filled = 0;
  for (std::uint8_t counter = 1; filled < size; ++counter) {
    HmacState expand(prk->bytes());
    if (counter > 1) expand.Update(block->bytes());
    expand.Update(info);
    expand.Update(std::span<const std::uint8_t>(&counter, 1));
    expand.Final(block->mutable_bytes().first<kHmacSha256Bytes>());
    const std::size_t take = std::min(kHmacSha256Bytes, size - filled);
    std::copy_n(block->bytes().begin(), take, out->mutable_bytes().begin() + filled);
    filled += take;
  }
  return out;
}

}  // namespace medvault::crypto
