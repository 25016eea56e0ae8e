// Small helpers shared by the crypto tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medvault::crypto::testing_bytes {

inline std::vector<std::uint8_t> FromHex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::vector<std::uint8_t> FromText(std::string_view text) {
  return {text.begin(), text.end()};
}

}  // namespace medvault::crypto::testing_bytes
