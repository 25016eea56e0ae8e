// Bulk export as an approved job through the real `medvault` binary (issue 8): an integration
// client asks, nothing leaves before a second person (an administrator) approves, the file is
// sealed for the recipient key made by `medvault export keygen`, opens only with it, carries
// canary patients that `medvault export trace` follows back to the job, and expires (410).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kFileTtlSeconds = 6;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class ExportJob : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = dir_.path() / "vault";
    // The demo: five named patients and three more, four canary patients for the guard, and
    // its staff (admin.petit among them).
    auto demo = RunMedvault({"demo", "--dir", vault_.string(), "--patients", "3"}, {},
                            std::chrono::seconds(240));
    ASSERT_EQ(demo.exit_code, 0) << demo.err;
    std::smatch match;
    ASSERT_TRUE(std::regex_search(demo.out, match,
                                  std::regex("admin\\.petit +administrator +enrollment code "
                                             "([0-9A-Z-]{19})")))
        << demo.out;
    env_ = WithRelaxedAuth({{"MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp"},
                            {"MEDVAULT_EXPORT_FILE_TTL_SECONDS", std::to_string(kFileTtlSeconds)}});
    env_.insert(extra_env_.begin(), extra_env_.end());
    server_ = ServerProcess::Start(vault_, env_);
    ASSERT_NE(server_, nullptr);
    admin_ = EnrollWithTotp(port(), match[1].str());
    ASSERT_FALSE(admin_.session.csrf.empty()) << "the administrator could not enroll";
    token_ = ApiClientToken(port(), vault_, "registry",
                            "system/Patient.rs system/Observation.rs", env_);
    ASSERT_FALSE(token_.empty());
    auto keygen = RunMedvault({"export", "keygen", "--out", (dir_.path() / "recipient.key").string()});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    ASSERT_TRUE(std::regex_search(keygen.out, match, std::regex("recipient key: ([A-Za-z0-9_-]{43})")))
        << keygen.out;
    recipient_ = match[1].str();
    EXPECT_EQ(fs::status(dir_.path() / "recipient.key").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }

  unsigned short port() const { return server_->port(); }
  Http AsClient(std::string_view target, std::vector<std::string> headers = {}) {
    headers.push_back("Authorization: Bearer " + token_);
    return Send(port(), "GET", target, "", headers);
  }
  // Kicks off an export of `types`; the job id, empty on failure.
  std::string KickOff(std::string_view types) {
    auto kicked = AsClient("/fhir/$export?_type=" + std::string(types) + "&recipient=" + recipient_,
                           {"Prefer: respond-async"});
    EXPECT_EQ(kicked.status, 202u) << kicked.body;
    const std::string url = kicked.Header("Content-Location");
    return url.empty() ? std::string() : url.substr(url.rfind('/') + 1);
  }
  // The sealed file of a ready job, opened with the recipient key into dir/opened-JOB.
  fs::path DownloadAndOpen(const std::string& job) {
    auto download = AsClient("/fhir/$export-file/" + job);
    EXPECT_EQ(download.status, 200u) << download.body;
    const fs::path sealed = dir_.path() / (job + ".mvx");
    {
      std::ofstream out(sealed, std::ios::binary);
      out << download.body;
    }
    const fs::path opened = dir_.path() / ("opened-" + job);
    auto open = RunMedvault({"export", "open", "--key", (dir_.path() / "recipient.key").string(),
                             "--in", sealed.string(), "--out", opened.string()});
    EXPECT_EQ(open.exit_code, 0) << open.err;
    return opened;
  }
  // The guard's canary patients `medvault demo` named in the vault's medvault.toml.
  std::vector<std::string> GuardCanaries() const {
    std::smatch match;
    const std::string toml = ReadAll(vault_ / "medvault.toml");
    if (!std::regex_search(toml, match, std::regex("\ncanaries = '([^']*)'"))) return {};
    std::vector<std::string> ids;
    std::istringstream words(match[1].str());
    for (std::string id; words >> id;) ids.push_back(id);
    return ids;
  }

  Env extra_env_;  // set by a derived fixture before SetUp

  TempDir dir_;
  fs::path vault_;
  Env env_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled admin_;
  std::string token_;
  std::string recipient_;
};

