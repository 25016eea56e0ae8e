#include "crypto/private_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace medvault::crypto {

Result<Secret> ReadPrivateFile(const std::filesystem::path& path, std::string_view what,
                               std::size_t max_bytes) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kPermissionDenied,
                fmt::format("cannot open {} {}: {}", what, name, std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kPermissionDenied,
                fmt::format("{} {} is not a regular file", what, name));
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    return Fail(ErrorCode::kPermissionDenied,
                fmt::format("{} {} has mode {:04o}; it must be 0600 (chmod 600 {})", what, name,
                            info.st_mode & 07777, name));
  }
  if (info.st_uid != ::geteuid()) {
    ::close(fd);
    return Fail(ErrorCode::kPermissionDenied,
                fmt::format("{} {} is not owned by the user running medvault", what, name));
  }
  if (static_cast<std::size_t>(info.st_size) > max_bytes) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} {} is too large", what, name));
  }
  auto contents = Secret::Allocate(static_cast<std::size_t>(info.st_size));
  if (!contents) {
    ::close(fd);
    return std::unexpected(contents.error());
  }
  std::size_t filled = 0;
  while (filled < contents->size()) {
    ssize_t got = ::read(fd, contents->mutable_bytes().data() + filled, contents->size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    filled += static_cast<std::size_t>(got);
  }
  ::close(fd);
  if (filled == contents->size()) return contents;
  // The file shrank while it was read: keep what was there, still in guarded memory.
  return Secret::CopyOf(contents->bytes().first(filled));
}

}  // namespace medvault::crypto
