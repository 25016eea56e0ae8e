// bench_guard (Google Benchmark): what the exfiltration guard adds to the read path, in one run
// on one real SQLite store (WAL, synchronous=FULL) with the real audit log.
//   BM_AuthorizeRead            Decider::Authorize of one Observation read, no guard
//   BM_AuthorizeReadGuarded     the same with the guard: a clinician on a ward of 20 patients,
//                               reading their results in turn (a patient seen again is kept in
//                               memory; the counts reach the store once a second)
//   BM_AuthorizeNewPatient      with the guard, every read a patient never seen: one store
//                               round per read (what a scraper costs, and what opening a new
//                               patient costs a clinician)
// bench/run-guard runs it in Release and writes the ratio to bench/results/<date>-guard.md.
// Budgets are set out of reach so nothing is suspended. Not a test: nothing fails on a figure.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "core/log.h"
#include "policy/decider.h"
#include "policy/guard.h"
#include "store/store.h"

namespace medvault::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kWard = 20;

[[noreturn]] void Die(std::string_view what, const Error& error) {
  fmt::print(stderr, "bench_guard: {}: {}\n", what, error.message());
  std::exit(1);
}

// One store, audit log and guard for the whole run, so both benchmarks share them.
struct Fixture {
  fs::path dir;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<policy::ExfiltrationGuard> guard;
  std::unique_ptr<policy::Decider> plain;
  std::unique_ptr<policy::Decider> guarded;

  Fixture() {
    log::SetEnabled(false);
    dir = fs::temp_directory_path() / fmt::format("medvault-bench-guard-{}", ::getpid());
    fs::create_directories(dir);
    auto opened = store::Store::Open("sqlite:" + (dir / "store.db").string());
    if (!opened) Die("open store", opened.error());
    store = std::move(*opened);
    auto audit_log = audit::AuditLog::Open(*store, clock);
    if (!audit_log) Die("open audit log", audit_log.error());
    log = std::move(*audit_log);
    policy::ExfiltrationGuard::Options options;
    auto limits = policy::ParseGuardLimits(
        "patients 1000000000/1000000000/1000000000, records 1000000000/1000000000/1000000000, "
        "searches 1000000000/1000000000/1000000000, bytes 0/0/0, breadth 0",
        options.budgets.clinician);
    if (!limits) Die("budgets", limits.error());
    options.budgets.clinician = *limits;
    guard = std::make_unique<policy::ExfiltrationGuard>(*store, clock, options, nullptr);
    plain = std::make_unique<policy::Decider>(*log, clock);
    guarded = std::make_unique<policy::Decider>(*log, clock,
                                                policy::Decider::Extensions{.gate = guard.get()});
  }
  ~Fixture() {
    guarded.reset();
    plain.reset();
    guard.reset();
    log.reset();
    store.reset();
    std::error_code error;
    fs::remove_all(dir, error);
  }
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

policy::Principal Clinician() {
  policy::Principal principal;
  principal.account_id = "bench-clinician";
  principal.role = audit::Role::kClinician;
  principal.client = "portal";
  principal.source_address = "127.0.0.1";
  return principal;
}

void Read(benchmark::State& state, policy::Decider& decider, bool new_patient_each_read) {
  const policy::Principal principal = Clinician();
  // Across repetitions too: a "new" patient is never one seen before.
  static std::int64_t next_new_patient = 0;
  std::int64_t n = 0;
  for (auto _ : state) {
    const std::string ids[] = {fmt::format("obs-{}", n)};
    const std::string patients[] = {new_patient_each_read
                                        ? fmt::format("new-{}", next_new_patient++)
                                        : fmt::format("pat-{}", n % kWard)};
    auto access = decider.Authorize(principal, {.operation = policy::Operation::kRead,
                                                .resource_type = "Observation",
                                                .resource_ids = ids,
                                                .patient_ids = patients});
    if (!access) Die("authorize", access.error());
    benchmark::DoNotOptimize(access);
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}

// The guard alone on the ward's reads: its share of BM_AuthorizeRead's time is its cost.
void BM_GuardAdmitWard(benchmark::State& state) {
  const policy::Principal principal = Clinician();
  std::int64_t n = 0;
  for (auto _ : state) {
    const std::string ids[] = {fmt::format("obs-{}", n)};
    const std::string patients[] = {fmt::format("pat-{}", n % kWard)};
    auto admitted = Shared().guard->Admit(principal, {.operation = policy::Operation::kRead,
                                                     .resource_type = "Observation",
                                                     .resource_ids = ids,
                                                     .patient_ids = patients});
    if (!admitted) Die("admit", admitted.error());
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AuthorizeRead(benchmark::State& state) { Read(state, *Shared().plain, false); }
void BM_AuthorizeReadGuarded(benchmark::State& state) { Read(state, *Shared().guarded, false); }
void BM_AuthorizeNewPatient(benchmark::State& state) { Read(state, *Shared().guarded, true); }

// Repeated, in one process on one store, so the figures compare.
BENCHMARK(BM_AuthorizeRead)->MinTime(3)->Repetitions(3)->UseRealTime();
BENCHMARK(BM_AuthorizeReadGuarded)->MinTime(3)->Repetitions(3)->UseRealTime();
BENCHMARK(BM_AuthorizeNewPatient)->MinTime(3)->Repetitions(3)->UseRealTime();
BENCHMARK(BM_GuardAdmitWard)->MinTime(3)->Repetitions(3)->UseRealTime();

}  // namespace
}  // namespace medvault::bench

BENCHMARK_MAIN();
