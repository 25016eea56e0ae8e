#include "audit/checkpointer.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

extern char** environ;

namespace medvault::audit {
namespace {

namespace fs = std::filesystem;

Status WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t wrote = ::write(fd, text.data(), text.size());
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("checkpoint: write failed: {}", std::strerror(errno)));
    }
    text.remove_prefix(static_cast<std::size_t>(wrote));
  }
  return {};
}

std::string TimeLine(Timestamp now) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
  return fmt::format("time {:%Y-%m-%dT%H:%M:%SZ}", seconds);
}

}  // namespace

Status WriteFileAtomically(const fs::path& path, std::string_view text) {
  const fs::path temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("checkpoint: cannot create a file: {}", std::strerror(errno)));
  }
  Status status = WriteAll(fd, text);
  if (status && ::fsync(fd) != 0) {
    status = Fail(ErrorCode::kUnavailable, "checkpoint: fsync failed");
  }
  ::close(fd);
  if (status && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status = Fail(ErrorCode::kUnavailable,
                  fmt::format("checkpoint: rename failed: {}", std::strerror(errno)));
  }
  if (!status) {
    ::unlink(temporary.c_str());
    return status;
  }
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Checkpointer::Checkpointer(AuditLog& log, store::Store& store, const crypto::SigningKey& key,
                           const Clock& clock, Options options)
    : log_(log), store_(store), key_(key), clock_(clock), options_(std::move(options)) {
  origin_ = OriginFor(key_.public_key());
  file_ = options_.dir / "checkpoint";
  key_file_ = options_.dir / "medvault.pub";
}

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(AuditLog& log, store::Store& store,
                                                          const crypto::SigningKey& key,
                                                          const Clock& clock, Options options) {
  if (options.interval <= std::chrono::milliseconds(0)) {
    return Fail(ErrorCode::kInvalidArgument, "checkpoint: the interval must be positive");
  }
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error || ::chmod(options.dir.c_str(), 0700) != 0) {
    return Fail(ErrorCode::kUnavailable, "checkpoint: cannot create the checkpoint directory");
  }
  std::unique_ptr<Checkpointer> checkpointer(
      new Checkpointer(log, store, key, clock, std::move(options)));
  const std::string verifier = VerifierKeyText({checkpointer->origin_, key.public_key()}) + "\n";
  if (auto s = WriteFileAtomically(checkpointer->key_file_, verifier); !s) {
    return std::unexpected(s.error());
  }
  ::chmod(checkpointer->key_file_.c_str(), 0644);  // public: operators and witnesses read it
  if (auto first = checkpointer->CheckpointNow(); !first) return std::unexpected(first.error());
  checkpointer->timer_ = std::thread([raw = checkpointer.get()] { raw->RunTimer(); });
  return checkpointer;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable()) timer_.join();
  if (auto last = CheckpointNow(); !last) {
    log::Error("audit_checkpoint_failed", {{"detail", std::string_view(last.error().message())}});
  }
  // Give the last hand-off a moment to finish so it is not left behind as a zombie.
  std::lock_guard lock(mutex_);
  for (int i = 0; child_ > 0 && i < 100; ++i) {
    if (::waitpid(child_, nullptr, WNOHANG) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Checkpointer::RunTimer() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, options_.interval, [&] { return stopping_; })) break;
    lock.unlock();
    if (auto signed_note = CheckpointNow(); !signed_note) {
      log::Error("audit_checkpoint_failed",
                 {{"detail", std::string_view(signed_note.error().message())}});
    }
    lock.lock();
  }
}

Result<std::string> Checkpointer::CheckpointNow() {
  std::lock_guard lock(mutex_);
  auto head = log_.Head();
  if (!head) return std::unexpected(head.error());
  const Timestamp now = clock_.Now();
  Checkpoint checkpoint{origin_, head->size, head->root, {TimeLine(now)}};
  auto note = SignCheckpoint(checkpoint, key_);
  if (!note) return note;
  // One stored checkpoint per size: another process may have signed this size already.
  Status stored = store_.Transact([&](store::Transaction& tx) -> Status {
    auto inserted = tx.InsertAuditCheckpoint({static_cast<std::int64_t>(head->size), now, *note});
    if (!inserted && inserted.error().code() == ErrorCode::kAlreadyExists) return {};
    return inserted;
  });
  if (!stored) return std::unexpected(stored.error());
  if (auto written = WriteFileAtomically(file_, *note); !written) {
    return std::unexpected(written.error());
  }
  log::Info("audit_checkpoint", {{"size", static_cast<std::int64_t>(head->size)}});
  HandToCommand();
  return note;
}

// Called with mutex_ held. Reaps the previous run first; a command still running is left to
// finish (the new checkpoint file is already in place for its next run).
void Checkpointer::HandToCommand() {
  if (!options_.command) return;
  if (child_ > 0) {
    int status = 0;
    const pid_t done = ::waitpid(child_, &status, WNOHANG);
    if (done == 0) {
      log::Warning("audit_checkpoint_command_busy");
      return;
    }
    if (done == child_ && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      log::Error("audit_checkpoint_command_failed",
                 {{"status", std::int64_t{WIFEXITED(status) ? WEXITSTATUS(status) : -1}}});
    }
    child_ = -1;
  }
  const std::string program = options_.command->string();
  const std::string argument = file_.string();
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(argument.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
  if (rc != 0) {
    log::Error("audit_checkpoint_command_failed", {{"errno", std::int64_t{rc}}});
    return;
  }
  child_ = pid;
}

}  // namespace medvault::audit
