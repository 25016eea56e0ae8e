// A Clock that tests set and advance by hand, so that expiries and time windows are exact.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace medvault::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp(std::chrono::seconds(1'767'225'600)))
      : now_(start.time_since_epoch().count()) {}

  Timestamp Now() const override { return Timestamp(std::chrono::microseconds(now_.load())); }
  void Set(Timestamp when) { now_ = when.time_since_epoch().count(); }
  void Advance(std::chrono::microseconds by) { now_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_;  // microseconds since the epoch
};

}  // namespace medvault::testing
