// bench_audit (Google Benchmark): the audit log's figures on SQLite.
//   BM_DurableAppend/threads:64  durable appends through AuditLog (group commit), entries/s
//   BM_Verify                    VerifyLog over the large log, entries/s
//   BM_InclusionProof            proof of a random entry of the large log, from the store
//   BM_Get, BM_AppendThenGet     records::SealedStore::Get alone and after one Append, same
//                                run, same store: what auditing a read costs it
// The large log (default 10,000,000 entries, BENCH_AUDIT_ENTRIES) is built once in
// BENCH_AUDIT_DIR (default build/bench-audit-data) directly through the store in big batches,
// with the same encoding and tree as AuditLog, and reused by later runs (a marker file keeps its
// size). Not a test: nothing fails on a figure.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "audit/audit_log.h"
#include "audit/checkpoint.h"
#include "audit/verifier.h"
#include "core/log.h"
#include "core/secret.h"
#include "crypto/kek.h"
#include "phi_access_for_testing.h"
#include "records/sealed_store.h"
#include "store/store.h"

namespace medvault::bench {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void Die(std::string_view what, const Error& error) {
  fmt::print(stderr, "bench_audit: {}: {}\n", what, error.message());
  std::exit(1);
}

audit::Entry SampleEntry(std::uint64_t n) {
  audit::Entry e;
  e.account = "acc-" + std::to_string(n % 5000);
  e.role = audit::Role::kClinician;
  e.client = "portal";
  e.source_address = "10.1." + std::to_string(n % 250) + "." + std::to_string(n % 200);
  e.action = n % 10 == 0 ? audit::Action::kSearch : audit::Action::kRead;
  e.resource_type = "Observation";
  e.resource_ids = {"obs-" + std::to_string(n)};
  e.patient_ids = {"pat-" + std::to_string(n % 1'000'000)};
  e.purpose = audit::Purpose::kCareRelation;
  return e;
}

class BenchKeys final : public crypto::KekSource {
 public:
  Result<std::vector<std::unique_ptr<crypto::Kek>>> Load() const override {
    auto bytes = Secret::CopyOf(std::vector<std::uint8_t>(crypto::kAeadKeyBytes, 0x6b));
    if (!bytes) return std::unexpected(bytes.error());
    auto kek = crypto::LocalKek::Create(1, std::move(*bytes));
    if (!kek) return std::unexpected(kek.error());
    std::vector<std::unique_ptr<crypto::Kek>> keks;
    keks.push_back(std::move(*kek));
    return keks;
  }
};

struct World {
  SystemClock clock;
  std::unique_ptr<store::Store> append_store;  // fresh each run
  std::unique_ptr<audit::AuditLog> append_log;
  std::unique_ptr<store::Store> large_store;  // the large log, kept between runs
  std::unique_ptr<audit::AuditLog> large_log;
  std::uint64_t large_size = 0;
  BenchKeys keys;
  std::unique_ptr<records::SealedStore> sealed;
};
World* world = nullptr;

// Builds the large log straight through the store: batches of 20,000 entries per transaction.
std::uint64_t BuildLarge(store::Store& store, std::uint64_t target) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    std::int64_t size = 0;
    Status status = store.Transact([&](store::Transaction& tx) -> Status {
      auto head = tx.LockAuditHead();
      if (!head) return std::unexpected(head.error());
      size = head->size;
      if (static_cast<std::uint64_t>(size) >= target) return {};
      auto frontier = audit::DecodeFrontier(head->frontier);
      if (!frontier) return std::unexpected(frontier.error());
      auto builder = audit::TreeBuilder::Resume(static_cast<std::uint64_t>(size), *frontier);
      if (!builder) return std::unexpected(builder.error());
      store::AuditAppend append;
      append.expected_size = size;
      std::vector<audit::TreeBuilder::Node> closed;
      const std::uint64_t count = std::min<std::uint64_t>(20'000, target - size);
      const auto now = world->clock.Now();
      for (std::uint64_t i = 0; i < count; ++i) {
        audit::Entry entry = SampleEntry(builder->size());
        entry.index = builder->size();
        entry.time = now;
        auto encoded = audit::EncodeEntry(entry).value();
        builder->Append(audit::LeafHash(encoded), &closed);
        append.records.push_back({static_cast<std::int64_t>(entry.index), now, entry.account,
                                  std::string(audit::ActionName(entry.action)), entry.patient_ids,
                                  std::move(encoded)});
      }
      for (const auto& node : closed) {
        append.nodes.push_back({node.level, static_cast<std::int64_t>(node.index),
                                store::Bytes(node.hash.begin(), node.hash.end())});
      }
      append.frontier = audit::EncodeFrontier(builder->Frontier());
      size += static_cast<std::int64_t>(count);
      return tx.AppendAudit(append);
    });
    if (!status) Die("build the large log", status.error());
    if (static_cast<std::uint64_t>(size) >= target) break;
    if (size % 1'000'000 < 20'000) {
      fmt::print(stderr, "bench_audit: large log at {} entries ({:.0f} s)\n", size,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  return target;
}

void BM_DurableAppend(benchmark::State& state) {
  std::uint64_t n = static_cast<std::uint64_t>(state.thread_index()) << 32;
  for (auto _ : state) {
    auto index = world->append_log->Append(SampleEntry(n++));
    if (!index) Die("append", index.error());
    benchmark::DoNotOptimize(*index);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Verify(benchmark::State& state) {
  const auto& key = world->sealed->derived_keys().signing_key();
  const audit::NoteVerifier verifier{audit::OriginFor(key.public_key()), key.public_key()};
  for (auto _ : state) {
    auto report = audit::VerifyLog(*world->large_store, verifier, {});
    if (!report) Die("verify", report.error());
    if (!report->intact()) {
      fmt::print(stderr, "bench_audit: large log not intact: {}\n", report->problem);
      std::exit(1);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(report->entries));
  }
}

void BM_InclusionProof(benchmark::State& state) {
  std::mt19937_64 random(42);
  for (auto _ : state) {
    const std::uint64_t index = random() % world->large_size;
    auto proof = world->large_log->InclusionProof(index, world->large_size);
    if (!proof) Die("inclusion proof", proof.error());
    benchmark::DoNotOptimize(proof->data());
  }
  state.counters["log_entries"] = static_cast<double>(world->large_size);
}

void BM_Get(benchmark::State& state) {
  const auto access = policy::PhiAccessForTesting::Grant("bench");
  for (auto _ : state) {
    auto got = world->sealed->Get(access, "Patient", "bench-patient");
    if (!got) Die("get", got.error());
    benchmark::DoNotOptimize(got->version);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AppendThenGet(benchmark::State& state) {
  const auto access = policy::PhiAccessForTesting::Grant("bench");
  std::uint64_t n = static_cast<std::uint64_t>(state.thread_index()) << 32;
  for (auto _ : state) {
    audit::Entry entry = SampleEntry(n++);
    entry.patient_ids = {"bench-patient"};
    auto index = world->append_log->Append(std::move(entry));
    if (!index) Die("append", index.error());
    auto got = world->sealed->Get(access, "Patient", "bench-patient");
    if (!got) Die("get", got.error());
    benchmark::DoNotOptimize(got->version);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace
}  // namespace medvault::bench

int main(int argc, char** argv) {
  using namespace medvault;
  using namespace medvault::bench;
  log::SetEnabled(false);
  benchmark::Initialize(&argc, argv);
  const char* dir_env = std::getenv("BENCH_AUDIT_DIR");
  const fs::path dir = dir_env ? dir_env : "build/bench-audit-data";
  const char* entries_env = std::getenv("BENCH_AUDIT_ENTRIES");
  const std::uint64_t target = entries_env ? std::stoull(entries_env) : 10'000'000;
  fs::create_directories(dir);
  fs::remove(dir / "append.db");
  fs::remove(dir / "append.db-wal");
  fs::remove(dir / "append.db-shm");

  World w;
  world = &w;
  auto append_store = store::Store::Open("sqlite:" + (dir / "append.db").string());
  if (!append_store) Die("open the append store", append_store.error());
  w.append_store = std::move(*append_store);
  auto append_log = audit::AuditLog::Open(*w.append_store, w.clock);
  if (!append_log) Die("open the append log", append_log.error());
  w.append_log = std::move(*append_log);
  auto sealed = records::SealedStore::Open(*w.append_store, w.keys, {});
  if (!sealed) Die("open the sealed store", sealed.error());
  w.sealed = std::move(*sealed);
  auto put = w.sealed->Put({.resource_type = "Patient",
                            .id = "bench-patient",
                            .expected_version = 0,
                            .patient_id = "bench-patient",
                            .json = R"({"resourceType":"Patient","id":"bench-patient"})",
                            .recorded_at = w.clock.Now()});
  if (!put) Die("put the bench patient", put.error());

  const fs::path large = dir / ("large-" + std::to_string(target) + ".db");
  auto large_store = store::Store::Open("sqlite:" + large.string());
  if (!large_store) Die("open the large store", large_store.error());
  w.large_store = std::move(*large_store);
  const auto build_start = std::chrono::steady_clock::now();
  w.large_size = BuildLarge(*w.large_store, target);
  fmt::print(stderr, "bench_audit: large log of {} entries ready in {:.0f} s\n", w.large_size,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count());
  auto large_log = audit::AuditLog::Open(*w.large_store, w.clock);
  if (!large_log) Die("open the large log", large_log.error());
  w.large_log = std::move(*large_log);

  benchmark::RegisterBenchmark("BM_DurableAppend", BM_DurableAppend)
      ->Threads(64)
      ->UseRealTime()
      ->MinTime(3.0);
  benchmark::RegisterBenchmark("BM_Get", BM_Get)->UseRealTime()->MinTime(2.0);
  benchmark::RegisterBenchmark("BM_Get", BM_Get)->Threads(64)->UseRealTime()->MinTime(2.0);
  benchmark::RegisterBenchmark("BM_AppendThenGet", BM_AppendThenGet)->UseRealTime()->MinTime(2.0);
  benchmark::RegisterBenchmark("BM_AppendThenGet", BM_AppendThenGet)
      ->Threads(64)
      ->UseRealTime()
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("BM_InclusionProof", BM_InclusionProof)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("BM_Verify", BM_Verify)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  w.large_log.reset();
  w.append_log.reset();
  return 0;
}
