// The access matrix over HTTP: every role x every FHIR type and interaction x the patient's
// standing (their own record, another patient's, in care, not in care), plus the non-FHIR
// endpoints, sent to the real `medvault` binary on a demo vault, on SQLite and PostgreSQL. The
// expected answers are the cells of docs/access-matrix.md (which tests/policy/
// access_matrix_test.cc renders from the policy's rules): the document, the rules and the
// server cannot disagree.
//
// A cell is allowed when the server answers 2xx (a search: 200 with at least one match),
// refused when it answers 401, 403, 404 or 405; any other answer fails the test. The guard is
// off (MEDVAULT_GUARD_ENABLED=false): the matrix makes far more distinct accesses than any
// budget allows, and the guard's own answers are tested in tests/redteam.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;

const std::string kMatrixPath = std::string(MEDVAULT_SOURCE_DIR) + "/docs/access-matrix.md";

// The cells of every table of docs/access-matrix.md: row title -> column title -> cell.
using Table = std::map<std::string, std::map<std::string, std::string>>;

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '|') {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

Table ReadMatrix() {
  Table table;
  std::ifstream in(kMatrixPath);
  std::vector<std::string> header;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("|", 0) != 0) {
      header.clear();
      continue;
    }
    auto cells = Cells(line);
    if (header.empty()) {
      header = cells;
      continue;
    }
    if (!cells.empty() && cells[0].rfind("---", 0) == 0) continue;
    for (std::size_t i = 1; i < cells.size() && i < header.size(); ++i) {
      table[cells[0]][header[i]] = cells[i];
    }
  }
  return table;
}

// How a column calls the server.
struct Caller {
  std::string title;           // the column of docs/access-matrix.md
  std::vector<std::string> auth;  // its credential headers (none: anyone else)
  std::string csrf;
  std::string target;          // the patient its cells are about
};

constexpr std::string_view kGlassReason =
    R"({"resourceType":"Parameters","parameter":[{"name":"reason","valueCode":"emergency"},)"
    R"({"name":"text","valueString":"Access matrix: the emergency column"}]})";

enum class Answer { kAllowed, kRefused, kUnexpected };

struct Outcome {
  Answer answer;
  std::string why;  // status and, when unexpected, the body
};

Outcome Judge(const Http& http, bool search) {
  if (http.status >= 200 && http.status < 300) {
    if (!search) return {Answer::kAllowed, std::to_string(http.status)};
    std::size_t matches = 0;
    if (const auto* entries = http.json.if_contains("entry")) {
      for (const auto& entry : entries->as_array()) {
        const auto* mode = entry.as_object().if_contains("search");
        if (mode == nullptr || Str(mode->as_object(), "mode") == "match") ++matches;
      }
    }
    return {matches > 0 ? Answer::kAllowed : Answer::kRefused,
            "200 with " + std::to_string(matches) + " matches"};
  }
  if (http.status == 401 || http.status == 403 || http.status == 404 || http.status == 405) {
    return {Answer::kRefused, std::to_string(http.status)};
  }
  // A write naming a patient the caller may not see: their reference does not resolve, the
  // same answer as for a patient who does not exist.
  static const std::regex kUnseenPatient(R"re(\.(subject|patient|securityContext) does not resolve)re");
  if (http.status == 400 && std::regex_search(http.body, kUnseenPatient)) {
    return {Answer::kRefused, "400 (the patient does not resolve)"};
  }
  return {Answer::kUnexpected, std::to_string(http.status) + " " + http.body.substr(0, 300)};
}

