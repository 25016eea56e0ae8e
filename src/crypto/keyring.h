// The versions of the master key (KEK) medvault runs with: every loaded version, and the
// active one (the newest, used for new wraps). Keys derived for blind indexes and signing do
// not come from here but from the vault's derivation root (derived_keys.h), so rotating and
// retiring master-key versions never changes them.
// Thread-safe: immutable after Load.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/kek.h"

namespace medvault::crypto {

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
  // Every loaded version, oldest first.
  std::vector<std::uint32_t> versions() const;
  // Fails with kNotFound (naming the version) if it is not loaded, e.g. already retired.
  Result<const Kek*> Find(std::uint32_t version) const;

 private:
  explicit Keyring(std::vector<std::unique_ptr<Kek>> keks) : keks_(std::move(keks)) {}

  std::vector<std::unique_ptr<Kek>> keks_;  // sorted by version, never empty
};

}  // namespace medvault::crypto
