#include "crypto/master_key_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

#include "crypto/private_file.h"

namespace medvault::crypto {
namespace {

constexpr std::string_view kPrefix = "kek-";
// A key file holds a handful of versions; anything larger is not a key file.
constexpr std::size_t kMaxFileBytes = 64 * 1024;

Status WriteAll(int fd, std::span<const std::uint8_t> bytes, const std::string& name) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cannot write master key file {}: {}", name, std::strerror(errno)));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
  return {};
}

// The file's text, "kek-<n> <base64>\n" per key, built in guarded memory: it is the keys in
// another form.
Result<Secret> EncodeKeyFile(const std::vector<MasterKey>& keys) {
  const std::size_t encoded_size =
      sodium_base64_ENCODED_LEN(kMasterKeyBytes, sodium_base64_VARIANT_ORIGINAL);
  const std::size_t max_line = kPrefix.size() + 10 + 1 + encoded_size + 1;
  auto text = Secret::Allocate(max_line * keys.size());
  if (!text) return std::unexpected(text.error());
  auto out = text->mutable_bytes();
  std::size_t length = 0;
  for (const MasterKey& key : keys) {
    std::string label = fmt::format("{}{} ", kPrefix, key.version);
    std::memcpy(out.data() + length, label.data(), label.size());
    length += label.size();
    sodium_bin2base64(reinterpret_cast<char*>(out.data() + length), encoded_size,
                      key.key.bytes().data(), key.key.size(), sodium_base64_VARIANT_ORIGINAL);
    length += encoded_size - 1;  // without the terminating NUL
    out[length++] = '\n';
  }
  auto exact = Secret::CopyOf(out.first(length));
  return exact;
}

// Writes `text` to a new file at `path` (mode 0600), synced. Refuses an existing file.
Status WriteNewKeyFile(const std::filesystem::path& path, const Secret& text) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Fail(ErrorCode::kAlreadyExists,
                  fmt::format("master key file {} already exists; refusing to overwrite", name));
    }
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create master key file {}: {}", name, std::strerror(errno)));
  }
  Status written = WriteAll(fd, text.bytes(), name);
  if (written && ::fsync(fd) != 0) {
    written = Fail(ErrorCode::kUnavailable, fmt::format("cannot sync master key file {}", name));
  }
  ::close(fd);
  return written;
}

// Replaces the file at `path` with `keys` in one step: a reader sees the old file or the new
// one, never a mix, and a crash leaves one of them.
Status ReplaceKeyFile(const std::filesystem::path& path, const std::vector<MasterKey>& keys) {
  auto text = EncodeKeyFile(keys);
  if (!text) return std::unexpected(text.error());
  std::filesystem::path next = path;
  next += ".new";
  std::error_code ignored;
  std::filesystem::remove(next, ignored);  // left by an interrupted earlier attempt
  if (auto ok = WriteNewKeyFile(next, *text); !ok) return ok;
  if (::rename(next.c_str(), path.c_str()) != 0) {
    std::filesystem::remove(next, ignored);
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot replace master key file {}: {}",
                                                     path.string(), std::strerror(errno)));
  }
  int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace

Status CreateMasterKeyFile(const std::filesystem::path& path) {
  if (auto ok = InitSodium(); !ok) return ok;
  auto key = Secret::Random(kMasterKeyBytes);
  if (!key) return std::unexpected(key.error());
  std::vector<MasterKey> keys;
  keys.push_back(MasterKey{1, std::move(*key)});
  auto text = EncodeKeyFile(keys);
  if (!text) return std::unexpected(text.error());
  return WriteNewKeyFile(path, *text);
}

Result<std::uint32_t> AddMasterKeyVersion(const std::filesystem::path& path) {
  auto keys = LoadMasterKeyFile(path);
  if (!keys) return std::unexpected(keys.error());
  auto key = Secret::Random(kMasterKeyBytes);
  if (!key) return std::unexpected(key.error());
  const std::uint32_t version = keys->back().version + 1;
  keys->push_back(MasterKey{version, std::move(*key)});
  if (auto ok = ReplaceKeyFile(path, *keys); !ok) return std::unexpected(ok.error());
  return version;
}

Status RetireMasterKeyVersionsBefore(const std::filesystem::path& path, std::uint32_t version) {
  auto keys = LoadMasterKeyFile(path);
  if (!keys) return std::unexpected(keys.error());
  if (keys->back().version < version) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("master key file {} has no version {}", path.string(), version));
  }
  std::erase_if(*keys, [version](const MasterKey& key) { return key.version < version; });
  return ReplaceKeyFile(path, *keys);
}

Result<std::vector<MasterKey>> LoadMasterKeyFile(const std::filesystem::path& path) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  const std::string name = path.string();
  auto contents = ReadPrivateFile(path, "master key file", kMaxFileBytes);
  if (!contents) return std::unexpected(contents.error());

  std::string_view text(reinterpret_cast<const char*>(contents->bytes().data()), contents->size());
  std::vector<MasterKey> keys;
  std::size_t line_number = 0;
  auto malformed = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("master key file {} line {} is not 'kek-<version> <base64 key>'", name,
                            line_number));
  };
  while (!text.empty()) {
    ++line_number;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    std::size_t space = line.find(' ');
    if (!line.starts_with(kPrefix) || space == std::string_view::npos) return malformed();
    std::uint32_t version = 0;
    auto [ptr, ec] = std::from_chars(line.data() + kPrefix.size(), line.data() + space, version);
    if (ec != std::errc() || ptr != line.data() + space || version == 0) return malformed();
    if (!keys.empty() && version <= keys.back().version) return malformed();
    std::string_view encoded = line.substr(space + 1);
    auto key = Secret::Allocate(kMasterKeyBytes);
    if (!key) return std::unexpected(key.error());
    std::size_t decoded = 0;
    if (sodium_base642bin(key->mutable_bytes().data(), key->size(), encoded.data(),
                          encoded.size(), nullptr, &decoded, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        decoded != kMasterKeyBytes) {
      return malformed();
    }
    keys.push_back(MasterKey{version, std::move(*key)});
  }
  if (keys.empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("master key file {} holds no key", name));
  }
  return keys;
}

}  // namespace medvault::crypto
