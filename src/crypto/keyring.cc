#include "crypto/keyring.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace medvault::crypto {

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
  return std::unique_ptr<Keyring>(new Keyring(std::move(keks)));
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

}  // namespace medvault::crypto