TEST_F(ExportJob, RunsOnlyAfterApprovalSealedForTheRecipientWatermarkedAndExpires) {
  auto no_key = AsClient("/fhir/$export?_type=Patient", {"Prefer: respond-async"});
  EXPECT_EQ(no_key.status, 400u) << "the recipient key is required";
  auto not_async = AsClient("/fhir/$export?recipient=" + recipient_);
  EXPECT_EQ(not_async.status, 400u);
  auto beyond_scopes = AsClient("/fhir/$export?_type=Condition&recipient=" + recipient_,
                                {"Prefer: respond-async"});
  EXPECT_EQ(beyond_scopes.status, 403u);
  auto by_admin = SendAs(port(), admin_.session, "GET", "/fhir/$export?recipient=" + recipient_,
                         "", {"Prefer: respond-async"});
  EXPECT_EQ(by_admin.status, 403u) << "bulk export is for integration clients";

  auto kicked = AsClient("/fhir/$export?_type=Patient,Observation&recipient=" + recipient_,
                         {"Prefer: respond-async"});
  ASSERT_EQ(kicked.status, 202u) << kicked.body;
  const std::string status_url = kicked.Header("Content-Location");
  ASSERT_THAT(status_url, HasSubstr("/fhir/$export-status/"));
  const std::string job = status_url.substr(status_url.rfind('/') + 1);
  const std::string status_path = "/fhir/$export-status/" + job;
  const std::string file_path = "/fhir/$export-file/" + job;

  auto waiting = AsClient(status_path);
  EXPECT_EQ(waiting.status, 202u);
  EXPECT_THAT(waiting.Header("X-Progress"), HasSubstr("approval"));
  EXPECT_EQ(AsClient(file_path).status, 403u) << "nothing leaves before the approval";
  EXPECT_TRUE(!fs::exists(vault_ / "data" / "exports") || fs::is_empty(vault_ / "data" / "exports"))
      << "nothing is read or written before the approval";

  auto by_requester = Send(port(), "POST", "/admin/exports/" + job + "/approve", "",
                           {"Authorization: Bearer " + token_});
  EXPECT_EQ(by_requester.status, 403u) << "the requester does not approve";
  auto approved = SendAs(port(), admin_.session, "POST", "/admin/exports/" + job + "/approve");
  ASSERT_EQ(approved.status, 200u) << approved.body;
  EXPECT_EQ(Str(approved.json, "state"), "approved");

  auto ready = AsClient(status_path);
  ASSERT_EQ(ready.status, 200u) << ready.body;
  EXPECT_EQ(ready.json.at("patients").as_int64(), 8 + 4) << "the demo's patients and canaries";
  auto download = AsClient(file_path);
  ASSERT_EQ(download.status, 200u) << download.body;
  EXPECT_EQ(download.Header("Content-Type"), "application/octet-stream");
  EXPECT_THAT(download.body, Not(HasSubstr("Dupont"))) << "sealed, no name in clear";
  EXPECT_THAT(download.body, Not(HasSubstr("resourceType")));
  const fs::path stored = vault_ / "data" / "exports" / (job + ".mvx");
  ASSERT_TRUE(fs::exists(stored));
  EXPECT_EQ(ReadAll(stored), download.body) << "the file on disk is the sealed one only";

  const fs::path sealed = dir_.path() / "export.mvx";
  {
    std::ofstream out(sealed, std::ios::binary);
    out << download.body;
  }
  auto other_key = RunMedvault({"export", "keygen", "--out", (dir_.path() / "other.key").string()});
  ASSERT_EQ(other_key.exit_code, 0);
  auto wrong = RunMedvault({"export", "open", "--key", (dir_.path() / "other.key").string(), "--in",
                            sealed.string(), "--out", (dir_.path() / "wrong").string()});
  EXPECT_NE(wrong.exit_code, 0) << "another key does not open it";
  const fs::path opened = dir_.path() / "opened";
  auto open = RunMedvault({"export", "open", "--key", (dir_.path() / "recipient.key").string(),
                           "--in", sealed.string(), "--out", opened.string()});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  const std::string patients = ReadAll(opened / "Patient.ndjson");
  EXPECT_THAT(patients, HasSubstr("Dupont"));
  EXPECT_EQ(Lines(patients), 8u + 4u + 3u)
      << "eight patients, the guard's four canaries and the export's three";
  EXPECT_GT(Lines(ReadAll(opened / "Observation.ndjson")), 0u);

  auto traced = RunMedvault({"export", "trace", "--dir", vault_.string(),
                             (opened / "Patient.ndjson").string()});
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_THAT(traced.out, HasSubstr("export job " + job));
  EXPECT_THAT(traced.out, HasSubstr("3 of its canaries"));
  // One leaked line is enough when it is a canary; a file without one names no job.
  std::string canary_line;
  std::string real_lines;
  {
    std::istringstream lines(patients);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("Dupont") != std::string::npos) real_lines += line + "\n";
    }
  }
  const fs::path unrelated = dir_.path() / "unrelated.ndjson";
  {
    std::ofstream out(unrelated);
    out << real_lines;
  }
  auto untraced = RunMedvault({"export", "trace", "--dir", vault_.string(), unrelated.string()});
  EXPECT_EQ(untraced.exit_code, 1) << untraced.out;

  std::this_thread::sleep_for(std::chrono::seconds(kFileTtlSeconds + 1));
  auto gone = AsClient(file_path);
  EXPECT_EQ(gone.status, 410u) << gone.body;
  EXPECT_EQ(AsClient(status_path).status, 410u);
  EXPECT_FALSE(fs::exists(stored)) << "the file is deleted at expiry";

  auto listed = RunMedvault({"export", "list", "--dir", vault_.string()});
  EXPECT_THAT(listed.out, HasSubstr(job + "  expired"));
}

