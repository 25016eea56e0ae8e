// The master key (KEK) file: readable only by the service user (mode 0600), kept outside
// the data directory. One line per key version, "kek-<n> <base64 of 32 bytes>", so that a
// rotation can add a version while older wraps are still being moved. The newest line is
// the active key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

inline constexpr std::size_t kMasterKeyBytes = 32;

struct MasterKey {
  std::uint32_t version = 0;
  Secret key;
};

// Creates the file with one fresh random key (version 1), mode 0600. Refuses to overwrite.
Status CreateMasterKeyFile(const std::filesystem::path& path);

// Rotation, step one: appends a fresh random version to the file (replaced atomically, mode
// 0600) and returns its number. The new version becomes the active one.
Result<std::uint32_t> AddMasterKeyVersion(const std::filesystem::path& path);

// Rotation, last step: removes every version older than `version` from the file (replaced
// atomically). Call it only once nothing is wrapped under those versions any more.
Status RetireMasterKeyVersionsBefore(const std::filesystem::path& path, std::uint32_t version);

// Reads every key version, oldest first. Refuses a file that group or others can access,
// a file that is not a regular file, or one whose lines do not parse; errors name the file.
Result<std::vector<MasterKey>> LoadMasterKeyFile(const std::filesystem::path& path);

}  // namespace medvault::crypto
