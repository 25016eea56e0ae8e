// The scrape replay of case 3 (THREATS.md): a stolen clinician session (enrolled with oathtool
// codes, through the real binary over TLS) pulls patients as fast as it can, through search
// paging and from 8 parallel connections reading by id, on SQLite and PostgreSQL. Each test
// asserts the account was suspended (403, the cookie dead, the login refused with the reason,
// one alert for the security console and the webhook) and reports how many distinct patients'
// data it received first (target: at most 50, against 758,912). A slow scraper under the
// minute budget is stopped by the hour budget; a canary planted by `medvault demo` suspends on
// the first request that touches it.
//
// Clinicians open only the patients of their care relations (issue 8, policy), so the scraping
// clinician is on a CareTeam with every test patient, as on a hospital ward: the worst case
// left for the guard to stop. A lab technician loads the patients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/records/smtp_sink.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr int kPatients = 120;
constexpr std::size_t kTargetAtMost = 50;

std::string Urn(int i) {
  const std::string digits = std::to_string(i);
  return "urn:uuid:6f1c2a3e-0000-4000-8000-" + std::string(12 - digits.size(), '0') + digits;
}

// Patients and one Observation each, in one transaction (writes are not counted by the guard).
std::string LoadBundle(int first, int count) {
  json::array entries;
  for (int i = first; i < first + count; ++i) {
    const std::string urn = Urn(i);
    entries.push_back(json::object{
        {"fullUrl", urn},
        {"resource",
         json::parse(R"({"resourceType":"Patient","name":[{"family":"Martin","given":["P)" +
                     std::to_string(i) + R"("]}],"gender":"female","birthDate":"1970-01-01"})")},
        {"request", {{"method", "POST"}, {"url", "Patient"}}}});
    entries.push_back(json::object{
        {"resource",
         json::parse(R"({"resourceType":"Observation","status":"final","code":{"coding":)"
                     R"([{"system":"http://loinc.org","code":"2345-7"}]},"subject":)"
                     R"({"reference":")" +
                     urn +
                     R"("},"performer":[{"reference":"Organization/lab-loader"}],)"
                     R"("valueQuantity":{"value":5.4,"unit":"mmol/L"}})")},
        {"request", {{"method", "POST"}, {"url", "Observation"}}}});
  }
  return json::serialize(
      json::object{{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", entries}});
}

// What one answer gave the scraper.
enum class Answer { kData, kStepUp, kSuspended, kLoggedOut, kOther };

Answer Classify(const Http& answer) {
  if (answer.status == 200) return Answer::kData;
  if (answer.status == 403 && answer.body.find("suspended") != std::string::npos) {
    return Answer::kSuspended;
  }
  if (answer.status == 401 && answer.body.find("step-up") != std::string::npos) {
    return Answer::kStepUp;
  }
  if (answer.status == 401) return Answer::kLoggedOut;
  return Answer::kOther;
}

// Every patient whose data an answer holds: Patient resources and the subjects of the rest.
void AddPatientsOf(const json::object& resource, std::set<std::string>& out) {
  if (Str(resource, "resourceType") == "Patient") out.insert(Str(resource, "id"));
  if (const auto* subject = resource.if_contains("subject"); subject && subject->is_object()) {
    const std::string reference = Str(subject->as_object(), "reference");
    if (reference.starts_with("Patient/")) out.insert(reference.substr(8));
  }
  if (const auto* entries = resource.if_contains("entry"); entries && entries->is_array()) {
    for (const auto& entry : entries->as_array()) {
      if (const auto* inner = entry.as_object().if_contains("resource")) {
        AddPatientsOf(inner->as_object(), out);
      }
    }
  }
}

// A result for the log and the bench/results file.
void Report(const std::string& what, std::size_t received, int requests, double seconds) {
  std::printf("scrape replay: %s: %zu distinct patients' data received before suspension, "
              "%d requests in %.2f s (target at most %zu)\n",
              what.c_str(), received, requests, seconds, kTargetAtMost);
  ::testing::Test::RecordProperty("received_patients", static_cast<int>(received));
}

class ScrapeReplay : public ::testing::TestWithParam<std::string> {
 protected:
  void Start(Env env) {
    if (GetParam() == "postgres") {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url) << url.error().message();
      env["MEDVAULT_STORE_URL"] = *url;
    }
    env["MEDVAULT_GUARD_WEBHOOK_URL"] = "http://127.0.0.1:" + std::to_string(sink_.port()) + "/alerts";
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env_));
    ASSERT_NE(server_, nullptr);
    loader_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "loader", "lab_technician", env_));
    // The lab that loads the results (a lab technician writes only their lab's work).
    ASSERT_TRUE(LinkLab(port(), vault_.path(), loader_.session, "loader", "lab-loader", env_));
    thief_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician", env_));
    auditor_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.moreau", "auditor", env_));
    ASSERT_FALSE(thief_.session.csrf.empty());
    ASSERT_FALSE(auditor_.session.csrf.empty());
    for (int first = 0; first < kPatients; first += 40) {
      auto loaded = SendAs(port(), loader_.session, "POST", "/fhir", LoadBundle(first, 40));
      ASSERT_EQ(loaded.status, 200u) << loaded.body;
      for (const auto& entry : loaded.json.at("entry").as_array()) {
        const std::string location = Str(entry.at("response").as_object(), "location");
        if (location.starts_with("Patient/")) {
          patient_ids_.push_back(location.substr(8, location.find("/_history") - 8));
        }
      }
    }
    ASSERT_EQ(patient_ids_.size(), static_cast<std::size_t>(kPatients));
    // The ward: the thief's Practitioner cares for every patient (an administrator keeps the
    // care teams).
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), thief_.session, "c.martin", kWard, env_));
    Enrolled admin = EnrollCareAdministrator(port(), vault_.path(), env_);
    ASSERT_FALSE(admin.session.csrf.empty());
    for (const std::string& patient : patient_ids_) {
      ASSERT_NE(TakeIntoCare(port(), admin.session, kWard, patient), "") << patient;
    }
  }

  static constexpr const char* kWard = "pr-ward-c-martin";

  unsigned short port() const { return server_->port(); }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) {
      const std::string output = server_->Output();
      std::printf("server output (end):\n%s\n",
                  output.substr(output.size() > 6000 ? output.size() - 6000 : 0).c_str());
    }
  }

  // After a suspension: the cookie is dead, the password gets the reason, one alert is listed
  // for the security console and reached the webhook.
  void ExpectSuspended(std::string_view kind) {
    auto after = SendAs(port(), thief_.session, "GET", "/fhir/Patient/" + patient_ids_[0]);
    EXPECT_EQ(after.status, 401u) << after.body;
    auto login = Send(port(), "POST", "/auth/login",
                      "{\"login\":\"c.martin\",\"password\":" + Quoted(kTestPassword) + "}");
    EXPECT_EQ(login.status, 401u) << login.body;
    EXPECT_THAT(login.body, HasSubstr("suspended"));

    auto alerts = SendAs(port(), auditor_.session, "GET", "/security/alerts");
    ASSERT_EQ(alerts.status, 200u) << alerts.body;
    std::vector<json::object> guard_alerts;
    for (const auto& alert : alerts.json.at("alerts").as_array()) {
      if (Str(alert.as_object(), "kind") == kind) guard_alerts.push_back(alert.as_object());
    }
    ASSERT_EQ(guard_alerts.size(), 1u) << alerts.body;
    EXPECT_THAT(Str(guard_alerts[0], "subject"), ::testing::StartsWith("account/"));
    // Nor may other staff (the loader is a lab technician).
    EXPECT_EQ(SendAs(port(), loader_.session, "GET", "/security/alerts").status, 403u);

    // The webhook got it, off the request path (give the sender a moment).
    const std::filesystem::path posted = hooks_.path() / "1.json";
    for (int i = 0; i < 100 && !std::filesystem::exists(posted); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in(posted);
    ASSERT_TRUE(in) << "the webhook received nothing";
    std::string text((std::istreambuf_iterator<char>(in)), {});
    json::object hook = json::parse(text).as_object();
    EXPECT_EQ(Str(hook, "kind"), kind);
    EXPECT_EQ("account/" + Str(hook, "account_id"), Str(guard_alerts[0], "subject"));
    EXPECT_EQ(Str(hook, "detail"), Str(guard_alerts[0], "detail"));
    // Ids and counts only: no name from a record.
    EXPECT_EQ(text.find("Martin"), std::string::npos) << text;
  }

  TempDir vault_;
  TempDir hooks_;
  LoopbackSink sink_{std::string(MEDVAULT_SOURCE_DIR) + "/tests/redteam/webhook_sink.py",
                     hooks_.path(), "1"};  // refuses the first post: the retry delivers it
  Env env_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled loader_;
  Enrolled thief_;
  Enrolled auditor_;
  std::vector<std::string> patient_ids_;
};

