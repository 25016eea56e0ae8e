// Cost of the passkey ceremonies on the server: VerifyRegistration and VerifyAssertion for
// ES256 and EdDSA credentials (JSON, base64url, CBOR and COSE parsing, SHA-256 and the
// signature check), on responses the tests' software authenticator builds
// (tests/identity/soft_authenticator.h), and the options JSON. Nothing fails on a figure.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "identity/soft_authenticator.h"
#include "identity/webauthn.h"

namespace medvault::identity {
namespace {

using testing::SoftAuthenticator;
using Algorithm = SoftAuthenticator::Algorithm;

const std::vector<std::uint8_t> kChallenge(32, 0x5c);

RelyingParty Rp() {
  return RelyingParty{.id = std::string(testing::kRpId),
                      .name = "medvault",
                      .origins = {std::string(testing::kOrigin)}};
}

Algorithm AlgorithmOf(const benchmark::State& state) {
  return state.range(0) == 0 ? Algorithm::kEs256 : Algorithm::kEdDsa;
}

void BM_VerifyRegistration(benchmark::State& state) {
  SoftAuthenticator authenticator(AlgorithmOf(state));
  testing::RegistrationInput input;
  input.client.challenge = kChallenge;
  const std::string response = authenticator.Register(input);
  const RelyingParty rp = Rp();
  for (auto _ : state) {
    auto credential = VerifyRegistration(rp, kChallenge, response, UserVerification::kRequired);
    if (!credential) std::abort();
    benchmark::DoNotOptimize(credential);
  }
  state.SetLabel(state.range(0) == 0 ? "ES256" : "EdDSA");
}
BENCHMARK(BM_VerifyRegistration)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_VerifyAssertion(benchmark::State& state) {
  SoftAuthenticator authenticator(AlgorithmOf(state));
  testing::RegistrationInput registration;
  registration.client.challenge = kChallenge;
  const RelyingParty rp = Rp();
  auto stored = VerifyRegistration(rp, kChallenge, authenticator.Register(registration),
                                   UserVerification::kRequired);
  if (!stored) std::abort();
  testing::AssertionInput input;
  input.client.challenge = kChallenge;
  input.sign_count = 1;
  const std::string response = authenticator.Assert(input);
  for (auto _ : state) {
    auto id = AssertionCredentialId(response);
    auto outcome = VerifyAssertion(rp, kChallenge, *stored, response, UserVerification::kRequired);
    if (!id || !outcome) std::abort();
    benchmark::DoNotOptimize(outcome);
  }
  state.SetLabel(state.range(0) == 0 ? "ES256" : "EdDSA");
}
BENCHMARK(BM_VerifyAssertion)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_CreationOptionsJson(benchmark::State& state) {
  const RelyingParty rp = Rp();
  const std::vector<std::uint8_t> user(16, 0x42);
  const std::vector<std::vector<std::uint8_t>> exclude(2, std::vector<std::uint8_t>(32, 0x17));
  for (auto _ : state) {
    std::string json = CreationOptionsJson(rp, user, "joy.nurse@clinic.example", "Joy Nurse",
                                           kChallenge, exclude, UserVerification::kRequired);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_CreationOptionsJson)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace medvault::identity

BENCHMARK_MAIN();
