#include "policy/guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/config.h"
#include "core/log.h"
#include "identity/accounts.h"
#include "identity/api_clients.h"

namespace medvault::policy {
namespace {

using audit::Role;
using std::chrono::seconds;

constexpr std::array<std::string_view, store::kGuardWindows> kWindowNames = {"minute", "hour",
                                                                             "day"};
constexpr std::array<std::chrono::microseconds, store::kGuardWindows> kWindowLengths = {
    seconds(60), seconds(3600), seconds(86400)};
// Counters are kept per bucket; a window sums the buckets that started within it, so it
// slides by a bucket at a time.
constexpr std::array<std::chrono::microseconds, store::kGuardWindows> kBucketLengths = {
    seconds(5), seconds(60), seconds(1800)};
// Accounts this process remembers before it forgets them all (they are read again).
constexpr std::size_t kMaxLocalAccounts = 10'000;
// Patients remembered per account before the memory is cleared (they are written again).
constexpr std::size_t kMaxWrittenPatients = 4096;
constexpr auto kPruneInterval = std::chrono::minutes(10);

constexpr std::string_view kSuspended =
    "guard: this account is suspended: the exfiltration guard stopped it and raised an alert. "
    "An administrator must reinstate it (medvault user reinstate LOGIN).";
constexpr std::string_view kStepUp =
    "guard: this account is near its access budget: give a fresh second factor (POST "
    "/auth/step-up/totp or /auth/step-up/passkey), then retry.";

constexpr std::string_view kKindBudget = "exfiltration_suspected";
constexpr std::string_view kKindCanary = "canary_touched";

bool IsCountedType(std::string_view type) {
  return type != "Organization" && type != "Practitioner" && type != "PractitionerRole" &&
         type != "AuditEvent";
}

bool IsCountedOperation(Operation operation) {
  return operation == Operation::kRead || operation == Operation::kSearch ||
         operation == Operation::kHistory || operation == Operation::kExport;
}

std::vector<std::string> DistinctPatients(std::span<const std::string> patient_ids) {
  std::vector<std::string> out;
  for (const std::string& id : patient_ids) {
    if (!id.empty() && std::ranges::find(out, id) == out.end()) out.push_back(id);
  }
  return out;
}

enum class Standing { kWithin, kNear, kOver };

struct Judgement {
  Standing standing = Standing::kWithin;
  std::string what;  // the count that decided, e.g. "distinct patients 31 in the last minute"
};

Judgement Judge(const GuardLimits& limits,
                const std::array<store::GuardWindowCounts, store::kGuardWindows>& counts,
                std::int64_t step_up_percent) {
  Judgement judgement;
  for (std::size_t w = 0; w < store::kGuardWindows; ++w) {
    const std::pair<std::string_view, std::pair<std::int64_t, std::int64_t>> metrics[] = {
        {"distinct patients", {counts[w].patients, limits.patients[w]}},
        {"records", {counts[w].records, limits.records[w]}},
        {"bytes", {counts[w].bytes, limits.bytes[w]}},
        {"searches", {counts[w].searches, limits.searches[w]}},
    };
    for (const auto& [name, values] : metrics) {
      const auto [count, budget] = values;
      if (budget <= 0) continue;
      Standing standing = Standing::kWithin;
      if (count > budget) {
        standing = Standing::kOver;
      } else if (step_up_percent > 0 && step_up_percent < 100 &&
                 count * 100 >= budget * step_up_percent) {
        standing = Standing::kNear;
      }
      if (standing > judgement.standing) {
        judgement.standing = standing;
        judgement.what =
            fmt::format("{} {} in the last {} (budget {})", name, count, kWindowNames[w], budget);
      }
    }
  }
  return judgement;
}

std::array<store::GuardWindowCounts, store::kGuardWindows> WithPending(
    std::array<store::GuardWindowCounts, store::kGuardWindows> counts,
    const store::GuardWindowCounts& pending) {
  for (store::GuardWindowCounts& window : counts) {
    window.patients += pending.patients;
    window.records += pending.records;
    window.bytes += pending.bytes;
    window.searches += pending.searches;
  }
  return counts;
}

constexpr std::int64_t kMiB = 1024 * 1024;

Result<std::int64_t> ParseAmount(std::string_view text) {
  std::int64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
        scale = 1024;
        break;
      case 'M':
        scale = kMiB;
        break;
      case 'G':
        scale = 1024 * kMiB;
        break;
      default:
        break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > (std::int64_t{1} << 50) / scale) {
    return Fail(ErrorCode::kInvalidArgument, "a budget must be a non-negative whole number");
  }
  return value * scale;
}

std::string AmountText(std::int64_t value) {
  if (value != 0 && value % (1024 * kMiB) == 0) return fmt::format("{}G", value / (1024 * kMiB));
  if (value != 0 && value % kMiB == 0) return fmt::format("{}M", value / kMiB);
  return std::to_string(value);
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

GuardBudgets DefaultGuardBudgets() {
  // The texts are the configuration's defaults (core/config.h), which are well-formed.
  const auto parse = [](const char* text) { return ParseGuardLimits(text, GuardLimits{}).value(); };
  return GuardBudgets{parse(kGuardClinicianDefault), parse(kGuardLabTechnicianDefault),
                      parse(kGuardPatientDefault), parse(kGuardIntegrationDefault)};
}

Result<GuardLimits> ParseGuardLimits(std::string_view text, const GuardLimits& base) {
  GuardLimits limits = base;
  while (!Trim(text).empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t space = item.find(' ');
    const std::string_view name = item.substr(0, space);
    const std::string_view values =
        space == std::string_view::npos ? std::string_view() : Trim(item.substr(space + 1));
    const auto bad = [&](std::string_view why) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("guard budget '{}': {} (write e.g. \"patients 30/60/150, bytes "
                              "16M/128M/512M, breadth 30\")",
                              item, why));
    };
    if (name == "breadth") {
      auto amount = ParseAmount(values);
      if (!amount) return bad(amount.error().message());
      limits.breadth = *amount;
      continue;
    }
    std::array<std::int64_t, store::kGuardWindows>* target = nullptr;
    if (name == "patients") target = &limits.patients;
    if (name == "records") target = &limits.records;
    if (name == "bytes") target = &limits.bytes;
    if (name == "searches") target = &limits.searches;
    if (target == nullptr) return bad("the metric must be patients, records, bytes, searches or breadth");
    std::string_view rest = values;
    for (std::size_t w = 0; w < store::kGuardWindows; ++w) {
      const std::size_t slash = rest.find('/');
      if ((slash == std::string_view::npos) != (w + 1 == store::kGuardWindows)) {
        return bad("give three budgets, per minute/hour/day");
      }
      auto amount = ParseAmount(rest.substr(0, slash));
      if (!amount) return bad(amount.error().message());
      (*target)[w] = *amount;
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
  }
  return limits;
}

std::string GuardLimitsText(const GuardLimits& limits) {
  const auto triple = [](const std::array<std::int64_t, store::kGuardWindows>& values) {
    return fmt::format("{}/{}/{}", AmountText(values[0]), AmountText(values[1]),
                       AmountText(values[2]));
  };
  return fmt::format("patients {}, records {}, bytes {}, searches {}, breadth {}",
                     triple(limits.patients), triple(limits.records), triple(limits.bytes),
                     triple(limits.searches), AmountText(limits.breadth));
}

Result<ExfiltrationGuard::Options> ExfiltrationGuard::OptionsFrom(const GuardConfig& config) {
  Options options;
  const std::pair<const std::string*, GuardLimits*> roles[] = {
      {&config.clinician, &options.budgets.clinician},
      {&config.lab_technician, &options.budgets.lab_technician},
      {&config.patient, &options.budgets.patient},
      {&config.integration, &options.budgets.integration},
  };
  const std::string_view names[] = {"clinician", "lab_technician", "patient", "integration"};
  for (std::size_t i = 0; i < std::size(roles); ++i) {
    auto limits = ParseGuardLimits(*roles[i].first, *roles[i].second);
    if (!limits) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("guard.{}: {}", names[i], limits.error().message()));
    }
    *roles[i].second = *limits;
  }
  if (config.step_up_percent > 100) {
    return Fail(ErrorCode::kInvalidArgument, "guard.step_up_percent: must be 0 to 100");
  }
  options.step_up_percent = static_cast<std::int64_t>(config.step_up_percent);
  std::string_view canaries = config.canaries;
  while (!canaries.empty()) {
    const std::size_t space = canaries.find(' ');
    const std::string_view id = canaries.substr(0, space);
    if (id.size() > store::kMaxNameBytes) {
      return Fail(ErrorCode::kInvalidArgument, "guard.canaries: a patient id is too long");
    }
    if (!id.empty()) options.canaries.emplace_back(id);
    if (space == std::string_view::npos) break;
    canaries.remove_prefix(space + 1);
  }
  return options;
}