TEST_P(ScrapeReplay, AStolenSessionPagingThroughSearchIsSuspendedWithinFiftyPatients) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  const auto started = std::chrono::steady_clock::now();
  std::set<std::string> received;
  int requests = 0;
  bool suspended = false;
  bool stepped = false;
  // The commonest family name, ten at a time, as an enumeration would.
  std::string target = "/fhir/Patient?family=Martin&_count=10";
  while (requests < 3000 && !suspended) {
    auto page = SendAs(port(), thief_.session, "GET", target);
    ++requests;
    const Answer answer = Classify(page);
    if (answer == Answer::kSuspended) suspended = true;
    if (answer == Answer::kStepUp) stepped = true;  // no second factor to give: retry
    if (answer == Answer::kLoggedOut) break;
    ASSERT_NE(answer, Answer::kOther) << "status " << page.status << ": " << page.body;
    if (answer != Answer::kData) continue;
    AddPatientsOf(page.json, received);
    // Each patient's results, then the next page.
    for (const auto& entry : page.json.at("entry").as_array()) {
      const std::string id = Str(entry.at("resource").as_object(), "id");
      auto results = SendAs(port(), thief_.session, "GET", "/fhir/Observation?patient=" + id);
      ++requests;
      if (Classify(results) == Answer::kData) AddPatientsOf(results.json, received);
    }
    std::string next;
    for (const auto& link : page.json.at("link").as_array()) {
      if (Str(link.as_object(), "relation") == "next") next = Str(link.as_object(), "url");
    }
    if (next.empty()) break;
    target = next.substr(next.find("/fhir/"));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Report(GetParam() + ", 1 connection, search paging", received.size(), requests, seconds);
  EXPECT_TRUE(suspended) << "the account was never suspended";
  EXPECT_TRUE(stepped) << "no step-up was asked for near the budget";
  EXPECT_LE(received.size(), kTargetAtMost);
  EXPECT_GT(received.size(), 0u);
  ExpectSuspended("exfiltration_suspected");
}

