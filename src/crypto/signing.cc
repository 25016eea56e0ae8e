#include "crypto/signing.h"

#include <sodium.h>

#include <utility>

namespace medvault::crypto {

static_assert(kEd25519SeedBytes == crypto_sign_SEEDBYTES);
static_assert(kEd25519PublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kEd25519SignatureBytes == crypto_sign_BYTES);

Result<SigningKey> SigningKey::FromSeed(const Secret& seed) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  if (seed.size() != kEd25519SeedBytes) {
    return Fail(ErrorCode::kInvalidArgument, "Ed25519 seed must be 32 bytes");
  }
  auto secret_key = Secret::Allocate(crypto_sign_SECRETKEYBYTES);
  if (!secret_key) return std::unexpected(secret_key.error());
  Ed25519PublicKey public_key{};
  if (crypto_sign_seed_keypair(public_key.data(), secret_key->mutable_bytes().data(),
                               seed.bytes().data()) != 0) {
    return Fail(ErrorCode::kInternal, "Ed25519 key generation failed");
  }
  return SigningKey(std::move(*secret_key), public_key);
}

Result<Ed25519Signature> SigningKey::Sign(std::span<const std::uint8_t> message) const {
  Ed25519Signature signature{};
  if (crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                           secret_key_.bytes().data()) != 0) {
    return Fail(ErrorCode::kInternal, "Ed25519 signing failed");
  }
  return signature;
}

bool VerifyEd25519(std::span<const std::uint8_t> public_key, std::span<const std::uint8_t> message,
                   std::span<const std::uint8_t> signature) {
  if (!InitSodium()) return false;
  if (public_key.size() != kEd25519PublicKeyBytes || signature.size() != kEd25519SignatureBytes) {
    return false;
  }
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

}  // namespace medvault::crypto
