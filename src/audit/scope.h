// The breach scope of one account over a time window: every patient whose data the account
// read or changed (successful read, search, create, update, delete, break-the-glass and export
// entries), with the number of records per resource type. What `medvault audit scope` prints
// and GET /audit/scope answers.
//
// Counting: an entry naming one patient counts its resources (at least 1) for that patient;
// an entry naming several patients counts 1 for each. `records` sums every counted entry's
// resources (at least 1 each); `entries` is the number of entries counted.
//
// Thread-safe as the log is. Failures: kInvalidArgument for an empty account or to <= from;
// the log's errors otherwise (kUnavailable, kDataLoss).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/error.h"

namespace medvault::audit {

struct BreachScope {
  // patient id -> resource type ("(unspecified)" when the entry names none) -> count.
  std::map<std::string, std::map<std::string, std::uint64_t>> patients;
  std::uint64_t records = 0;
  std::uint64_t entries = 0;
  std::set<std::string> categories;  // the resource types touched
};

// Times as the scope is asked for them, in UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z.
// kInvalidArgument otherwise.
Result<Timestamp> ParseIsoTime(std::string_view text);

Result<BreachScope> ComputeBreachScope(AuditLog& log, const std::string& account, Timestamp from,
                                       Timestamp to);

}  // namespace medvault::audit
