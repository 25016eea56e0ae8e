// The keys medvault runs with: every loaded version of the master key (KEK), the active one
// (the newest, used for new wraps), and the keys derived from the master key for blind indexes
// (one per indexed field) and for signing audit checkpoints.
//
// Security property: each derived key is independent of the others and of the wrapping key
// (HKDF-SHA256 with a distinct purpose each), so a leaked blind-index key reveals nothing
// about data keys or other fields' indexes. Derived keys come from the *root* version, the
// oldest KEK loaded, so adding a KEK version for rotation changes neither blind indexes nor
// the checkpoint signing key.
// Thread-safe: immutable after Load.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/kek.h"
#include "crypto/signing.h"

namespace medvault::crypto {

inline constexpr std::size_t kBlindIndexKeyBytes = 32;
inline constexpr std::size_t kMaxFieldNameBytes = 64;

class Keyring {
 public:
  // Loads every KEK version from `source`. Fails if the source fails (its error names the file
  // or token), holds no key, or holds one version twice.
  static Result<std::unique_ptr<Keyring>> Load(const KekSource& source);
  // The same from KEKs already loaded.
  static Result<std::unique_ptr<Keyring>> FromKeks(std::vector<std::unique_ptr<Kek>> keks);

  // The newest version: every new wrap uses it.
  std::uint32_t active_version() const { return keks_.back()->version(); }
  const Kek& active() const { return *keks_.back(); }
  // The version derived keys come from (the oldest loaded). Record it next to blind indexes:
  // retiring this version changes every derived key.
  std::uint32_t root_version() const { return keks_.front()->version(); }
  // Every loaded version, oldest first.
  std::vector<std::uint32_t> versions() const;
  // Fails with kNotFound (naming the version) if it is not loaded, e.g. already retired.
  Result<const Kek*> Find(std::uint32_t version) const;

  // The blind-index key of one field, e.g. "patient.family". Field names are 1..64 characters
  // of [a-z0-9._-]; anything else fails with kInvalidArgument.
  Result<Secret> BlindIndexKey(std::string_view field) const;

  // The Ed25519 key that signs audit checkpoints.
  const SigningKey& signing_key() const { return signing_key_; }

 private:
  Keyring(std::vector<std::unique_ptr<Kek>> keks, SigningKey signing_key)
      : keks_(std::move(keks)), signing_key_(std::move(signing_key)) {}

  std::vector<std::unique_ptr<Kek>> keks_;  // sorted by version, never empty
  SigningKey signing_key_;
};

}  // namespace medvault::crypto
