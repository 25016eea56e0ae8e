#include "audit/scope.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

namespace medvault::audit {
namespace {

bool ReadsOrChangesData(Action action) {
  switch (action) {
    case Action::kRead:
    case Action::kSearch:
    case Action::kCreate:
    case Action::kUpdate:
    case Action::kDelete:
    case Action::kBreakTheGlass:
    case Action::kExport:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<BreachScope> ComputeBreachScope(AuditLog& log, const std::string& account, Timestamp from,
                                       Timestamp to) {
  if (account.empty()) return Fail(ErrorCode::kInvalidArgument, "breach scope: no account");
  if (to <= from) return Fail(ErrorCode::kInvalidArgument, "breach scope: to must be after from");
  BreachScope scope;
  std::optional<std::uint64_t> after;
  for (;;) {
    auto page = log.Find({Search::By::kAccount, account, from, to, after, 1000});
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    after = page->back().index;
    for (const Entry& entry : *page) {
      if (!ReadsOrChangesData(entry.action) || entry.outcome != Outcome::kSuccess) continue;
      ++scope.entries;
      const std::string type = entry.resource_type.empty() ? "(unspecified)" : entry.resource_type;
      scope.categories.insert(type);
      const std::uint64_t count = std::max<std::size_t>(entry.resource_ids.size(), 1);
      for (const std::string& patient : entry.patient_ids) {
        scope.patients[patient][type] += entry.patient_ids.size() == 1 ? count : 1;
      }
      scope.records += count;
    }
  }
  return scope;
}

Result<Timestamp> ParseIsoTime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char tail[8] = {};
  const std::string copy(text);
  int fields = 0;
  if (copy.size() == 10) {
    fields = std::sscanf(copy.c_str(), "%4d-%2d-%2d%7s", &year, &month, &day, tail);
    if (fields != 3) fields = 0;
  } else {
    fields = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &year, &month, &day, &hour,
                         &minute, &second, tail);
    if (fields == 7 && std::string_view(tail) != "Z") fields = 0;
    if (fields < 6) {
      second = 0;
      fields = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d%7s", &year, &month, &day, &hour,
                           &minute, tail);
      fields = (fields == 6 && std::string_view(tail) == "Z") ? 6 : 0;
    }
  }
  if (fields == 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return Fail(ErrorCode::kInvalidArgument,
                "times must be ISO 8601 in UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z");
  }
  const auto date = std::chrono::year_month_day(std::chrono::year(year),
                                                std::chrono::month(static_cast<unsigned>(month)),
                                                std::chrono::day(static_cast<unsigned>(day)));
  if (!date.ok()) return Fail(ErrorCode::kInvalidArgument, "no such date");
  const auto at = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                  std::chrono::minutes(minute) + std::chrono::seconds(second);
  return std::chrono::time_point_cast<std::chrono::microseconds>(at);
}

}  // namespace medvault::audit