class AccessMatrixHttp : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    env_ = {{"MEDVAULT_GUARD_ENABLED", "false"},
            {"MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp"},
            {"MEDVAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1"}};
    if (GetParam() == "postgres") {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url) << url.error().message();
      env_["MEDVAULT_STORE_URL"] = *url;
    }
    vault_ = dir_.path() / "vault";
    auto demo = RunMedvault({"demo", "--dir", vault_.string(), "--patients", "0"}, env_,
                            std::chrono::seconds(240));
    ASSERT_EQ(demo.exit_code, 0) << demo.err;
    server_ = ServerProcess::Start(vault_, WithRelaxedAuth(env_));
    ASSERT_NE(server_, nullptr);

    integration_ = {"Authorization: Bearer " +
                    ApiClientToken(port(), vault_, "matrix-client", "system/*.cruds", env_)};
    ASSERT_NE(integration_[0], "Authorization: Bearer ");
    FindDemoRecords();
    if (HasFatalFailure()) return;
    other_ = MakePatientOutOfCare();
    if (HasFatalFailure()) return;
    glass_ = MakePatientOutOfCare();
    if (HasFatalFailure()) return;

    auto staff = [&](const std::string& login) {
      const std::regex line("\\n  " + login + " +[a-z_]+ +enrollment code ([^ \\n]+)");
      std::smatch match;
      EXPECT_TRUE(std::regex_search(demo.out, match, line)) << login << " in " << demo.out;
      Enrolled enrolled = EnrollWithTotp(port(), match[1].str());
      EXPECT_FALSE(enrolled.session.csrf.empty()) << login << " could not enroll";
      return enrolled.session;
    };
    const WebSession clinician = staff("dr.martin");
    const WebSession lab = staff("lab.bernard");
    const WebSession admin = staff("admin.petit");
    const WebSession auditor = staff("audit.moreau");
    const WebSession patient = ActivatePatient(port(), vault_, own_, "helene", env_).session;
    ASSERT_FALSE(patient.csrf.empty()) << "the demo patient could not activate";
    auto session = [](const WebSession& s) { return std::vector<std::string>{"Cookie: " + s.cookie}; };
    // Dr Martin breaks the glass for the third patient (her enrollment is a fresh second factor).
    const Http glass = SendAs(port(), clinician, "POST", "/fhir/Patient/" + glass_ + "/$break-glass",
                              kGlassReason);
    ASSERT_EQ(glass.status, 200u) << glass.body;
    callers_ = {
        {"patient (own record)", session(patient), patient.csrf, own_},
        {"patient (another patient)", session(patient), patient.csrf, other_},
        {"clinician (care relation)", session(clinician), clinician.csrf, own_},
        {"clinician (break-the-glass)", session(clinician), clinician.csrf, glass_},
        {"clinician (no relation)", session(clinician), clinician.csrf, other_},
        {"lab technician", session(lab), lab.csrf, own_},
        {"administrator", session(admin), admin.csrf, own_},
        {"auditor", session(auditor), auditor.csrf, own_},
        {"integration (`system/*.cruds`, every organization)", integration_, "", own_},
        {"anyone else", {}, "", own_},
    };
  }

  unsigned short port() const { return server_->port(); }

  Http As(const Caller& caller, std::string_view method, const std::string& target,
          const std::string& body = "") {
    std::vector<std::string> headers = caller.auth;
    if (method != "GET" && !caller.csrf.empty()) headers.push_back("X-CSRF-Token: " + caller.csrf);
    headers.push_back("Accept: application/fhir+json");
    return Send(port(), method, target, body, headers, kFhirJson);
  }
  Http AsIntegration(std::string_view method, const std::string& target,
                     const std::string& body = "") {
    return As({"", integration_, "", ""}, method, target, body);
  }

  // The first resource of a search as the integration client.
  json::object First(const std::string& query) {
    Http found = AsIntegration("GET", "/fhir/" + query);
    EXPECT_EQ(found.status, 200u) << query << ": " << found.body;
    if (const auto* entries = found.json.if_contains("entry")) {
      for (const auto& entry : entries->as_array()) {
        return entry.as_object().at("resource").as_object();
      }
    }
    ADD_FAILURE() << "nothing found for " << query;
    return {};
  }

  // Hélène Dupont (the demo's first patient, in Dr Martin's care) and one resource of every
  // type of hers, the directory entries her record names, and an audit entry about her.
  void FindDemoRecords() {
    const Http dupont = AsIntegration("GET", "/fhir/Patient?family=dupont&_count=50");
    ASSERT_TRUE(dupont.json.contains("entry")) << dupont.body;
    for (const auto& entry : dupont.json.at("entry").as_array()) {
      const auto& patient = entry.as_object().at("resource").as_object();
      if (json::serialize(patient).find("Hélène") != std::string::npos) own_ = Str(patient, "id");
    }
    ASSERT_FALSE(own_.empty()) << "the demo has no Hélène Dupont";
    records_[own_]["Patient"] = First("Patient?_id=" + own_);
    for (std::string type : {"AllergyIntolerance", "CareTeam", "Condition", "DiagnosticReport",
                             "Encounter", "MedicationRequest", "Observation"}) {
      records_[own_][type] = First(type + "?patient=" + own_ + "&_count=1");
    }
    // A lab report's PDF: a DocumentReference of the lab that presents a Binary.
    const Http documents = AsIntegration("GET", "/fhir/DocumentReference?patient=" + own_ + "&_count=100");
    ASSERT_TRUE(documents.json.contains("entry")) << documents.body;
    for (const auto& entry : documents.json.at("entry").as_array()) {
      const auto& document = entry.as_object().at("resource").as_object();
      const std::string text = json::serialize(document);
      std::smatch match;
      // The lab's report (a lab technician sees only their lab's documents, not notes).
      if (text.find("11502-2") != std::string::npos &&
          std::regex_search(text, match, std::regex("\"url\":\"Binary/([A-Za-z0-9.-]+)\""))) {
        records_[own_]["DocumentReference"] = document;
        Http binary = AsIntegration("GET", "/fhir/Binary/" + match[1].str());
        ASSERT_EQ(binary.status, 200u) << binary.body;
        records_[own_]["Binary"] = binary.json;
        break;
      }
    }
    ASSERT_TRUE(records_[own_].contains("Binary")) << "no PDF report for the demo patient";
    const std::string team = json::serialize(records_[own_]["CareTeam"]);
    std::smatch match;
    ASSERT_TRUE(std::regex_search(team, match, std::regex("Practitioner/([A-Za-z0-9.-]+)")));
    practitioner_ = match[1].str();
    const std::string report = json::serialize(records_[own_]["DiagnosticReport"]);
    ASSERT_TRUE(std::regex_search(report, match, std::regex("Organization/([A-Za-z0-9.-]+)")));
    directory_["Organization"] = First("Organization?_id=" + match[1].str());
    directory_["Practitioner"] = First("Practitioner?_id=" + practitioner_);
    directory_["PractitionerRole"] = First("PractitionerRole?practitioner=" + practitioner_);
    records_[own_]["AuditEvent"] = First("AuditEvent?patient=" + own_ + "&_count=1");
  }

  // `resource` as a new resource for `patient`: no id, no meta, every reference to the demo
  // patient (and, for a patient out of Dr Martin's care, to her Practitioner) re-pointed, a
  // Binary of the patient's own, and no Encounter named (a lab technician may not see one, so
  // it would not resolve for them: that is not what the cells are about).
  std::string CopyFor(const json::object& resource, const std::string& patient,
                      const std::string& practitioner) {
    json::object copy = Writable(resource);
    copy.erase("id");
    if (copy.contains("securityContext")) {
      copy["securityContext"] = json::object{{"reference", "Patient/" + own_}};
    }
    std::string text = json::serialize(copy);
    text = std::regex_replace(text, std::regex("Patient/" + own_ + "\""), "Patient/" + patient + "\"");
    text = std::regex_replace(text, std::regex("Practitioner/" + practitioner_ + "\""),
                              "Practitioner/" + practitioner + "\"");
    return text;
  }

  // `resource` without what a write may not carry here: meta, and references to encounters.
  static json::object Writable(const json::object& resource) {
    json::object copy = resource;
    copy.erase("meta");
    copy.erase("encounter");
    if (auto* context = copy.if_contains("context"); context != nullptr && context->is_object()) {
      context->as_object().erase("encounter");
      if (context->as_object().empty()) copy.erase("context");
    }
    return copy;
  }

  // Writes `resource` (a copy for `patient`) as the integration client; its stored form.
  json::object Create(const std::string& type, const json::object& resource,
                      const std::string& patient, const std::string& practitioner) {
    Http created = AsIntegration("POST", "/fhir/" + type, CopyFor(resource, patient, practitioner));
    EXPECT_EQ(created.status, 201u) << type << ": " << created.body;
    return created.json;
  }

  // Another patient, out of Dr Martin's care: a copy of Hélène's record whose care team,
  // encounters and orders name another practitioner.
  std::string MakePatientOutOfCare() {
    if (other_practitioner_.empty()) {
      Http practitioner = AsIntegration("POST", "/fhir/Practitioner",
                                        CopyFor(directory_["Practitioner"], own_, practitioner_));
      EXPECT_EQ(practitioner.status, 201u) << practitioner.body;
      other_practitioner_ = Str(practitioner.json, "id");
    }
    json::object patient = Create("Patient", records_[own_]["Patient"], own_, other_practitioner_);
    const std::string other = Str(patient, "id");
    EXPECT_FALSE(other.empty());
    records_[other]["Patient"] = patient;
    for (std::string type : {"AllergyIntolerance", "Binary", "CareTeam", "Condition",
                             "DiagnosticReport", "DocumentReference", "Encounter",
                             "MedicationRequest", "Observation"}) {
      records_[other][type] = Create(type, records_[own_][type], other, other_practitioner_);
    }
    records_[other]["AuditEvent"] = First("AuditEvent?patient=" + other + "&_count=1");
    return other;
  }

  // The resource a cell of `type` is about for `patient`.
  const json::object& Record(const std::string& type, const std::string& patient) {
    if (directory_.contains(type)) return directory_[type];
    return records_[patient][type];
  }

  // One interaction (letter of docs/access-matrix.md) of `type` by `caller`.
  Outcome Try(const Caller& caller, const std::string& type, char letter) {
    const std::string& patient = caller.target;
    const json::object& record = Record(type, patient);
    const std::string id = Str(record, "id");
    const bool directory = directory_.contains(type);
    const std::string practitioner = patient == own_ ? practitioner_ : other_practitioner_;
    switch (letter) {
      case 'R':
        return Judge(As(caller, "GET", "/fhir/" + type + "/" + id), false);
      case 'S': {
        const std::string query = directory || type == "Patient" ? "_id=" + id : "patient=" + patient;
        return Judge(As(caller, "GET", "/fhir/" + type + "?" + query), true);
      }
      case 'H':
        return Judge(As(caller, "GET", "/fhir/" + type + "/" + id + "/_history"), false);
      case 'C':
        return Judge(As(caller, "POST", "/fhir/" + type, CopyFor(record, patient, practitioner)),
                     false);
      case 'U': {
        return Judge(As(caller, "PUT", "/fhir/" + type + "/" + id, json::serialize(Writable(record))),
                     false);
      }
      case 'D': {
        // A fresh copy, so that an allowed delete takes nothing another cell needs. A patient
        // of one's own is deleted only as the last cell (see the test).
        std::string doomed;
        if (type == "AuditEvent") {
          doomed = id;
        } else if (type == "Patient") {
          doomed = Str(Create("Patient", record, patient, practitioner), "id");
          if (caller.title == "clinician (care relation)") {
            json::object team = records_[own_]["CareTeam"];
            Create("CareTeam", team, doomed, practitioner_);
          } else if (caller.title == "clinician (break-the-glass)") {
            const Http glass = As(caller, "POST", "/fhir/Patient/" + doomed + "/$break-glass",
                                  std::string(kGlassReason));
            EXPECT_EQ(glass.status, 200u) << glass.body;
          }
        } else {
          doomed = Str(Create(type, record, patient, practitioner), "id");
        }
        return Judge(As(caller, "DELETE", "/fhir/" + type + "/" + doomed), false);
      }
    }
    return {Answer::kUnexpected, "no such interaction"};
  }

  TempDir dir_;
  Env env_;
  std::filesystem::path vault_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::string> integration_;
  std::string own_, other_, glass_, practitioner_, other_practitioner_;
  std::map<std::string, std::map<std::string, json::object>> records_;  // patient -> type
  std::map<std::string, json::object> directory_;
  std::vector<Caller> callers_;
};

