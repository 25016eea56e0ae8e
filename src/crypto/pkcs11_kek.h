// Master key (KEK) versions kept on a PKCS#11 token (a hardware security module; SoftHSM2 in
// the tests). Version n is the token's AES-256 secret key labelled "<key label>-<n>"
// (medvault-kek-1, medvault-kek-2, ...), created sensitive and not extractable, so its bytes
// never leave the token: the token itself wraps and unwraps with AES-256-GCM. A wrap is
// IV (12 random bytes) || ciphertext || tag (16 bytes) and opens only with the same key and
// the same associated data.
//
// The user PIN never comes from the configuration file: it is read from a file only the
// service user can read, or from the MEDVAULT_PKCS11_PIN environment variable, and is held
// in guarded memory. Errors name the module, the token and the key label, never the PIN.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/secret.h"
#include "crypto/kek.h"

namespace medvault::crypto {

// The environment variable the user PIN is read from when keys.pkcs11_pin_file is not set.
inline constexpr std::string_view kPkcs11PinVariable = "MEDVAULT_PKCS11_PIN";

// Which token, and which keys on it.
struct Pkcs11Options {
  // The module (shared library) to load. Always a path, never a bare name for the loader to
  // search.
  std::filesystem::path module;
  // The token is found by label, by slot id, or by both (then the slot must hold that token).
  std::optional<std::string> token_label;
  std::optional<std::uint64_t> slot;
  std::string key_label = "medvault-kek";
};

// The options the keys.pkcs11_* settings describe. Fails with kInvalidArgument, naming the
// setting, if the module or both the token label and the slot are missing, or a label does
// not fit PKCS#11's 32 bytes.
Result<Pkcs11Options> Pkcs11OptionsFrom(const KeysConfig& keys);

// The user PIN: the contents of keys.pkcs11_pin_file (checked like the master key file: 0600,
// owned by the service user; one trailing newline is dropped), or else the value of
// MEDVAULT_PKCS11_PIN. Refuses neither or both being set, and an empty PIN.
Result<Secret> LoadPkcs11Pin(const KeysConfig& keys, const EnvLookup& env);

// Every key version on the token. Load logs in once and keeps the token's sessions for the
// KEKs it returns; they stay usable after the source is gone. Thread-safe.
class Pkcs11KekSource final : public KekSource {
 public:
  Pkcs11KekSource(Pkcs11Options options, Secret pin)
      : options_(std::move(options)), pin_(std::move(pin)) {}

  // Fails, naming the module, token or key label, if the module cannot be loaded (kUnavailable),
  // the token is not there (kNotFound), the PIN is wrong (kPermissionDenied), no key carries the
  // label (kNotFound), or a key is not a sensitive AES-256 key for encryption (kInvalidArgument).
  Result<std::vector<std::unique_ptr<Kek>>> Load() const override;

 private:
  Pkcs11Options options_;
  Secret pin_;
};

// Generates the next version on the token, "<key label>-<newest + 1>" (or version 1 on a token
// without one): an AES-256 token key that is private, sensitive, not extractable, and may only
// encrypt and decrypt. Returns its version. Fails with kConflict if another process created the
// same version at the same moment (nothing is left behind then).
Result<std::uint32_t> CreatePkcs11KekVersion(const Pkcs11Options& options, const Secret& pin);

// Destroys version `version` on the token, once nothing is wrapped under it any more: every
// wrap it made becomes unreadable. Refuses the newest version (kInvalidArgument), since it is
// the active one; fails with kNotFound if the token does not hold that version.
Status DestroyPkcs11KekVersion(const Pkcs11Options& options, const Secret& pin,
                               std::uint32_t version);

}  // namespace medvault::crypto
