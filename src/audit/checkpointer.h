// The server's checkpointer: signs the audit log's head at a fixed interval and at shutdown,
// keeps each new checkpoint in the store, writes the latest one atomically to a directory
// outside the data directory (DIR/checkpoint, beside the verifier key DIR/medvault.pub), and
// optionally hands the file's path to an operator's command (to ship it to another machine or a
// witness). The command runs without a shell, is never waited for on the serving path, and its
// failure is logged.
//
// Thread safety: CheckpointNow may be called from any thread; the timer runs on its own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "audit/audit_log.h"
#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/error.h"
#include "crypto/signing.h"
#include "store/store.h"

namespace medvault::audit {

class Checkpointer {
 public:
  struct Options {
    std::filesystem::path dir;  // created 0700 if missing
    std::chrono::milliseconds interval{60'000};
    std::optional<std::filesystem::path> command;  // run as: command <checkpoint file>
  };

  // Writes the verifier key and a first checkpoint, then starts the timer. `log`, `store`,
  // `key` and `clock` must outlive the checkpointer.
  static Result<std::unique_ptr<Checkpointer>> Start(AuditLog& log, store::Store& store,
                                                     const crypto::SigningKey& key,
                                                     const Clock& clock, Options options);
  // Stops the timer and writes a last checkpoint.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Signs the current head now; returns the signed note.
  Result<std::string> CheckpointNow();

  const std::filesystem::path& checkpoint_file() const { return file_; }
  const std::filesystem::path& verifier_key_file() const { return key_file_; }

 private:
  Checkpointer(AuditLog& log, store::Store& store, const crypto::SigningKey& key,
               const Clock& clock, Options options);
  void RunTimer();
  void HandToCommand();

  AuditLog& log_;
  store::Store& store_;
  const crypto::SigningKey& key_;
  const Clock& clock_;
  Options options_;
  std::string origin_;
  std::filesystem::path file_;
  std::filesystem::path key_file_;
  std::mutex mutex_;  // one checkpoint at a time; guards stopping_ and child_
  std::condition_variable wake_;
  bool stopping_ = false;
  pid_t child_ = -1;  // the command still running, if any
  std::thread timer_;
};

// Writes `text` to `path` atomically (temporary file, fsync, rename, fsync of the directory),
// mode 0600.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view text);

}  // namespace medvault::audit