ExfiltrationGuard::ExfiltrationGuard(store::Store& store, const Clock& clock, Options options,
                                     AlertSink sink)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      sink_(std::move(sink)),
      canaries_(options_.canaries.begin(), options_.canaries.end()) {}

const GuardLimits& ExfiltrationGuard::LimitsOf(Role role) const {
  static const GuardLimits kNone;
  switch (role) {
    case Role::kClinician:
      return options_.budgets.clinician;
    case Role::kLabTechnician:
      return options_.budgets.lab_technician;
    case Role::kPatient:
      return options_.budgets.patient;
    case Role::kIntegration:
      return options_.budgets.integration;
    case Role::kAdministrator:
    case Role::kAuditor:
    case Role::kNone:
    case Role::kOperator:
      break;
  }
  return kNone;
}

Status ExfiltrationGuard::Admit(const Principal& principal, const AccessRequest& request) {
  // A search is counted by its results (AdmitResults): the patients its decisions name are
  // the candidates it decrypts to filter, not what leaves.
  if (!IsCountedOperation(request.operation) || request.operation == Operation::kSearch ||
      !IsCountedType(request.resource_type)) {
    return {};
  }
  Usage usage;
  usage.patients = DistinctPatients(request.patient_ids);
  usage.records = std::max<std::int64_t>(1, static_cast<std::int64_t>(request.resource_ids.size()));
  return Account(principal, std::move(usage));
}

