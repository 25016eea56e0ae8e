// Release visibility on both backends: a patient sees a lab result only once it is released
// (policy/release.h), and an unreleased one reads exactly like one that does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "clinical_records_fixture.h"

namespace medvault::records {
namespace {

using fhir::Failure;

class ReleaseVisibilityTest : public ClinicalRecordsTest {
 protected:
  std::string Observation(std::string_view patient, std::string_view status,
                          std::string_view loinc = "2345-7") {
    boost::json::object observation = Json(ObservationJson(patient, loinc, "2026-03-05T08:30:00Z"));
    observation["status"] = status;
    return CreateAs(lab_, boost::json::serialize(observation));
  }

  std::string Report(std::string_view patient, std::string_view status,
                     const std::vector<std::string>& results) {
    boost::json::object report =
        Json(R"({"resourceType":"DiagnosticReport",)"
             R"("code":{"coding":[{"system":"http://loinc.org","code":"24323-8"}]},)"
             R"("effectiveDateTime":"2026-03-05T08:30:00Z"})");
    report["status"] = status;
    report["subject"] = boost::json::object{{"reference", fmt::format("Patient/{}", patient)}};
    boost::json::array references;
    for (const std::string& id : results) {
      references.push_back(boost::json::object{{"reference", "Observation/" + id}});
    }
    if (!references.empty()) report["result"] = std::move(references);
    return CreateAs(lab_, boost::json::serialize(report));
  }

  // The answer a patient gets for an id that exists nowhere, to compare with.
  fhir::Outcome Absent(const policy::Principal& principal, std::string_view type) {
    auto missing = records_->Read(principal, type, "0b0e5c0e-1111-4111-8111-111111111111");
    EXPECT_FALSE(missing);
    return missing ? fhir::Outcome{} : missing.error();
  }

  static void ExpectSameAnswer(const fhir::Outcome& got, const fhir::Outcome& absent) {
    EXPECT_EQ(got.failure, absent.failure);
    ASSERT_EQ(got.issues.size(), absent.issues.size());
    ASSERT_FALSE(got.issues.empty());
    EXPECT_EQ(got.issues.front().diagnostics, absent.issues.front().diagnostics);
    EXPECT_EQ(got.issues.front().expression, absent.issues.front().expression);
    EXPECT_EQ(got.issues.front().code, absent.issues.front().code);
  }

