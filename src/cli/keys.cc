#include "cli/keys.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/audit.h"
#include "cli/vault.h"
#include "crypto/master_key_file.h"
#include "crypto/pkcs11_kek.h"
#include "records/key_report.h"

namespace medvault::cli {
namespace {

constexpr std::size_t kRewrapBatch = 500;

// Where the master-key versions live, and the two steps of a rotation that happen there.
class KeyPlace {
 public:
  virtual ~KeyPlace() = default;
  virtual Result<std::uint32_t> AddVersion() const = 0;
  // Removes every version older than `active`.
  virtual Status RetireBefore(std::uint32_t active,
                              const std::vector<std::uint32_t>& loaded) const = 0;
};

class KeyFilePlace final : public KeyPlace {
 public:
  explicit KeyFilePlace(std::filesystem::path path) : path_(std::move(path)) {}
  Result<std::uint32_t> AddVersion() const override { return crypto::AddMasterKeyVersion(path_); }
  Status RetireBefore(std::uint32_t active, const std::vector<std::uint32_t>&) const override {
    return crypto::RetireMasterKeyVersionsBefore(path_, active);
  }

 private:
  std::filesystem::path path_;
};

class TokenPlace final : public KeyPlace {
 public:
  TokenPlace(crypto::Pkcs11Options options, Secret pin)
      : options_(std::move(options)), pin_(std::move(pin)) {}
  Result<std::uint32_t> AddVersion() const override {
    return crypto::CreatePkcs11KekVersion(options_, pin_);
  }
  Status RetireBefore(std::uint32_t active,
                      const std::vector<std::uint32_t>& loaded) const override {
    for (std::uint32_t version : loaded) {
      if (version >= active) continue;
      if (auto destroyed = crypto::DestroyPkcs11KekVersion(options_, pin_, version); !destroyed) {
        return destroyed;
      }
    }
    return {};
  }

 private:
  crypto::Pkcs11Options options_;
  Secret pin_;
};

Result<std::unique_ptr<KeyPlace>> PlaceOf(const Config& config) {
  if (config.keys.source == KekSourceKind::kFile) {
    return std::make_unique<KeyFilePlace>(config.keys.master_key_file);
  }
  auto options = crypto::Pkcs11OptionsFrom(config.keys);
  if (!options) return std::unexpected(options.error());
  auto pin = crypto::LoadPkcs11Pin(config.keys, [](const char* name) { return std::getenv(name); });
  if (!pin) return std::unexpected(pin.error());
  return std::make_unique<TokenPlace>(std::move(*options), std::move(*pin));
}

}  // namespace

Status PrintKeyStatus(const std::filesystem::path& vault_dir) {
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  auto status = vault->records->Keys();
  if (!status) return std::unexpected(status.error());
  // The place must be usable (a PKCS#11 token's PIN readable), not only described.
  if (auto place = PlaceOf(vault->config); !place) return std::unexpected(place.error());
  const std::string where = records::KeyPlaceDescription(vault->config.keys);
  for (const std::string& line : records::KeyStatusLines(*status, where)) {
    std::printf("%s\n", line.c_str());
  }
  return {};
}

Status RotateKeys(const std::filesystem::path& vault_dir) {
  auto vault = OpenVault(vault_dir, {});
  if (!vault) return std::unexpected(vault.error());
  auto place = PlaceOf(vault->config);
  if (!place) return std::unexpected(place.error());
  auto before = vault->records->Keys();
  if (!before) return std::unexpected(before.error());
  if (before->loaded_kek_versions.size() == 1) {
    auto added = (*place)->AddVersion();
    if (!added) return std::unexpected(added.error());
    std::printf("added master key version %u\n", *added);
  } else {
    std::printf("resuming the rotation to master key version %u\n",
                before->loaded_kek_versions.back());
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
  if (std::size_t pending = records::PendingWraps(*status, *active); pending != 0) {
    return Fail(ErrorCode::kUnavailable,
                std::to_string(pending) +
                    " keys are still wrapped under older versions; run 'medvault keys rotate' "
                    "again");
  }
  if (auto retired = (*place)->RetireBefore(*active, status->loaded_kek_versions); !retired) {
    return retired;
  }
  if (auto logged = RecordOperatorAction(*vault->store, audit::Action::kKeyRotate, {},
                                         audit::Outcome::kSuccess);
      !logged) {
    return logged;
  }
  std::printf(
      "rotation complete: every key is wrapped under master key version %u; older "
      "versions are retired from the %s\n",
      *active, records::KeyPlaceDescription(vault->config.keys).c_str());
  return {};
}

}  // namespace medvault::cli
