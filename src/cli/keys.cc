#include "cli/keys.h"

#include <cstdio>
#include <string>

#include "cli/vault.h"
#include "crypto/master_key_file.h"

namespace medvault::cli {
namespace {

constexpr std::size_t kRewrapBatch = 500;

std::string Join(const std::vector<std::uint32_t>& versions) {
  std::string out;
  for (auto version : versions) out += (out.empty() ? "" : ", ") + std::to_string(version);
  return out;
}

// Keys still wrapped under another version than `active` (erased patients have none).
std::size_t PendingWraps(const records::KeyStatus& status, std::uint32_t active) {
  std::size_t pending = 0;
  for (const auto& [key_id, count] : status.wraps_by_key_id) {
    if (key_id != records::kErasedKeyId && key_id != records::KekKeyId(active)) pending += count;
  }
  return pending;
}

}  // namespace

Status PrintKeyStatus(const std::filesystem::path& vault_dir) {
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  auto status = vault->records->Keys();
  if (!status) return std::unexpected(status.error());
  const std::uint32_t active = status->loaded_kek_versions.back();
  std::printf("master key file: %s\n", vault->config.keys.master_key_file.c_str());
  std::printf("loaded versions: %s (active %u)\n", Join(status->loaded_kek_versions).c_str(),
              active);
  std::printf("vault marker: version %u\n", status->marked_kek_version);
  for (const auto& [key_id, count] : status->wraps_by_key_id) {
    std::printf("wrapped under %s: %zu\n", key_id.c_str(), count);
  }
  const std::size_t pending = PendingWraps(*status, active);
  if (pending == 0 && status->loaded_kek_versions.size() == 1) {
    std::printf("rotation: none under way\n");
  } else {
    std::printf("rotation: under way, %zu keys still to rewrap (run 'medvault keys rotate')\n",
                pending);
  }
  return {};
}

Status RotateKeys(const std::filesystem::path& vault_dir) {
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  const std::filesystem::path& key_file = vault->config.keys.master_key_file;
  auto versions = crypto::LoadMasterKeyFile(key_file);
  if (!versions) return std::unexpected(versions.error());
  if (versions->size() == 1) {
    auto added = crypto::AddMasterKeyVersion(key_file);
    if (!added) return std::unexpected(added.error());
    std::printf("added master key version %u\n", *added);
  } else {
    std::printf("resuming the rotation to master key version %u\n", versions->back().version);
  }
  auto active = vault->records->BeginRotation();
  if (!active) return std::unexpected(active.error());
  std::size_t moved = 0;
  for (;;) {
    auto batch = vault->records->RewrapBatch(kRewrapBatch);
    if (!batch) return std::unexpected(batch.error());
    if (*batch == 0) break;
    moved += *batch;
    std::printf("rewrapped %zu keys\n", moved);
  }
  auto status = vault->records->Keys();
  if (!status) return std::unexpected(status.error());
  if (std::size_t pending = PendingWraps(*status, *active); pending != 0) {
    return Fail(ErrorCode::kUnavailable,
                std::to_string(pending) +
                    " keys are still wrapped under older versions; run 'medvault keys rotate' "
                    "again");
  }
  if (auto retired = crypto::RetireMasterKeyVersionsBefore(key_file, *active); !retired) {
    return retired;
  }
  std::printf("rotation complete: every key is wrapped under master key version %u; older "
              "versions are retired from %s\n",
              *active, key_file.c_str());
  return {};
}

}  // namespace medvault::cli
