// Key-encryption keys (KEK): the versions of the master key, and where they come from.
//
// A Kek wraps data keys without ever handing out its own bytes, so a hardware token
// (PKCS#11) can implement it with a key that never leaves the token. A KekSource loads every
// available version: the key file written by `medvault init` is one source
// (KeyFileKekSource); a PKCS#11 token is the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

// One version of the master key. Implementations are immutable and thread-safe.
class Kek {
 public:
  virtual ~Kek() = default;

  virtual std::uint32_t version() const = 0;

  // Seals `key` so that it opens only with this KEK and the same associated data.
  virtual Result<std::vector<std::uint8_t>> Wrap(
      const Secret& key, std::span<const std::uint8_t> associated_data) const = 0;

  // Opens what Wrap produced. Fails with kDataLoss if the wrap was altered, made by another KEK,
  // or presented with other associated data.
  virtual Result<Secret> Unwrap(std::span<const std::uint8_t> wrapped,
                                std::span<const std::uint8_t> associated_data) const = 0;
};

// A KEK whose bytes are in this process's guarded memory (from the key file). The raw master
// key is used only as HKDF input for the wrapping subkey, and is not kept.
class LocalKek final : public Kek {
 public:
  // Fails with kInvalidArgument unless `key` is 32 bytes and `version` is not zero.
  static Result<std::unique_ptr<LocalKek>> Create(std::uint32_t version, Secret key);

  std::uint32_t version() const override { return version_; }
  Result<std::vector<std::uint8_t>> Wrap(
      const Secret& key, std::span<const std::uint8_t> associated_data) const override;
  Result<Secret> Unwrap(std::span<const std::uint8_t> wrapped,
                        std::span<const std::uint8_t> associated_data) const override;

 private:
  LocalKek(std::uint32_t version, Secret wrapping)
      : version_(version), wrapping_(std::move(wrapping)) {}

  std::uint32_t version_;
  Secret wrapping_;
};

// Where the KEK versions come from. Load is called once at start.
class KekSource {
 public:
  virtual ~KekSource() = default;
  // Every available version. Errors name the file or token and say what is wrong.
  virtual Result<std::vector<std::unique_ptr<Kek>>> Load() const = 0;
};

// The source keys.source names: the key file, or a PKCS#11 token (pkcs11_kek.h), whose PIN is
// read now so that a missing or unreadable PIN stops the start. `env` supplies the PIN when
// keys.pkcs11_pin_file is not set. Errors name the setting or file; nothing is loaded yet.
Result<std::unique_ptr<KekSource>> MakeKekSource(const KeysConfig& keys, const EnvLookup& env);

// The master key file (see master_key_file.h): every line becomes a LocalKek.
class KeyFileKekSource final : public KekSource {
 public:
  explicit KeyFileKekSource(std::filesystem::path path) : path_(std::move(path)) {}
  Result<std::vector<std::unique_ptr<Kek>>> Load() const override;

 private:
  std::filesystem::path path_;
};

}  // namespace medvault::crypto