TEST_F(ExportJob, ARefusedJobNeverRuns) {
  auto kicked = AsClient("/fhir/Patient/$export?recipient=" + recipient_, {"Prefer: respond-async"});
  ASSERT_EQ(kicked.status, 202u) << kicked.body;
  const std::string url = kicked.Header("Content-Location");
  const std::string job = url.substr(url.rfind('/') + 1);
  auto refused = RunMedvault({"export", "refuse", "--dir", vault_.string(), "--job", job, "--by",
                              "admin.petit"});
  ASSERT_EQ(refused.exit_code, 0) << refused.err;
  auto late = SendAs(port(), admin_.session, "POST", "/admin/exports/" + job + "/approve");
  EXPECT_EQ(late.status, 409u) << "a refused job is never approved";
  EXPECT_EQ(AsClient("/fhir/$export-status/" + job).status, 403u);
  EXPECT_EQ(AsClient("/fhir/$export-file/" + job).status, 403u);
  EXPECT_FALSE(fs::exists(vault_ / "data" / "exports" / (job + ".mvx")));
}

// An export reads as its requester: a client of an organization gets the patients that
// organization manages (managingOrganization) and their records, nothing of the others.
TEST_F(ExportJob, AClientOfAnOrganizationExportsItsPatientsOnly) {
  const std::string all = KickOff("Patient,Observation");
  ASSERT_FALSE(all.empty());
  ASSERT_EQ(SendAs(port(), admin_.session, "POST", "/admin/exports/" + all + "/approve").status,
            200u);
  ASSERT_EQ(AsClient("/fhir/$export-status/" + all).status, 200u);
  std::string clinic;
  {
    std::istringstream lines(ReadAll(DownloadAndOpen(all) / "Patient.ndjson"));
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const boost::json::value parsed = boost::json::parse(line);
    const boost::json::object& patient = parsed.as_object();
    const std::string reference(patient.at("managingOrganization").at("reference").as_string());
    clinic = reference.substr(reference.find('/') + 1);
  }
  ASSERT_FALSE(clinic.empty());

  const auto export_as = [&](const std::string& client, const std::string& organization) {
    token_ = ApiClientToken(port(), vault_, client, "system/Patient.rs system/Observation.rs",
                            env_, organization);
    EXPECT_FALSE(token_.empty());
    const std::string job = KickOff("Patient,Observation");
    EXPECT_EQ(SendAs(port(), admin_.session, "POST", "/admin/exports/" + job + "/approve").status,
              200u);
    auto ready = AsClient("/fhir/$export-status/" + job);
    EXPECT_EQ(ready.status, 200u) << ready.body;
    const fs::path opened = DownloadAndOpen(job);
    return std::pair(ready.json.at("patients").as_int64(),
                     Lines(ReadAll(opened / "Observation.ndjson")));
  };
  const auto [clinic_patients, clinic_observations] = export_as("clinic-feed", clinic);
  EXPECT_EQ(clinic_patients, 8 + 4) << "the clinic manages every demo patient";
  EXPECT_GT(clinic_observations, 0u);
  const auto [other_patients, other_observations] = export_as("other-feed", "elsewhere");
  EXPECT_EQ(other_patients, 0);
  EXPECT_EQ(other_observations, 0u);
}

