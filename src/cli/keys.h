// `medvault keys status` and `medvault keys rotate`: the master keys of a vault, and their
// rotation while the vault keeps serving (the running servers pick up the new version by
// themselves; see records/sealed_store.h).
#pragma once

#include <filesystem>

#include "core/error.h"

namespace medvault::cli {

// Prints the loaded master-key versions, the active one, and how many keys each wraps.
Status PrintKeyStatus(const std::filesystem::path& vault_dir);

// Adds a master-key version (unless an interrupted rotation already did), marks it active,
// rewraps every data key under it and retires the older versions once nothing uses them.
// Running it again after an interruption finishes the same rotation.
Status RotateKeys(const std::filesystem::path& vault_dir);

}  // namespace medvault::cli
