// kill -9 of the real `medvault serve` during a stream of FHIR writes, 20 times in a row on
// the same vault: a client thread streams creates (single Patients and Observations, and small
// transaction Bundles), the test kills the server with SIGKILL at a random (seeded) moment,
// restarts it and checks that every acknowledged write reads back unchanged, that every
// transaction sent is there whole or not at all, and that `medvault audit verify` passes.
// On SQLite, and on PostgreSQL (the fixture "pg").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kRounds = 20;
constexpr std::uint32_t kDefaultSeed = 20261202;
constexpr std::string_view kMrnSystem = "https://crash.example.org/mrn";

// MEDVAULT_CRASH_SEED replays another sequence of kill moments and writes.
std::uint32_t Seed() {
  const char* text = std::getenv("MEDVAULT_CRASH_SEED");
  return text != nullptr ? static_cast<std::uint32_t>(std::strtoul(text, nullptr, 10))
                         : kDefaultSeed;
}

json::object PatientObject(std::string_view marker) {
  json::object patient = json::parse(R"({"resourceType":"Patient","gender":"female",)"
                                     R"("name":[{"family":"Crashé","given":["Léa"]}],)"
                                     R"("birthDate":"1975-03-09"})")
                             .as_object();
  patient["identifier"] = json::array{json::object{{"system", kMrnSystem}, {"value", marker}}};
  return patient;
}

json::object ObservationObject(std::string_view subject, std::int64_t value) {
  json::object observation =
      json::parse(R"({"resourceType":"Observation","status":"final",)"
                  R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
                  R"("effectiveDateTime":"2026-11-02T08:30:00Z"})")
          .as_object();
  observation["subject"] = json::object{{"reference", subject}};
  observation["valueQuantity"] = json::object{{"value", value},
                                              {"unit", "mg/dL"},
                                              {"system", "http://unitsofmeasure.org"},
                                              {"code", "mg/dL"}};
  return observation;
}

// What the server acknowledged: the resource at Type/id must read back as `sent`.
struct Acknowledged {
  std::string type;
  std::string id;
  json::object sent;  // with its id
};

// One transaction sent: a Patient and an Observation PUT under ids the client chose, and an
// Observation POSTed, both Observations pointing to the Patient by its urn:uuid.
struct SentBundle {
  std::string patient_id;
  std::string observation_id;
  json::object patient;
  json::object put_observation;
  json::object posted_observation;  // without the id the server gives it
  bool acknowledged = false;
  std::string posted_id;  // when acknowledged
};

// Type and id of a Location ("…/fhir/Observation/abc/_history/1" or "Observation/abc/_history/1").
std::optional<std::pair<std::string, std::string>> ParseLocation(const std::string& location) {
  static const std::regex kLocation("(?:^|/)([A-Za-z]+)/([A-Za-z0-9.-]{1,64})/_history/[0-9]+$");
  std::smatch match;
  if (!std::regex_search(location, match, kLocation)) return std::nullopt;
  return std::pair{match[1].str(), match[2].str()};
}

json::object WithoutMeta(json::object resource) {
  resource.erase("meta");
  return resource;
}

