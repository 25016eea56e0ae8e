#include "crypto/keyring.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

namespace medvault::crypto {
namespace {

// Derivation purposes. The blind-index prefix ends with a NUL byte and field names contain
// none, so no field's purpose can equal another purpose.
constexpr std::string_view kBlindIndexPurpose{"medvault.blind-index.v1\0", 24};
constexpr std::string_view kSigningPurpose = "medvault.audit-signing.v1";

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

Result<std::unique_ptr<Keyring>> Keyring::Load(const KekSource& source) {
  auto keks = source.Load();
  if (!keks) return std::unexpected(keks.error());
  return FromKeks(std::move(*keks));
}

Result<std::unique_ptr<Keyring>> Keyring::FromKeks(std::vector<std::unique_ptr<Kek>> keks) {
  if (keks.empty()) return Fail(ErrorCode::kInvalidArgument, "no master key version loaded");
  if (std::any_of(keks.begin(), keks.end(), [](const auto& kek) { return kek == nullptr; })) {
    return Fail(ErrorCode::kInvalidArgument, "null master key version");
  }
  std::sort(keks.begin(), keks.end(),
            [](const auto& a, const auto& b) { return a->version() < b->version(); });
  for (std::size_t i = 1; i < keks.size(); ++i) {
    if (keks[i]->version() == keks[i - 1]->version()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("master key version {} is loaded twice", keks[i]->version()));
    }
  }
  auto seed = keks.front()->Derive(AsBytes(kSigningPurpose), kEd25519SeedBytes);
  if (!seed) return std::unexpected(seed.error());
  auto signing_key = SigningKey::FromSeed(*seed);
  if (!signing_key) return std::unexpected(signing_key.error());
  return std::unique_ptr<Keyring>(new Keyring(std::move(keks), std::move(*signing_key)));
}

std::vector<std::uint32_t> Keyring::versions() const {
  std::vector<std::uint32_t> out;
  out.reserve(keks_.size());
  for (const auto& kek : keks_) out.push_back(kek->version());
  return out;
}

Result<const Kek*> Keyring::Find(std::uint32_t version) const {
  auto found =
      std::lower_bound(keks_.begin(), keks_.end(), version,
                       [](const auto& kek, std::uint32_t v) { return kek->version() < v; });
  if (found == keks_.end() || (*found)->version() != version) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("master key version {} is not loaded (retired or missing)", version));
  }
  return found->get();
}

Result<Secret> Keyring::BlindIndexKey(std::string_view field) const {
  if (!IsFieldName(field)) {
    return Fail(ErrorCode::kInvalidArgument,
                "blind-index field name must be 1..64 characters of [a-z0-9._-]");
  }
  std::string purpose(kBlindIndexPurpose);
  purpose.append(field);
  return keks_.front()->Derive(AsBytes(purpose), kBlindIndexKeyBytes);
}

}  // namespace medvault::crypto
