#include "audit/checkpoint.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>

#include "core/base64.h"

namespace medvault::audit {
namespace {

constexpr std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
constexpr std::uint8_t kEd25519Type = 0x01;
constexpr std::size_t kMaxLines = 64;
constexpr std::size_t kMaxOriginBytes = 256;

Status Malformed(const char* what) {
  return Fail(ErrorCode::kDataLoss, std::string("checkpoint: malformed ") + what);
}

bool IsPrintable(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;  // UTF-8 bytes >= 0x80 allowed, controls are not
  });
}

bool IsKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxOriginBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '+';
  });
}

// Splits text ending with '\n' into its lines (without the newlines).
Result<std::vector<std::string_view>> Lines(std::string_view text) {
  if (text.empty() || text.back() != '\n') return std::unexpected(Malformed("text ending").error());
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (lines.size() > kMaxLines) return std::unexpected(Malformed("line count").error());
    start = end + 1;
  }
  return lines;
}

bool ParseDecimal(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::array<std::uint8_t, 32> Sha256(std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) {
    out.fill(0);
  }
  return out;
}

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

Result<std::string> CheckpointText(const Checkpoint& checkpoint) {
  if (checkpoint.origin.empty() || checkpoint.origin.size() > kMaxOriginBytes ||
      !IsPrintable(checkpoint.origin)) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint: invalid origin");
  }
  std::string text = checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
                     EncodeBase64(checkpoint.root, Base64Alphabet::kStandard) + "\n";
  for (const std::string& extension : checkpoint.extensions) {
    if (extension.empty() || !IsPrintable(extension)) {
      return Fail(ErrorCode::kInvalidArgument, "checkpoint: invalid extension line");
    }
    text += extension + "\n";
  }
  return text;
}

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  if (text.size() > kMaxNoteBytes) return std::unexpected(Malformed("size").error());
  auto lines = Lines(text);
  if (!lines) return std::unexpected(lines.error());
  if (lines->size() < 3) return std::unexpected(Malformed("line count").error());
  Checkpoint checkpoint;
  const std::string_view origin = (*lines)[0];
  if (origin.empty() || origin.size() > kMaxOriginBytes || !IsPrintable(origin)) {
    return std::unexpected(Malformed("origin").error());
  }
  checkpoint.origin = origin;
  if (!ParseDecimal((*lines)[1], checkpoint.size)) {
    return std::unexpected(Malformed("tree size").error());
  }
  auto root = DecodeBase64((*lines)[2], Base64Alphabet::kStandard);
  if (!root || root->size() != kHashBytes ||
      EncodeBase64(*root, Base64Alphabet::kStandard) != (*lines)[2]) {  // one spelling only
    return std::unexpected(Malformed("root hash").error());
  }
  std::copy(root->begin(), root->end(), checkpoint.root.begin());
  for (std::size_t i = 3; i < lines->size(); ++i) {
    const std::string_view line = (*lines)[i];
    if (line.empty() || !IsPrintable(line)) return std::unexpected(Malformed("extension").error());
    checkpoint.extensions.emplace_back(line);
  }
  return checkpoint;
}