class ServeCrash : public ::testing::Test {
 protected:
  void Run(Env env) {
    env_ = env;
    const std::string vault = vault_.path().string();
    ASSERT_EQ(RunMedvault({"init", "--dir", vault}, env_).exit_code, 0);
    server_env_ = WithRelaxedAuth(env_);
    // Durability, not budgets: the writer reads back every patient it wrote, far more than a
    // budget allows (the guard has its own tests in tests/redteam).
    server_env_["MEDVAULT_GUARD_ENABLED"] = "false";
    Restart();
    ASSERT_NE(server_, nullptr);
    // The writer is an integration client (a feed): it registers patients and writes their
    // results under its SMART scopes, without a care relation (a clinician would need one with
    // each new patient) or a lab (a lab technician sees only their lab's patients).
    token_ = ApiClientToken(server_->port(), vault_.path(), "crash-feed",
                            "system/Patient.cruds system/Observation.cruds", env_);
    ASSERT_FALSE(token_.empty()) << "the feed could not get a token";
    auto anchor = Post("/fhir/Patient", json::serialize(PatientObject("ANCHOR")));
    ASSERT_EQ(anchor.status, 201u) << anchor.body;
    anchor_ = Str(anchor.json, "id");

    const std::uint32_t seed = Seed();
    SCOPED_TRACE("MEDVAULT_CRASH_SEED=" + std::to_string(seed));
    std::size_t acknowledged_total = 0;
    std::size_t bundles_total = 0;
    std::size_t cut_transactions = 0;
    for (int round = 0; round < kRounds; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      std::mt19937 random(seed + static_cast<std::uint32_t>(round));
      const std::size_t first_ack = acknowledged_.size();
      const std::size_t first_bundle = bundles_.size();
      std::atomic<bool> stop{false};
      std::atomic<int> answered{0};
      std::uint32_t writer_seed = random();
      std::thread writer([&] {
        std::mt19937 choose(writer_seed);
        for (int n = 0; !stop.load(); ++n) {
          Write(round, n, choose);
          answered.fetch_add(1);
        }
      });
      // Wait for the stream to run (a first answer), then kill it at a random moment.
      const auto started = std::chrono::steady_clock::now();
      while (answered.load() == 0 && std::chrono::steady_clock::now() - started < 20s) {
        std::this_thread::sleep_for(1ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 700));
      stop.store(true);
      server_->Signal(SIGKILL);
      writer.join();
      ASSERT_TRUE(server_->Wait(10s).has_value()) << "the server outlived SIGKILL";
      if (bundles_.size() > first_bundle && !bundles_.back().acknowledged) ++cut_transactions;

      Restart();
      ASSERT_NE(server_, nullptr);
      auto verify = RunMedvault({"audit", "verify", "--dir", vault}, env_);
      EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
      CheckAcknowledged(first_ack, acknowledged_.size());
      CheckBundles(first_bundle, bundles_.size());
      acknowledged_total = acknowledged_.size();
      bundles_total = bundles_.size();
      if (HasFatalFailure()) return;
    }
    // Nothing acknowledged in an earlier round was lost to a later crash.
    CheckAcknowledged(0, acknowledged_.size());
    CheckBundles(0, bundles_.size());
    EXPECT_GT(acknowledged_total, static_cast<std::size_t>(kRounds)) << "the stream wrote little";
    EXPECT_GT(bundles_total, 0u);
    // The writer is always in a request: most kills cut one.
    EXPECT_GE(unanswered_.load(), kRounds / 2) << "the kills did not land during writes";
    std::cout << "crash test: " << acknowledged_total << " acknowledged writes, " << bundles_total
              << " transactions sent, " << unanswered_.load() << " writes cut by a kill ("
              << cut_transactions << " transactions)\n";
  }

  Http As(unsigned short port, std::string_view method, std::string_view target,
          std::string_view body = "") {
    return Send(port, method, target, body, {"Authorization: Bearer " + token_}, kFhirJson);
  }

  void Restart() {
    server_.reset();
    server_ = ServerProcess::Start(vault_.path(), server_env_);
  }

  Http Post(std::string_view target, const std::string& body) {
    return As(server_->port(), "POST", target, body);
  }
  Http Get(const std::string& target) { return As(server_->port(), "GET", target); }

  // One write of the stream; what was acknowledged is recorded (the writer thread only).
  void Write(int round, int n, std::mt19937& choose) {
    const std::string marker = "CR-" + std::to_string(round) + "-" + std::to_string(n);
    const unsigned kind = choose() % 3;
    const unsigned short port = server_->port();
    if (kind == 0 || kind == 1) {
      json::object sent = kind == 0 ? PatientObject(marker)
                                    : ObservationObject("Patient/" + anchor_, 1000 * round + n);
      const std::string type = kind == 0 ? "Patient" : "Observation";
      auto answer = As(port, "POST", "/fhir/" + type, json::serialize(sent));
      if (answer.status == 0) {  // cut by the kill: maybe written, maybe not
        unanswered_.fetch_add(1);
        return;
      }
      if (answer.status != 201) {
        ADD_FAILURE() << "a create was refused: " << answer.status << " " << answer.body;
        return;
      }
      auto location = ParseLocation(answer.Header("Location"));
      if (!location || location->first != type) {
        ADD_FAILURE() << "a create answered without its Location";
        return;
      }
      sent["id"] = location->second;
      std::lock_guard lock(mutex_);
      acknowledged_.push_back({type, location->second, std::move(sent)});
      return;
    }
    SentBundle bundle;
    bundle.patient_id = "crash-" + std::to_string(round) + "-" + std::to_string(n) + "-p";
    bundle.observation_id = "crash-" + std::to_string(round) + "-" + std::to_string(n) + "-o";
    char tail[16];
    std::snprintf(tail, sizeof tail, "%012d", round * 100000 + n);
    const std::string urn = "urn:uuid:7a1c2a3e-0000-4000-8000-" + std::string(tail);
    bundle.patient = PatientObject(marker);
    bundle.patient["id"] = bundle.patient_id;
    bundle.put_observation = ObservationObject(urn, 2 * (1000 * round + n));
    bundle.put_observation["id"] = bundle.observation_id;
    bundle.posted_observation = ObservationObject(urn, 2 * (1000 * round + n) + 1);
    json::array entries{
        json::object{{"fullUrl", urn},
                     {"resource", bundle.patient},
                     {"request", {{"method", "PUT"}, {"url", "Patient/" + bundle.patient_id}}}},
        json::object{
            {"resource", bundle.put_observation},
            {"request", {{"method", "PUT"}, {"url", "Observation/" + bundle.observation_id}}}},
        json::object{{"resource", bundle.posted_observation},
                     {"request", {{"method", "POST"}, {"url", "Observation"}}}}};
    // What reads back names the Patient by its id, not by the urn:uuid.
    bundle.put_observation["subject"] = json::object{{"reference", "Patient/" + bundle.patient_id}};
    bundle.posted_observation["subject"] =
        json::object{{"reference", "Patient/" + bundle.patient_id}};
    {
      std::lock_guard lock(mutex_);
      bundles_.push_back(bundle);  // sent: checked whole or absent, answered or not
    }
    auto answer = As(port, "POST", "/fhir",
                     json::serialize(json::object{
                         {"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", entries}}));
    if (answer.status == 0) {
      unanswered_.fetch_add(1);
      return;
    }
    if (answer.status != 200) {
      ADD_FAILURE() << "a transaction was refused: " << answer.status << " " << answer.body;
      return;
    }
    const auto* answers = answer.json.if_contains("entry");
    if (answers == nullptr || !answers->is_array() || answers->as_array().size() != 3) {
      ADD_FAILURE() << "a transaction answered without its 3 entries: " << answer.body;
      return;
    }
    const auto& posted = answers->as_array()[2].as_object();
    auto location = ParseLocation(Str(posted.at("response").as_object(), "location"));
    if (!location) {
      ADD_FAILURE() << "a transaction's POST answered without its location: " << answer.body;
      return;
    }
    std::lock_guard lock(mutex_);
    bundles_.back().acknowledged = true;
    bundles_.back().posted_id = location->second;
  }

