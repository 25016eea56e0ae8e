// The exfiltration guard (issue 8, case 3 of THREATS.md: one account read 758,912 patients and
// nothing stopped it). An AccessGate: per account and per sliding window (the last minute,
// hour and day) it counts the distinct patients whose data the account opened, the records and
// bytes it was given and the searches it ran, against budgets set per role.
//
//   near a budget (step_up_percent of it, 80% by default): the access is refused with
//     kUnauthenticated until the session gives a fresh second factor (a step-up after the
//     guard asked); then the account goes on up to the budget.
//   over a budget, a search wider than the role's breadth, or any touch of a canary patient
//     (a honeytoken no one has a reason to open): the account is suspended at once (its
//     account status, its sessions, an API client's access tokens), an alert is stored
//     ("exfiltration_suspected" or "canary_touched"; ids and counts only), and this and every
//     later access is refused with kPermissionDenied until an administrator reinstates it
//     (Reinstate, `medvault user reinstate`).
//
// Counts live in the store (migration 008_guard), so every medvault process on one database
// shares them. The read path stays cheap: an access that names no patient the process has not
// recorded in the last `patient_refresh`, that stays within every budget by the process's own
// reckoning and that comes less than `sync_interval` after the account's last round, is added
// to the account's pending counts in memory; every other access is one store transaction (the
// account's row taken first, so rounds of one account from any process queue, none is lost).
// A refused access still counts: a scraper refused at the step-up keeps counting until it is
// suspended.
//
// Counted: reads, histories and exports of the clinical types, and each search by its results
// (the patients, records and breadth of what it returns); not writes, not the directory types
// Organization, Practitioner, PractitionerRole, not AuditEvent. Nor the reads of an approved
// bulk export (client identity::kBulkExportClient): a second person approved them and the
// file is sealed and watermarked (records/bulk_export.h); they touch every patient, canaries
// included. A suspended account's export is still refused.
//
// Thread-safe; the store and clock must outlive the guard. A store failure refuses the access
// (kUnavailable): no answer leaves uncounted.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "policy/decider.h"
#include "store/store.h"

namespace medvault::policy {

// A role's budgets. Each array is per window: the last minute, hour and day; 0 means not
// limited. `breadth`: most distinct patients in the results of one search (0: not limited).
struct GuardLimits {
  std::array<std::int64_t, store::kGuardWindows> patients{};
  std::array<std::int64_t, store::kGuardWindows> records{};
  std::array<std::int64_t, store::kGuardWindows> bytes{};
  std::array<std::int64_t, store::kGuardWindows> searches{};
  std::int64_t breadth = 0;
};

// Budgets per role. Administrators and auditors read no counted type, so they have none.
struct GuardBudgets {
  GuardLimits clinician;
  GuardLimits lab_technician;
  GuardLimits patient;
  GuardLimits integration;
};

// The defaults (README, "The exfiltration guard", says why).
GuardBudgets DefaultGuardBudgets();

// Parses "patients 30/60/150, records 600/4000/12000, bytes 16M/128M/512M, searches
// 60/600/3000, breadth 30" over `base`: the metrics named replace base's, the others stay.
// Sizes take K, M or G (1024-based). kInvalidArgument saying what is wrong.
Result<GuardLimits> ParseGuardLimits(std::string_view text, const GuardLimits& base);
// The text form ParseGuardLimits reads.
std::string GuardLimitsText(const GuardLimits& limits);

class ExfiltrationGuard final : public AccessGate {
 public:
  struct Options {
    GuardBudgets budgets = DefaultGuardBudgets();
    std::int64_t step_up_percent = 80;  // 0 or 100 and above: no step-up, only suspension
    std::vector<std::string> canaries;  // patient ids no one has a reason to open
    // How long an account's counts may stay in this process only.
    std::chrono::milliseconds sync_interval{1000};
    // A patient seen again within this is not written again (its last-seen time may lag).
    std::chrono::milliseconds patient_refresh{10'000};
  };
  // The options `[guard]` asks for; kInvalidArgument naming the key that is wrong.
  static Result<Options> OptionsFrom(const GuardConfig& config);

  // Called once for each alert the guard stores (after it is stored), e.g. to log it and post
  // it to a webhook; must not block.
  using AlertSink = std::function<void(const store::Alert&)>;

  ExfiltrationGuard(store::Store& store, const Clock& clock, Options options, AlertSink sink);

  Status Admit(const Principal& principal, const AccessRequest& request) override;
  Status AdmitResults(const Principal& principal, std::string_view resource_type,
                      std::span<const std::string> resource_ids,
                      std::span<const std::string> patient_ids) override;
  Status AdmitBytes(const Principal& principal, std::size_t bytes) override;

  // The budgets of a role (all zero: not limited).
  const GuardLimits& LimitsOf(audit::Role role) const;

  // Lifts a suspension: the account's guard state and counts are forgotten and a suspended
  // account becomes active again (its owner logs in again with both factors). Returns whether
  // the account was suspended. A guard in another process notices at the account's next
  // access (it reads the state again before refusing a suspended account).
  static Result<bool> Reinstate(store::Store& store, std::string_view account_id, Timestamp now);

 private:
  struct Usage {
    std::vector<std::string> patients;  // distinct, non-empty
    std::int64_t records = 0;
    std::int64_t bytes = 0;
    std::int64_t searches = 0;
    std::int64_t breadth = 0;  // distinct patients of one search's results
  };
  // An access waiting for its round in the store (on its caller's stack).
  struct RoundMember {
    store::GuardAccess access;               // its patients and counts; the round fills in the rest
    std::optional<store::GuardTally> tally;  // the counts as of this access, once done
    Status status;
    bool done = false;
  };
  // What this process holds of one account. Its rounds in the store run one at a time, and
  // the accesses that need one while another runs wait together for the next: it records each
  // of them in turn, in one transaction, and reads back the counts as of each (so each is
  // judged as if alone). The mutex is not held during a round.
  struct Local {
    std::mutex mutex;
    bool suspended = false;
    std::array<store::GuardWindowCounts, store::kGuardWindows> counts{};  // as of the last round
    store::GuardWindowCounts pending;  // not in the store yet
    std::unordered_map<std::string, Timestamp> written;  // patient -> last-seen time written
    Timestamp synced_at;
    std::vector<RoundMember*> queued;  // for the next round
    bool round_running = false;
    std::condition_variable round_ended;
  };

  Status Account(const Principal& principal, Usage usage);
  // One round for `local` (its lock held on entry and on return, released during the store
  // transaction): the members queued, and what was pending with the first of them.
  void RunRound(const Principal& principal, Local& local, std::unique_lock<std::mutex>& lock,
                Timestamp now);
  std::shared_ptr<Local> LocalOf(const std::string& account_id);
  Status Suspend(const Principal& principal, Local& local, Timestamp now, std::string_view kind,
                 std::string reason);
  std::array<store::GuardWindowSpan, store::kGuardWindows> Windows(Timestamp now) const;

  store::Store& store_;
  const Clock& clock_;
  Options options_;
  AlertSink sink_;
  std::set<std::string, std::less<>> canaries_;
  std::mutex locals_mutex_;
  // Shared with the requests in flight: the map is cleared when it grows too large.
  std::unordered_map<std::string, std::shared_ptr<Local>> locals_;
  std::atomic<Timestamp> pruned_at_{Timestamp{}};
};

}  // namespace medvault::policy
