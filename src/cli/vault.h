// A vault on disk: DIR/medvault.toml, DIR/data/ (the store), DIR/keys/ (0700, the master key
// file 0600), DIR/tls/ (0700, certificate and key). Creating one is all-or-nothing; opening
// one checks its configuration and keys and connects to its store.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "crypto/kek.h"
#include "records/sealed_store.h"
#include "store/store.h"

namespace medvault::cli {

struct VaultOptions {
  // Names the self-signed certificate is valid for.
  std::vector<std::string> hostnames = {"localhost", "127.0.0.1", "::1"};
  // An existing certificate and key to use instead of a self-signed one (both or neither).
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  // Master keys on a PKCS#11 token instead of a key file: keys.source = "pkcs11" with these
  // settings (module, token label or slot, key label, PIN file). Version 1 is created on the
  // token unless it holds one already.
  std::optional<KeysConfig> pkcs11;
};

// Creates a new vault at `dir`. Refuses when a vault (or any of its parts) is already
// there; on failure removes what it created, so a retry starts clean.
Status CreateVault(const std::filesystem::path& dir, const VaultOptions& options);

// A vault opened for work. The sealed store refers to the key source and the store, which
// live on the heap, so moving an OpenedVault keeps it valid.
struct OpenedVault {
  Config config;
  std::unique_ptr<crypto::KekSource> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<records::SealedStore> records;
};

// What the command line may override in the vault's configuration.
struct VaultOverrides {
  std::optional<std::string> listen;     // server.listen
  std::optional<std::string> store_url;  // store.url
};

// Loads the configuration (with environment overrides), checks the master keys, opens (and
// migrates) the store and the sealed store over it. Errors name the file, key or store.
Result<OpenedVault> OpenVault(const std::filesystem::path& dir, const VaultOverrides& overrides);

}  // namespace medvault::cli
