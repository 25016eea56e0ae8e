// `medvault serve`: loads the vault, checks its keys and certificate, and serves it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"

namespace medvault::cli {

struct ServeOptions {
  std::filesystem::path vault_dir;
  std::optional<std::string> listen;     // overrides server.listen
  std::optional<std::string> store_url;  // overrides store.url
};

// Returns when the server has drained after SIGINT or SIGTERM. Fails, before serving
// anything, on a missing vault, a bad configuration, an unsafe key file, a store that cannot
// be opened or whose keys do not match, an unusable certificate, or an address that cannot
// be bound.
Status Serve(const ServeOptions& options);

}  // namespace medvault::cli