Status ExfiltrationGuard::AdmitResults(const Principal& principal, std::string_view resource_type,
                                       std::span<const std::string> resource_ids,
                                       std::span<const std::string> patient_ids) {
  if (!IsCountedType(resource_type)) return {};
  Usage usage;
  usage.patients = DistinctPatients(patient_ids);
  usage.records = static_cast<std::int64_t>(resource_ids.size());
  usage.searches = 1;
  usage.breadth = static_cast<std::int64_t>(usage.patients.size());
  return Account(principal, std::move(usage));
}

Status ExfiltrationGuard::AdmitBytes(const Principal& principal, std::size_t bytes) {
  if (bytes == 0) return {};
  Usage usage;
  usage.bytes = static_cast<std::int64_t>(bytes);
  return Account(principal, std::move(usage));
}

std::shared_ptr<ExfiltrationGuard::Local> ExfiltrationGuard::LocalOf(
    const std::string& account_id) {
  std::lock_guard lock(locals_mutex_);
  auto it = locals_.find(account_id);
  if (it != locals_.end()) return it->second;
  if (locals_.size() >= kMaxLocalAccounts) locals_.clear();
  return locals_.emplace(account_id, std::make_shared<Local>()).first->second;
}

std::array<store::GuardWindowSpan, store::kGuardWindows> ExfiltrationGuard::Windows(
    Timestamp now) const {
  std::array<store::GuardWindowSpan, store::kGuardWindows> windows;
  for (std::size_t w = 0; w < store::kGuardWindows; ++w) {
    const auto bucket = kBucketLengths[w];
    const Timestamp start(now.time_since_epoch() - now.time_since_epoch() % bucket);
    windows[w] = {start, start - (kWindowLengths[w] - bucket)};
  }
  return windows;
}

