#include "identity/throttle.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace medvault::identity {

AttemptVerdict CheckAttempt(const store::ThrottleState& state, Timestamp now) {
  if (state.disabled) return AttemptVerdict::kDisabled;
  if (now < state.next_allowed_at) return AttemptVerdict::kWait;
  return AttemptVerdict::kAllowed;
}

store::ThrottleState AfterFailure(store::ThrottleState state, Timestamp now,
                                  const AccountThrottlePolicy& policy) {
  state.consecutive_failures += 1;
  if (state.consecutive_failures >= policy.disable_after) state.disabled = true;
  const std::int64_t beyond = state.consecutive_failures - policy.free_failures;
  if (beyond > 0) {
    const std::int64_t shift = std::min<std::int64_t>(beyond - 1, 30);
    const auto delay = std::min<std::chrono::seconds>(
        policy.first_delay * (std::int64_t{1} << shift), policy.max_delay);
    state.next_allowed_at = now + delay;
  }
  return state;
}

std::chrono::seconds SourceThrottle::Take(std::string_view source, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(source));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_sources) {
      // Forget the buckets that have refilled: they hold no information.
      std::erase_if(buckets_, [&](const auto& entry) {
        const double seconds = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + seconds * options_.refill_per_second >= options_.capacity;
      });
      if (buckets_.size() >= options_.max_sources) buckets_.clear();
    }
    it = buckets_.emplace(std::string(source), Bucket{options_.capacity, now}).first;
  }
  Bucket& bucket = it->second;
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - bucket.updated).count());
  bucket.tokens = std::min(options_.capacity, bucket.tokens + elapsed * options_.refill_per_second);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::chrono::seconds(0);
  }
  const double wait = (1.0 - bucket.tokens) / options_.refill_per_second;
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil(wait)));
}

bool StuffingDetector::RecordUnfinished(std::string_view source, std::string_view account_key,
                                        Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(std::string(source));
  if (it == windows_.end()) {
    if (windows_.size() >= options_.max_sources) {
      std::erase_if(windows_, [&](const auto& entry) {
        return now - entry.second.started >= options_.window;
      });
      if (windows_.size() >= options_.max_sources) windows_.clear();
    }
    it = windows_.emplace(std::string(source), Window{now, {}, false}).first;
  }
  Window& window = it->second;
  if (now - window.started >= options_.window) window = Window{now, {}, false};
  if (window.accounts.size() < options_.distinct_accounts) {
    window.accounts.insert(std::hash<std::string_view>{}(account_key));
  }
  if (!window.alerted && window.accounts.size() >= options_.distinct_accounts) {
    window.alerted = true;
    return true;
  }
  return false;
}

void StuffingDetector::RecordFinished(std::string_view source, std::string_view account_key) {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(std::string(source));
  if (it != windows_.end()) it->second.accounts.erase(std::hash<std::string_view>{}(account_key));
}

}  // namespace medvault::identity