TEST_P(AccessMatrixHttp, EveryRoleGetsWhatTheMatrixSaysFromEveryFhirInteraction) {
  const Table matrix = ReadMatrix();
  std::vector<std::string> mismatches;
  std::size_t cells = 0;
  for (const char letter : std::string("RSHCUD")) {
    for (const auto& [type, columns] : matrix) {
      if (!records_[own_].contains(type) && !directory_.contains(type)) continue;
      for (const Caller& caller : callers_) {
        auto cell = columns.find(caller.title);
        ASSERT_NE(cell, columns.end()) << caller.title << " is not a column of " << kMatrixPath;
        // Binary has no search parameter: no search reaches its records (cell not sent).
        if (letter == 'S' && type == "Binary") continue;
        // The patient's own Patient: deleted by nobody here, so that the other cells keep it.
        if (letter == 'D' && type == "Patient" && caller.title == "patient (own record)") continue;
        const bool expected = cell->second.find(letter) != std::string::npos;
        const Outcome outcome = Try(caller, type, letter);
        ++cells;
        if (outcome.answer == Answer::kUnexpected ||
            (outcome.answer == Answer::kAllowed) != expected) {
          mismatches.push_back(std::string(1, letter) + " " + type + ", " + caller.title +
                               ": expected " + (expected ? "allowed" : "refused") + ", got " +
                               outcome.why);
        }
      }
    }
  }
  // Last: the patient deleting their own Patient (refused; were it allowed, nothing after it
  // would need the record).
  const Caller& own = callers_.front();
  const Outcome self = Judge(As(own, "DELETE", "/fhir/Patient/" + own_), false);
  const bool self_allowed = matrix.at("Patient").at(own.title).find('D') != std::string::npos;
  if ((self.answer == Answer::kAllowed) != self_allowed || self.answer == Answer::kUnexpected) {
    mismatches.push_back("D Patient (their own), patient (own record): got " + self.why);
  }
  ++cells;
  EXPECT_GT(cells, 600u);
  EXPECT_THAT(mismatches, ::testing::IsEmpty()) << cells << " cells sent";
}