Status ExfiltrationGuard::Account(const Principal& principal, Usage usage) {
  const GuardLimits& limits = LimitsOf(principal.role);
  const Timestamp now = clock_.Now();
  std::shared_ptr<Local> local = LocalOf(principal.account_id);
  std::unique_lock lock(local->mutex);
  if (local->suspended) {
    // Reinstated by an administrator elsewhere? Then start afresh.
    std::optional<store::GuardState> state;
    Status read = store_.Transact(
        [&](store::Transaction& tx) -> Status {
          auto got = tx.GetGuardState(principal.account_id);
          if (!got) return std::unexpected(got.error());
          state = std::move(*got);
          return {};
        },
        store::Access::kReadOnly);
    if (!read) return read;
    if (state->suspended_at != Timestamp{}) return Fail(ErrorCode::kPermissionDenied, std::string(kSuspended));
    local->suspended = false;
    local->counts = {};
    local->pending = {};
    local->written.clear();
    local->synced_at = Timestamp{};
  }
  if (principal.client == identity::kBulkExportClient) return {};
  for (const std::string& patient : usage.patients) {
    if (canaries_.contains(patient)) {
      return Suspend(principal, *local, now, kKindCanary,
                     fmt::format("canary patient {} touched", patient));
    }
  }
  if (limits.breadth > 0 && usage.breadth > limits.breadth) {
    return Suspend(principal, *local, now, kKindBudget,
                   fmt::format("one search returned {} distinct patients (breadth budget {})",
                               usage.breadth, limits.breadth));
  }
  std::vector<std::string> fresh;
  for (std::string& patient : usage.patients) {
    auto it = local->written.find(patient);
    if (it == local->written.end() || now - it->second >= options_.patient_refresh) {
      fresh.push_back(std::move(patient));
    }
  }
  store::GuardWindowCounts estimate_pending = local->pending;
  estimate_pending.records += usage.records;
  estimate_pending.bytes += usage.bytes;
  estimate_pending.searches += usage.searches;
  estimate_pending.patients = static_cast<std::int64_t>(fresh.size());
  if (fresh.empty() && now - local->synced_at < options_.sync_interval &&
      Judge(limits, WithPending(local->counts, estimate_pending), options_.step_up_percent)
              .standing == Standing::kWithin) {
    local->pending.records += usage.records;
    local->pending.bytes += usage.bytes;
    local->pending.searches += usage.searches;
    return {};
  }

  // A round in the store: this access (with others that wait beside it), and its counts back.
  RoundMember member;
  member.access.patients = std::move(fresh);
  member.access.records = usage.records;
  member.access.bytes = usage.bytes;
  member.access.searches = usage.searches;
  local->queued.push_back(&member);
  while (!member.done) {
    if (local->round_running) {
      local->round_ended.wait(lock);
    } else {
      RunRound(principal, *local, lock, now);
    }
  }
  if (!member.status) return member.status;
  const store::GuardTally& tally = *member.tally;
  if (tally.state.suspended_at != Timestamp{}) {
    local->suspended = true;
    return Fail(ErrorCode::kPermissionDenied, std::string(kSuspended));
  }
  Judgement judgement = Judge(limits, tally.counts, options_.step_up_percent);
  const Timestamp challenged_at = tally.state.challenged_at;
  switch (judgement.standing) {
    case Standing::kOver:
      return Suspend(principal, *local, now, kKindBudget, std::move(judgement.what));
    case Standing::kNear: {
      // An API client has no second factor to give: it goes on up to the budget.
      if (principal.role == Role::kIntegration) return {};
      if (challenged_at != Timestamp{} && principal.second_factor_at > challenged_at) return {};
      if (challenged_at == Timestamp{}) {
        Status asked = store_.Transact(
            [&](store::Transaction& tx) { return tx.SetGuardChallenge(principal.account_id, now); });
        if (!asked) {
          return Fail(ErrorCode::kUnavailable, "guard: the step-up cannot be recorded now");
        }
      }
      return Fail(ErrorCode::kUnauthenticated, std::string(kStepUp));
    }
    case Standing::kWithin:
      if (challenged_at != Timestamp{}) {
        // Back under the step-up mark: the next time near asks again.
        (void)store_.Transact([&](store::Transaction& tx) {
          return tx.SetGuardChallenge(principal.account_id, Timestamp{});
        });
      }
      return {};
  }
  return {};
}

namespace {

// Accesses recorded by one round at most (one store transaction).
constexpr std::size_t kMaxRoundMembers = 256;

bool Limited(const std::array<std::int64_t, store::kGuardWindows>& budgets) {
  return std::ranges::any_of(budgets, [](std::int64_t budget) { return budget > 0; });
}

}  // namespace

