// bench_fhir_vault: fills a vault made by `medvault init` with N generated French patients
// (patient_generator.h) and M Observations (LOINC-coded laboratory results and vital signs,
// UCUM units), for bench/run-fhir.
//
//   bench_fhir_vault --vault=DIR --patients=N --observations=M [--batch=B] [--seed=S]
//
// Everything goes straight through records::SealedStore::PutAll (one transaction per batch of
// B patients and their observations), in the vault opened as `medvault serve` opens it
// (cli::OpenVault, configuration and environment overrides included), so the server reads
// exactly what it would have written itself: patient_id set, blind-index rows, sealed under
// each patient's data key. The FHIR API is not in the path: no audit entries are written.
//
// Ids are deterministic, so a load generator can draw random existing ones:
//   patient n      PatientGenerator::PatientId(n)   "p0000042"
//   observation k  "o0000042-<k>", k in [0, per + (n < extra)), per = M / N, extra = M % N
// Every observation's JSON is a pure function of (seed, n, k).
//
// The first patient and the first observation of every batch, and the Lua-visible id scheme,
// are checked with fhir::Validate (no error issue allowed) before the batch is written; the
// program stops (exit 1) on an invalid sample. At the end it writes DIR/bench-families.txt:
// the distinct family-name prefixes (3 to 6 letters as written, percent-encoded UTF-8) for
// the search benchmark, and DIR/bench-fhir.marker (patients, observations, seconds), which
// bench/run-fhir uses to reuse the vault. Prints progress and the rate on stderr.
// Not a test: nothing fails on a figure. Not thread-safe (a program).
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/vault.h"
#include "core/error.h"
#include "fhir/outcome.h"
#include "fhir/resource.h"
#include "patient_generator.h"
#include "records/sealed_store.h"

namespace medvault::bench {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct Flags {
  fs::path vault;
  std::uint64_t patients = 10'000;
  std::uint64_t observations = 100'000;
  std::uint64_t batch = 1'000;  // patients per PutAll, with their observations
  std::uint64_t seed = 20261202;
};

[[noreturn]] void Die(std::string_view what, const Error& error) {
  fmt::print(stderr, "bench_fhir_vault: {}: {}\n", what, error.message());
  std::exit(1);
}

[[noreturn]] void Usage(std::string_view why) {
  fmt::print(stderr,
             "bench_fhir_vault: {}\nusage: bench_fhir_vault --vault=DIR [--patients=N] "
             "[--observations=M] [--batch=B] [--seed=S]\n",
             why);
  std::exit(2);
}

std::uint64_t ParseCount(std::string_view name, std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    Usage(fmt::format("--{} takes a whole number", name));
  }
  return value;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--") || arg.find('=') == std::string_view::npos) Usage("bad argument");
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(2, eq - 2);
    const std::string_view value = arg.substr(eq + 1);
    if (name == "vault") {
      flags.vault = std::string(value);
    } else if (name == "patients") {
      flags.patients = ParseCount(name, value);
    } else if (name == "observations") {
      flags.observations = ParseCount(name, value);
    } else if (name == "batch") {
      flags.batch = ParseCount(name, value);
    } else if (name == "seed") {
      flags.seed = ParseCount(name, value);
    } else {
      Usage(fmt::format("unknown flag --{}", name));
    }
  }
  if (flags.vault.empty()) Usage("--vault is required");
  if (flags.patients == 0 || flags.batch == 0) Usage("--patients and --batch must be positive");
  return flags;
}

// A result kind: LOINC code and display, UCUM unit, category, and a plausible value range.
struct ResultKind {
  std::string_view loinc;
  std::string_view display;
  std::string_view ucum;
  std::string_view category;  // observation-category code
  double low;
  double high;
  int decimals;
};

