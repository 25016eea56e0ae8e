// The cost of the login factors at medvault's chosen parameters: one Argon2id hash and one
// verification at the floor (64 MiB, 2 passes, one thread: what one pool worker spends per
// login), one TOTP verification (three HMAC-SHA1 codes compared), and one new-password
// check (NFKC, name folding, libzxcvbn). Time per operation is the figure to read; run with
// a Release build (see README's benchmark section). Nothing fails on a figure.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "identity/password_hasher.h"
#include "identity/password_policy.h"
#include "identity/totp.h"

namespace medvault::identity {
namespace {

Secret Password(std::string_view text) {
  auto secret = Secret::CopyOf({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  if (!secret) std::abort();
  return std::move(*secret);
}

std::unique_ptr<PasswordHasher> FloorHasher() {
  PasswordHasher::Options options;
  options.threads = 1;
  auto hasher = PasswordHasher::Create(options);
  if (!hasher) std::abort();
  return std::move(*hasher);
}

void BM_HashPasswordAtFloor(benchmark::State& state) {
  const auto hasher = FloorHasher();
  const Secret password = Password("Hélène aime les crêpes au sarrasin");
  for (auto _ : state) {
    auto hash = hasher->HashNow(password);
    if (!hash) {
      state.SkipWithError("hash failed");
      break;
    }
    benchmark::DoNotOptimize(hash->data());
  }
}
BENCHMARK(BM_HashPasswordAtFloor)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_VerifyPasswordAtFloor(benchmark::State& state) {
  const auto hasher = FloorHasher();
  const Secret password = Password("Hélène aime les crêpes au sarrasin");
  auto hash = hasher->HashNow(password);
  if (!hash) std::abort();
  for (auto _ : state) {
    auto verdict = hasher->VerifyNow(*hash, password);
    if (!verdict || !verdict->match) {
      state.SkipWithError("verify failed");
      break;
    }
    benchmark::DoNotOptimize(verdict->match);
  }
}
BENCHMARK(BM_VerifyPasswordAtFloor)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_VerifyTotp(benchmark::State& state) {
  auto secret = NewTotpSecret();
  if (!secret) std::abort();
  const Timestamp now{std::chrono::seconds(1'764'620'000)};
  auto code = TotpCode(*secret, TotpStep(now) + 1);  // the last candidate: all three computed
  if (!code) std::abort();
  for (auto _ : state) {
    auto step = VerifyTotp(*secret, *code, now, std::numeric_limits<std::int64_t>::min());
    if (!step) {
      state.SkipWithError("TOTP verification failed");
      break;
    }
    benchmark::DoNotOptimize(*step);
  }
}
BENCHMARK(BM_VerifyTotp)->Unit(benchmark::kMicrosecond);

void BM_CheckNewPassword(benchmark::State& state) {
  auto normalized = NormalizePassword("Hélène aime les crêpes au sarrasin");
  if (!normalized) std::abort();
  const std::vector<std::string> terms = {"Zoé Martin", "zmartin"};
  for (auto _ : state) {
    auto status = CheckNewPassword(*normalized, terms);
    if (!status) {
      state.SkipWithError("the password was refused");
      break;
    }
  }
}
BENCHMARK(BM_CheckNewPassword)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace medvault::identity

BENCHMARK_MAIN();
