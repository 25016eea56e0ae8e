// The one way tests and benchmarks mint a PhiAccess without the policy decider.
#pragma once

#include <string>

#include "policy/phi_access.h"

namespace medvault::policy {

struct PhiAccessForTesting {
  static PhiAccess Grant(std::string purpose = "test") { return PhiAccess(std::move(purpose)); }
};

}  // namespace medvault::policy