// The exfiltration guard does not count an approved export's reads (a second person approved
// them; client bulk_export), even of more patients than any budget and of its canaries; the
// same client reading the same patients one by one through the FHIR API is stopped.
class ExportJobUnderTightBudgets : public ExportJob {
 protected:
  static constexpr int kPatientBudget = 4;
  void SetUp() override {
    const std::string budget = std::to_string(kPatientBudget);
    extra_env_ = {{"MEDVAULT_GUARD_INTEGRATION",
                   "patients " + budget + "/" + budget + "/" + budget + ", breadth " + budget}};
    ExportJob::SetUp();
  }
};

TEST_F(ExportJobUnderTightBudgets, AnApprovedExportIsNotCountedPlainReadsAre) {
  const std::vector<std::string> canaries = GuardCanaries();
  ASSERT_EQ(canaries.size(), 4u) << "medvault demo plants four canaries";
  const std::string job = KickOff("Patient,Observation");
  ASSERT_FALSE(job.empty());
  auto approved = SendAs(port(), admin_.session, "POST", "/admin/exports/" + job + "/approve");
  ASSERT_EQ(approved.status, 200u) << approved.body;

  auto ready = AsClient("/fhir/$export-status/" + job);
  ASSERT_EQ(ready.status, 200u) << ready.body;
  EXPECT_EQ(ready.json.at("patients").as_int64(), 8 + 4) << "the demo's patients and canaries";
  EXPECT_GT(ready.json.at("patients").as_int64(), kPatientBudget);
  EXPECT_EQ(AsClient("/fhir/$export-status/" + job).status, 200u) << "the client is not suspended";
  const fs::path opened = DownloadAndOpen(job);
  const std::string patients = ReadAll(opened / "Patient.ndjson");
  for (const std::string& canary : canaries) EXPECT_THAT(patients, HasSubstr(canary));
  auto alerts = SendAs(port(), admin_.session, "GET", "/security/alerts");
  ASSERT_EQ(alerts.status, 200u) << alerts.body;
  EXPECT_THAT(alerts.body, Not(HasSubstr("account/registry"))) << "no alert about the export";

  // The same patients (the stored ones, canaries aside), read one by one.
  std::vector<std::string> ids;
  {
    std::istringstream lines(patients);
    for (std::string line; std::getline(lines, line);) {
      auto parsed = boost::json::parse(line).as_object();
      std::string id(parsed.at("id").as_string());
      if (std::ranges::find(canaries, id) == canaries.end()) ids.push_back(std::move(id));
    }
  }
  std::size_t read = 0;
  unsigned refused = 0;
  for (const std::string& id : ids) {
    auto got = AsClient("/fhir/Patient/" + id);
    if (got.status == 404) continue;  // one of the export's own canaries, never stored
    if (got.status != 200) {
      refused = got.status;
      break;
    }
    ++read;
  }
  EXPECT_EQ(refused, 403u) << "stopped by the patients budget";
  EXPECT_LE(read, static_cast<std::size_t>(kPatientBudget));
  EXPECT_EQ(AsClient("/fhir/$export-status/" + job).status, 401u)
      << "the suspended client's tokens are gone";
  alerts = SendAs(port(), admin_.session, "GET", "/security/alerts");
  EXPECT_THAT(alerts.body, HasSubstr("account/registry"));
}

}  // namespace
}  // namespace medvault::testing
