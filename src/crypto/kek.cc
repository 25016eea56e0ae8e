#include "crypto/kek.h"

#include <string_view>
#include <utility>

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/master_key_file.h"
#include "crypto/pkcs11_kek.h"

namespace medvault::crypto {
namespace {

// HKDF salt and info of the wrapping subkey of a master key.
constexpr std::string_view kKdfSalt = "medvault.kek.kdf.v1";
constexpr std::string_view kWrappingPurpose{"\0medvault.kek.wrap.v1", 21};

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

Result<std::unique_ptr<LocalKek>> LocalKek::Create(std::uint32_t version, Secret key) {
  if (version == 0) return Fail(ErrorCode::kInvalidArgument, "KEK version must not be zero");
  if (key.size() != kMasterKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "KEK must be 32 bytes");
  }
  auto wrapping = HkdfSha256(key, AsBytes(kKdfSalt), AsBytes(kWrappingPurpose), kAeadKeyBytes);
  if (!wrapping) return std::unexpected(wrapping.error());
  return std::unique_ptr<LocalKek>(new LocalKek(version, std::move(*wrapping)));
}

Result<std::vector<std::uint8_t>> LocalKek::Wrap(
    const Secret& key, std::span<const std::uint8_t> associated_data) const {
  return AeadSeal(wrapping_, key.bytes(), associated_data);
}

Result<Secret> LocalKek::Unwrap(std::span<const std::uint8_t> wrapped,
                                std::span<const std::uint8_t> associated_data) const {
  return AeadOpenSecret(wrapping_, wrapped, associated_data);
}

Result<std::unique_ptr<KekSource>> MakeKekSource(const KeysConfig& keys, const EnvLookup& env) {
  switch (keys.source) {
    case KekSourceKind::kFile:
      return std::make_unique<KeyFileKekSource>(keys.master_key_file);
    case KekSourceKind::kPkcs11: {
      auto options = Pkcs11OptionsFrom(keys);
      if (!options) return std::unexpected(options.error());
      auto pin = LoadPkcs11Pin(keys, env);
      if (!pin) return std::unexpected(pin.error());
      return std::make_unique<Pkcs11KekSource>(std::move(*options), std::move(*pin));
    }
  }
  return Fail(ErrorCode::kInvalidArgument, "keys.source names no known source of master keys");
}

Result<std::vector<std::unique_ptr<Kek>>> KeyFileKekSource::Load() const {
  auto keys = LoadMasterKeyFile(path_);
  if (!keys) return std::unexpected(keys.error());
  std::vector<std::unique_ptr<Kek>> keks;
  for (MasterKey& key : *keys) {
    auto kek = LocalKek::Create(key.version, std::move(key.key));
    if (!kek) return std::unexpected(kek.error());
    keks.push_back(std::move(*kek));
  }
  return keks;
}

}  // namespace medvault::crypto
