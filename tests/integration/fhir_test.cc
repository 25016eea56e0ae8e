// The FHIR R4 API through the real `medvault` binary over TLS: a clinician's session (enrolled
// with oathtool codes), a patient's session, and an API client whose assertion Node signs.
// Every flow goes through authentication, the policy, the audit log and the encrypted store;
// the PostgreSQL test repeats the core flow on the pg fixture's cluster.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/base64.h"
#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kForm = "application/x-www-form-urlencoded";
constexpr std::string_view kMrnSystem = "https://lab.example.org/mrn";

std::string PatientJson(std::string_view family, std::string_view mrn) {
  return R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kMrnSystem) +
         R"(","value":")" + std::string(mrn) + R"("}],"name":[{"family":")" + std::string(family) +
         R"(","given":["Hélène"]}],"gender":"female","birthDate":"1980-04-12"})";
}

json::object ObservationObject(std::string_view patient_id, std::string_view loinc, double value) {
  return json::parse(R"({"resourceType":"Observation","status":"final",)"
                     R"("code":{"coding":[{"system":"http://loinc.org","code":")" +
                     std::string(loinc) + R"("}]},"subject":{"reference":"Patient/)" +
                     std::string(patient_id) +
                     R"("},"effectiveDateTime":"2026-11-02T08:30:00Z","valueQuantity":{"value":)" +
                     std::to_string(value) +
                     R"(,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})")
      .as_object();
}

std::string ObservationJson(std::string_view patient_id, std::string_view loinc, double value) {
  return json::serialize(ObservationObject(patient_id, loinc, value));
}

// Every issue of an OperationOutcome, as text, to look for the element a refusal names.
std::string IssuesOf(const Http& answer) {
  EXPECT_EQ(Str(answer.json, "resourceType"), "OperationOutcome") << answer.body;
  const auto* issues = answer.json.if_contains("issue");
  return issues != nullptr ? json::serialize(*issues) : "";
}

std::vector<std::string> EntryIds(const json::object& bundle, std::string_view mode = "match") {
  std::vector<std::string> ids;
  if (const auto* entries = bundle.if_contains("entry")) {
    for (const auto& entry : entries->as_array()) {
      const auto& e = entry.as_object();
      const auto* search = e.if_contains("search");
      if (search != nullptr && Str(search->as_object(), "mode") != mode) continue;
      ids.push_back(Str(e.at("resource").as_object(), "id"));
    }
  }
  return ids;
}

std::string LinkOf(const json::object& bundle, std::string_view relation) {
  if (const auto* links = bundle.if_contains("link")) {
    for (const auto& link : links->as_array()) {
      if (Str(link.as_object(), "relation") == relation) return Str(link.as_object(), "url");
    }
  }
  return {};
}

