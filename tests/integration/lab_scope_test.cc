// Lab technicians limited to their own lab (policy/lab_scope.h), through the real `medvault`
// binary on SQLite and PostgreSQL (the fixture "pg"): two labs' technicians, each linked to
// their lab's Organization, record reports and results for their own patients. Each reads,
// searches and releases their lab's work and its PDF; the other lab's report, result, PDF and
// patient answer like ones that do not exist; a write naming the other lab is refused with the
// reason; a technician with no lab sees nothing. The worklist (GET /lab/worklist) lists the
// lab's pending reports only, oldest first, paged, and only for lab technicians. A lab's
// integration client (registered for its Organization) is held to that lab's patients and
// records in its name only; its first result for a patient registered elsewhere matches that
// patient by identifier, once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kQuais = "lab-quais";
constexpr const char* kAutre = "lab-autre";
constexpr const char* kMissingReport = "0b7e6c52-1111-4222-8333-444455556666";

std::string PatientJson(std::string_view family, std::string_view given) {
  return R"({"resourceType":"Patient","name":[{"family":")" + std::string(family) +
         R"(","given":[")" + std::string(given) + R"("]}],"birthDate":"1978-04-12"})";
}

// A glucose result of `patient` performed by `lab`, flagged high when `high`.
std::string ObservationJson(std::string_view patient, std::string_view lab, bool high) {
  std::string interpretation =
      high
          ? R"(,"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H"}]}])"
          : "";
  return R"({"resourceType":"Observation","status":"preliminary",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient) + R"("},"performer":[{"reference":"Organization/)" +
         std::string(lab) +
         R"("}],"effectiveDateTime":"2026-11-02T08:30:00Z",)"
         R"("valueQuantity":{"value":7.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"})" +
         interpretation + "}";
}

std::string ReportJson(std::string_view patient, std::string_view lab, std::string_view observation,
                       std::string_view collected) {
  return R"({"resourceType":"DiagnosticReport","status":"preliminary",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":"24323-8","display":"Metabolic panel"}],"text":"Bilan métabolique"},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient) + R"("},"effectiveDateTime":")" + std::string(collected) +
         R"(","performer":[{"reference":"Organization/)" + std::string(lab) +
         R"("}],"result":[{"reference":"Observation/)" + std::string(observation) + R"("}]})";
}

std::vector<std::string> WorklistIds(const json::object& worklist) {
  std::vector<std::string> ids;
  for (const auto& item : worklist.at("reports").as_array()) {
    ids.push_back(Str(item.as_object(), "id"));
  }
  return ids;
}

class LabScope : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Env env;
    if (GetParam() == "postgres") {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      env.emplace("MEDVAULT_STORE_URL", *url);
    }
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env_));
    ASSERT_NE(server_, nullptr);
    quais_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "l.quais", "lab_technician", env_));
    ASSERT_FALSE(quais_.session.csrf.empty());
    ASSERT_TRUE(LinkLab(port(), vault_.path(), quais_.session, "l.quais", kQuais, env_));
    autre_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "l.autre", "lab_technician", env_));
    ASSERT_FALSE(autre_.session.csrf.empty());
    ASSERT_TRUE(LinkLab(port(), vault_.path(), autre_.session, "l.autre", kAutre, env_));

    // Each lab's patient, result and pending report; the first lab's second report is older.
    own_patient_ = Created(Quais("POST", "/fhir/Patient", PatientJson("Dupont", "Hélène")));
    std::tie(own_result_, own_report_) =
        LabWork(quais_, own_patient_, kQuais, true, "2026-11-03T08:00:00Z");
    older_report_ = LabWork(quais_, own_patient_, kQuais, false, "2026-11-01T07:15:00Z").second;
    other_patient_ = Created(Autre("POST", "/fhir/Patient", PatientJson("Lefèvre", "Anaïs")));
    std::tie(other_result_, other_report_) =
        LabWork(autre_, other_patient_, kAutre, false, "2026-10-30T09:00:00Z");
  }

  unsigned short port() const { return server_->port(); }
  Http Quais(std::string_view method, std::string_view target, std::string_view body = "") {
    return SendAs(port(), quais_.session, method, target, body);
  }
  Http Autre(std::string_view method, std::string_view target, std::string_view body = "") {
    return SendAs(port(), autre_.session, method, target, body);
  }
  std::string Created(const Http& answer) {
    EXPECT_EQ(answer.status, 201u) << answer.body;
    return Str(answer.json, "id");
  }
  // A result (flagged high when `high`) and a pending report of `lab` for `patient`, collected
  // at `collected`, written by `technician`: their ids.
  std::pair<std::string, std::string> LabWork(const Enrolled& technician,
                                              const std::string& patient, const char* lab,
                                              bool high, std::string_view collected) {
    const std::string result =
        Created(SendAs(port(), technician.session, "POST", "/fhir/Observation",
                       ObservationJson(patient, lab, high)));
    const std::string report =
        Created(SendAs(port(), technician.session, "POST", "/fhir/DiagnosticReport",
                       ReportJson(patient, lab, result, collected)));
    return {result, report};
  }

  TempDir vault_;
  Env env_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled quais_;
  Enrolled autre_;
  std::string own_patient_, own_result_, own_report_, older_report_;
  std::string other_patient_, other_result_, other_report_;
};

