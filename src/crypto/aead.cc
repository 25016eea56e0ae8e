#include "crypto/aead.h"

#include <sodium.h>

#include <cstring>
#include <string_view>

namespace medvault::crypto {
namespace {

static_assert(kAeadKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(raw::kChaChaIetfNonceBytes == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadKeyBytes == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadTagBytes == crypto_aead_chacha20poly1305_ietf_ABYTES);

// Names the encoding so that associated data of a future format can never equal this one.
constexpr std::string_view kAssociatedDataFormat = "medvault.ad.v1";

// The two libsodium constructions share one signature; only the nonce length differs.
struct Algorithm {
  std::size_t nonce_bytes;
  int (*encrypt)(unsigned char*, unsigned long long*, const unsigned char*, unsigned long long,
                 const unsigned char*, unsigned long long, const unsigned char*,
                 const unsigned char*, const unsigned char*);
  int (*decrypt)(unsigned char*, unsigned long long*, unsigned char*, const unsigned char*,
                 unsigned long long, const unsigned char*, unsigned long long, const unsigned char*,
                 const unsigned char*);
};

constexpr Algorithm kXChaCha{kAeadNonceBytes, crypto_aead_xchacha20poly1305_ietf_encrypt,
                             crypto_aead_xchacha20poly1305_ietf_decrypt};
constexpr Algorithm kChaChaIetf{raw::kChaChaIetfNonceBytes,
                                crypto_aead_chacha20poly1305_ietf_encrypt,
                                crypto_aead_chacha20poly1305_ietf_decrypt};

Status CheckParameters(const Algorithm& algorithm, const Secret& key,
                       std::span<const std::uint8_t> nonce) {
  if (auto ok = InitSodium(); !ok) return ok;
  if (key.size() != kAeadKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "AEAD key must be 32 bytes");
  }
  if (nonce.size() != algorithm.nonce_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "AEAD nonce has the wrong size");
  }
  return {};
}

// `out` must hold plaintext.size() + kAeadTagBytes bytes.
Status SealInto(const Algorithm& algorithm, const Secret& key, std::span<const std::uint8_t> nonce,
                std::span<const std::uint8_t> plaintext,
                std::span<const std::uint8_t> associated_data, std::span<std::uint8_t> out) {
  if (auto ok = CheckParameters(algorithm, key, nonce); !ok) return ok;
  if (plaintext.size() > SIZE_MAX - kAeadOverheadBytes ||
      out.size() != plaintext.size() + kAeadTagBytes) {
    return Fail(ErrorCode::kInvalidArgument, "AEAD plaintext too large");
  }
  unsigned long long written = 0;
  if (algorithm.encrypt(out.data(), &written, plaintext.data(), plaintext.size(),
                        associated_data.data(), associated_data.size(), nullptr, nonce.data(),
                        key.bytes().data()) != 0 ||
      written != out.size()) {
    return Fail(ErrorCode::kInternal, "AEAD encryption failed");
  }
  return {};
}

// `out` must hold ciphertext_and_tag.size() - kAeadTagBytes bytes. On failure `out` is wiped.
Status OpenInto(const Algorithm& algorithm, const Secret& key, std::span<const std::uint8_t> nonce,
                std::span<const std::uint8_t> ciphertext_and_tag,
                std::span<const std::uint8_t> associated_data, std::span<std::uint8_t> out) {
  if (auto ok = CheckParameters(algorithm, key, nonce); !ok) return ok;
  if (ciphertext_and_tag.size() < kAeadTagBytes ||
      out.size() != ciphertext_and_tag.size() - kAeadTagBytes) {
    return Fail(ErrorCode::kDataLoss, "ciphertext is truncated");
  }
  unsigned long long written = 0;
  if (algorithm.decrypt(out.data(), &written, nullptr, ciphertext_and_tag.data(),
                        ciphertext_and_tag.size(), associated_data.data(), associated_data.size(),
                        nonce.data(), key.bytes().data()) != 0 ||
      written != out.size()) {
    if (!out.empty()) sodium_memzero(out.data(), out.size());
    // One message for every cause, so that the error says nothing about which part was wrong.
    return Fail(ErrorCode::kDataLoss,
                "ciphertext does not authenticate (altered, wrong key, or moved to another "
                "record)");
  }
  return {};
}

Result<std::vector<std::uint8_t>> Seal(const Algorithm& algorithm, const Secret& key,
                                       std::span<const std::uint8_t> nonce,
                                       std::span<const std::uint8_t> plaintext,
                                       std::span<const std::uint8_t> associated_data) {
  if (plaintext.size() > SIZE_MAX - kAeadOverheadBytes) {
    return Fail(ErrorCode::kInvalidArgument, "AEAD plaintext too large");
  }
  std::vector<std::uint8_t> out(plaintext.size() + kAeadTagBytes);
  if (auto ok = SealInto(algorithm, key, nonce, plaintext, associated_data, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

Result<std::vector<std::uint8_t>> Open(const Algorithm& algorithm, const Secret& key,
                                       std::span<const std::uint8_t> nonce,
                                       std::span<const std::uint8_t> ciphertext_and_tag,
                                       std::span<const std::uint8_t> associated_data) {
  if (ciphertext_and_tag.size() < kAeadTagBytes) {
    return Fail(ErrorCode::kDataLoss, "ciphertext is truncated");
  }
  std::vector<std::uint8_t> out(ciphertext_and_tag.size() - kAeadTagBytes);
  if (auto ok = OpenInto(algorithm, key, nonce, ciphertext_and_tag, associated_data, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

void AppendUint(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

void AppendField(std::vector<std::uint8_t>& out, std::string_view field) {
  AppendUint(out, field.size(), 8);
  out.insert(out.end(), field.begin(), field.end());
}

}  // namespace

std::vector<std::uint8_t> AssociatedData::Encode() const {
  std::vector<std::uint8_t> out;
  out.reserve(kAssociatedDataFormat.size() + resource_type.size() + resource_id.size() +
              patient_id.size() + 5 * 8 + 8 + 4);
  AppendField(out, kAssociatedDataFormat);
  AppendField(out, resource_type);
  AppendField(out, resource_id);
  AppendUint(out, version, 8);
  AppendField(out, patient_id);
  AppendUint(out, key_id, 4);
  return out;
}

Result<std::vector<std::uint8_t>> AeadSeal(const Secret& key,
                                           std::span<const std::uint8_t> plaintext,
                                           std::span<const std::uint8_t> associated_data) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  if (plaintext.size() > SIZE_MAX - kAeadOverheadBytes) {
    return Fail(ErrorCode::kInvalidArgument, "AEAD plaintext too large");
  }
  std::vector<std::uint8_t> out(kAeadOverheadBytes + plaintext.size());
  auto nonce = std::span(out).first(kAeadNonceBytes);
  randombytes_buf(nonce.data(), nonce.size());
  if (auto ok = SealInto(kXChaCha, key, nonce, plaintext, associated_data,
                         std::span(out).subspan(kAeadNonceBytes));
      !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

Result<std::vector<std::uint8_t>> AeadOpen(const Secret& key, std::span<const std::uint8_t> sealed,
                                           std::span<const std::uint8_t> associated_data) {
  if (sealed.size() < kAeadOverheadBytes) {
    return Fail(ErrorCode::kDataLoss, "sealed message is truncated");
  }
  return Open(kXChaCha, key, sealed.first(kAeadNonceBytes), sealed.subspan(kAeadNonceBytes),
              associated_data);
}

Result<Secret> AeadOpenSecret(const Secret& key, std::span<const std::uint8_t> sealed,
                              std::span<const std::uint8_t> associated_data) {
  if (sealed.size() < kAeadOverheadBytes) {
    return Fail(ErrorCode::kDataLoss, "sealed message is truncated");
  }
  auto out = Secret::Allocate(sealed.size() - kAeadOverheadBytes);
  if (!out) return out;
  if (auto ok = OpenInto(kXChaCha, key, sealed.first(kAeadNonceBytes),
                         sealed.subspan(kAeadNonceBytes), associated_data, out->mutable_bytes());
      !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

Result<WipedText> AeadOpenText(const Secret& key, std::span<const std::uint8_t> sealed,
                               std::span<const std::uint8_t> associated_data) {
  if (sealed.size() < kAeadOverheadBytes) {
    return Fail(ErrorCode::kDataLoss, "sealed message is truncated");
  }
  WipedText text;
  std::string& out = text.get();
  out.resize(sealed.size() - kAeadOverheadBytes);
  if (auto ok = OpenInto(kXChaCha, key, sealed.first(kAeadNonceBytes),
                         sealed.subspan(kAeadNonceBytes), associated_data,
                         std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
      !ok) {
    return std::unexpected(ok.error());
  }
  return text;
}

namespace raw {

Result<std::vector<std::uint8_t>> XChaChaSeal(const Secret& key,
                                              std::span<const std::uint8_t> nonce,
                                              std::span<const std::uint8_t> plaintext,
                                              std::span<const std::uint8_t> associated_data) {
  return Seal(kXChaCha, key, nonce, plaintext, associated_data);
}

Result<std::vector<std::uint8_t>> XChaChaOpen(const Secret& key,
                                              std::span<const std::uint8_t> nonce,
                                              std::span<const std::uint8_t> ciphertext_and_tag,
                                              std::span<const std::uint8_t> associated_data) {
  return Open(kXChaCha, key, nonce, ciphertext_and_tag, associated_data);
}

Result<std::vector<std::uint8_t>> ChaChaIetfSeal(const Secret& key,
                                                 std::span<const std::uint8_t> nonce,
                                                 std::span<const std::uint8_t> plaintext,
                                                 std::span<const std::uint8_t> associated_data) {
  return Seal(kChaChaIetf, key, nonce, plaintext, associated_data);
}

Result<std::vector<std::uint8_t>> ChaChaIetfOpen(const Secret& key,
                                                 std::span<const std::uint8_t> nonce,
                                                 std::span<const std::uint8_t> ciphertext_and_tag,
                                                 std::span<const std::uint8_t> associated_data) {
  return Open(kChaChaIetf, key, nonce, ciphertext_and_tag, associated_data);
}

}  // namespace raw
}  // namespace medvault::crypto
