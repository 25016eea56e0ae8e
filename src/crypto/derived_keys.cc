#include "crypto/derived_keys.h"

#include <algorithm>
#include <string>

#include "crypto/aead.h"
#include "crypto/hmac.h"

namespace medvault::crypto {
namespace {

constexpr std::string_view kKdfSalt = "medvault.root.kdf.v1";
// Derivation purposes. The blind-index prefix ends with a NUL byte and field names contain
// none, so no field's purpose can equal another purpose.
constexpr std::string_view kBlindIndexPurpose{"medvault.blind-index.v1\0", 24};
constexpr std::string_view kSigningPurpose = "medvault.audit-signing.v1";
constexpr std::string_view kSecretKeyPurpose{"medvault.secret-key.v1\0", 23};

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

bool IsFieldName(std::string_view field) {
  if (field.empty() || field.size() > kMaxFieldNameBytes) return false;
  return std::all_of(field.begin(), field.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

Result<Secret> DerivedKeys::NewRoot() { return Secret::Random(kDerivationRootBytes); }

Result<std::unique_ptr<DerivedKeys>> DerivedKeys::FromRoot(Secret root) {
  if (root.size() != kDerivationRootBytes) {
    return Fail(ErrorCode::kInvalidArgument, "derivation root must be 32 bytes");
  }
  auto seed = HkdfSha256(root, AsBytes(kKdfSalt), AsBytes(kSigningPurpose), kEd25519SeedBytes);
  if (!seed) return std::unexpected(seed.error());
  auto signing_key = SigningKey::FromSeed(*seed);
  if (!signing_key) return std::unexpected(signing_key.error());
  return std::unique_ptr<DerivedKeys>(new DerivedKeys(std::move(root), std::move(*signing_key)));
}

Result<Secret> DerivedKeys::BlindIndexKey(std::string_view field) const {
  if (!IsFieldName(field)) {
    return Fail(ErrorCode::kInvalidArgument,
                "blind-index field name must be 1..64 characters of [a-z0-9._-]");
  }
  std::string purpose(kBlindIndexPurpose);
  purpose.append(field);
  return HkdfSha256(root_, AsBytes(kKdfSalt), AsBytes(purpose), kBlindIndexKeyBytes);
}

Result<Secret> DerivedKeys::SecretKey(std::string_view purpose) const {
  if (!IsFieldName(purpose)) {
    return Fail(ErrorCode::kInvalidArgument,
                "secret-key purpose must be 1..64 characters of [a-z0-9._-]");
  }
  std::string info(kSecretKeyPurpose);
  info.append(purpose);
  return HkdfSha256(root_, AsBytes(kKdfSalt), AsBytes(info), kAeadKeyBytes);
}

}  // namespace medvault::crypto
