// Password hashing with Argon2id (libsodium crypto_pwhash, Argon2id v1.3) on a bounded pool
// of worker threads, so that the memory-hard work never runs on a network thread and a login
// flood cannot queue unbounded work.
//
// Security property: a stolen hash table does not give passwords back cheaply. Each hash is
// a PHC string "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<hash>" with a fresh random
// 128-bit salt; it holds no plaintext. The cost is at least kArgon2Floor (64 MiB, 2 passes:
// above OWASP's minimum of 19 MiB and 2 passes); Create refuses less. The parameters travel
// in each hash, so a cost raised later is reported by Verify (needs_rehash) and the caller
// rehashes at the next successful login. VerifyDummy runs the same work for an unknown
// account and never matches, so "no such user" costs the same time as "wrong password".
//
// Threading: every method may be called from any thread. Hash, Verify and VerifyDummy return
// at once; `done` runs later on a pool thread, or at once on the calling thread with
// kUnavailable when max_pending jobs are already waiting (the API answers 429 with
// Retry-After). The destructor lets running jobs finish, fails the waiting ones with
// kUnavailable and joins the workers; `done` must not destroy the hasher.
//
// Failures: kInvalidArgument for a cost below the floor or a malformed Options, kDataLoss
// for a stored hash that is not an Argon2id PHC string medvault could have written (or whose
// cost exceeds kArgon2MaxVerify*, a guard against a tampered store), kUnavailable when the
// queue is full or the hasher shuts down, kInternal if libsodium fails (out of memory).
// A wrong password is not a failure: Verdict::match is false.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::identity {

struct Argon2Cost {
  std::uint64_t memory_kib = 65536;  // 64 MiB
  std::uint32_t iterations = 2;
};
inline constexpr Argon2Cost kArgon2Floor{};
// Stored hashes asking for more than this are refused rather than run.
inline constexpr std::uint64_t kArgon2MaxVerifyMemoryKib = 4 * 1024 * 1024;  // 4 GiB
inline constexpr std::uint32_t kArgon2MaxVerifyIterations = 64;

class PasswordHasher {
 public:
  struct Options {
    Argon2Cost cost;
    std::size_t threads = 2;       // each runs one hash at a time, using cost.memory_kib
    std::size_t max_pending = 32;  // jobs waiting for a thread, beyond those running
    // The workers' nice value (Linux: per thread), above the network threads' 0, so that the
    // scheduler serves an authenticated request before the next slice of a login flood's
    // hashing: logins slow down under load, other requests do not.
    int worker_nice = 10;
  };
  struct Verdict {
    bool match = false;
    bool needs_rehash = false;  // only meaningful with match: the hash has another cost
  };

  // Starts the workers and computes the dummy hash VerifyDummy checks against.
  static Result<std::unique_ptr<PasswordHasher>> Create(Options options);
  ~PasswordHasher();
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // The PHC string of `password` at the configured cost.
  void Hash(Secret password, std::function<void(Result<std::string>)> done);
  // The PHC strings of several secrets, in order, as one job (recovery codes).
  void HashAll(std::vector<Secret> passwords,
               std::function<void(Result<std::vector<std::string>>)> done);
  // Checks `password` against a stored PHC string in constant time.
  void Verify(std::string encoded, Secret password, std::function<void(Result<Verdict>)> done);
  // The same work as Verify against a hash of no password: never matches.
  void VerifyDummy(Secret password, std::function<void(Result<Verdict>)> done);

  // Blocking forms, on the calling thread, for the CLI (never on a network thread).
  Result<std::string> HashNow(const Secret& password) const;
  Result<Verdict> VerifyNow(std::string_view encoded, const Secret& password) const;

  const Argon2Cost& cost() const { return options_.cost; }

 private:
  using Job = std::function<void(Status runnable)>;  // runnable: ok, or why it cannot run

  explicit PasswordHasher(Options options);
  void Submit(Job job);
  void WorkerLoop();

  Options options_;
  std::string dummy_encoded_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> pending_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace medvault::identity
