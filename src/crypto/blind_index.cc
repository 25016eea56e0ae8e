#include "crypto/blind_index.h"

#include <sodium.h>

#include <algorithm>
#include <span>
#include <utility>

#include "crypto/hmac.h"
#include "crypto/wiped_text.h"

namespace medvault::crypto {
namespace {

// The hash domain of padding tokens; differs from every ValueKindName.
constexpr std::string_view kNamePadDomain = "name-padding";

// Byte offsets just past each code point of valid UTF-8 (the normalizers' output).
std::vector<std::size_t> CodePointEnds(std::string_view text) {
  std::vector<std::size_t> ends;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ends.push_back(i);
    }
  }
  return ends;
}

// Code points other than the single spaces a normalized name keeps between words.
std::size_t LettersIn(std::string_view normalized_name) {
  return CodePointEnds(normalized_name).size() -
         static_cast<std::size_t>(std::count(normalized_name.begin(), normalized_name.end(), ' '));
}

Result<WipedText> NormalizedName(std::string_view value) {
  auto normalized = NormalizeName(value);
  if (!normalized) return std::unexpected(normalized.error());
  return WipedText(std::move(*normalized));
}

}  // namespace

Result<BlindIndex> BlindIndex::Open(const DerivedKeys& keys, std::string_view field,
                                    ValueKind kind) {
  auto key = keys.BlindIndexKey(field);
  if (!key) return std::unexpected(key.error());
  return BlindIndex(std::move(*key), std::string(field), kind);
}

Result<BlindIndexToken> BlindIndex::Token(std::string_view normalized) const {
  return Token(ValueKindName(kind_), normalized);
}

Result<BlindIndexToken> BlindIndex::Token(std::string_view domain, std::string_view data) const {
  // domain || 0 || data: domains have no NUL, so two domains never hash the same input.
  WipedText message([&] {
    std::string text;
    text.reserve(domain.size() + 1 + data.size());
    text.append(domain).push_back('\0');
    text.append(data);
    return text;
  }());
  auto tag = HmacSha256(
      key_, {reinterpret_cast<const std::uint8_t*>(message.view().data()), message.view().size()});
  if (!tag) return std::unexpected(tag.error());

  const unsigned bits = TokenBits(kind_);
  BlindIndexToken token{field_,
                        std::vector<std::uint8_t>(tag->begin(), tag->begin() + TokenBytes(kind_))};
  if (const unsigned spare = static_cast<unsigned>(token.bytes.size() * 8) - bits; spare > 0) {
    token.bytes.back() &= static_cast<std::uint8_t>(0xFF << spare);
  }
  sodium_memzero(tag->data(), tag->size());
  return token;
}

Result<std::vector<BlindIndexToken>> BlindIndex::TokensFor(std::string_view value) const {
  std::vector<BlindIndexToken> tokens;
  const auto add = [&](std::string_view normalized) -> Status {
    auto token = Token(normalized);
    if (!token) return std::unexpected(token.error());
    tokens.push_back(std::move(*token));
    return {};
  };
  if (kind_ != ValueKind::kName) {
    auto normalized = Normalize(kind_, value);
    if (!normalized) return std::unexpected(normalized.error());
    const WipedText text(std::move(*normalized));
    if (auto ok = add(text.view()); !ok) return std::unexpected(ok.error());
    return tokens;
  }

  auto name = NormalizedName(value);
  if (!name) return std::unexpected(name.error());
  const std::string_view text = name->view();
  if (LettersIn(text) < kMinNamePrefix) {
    if (auto ok = add(text); !ok) return std::unexpected(ok.error());
  } else {
    const std::vector<std::size_t> ends = CodePointEnds(text);
    for (std::size_t length = 1; length <= std::min(ends.size(), kMaxNamePrefix); ++length) {
      const std::string_view prefix = text.substr(0, ends[length - 1]);
      // A query is trimmed and has kMinNamePrefix letters: other prefixes would never match.
      if (prefix.back() == ' ' || LettersIn(prefix) < kMinNamePrefix) continue;
      if (auto ok = add(prefix); !ok) return std::unexpected(ok.error());
    }
  }
  const auto by_bytes = [](const auto& a, const auto& b) { return a.bytes < b.bytes; };
  std::sort(tokens.begin(), tokens.end(), by_bytes);
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());

  // Padding: every name gets kNameTokensPerValue tokens, so their number does not tell the
  // name's length. Pad tokens are keyed hashes in a domain no query uses, derived from the
  // name so that rewriting the same name writes the same rows.
  for (std::size_t pad = 0; tokens.size() < kNameTokensPerValue; ++pad) {
    const WipedText data(std::string(text) + '\0' + std::to_string(pad));
    auto token = Token(kNamePadDomain, data.view());
    if (!token) return std::unexpected(token.error());
    if (std::find(tokens.begin(), tokens.end(), *token) == tokens.end()) {
      tokens.push_back(std::move(*token));
    }
  }
  std::sort(tokens.begin(), tokens.end(), by_bytes);
  return tokens;
}

Result<BlindIndexToken> BlindIndex::QueryToken(std::string_view value) const {
  if (kind_ != ValueKind::kName) {
    auto normalized = Normalize(kind_, value);
    if (!normalized) return std::unexpected(normalized.error());
    const WipedText text(std::move(*normalized));
    return Token(text.view());
  }
  auto name = NormalizedName(value);
  if (!name) return std::unexpected(name.error());
  if (LettersIn(name->view()) < kMinNamePrefix) {
    return Fail(ErrorCode::kInvalidArgument,
                "a name search needs at least 3 letters or digits (accents, spaces, hyphens "
                "and apostrophes do not count)");
  }
  const std::vector<std::size_t> ends = CodePointEnds(name->view());
  std::string_view prefix = name->view().substr(0, ends[std::min(ends.size(), kMaxNamePrefix) - 1]);
  if (prefix.back() == ' ') prefix.remove_suffix(1);  // cut just after a word
  return Token(prefix);
}

Result<BlindIndexToken> BlindIndex::ShortNameQueryToken(std::string_view name) const {
  if (kind_ != ValueKind::kName) {
    return Fail(ErrorCode::kInvalidArgument, "a short-name query needs a name index");
  }
  auto normalized = NormalizedName(name);
  if (!normalized) return std::unexpected(normalized.error());
  if (LettersIn(normalized->view()) >= kMinNamePrefix) {
    return Fail(ErrorCode::kInvalidArgument,
                "a short-name query is for names of 1 or 2 letters or digits; search longer "
                "ones by prefix");
  }
  return Token(normalized->view());
}

}  // namespace medvault::crypto