class FhirApi : public ::testing::Test {
 protected:
  void Start(Env env = {}) {
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env));
    ASSERT_NE(server_, nullptr);
    origin_ = "https://127.0.0.1:" + std::to_string(server_->port());
    clinician_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician", env_));
    ASSERT_FALSE(clinician_.session.csrf.empty()) << "the clinician could not enroll";
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), clinician_.session, "c.martin",
                              kPractitioner, env_));
    admin_ = EnrollCareAdministrator(port(), vault_.path(), env_);
    ASSERT_FALSE(admin_.session.csrf.empty()) << "the administrator could not enroll";
  }

  // The clinician's Practitioner: the administrator takes the patients they create into its
  // care.
  static constexpr const char* kPractitioner = "pr-c-martin";
  void TakeIntoCare(const std::string& patient) {
    EXPECT_NE(testing::TakeIntoCare(port(), admin_.session, kPractitioner, patient), "");
  }

  // Nobody takes a patient into their own care (THREATS.md case 3): a CareTeam, an Encounter
  // or an order naming the clinician is refused for a stranger, with the same answer whether
  // or not the stranger exists, and audited. A clinician admits a new patient by registering
  // them with their first Encounter in one transaction.
  void NobodyTakesAPatientIntoTheirOwnCare() {
    auto stranger = Clinician("POST", "/fhir/Patient", PatientJson("Inconnu", "MRN-90"));
    ASSERT_EQ(stranger.status, 201u) << stranger.body;
    const std::string patient = Str(stranger.json, "id");
    const auto team = [](const std::string& of) {
      return R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
             of + R"("},"participant":[{"member":{"reference":"Practitioner/)" + kPractitioner +
             R"("}}]})";
    };
    const auto encounter = [](const std::string& of) {
      return R"({"resourceType":"Encounter","status":"in-progress","class":{"system":)"
             R"("http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},)"
             R"("subject":{"reference":")" +
             of + R"("},"participant":[{"individual":{"reference":"Practitioner/)" +
             kPractitioner + R"("}}]})";
    };
    for (const auto& [type, body, unknown] :
         {std::tuple{"CareTeam", team(patient), team("no-such-patient")},
          std::tuple{"Encounter", encounter("Patient/" + patient),
                     encounter("Patient/no-such-patient")}}) {
      auto refused = Clinician("POST", "/fhir/" + std::string(type), body);
      EXPECT_EQ(refused.status, 403u) << type << ": " << refused.body;
      EXPECT_THAT(IssuesOf(refused), HasSubstr("ask an administrator")) << type;
      auto absent = Clinician("POST", "/fhir/" + std::string(type), unknown);
      EXPECT_EQ(absent.status, 403u) << type << ": " << absent.body;
      EXPECT_EQ(IssuesOf(absent), IssuesOf(refused)) << "the same answer for nobody";
    }
    std::string with_id = encounter("Patient/" + patient);
    with_id.insert(with_id.find(',') + 1, R"("id":"enc-self",)");
    auto put = Clinician("PUT", "/fhir/Encounter/enc-self", with_id);
    EXPECT_EQ(put.status, 403u) << put.body;
    const std::string bundled =
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
        encounter("Patient/" + patient) + R"(,"request":{"method":"POST","url":"Encounter"}}]})";
    auto in_bundle = Clinician("POST", "/fhir", bundled);
    EXPECT_EQ(in_bundle.status, 403u) << in_bundle.body;
    EXPECT_EQ(Clinician("GET", "/fhir/Patient/" + patient).status, 404u)
        << "nothing written took the stranger into care";

    // Registering a new patient with their first Encounter, in one transaction.
    const std::string admission =
        R"({"resourceType":"Bundle","type":"transaction","entry":[)"
        R"({"fullUrl":"urn:uuid:8a4c5f0e-2d1b-4c3a-9e8f-7a6b5c4d3e2f","resource":)" +
        PatientJson("Nouveau", "MRN-91") +
        R"(,"request":{"method":"POST","url":"Patient"}},{"resource":)" +
        encounter("urn:uuid:8a4c5f0e-2d1b-4c3a-9e8f-7a6b5c4d3e2f") +
        R"(,"request":{"method":"POST","url":"Encounter"}}]})";
    auto admitted = Clinician("POST", "/fhir", admission);
    ASSERT_EQ(admitted.status, 200u) << admitted.body;
    const std::string location =
        Str(admitted.json.at("entry").as_array().at(0).at("response").as_object(), "location");
    const std::string admitted_id = location.substr(8, location.find("/_history") - 8);
    EXPECT_EQ(Clinician("GET", "/fhir/Patient/" + admitted_id).status, 200u)
        << "the admission's Encounter relates the clinician";

    // The refusals are in the log, for the auditors.
    Enrolled auditor = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.audit", "auditor", env_));
    ASSERT_FALSE(auditor.session.csrf.empty());
    auto events = As(auditor.session, "GET", "/fhir/AuditEvent?patient=" + patient + "&_count=100");
    ASSERT_EQ(events.status, 200u) << events.body;
    const std::string account = Str(Clinician("GET", "/auth/me").json, "account_id");
    int denied = 0;
    if (const auto* entries = events.json.if_contains("entry")) {
      for (const auto& entry : entries->as_array()) {
        const std::string event = json::serialize(entry.at("resource"));
        if (event.find(R"("outcome":"4")") != std::string::npos &&
            event.find(account) != std::string::npos) {
          ++denied;
        }
      }
    }
    EXPECT_GE(denied, 4) << "the CareTeam, the Encounter, the PUT and the transaction";
  }

  unsigned short port() const { return server_->port(); }
  std::string base() const { return origin_ + "/fhir"; }
  // An absolute URL the server wrote, as a request target.
  std::string TargetOf(const std::string& url) const {
    EXPECT_THAT(url, StartsWith(origin_));
    return url.substr(std::min(url.size(), origin_.size()));
  }

  Http As(const WebSession& session, std::string_view method, std::string_view target,
          std::string_view body = "", std::vector<std::string> headers = {},
          std::string_view content_type = kFhirJson) {
    return SendAs(port(), session, method, target, body, std::move(headers), content_type);
  }
  Http Clinician(std::string_view method, std::string_view target, std::string_view body = "",
                 std::vector<std::string> headers = {}, std::string_view content_type = kFhirJson) {
    return As(clinician_.session, method, target, body, std::move(headers), content_type);
  }

  std::string CreatePatient(std::string_view family, std::string_view mrn) {
    auto created = Clinician("POST", "/fhir/Patient", PatientJson(family, mrn));
    EXPECT_EQ(created.status, 201u) << created.body;
    TakeIntoCare(Str(created.json, "id"));
    return Str(created.json, "id");
  }
  std::string CreateObservation(const std::string& patient, std::string_view loinc = "2345-7",
                                double value = 5.4) {
    auto created = Clinician("POST", "/fhir/Observation", ObservationJson(patient, loinc, value));
    EXPECT_EQ(created.status, 201u) << created.body;
    return Str(created.json, "id");
  }
  std::int64_t CountOf(const std::string& query) {
    auto counted = Clinician("GET", "/fhir/" + query + "&_summary=count");
    EXPECT_EQ(counted.status, 200u) << counted.body;
    const auto* total = counted.json.if_contains("total");
    return total != nullptr && total->is_int64() ? total->as_int64() : -1;
  }

  // Create, read, vread, update with If-Match (412 when stale), delete (410 after), history.
  void InstanceLifecycle() {
    const std::string patient = CreatePatient("Dupont", "MRN-1");
    ASSERT_FALSE(patient.empty());
    auto created = Clinician("POST", "/fhir/Observation", ObservationJson(patient, "2345-7", 5.4));
    ASSERT_EQ(created.status, 201u) << created.body;
    const std::string id = Str(created.json, "id");
    EXPECT_EQ(created.Header("Location"), base() + "/Observation/" + id + "/_history/1");
    EXPECT_EQ(created.Header("ETag"), "W/\"1\"");
    EXPECT_THAT(created.Header("Content-Type"), StartsWith("application/fhir+json"));
    EXPECT_FALSE(created.Header("Last-Modified").empty());

    auto read = Clinician("GET", "/fhir/Observation/" + id);
    ASSERT_EQ(read.status, 200u) << read.body;
    EXPECT_EQ(read.Header("ETag"), "W/\"1\"");
    EXPECT_EQ(Str(read.json.at("subject").as_object(), "reference"), "Patient/" + patient);
    EXPECT_EQ(Str(read.json.at("meta").as_object(), "versionId"), "1");

    json::object changed = ObservationObject(patient, "2345-7", 6.1);
    changed["id"] = id;
    auto updated = Clinician("PUT", "/fhir/Observation/" + id, json::serialize(changed),
                             {"If-Match: W/\"1\""});
    ASSERT_EQ(updated.status, 200u) << updated.body;
    EXPECT_EQ(updated.Header("ETag"), "W/\"2\"");
    EXPECT_EQ(updated.Header("Content-Location"), base() + "/Observation/" + id + "/_history/2");
    auto stale = Clinician("PUT", "/fhir/Observation/" + id, json::serialize(changed),
                           {"If-Match: W/\"1\""});
    EXPECT_EQ(stale.status, 412u) << stale.body;
    IssuesOf(stale);

    auto first = Clinician("GET", "/fhir/Observation/" + id + "/_history/1");
    ASSERT_EQ(first.status, 200u) << first.body;
    EXPECT_EQ(first.json.at("valueQuantity").at("value").to_number<double>(), 5.4);
    auto minimal = Clinician("PUT", "/fhir/Observation/" + id, json::serialize(changed),
                             {"Prefer: return=minimal"});
    EXPECT_EQ(minimal.status, 200u) << minimal.body;
    EXPECT_TRUE(minimal.body.empty());
    EXPECT_EQ(minimal.Header("ETag"), "W/\"3\"");

    auto deleted = Clinician("DELETE", "/fhir/Observation/" + id);
    ASSERT_EQ(deleted.status, 200u) << deleted.body;
    EXPECT_EQ(Str(deleted.json, "resourceType"), "OperationOutcome");
    auto gone = Clinician("GET", "/fhir/Observation/" + id);
    EXPECT_EQ(gone.status, 410u) << gone.body;
    IssuesOf(gone);

    auto history = Clinician("GET", "/fhir/Observation/" + id + "/_history");
    ASSERT_EQ(history.status, 200u) << history.body;
    EXPECT_EQ(Str(history.json, "type"), "history");
    const auto& entries = history.json.at("entry").as_array();
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(Str(entries[0].at("request").as_object(), "method"), "DELETE");
    EXPECT_EQ(Str(entries[3].at("request").as_object(), "method"), "POST");
    EXPECT_EQ(Str(entries[3].as_object(), "fullUrl"), base() + "/Observation/" + id);
  }

  // A DiagnosticReport and 20 Observations in one transaction, linked by urn:uuid.
  std::string TransactionBundle(const std::string& patient, bool with_bad_entry) {
    json::array entries;
    json::array results;
    for (int i = 0; i < 20; ++i) {
      const std::string urn = "urn:uuid:6f1c2a3e-0000-4000-8000-0000000000" +
                              std::string(i < 10 ? "0" : "") + std::to_string(i);
      json::object observation = ObservationObject(patient, "718-7", 130 + i);
      if (with_bad_entry && i == 13) observation["status"] = "not-a-status";
      entries.push_back(json::object{{"fullUrl", urn},
                                     {"resource", observation},
                                     {"request", {{"method", "POST"}, {"url", "Observation"}}}});
      results.push_back(json::object{{"reference", urn}});
    }
    json::object report = json::parse(R"({"resourceType":"DiagnosticReport","status":"final",)"
                                      R"("code":{"coding":[{"system":"http://loinc.org",)"
                                      R"("code":"58410-2"}]}})")
                              .as_object();
    report["subject"] = json::object{{"reference", "Patient/" + patient}};
    report["result"] = results;
    entries.push_back(json::object{{"fullUrl", "urn:uuid:6f1c2a3e-0000-4000-8000-00000000ffff"},
                                   {"resource", report},
                                   {"request", {{"method", "POST"}, {"url", "DiagnosticReport"}}}});
    return json::serialize(
        json::object{{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", entries}});
  }

  void Transactions() {
    const std::string patient = CreatePatient("Lefèvre", "MRN-2");
    ASSERT_FALSE(patient.empty());
    auto bad = Clinician("POST", "/fhir", TransactionBundle(patient, true));
    EXPECT_EQ(bad.status, 400u) << bad.body;
    EXPECT_THAT(IssuesOf(bad), HasSubstr("status"));
    EXPECT_EQ(CountOf("Observation?patient=" + patient), 0) << "nothing of a failed transaction";
    EXPECT_EQ(CountOf("DiagnosticReport?patient=" + patient), 0);

    auto done = Clinician("POST", "/fhir", TransactionBundle(patient, false));
    ASSERT_EQ(done.status, 200u) << done.body;
    EXPECT_EQ(Str(done.json, "type"), "transaction-response");
    const auto& entries = done.json.at("entry").as_array();
    ASSERT_EQ(entries.size(), 21u);
    std::set<std::string> observations;
    for (std::size_t i = 0; i < 20; ++i) {
      const auto& response = entries[i].at("response").as_object();
      EXPECT_THAT(Str(response, "status"), StartsWith("201"));
      std::smatch match;
      const std::string location = Str(response, "location");
      ASSERT_TRUE(
          std::regex_match(location, match, std::regex("Observation/([A-Za-z0-9.-]+)/_history/1")))
          << location;
      observations.insert(match[1].str());
    }
    EXPECT_EQ(observations.size(), 20u);
    EXPECT_EQ(CountOf("Observation?patient=" + patient), 20);
    const std::string report_location = Str(entries[20].at("response").as_object(), "location");
    const std::string report_id =
        report_location.substr(17, report_location.find("/_history") - 17);
    auto report = Clinician("GET", "/fhir/DiagnosticReport/" + report_id);
    ASSERT_EQ(report.status, 200u) << report.body;
    std::set<std::string> referenced;
    for (const auto& result : report.json.at("result").as_array()) {
      referenced.insert(Str(result.as_object(), "reference").substr(12));
    }
    EXPECT_EQ(referenced, observations) << "urn:uuid references became the new ids";

    // Paging: 20 Observations 7 at a time, following the next links as given.
    std::vector<std::string> seen;
    std::string target = "/fhir/Observation?patient=" + patient + "&_count=7";
    int pages = 0;
    while (!target.empty() && pages < 10) {
      auto page = Clinician("GET", target);
      ASSERT_EQ(page.status, 200u) << page.body;
      EXPECT_EQ(Str(page.json, "type"), "searchset");
      EXPECT_THAT(LinkOf(page.json, "self"), StartsWith(base() + "/Observation?"));
      const auto ids = EntryIds(page.json);
      EXPECT_LE(ids.size(), 7u);
      seen.insert(seen.end(), ids.begin(), ids.end());
      const std::string next = LinkOf(page.json, "next");
      target = next.empty() ? "" : TargetOf(next);
      ++pages;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), observations);
    EXPECT_EQ(seen.size(), 20u) << "no match twice across pages";

    // POST _search: the form body, with the query of the URL.
    auto posted =
        Clinician("POST", "/fhir/Observation/_search?_count=50",
                  "patient=" + patient + "&code=http%3A%2F%2Floinc.org%7C718-7", {}, kForm);
    ASSERT_EQ(posted.status, 200u) << posted.body;
    EXPECT_EQ(EntryIds(posted.json).size(), 20u);
    auto wrong_media = Clinician("POST", "/fhir/Observation/_search", "patient=" + patient);
    EXPECT_EQ(wrong_media.status, 415u) << wrong_media.body;
    auto summary = Clinician("GET", "/fhir/Observation?patient=" + patient + "&_summary=count");
    ASSERT_EQ(summary.status, 200u);
    EXPECT_EQ(summary.json.at("total").as_int64(), 20);
    EXPECT_EQ(summary.json.if_contains("entry"), nullptr);
    auto included = Clinician(
        "GET", "/fhir/DiagnosticReport?patient=" + patient + "&_include=DiagnosticReport:result");
    ASSERT_EQ(included.status, 200u) << included.body;
    EXPECT_EQ(EntryIds(included.json), std::vector<std::string>{report_id});
    const auto results = EntryIds(included.json, "include");
    EXPECT_EQ(std::set<std::string>(results.begin(), results.end()), observations);

    // Type history of the patient's Observations, 8 versions a page.
    std::set<std::string> versioned;
    target = "/fhir/Observation/_history?patient=" + patient + "&_count=8";
    pages = 0;
    while (!target.empty() && pages < 10) {
      auto page = Clinician("GET", target);
      ASSERT_EQ(page.status, 200u) << page.body;
      EXPECT_EQ(Str(page.json, "type"), "history");
      if (const auto* entries = page.json.if_contains("entry")) {
        EXPECT_LE(entries->as_array().size(), 8u);
        for (const auto& entry : entries->as_array()) {
          versioned.insert(Str(entry.at("resource").as_object(), "id"));
        }
      }
      const std::string next = LinkOf(page.json, "next");
      target = next.empty() ? "" : TargetOf(next);
      ++pages;
    }
    EXPECT_EQ(versioned, observations);
    EXPECT_EQ(pages, 3);

    auto elements = Clinician("GET", "/fhir/Observation?patient=" + patient + "&_elements=code");
    ASSERT_EQ(elements.status, 200u) << elements.body;
    const auto& first = elements.json.at("entry").as_array().at(0).at("resource").as_object();
    EXPECT_NE(first.if_contains("code"), nullptr);
    EXPECT_EQ(first.if_contains("valueQuantity"), nullptr);
  }

  TempDir vault_;
  Env env_;
  std::unique_ptr<ServerProcess> server_;
  std::string origin_;
  Enrolled clinician_;
  Enrolled admin_;  // keeps the care teams
};

TEST_F(FhirApi, MetadataNeedsNoAuthenticationAndEverythingElseDoes) {
  Start();
  auto metadata = Send(port(), "GET", "/fhir/metadata", "");
  ASSERT_EQ(metadata.status, 200u) << metadata.body;
  EXPECT_EQ(Str(metadata.json, "resourceType"), "CapabilityStatement");
  EXPECT_EQ(Str(metadata.json, "fhirVersion"), "4.0.1");
  EXPECT_THAT(metadata.Header("Content-Type"), StartsWith("application/fhir+json"));

  for (const char* target : {"/fhir/Patient?identifier=x", "/fhir/Observation?colour=blue",
                             "/fhir/Observation/_history?patient=abc", "/fhir/Observation/abc",
                             "/fhir/Observation/abc/_history"}) {
    auto refused = Send(port(), "GET", target, "");
    EXPECT_EQ(refused.status, 401u) << target;
    IssuesOf(refused);
  }
  auto bad_token = Send(port(), "GET", "/fhir/Observation/abc", "",
                        {"Authorization: Bearer not-a-token-we-issued"});
  EXPECT_EQ(bad_token.status, 401u);
  EXPECT_THAT(bad_token.Header("WWW-Authenticate"), StartsWith("Bearer"));
  auto bad_cookie =
      Send(port(), "GET", "/fhir/Observation/abc", "", {"Cookie: __Host-medvault_session=forged"});
  EXPECT_EQ(bad_cookie.status, 401u);
  auto unknown_type = Clinician("GET", "/fhir/Spaceship/1");
  EXPECT_EQ(unknown_type.status, 404u);
  EXPECT_THAT(IssuesOf(unknown_type), HasSubstr("not-supported"));
  auto patch = Clinician("PATCH", "/fhir/Observation/abc", "[]");
  EXPECT_EQ(patch.status, 405u);
  auto xml = Clinician("GET", "/fhir/Observation/abc?_format=xml");
  EXPECT_EQ(xml.status, 415u);
  auto smart = Send(port(), "GET", "/fhir/.well-known/smart-configuration", "");
  EXPECT_EQ(smart.status, 200u) << "the literal route still wins";
}

TEST_F(FhirApi, AClinicianCreatesReadsUpdatesDeletesAndReadsHistory) {
  Start();
  InstanceLifecycle();
}

TEST_F(FhirApi, TransactionsAreAtomicAndSearchPagesLinkToEachOther) {
  Start();
  Transactions();
}

TEST_F(FhirApi, BatchEntriesSucceedOrFailOnTheirOwn) {
  Start();
  const std::string patient = CreatePatient("Dupont", "MRN-40");
  json::object bad = ObservationObject(patient, "2345-7", 1);
  bad["status"] = "not-a-status";
  json::array entries{
      json::object{{"resource", ObservationObject(patient, "2345-7", 4.2)},
                   {"request", {{"method", "POST"}, {"url", "Observation"}}}},
      json::object{{"resource", bad}, {"request", {{"method", "POST"}, {"url", "Observation"}}}},
      json::object{{"request", {{"method", "GET"}, {"url", "Patient/" + patient}}}}};
  // Posted to the base URL with its trailing slash, as fhir-kit-client does.
  auto done = Clinician("POST", "/fhir/",
                        json::serialize(json::object{
                            {"resourceType", "Bundle"}, {"type", "batch"}, {"entry", entries}}));
  ASSERT_EQ(done.status, 200u) << done.body;
  EXPECT_EQ(Str(done.json, "type"), "batch-response");
  const auto& answers = done.json.at("entry").as_array();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_THAT(Str(answers[0].at("response").as_object(), "status"), StartsWith("201"));
  EXPECT_EQ(Str(answers[0].at("response").as_object(), "etag"), "W/\"1\"");
  EXPECT_THAT(Str(answers[1].at("response").as_object(), "status"), StartsWith("400"));
  EXPECT_EQ(Str(answers[1].at("response").at("outcome").as_object(), "resourceType"),
            "OperationOutcome");
  EXPECT_THAT(Str(answers[2].at("response").as_object(), "status"), StartsWith("200"));
  EXPECT_EQ(Str(answers[2].at("resource").as_object(), "id"), patient);
  EXPECT_EQ(CountOf("Observation?patient=" + patient), 1);
}

TEST_F(FhirApi, ABodyOverTheLimitIs413WithAnOperationOutcome) {
  Start({{"MEDVAULT_SERVER_MAX_BODY_BYTES", "4096"}});
  auto big = Clinician("POST", "/fhir/Patient", std::string(8192, ' ') + PatientJson("D", "M"));
  EXPECT_EQ(big.status, 413u);
  EXPECT_THAT(IssuesOf(big), HasSubstr("too-long"));
}

TEST_F(FhirApi, ConditionalCreateTwiceGivesOneResource) {
  Start();
  const std::string header = "If-None-Exist: identifier=" + std::string(kMrnSystem) + "|MRN-77";
  auto first = Clinician("POST", "/fhir/Patient", PatientJson("Müller", "MRN-77"), {header});
  ASSERT_EQ(first.status, 201u) << first.body;
  // The condition is searched among the patients the clinician may see: theirs.
  TakeIntoCare(Str(first.json, "id"));
  auto second = Clinician("POST", "/fhir/Patient", PatientJson("Müller", "MRN-77"), {header});
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(Str(second.json, "id"), Str(first.json, "id"));
  auto found = Clinician("GET",
                         "/fhir/Patient?identifier=https%3A%2F%2Flab.example.org%2Fmrn%7C"
                         "MRN-77");
  ASSERT_EQ(found.status, 200u) << found.body;
  EXPECT_EQ(EntryIds(found.json), std::vector<std::string>{Str(first.json, "id")});
}

TEST_F(FhirApi, BadRequestsGetOperationOutcomesNamingThePlace) {
  Start();
  auto malformed = Clinician("POST", "/fhir/Patient", "{\"resourceType\":\"Patient\",\n\"name\":[");
  EXPECT_EQ(malformed.status, 400u) << malformed.body;
  EXPECT_THAT(IssuesOf(malformed), ::testing::ContainsRegex("line|offset|position"));
  auto wrong_type = Clinician("POST", "/fhir/Observation", PatientJson("Dupont", "MRN-3"));
  EXPECT_EQ(wrong_type.status, 400u);
  EXPECT_THAT(IssuesOf(wrong_type), HasSubstr("resourceType"));
  auto not_json =
      Clinician("POST", "/fhir/Patient", PatientJson("Dupont", "MRN-3"), {}, "text/plain");
  EXPECT_EQ(not_json.status, 415u);
  IssuesOf(not_json);
  const std::string patient = CreatePatient("Dupont", "MRN-3");
  auto unknown = Clinician("GET", "/fhir/Observation?patient=" + patient + "&colour=blue");
  EXPECT_EQ(unknown.status, 400u) << unknown.body;
  EXPECT_THAT(IssuesOf(unknown), HasSubstr("colour"));
  EXPECT_THAT(unknown.body, ::testing::Not(HasSubstr("blue"))) << "values are never quoted";
  auto no_csrf = Send(port(), "POST", "/fhir/Patient", PatientJson("Dupont", "MRN-4"),
                      {"Cookie: " + clinician_.session.cookie}, kFhirJson);
  EXPECT_EQ(no_csrf.status, 401u);
  EXPECT_THAT(IssuesOf(no_csrf), HasSubstr("X-CSRF-Token"));
  auto audit_write = Clinician("POST", "/fhir/AuditEvent", R"({"resourceType":"AuditEvent"})");
  EXPECT_EQ(audit_write.status, 405u) << "the audit log writes AuditEvents, nobody else";
  IssuesOf(audit_write);
  auto history_without_patient = Clinician("GET", "/fhir/Observation/_history");
  EXPECT_EQ(history_without_patient.status, 400u);
  EXPECT_THAT(IssuesOf(history_without_patient), HasSubstr("patient"));
}

TEST_F(FhirApi, APatientSeesTheirOwnRecordAndNotAnothers) {
  Start();
  const std::string mine = CreatePatient("Petit", "MRN-10");
  const std::string theirs = CreatePatient("N'Diaye", "MRN-11");
  const std::string my_result = CreateObservation(mine);
  const std::string their_result = CreateObservation(theirs);
  Enrolled patient = ActivatePatient(port(), vault_.path(), mine, "j.petit", env_);
  ASSERT_FALSE(patient.session.csrf.empty());

  auto own = As(patient.session, "GET", "/fhir/Observation/" + my_result);
  EXPECT_EQ(own.status, 200u) << own.body;
  auto other = As(patient.session, "GET", "/fhir/Observation/" + their_result);
  EXPECT_EQ(other.status, 404u) << other.body;
  auto missing =
      As(patient.session, "GET", "/fhir/Observation/0b7e6c52-1111-4222-8333-444455556666");
  EXPECT_EQ(Str(other.json, "resourceType"), "OperationOutcome");
  EXPECT_EQ(IssuesOf(other), IssuesOf(missing)) << "another's record looks like no record";
  auto write = As(patient.session, "POST", "/fhir/Observation", ObservationJson(mine, "2345-7", 1));
  EXPECT_EQ(write.status, 403u) << write.body;
}

TEST_F(FhirApi, AnApiClientWithReadScopesSearchesButCannotCreate) {
  Start();
  const std::string patient = CreatePatient("Dupont", "MRN-20");
  CreateObservation(patient);
  const std::string token =
      ApiClientToken(port(), vault_.path(), "lab-1", "system/Observation.rs", env_);
  ASSERT_FALSE(token.empty());
  const std::string bearer = "Authorization: Bearer " + token;
  auto search = Send(port(), "GET", "/fhir/Observation?patient=" + patient, "", {bearer});
  ASSERT_EQ(search.status, 200u) << search.body;
  EXPECT_EQ(EntryIds(search.json).size(), 1u);
  auto create = Send(port(), "POST", "/fhir/Observation", ObservationJson(patient, "2345-7", 2),
                     {bearer}, kFhirJson);
  EXPECT_EQ(create.status, 403u) << create.body;
  IssuesOf(create);
  EXPECT_EQ(CountOf("Observation?patient=" + patient), 1);
}

TEST_F(FhirApi, APdfAttachmentComesBackFromBinaryByteForByteAndReadsAreAudited) {
  Start();
  const std::string patient = CreatePatient("Dupont", "MRN-30");
  std::string pdf = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n";
  for (int i = 0; i < 256; ++i) pdf.push_back(static_cast<char>(i));
  pdf += "\n%%EOF\n";
  json::object attachment{{"contentType", "application/pdf"}};
  attachment["data"] = EncodeBase64({reinterpret_cast<const std::uint8_t*>(pdf.data()), pdf.size()},
                                    Base64Alphabet::kStandard);
  json::object document{{"resourceType", "DocumentReference"},
                        {"status", "current"},
                        {"subject", {{"reference", "Patient/" + patient}}}};
  document["content"] = json::array{json::object{{"attachment", attachment}}};
  auto created = Clinician("POST", "/fhir/DocumentReference", json::serialize(document));
  ASSERT_EQ(created.status, 201u) << created.body;
  // The attachment's bytes became a Binary that the document points to.
  const auto& stored = created.json.at("content").at(0).at("attachment").as_object();
  EXPECT_EQ(stored.if_contains("data"), nullptr);
  const std::string url = Str(stored, "url");
  ASSERT_THAT(url, StartsWith("Binary/"));
  const std::string id = url.substr(7);

  auto raw = Clinician("GET", "/fhir/Binary/" + id, "", {"Accept: application/pdf"});
  ASSERT_EQ(raw.status, 200u) << raw.body;
  EXPECT_EQ(raw.Header("Content-Type"), "application/pdf");
  EXPECT_THAT(raw.Header("Content-Disposition"), StartsWith("attachment"));
  EXPECT_EQ(raw.body, pdf) << "the bytes come back identical";
  auto as_fhir = Clinician("GET", "/fhir/Binary/" + id, "", {"Accept: application/fhir+json"});
  ASSERT_EQ(as_fhir.status, 200u);
  EXPECT_EQ(Str(as_fhir.json, "resourceType"), "Binary");

  auto me = Clinician("GET", "/auth/me");
  const std::string account = Str(me.json, "account_id");
  ASSERT_FALSE(account.empty()) << me.body;
  auto verify = RunMedvault({"audit", "verify", "--dir", vault_.path().string()}, env_);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto scope = RunMedvault({"audit", "scope", "--dir", vault_.path().string(), "--account", account,
                            "--from", "2000-01-01", "--to", "2100-01-01T00:00:00Z"},
                           env_);
  ASSERT_EQ(scope.exit_code, 0) << scope.err;
  EXPECT_THAT(scope.out, HasSubstr("patient " + patient + ":"));
  EXPECT_THAT(scope.out, HasSubstr("Binary"));
  // An auditor finds the reads of that record as AuditEvents.
  Enrolled auditor = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.audit", "auditor", env_));
  ASSERT_FALSE(auditor.session.csrf.empty());
  auto events = As(auditor.session, "GET", "/fhir/AuditEvent?entity=Binary/" + id + "&_count=100");
  ASSERT_EQ(events.status, 200u) << events.body;
  ASSERT_NE(events.json.if_contains("entry"), nullptr) << events.body;
  EXPECT_GE(events.json.at("entry").as_array().size(), 2u) << "both reads of the Binary";
  EXPECT_THAT(json::serialize(events.json.at("entry")), HasSubstr(account));
  auto refused = Clinician("GET", "/fhir/AuditEvent?entity=Binary/" + id);
  EXPECT_EQ(refused.status, 403u) << "clinicians do not read the audit log";

  EXPECT_THAT(server_->Output(), ::testing::Not(HasSubstr("MRN-30")));
  EXPECT_THAT(server_->Output(), ::testing::Not(HasSubstr(patient))) << "no ids in the log";
}

TEST_F(FhirApi, ConcurrentReadsAndWritesAllSucceed) {
  Start();
  const std::string patient = CreatePatient("Dupont", "MRN-50");
  const std::string observation = CreateObservation(patient);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto answer = i % 5 == 0 ? Clinician("POST", "/fhir/Observation",
                                             ObservationJson(patient, "2345-7", t + i))
                                 : Clinician("GET", "/fhir/Observation/" + observation);
        if (answer.status == 200 || answer.status == 201) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(CountOf("Observation?patient=" + patient), 1 + 8 * 2);
}

TEST_F(FhirApi, NobodyTakesAPatientIntoTheirOwnCare) {
  Start();
  NobodyTakesAPatientIntoTheirOwnCare();
}

TEST_F(FhirApi, TheCoreFlowRunsOnPostgres) {
  auto url = store::CreatePostgresDatabase();
  ASSERT_TRUE(url) << url.error().message();
  Start({{"MEDVAULT_STORE_URL", *url}});
  InstanceLifecycle();
  Transactions();
  NobodyTakesAPatientIntoTheirOwnCare();
}

}  // namespace
}  // namespace medvault::testing
