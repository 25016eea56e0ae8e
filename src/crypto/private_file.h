// Files that only the service user may read: the master key file, a PKCS#11 PIN file. One
// reader applies the same checks to all of them, so none is read with a weaker check.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

// Reads the whole file into guarded memory. Refuses (naming `what` and the path, never the
// contents) a missing file (kNotFound), a symbolic link, a file that is not regular, one that
// group or others can access, one owned by another user (kPermissionDenied), and one larger
// than `max_bytes` (kInvalidArgument).
Result<Secret> ReadPrivateFile(const std::filesystem::path& path, std::string_view what,
                               std::size_t max_bytes);

}  // namespace medvault::crypto