constexpr ResultKind kResultKinds[] = {
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "laboratory", 60, 240, 0},
    {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "laboratory", 9, 18, 1},
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory", 0.4, 2.5, 2},
    {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "laboratory", 128, 150, 0},
    {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "laboratory", 3, 6, 1},
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "laboratory", 4.5, 11, 1},
    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory", 120, 320, 0},
    {"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", "laboratory", 3, 15,
     1},
    {"8867-4", "Heart rate", "/min", "vital-signs", 45, 130, 0},
    {"8310-5", "Body temperature", "Cel", "vital-signs", 35.5, 40.5, 1},
    {"29463-7", "Body weight", "kg", "vital-signs", 3, 140, 1},
    {"8302-2", "Body height", "cm", "vital-signs", 50, 200, 0},
    {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "vital-signs", 85,
     100, 0},
};

std::uint64_t Mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string ObservationId(std::uint64_t n, std::uint64_t k) {
  return fmt::format("o{:07}-{}", n, k);
}

// Observation k of patient n, as FHIR R4 JSON.
std::string MakeObservation(std::uint64_t seed, std::uint64_t n, std::uint64_t k,
                            std::string_view patient_id) {
  std::mt19937_64 random(Mix(seed ^ Mix(n * 1'000'003 + k)));
  const ResultKind& kind = kResultKinds[std::uniform_int_distribution<std::size_t>(
      0, std::size(kResultKinds) - 1)(random)];
  const double value = std::uniform_real_distribution<double>(kind.low, kind.high)(random);
  // Between 2018-01-01 and the end of 2025: day, then time of day.
  const int year = std::uniform_int_distribution<int>(2018, 2025)(random);
  const int month = std::uniform_int_distribution<int>(1, 12)(random);
  const int day = std::uniform_int_distribution<int>(1, 28)(random);
  const int hour = std::uniform_int_distribution<int>(6, 19)(random);
  const int minute = std::uniform_int_distribution<int>(0, 59)(random);
  const std::string_view category_display =
      kind.category == "laboratory" ? "Laboratory" : "Vital Signs";
  return fmt::format(
      R"({{"resourceType":"Observation","id":"{id}","status":"final",)"
      R"("category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category",)"
      R"("code":"{cat}","display":"{catd}"}}]}}],)"
      R"("code":{{"coding":[{{"system":"http://loinc.org","code":"{loinc}","display":"{display}"}}],)"
      R"("text":"{display}"}},"subject":{{"reference":"Patient/{patient}"}},)"
      R"("effectiveDateTime":"{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00+01:00",)"
      R"("issued":"{y:04}-{mo:02}-{d:02}T{h2:02}:{mi:02}:00+01:00",)"
      R"("valueQuantity":{{"value":{value:.{dec}f},"unit":"{ucum}","system":"http://unitsofmeasure.org",)"
      R"("code":"{ucum}"}}}})",
      fmt::arg("id", ObservationId(n, k)), fmt::arg("cat", kind.category),
      fmt::arg("catd", category_display), fmt::arg("loinc", kind.loinc),
      fmt::arg("display", kind.display), fmt::arg("patient", patient_id), fmt::arg("y", year),
      fmt::arg("mo", month), fmt::arg("d", day), fmt::arg("h", hour),
      fmt::arg("h2", hour + 2 > 23 ? 23 : hour + 2), fmt::arg("mi", minute),
      fmt::arg("value", value), fmt::arg("dec", kind.decimals), fmt::arg("ucum", kind.ucum));
}

// Stops the program unless `json` is a resource fhir::Validate accepts without errors.
void CheckValid(std::string_view what, std::string_view json) {
  auto parsed = fhir::ParseResource(json);
  if (!parsed) {
    fmt::print(stderr, "bench_fhir_vault: a generated {} does not parse as FHIR JSON\n", what);
    std::exit(1);
  }
  int errors = 0;
  for (const fhir::Issue& issue : fhir::Validate(*parsed, {.require_id = true})) {
    if (issue.severity == fhir::Severity::kWarning ||
        issue.severity == fhir::Severity::kInformation) {
      continue;
    }
    ++errors;
    fmt::print(stderr, "bench_fhir_vault: generated {} invalid at {}: {}\n", what, issue.expression,
               issue.diagnostics);
  }
  if (errors > 0) std::exit(1);
}

// The first `letters` code points of `text` (UTF-8), or "" if it has fewer.
std::string PrefixOf(std::string_view text, std::size_t letters) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;
    if (count == letters) return std::string(text.substr(0, i));
    ++count;
  }
  return count == letters ? std::string(text) : std::string();
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