TEST_P(LabScope, ATechnicianReadsAndSearchesTheirLabsWorkOnlyAndTheOtherLabsIsAbsent) {
  EXPECT_EQ(Quais("GET", "/fhir/DiagnosticReport/" + own_report_).status, 200u);
  EXPECT_EQ(Quais("GET", "/fhir/Observation/" + own_result_).status, 200u);
  EXPECT_EQ(Quais("GET", "/fhir/Patient/" + own_patient_).status, 200u);

  // The other lab's report, result and patient: the answer for what does not exist.
  const auto missing = Quais("GET", std::string("/fhir/DiagnosticReport/") + kMissingReport);
  ASSERT_EQ(missing.status, 404u) << missing.body;
  const auto other = Quais("GET", "/fhir/DiagnosticReport/" + other_report_);
  EXPECT_EQ(other.status, 404u) << other.body;
  EXPECT_EQ(other.body, missing.body);
  EXPECT_EQ(Quais("GET", "/fhir/Observation/" + other_result_).status, 404u);
  EXPECT_EQ(Quais("GET", "/fhir/Patient/" + other_patient_).status, 404u);
  EXPECT_EQ(Quais("GET", "/fhir/DiagnosticReport/" + other_report_ + "/_history").status, 404u);

  // Searches: across patients (the status blind index, the name index) and per patient.
  const auto pending = Quais("GET", "/fhir/DiagnosticReport?status=preliminary");
  ASSERT_EQ(pending.status, 200u) << pending.body;
  EXPECT_THAT(ResourceIds(pending.json),
              ::testing::UnorderedElementsAre(own_report_, older_report_));
  const auto theirs = Autre("GET", "/fhir/DiagnosticReport?status=preliminary");
  ASSERT_EQ(theirs.status, 200u) << theirs.body;
  EXPECT_THAT(ResourceIds(theirs.json), ::testing::ElementsAre(other_report_));
  const auto by_name = Quais("GET", "/fhir/Patient?name=lef");
  ASSERT_EQ(by_name.status, 200u) << by_name.body;
  EXPECT_THAT(by_name.body, Not(HasSubstr(other_patient_)));
  EXPECT_THAT(ResourceIds(Quais("GET", "/fhir/Patient?name=dup").json),
              ::testing::ElementsAre(own_patient_));
  const auto of_other = Quais("GET", "/fhir/Observation?patient=" + other_patient_);
  EXPECT_THAT(of_other.body, Not(HasSubstr(other_result_))) << of_other.status;
  const auto own = Quais("GET", "/fhir/Observation?patient=" + own_patient_);
  ASSERT_EQ(own.status, 200u) << own.body;
  EXPECT_EQ(own.json.at("total").as_int64(), 2);
}

