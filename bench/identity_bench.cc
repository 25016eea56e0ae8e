// Cost of authenticating one API client at the token endpoint: VerifyClientAssertion on an
// RS384 (2048- and 3072-bit keys) and an ES384 assertion, with the JWS and claims parsing it
// includes; the one-off parse of a registered JWK (RSA keys get OpenSSL's public key check);
// and parsing plus narrowing a typical SMART scope request. Nothing fails on a figure.
#include <benchmark/benchmark.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "identity/client_assertion.h"
#include "identity/smart_scopes.h"
#include "identity/test_jwt_signer.h"

namespace medvault::identity {
namespace {

using testing::TestSigner;

constexpr std::string_view kClientId = "lab-analyzer-7f3c";
constexpr std::string_view kTokenEndpoint = "https://medvault.example/auth/token";
constexpr std::int64_t kNow = 1'767'225'600;

const TestSigner& Signer(int which) {
  static const TestSigner rsa2048 = TestSigner::Rsa(2048);
  static const TestSigner rsa3072 = TestSigner::Rsa(3072);
  static const TestSigner p384 = TestSigner::P384();
  return which == 0 ? rsa2048 : which == 1 ? rsa3072 : p384;
}

void BM_VerifyClientAssertion(benchmark::State& state) {
  const TestSigner& signer = Signer(static_cast<int>(state.range(0)));
  auto key = ParseClientJwk(signer.PublicJwk("k"));
  if (!key) std::abort();
  const std::vector<ClientKey> keys{*key};
  const boost::json::object header{{"alg", signer.alg()}, {"kid", "k"}, {"typ", "JWT"}};
  const boost::json::object claims{{"iss", kClientId},      {"sub", kClientId},
                                   {"aud", kTokenEndpoint}, {"exp", kNow + 240},
                                   {"iat", kNow},           {"jti", "b7d1c1a2-0f0e-4c1d-9d57"}};
  const std::string jwt =
      signer.Jwt(boost::json::serialize(header), boost::json::serialize(claims));
  const Timestamp now{std::chrono::seconds(kNow)};
  for (auto _ : state) {
    auto verdict = VerifyClientAssertion(jwt, keys, kClientId, kTokenEndpoint, now);
    if (!verdict) std::abort();
    benchmark::DoNotOptimize(verdict);
  }
  state.SetLabel(state.range(0) == 0 ? "RS384 2048" : state.range(0) == 1 ? "RS384 3072" : "ES384");
}
BENCHMARK(BM_VerifyClientAssertion)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

void BM_ParseClientJwk(benchmark::State& state) {
  const std::string jwk = Signer(static_cast<int>(state.range(0))).PublicJwk("k");
  for (auto _ : state) {
    auto key = ParseClientJwk(jwk);
    if (!key) std::abort();
    benchmark::DoNotOptimize(key);
  }
  state.SetLabel(state.range(0) == 0 ? "RSA 2048" : state.range(0) == 1 ? "RSA 3072" : "P-384");
}
BENCHMARK(BM_ParseClientJwk)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

void BM_ParseAndNarrowScopes(benchmark::State& state) {
  const auto registered = ParseSmartScopes(
      "system/Observation.cu system/DiagnosticReport.cu system/DocumentReference.c "
      "system/Binary.c system/Patient.rs");
  if (!registered) std::abort();
  const std::string requested =
      "system/Observation.cruds system/DiagnosticReport.cu system/Binary.c system/*.rs";
  for (auto _ : state) {
    auto scopes = ParseSmartScopes(requested);
    if (!scopes) std::abort();
    auto granted = NarrowSmartScopes(*scopes, *registered);
    benchmark::DoNotOptimize(granted);
  }
}
BENCHMARK(BM_ParseAndNarrowScopes)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace medvault::identity

BENCHMARK_MAIN();