  // Reads Type/id back: the resource as stored, without meta, or nullopt with the status.
  std::optional<json::object> ReadBack(const std::string& type, const std::string& id,
                                       unsigned* status = nullptr) {
    auto read = Get("/fhir/" + type + "/" + id);
    if (status != nullptr) *status = read.status;
    if (read.status != 200) return std::nullopt;
    return WithoutMeta(read.json);
  }

  void CheckAcknowledged(std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) {
      const Acknowledged& ack = acknowledged_[i];
      unsigned status = 0;
      auto read = ReadBack(ack.type, ack.id, &status);
      ASSERT_TRUE(read.has_value())
          << "an acknowledged " << ack.type << " is lost: GET answered " << status;
      EXPECT_EQ(json::value(*read), json::value(ack.sent))
          << "an acknowledged " << ack.type << " reads back changed";
    }
  }

  void CheckBundles(std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) {
      const SentBundle& bundle = bundles_[i];
      unsigned patient_status = 0;
      unsigned observation_status = 0;
      auto patient = ReadBack("Patient", bundle.patient_id, &patient_status);
      auto observation = ReadBack("Observation", bundle.observation_id, &observation_status);
      auto listed = Get("/fhir/Observation?patient=" + bundle.patient_id);
      ASSERT_EQ(listed.status, 200u) << listed.body;
      std::vector<json::object> compartment;
      if (const auto* entries = listed.json.if_contains("entry")) {
        for (const auto& entry : entries->as_array()) {
          compartment.push_back(WithoutMeta(entry.at("resource").as_object()));
        }
      }
      const bool whole = patient && observation && compartment.size() == 2;
      const bool absent = patient_status == 404 && observation_status == 404 && compartment.empty();
      ASSERT_TRUE(whole || absent)
          << "a transaction is half there: Patient " << patient_status << ", Observation "
          << observation_status << ", " << compartment.size() << " Observations listed"
          << (bundle.acknowledged ? " (acknowledged)" : " (not answered)");
      if (bundle.acknowledged) {
        ASSERT_TRUE(whole) << "an acknowledged transaction is lost";
        EXPECT_EQ(json::value(*patient), json::value(bundle.patient));
        EXPECT_EQ(json::value(*observation), json::value(bundle.put_observation));
        json::object posted = bundle.posted_observation;
        posted["id"] = bundle.posted_id;
        const json::value expected_posted(posted);
        EXPECT_TRUE(json::value(compartment[0]) == expected_posted ||
                    json::value(compartment[1]) == expected_posted)
            << "the POSTed Observation of an acknowledged transaction reads back changed";
      }
    }
  }

  TempDir vault_;
  Env env_;
  Env server_env_;
  std::unique_ptr<ServerProcess> server_;
  std::string token_;  // the writer's access token
  std::string anchor_;
  std::mutex mutex_;  // guards acknowledged_ and bundles_ while the writer runs
  std::vector<Acknowledged> acknowledged_;
  std::vector<SentBundle> bundles_;
  std::atomic<int> unanswered_{0};  // writes sent that the kill left without an answer
};

TEST_F(ServeCrash, EveryAcknowledgedWriteSurvivesTwentyKillsOnSqlite) { Run({}); }

TEST_F(ServeCrash, EveryAcknowledgedWriteSurvivesTwentyKillsOnPostgres) {
  auto url = store::CreatePostgresDatabase();
  ASSERT_TRUE(url) << url.error().message();
  Run({{"MEDVAULT_STORE_URL", *url}});
}

}  // namespace
}  // namespace medvault::testing
