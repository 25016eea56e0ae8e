#include "core/ids.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <cstdint>

#include "core/secret.h"

namespace medvault {

std::string NewResourceId() {
  (void)InitSodium();  // randombytes_buf works (from /dev/urandom) even if init had failed
  std::array<std::uint8_t, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 9562 variant
  std::string hex;
  hex.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex.push_back('-');
    hex += fmt::format("{:02x}", bytes[i]);
  }
  return hex;
}

}  // namespace medvault