std::uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& public_key) {
  std::vector<std::uint8_t> input(name.begin(), name.end());
  input.push_back(0x0A);
  input.push_back(kEd25519Type);
  input.insert(input.end(), public_key.begin(), public_key.end());
  const auto digest = Sha256(input);
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
         (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
}

std::string VerifierKeyText(const NoteVerifier& verifier) {
  std::vector<std::uint8_t> key{kEd25519Type};
  key.insert(key.end(), verifier.public_key.begin(), verifier.public_key.end());
  return fmt::format("{}+{:08x}+{}", verifier.name, NoteKeyHash(verifier.name, verifier.public_key),
                     EncodeBase64(key, Base64Alphabet::kStandard));
}

Result<NoteVerifier> ParseVerifierKey(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const std::size_t first = text.find('+');
  const std::size_t second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos) return std::unexpected(Malformed("verifier key").error());
  NoteVerifier verifier;
  verifier.name = text.substr(0, first);
  const std::string_view hash_hex = text.substr(first + 1, second - first - 1);
  auto key = DecodeBase64(text.substr(second + 1), Base64Alphabet::kStandard);
  const bool lower_hex = std::all_of(hash_hex.begin(), hash_hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (!IsKeyName(verifier.name) || hash_hex.size() != 8 || !lower_hex || !key ||
      EncodeBase64(*key, Base64Alphabet::kStandard) != text.substr(second + 1) ||
      key->size() != 1 + crypto::kEd25519PublicKeyBytes || (*key)[0] != kEd25519Type) {
    return std::unexpected(Malformed("verifier key").error());
  }
  std::copy(key->begin() + 1, key->end(), verifier.public_key.begin());
  std::uint32_t claimed = 0;
  auto [end, ec] = std::from_chars(hash_hex.data(), hash_hex.data() + hash_hex.size(), claimed, 16);
  if (ec != std::errc() || end != hash_hex.data() + hash_hex.size() ||
      claimed != NoteKeyHash(verifier.name, verifier.public_key)) {
    return std::unexpected(Malformed("verifier key hash").error());
  }
  return verifier;
}

Result<std::string> SignNote(std::string_view text, std::string_view name,
                             const crypto::SigningKey& key) {
  if (!IsKeyName(name)) return Fail(ErrorCode::kInvalidArgument, "note: invalid key name");
  if (text.empty() || text.back() != '\n' || text.size() > kMaxNoteBytes) {
    return Fail(ErrorCode::kInvalidArgument, "note: text must end with a newline");
  }
  auto signature = key.Sign(Bytes(text));
  if (!signature) return std::unexpected(signature.error());
  const std::uint32_t hash = NoteKeyHash(name, key.public_key());
  std::vector<std::uint8_t> blob{
      static_cast<std::uint8_t>(hash >> 24), static_cast<std::uint8_t>(hash >> 16),
      static_cast<std::uint8_t>(hash >> 8), static_cast<std::uint8_t>(hash)};
  blob.insert(blob.end(), signature->begin(), signature->end());
  return std::string(text) + "\n" + std::string(kDash) + std::string(name) + " " +
         EncodeBase64(blob, Base64Alphabet::kStandard) + "\n";
}

Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier) {
  if (note.size() > kMaxNoteBytes || note.empty() || note.back() != '\n') {
    return std::unexpected(Malformed("note").error());
  }
  // The text ends at the last blank line; every line after it is a signature.
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return std::unexpected(Malformed("note").error());
  const std::string_view text = note.substr(0, split + 1);
  auto signatures = Lines(note.substr(split + 2));
  if (!signatures || signatures->empty()) return std::unexpected(Malformed("signatures").error());
  const std::uint32_t want = NoteKeyHash(verifier.name, verifier.public_key);
  bool verified = false;
  for (std::string_view line : *signatures) {
    if (!line.starts_with(kDash)) return std::unexpected(Malformed("signature line").error());
    line.remove_prefix(kDash.size());
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::unexpected(Malformed("signature").error());
    const std::string_view name = line.substr(0, space);
    auto blob = DecodeBase64(line.substr(space + 1), Base64Alphabet::kStandard);
    if (!IsKeyName(name) || !blob || blob->size() < 5) {
      return std::unexpected(Malformed("signature").error());
    }
    const std::uint32_t hash = (std::uint32_t{(*blob)[0]} << 24) |
                               (std::uint32_t{(*blob)[1]} << 16) |
                               (std::uint32_t{(*blob)[2]} << 8) | std::uint32_t{(*blob)[3]};
    if (name != verifier.name || hash != want) continue;  // another key's signature
    if (crypto::VerifyEd25519(verifier.public_key, Bytes(text),
                              std::span<const std::uint8_t>(*blob).subspan(4))) {
      verified = true;
    }
  }
  if (!verified) return Fail(ErrorCode::kDataLoss, "note: no valid signature by the vault key");
  return std::string(text);
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const crypto::SigningKey& key) {
  auto text = CheckpointText(checkpoint);
  if (!text) return text;
  return SignNote(*text, checkpoint.origin, key);
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier) {
  auto text = OpenNote(note, verifier);
  if (!text) return std::unexpected(text.error());
  auto checkpoint = ParseCheckpointText(*text);
  if (!checkpoint) return checkpoint;
  if (checkpoint->origin != verifier.name) {
    return Fail(ErrorCode::kDataLoss, "checkpoint: origin is not the key's log");
  }
  return checkpoint;
}

std::string OriginFor(const crypto::Ed25519PublicKey& public_key) {
  const auto digest = Sha256(public_key);
  return fmt::format("medvault/audit/{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", digest[0],
                     digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]);
}

NoteVerifier VerifierOf(const crypto::SigningKey& key) {
  return {OriginFor(key.public_key()), key.public_key()};
}

}  // namespace medvault::audit
