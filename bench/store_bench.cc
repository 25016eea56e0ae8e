// bench_store: get, put and name search through records::SealedStore on a store of N
// generated French patients (patient_generator.h), on SQLite or PostgreSQL, with the
// plaintext baseline the encrypted get is compared with. Prints a markdown section.
//
//   bench_store --backend=sqlite --data-dir=DIR [--patients=N] [--budget-seconds=S] ...
//   bench_store --backend=postgres [--patients=N] ...   (needs the cluster that
//       tests/store/pg_cluster.sh start MEDVAULT_PG_STATE_DIR started; a fresh database)
//
// The store is filled through SealedStore::PutAll in batches (one transaction per batch), and
// each patient also gets a plaintext twin, resource type "PlainPatient", written with
// store::Store::Put: same id, same patient, its JSON as the payload, no index rows. The
// plaintext get reads that twin through the same Store, so the ratio encrypted/plaintext
// isolates what sealing costs a read: the wrapped-key read, the data-key unwrap, the AEAD
// and the copy into wiped memory. Generation stops at N patients or when the time budget
// runs out, whichever comes first, and the section says which N was reached. A SQLite store
// is kept in DIR with a marker (DIR/sqlite.marker) and reused by later runs.
//
// Every operation is timed on its own with a steady clock, one client thread; ops/s is the
// number of operations over the sum of their latencies. Encrypted and plaintext gets run in
// alternating blocks on independently drawn random patients, so a neighbour's load hits
// both alike. Not a test: nothing fails on a figure.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/blind_index.h"
#include "crypto/kek.h"
#include "crypto/kek.h"
#include "patient_generator.h"
#include "phi_access_for_testing.h"
#include "records/sealed_store.h"
#include "store/store.h"
#include "test_cluster.h"

namespace medvault::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::string_view kPatient = "Patient";
constexpr std::string_view kPlainPatient = "PlainPatient";
constexpr std::string_view kPlainKeyId = "plaintext";
constexpr std::string_view kFamilyField = "patient.family.prefix";
constexpr std::uint64_t kSeed = 20261123;

struct Flags {
  std::string backend = "sqlite";
  fs::path data_dir = "build/bench-data";
  std::uint64_t patients = 1'000'000;
  double budget_seconds = 900;
  std::size_t batch = 500;
  std::size_t get_ops = 20'000;
  std::size_t put_ops = 1'000;
  std::size_t searches = 1'000;
  std::size_t search_limit = 20;
  std::string out;  // markdown section; stdout when empty
};

[[noreturn]] void Die(std::string_view what, const Error& error) {
  fmt::print(stderr, "bench_store: {}: {} ({})\n", what, error.message(),
             ErrorCodeName(error.code()));
  std::exit(1);
}

[[noreturn]] void Usage(std::string_view problem) {
  fmt::print(stderr,
             "bench_store: {}\nflags: --backend=sqlite|postgres --data-dir=DIR --patients=N "
             "--budget-seconds=S --batch=N --get-ops=N --put-ops=N --searches=N "
             "--search-limit=N --out=FILE\n",
             problem);
  std::exit(2);
}

std::uint64_t ParseCount(std::string_view name, std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    Usage(fmt::format("--{} needs a positive number", name));
  }
  return value;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  if (const char* patients = std::getenv("MEDVAULT_BENCH_PATIENTS")) {
    flags.patients = ParseCount("patients", patients);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos) Usage("bad argument");
    std::string_view name = arg.substr(2, eq - 2);
    std::string_view value = arg.substr(eq + 1);
    if (name == "backend") {
      flags.backend = value;
      if (flags.backend != "sqlite" && flags.backend != "postgres") Usage("unknown backend");
    } else if (name == "data-dir") {
      flags.data_dir = value;
    } else if (name == "patients") {
      flags.patients = ParseCount(name, value);
    } else if (name == "budget-seconds") {
      flags.budget_seconds = static_cast<double>(ParseCount(name, value));
    } else if (name == "batch") {
      flags.batch = ParseCount(name, value);
    } else if (name == "get-ops") {
      flags.get_ops = ParseCount(name, value);
    } else if (name == "put-ops") {
      flags.put_ops = ParseCount(name, value);
    } else if (name == "searches") {
      flags.searches = ParseCount(name, value);
    } else if (name == "search-limit") {
      flags.search_limit = ParseCount(name, value);
    } else if (name == "out") {
      flags.out = value;
    } else {
      Usage(fmt::format("unknown flag --{}", name));
    }
  }
  return flags;
}

