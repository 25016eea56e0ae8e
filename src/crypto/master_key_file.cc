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

}  // namespace

Status CreateMasterKeyFile(const std::filesystem::path& path) {
  if (auto ok = InitSodium(); !ok) return ok;
  auto key = Secret::Random(kMasterKeyBytes);
  if (!key) return std::unexpected(key.error());
  const std::size_t encoded_size =
      sodium_base64_ENCODED_LEN(kMasterKeyBytes, sodium_base64_VARIANT_ORIGINAL);
  // The line is built in guarded memory too: it is the key in another form.
  auto line = Secret::Allocate(kPrefix.size() + 2 + encoded_size);
  if (!line) return std::unexpected(line.error());
  auto out = line->mutable_bytes();
  std::memcpy(out.data(), "kek-1 ", 6);
  sodium_bin2base64(reinterpret_cast<char*>(out.data() + 6), encoded_size, key->bytes().data(),
                    key->size(), sodium_base64_VARIANT_ORIGINAL);
  std::size_t length = 6 + std::strlen(reinterpret_cast<char*>(out.data() + 6));
  out[length++] = '\n';

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
  Status written = WriteAll(fd, out.first(length), name);
  if (written && ::fsync(fd) != 0) {
    written = Fail(ErrorCode::kUnavailable, fmt::format("cannot sync master key file {}", name));
  }
  ::close(fd);
  return written;
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
