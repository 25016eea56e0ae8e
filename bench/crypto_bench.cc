// Throughput of sealing and opening one record under a patient's data key
// (crypto::Envelope::SealRecord / OpenRecord), for a small record (1 KiB, a Patient) and a
// large one (64 KiB, a report with attachments). Bytes processed are plaintext bytes, so
// Google Benchmark's bytes_per_second is the record throughput a caller sees, including the
// associated-data encoding and the allocation of the output that every call makes.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"
#include "crypto/envelope.h"
#include "crypto/kek.h"
#include "crypto/keyring.h"

namespace medvault::crypto {
namespace {

AssociatedData BenchRow() {
  return {.resource_type = "Patient",
          .resource_id = "p0000042",
          .version = 1,
          .patient_id = "p0000042",
          .key_id = 1};
}

Secret BenchDek() {
  auto dek = Envelope::NewDek();
  if (!dek) std::abort();
  return std::move(*dek);
}

std::vector<std::uint8_t> Plaintext(std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>('a' + i % 26);
  return bytes;
}

void BM_SealRecord(benchmark::State& state) {
  const Secret dek = BenchDek();
  const AssociatedData row = BenchRow();
  const auto plaintext = Plaintext(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto sealed = Envelope::SealRecord(dek, row, plaintext);
    if (!sealed) {
      state.SkipWithError("SealRecord failed");
      break;
    }
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_OpenRecord(benchmark::State& state) {
  const Secret dek = BenchDek();
  const AssociatedData row = BenchRow();
  const auto sealed =
      Envelope::SealRecord(dek, row, Plaintext(static_cast<std::size_t>(state.range(0))));
  if (!sealed) {
    state.SkipWithError("SealRecord failed");
    return;
  }
  for (auto _ : state) {
    auto opened = Envelope::OpenRecord(dek, row, *sealed);
    if (!opened) {
      state.SkipWithError("OpenRecord failed");
      break;
    }
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// What a data-key cache miss costs a read: unwrapping the patient's DEK under the master key
// into guarded memory (sodium_malloc), and freeing it again as the cache would on eviction.
void BM_UnwrapDek(benchmark::State& state) {
  auto master = Secret::CopyOf(std::vector<std::uint8_t>(kAeadKeyBytes, 0x5a));
  if (!master) std::abort();
  auto kek = LocalKek::Create(1, std::move(*master));
  if (!kek) std::abort();
  std::vector<std::unique_ptr<Kek>> keks;
  keks.push_back(std::move(*kek));
  auto keyring = Keyring::FromKeks(std::move(keks));
  if (!keyring) std::abort();
  const Envelope envelope(**keyring, {});
  auto wrapped = envelope.WrapDek("p0000042", BenchDek());
  if (!wrapped) std::abort();
  for (auto _ : state) {
    auto dek = envelope.UnwrapDek("p0000042", *wrapped);
    if (!dek) {
      state.SkipWithError("UnwrapDek failed");
      break;
    }
    benchmark::DoNotOptimize(dek->bytes().data());
  }
}

BENCHMARK(BM_SealRecord)->Arg(1 << 10)->Arg(64 << 10);
BENCHMARK(BM_OpenRecord)->Arg(1 << 10)->Arg(64 << 10);
BENCHMARK(BM_UnwrapDek);

// The console output, plus a markdown table of the median of each benchmark's repetitions
// (or of its single run). Google Benchmark's bytes_per_second divides by CPU time; the table
// gives MB/s (10^6 bytes) over CPU time and over wall time, which differ when other
// processes share the cores.
class MarkdownReporter : public benchmark::ConsoleReporter {
 public:
  // A reporter passed in does not follow --benchmark_color: no colors unless on a terminal.
  MarkdownReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (run.error_occurred || !(median || single)) continue;
      const double multiplier = benchmark::GetTimeUnitMultiplier(run.time_unit);
      const double cpu_seconds = run.GetAdjustedCPUTime() / multiplier;
      const double real_seconds = run.GetAdjustedRealTime() / multiplier;
      std::string name = run.run_name.function_name + "/" + run.run_name.args;
      if (run.run_name.args.empty()) name = run.run_name.function_name;
      auto bytes = run.counters.find("bytes_per_second");
      if (bytes == run.counters.end()) {
        table_ += fmt::format("| {} | {:.1f} µs | {:.1f} µs | | |\n", name, cpu_seconds * 1e6,
                              real_seconds * 1e6);
      } else {
        const double bytes_per_iteration = bytes->second.value * cpu_seconds;
        table_ += fmt::format("| {} | {:.2f} µs | {:.2f} µs | {:.0f} | {:.0f} |\n", name,
                              cpu_seconds * 1e6, real_seconds * 1e6, bytes->second.value / 1e6,
                              bytes_per_iteration / real_seconds / 1e6);
      }
    }
  }

  std::string Table() const {
    return "| benchmark | CPU time | wall time | MB/s (CPU time) | MB/s (wall time) |\n"
           "|---|---:|---:|---:|---:|\n" +
           table_;
  }

 private:
  std::string table_;
};

}  // namespace
}  // namespace medvault::crypto

// Google Benchmark's flags, plus --markdown_out=FILE for the table above.
int main(int argc, char** argv) {
  std::string markdown_out;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--markdown_out=")) {
      markdown_out = arg.substr(std::string_view("--markdown_out=").size());
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  medvault::crypto::MarkdownReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (!markdown_out.empty()) {
    std::ofstream out(markdown_out);
    out << reporter.Table();
    if (!out) return 1;
  }
  return 0;
}