void ExfiltrationGuard::RunRound(const Principal& principal, Local& local,
                                 std::unique_lock<std::mutex>& lock, Timestamp now) {
  const GuardLimits& limits = LimitsOf(principal.role);
  local.round_running = true;
  const std::size_t size = std::min(local.queued.size(), kMaxRoundMembers);
  std::vector<RoundMember*> members(local.queued.begin(), local.queued.begin() + size);
  local.queued.erase(local.queued.begin(), local.queued.begin() + size);
  // What the accesses within budget left pending goes with the first member.
  const store::GuardWindowCounts taken = std::exchange(local.pending, {});
  const auto windows = Windows(now);
  const bool count_patients = Limited(limits.patients);
  const bool sum_counts =
      Limited(limits.records) || Limited(limits.bytes) || Limited(limits.searches);
  for (std::size_t i = 0; i < members.size(); ++i) {
    store::GuardAccess& access = members[i]->access;
    access.account_id = principal.account_id;
    access.at = now;
    access.windows = windows;
    access.count_patients = count_patients;
    access.sum_counts = sum_counts;
    if (i == 0) {
      access.records += taken.records;
      access.bytes += taken.bytes;
      access.searches += taken.searches;
    }
  }
  const bool prune = now - pruned_at_.load() >= kPruneInterval;
  lock.unlock();
  std::vector<store::GuardTally> tallies;
  Status round = store_.Transact([&](store::Transaction& tx) -> Status {
    tallies.clear();
    for (RoundMember* member : members) {
      auto recorded = tx.RecordGuardAccess(member->access);
      if (!recorded) return std::unexpected(recorded.error());
      tallies.push_back(std::move(*recorded));
    }
    if (prune) {
      const Timestamp day_ago = now - kWindowLengths.back() - kBucketLengths.back();
      if (auto pruned = tx.PruneGuardCounters(day_ago, day_ago); !pruned) {
        return std::unexpected(pruned.error());
      }
    }
    return {};
  });
  lock.lock();
  local.round_running = false;
  if (!round) {
    // Counted later: what the round carried stays pending (its patients are fresh again).
    const Status failed =
        Fail(ErrorCode::kUnavailable,
             fmt::format("guard: the access cannot be counted now: {}", round.error().message()));
    for (RoundMember* member : members) {
      local.pending.records += member->access.records;
      local.pending.bytes += member->access.bytes;
      local.pending.searches += member->access.searches;
      member->status = failed;
      member->done = true;
    }
    local.round_ended.notify_all();
    return;
  }
  if (prune) pruned_at_.store(now);  // a race between accounts only prunes twice
  local.counts = tallies.back().counts;
  local.synced_at = now;
  for (std::size_t i = 0; i < members.size(); ++i) {
    std::vector<std::string>& patients = members[i]->access.patients;
    if (local.written.size() + patients.size() > kMaxWrittenPatients) local.written.clear();
    for (const std::string& patient : patients) local.written[patient] = now;
    members[i]->tally = std::move(tallies[i]);
    members[i]->done = true;
  }
  local.round_ended.notify_all();
}

Status ExfiltrationGuard::Suspend(const Principal& principal, Local& local, Timestamp now,
                                  std::string_view kind, std::string reason) {
  store::Alert alert{0, now, std::string(kind), "account/" + principal.account_id, reason};
  std::int64_t sessions_ended = 0;
  bool already = false;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    sessions_ended = 0;
    // Another process (or thread) may have suspended it a moment ago: one alert is enough.
    auto state = tx.GetGuardState(principal.account_id);
    if (!state) return std::unexpected(state.error());
    already = state->suspended_at != Timestamp{};
    if (already) return {};
    if (auto r = tx.SuspendGuardAccount(principal.account_id, now, reason); !r) return r;
    if (principal.role == Role::kIntegration) {
      auto tokens = tx.DeleteAccessTokens(principal.account_id);
      if (!tokens) return std::unexpected(tokens.error());
      sessions_ended = *tokens;
    } else {
      auto account = tx.GetAccount(principal.account_id);
      if (account) {
        if (auto r = tx.SetAccountStatus(principal.account_id, identity::kStatusSuspended, now);
            !r) {
          return r;
        }
        auto ended = tx.DeleteSessions(principal.account_id);
        if (!ended) return std::unexpected(ended.error());
        sessions_ended = *ended;
      } else if (account.error().code() != ErrorCode::kNotFound) {
        return std::unexpected(account.error());
      }
    }
    auto id = tx.InsertAlert(alert);
    if (!id) return std::unexpected(id.error());
    alert.id = *id;
    return {};
  });
  // Refused whether or not the store took the suspension: this process remembers it.
  local.suspended = true;
  if (!s) {
    return Fail(ErrorCode::kPermissionDenied,
                fmt::format("{} (the suspension could not be stored: {})", kSuspended,
                            s.error().message()));
  }
  if (!already) {
    log::Warning(alert.kind, {{"account", std::string_view(principal.account_id)},
                              {"alert_id", alert.id},
                              {"sessions_ended", sessions_ended}});
    if (sink_) sink_(alert);
  }
  return Fail(ErrorCode::kPermissionDenied, std::string(kSuspended));
}

Result<bool> ExfiltrationGuard::Reinstate(store::Store& store, std::string_view account_id,
                                          Timestamp now) {
  return identity::Accounts::LiftSuspension(store, account_id, now);
}

}  // namespace medvault::policy