TEST_P(LabScope, AWriteNamingAnotherLabIsRefusedWithTheReason) {
  const auto foreign =
      Quais("POST", "/fhir/Observation", ObservationJson(own_patient_, kAutre, false));
  EXPECT_EQ(foreign.status, 403u) << foreign.body;
  EXPECT_THAT(foreign.body, HasSubstr("Organization/lab-quais"));
  EXPECT_THAT(foreign.body, HasSubstr("performer"));

  // Taking over the other lab's report under one's own name: it is not there.
  json::object takeover =
      json::parse(ReportJson(other_patient_, kQuais, other_result_, "2026-10-30T09:00:00Z"))
          .as_object();
  takeover["id"] = other_report_;
  const auto put =
      Quais("PUT", "/fhir/DiagnosticReport/" + other_report_, json::serialize(takeover));
  EXPECT_EQ(put.status, 404u) << put.body;
  EXPECT_EQ(Autre("GET", "/fhir/DiagnosticReport/" + other_report_)
                .json.at("performer")
                .at(0)
                .at("reference")
                .as_string(),
            "Organization/lab-autre");
}

TEST_P(LabScope, ATechnicianReleasesTheirLabsReportAndReadsItsPdfButNotTheOtherLabs) {
  const auto refused = Quais("POST", "/fhir/DiagnosticReport/" + other_report_ + "/$release");
  EXPECT_EQ(refused.status, 404u) << refused.body;
  EXPECT_EQ(Autre("GET", "/fhir/DiagnosticReport/" + other_report_).json.at("status").as_string(),
            "preliminary");

  const auto released = Quais("POST", "/fhir/DiagnosticReport/" + own_report_ + "/$release");
  ASSERT_EQ(released.status, 200u) << released.body;
  EXPECT_EQ(Str(released.json, "status"), "final");
  const std::string url =
      Str(released.json.at("presentedForm").as_array().at(0).as_object(), "url");
  ASSERT_EQ(url.rfind("Binary/", 0), 0u) << url;
  const auto pdf =
      SendAs(port(), quais_.session, "GET", "/fhir/" + url, "", {"Accept: application/pdf"});
  ASSERT_EQ(pdf.status, 200u) << pdf.body;
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  const auto documents = Quais("GET", "/fhir/DocumentReference?patient=" + own_patient_);
  ASSERT_EQ(documents.status, 200u) << documents.body;
  EXPECT_EQ(documents.json.at("total").as_int64(), 1);

  // The other lab sees neither the PDF nor its document.
  const auto foreign_pdf =
      SendAs(port(), autre_.session, "GET", "/fhir/" + url, "", {"Accept: application/pdf"});
  EXPECT_EQ(foreign_pdf.status, 404u);
  EXPECT_THAT(foreign_pdf.body, Not(HasSubstr("%PDF-")));
}

TEST_P(LabScope, ATechnicianWithNoLabLinkedSeesNothingAndIsToldWhy) {
  Enrolled alone =
      EnrollWithTotp(port(), AddStaff(vault_.path(), "l.seul", "lab_technician", env_));
  ASSERT_FALSE(alone.session.csrf.empty());
  for (const std::string& target :
       {"/fhir/DiagnosticReport/" + own_report_, "/fhir/Patient/" + own_patient_,
        std::string("/fhir/DiagnosticReport?status=preliminary"), std::string("/lab/worklist"),
        std::string("/lab/quarantine")}) {
    const auto answer = SendAs(port(), alone.session, "GET", target);
    EXPECT_TRUE(answer.status == 403u || answer.status == 404u) << target << ": " << answer.body;
    EXPECT_THAT(answer.body, Not(HasSubstr("Dupont"))) << target;
  }
  const auto worklist = SendAs(port(), alone.session, "GET", "/lab/worklist");
  EXPECT_EQ(worklist.status, 403u) << worklist.body;
  EXPECT_THAT(worklist.body, HasSubstr("linked to no lab"));
  const auto search =
      SendAs(port(), alone.session, "GET", "/fhir/DiagnosticReport?status=preliminary");
  EXPECT_EQ(search.status, 403u) << search.body;
  EXPECT_THAT(search.body, HasSubstr("linked to no lab"));
  const auto write = SendAs(port(), alone.session, "POST", "/fhir/Observation",
                            ObservationJson(own_patient_, kQuais, false));
  EXPECT_EQ(write.status, 403u) << write.body;
  EXPECT_THAT(write.body, HasSubstr("linked to no lab"));
}

