// Lab results through the real `medvault` binary: a lab technician's preliminary report stays
// invisible to the patient until it is released with POST .../$release, a clinician may not
// release it, and a later change is a correction the patient sees in the history.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;

class ReleaseApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth({}));
    ASSERT_NE(server_, nullptr);
    lab_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "b.leroy", "lab_technician"));
    ASSERT_FALSE(lab_.session.csrf.empty()) << "the lab technician could not enroll";
    ASSERT_TRUE(LinkLab(port(), vault_.path(), lab_.session, "b.leroy", kLab));
    clinician_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician"));
    ASSERT_FALSE(clinician_.session.csrf.empty()) << "the clinician could not enroll";
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), clinician_.session, "c.martin", kPractitioner));
    admin_ = EnrollCareAdministrator(port(), vault_.path(), WithRelaxedAuth({}));
    ASSERT_FALSE(admin_.session.csrf.empty()) << "the administrator could not enroll";
  }

  static constexpr const char* kPractitioner = "pr-c-martin";
  static constexpr const char* kLab = "lab-quais";

  unsigned short port() const { return server_->port(); }

  Http As(const WebSession& session, std::string_view method, std::string_view target,
          std::string_view body = "") {
    return SendAs(port(), session, method, target, body);
  }

  std::string Created(const Http& answer) {
    EXPECT_EQ(answer.status, 201u) << answer.body;
    return Str(answer.json, "id");
  }

  TempDir vault_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled lab_;
  Enrolled clinician_;
  Enrolled admin_;  // keeps the care teams
};

