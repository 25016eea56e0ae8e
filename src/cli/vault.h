// A vault on disk: DIR/medvault.toml, DIR/data/ (the store), DIR/keys/ (0700, the master key
// file 0600), DIR/tls/ (0700, certificate and key). Creating one is all-or-nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault::cli {

struct VaultOptions {
  // Names the self-signed certificate is valid for.
  std::vector<std::string> hostnames = {"localhost", "127.0.0.1", "::1"};
  // An existing certificate and key to use instead of a self-signed one (both or neither).
  std::filesystem::path certificate;
  std::filesystem::path private_key;
};

// Creates a new vault at `dir`. Refuses when a vault (or any of its parts) is already
// there; on failure removes what it created, so a retry starts clean.
Status CreateVault(const std::filesystem::path& dir, const VaultOptions& options);

}  // namespace medvault::cli