  void Finalize(std::string_view type, const std::string& id, std::string_view status) {
    auto current = records_->Read(lab_, type, id);
    ASSERT_TRUE(current);
    boost::json::object changed = *current->resource;
    changed["status"] = status;
    auto updated = records_->Update(lab_, type, id, changed, current->version);
    ASSERT_TRUE(updated) << updated.error().issues.front().diagnostics;
  }
};

TEST_P(ReleaseVisibilityTest, PreliminaryResultsReadAsAbsentForThePatient) {
  const std::string patient = NewPatient("Dupont", "Hélène");
  const std::string observation = Observation(patient, "preliminary");
  const std::string report = Report(patient, "preliminary", {observation});
  const policy::Principal self = PatientPrincipal(patient);

  for (const auto& [type, id] :
       {std::pair{"Observation", observation}, std::pair{"DiagnosticReport", report}}) {
    const fhir::Outcome absent = Absent(self, type);
    auto read = records_->Read(self, type, id);
    ASSERT_FALSE(read) << type;
    ExpectSameAnswer(read.error(), absent);
    auto version = records_->VRead(self, type, id, 1);
    ASSERT_FALSE(version) << type;
    ExpectSameAnswer(version.error(), absent);
    auto history = records_->History(self, type, id);
    ASSERT_FALSE(history) << type;
    EXPECT_EQ(history.error().failure, Failure::kNotFound);
    // Staff see them.
    EXPECT_TRUE(records_->Read(clinician_, type, id));
    EXPECT_TRUE(records_->Read(lab_, type, id));
  }
}

TEST_P(ReleaseVisibilityTest, SearchCountHistoryAndIncludeLeaveOutWhatIsNotReleased) {
  const std::string patient = NewPatient("Dupont");
  const std::string pending = Observation(patient, "preliminary", "718-7");
  const std::string released = Observation(patient, "final", "2345-7");
  const std::string report = Report(patient, "final", {pending, released});
  const std::string draft = Report(patient, "registered", {});
  const policy::Principal self = PatientPrincipal(patient);

  auto observations = records_->Search(self, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(observations) << observations.error().issues.front().diagnostics;
  ASSERT_EQ(observations->matches.size(), 1u);
  EXPECT_EQ(observations->matches[0].id, released);
  EXPECT_EQ(observations->total, 1);
  auto count = records_->Count(self, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
  auto staff_count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(staff_count);
  EXPECT_EQ(*staff_count, 2);

  auto reports = records_->Search(
      self, Query("DiagnosticReport", "patient=" + patient + "&_include=DiagnosticReport:result"));
  ASSERT_TRUE(reports) << reports.error().issues.front().diagnostics;
  ASSERT_EQ(reports->matches.size(), 1u);
  EXPECT_EQ(reports->matches[0].id, report);
  ASSERT_EQ(reports->included.size(), 1u);
  EXPECT_EQ(reports->included[0].id, released);

  // What the search returned is what the audit entry names: not the hidden report.
  const auto entries = EntriesOf("acc-patient");
  const auto results = std::find_if(entries.rbegin(), entries.rend(), [](const audit::Entry& e) {
    return e.action == audit::Action::kSearch && e.resource_type == "DiagnosticReport" &&
           !e.resource_ids.empty();
  });
  ASSERT_NE(results, entries.rend());
  EXPECT_EQ(results->resource_ids, std::vector<std::string>{report});

  auto history = records_->TypeHistory(self, "DiagnosticReport", patient, 10, "");
  ASSERT_TRUE(history) << history.error().issues.front().diagnostics;
  ASSERT_EQ(history->versions.size(), 1u);
  EXPECT_EQ(history->versions[0].id, report);
  auto staff_history = records_->TypeHistory(lab_, "DiagnosticReport", patient, 10, "");
  ASSERT_TRUE(staff_history);
  EXPECT_EQ(staff_history->versions.size(), 2u);
  EXPECT_NE(draft, report);
}

TEST_P(ReleaseVisibilityTest, OnceFinalThePatientSeesOnlyTheReleasedVersions) {
  const std::string patient = NewPatient("Dupont");
  const std::string observation = Observation(patient, "preliminary");
  const policy::Principal self = PatientPrincipal(patient);
  clock_.Advance(std::chrono::seconds(60));
  Finalize("Observation", observation, "final");
  clock_.Advance(std::chrono::seconds(60));
  Finalize("Observation", observation, "corrected");

  auto read = records_->Read(self, "Observation", observation);
  ASSERT_TRUE(read) << read.error().issues.front().diagnostics;
  EXPECT_EQ(read->resource->at("status").as_string(), "corrected");
  auto first = records_->VRead(self, "Observation", observation, 1);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().failure, Failure::kNotFound);
  auto history = records_->History(self, "Observation", observation);
  ASSERT_TRUE(history) << history.error().issues.front().diagnostics;
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_EQ(history->versions[0].version, 3);
  EXPECT_EQ(history->versions[1].version, 2);
  EXPECT_LT(history->versions[1].last_updated, history->versions[0].last_updated);
}

TEST_P(ReleaseVisibilityTest, ADeletedUnreleasedResultIsNotFoundNotGoneForThePatient) {
  const std::string patient = NewPatient("Dupont");
  const std::string observation = Observation(patient, "preliminary");
  ASSERT_TRUE(records_->Delete(clinician_, "Observation", observation));
  const policy::Principal self = PatientPrincipal(patient);
  auto read = records_->Read(self, "Observation", observation);
  ASSERT_FALSE(read);
  ExpectSameAnswer(read.error(), Absent(self, "Observation"));
  auto staff = records_->Read(clinician_, "Observation", observation);
  ASSERT_FALSE(staff);
  EXPECT_EQ(staff.error().failure, Failure::kGone);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReleaseVisibilityTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::records
