// Throttling of password guesses, in three layers (NIST SP 800-63B rev 4, 3.2.2):
//  - per account: after kFreeFailures consecutive failures each further attempt must wait
//    an exponentially growing delay, and after kDisableAfter consecutive failures the
//    account is disabled until an administrator resets it (state in the store, so every
//    medvault process sharing the database sees it);
//  - per source address: a token bucket, in memory;
//  - a credential-stuffing detector: one source trying many different accounts without
//    finishing a login raises an alert.
// A throttled or disabled account gets the same answer as a wrong password (no
// enumeration); only the source bucket answers "slow down" (429), since it names no account.
// The global bound on concurrent hashing is the PasswordHasher's queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "store/identity_records.h"

namespace medvault::identity {

struct AccountThrottlePolicy {
  std::int64_t free_failures = 5;
  std::chrono::seconds first_delay{1};  // doubles with each failure beyond the free ones
  std::chrono::seconds max_delay{std::chrono::minutes(15)};
  std::int64_t disable_after = 100;
};

enum class AttemptVerdict { kAllowed, kWait, kDisabled };

// Whether an attempt on an account in `state` may check a password at `now`.
AttemptVerdict CheckAttempt(const store::ThrottleState& state, Timestamp now);

// The state after one more failed attempt at `now`.
store::ThrottleState AfterFailure(store::ThrottleState state, Timestamp now,
                                  const AccountThrottlePolicy& policy);

// Per-source token bucket. Thread-safe; holds at most max_sources buckets (the fullest ones
// are forgotten first, which only ever favours the client).
class SourceThrottle {
 public:
  struct Options {
    double capacity = 30;            // attempts in a burst
    double refill_per_second = 0.5;  // sustained attempts per second
    std::size_t max_sources = 100'000;
  };
  explicit SourceThrottle(Options options) : options_(options) {}

  // Takes one token: zero when allowed, else how long to wait (rounded up to a second).
  std::chrono::seconds Take(std::string_view source, Timestamp now);

 private:
  struct Bucket {
    double tokens;
    Timestamp updated;
  };
  Options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// Counts, per source, the distinct accounts tried without finishing a login within a window.
// Thread-safe; bounded memory (at most `distinct_accounts` names kept per source, as hashes).
class StuffingDetector {
 public:
  struct Options {
    std::size_t distinct_accounts = 20;
    std::chrono::seconds window{std::chrono::minutes(10)};
    std::size_t max_sources = 100'000;
  };
  explicit StuffingDetector(Options options) : options_(options) {}

  // Records an unfinished attempt on `account_key` (any stable key: the folded login).
  // Returns true once per window and source, when the threshold is reached.
  bool RecordUnfinished(std::string_view source, std::string_view account_key, Timestamp now);
  // A finished login: that account no longer counts for that source.
  void RecordFinished(std::string_view source, std::string_view account_key);

 private:
  struct Window {
    Timestamp started;
    std::unordered_set<std::uint64_t> accounts;
    bool alerted = false;
  };
  Options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace medvault::identity