TEST_P(AccessMatrixHttp, EveryRoleGetsWhatTheMatrixSaysFromTheOtherEndpoints) {
  const Table matrix = ReadMatrix();
  // The entry a proof is asked for: one of the column's patient's (Hélène's or the other's).
  auto entry_of = [&](const Caller& caller) { return Str(Record("AuditEvent", caller.target), "id"); };
  // Proofs need a checkpoint that covers the entries: one is signed every second here.
  const Caller& auditor =
      *std::find_if(callers_.begin(), callers_.end(), [](const Caller& c) { return c.title == "auditor"; });
  for (int i = 0; i < 100 && As(auditor, "GET", "/audit/proof/" + entry_of(callers_[1])).status != 200;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int created = 0;
  std::string made;  // the account the administrator's create made, for the disable row
  // The latest alert (the break-the-glass column's), for the acknowledge row.
  auto alerts = As(auditor, "GET", "/security/alerts");
  ASSERT_EQ(alerts.status, 200u) << alerts.body;
  ASSERT_FALSE(alerts.json.at("alerts").as_array().empty()) << alerts.body;
  const std::string alert =
      std::to_string(alerts.json.at("alerts").as_array().back().as_object().at("id").as_int64());
  // Dr Martin's link, which the administrator's link row sets again.
  auto shown = RunMedvault({"user", "show", "--dir", vault_.string(), "dr.martin"}, env_);
  std::smatch linked;
  ASSERT_TRUE(std::regex_search(shown.out, linked, std::regex("linked to (Practitioner/[^\\s]+)")))
      << shown.out << shown.err;
  const std::string martin_link = linked[1].str();
  struct Endpoint {
    std::string row;  // as in docs/access-matrix.md
    std::function<Http(const Caller&)> send;
  };
  const std::vector<Endpoint> endpoints = {
      {"`GET /fhir/metadata`", [&](const Caller& c) { return As(c, "GET", "/fhir/metadata"); }},
      {"`GET /audit/proof/{index}` (an entry about the patient)",
       [&](const Caller& c) { return As(c, "GET", "/audit/proof/" + entry_of(c)); }},
      {"`GET /audit/entries.csv?patient=`",
       [&](const Caller& c) { return As(c, "GET", "/audit/entries.csv?patient=" + c.target); }},
      {"`GET /audit/scope?account=&from=&to=`",
       [&](const Caller& c) {
         return As(c, "GET", "/audit/scope?account=matrix-client&from=2020-01-01&to=2100-01-01");
       }},
      {"`GET /security/alerts`", [&](const Caller& c) { return As(c, "GET", "/security/alerts"); }},
      {"`GET /lab/quarantine`", [&](const Caller& c) { return As(c, "GET", "/lab/quarantine"); }},
      {"`GET /lab/worklist`", [&](const Caller& c) { return As(c, "GET", "/lab/worklist"); }},
      {"`POST /auth/admin/accounts`",
       [&](const Caller& c) {
         const std::string login = "matrix." + std::to_string(++created);
         Http answer = As(c, "POST", "/auth/admin/accounts",
                          R"({"login":")" + login + R"(","kind":"auditor","name":"Matrix Test"})");
         if (answer.status == 201) made = login;
         return answer;
       }},
      {"`GET /auth/admin/accounts`",
       [&](const Caller& c) { return As(c, "GET", "/auth/admin/accounts"); }},
      {"`POST /auth/admin/accounts/disable`",
       [&](const Caller& c) {
         return As(c, "POST", "/auth/admin/accounts/disable",
                   R"({"login":")" + (made.empty() ? std::string("matrix.none") : made) + R"("})");
       }},
      {"`POST /auth/admin/accounts/link`",
       [&](const Caller& c) {
         return As(c, "POST", "/auth/admin/accounts/link",
                   R"({"login":"dr.martin","link":")" + martin_link + R"("})");
       }},
      {"`POST /security/alerts/{id}/$acknowledge`",
       [&](const Caller& c) {
         return As(c, "POST", "/security/alerts/" + alert + "/$acknowledge");
       }},
      {"`GET /audit/checkpoint`",
       [&](const Caller& c) { return As(c, "GET", "/audit/checkpoint"); }},
      {"`GET /audit/verify`", [&](const Caller& c) { return As(c, "GET", "/audit/verify"); }},
      {"`GET /security/keys`", [&](const Caller& c) { return As(c, "GET", "/security/keys"); }},
  };
  std::vector<std::string> mismatches;
  for (const Endpoint& endpoint : endpoints) {
    auto row = matrix.find(endpoint.row);
    ASSERT_NE(row, matrix.end()) << endpoint.row << " is not a row of " << kMatrixPath;
    for (const Caller& caller : callers_) {
      auto cell = row->second.find(caller.title);
      ASSERT_NE(cell, row->second.end()) << caller.title;
      const bool expected = cell->second == "yes";
      const Outcome outcome = Judge(endpoint.send(caller), false);
      if (outcome.answer == Answer::kUnexpected ||
          (outcome.answer == Answer::kAllowed) != expected) {
        mismatches.push_back(endpoint.row + ", " + caller.title + ": expected " +
                             (expected ? "allowed" : "refused") + ", got " + outcome.why);
      }
    }
  }
  EXPECT_THAT(mismatches, ::testing::IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessMatrixHttp, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::testing
