// Ed25519 signatures, used to sign audit-log checkpoints so that anyone holding the public key
// can check them outside the server.
//
// Security property: only the holder of the secret key (derived by the Keyring, kept in
// guarded memory) can produce a signature that VerifyEd25519 accepts. Verification follows
// libsodium's strict rules (canonical encodings, no small-order keys), so a signature has one
// accepted form. Thread-safe: SigningKey is immutable after creation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

inline constexpr std::size_t kEd25519SeedBytes = 32;
inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;

using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeyBytes>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureBytes>;

class SigningKey {
 public:
  // The key pair determined by a 32-byte seed. Fails with kInvalidArgument on another size.
  static Result<SigningKey> FromSeed(const Secret& seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }

  // Deterministic Ed25519 signature of `message`.
  Result<Ed25519Signature> Sign(std::span<const std::uint8_t> message) const;

 private:
  SigningKey(Secret secret_key, const Ed25519PublicKey& public_key)
      : secret_key_(std::move(secret_key)), public_key_(public_key) {}

  Secret secret_key_;  // libsodium's 64-byte form: seed || public key
  Ed25519PublicKey public_key_;
};

// True only when `signature` is a valid signature of `message` under `public_key`. Wrong
// lengths are simply invalid.
bool VerifyEd25519(std::span<const std::uint8_t> public_key, std::span<const std::uint8_t> message,
                   std::span<const std::uint8_t> signature);

}  // namespace medvault::crypto