TEST_P(ScrapeReplay, EightParallelConnectionsReadingByIdAreSuspendedWithinFiftyPatients) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  const auto started = std::chrono::steady_clock::now();
  std::mutex mutex;
  std::set<std::string> received;
  std::atomic<int> requests{0};
  std::atomic<std::size_t> next{0};
  std::atomic<bool> suspended{false};
  std::vector<std::thread> connections;
  for (int c = 0; c < 8; ++c) {
    connections.emplace_back([&] {
      for (std::size_t i = next.fetch_add(1); i < patient_ids_.size() && !suspended;
           i = next.fetch_add(1)) {
        auto read = SendAs(port(), thief_.session, "GET", "/fhir/Patient/" + patient_ids_[i]);
        requests.fetch_add(1);
        const Answer answer = Classify(read);
        if (answer == Answer::kData) {
          std::lock_guard lock(mutex);
          AddPatientsOf(read.json, received);
        }
        if (answer == Answer::kSuspended || answer == Answer::kLoggedOut) suspended = true;
      }
    });
  }
  for (std::thread& connection : connections) connection.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Report(GetParam() + ", 8 connections, reads by id", received.size(), requests.load(), seconds);
  EXPECT_TRUE(suspended.load());
  EXPECT_LE(received.size(), kTargetAtMost);
  ExpectSuspended("exfiltration_suspected");
}

