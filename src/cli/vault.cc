#include "cli/vault.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/config.h"
#include "crypto/master_key_file.h"
#include "crypto/pkcs11_kek.h"
#include "http/tls.h"

namespace medvault::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kSelfSignedDays = 825;

Status MakeDirectory(const fs::path& path, fs::perms perms) {
  std::error_code ec;
  if (!fs::create_directory(path, ec) || ec) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create directory {}: {}", path.string(),
                            ec ? ec.message() : "it already exists"));
  }
  fs::permissions(path, perms, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot set permissions on {}: {}", path.string(), ec.message()));
  }
  return {};
}

Status WriteNewFile(const fs::path& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  std::string_view rest = text;
  bool ok = true;
  while (ok && !rest.empty()) {
    ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    ok = written > 0;
    if (ok) rest.remove_prefix(static_cast<std::size_t>(written));
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return Fail(ErrorCode::kUnavailable, fmt::format("cannot write {}", path.string()));
  return {};
}

// A new PKCS#11 vault's first master-key version, unless the token holds one already (a token
// shared with another instance of the same vault).
Status EnsureTokenKey(const KeysConfig& keys) {
  const EnvLookup env = [](const char* name) { return std::getenv(name); };
  auto options = crypto::Pkcs11OptionsFrom(keys);
  if (!options) return std::unexpected(options.error());
  auto pin = crypto::LoadPkcs11Pin(keys, env);
  if (!pin) return std::unexpected(pin.error());
  auto source = crypto::MakeKekSource(keys, env);
  if (!source) return std::unexpected(source.error());
  if (auto loaded = (*source)->Load(); loaded || loaded.error().code() != ErrorCode::kNotFound) {
    return loaded ? Status{} : Status{std::unexpected(loaded.error())};
  }
  auto created = crypto::CreatePkcs11KekVersion(*options, *pin);
  if (!created) return std::unexpected(created.error());
  return {};
}

Status BuildVault(const fs::path& dir, const VaultOptions& options, std::vector<fs::path>& made) {
  using fs::perms;
  for (auto [name, mode] : {std::pair{"data", perms::owner_all},
                            {"keys", perms::owner_all},
                            {"tls", perms::owner_all}}) {
    if (auto ok = MakeDirectory(dir / name, mode); !ok) return ok;
    made.push_back(dir / name);
  }
  Config config = DefaultConfig(dir);
  if (options.pkcs11) {
    config.keys = *options.pkcs11;
    config.keys.source = KekSourceKind::kPkcs11;
    config.keys.master_key_file = DefaultConfig(dir).keys.master_key_file;
    if (auto ok = EnsureTokenKey(config.keys); !ok) return ok;
  } else if (auto ok = crypto::CreateMasterKeyFile(dir / "keys" / "master.key"); !ok) {
    return ok;
  }
  if (options.certificate.empty()) {
    auto ok = http::CreateSelfSignedCertificate(dir / config.tls.certificate,
                                                dir / config.tls.private_key, options.hostnames,
                                                kSelfSignedDays);
    if (!ok) return ok;
  } else {
    config.tls.certificate = fs::absolute(options.certificate);
    config.tls.private_key = fs::absolute(options.private_key);
    auto usable = http::MakeServerTlsContext(config.tls.certificate, config.tls.private_key);
    if (!usable) return std::unexpected(usable.error());
  }
  // The configuration is written last: its presence marks a complete vault.
  if (auto ok = WriteNewFile(dir / "medvault.toml", RenderConfigToml(config), 0640); !ok) {
    return ok;
  }
  made.push_back(dir / "medvault.toml");
  return {};
}

}  // namespace

Status CreateVault(const fs::path& dir, const VaultOptions& options) {
  if (options.certificate.empty() != options.private_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "give both --tls-certificate and --tls-private-key, or neither");
  }
  for (const char* part : {"medvault.toml", "data", "keys", "tls"}) {
    std::error_code ec;
    if (fs::exists(dir / part, ec)) {
      return Fail(ErrorCode::kAlreadyExists,
                  fmt::format("{} already holds a vault ({} exists); refusing to overwrite it",
                              dir.string(), part));
    }
  }
  std::error_code ec;
  bool created_dir = fs::create_directories(dir, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  }
  if (created_dir)
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, ec);
  std::vector<fs::path> made;
  Status built = BuildVault(dir, options, made);
  if (!built) {
    for (auto it = made.rbegin(); it != made.rend(); ++it) fs::remove_all(*it, ec);
    if (created_dir) fs::remove_all(dir, ec);
  }
  return built;
}

Result<OpenedVault> OpenVault(const fs::path& dir, const VaultOverrides& overrides) {
  OpenedVault vault;
  const EnvLookup env = [](const char* name) { return std::getenv(name); };
  auto config = LoadConfig(dir, env);
  if (!config) return std::unexpected(config.error());
  vault.config = std::move(*config);
  if (overrides.listen) vault.config.server.listen = *overrides.listen;
  if (overrides.store_url) vault.config.store.url = *overrides.store_url;

  // The keys are checked first: a key file others can read means the vault's protection is
  // already gone, and the operator must hear it before anything else happens.
  auto keys = crypto::MakeKekSource(vault.config.keys, env);
  if (!keys) return std::unexpected(keys.error());
  vault.keys = std::move(*keys);
  if (auto loaded = vault.keys->Load(); !loaded) return std::unexpected(loaded.error());

  store::Store::Options store_options;
  store_options.sqlite_cache_mib = vault.config.store.sqlite_cache_mib;
  store_options.sqlite_mmap_mib = vault.config.store.sqlite_mmap_mib;
  auto store = store::Store::Open(vault.config.store.url, store_options);
  if (!store) return std::unexpected(store.error());
  vault.store = std::move(*store);
  records::SealedStore::Options records_options;
  records_options.care_relations = {
      .after_end = std::chrono::days(vault.config.policy.relation_grace_days),
      .after_encounter = std::chrono::hours(vault.config.policy.encounter_grace_hours)};
  auto records = records::SealedStore::Open(*vault.store, *vault.keys, records_options);
  if (!records) {
    // Keys that load but do not open the vault (another vault's): say which keys they were.
    if (records.error().code() != ErrorCode::kDataLoss) return std::unexpected(records.error());
    const auto& keys_config = vault.config.keys;
    const std::string source =
        keys_config.source == KekSourceKind::kFile
            ? "master key file " + keys_config.master_key_file.string()
            : "PKCS#11 token " + keys_config.pkcs11_token_label.value_or(
                                     keys_config.pkcs11_slot
                                         ? "in slot " + std::to_string(*keys_config.pkcs11_slot)
                                         : std::string("(no label)"));
    return Fail(ErrorCode::kDataLoss,
                fmt::format("{} (from {})", records.error().message(), source));
  }
  vault.records = std::move(*records);
  return vault;
}

}  // namespace medvault::cli