double Seconds(Clock::duration elapsed) { return std::chrono::duration<double>(elapsed).count(); }

store::Timestamp Now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// "1234567" -> "1,234,567".
std::string Grouped(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

// Latencies of one kind of operation.
class Samples {
 public:
  void Add(Clock::duration elapsed) { micros_.push_back(Seconds(elapsed) * 1e6); }
  std::size_t count() const { return micros_.size(); }
  double OpsPerSecond() const {
    double total = 0;
    for (double micros : micros_) total += micros;
    return total > 0 ? static_cast<double>(micros_.size()) / (total / 1e6) : 0;
  }
  // Nearest-rank percentile, in microseconds.
  double Percentile(double p) const {
    if (micros_.empty()) return 0;
    std::vector<double> sorted = micros_;
    std::sort(sorted.begin(), sorted.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
  }

 private:
  std::vector<double> micros_;
};

std::string Micros(double micros) {
  return micros >= 1000 ? fmt::format("{:.2f} ms", micros / 1000)
                        : fmt::format("{:.0f} µs", micros);
}

std::string Row(std::string_view operation, const Samples& samples) {
  return fmt::format("| {} | {} | {} | {} | {} |\n", operation, Grouped(samples.count()),
                     Grouped(static_cast<std::uint64_t>(samples.OpsPerSecond() + 0.5)),
                     Micros(samples.Percentile(50)), Micros(samples.Percentile(99)));
}

// The benchmark's own master key: the data is synthetic, the key only has to be stable so
// that a kept SQLite store opens again.
class BenchKeys final : public crypto::KekSource {
 public:
  Result<std::vector<std::unique_ptr<crypto::Kek>>> Load() const override {
    auto bytes = Secret::CopyOf(std::vector<std::uint8_t>(crypto::kAeadKeyBytes, 0x5a));
    if (!bytes) return std::unexpected(bytes.error());
    auto kek = crypto::LocalKek::Create(1, std::move(*bytes));
    if (!kek) return std::unexpected(kek.error());
    std::vector<std::unique_ptr<crypto::Kek>> keks;
    keks.push_back(std::move(*kek));
    return keks;
  }
};

std::unique_ptr<records::SealedStore> OpenSealed(store::Store& store,
                                                 const crypto::KekSource& keys,
                                                 std::size_t max_search_candidates) {
  records::SealedStore::Options options;
  options.max_search_candidates = max_search_candidates;
  options.on_integrity_failure = [](const records::IntegrityFailure& failure) {
    fmt::print(stderr, "bench_store: integrity failure: {} {}\n", failure.what,
               failure.resource_type);
    std::exit(1);
  };
  auto sealed = records::SealedStore::Open(store, keys, std::move(options));
  if (!sealed) Die("open the sealed store", sealed.error());
  return std::move(*sealed);
}

store::ResourceWrite PlainWrite(const GeneratedPatient& patient, std::int64_t expected_version) {
  return {.resource_type = std::string(kPlainPatient),
          .id = patient.id,
          .expected_version = expected_version,
          .patient_id = patient.id,
          .key_id = std::string(kPlainKeyId),
          .payload = store::Bytes(patient.json.begin(), patient.json.end()),
          .index = {},
          .recorded_at = Now()};
}

records::SealedWrite SealedWriteOf(const GeneratedPatient& patient, std::int64_t expected_version) {
  return {.resource_type = std::string(kPatient),
          .id = patient.id,
          .expected_version = expected_version,
          .patient_id = patient.id,
          .json = patient.json,
          .recorded_at = Now()};
}

// What generating the store took.
struct Generation {
  std::uint64_t patients = 0;
  std::uint64_t requested = 0;
  double sealed_seconds = 0;  // SealedStore::PutAll
  double plain_seconds = 0;   // the plaintext twins
  double budget_seconds = 0;
  std::size_t batch = 0;
  std::string date;
  bool reused = false;
  std::uint64_t extra_patients = 0;  // written by the put benchmarks of earlier runs
};

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%MZ", std::gmtime(&now));
  return text;
}

std::optional<Generation> ReadMarker(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, std::string> values;
  for (std::string line; std::getline(in, line);) {
    if (auto eq = line.find('='); eq != std::string::npos) {
      values[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  if (!values.contains("patients") || !values.contains("sealed_seconds")) return std::nullopt;
  Generation g;
  g.patients = std::stoull(values["patients"]);
  g.requested = std::stoull(values["requested"]);
  g.sealed_seconds = std::stod(values["sealed_seconds"]);
  g.plain_seconds = std::stod(values["plain_seconds"]);
  g.budget_seconds = std::stod(values["budget_seconds"]);
  g.batch = std::stoull(values["batch"]);
  g.date = values["date"];
  g.extra_patients = values.contains("extra_patients") ? std::stoull(values["extra_patients"]) : 0;
  g.reused = true;
  return g;
}

void WriteMarker(const fs::path& path, const Generation& g) {
  std::ofstream out(path.string() + ".new");
  out << "patients=" << g.patients << "\nrequested=" << g.requested
      << "\nsealed_seconds=" << g.sealed_seconds << "\nplain_seconds=" << g.plain_seconds
      << "\nbudget_seconds=" << g.budget_seconds << "\nbatch=" << g.batch << "\ndate=" << g.date
      << "\nextra_patients=" << g.extra_patients << "\n";
  out.close();
  fs::rename(path.string() + ".new", path);
}

// Fills the store with patients 0..N-1 and their plaintext twins, batch by batch, until N
// or the budget.
Generation Generate(records::SealedStore& sealed, store::Store& store,
                    const PatientGenerator& generator, const Flags& flags, std::string_view label) {
  Generation g;
  g.requested = flags.patients;
  g.budget_seconds = flags.budget_seconds;
  g.batch = flags.batch;
  g.date = UtcNow();
  std::uint64_t next_report = 50'000;
  while (g.patients < flags.patients && g.sealed_seconds + g.plain_seconds < flags.budget_seconds) {
    const std::uint64_t count = std::min<std::uint64_t>(flags.batch, flags.patients - g.patients);
    std::vector<GeneratedPatient> patients;
    patients.reserve(count);
    for (std::uint64_t n = g.patients; n < g.patients + count; ++n) {
      patients.push_back(generator.Make(n));
    }
    // Generating the JSON is not part of the store's cost: time the writes only.
    std::vector<records::SealedWrite> writes;
    writes.reserve(count);
    for (const auto& patient : patients) writes.push_back(SealedWriteOf(patient, 0));
    auto start = Clock::now();
    if (auto put = sealed.PutAll(writes); !put) Die("PutAll", put.error());
    g.sealed_seconds += Seconds(Clock::now() - start);

    std::vector<store::ResourceWrite> plain;
    plain.reserve(count);
    for (const auto& patient : patients) plain.push_back(PlainWrite(patient, 0));
    start = Clock::now();
    auto written = store.Transact([&](store::Transaction& transaction) -> Status {
      for (const auto& write : plain) {
        if (auto put = transaction.Put(write); !put) return std::unexpected(put.error());
      }
      return {};
    });
    if (!written) Die("plaintext put", written.error());
    g.plain_seconds += Seconds(Clock::now() - start);
    g.patients += count;
    if (g.patients >= next_report) {
      fmt::print(stderr, "bench_store: {}: {} patients, {:.0f} patients/s sealed, {:.0f} s\n",
                 label, Grouped(g.patients), static_cast<double>(g.patients) / g.sealed_seconds,
                 g.sealed_seconds + g.plain_seconds);
      next_report += 50'000;
    }
  }
  return g;
}

// Reads a file once so that the measurements start from a warm operating-system cache.
void ReadThrough(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chunk(1 << 20);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
  }
}

struct GetResults {
  Samples encrypted;
  Samples plain;
  Samples encrypted_hot;
  Samples storage_only;
};

GetResults BenchGets(records::SealedStore& sealed, store::Store& store, std::uint64_t patients,
                     std::size_t ops) {
  const policy::PhiAccess access = policy::PhiAccessForTesting::Grant("bench_store");
  std::mt19937_64 random(kSeed);
  std::uniform_int_distribution<std::uint64_t> pick(0, patients - 1);
  auto encrypted_get = [&](std::string_view id, Samples* samples) {
    auto start = Clock::now();
    auto got = sealed.Get(access, kPatient, id);
    auto elapsed = Clock::now() - start;
    if (!got) Die("encrypted get", got.error());
    if (got->json.view().empty()) Die("encrypted get", Error(ErrorCode::kInternal, "empty"));
    if (samples) samples->Add(elapsed);
  };
  auto plain_get = [&](std::string_view id, Samples* samples) {
    auto start = Clock::now();
    auto got = store.Get(kPlainPatient, id);
    auto elapsed = Clock::now() - start;
    if (!got) Die("plaintext get", got.error());
    if (got->payload.empty()) Die("plaintext get", Error(ErrorCode::kInternal, "empty"));
    if (samples) samples->Add(elapsed);
  };

  // Warm-up: prepared statements, connection pool, caches.
  for (int i = 0; i < 2000; ++i) {
    encrypted_get(PatientGenerator::PatientId(pick(random)), nullptr);
    plain_get(PatientGenerator::PatientId(pick(random)), nullptr);
  }
  GetResults results;
  constexpr std::size_t kBlock = 500;
  for (std::size_t done = 0; done < ops; done += kBlock) {
    for (std::size_t i = 0; i < kBlock; ++i) {
      encrypted_get(PatientGenerator::PatientId(pick(random)), &results.encrypted);
    }
    for (std::size_t i = 0; i < kBlock; ++i) {
      plain_get(PatientGenerator::PatientId(pick(random)), &results.plain);
    }
  }

  // Diagnostics: the same get when the patient's data key is already unwrapped (1,000
  // patients cycled, fewer than the DEK cache holds), and the storage part of an encrypted
  // get alone: the two reads ReadOne makes (resource, then wrapped key), without crypto.
  std::vector<std::string> hot;
  for (int i = 0; i < 1000; ++i) hot.push_back(PatientGenerator::PatientId(pick(random)));
  for (const auto& id : hot) encrypted_get(id, nullptr);
  for (std::size_t i = 0; i < ops / 2; ++i)
    encrypted_get(hot[i % hot.size()], &results.encrypted_hot);
  for (std::size_t i = 0; i < ops / 2; ++i) {
    const std::string id = PatientGenerator::PatientId(pick(random));
    auto start = Clock::now();
    auto read = store.Transact(
        [&](store::Transaction& transaction) -> Status {
          auto version = transaction.Get(kPatient, id);
          if (!version) return std::unexpected(version.error());
          auto key = transaction.GetWrappedKey(version->patient_id);
          if (!key) return std::unexpected(key.error());
          return {};
        },
        store::Access::kReadOnly);
    auto elapsed = Clock::now() - start;
    if (!read) Die("storage read", read.error());
    results.storage_only.Add(elapsed);
  }
  return results;
}

struct PutResults {
  Samples encrypted;
  Samples plain;
  double put_all_new_per_second = 0;
  double put_all_existing_per_second = 0;
  std::size_t batch = 0;
  std::uint64_t written = 0;
};

PutResults BenchPuts(records::SealedStore& sealed, store::Store& store,
                     const PatientGenerator& generator, std::uint64_t first_n, const Flags& flags) {
  // Ids unique to this run, so a kept store takes them as new patients.
  const std::string run = fmt::format("{:x}", std::time(nullptr));
  PutResults results;
  results.batch = flags.batch;
  std::uint64_t n = first_n;
  for (std::size_t i = 0; i < flags.put_ops; ++i, ++n) {
    const GeneratedPatient patient = generator.Make(n, fmt::format("put-{}-{}", run, i));
    const records::SealedWrite write = SealedWriteOf(patient, 0);
    auto start = Clock::now();
    auto put = sealed.Put(write);
    auto elapsed = Clock::now() - start;
    if (!put) Die("encrypted put", put.error());
    results.encrypted.Add(elapsed);

    const store::ResourceWrite plain = PlainWrite(patient, 0);
    start = Clock::now();
    auto plain_put = store.Put(plain);
    elapsed = Clock::now() - start;
    if (!plain_put) Die("plaintext put", plain_put.error());
    results.plain.Add(elapsed);
  }

  // One PutAll batch of new patients, then one of new versions of the same patients, whose
  // data keys exist by then.
  std::vector<GeneratedPatient> batch;
  for (std::size_t i = 0; i < flags.batch; ++i, ++n) {
    batch.push_back(generator.Make(n, fmt::format("putall-{}-{}", run, i)));
  }
  for (std::int64_t expected : {0, 1}) {
    std::vector<records::SealedWrite> writes;
    for (const auto& patient : batch) writes.push_back(SealedWriteOf(patient, expected));
    auto start = Clock::now();
    auto put = sealed.PutAll(writes);
    const double seconds = Seconds(Clock::now() - start);
    if (!put) Die("PutAll", put.error());
    (expected == 0 ? results.put_all_new_per_second : results.put_all_existing_per_second) =
        static_cast<double>(writes.size()) / seconds;
  }
  results.written = flags.put_ops + flags.batch;
  return results;
}

struct SearchResults {
  std::size_t searches = 0;
  Samples answered;  // latencies of the searches that returned results
  Samples refused;   // kUnavailable: more candidates than max_search_candidates
  std::uint64_t results = 0;
};

struct SearchBench {
  SearchResults capped;    // default SealedStore options
  SearchResults uncapped;  // max_search_candidates raised so that every search answers
  std::size_t max_candidates_default = 0;
  std::size_t max_candidates_raised = 0;
  std::size_t queries = 0;
  Samples lookup;  // Store::Lookup of the query token alone, all candidates
  std::vector<std::size_t> candidates;
};

// Distinct family-name prefixes of 3..6 characters of the generator's names, as typed
// (accents kept), in random order, at most `count`. Prefixes that end in a space or an
// apostrophe are left out (nobody searches for them), and so are prefixes that normalize to
// the same query as one already taken, so that no search repeats another.
std::vector<std::string> SearchQueries(std::size_t count) {
  std::vector<std::string> queries;
  std::set<std::string> seen;  // normalized
  for (std::string_view name : PatientGenerator::FamilyNames()) {
    std::vector<std::size_t> ends;  // byte offset after each code point
    for (std::size_t i = 1; i <= name.size(); ++i) {
      if (i == name.size() || (static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) {
        ends.push_back(i);
      }
    }
    for (std::size_t length = 3; length <= 6 && length <= ends.size(); ++length) {
      std::string prefix(name.substr(0, ends[length - 1]));
      if (prefix.ends_with(' ') || prefix.ends_with('\'') || prefix.ends_with('-')) continue;
      auto normalized = crypto::Normalize(crypto::ValueKind::kName, prefix);
      if (!normalized) continue;
      std::size_t letters = 0;
      for (char c : *normalized) letters += c != ' ';
      if (letters < crypto::kMinNamePrefix) continue;
      if (seen.insert(*normalized).second) queries.push_back(std::move(prefix));
    }
  }
  std::mt19937_64 random(kSeed + 1);
  std::shuffle(queries.begin(), queries.end(), random);
  if (queries.size() > count) queries.resize(count);
  return queries;
}

// One search, timed; kUnavailable (too many candidates) is counted as refused.
void RunSearch(records::SealedStore& sealed, const std::string& query, std::size_t limit,
               SearchResults& results) {
  const policy::PhiAccess access = policy::PhiAccessForTesting::Grant("bench_store");
  auto start = Clock::now();
  auto found = sealed.Search(access, kPatient, kFamilyField, query, limit);
  auto elapsed = Clock::now() - start;
  ++results.searches;
  if (found) {
    results.answered.Add(elapsed);
    results.results += found->size();
  } else if (found.error().code() == ErrorCode::kUnavailable) {
    results.refused.Add(elapsed);
  } else {
    Die("search", found.error());
  }
}

SearchBench BenchSearches(store::Store& store, const crypto::KekSource& keys,
                          const Flags& flags) {
  SearchBench bench;
  bench.max_candidates_default = records::SealedStore::Options{}.max_search_candidates;
  bench.max_candidates_raised = 10'000'000;
  const auto queries = SearchQueries(flags.searches);
  bench.queries = queries.size();
  // Each configuration gets a SealedStore of its own, opened here: data-key caches start
  // empty, and no configuration warms the other's.
  auto capped = OpenSealed(store, keys, bench.max_candidates_default);
  auto uncapped = OpenSealed(store, keys, bench.max_candidates_raised);

  // How many candidates each query's token has: the store's side of a search.
  auto index =
      crypto::BlindIndex::Open(capped->derived_keys(), kFamilyField, crypto::ValueKind::kName);
  if (!index) Die("blind index", index.error());
  for (const std::string& query : queries) {
    auto token = index->QueryToken(query);
    if (!token) Die("query token", token.error());
    auto start = Clock::now();
    auto ids = store.Lookup(kPatient, kFamilyField, token->bytes, "", bench.max_candidates_raised);
    bench.lookup.Add(Clock::now() - start);
    if (!ids) Die("lookup", ids.error());
    bench.candidates.push_back(ids->size());
  }
  // The two configurations take turns going first, query by query.
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (i % 2 == 0) {
      RunSearch(*capped, queries[i], flags.search_limit, bench.capped);
      RunSearch(*uncapped, queries[i], flags.search_limit, bench.uncapped);
    } else {
      RunSearch(*uncapped, queries[i], flags.search_limit, bench.uncapped);
      RunSearch(*capped, queries[i], flags.search_limit, bench.capped);
    }
  }
  return bench;
}

std::uintmax_t SqliteBytes(const fs::path& db) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto size = fs::file_size(db.string() + suffix, ec);
    if (!ec) total += size;
  }
  return total;
}

// The 1-, 5- and 15-minute load averages: how busy the shared cores were.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return in ? fmt::format("{} {} {}", one, five, fifteen) : "unknown";
}