TEST_P(ScrapeReplay, ASlowScraperUnderTheMinuteBudgetIsStoppedByTheHourBudget) {
  // Small budgets so the hour is crossed in one minute and a bit: 6 a minute, 8 an hour.
  ASSERT_NO_FATAL_FAILURE(Start({{"MEDVAULT_GUARD_CLINICIAN", "patients 6/8/100, breadth 10"},
                                 {"MEDVAULT_GUARD_STEP_UP_PERCENT", "0"}}));
  std::set<std::string> received;
  int requests = 0;
  const auto started = std::chrono::steady_clock::now();
  std::string last_body;
  auto read = [&](std::size_t i) {
    auto answer = SendAs(port(), thief_.session, "GET", "/fhir/Patient/" + patient_ids_[i]);
    ++requests;
    if (Classify(answer) == Answer::kData) AddPatientsOf(answer.json, received);
    last_body = std::to_string(answer.status) + " " + answer.body;
    return Classify(answer);
  };
  for (std::size_t i = 0; i < 5; ++i) ASSERT_EQ(read(i), Answer::kData) << i;
  // Under the minute budget: wait for the minute window to slide past these five.
  std::this_thread::sleep_for(std::chrono::seconds(62));
  Answer last = Answer::kData;
  std::size_t i = 5;
  for (; i < 20 && last == Answer::kData; ++i) last = read(i);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Report(GetParam() + ", slow scraper (5, a minute's pause, then on)", received.size(), requests,
         seconds);
  EXPECT_EQ(last, Answer::kSuspended) << last_body;
  EXPECT_EQ(received.size(), 8u) << "the hour budget is 8";
  ExpectSuspended("exfiltration_suspected");
}

INSTANTIATE_TEST_SUITE_P(Backends, ScrapeReplay, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// `medvault demo` plants canaries with common family names; a clinician's first broad search
// that meets one is refused and the account suspended.
TEST(CanaryPatients, TheDemoPlantsCanariesAndASearchTouchingOneSuspendsOnTheFirstRequest) {
  TempDir dir;
  const std::filesystem::path vault = dir.path() / "demo";
  auto demo = RunMedvault({"demo", "--dir", vault.string(), "--patients", "3"}, {},
                          std::chrono::seconds(300));
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(demo.out, match,
                                std::regex("dr\\.martin +clinician +enrollment code ([0-9A-Z-]+)")))
      << demo.out;
  auto server = ServerProcess::Start(vault, WithRelaxedAuth({}));
  ASSERT_NE(server, nullptr);
  Enrolled clinician = EnrollWithTotp(server->port(), match[1].str());
  ASSERT_FALSE(clinician.session.csrf.empty());
  auto search = SendAs(server->port(), clinician.session, "GET", "/fhir/Patient?family=Martin");
  EXPECT_EQ(search.status, 403u) << search.body;
  EXPECT_THAT(search.body, HasSubstr("suspended"));
  EXPECT_EQ(search.body.find("Martin\""), std::string::npos) << "no data left";
  auto again = SendAs(server->port(), clinician.session, "GET", "/fhir/Patient?family=Dupont");
  EXPECT_EQ(again.status, 401u) << "the session ended with the suspension";
  EXPECT_THAT(server->Output(), HasSubstr("\"event\":\"canary_touched\""));
}

