#include "records/key_report.h"

#include <fmt/format.h>

namespace medvault::records {

std::string KeyPlaceDescription(const KeysConfig& keys) {
  if (keys.source == KekSourceKind::kFile) {
    return "master key file " + keys.master_key_file.string();
  }
  return "PKCS#11 token " + keys.pkcs11_token_label.value_or("(by slot)") + ", keys " +
         keys.pkcs11_key_label + "-<n>";
}

std::size_t PendingWraps(const KeyStatus& status, std::uint32_t active) {
  std::size_t pending = 0;
  for (const auto& [key_id, count] : status.wraps_by_key_id) {
    if (key_id != kErasedKeyId && key_id != KekKeyId(active)) pending += count;
  }
  return pending;
}

std::vector<std::string> KeyStatusLines(const KeyStatus& status, std::string_view place) {
  const std::uint32_t active = status.loaded_kek_versions.back();
  std::string versions;
  for (auto version : status.loaded_kek_versions) {
    versions += (versions.empty() ? "" : ", ") + std::to_string(version);
  }
  std::vector<std::string> lines;
  lines.push_back(fmt::format("master keys: {}", place));
  lines.push_back(fmt::format("loaded versions: {} (active {})", versions, active));
  lines.push_back(fmt::format("vault marker: version {}", status.marked_kek_version));
  for (const auto& [key_id, count] : status.wraps_by_key_id) {
    lines.push_back(fmt::format("wrapped under {}: {}", key_id, count));
  }
  const std::size_t pending = PendingWraps(status, active);
  if (pending == 0 && status.loaded_kek_versions.size() == 1) {
    lines.push_back("rotation: none under way");
  } else {
    lines.push_back(fmt::format(
        "rotation: under way, {} keys still to rewrap (run 'medvault keys rotate')", pending));
  }
  return lines;
}

}  // namespace medvault::records