TEST_F(ReleaseApi, APreliminaryReportReachesThePatientOnlyOnceReleased) {
  const std::string patient =
      Created(As(lab_.session, "POST", "/fhir/Patient",
                 R"({"resourceType":"Patient","name":[{"family":"Dupont","given":["Hélène"]}],)"
                 R"("telecom":[{"system":"email","value":"helene.dupont@example.org"}]})"));
  const std::string observation = Created(As(
      lab_.session, "POST", "/fhir/Observation",
      R"({"resourceType":"Observation","status":"preliminary",)"
      R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
      R"("subject":{"reference":"Patient/)" +
          patient +
          R"("},"performer":[{"reference":"Organization/lab-quais"}],)"
          R"("effectiveDateTime":"2026-11-02T08:30:00Z",)"
          R"("valueQuantity":{"value":6.2,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})"));
  const std::string report =
      Created(As(lab_.session, "POST", "/fhir/DiagnosticReport",
                 R"({"resourceType":"DiagnosticReport","status":"preliminary",)"
                 R"("code":{"coding":[{"system":"http://loinc.org","code":"24323-8"}]},)"
                 R"("subject":{"reference":"Patient/)" +
                     patient +
                     R"("},"performer":[{"reference":"Organization/lab-quais"}],)"
                     R"("result":[{"reference":"Observation/)" +
                     observation + R"("}]})"));
  ASSERT_NE(TakeIntoCare(port(), admin_.session, kPractitioner, patient), "");
  Enrolled self = ActivatePatient(port(), vault_.path(), patient, "h.dupont");
  ASSERT_FALSE(self.session.csrf.empty());

  // Before release: the same answer as for a report that does not exist.
  auto hidden = As(self.session, "GET", "/fhir/DiagnosticReport/" + report);
  auto missing =
      As(self.session, "GET", "/fhir/DiagnosticReport/0b7e6c52-1111-4222-8333-444455556666");
  EXPECT_EQ(hidden.status, 404u) << hidden.body;
  EXPECT_EQ(hidden.body, missing.body);
  auto search = As(self.session, "GET", "/fhir/Observation?patient=" + patient);
  ASSERT_EQ(search.status, 200u) << search.body;
  EXPECT_EQ(search.json.at("total").as_int64(), 0);

  auto by_clinician =
      As(clinician_.session, "POST", "/fhir/DiagnosticReport/" + report + "/$release");
  EXPECT_EQ(by_clinician.status, 403u) << by_clinician.body;
  auto by_patient = As(self.session, "POST", "/fhir/DiagnosticReport/" + report + "/$release");
  EXPECT_EQ(by_patient.status, 403u) << by_patient.body;
  auto not_a_report = As(lab_.session, "POST", "/fhir/Observation/" + observation + "/$release");
  EXPECT_EQ(not_a_report.status, 404u) << not_a_report.body;

  auto released = As(lab_.session, "POST", "/fhir/DiagnosticReport/" + report + "/$release");
  ASSERT_EQ(released.status, 200u) << released.body;
  EXPECT_EQ(Str(released.json, "status"), "final");
  EXPECT_FALSE(Str(released.json, "issued").empty());
  EXPECT_EQ(Str(released.json.at("resultsInterpreter").as_array().at(0).as_object(), "display"),
            "Camille Martin");  // the harness names every staff account so
  auto twice = As(lab_.session, "POST", "/fhir/DiagnosticReport/" + report + "/$release");
  EXPECT_EQ(twice.status, 422u) << twice.body;

  // The PDF report, downloaded by the patient: their name and the value are in it.
  const auto& presented = released.json.at("presentedForm").as_array().at(0).as_object();
  const std::string url = Str(presented, "url");
  ASSERT_EQ(url.rfind("Binary/", 0), 0u) << url;
  auto pdf = SendAs(port(), self.session, "GET", "/fhir/" + url, "", {"Accept: application/pdf"});
  ASSERT_EQ(pdf.status, 200u) << pdf.body;
  EXPECT_EQ(pdf.Header("Content-Type"), "application/pdf");
  ASSERT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  const TempDir scratch;
  const std::string file = (scratch.path() / "report.pdf").string();
  {
    std::ofstream out(file, std::ios::binary);
    out << pdf.body;
  }
  const std::string text = RunTool("pdftotext -enc UTF-8 " + file + " - 2>/dev/null");
  EXPECT_THAT(text, ::testing::HasSubstr("Hélène Dupont"));
  EXPECT_THAT(text, ::testing::HasSubstr("6.2"));
  EXPECT_THAT(text, ::testing::HasSubstr("Page 1/1"));
  auto clinician_pdf =
      SendAs(port(), clinician_.session, "GET", "/fhir/" + url, "", {"Accept: application/pdf"});
  EXPECT_EQ(clinician_pdf.status, 200u);
  EXPECT_EQ(clinician_pdf.body, pdf.body);

  auto seen = As(self.session, "GET", "/fhir/DiagnosticReport/" + report);
  ASSERT_EQ(seen.status, 200u) << seen.body;
  EXPECT_EQ(Str(seen.json, "status"), "final");
  auto result = As(self.session, "GET", "/fhir/Observation/" + observation);
  ASSERT_EQ(result.status, 200u) << result.body;
  EXPECT_EQ(Str(result.json, "status"), "final");

  // A correction: a new version flagged corrected; the patient sees both and when.
  json::object changed = seen.json;
  changed["conclusion"] = "Glucose checked again on a second sample.";
  auto corrected =
      As(lab_.session, "PUT", "/fhir/DiagnosticReport/" + report, json::serialize(changed));
  ASSERT_EQ(corrected.status, 200u) << corrected.body;
  EXPECT_EQ(Str(corrected.json, "status"), "corrected");
  auto history = As(self.session, "GET", "/fhir/DiagnosticReport/" + report + "/_history");
  ASSERT_EQ(history.status, 200u) << history.body;
  const auto& entries = history.json.at("entry").as_array();
  ASSERT_EQ(entries.size(), 2u);
  const auto& newest = entries[0].at("resource").as_object();
  const auto& older = entries[1].at("resource").as_object();
  EXPECT_EQ(Str(newest, "status"), "corrected");
  EXPECT_EQ(Str(older, "status"), "final");
  EXPECT_FALSE(Str(newest.at("meta").as_object(), "lastUpdated").empty());
  EXPECT_LE(Str(older.at("meta").as_object(), "lastUpdated"),
            Str(newest.at("meta").as_object(), "lastUpdated"));

  EXPECT_THAT(server_->Output(), ::testing::Not(::testing::HasSubstr("Dupont")));
  EXPECT_THAT(server_->Output(), ::testing::Not(::testing::HasSubstr(patient)));
}

}  // namespace
}  // namespace medvault::testing