// An administrator lifts the suspension through the API (as `medvault user reinstate` does):
// with a fresh second factor, never their own; the account then logs in anew with both
// factors, its old session gone.
TEST(CanaryPatients, AnAdministratorReinstatesASuspendedAccountThroughTheApi) {
  TempDir dir;
  const std::filesystem::path vault = dir.path() / "demo";
  auto demo = RunMedvault({"demo", "--dir", vault.string(), "--patients", "3"}, {},
                          std::chrono::seconds(300));
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  const auto code_of = [&](const std::string& login, const std::string& kind) {
    std::smatch match;
    std::regex_search(demo.out, match,
                      std::regex(login + " +" + kind + " +enrollment code ([0-9A-Z-]+)"));
    return match.size() > 1 ? match[1].str() : std::string();
  };
  auto server = ServerProcess::Start(
      vault, WithRelaxedAuth({{"MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp"}}));
  ASSERT_NE(server, nullptr);
  const unsigned short port = server->port();
  Enrolled clinician = EnrollWithTotp(port, code_of("dr\\.martin", "clinician"));
  Enrolled admin = EnrollWithTotp(port, code_of("admin\\.petit", "administrator"));
  ASSERT_FALSE(clinician.session.csrf.empty());
  ASSERT_FALSE(admin.session.csrf.empty());
  const std::string dr_martin = R"({"login":"dr.martin"})";

  auto not_suspended = SendAs(port, admin.session, "POST", "/auth/admin/accounts/reinstate",
                              dr_martin);
  EXPECT_EQ(not_suspended.status, 409u) << not_suspended.body;
  auto search = SendAs(port, clinician.session, "GET", "/fhir/Patient?family=Martin");
  ASSERT_EQ(search.status, 403u) << search.body;
  auto refused = Send(port, "POST", "/auth/login",
                      R"({"login":"dr.martin","password":)" + Quoted(kTestPassword) + "}");
  EXPECT_EQ(refused.status, 401u) << "a suspended account does not log in";

  auto by_clinician = SendAs(port, clinician.session, "POST", "/auth/admin/accounts/reinstate",
                             dr_martin);
  EXPECT_EQ(by_clinician.status, 401u) << "the suspended session is gone";
  auto no_csrf = Send(port, "POST", "/auth/admin/accounts/reinstate", dr_martin,
                      {"Cookie: " + admin.session.cookie});
  EXPECT_EQ(no_csrf.status, 401u);
  auto self = SendAs(port, admin.session, "POST", "/auth/admin/accounts/reinstate",
                     R"({"login":"admin.petit"})");
  EXPECT_EQ(self.status, 403u) << self.body;
  auto unknown = SendAs(port, admin.session, "POST", "/auth/admin/accounts/reinstate",
                        R"({"login":"no.one"})");
  EXPECT_EQ(unknown.status, 404u);
  auto reinstated = SendAs(port, admin.session, "POST", "/auth/admin/accounts/reinstate",
                           dr_martin);
  ASSERT_EQ(reinstated.status, 200u) << reinstated.body;
  EXPECT_EQ(Str(reinstated.json, "status"), "active");
  EXPECT_EQ(SendAs(port, admin.session, "POST", "/auth/admin/accounts/reinstate", dr_martin).status,
            409u)
      << "once is enough";

  EXPECT_EQ(SendAs(port, clinician.session, "GET", "/auth/me").status, 401u)
      << "no old session comes back";
  auto pending = Send(port, "POST", "/auth/login",
                      R"({"login":"dr.martin","password":)" + Quoted(kTestPassword) + "}");
  ASSERT_EQ(pending.status, 200u) << pending.body;
  const std::string next_code = Oathtool(clinician.secret, std::chrono::seconds(30));
  auto logged_in = Send(port, "POST", "/auth/login/totp",
                        "{\"pending_token\":" + Quoted(Str(pending.json, "pending_token")) +
                            ",\"code\":" + Quoted(next_code) + "}");
  ASSERT_EQ(logged_in.status, 200u) << logged_in.body;
  const WebSession fresh = SessionOf(logged_in);
  EXPECT_EQ(SendAs(port, fresh, "GET", "/auth/me").status, 200u);
  EXPECT_EQ(SendAs(port, fresh, "GET", "/fhir/Patient?family=Dupont").status, 200u)
      << "the guard starts afresh";
}

}  // namespace
}  // namespace medvault::testing
