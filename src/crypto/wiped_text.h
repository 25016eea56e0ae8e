// Plaintext that is wiped when it goes out of scope, for normalized field values (personal
// data, decrypted records) that should not linger in freed memory. Move-only; a move wipes
// the source, including a short string's inline buffer. Best effort: copies that a
// std::string leaves behind while it grows, before it is handed over, are not wiped.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>
#include <utility>

namespace medvault::crypto {

class WipedText {
 public:
  WipedText() = default;
  explicit WipedText(std::string&& text) : text_(std::move(text)) { Wipe(text); }
  WipedText(WipedText&& other) noexcept : text_(std::move(other.text_)) { Wipe(other.text_); }
  WipedText(const WipedText&) = delete;
  WipedText& operator=(const WipedText&) = delete;
  WipedText& operator=(WipedText&&) = delete;
  ~WipedText() { Wipe(text_); }

  std::string& get() { return text_; }
  std::string_view view() const { return text_; }

 private:
  // Zeroes the whole buffer up to its capacity, not only the characters in use.
  static void Wipe(std::string& text) noexcept {
    text.resize(text.capacity());
    sodium_memzero(text.data(), text.size());
    text.clear();
  }

  std::string text_;
};

}  // namespace medvault::crypto