std::string Gigabytes(std::uintmax_t bytes) {
  return fmt::format("{:.2f} GB", static_cast<double>(bytes) / 1e9);
}

std::string Duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.1f} s", seconds);
  return fmt::format("{:.1f} min", seconds / 60);
}

std::size_t PercentileOf(std::vector<std::size_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::string SearchRow(std::string_view config, const SearchResults& r) {
  const std::size_t answered = r.answered.count();
  return fmt::format(
      "| {} | {} | {} | {} | {} | {} | {} |\n", config, Grouped(r.searches), Grouped(answered),
      Grouped(r.refused.count()),
      answered > 0 ? Micros(r.answered.Percentile(50)) + " / " + Micros(r.answered.Percentile(99))
                   : "-",
      r.refused.count() > 0
          ? Micros(r.refused.Percentile(50)) + " / " + Micros(r.refused.Percentile(99))
          : "-",
      answered > 0
          ? fmt::format("{:.1f}", static_cast<double>(r.results) / static_cast<double>(answered))
          : "-");
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  if (auto ok = InitSodium(); !ok) Die("libsodium", ok.error());
  const bool sqlite = flags.backend == "sqlite";
  const std::string label = sqlite ? "SQLite" : "PostgreSQL";

  const fs::path db = flags.data_dir / "sqlite.db";
  const fs::path marker = flags.data_dir / "sqlite.marker";
  std::optional<Generation> kept;
  std::string url;
  if (sqlite) {
    fs::create_directories(flags.data_dir);
    kept = ReadMarker(marker);
    // A store generated for another N or budget is made again.
    if (kept &&
        (kept->requested != flags.patients || kept->budget_seconds != flags.budget_seconds)) {
      kept.reset();
    }
    if (!kept) {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
    }
    url = "sqlite:" + db.string();
  } else {
    auto created = store::CreatePostgresDatabase();
    if (!created) Die("PostgreSQL database", created.error());
    url = *created;
  }
  auto opened = store::Store::Open(url);
  if (!opened) Die("open the store", opened.error());
  store::Store& store = **opened;
  const BenchKeys keys;
  auto sealed = OpenSealed(store, keys, records::SealedStore::Options{}.max_search_candidates);
  const PatientGenerator generator(kSeed);

  Generation generation;
  if (kept) {
    generation = *kept;
    fmt::print(stderr, "bench_store: {}: reusing {} patients generated {}\n", label,
               Grouped(generation.patients), generation.date);
    ReadThrough(db);
  } else {
    fmt::print(stderr, "bench_store: {}: generating up to {} patients (budget {:.0f} s)\n", label,
               Grouped(flags.patients), flags.budget_seconds);
    generation = Generate(*sealed, store, generator, flags, label);
    if (sqlite) WriteMarker(marker, generation);
  }
  const std::string load_before = LoadAverage();
  fmt::print(stderr, "bench_store: {}: gets\n", label);
  const GetResults gets = BenchGets(*sealed, store, generation.patients, flags.get_ops);
  fmt::print(stderr, "bench_store: {}: searches\n", label);
  const SearchBench searches = BenchSearches(store, keys, flags);
  fmt::print(stderr, "bench_store: {}: puts\n", label);
  const PutResults puts =
      BenchPuts(*sealed, store, generator,
                generation.patients + generation.extra_patients + 1'000'000'000ULL, flags);
  const std::string load_after = LoadAverage();
  if (sqlite) {
    generation.extra_patients += puts.written;
    WriteMarker(marker, generation);
  }

  std::string size;
  if (sqlite) {
    size = Gigabytes(SqliteBytes(db));
  } else {
    auto bytes = store::RunPsql(url, "SELECT pg_database_size(current_database())");
    size = bytes ? Gigabytes(std::stoull(*bytes)) : "unknown";
  }

  std::string out;
  const double total = generation.sealed_seconds + generation.plain_seconds;
  out += fmt::format("### {}: N = {} patients\n\n", label, Grouped(generation.patients));
  out += fmt::format(
      "Generation{}: {} patients through `SealedStore::PutAll` in batches of {} in {} "
      "({:.0f} patients/s), plus their plaintext twins through `Store::Transact` in {}; "
      "{} requested, time budget {}{}. Database size after the run: {}.{}\n\n",
      generation.reused ? fmt::format(" (kept from {})", generation.date)
                        : fmt::format(" ({})", generation.date),
      Grouped(generation.patients), generation.batch, Duration(generation.sealed_seconds),
      static_cast<double>(generation.patients) / generation.sealed_seconds,
      Duration(generation.plain_seconds), Grouped(generation.requested),
      Duration(generation.budget_seconds),
      generation.patients < generation.requested
          ? fmt::format(
                ": **the budget ran out at {} patients**; at the measured rate {} would take "
                "about {}",
                Grouped(generation.patients), Grouped(generation.requested),
                Duration(static_cast<double>(generation.requested) * total /
                         static_cast<double>(generation.patients)))
          : "",
      size,
      generation.extra_patients > 0 && generation.reused
          ? fmt::format(" The kept store also holds {} patients written by put benchmarks.",
                        Grouped(generation.extra_patients - puts.written))
          : "");

  out += "| operation | ops | ops/s | p50 | p99 |\n|---|---:|---:|---:|---:|\n";
  out += Row("encrypted `SealedStore::Get`, random patient", gets.encrypted);
  out += Row("plaintext `Store::Get` of the PlainPatient twin, random patient", gets.plain);
  out += fmt::format("| **ratio encrypted / plaintext get ops/s** | | **{:.2f}** | | |\n",
                     gets.encrypted.OpsPerSecond() / gets.plain.OpsPerSecond());
  out += Row("encrypted get, data key cached (1,000 patients cycled)", gets.encrypted_hot);
  out += Row("storage part of an encrypted get: resource + wrapped key reads, no crypto",
             gets.storage_only);
  out += Row("encrypted `SealedStore::Put`, new patient", puts.encrypted);
  out += Row("plaintext `Store::Put`, new PlainPatient row", puts.plain);
  out += fmt::format("| `PutAll` of {} new patients (one call) | {} | {:.0f} patients/s | | |\n",
                     puts.batch, Grouped(puts.batch), puts.put_all_new_per_second);
  out += fmt::format(
      "| `PutAll` of {} new versions of existing patients (one call) | {} | {:.0f} patients/s "
      "| | |\n\n",
      puts.batch, Grouped(puts.batch), puts.put_all_existing_per_second);

  out += fmt::format(
      "Name search: `SealedStore::Search(\"Patient\", \"{}\", prefix, limit {})` with {} "
      "distinct family-name prefixes of 3 to 6 characters as typed (accents kept), run once "
      "each. Candidates per "
      "query token (`Store::Lookup`, all of them): p50 {}, p99 {}, max {}; the lookup alone "
      "p50 {}, p99 {}.\n\n",
      kFamilyField, flags.search_limit, Grouped(searches.queries),
      Grouped(PercentileOf(searches.candidates, 50)),
      Grouped(PercentileOf(searches.candidates, 99)),
      Grouped(PercentileOf(searches.candidates, 100)), Micros(searches.lookup.Percentile(50)),
      Micros(searches.lookup.Percentile(99)));
  out +=
      "| max_search_candidates | searches | answered | refused (kUnavailable) | answered p50 / "
      "p99 | refused p50 / p99 | results per answered search |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  out += SearchRow(fmt::format("{} (default)", Grouped(searches.max_candidates_default)),
                   searches.capped);
  out += SearchRow(fmt::format("{} (raised)", Grouped(searches.max_candidates_raised)),
                   searches.uncapped);
  out += "\n";

  const double ratio = gets.encrypted.OpsPerSecond() / gets.plain.OpsPerSecond();
  out += fmt::format("Targets on {}:\n\n", label);
  out +=
      fmt::format("- encrypted get at least 80% as fast as plaintext get: **{}** (ratio {:.2f}).\n",
                  ratio >= 0.8 ? "met" : "not met", ratio);
  const SearchResults& product = searches.capped;
  std::string search_verdict;
  if (product.refused.count() > 0) {
    search_verdict = fmt::format(
        "**not met**: with the default options {} of {} searches are refused (kUnavailable: "
        "more than {} candidates); with the cap raised, p99 is {}",
        Grouped(product.refused.count()), Grouped(product.searches),
        Grouped(searches.max_candidates_default),
        Micros(searches.uncapped.answered.Percentile(99)));
  } else {
    search_verdict =
        fmt::format("**{}** (p99 {})", product.answered.Percentile(99) < 2000 ? "met" : "not met",
                    Micros(product.answered.Percentile(99)));
  }
  out += fmt::format(
      "- name search p99 under 2 ms{}: {}{}.\n", sqlite ? "" : " (set for SQLite)", search_verdict,
      generation.patients < 1'000'000
          ? fmt::format(", measured at {} patients, not 1,000,000", Grouped(generation.patients))
          : "");
  out += fmt::format(
      "\nOne client thread. Load average (1/5/15 min) at the start of the measurements {}, at "
      "the end {}, on {} cores shared with other work.\n\n",
      load_before, load_after, std::thread::hardware_concurrency());

  if (flags.out.empty()) {
    fmt::print("{}", out);
  } else {
    std::ofstream file(flags.out);
    file << out;
  }
  return 0;
}

}  // namespace
}  // namespace medvault::bench

int main(int argc, char** argv) { return medvault::bench::Main(argc, argv); }
