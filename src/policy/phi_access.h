// The capability to turn stored health data back into plaintext (STYLE.md rule 5, Tink's
// SecretKeyAccess). Every function that decrypts a patient's data takes a `const PhiAccess&`,
// so code that reads health data without one does not compile, and every such place is
// found with one grep.
//
// Minting. The constructor is private. The access-policy decider (issue 8) mints one per
// authorized request, after the audit log has durably recorded the decision. Until then the
// only other minter is PhiAccessForTesting, which tests and benchmarks define for
// themselves; product code never names it.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace medvault::policy {

class PhiAccess {
 public:
  PhiAccess(PhiAccess&&) = default;
  PhiAccess& operator=(PhiAccess&&) = default;
  PhiAccess(const PhiAccess&) = delete;
  PhiAccess& operator=(const PhiAccess&) = delete;

  // Why the data is opened (a decision id or a test's name): for logs and alerts, no PHI.
  std::string_view purpose() const { return purpose_; }

 private:
  explicit PhiAccess(std::string purpose) : purpose_(std::move(purpose)) {}

  friend class Decider;
  friend struct PhiAccessForTesting;

  std::string purpose_;
};

}  // namespace medvault::policy