TEST_P(LabScope, TheWorklistListsTheLabsPendingReportsOldestFirstPaged) {
  const auto worklist = Quais("GET", "/lab/worklist");
  ASSERT_EQ(worklist.status, 200u) << worklist.body;
  EXPECT_THAT(WorklistIds(worklist.json), ::testing::ElementsAre(older_report_, own_report_));
  EXPECT_EQ(worklist.json.at("total").as_int64(), 2);
  const json::object& newest = worklist.json.at("reports").as_array().at(1).as_object();
  EXPECT_EQ(Str(newest, "patient_id"), own_patient_);
  EXPECT_EQ(Str(newest, "patient_name"), "Hélène Dupont");
  EXPECT_EQ(Str(newest.at("test").as_object(), "name"), "Bilan métabolique");
  EXPECT_EQ(Str(newest.at("test").as_object(), "code"), "24323-8");
  EXPECT_EQ(Str(newest, "status"), "preliminary");
  EXPECT_FALSE(Str(newest, "received_at").empty());
  EXPECT_TRUE(newest.at("abnormal").as_bool());
  EXPECT_FALSE(worklist.json.at("reports").as_array().at(0).at("abnormal").as_bool());

  const auto theirs = Autre("GET", "/lab/worklist");
  ASSERT_EQ(theirs.status, 200u) << theirs.body;
  EXPECT_THAT(WorklistIds(theirs.json), ::testing::ElementsAre(other_report_));

  // One a page.
  const auto first = Quais("GET", "/lab/worklist?count=1");
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_THAT(WorklistIds(first.json), ::testing::ElementsAre(older_report_));
  const std::string next = Str(first.json, "next_page");
  ASSERT_FALSE(next.empty());
  const auto second = Quais("GET", "/lab/worklist?count=1&page=" + next);
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_THAT(WorklistIds(second.json), ::testing::ElementsAre(own_report_));
  EXPECT_FALSE(second.json.contains("next_page"));
  EXPECT_EQ(Quais("GET", "/lab/worklist?count=0").status, 400u);
  EXPECT_EQ(Quais("GET", "/lab/worklist?sort=name").status, 400u);

  // Released: off the list.
  ASSERT_EQ(Quais("POST", "/fhir/DiagnosticReport/" + older_report_ + "/$release").status, 200u);
  EXPECT_THAT(WorklistIds(Quais("GET", "/lab/worklist").json), ::testing::ElementsAre(own_report_));

  // Lab technicians only.
  Enrolled clinician =
      EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician", env_));
  ASSERT_FALSE(clinician.session.csrf.empty());
  const auto refused = SendAs(port(), clinician.session, "GET", "/lab/worklist");
  EXPECT_EQ(refused.status, 403u) << refused.body;
  EXPECT_EQ(Send(port(), "GET", "/lab/worklist", "").status, 401u);
}

// A lab's first result for a patient another lab registered, sent in a transaction that names
// the stored patient: written, and the patient becomes the lab's; anything but the lab's own
// work for them stays refused.
TEST_P(LabScope, ATransactionAddsALabsFirstResultForAStoredPatientOfAnotherLab) {
  ASSERT_EQ(Quais("GET", "/fhir/Patient/" + other_patient_).status, 404u);
  const auto bundle_of = [](const std::string& resource, std::string_view type) {
    return R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + resource +
           R"(,"request":{"method":"POST","url":")" + std::string(type) + R"("}}]})";
  };
  const auto first = SendAs(port(), quais_.session, "POST", "/fhir",
                            bundle_of(ObservationJson(other_patient_, kQuais, false), "Observation"),
                            {}, "application/fhir+json");
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(Quais("GET", "/fhir/Patient/" + other_patient_).status, 200u);
  EXPECT_EQ(Quais("GET", "/fhir/Observation/" + other_result_).status, 404u);  // still theirs

  // In the other lab's name, or for a patient who does not exist: refused, nothing written.
  const auto foreign = SendAs(port(), quais_.session, "POST", "/fhir",
                              bundle_of(ObservationJson(other_patient_, kAutre, false), "Observation"),
                              {}, "application/fhir+json");
  EXPECT_EQ(foreign.status, 403u) << foreign.body;
  const auto nobody = SendAs(port(), quais_.session, "POST", "/fhir",
                             bundle_of(ObservationJson(kMissingReport, kQuais, false), "Observation"),
                             {}, "application/fhir+json");
  EXPECT_EQ(nobody.status, 400u) << nobody.body;
  EXPECT_THAT(nobody.body, HasSubstr("does not resolve"));
  const auto theirs = Autre("GET", "/fhir/Observation?patient=" + other_patient_);
  ASSERT_EQ(theirs.status, 200u) << theirs.body;
  EXPECT_EQ(theirs.json.at("total").as_int64(), 1);  // the other lab sees its own result only
}

