// Keys derived from the vault's derivation root: one blind-index key per indexed field, and
// the Ed25519 key that signs audit checkpoints.
//
// The root is a random 32-byte secret made once per vault. It is stored only wrapped under
// the master key, exactly like a patient's data key (records/sealed_store.h keeps it), so a
// master-key rotation rewraps it and changes no token and no signing key, and a backup whose
// master-key version was retired can no longer recover it.
//
// Security property: each derived key is independent of the others (HKDF-SHA256 with a
// distinct purpose each), so a leaked blind-index key reveals nothing about another field's
// index or the signing key. Thread-safe: immutable after creation.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/signing.h"

namespace medvault::crypto {

inline constexpr std::size_t kDerivationRootBytes = 32;
inline constexpr std::size_t kBlindIndexKeyBytes = 32;
inline constexpr std::size_t kMaxFieldNameBytes = 64;

class DerivedKeys {
 public:
  // A fresh random root, for a new vault.
  static Result<Secret> NewRoot();
  // Fails with kInvalidArgument unless `root` is kDerivationRootBytes long.
  static Result<std::unique_ptr<DerivedKeys>> FromRoot(Secret root);

  // The blind-index key of one field, e.g. "patient.family". Field names are 1..64 characters
  // of [a-z0-9._-]; anything else fails with kInvalidArgument.
  Result<Secret> BlindIndexKey(std::string_view field) const;

  // A 32-byte AEAD key for sealing one kind of secret at rest, e.g. "identity.totp" for the
  // TOTP secrets. Purposes follow the field-name rule of BlindIndexKey; a purpose's key is
  // independent of every blind-index key even when the names are equal.
  Result<Secret> SecretKey(std::string_view purpose) const;

  // The Ed25519 key that signs audit checkpoints.
  const SigningKey& signing_key() const { return signing_key_; }

 private:
  DerivedKeys(Secret root, SigningKey signing_key)
      : root_(std::move(root)), signing_key_(std::move(signing_key)) {}

  Secret root_;
  SigningKey signing_key_;
};

}  // namespace medvault::crypto