void WriteFamilies(const fs::path& path) {
  std::set<std::string> prefixes;
  for (std::string_view family : PatientGenerator::FamilyNames()) {
    for (std::size_t letters = 3; letters <= 6; ++letters) {
      std::string prefix = PrefixOf(family, letters);
      if (prefix.empty()) break;
      if (prefix.find(' ') != std::string::npos) continue;
      prefixes.insert(PercentEncode(prefix));
    }
  }
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& prefix : prefixes) out << prefix << '\n';
}

int Run(const Flags& flags) {
  auto vault = cli::OpenVault(flags.vault, {});
  if (!vault) Die("open the vault", vault.error());
  records::SealedStore& sealed = *vault->records;
  const PatientGenerator generator(flags.seed);
  const std::uint64_t per = flags.observations / flags.patients;
  const std::uint64_t extra = flags.observations % flags.patients;

  const auto start = SteadyClock::now();
  double put_seconds = 0;
  std::uint64_t written = 0;
  std::uint64_t next_report = 0;
  std::vector<std::string> jsons;
  std::vector<std::string> ids;
  std::vector<std::string> owners;
  std::vector<records::SealedWrite> writes;
  for (std::uint64_t first = 0; first < flags.patients; first += flags.batch) {
    const std::uint64_t last = std::min(flags.patients, first + flags.batch);
    jsons.clear();
    ids.clear();
    owners.clear();
    for (std::uint64_t n = first; n < last; ++n) {
      GeneratedPatient patient = generator.Make(n);
      const std::uint64_t count = per + (n < extra ? 1 : 0);
      jsons.push_back(std::move(patient.json));
      ids.push_back(patient.id);
      owners.push_back(patient.id);
      for (std::uint64_t k = 0; k < count; ++k) {
        jsons.push_back(MakeObservation(flags.seed, n, k, patient.id));
        ids.push_back(ObservationId(n, k));
        owners.push_back(patient.id);
      }
    }
    CheckValid("Patient", jsons.front());
    if (jsons.size() > 1) CheckValid("Observation", jsons[1]);

    const Timestamp now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    writes.clear();
    for (std::size_t i = 0; i < jsons.size(); ++i) {
      writes.push_back({.resource_type = ids[i].front() == 'p' ? "Patient" : "Observation",
                        .id = ids[i],
                        .expected_version = 0,
                        .patient_id = owners[i],
                        .json = jsons[i],
                        .recorded_at = now});
    }
    const auto put_start = SteadyClock::now();
    if (auto put = sealed.PutAll(writes); !put) Die("PutAll", put.error());
    put_seconds += std::chrono::duration<double>(SteadyClock::now() - put_start).count();
    written += writes.size();
    if (last >= next_report || last == flags.patients) {
      const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
      fmt::print(stderr, "bench_fhir_vault: {} patients, {} resources, {:.0f} s, {:.0f}/s\n", last,
                 written, elapsed, static_cast<double>(written) / elapsed);
      next_report = last + std::max<std::uint64_t>(flags.patients / 20, flags.batch);
    }
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  WriteFamilies(flags.vault / "bench-families.txt");
  {
    std::ofstream marker(flags.vault / "bench-fhir.marker", std::ios::trunc);
    marker << "patients=" << flags.patients << "\nobservations=" << flags.observations
           << "\nseed=" << flags.seed << "\nbatch=" << flags.batch
           << "\nseconds=" << fmt::format("{:.1f}", seconds)
           << "\nputall_seconds=" << fmt::format("{:.1f}", put_seconds) << "\nresources=" << written
           << "\nrate=" << fmt::format("{:.0f}", static_cast<double>(written) / seconds) << "\n";
  }
  fmt::print(
      "{} resources ({} patients, {} observations) in {:.1f} s ({:.0f}/s; PutAll "
      "{:.1f} s)\n",
      written, flags.patients, flags.observations, seconds, static_cast<double>(written) / seconds,
      put_seconds);
  return 0;
}

}  // namespace
}  // namespace medvault::bench

int main(int argc, char** argv) {
  return medvault::bench::Run(medvault::bench::ParseFlags(argc, argv));
}