// The lab's own system (an integration client of its Organization) reaches the lab's patients
// only (every record of them its scopes allow) and records only in its own name; a client
// registered for every organization reaches the others.
TEST_P(LabScope, AnOrganizationsClientReachesItsPatientsOnlyAndRecordsInItsOwnName) {
  const std::string scopes =
      "system/Patient.rs system/Observation.rs system/DiagnosticReport.rs";
  const std::string token =
      ApiClientToken(port(), vault_.path(), "quais-lis", scopes, env_, kQuais);
  ASSERT_FALSE(token.empty());
  const std::vector<std::string> bearer = {"Authorization: Bearer " + token};
  const auto get = [&](const std::string& target) { return Send(port(), "GET", target, "", bearer); };

  EXPECT_EQ(get("/fhir/Patient/" + own_patient_).status, 200u);
  EXPECT_EQ(get("/fhir/Observation/" + own_result_).status, 200u);
  EXPECT_EQ(get("/fhir/DiagnosticReport/" + own_report_).status, 200u);
  const auto missing = get(std::string("/fhir/DiagnosticReport/") + kMissingReport);
  ASSERT_EQ(missing.status, 404u) << missing.body;
  const auto other = get("/fhir/DiagnosticReport/" + other_report_);
  EXPECT_EQ(other.status, 404u) << other.body;
  EXPECT_EQ(other.body, missing.body);
  EXPECT_EQ(get("/fhir/Patient/" + other_patient_).status, 404u);
  EXPECT_EQ(get("/fhir/Observation/" + other_result_).status, 404u);

  const auto pending = get("/fhir/DiagnosticReport?status=preliminary");
  ASSERT_EQ(pending.status, 200u) << pending.body;
  EXPECT_THAT(ResourceIds(pending.json),
              ::testing::UnorderedElementsAre(own_report_, older_report_));
  const auto by_name = get("/fhir/Patient?name=lef");
  ASSERT_EQ(by_name.status, 200u) << by_name.body;
  EXPECT_THAT(by_name.body, Not(HasSubstr(other_patient_)));
  const auto of_other = get("/fhir/Observation?patient=" + other_patient_);
  EXPECT_THAT(of_other.body, Not(HasSubstr(other_result_))) << of_other.status;

  // A patient the lab manages (managingOrganization), with the other lab's result: the client
  // reads it, and may not take it over under its own name.
  json::object managed = json::parse(PatientJson("Garnier", "Louis")).as_object();
  managed["managingOrganization"] = json::object{{"reference", std::string("Organization/") + kQuais}};
  const std::string managed_id = Created(Autre("POST", "/fhir/Patient", json::serialize(managed)));
  const std::string foreign_result =
      Created(Autre("POST", "/fhir/Observation", ObservationJson(managed_id, kAutre, false)));
  EXPECT_EQ(get("/fhir/Patient/" + managed_id).status, 200u);
  EXPECT_EQ(get("/fhir/Observation/" + foreign_result).status, 200u);
  const std::string writer = ApiClientToken(
      port(), vault_.path(), "quais-writer",
      "system/Observation.cru system/Patient.rs system/Organization.rs", env_, kQuais);
  ASSERT_FALSE(writer.empty());
  json::object takeover = json::parse(ObservationJson(managed_id, kQuais, true)).as_object();
  takeover["id"] = foreign_result;
  const auto put = Send(port(), "PUT", "/fhir/Observation/" + foreign_result,
                        json::serialize(takeover), {"Authorization: Bearer " + writer},
                        "application/fhir+json");
  EXPECT_EQ(put.status, 403u) << put.body;
  EXPECT_EQ(Autre("GET", "/fhir/Observation/" + foreign_result)
                .json.at("performer").at(0).at("reference").as_string(),
            std::string("Organization/") + kAutre);

  // Registered for every organization: the scopes only.
  const std::string wide = ApiClientToken(port(), vault_.path(), "registry", scopes, env_);
  ASSERT_FALSE(wide.empty());
  EXPECT_EQ(Send(port(), "GET", "/fhir/Patient/" + other_patient_, "",
                 {"Authorization: Bearer " + wide})
                .status,
            200u);

  // One of the two must be said.
  TempDir keys;
  ASSERT_FALSE(SignClientAssertion(keys.path(), "vague", "aud", "jti").empty());
  auto vague = RunMedvault({"client", "add", "--dir", vault_.path().string(), "--client-id",
                            "vague", "--jwks", (keys.path() / "jwks.json").string(), "--scopes",
                            scopes},
                           env_);
  EXPECT_NE(vague.exit_code, 0);
  EXPECT_THAT(vague.err, HasSubstr("--organization"));
}

