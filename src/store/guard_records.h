// The rows of the exfiltration guard's tables (migration 008_guard): per-account counters in
// time buckets, the last time each account saw each patient, and the account's guard state
// (suspension, pending step-up challenge). Part of the store's public interface (included by
// store/store.h). Ids and counts only: nothing here comes from a record's content.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace medvault::store {

// The guard's three sliding windows: the last minute, hour and day.
inline constexpr std::size_t kGuardWindows = 3;

// What one window of an account counts.
struct GuardWindowCounts {
  std::int64_t patients = 0;  // distinct patients seen in the window
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::int64_t searches = 0;
};

// One window as the store reads it: counters are added to the bucket starting at
// `bucket_start` and summed over the buckets starting at or after `since`; patients count
// when last seen at or after `since`.
struct GuardWindowSpan {
  Timestamp bucket_start;
  Timestamp since;
};

// An account's guard state.
struct GuardState {
  Timestamp suspended_at;     // epoch: not suspended
  std::string reason;         // a fixed sentence with counts, no record content
  Timestamp challenged_at;    // epoch: no step-up asked; else a second factor after this
};

// One round of the guard for an account: marks `patients` seen at `at`, adds the deltas to
// each window's current bucket, and reads back the state and every window's counts.
struct GuardAccess {
  std::string account_id;
  Timestamp at;
  std::vector<std::string> patients;
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::int64_t searches = 0;
  std::array<GuardWindowSpan, kGuardWindows> windows;
  // Which counts are read back: the distinct patients (a scan of the account's patients seen
  // in the last day) and the sums of records, bytes and searches. A count no budget limits is
  // left zero; what the round marks and adds is written either way.
  bool count_patients = true;
  bool sum_counts = true;
};

struct GuardTally {
  GuardState state;
  std::array<GuardWindowCounts, kGuardWindows> counts;
};

}  // namespace medvault::store
