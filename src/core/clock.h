// Wall-clock time, injected so that tests are exact (STYLE.md rule 11): code that needs "now"
// takes a `const Clock&`; the server passes SystemClock, tests a clock they set and advance.
// Instants are kept to the microsecond, as the store keeps them. Implementations are
// thread-safe.
#pragma once

#include <chrono>

namespace medvault {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

}  // namespace medvault