// A lab's system sends a result for a patient another lab registered, matching them by
// identifier as the lab feed does: the patient is matched, not registered twice, and answered
// without their content; the lab then reaches that patient, and still not the other lab's work.
// The identifier's system counts: the same value under another system is another patient.
TEST_P(LabScope, AClientsFirstResultForAPatientRegisteredElsewhereMatchesThemOnce) {
  constexpr std::string_view kSystem = "urn:oid:1.2.250.1.999.1";
  const auto with_identifier = [&](std::string_view family, std::string_view system) {
    json::object patient = json::parse(PatientJson(family, "Anaïs")).as_object();
    patient["identifier"] = json::array{
        json::object{{"system", std::string(system)}, {"value", "MRN-778"}}};
    return json::serialize(patient);
  };
  const std::string registered =
      Created(Autre("POST", "/fhir/Patient", with_identifier("Lefèvre", kSystem)));
  const std::string namesake =
      Created(Autre("POST", "/fhir/Patient", with_identifier("Leroy", "urn:oid:1.2.250.1.999.2")));
  const std::string token = ApiClientToken(
      port(), vault_.path(), "quais-lis",
      "system/Patient.crs system/Observation.crs system/DiagnosticReport.crs "
      "system/Organization.rs",
      env_, kQuais);
  ASSERT_FALSE(token.empty());
  const std::vector<std::string> bearer = {"Authorization: Bearer " + token};

  json::object patient = json::parse(with_identifier("Lefèvre", kSystem)).as_object();
  json::object result = json::parse(ObservationJson("x", kQuais, true)).as_object();
  result["subject"] = json::object{{"reference", "urn:uuid:7f2b1c9e-0000-4000-8000-000000000001"}};
  const std::string identifier = "identifier=" + std::string(kSystem) + "|MRN-778";
  json::object bundle{
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       json::array{
           json::object{{"fullUrl", "urn:uuid:7f2b1c9e-0000-4000-8000-000000000001"},
                        {"resource", patient},
                        {"request", json::object{{"method", "POST"},
                                                 {"url", "Patient"},
                                                 {"ifNoneExist", identifier}}}},
           json::object{{"fullUrl", "urn:uuid:7f2b1c9e-0000-4000-8000-000000000002"},
                        {"resource", result},
                        {"request", json::object{{"method", "POST"}, {"url", "Observation"}}}},
       }}};
  const auto sent = Send(port(), "POST", "/fhir", json::serialize(bundle), bearer,
                         "application/fhir+json");
  ASSERT_EQ(sent.status, 200u) << sent.body;
  const json::array& entries = sent.json.at("entry").as_array();
  ASSERT_EQ(entries.size(), 2u);
  const json::object& matched = entries.at(0).as_object();
  EXPECT_EQ(Str(matched.at("response").as_object(), "status"), "200 OK");
  EXPECT_THAT(Str(matched.at("response").as_object(), "location"),
              HasSubstr("Patient/" + registered));
  EXPECT_FALSE(matched.contains("resource"));
  EXPECT_THAT(sent.body, Not(HasSubstr("Anaïs")));
  EXPECT_EQ(Str(entries.at(1).at("response").as_object(), "status"), "201 Created");

  // Still one patient with that identifier; the result is theirs; the namesake untouched.
  const std::string wide =
      ApiClientToken(port(), vault_.path(), "registry", "system/Patient.rs", env_);
  ASSERT_FALSE(wide.empty());
  const auto found =
      Send(port(), "GET", "/fhir/Patient?" + identifier, "", {"Authorization: Bearer " + wide});
  ASSERT_EQ(found.status, 200u) << found.body;
  EXPECT_THAT(ResourceIds(found.json), ::testing::ElementsAre(registered));
  const auto results = Send(port(), "GET", "/fhir/Observation?patient=" + registered, "", bearer);
  ASSERT_EQ(results.status, 200u) << results.body;
  EXPECT_EQ(results.json.at("total").as_int64(), 1);
  EXPECT_EQ(Send(port(), "GET", "/fhir/Patient/" + registered, "", bearer).status, 200u);
  EXPECT_EQ(Send(port(), "GET", "/fhir/Patient/" + namesake, "", bearer).status, 404u);
  EXPECT_EQ(Send(port(), "GET", "/fhir/Observation/" + other_result_, "", bearer).status, 404u);

  // A result in another lab's name is refused, whoever the patient.
  const auto foreign = Send(port(), "POST", "/fhir/Observation",
                            ObservationJson(registered, kAutre, false), bearer,
                            "application/fhir+json");
  EXPECT_EQ(foreign.status, 403u) << foreign.body;
  EXPECT_THAT(foreign.body, HasSubstr("Organization/lab-quais"));
}

