#include "core/base64.h"

#include <sodium.h>

namespace medvault {
namespace {

int SodiumVariant(Base64Alphabet alphabet) {
  return alphabet == Base64Alphabet::kStandard ? sodium_base64_VARIANT_ORIGINAL
                                               : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

}  // namespace

std::string EncodeBase64(std::span<const std::uint8_t> bytes, Base64Alphabet alphabet) {
  const int variant = SodiumVariant(alphabet);
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), variant);
  text.resize(text.size() - 1);  // the terminating NUL sodium writes
  return text;
}

Result<std::vector<std::uint8_t>> DecodeBase64(std::string_view text, Base64Alphabet alphabet) {
  std::vector<std::uint8_t> bytes(text.size() / 4 * 3 + 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length,
                        &end, SodiumVariant(alphabet)) != 0 ||
      end != text.data() + text.size()) {
    return Fail(ErrorCode::kInvalidArgument, "not valid base64");
  }
  bytes.resize(length);
  return bytes;
}

}  // namespace medvault