TEST_P(LabScope, AnAdministratorLinksATechnicianToTheirLabAtCreation) {
  const std::string vault = vault_.path().string();
  // A link that does not suit the kind, or names no Organization: refused, no account made.
  auto wrong_kind = RunMedvault({"user", "add", "--dir", vault, "--login", "c.lien", "--kind",
                                 "clinician", "--name", "C L", "--link", "Organization/lab-quais"},
                                env_);
  EXPECT_NE(wrong_kind.exit_code, 0);
  EXPECT_THAT(wrong_kind.err, HasSubstr("a clinician links to a Practitioner"));
  auto nowhere = RunMedvault({"user", "add", "--dir", vault, "--login", "l.nulle", "--kind",
                              "lab_technician", "--name", "L N", "--link", "Organization/nowhere"},
                             env_);
  EXPECT_NE(nowhere.exit_code, 0);
  EXPECT_THAT(nowhere.err, HasSubstr("no Organization has this id"));
  EXPECT_NE(RunMedvault({"user", "show", "--dir", vault, "l.nulle"}, env_).exit_code, 0);

  auto added = RunMedvault({"user", "add", "--dir", vault, "--login", "l.second", "--kind",
                            "lab_technician", "--name", "L S", "--link", "Organization/lab-quais"},
                           env_);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_THAT(added.out, HasSubstr("linked to Organization/lab-quais"));
  auto shown = RunMedvault({"user", "show", "--dir", vault, "l.second"}, env_);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("linked to Organization/lab-quais"));
  std::smatch code;
  ASSERT_TRUE(std::regex_search(added.out, code, std::regex("enrollment code[^:]*: ([0-9A-Z-]{19})")));
  Enrolled second = EnrollWithTotp(port(), code[1].str());
  ASSERT_FALSE(second.session.csrf.empty());
  // The lab's colleague sees its work at once, and nothing of the other lab's.
  EXPECT_EQ(SendAs(port(), second.session, "GET", "/fhir/DiagnosticReport/" + own_report_).status,
            200u);
  EXPECT_EQ(SendAs(port(), second.session, "GET", "/fhir/Patient/" + other_patient_).status, 404u);
}

INSTANTIATE_TEST_SUITE_P(Backends, LabScope, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::testing
