// Release visibility on both backends: a patient sees a lab result only once it is released
// (policy/release.h), and an unreleased one reads exactly like one that does not exist.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "clinical_records_fixture.h"
#include "core/base64.h"
#include "records/notifications.h"

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
    report["performer"] = boost::json::array{
        boost::json::object{{"reference", fmt::format("Organization/{}", kLab)}}};
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

// --- $release and corrections ---

TEST_P(ReleaseVisibilityTest, ALabTechnicianReleasesTheReportAndItsPendingResults) {
  const std::string patient = NewPatient("Dupont", "Hélène");
  const std::string glucose = Observation(patient, "preliminary", "2345-7");
  const std::string sodium = Observation(patient, "registered", "2951-2");
  const std::string earlier = Observation(patient, "final", "718-7");
  const std::string report = Report(patient, "preliminary", {glucose, sodium, earlier});
  const policy::Principal self = PatientPrincipal(patient);
  clock_.Advance(std::chrono::minutes(90));

  auto released = records_->Release(lab_, report);
  ASSERT_TRUE(released) << released.error().issues.front().diagnostics;
  EXPECT_EQ(released->report.version, 2);
  const boost::json::object& stored = *released->report.resource;
  EXPECT_EQ(stored.at("status").as_string(), "final");
  // The fixture's clock starts at 2026-01-01T00:00:00Z.
  EXPECT_EQ(stored.at("issued").as_string(), "2026-01-01T01:30:00.000000Z");
  ASSERT_EQ(stored.at("resultsInterpreter").as_array().size(), 1u);
  EXPECT_EQ(stored.at("resultsInterpreter").as_array()[0].as_object().at("display").as_string(),
            "lab-1");
  std::set<std::string> finalized;
  for (const StoredResource& result : released->results) {
    finalized.insert(result.id);
    EXPECT_EQ(result.resource->at("status").as_string(), "final");
    EXPECT_EQ(result.version, 2);
  }
  EXPECT_EQ(finalized, (std::set<std::string>{glucose, sodium}));  // `earlier` was final

  // The patient now sees the report and every result, as stored.
  auto read = records_->Read(self, "DiagnosticReport", report);
  ASSERT_TRUE(read) << read.error().issues.front().diagnostics;
  EXPECT_EQ(read->resource->at("status").as_string(), "final");
  for (const std::string& id : {glucose, sodium, earlier}) {
    auto result = records_->Read(self, "Observation", id);
    ASSERT_TRUE(result) << id;
    EXPECT_EQ(result->resource->at("status").as_string(), "final");
  }
  auto unchanged = records_->Read(lab_, "Observation", earlier);
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->version, 1);

  // The PDF report: a DocumentReference of the patient, presented by the report, its bytes a
  // Binary the patient may read.
  ASSERT_TRUE(released->document);
  const boost::json::object& document = *released->document->resource;
  EXPECT_EQ(document.at("subject").as_object().at("reference").as_string(), "Patient/" + patient);
  const boost::json::object& attachment =
      document.at("content").as_array().at(0).as_object().at("attachment").as_object();
  EXPECT_EQ(attachment.at("contentType").as_string(), "application/pdf");
  EXPECT_FALSE(attachment.contains("data"));
  const std::string url(attachment.at("url").as_string());
  ASSERT_TRUE(url.starts_with("Binary/"));
  EXPECT_EQ(stored.at("presentedForm").as_array().at(0).as_object().at("url").as_string(), url);
  auto binary = records_->Read(self, "Binary", url.substr(7));
  ASSERT_TRUE(binary) << binary.error().issues.front().diagnostics;
  auto bytes = DecodeBase64(binary->resource->at("data").as_string(), Base64Alphabet::kStandard);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(std::string(bytes->begin(), bytes->begin() + 5), "%PDF-");
  EXPECT_EQ(static_cast<std::uint64_t>(bytes->size()),
            attachment.at("size").to_number<std::uint64_t>());
  auto listed = records_->Search(self, Query("DocumentReference", "patient=" + patient));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->matches.size(), 1u);
  EXPECT_EQ(listed->matches[0].id, released->document->id);

  // The release is in the log as the lab technician's update of the report.
  const auto entries = EntriesOf("lab-1");
  EXPECT_TRUE(std::any_of(entries.begin(), entries.end(), [&](const audit::Entry& e) {
    return e.action == audit::Action::kUpdate && e.outcome == audit::Outcome::kSuccess &&
           e.resource_type == "DiagnosticReport" &&
           e.resource_ids == std::vector<std::string>{report} &&
           e.patient_ids == std::vector<std::string>{patient};
  }));
}

TEST_P(ReleaseVisibilityTest, OnlyALabTechnicianReleasesAndOnlyAPendingReport) {
  const std::string patient = NewPatient("Dupont");
  const std::string glucose = Observation(patient, "preliminary");
  const std::string report = Report(patient, "preliminary", {glucose});

  for (const policy::Principal& who : {clinician_, PatientPrincipal(patient)}) {
    auto refused = records_->Release(who, report);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().failure, Failure::kForbidden);
  }
  const auto denials = EntriesOf("clin-1");
  EXPECT_TRUE(std::any_of(denials.begin(), denials.end(), [](const audit::Entry& e) {
    return e.outcome == audit::Outcome::kDenied && e.resource_type == "DiagnosticReport";
  }));
  auto still = records_->Read(lab_, "DiagnosticReport", report);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->version, 1);
  EXPECT_EQ(still->resource->at("status").as_string(), "preliminary");

  auto unknown = records_->Release(lab_, "0b0e5c0e-1111-4111-8111-111111111111");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().failure, Failure::kNotFound);

  ASSERT_TRUE(records_->Release(lab_, report));
  auto again = records_->Release(lab_, report);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().failure, Failure::kBusinessRule);
}

TEST_P(ReleaseVisibilityTest, AChangeToAReleasedReportIsACorrectionThePatientSeesInTheHistory) {
  const std::string patient = NewPatient("Dupont");
  const std::string glucose = Observation(patient, "preliminary");
  const std::string report = Report(patient, "preliminary", {glucose});
  const policy::Principal self = PatientPrincipal(patient);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(records_->Release(lab_, report));
  clock_.Advance(std::chrono::hours(2));

  auto current = records_->Read(lab_, "DiagnosticReport", report);
  ASSERT_TRUE(current);
  boost::json::object changed = *current->resource;
  changed["conclusion"] = "Glucose recontrolled on a second sample.";
  auto corrected = records_->Update(lab_, "DiagnosticReport", report, changed, 2);
  ASSERT_TRUE(corrected) << corrected.error().issues.front().diagnostics;
  EXPECT_EQ(corrected->stored.version, 3);
  EXPECT_EQ(corrected->stored.resource->at("status").as_string(), "corrected");

  // Back to pending would hide a released result: refused.
  boost::json::object pending = *corrected->stored.resource;
  pending["status"] = "preliminary";
  auto refused = records_->Update(lab_, "DiagnosticReport", report, pending, 3);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kBusinessRule);

  // The patient sees both released versions, newest first, with their times; not the draft.
  auto history = records_->History(self, "DiagnosticReport", report);
  ASSERT_TRUE(history) << history.error().issues.front().diagnostics;
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_EQ(history->versions[0].version, 3);
  EXPECT_EQ(history->versions[0].resource->at("status").as_string(), "corrected");
  EXPECT_TRUE(history->versions[0].resource->contains("conclusion"));
  EXPECT_EQ(history->versions[1].version, 2);
  EXPECT_EQ(history->versions[1].resource->at("status").as_string(), "final");
  EXPECT_FALSE(history->versions[1].resource->contains("conclusion"));
  EXPECT_EQ(history->versions[0].last_updated - history->versions[1].last_updated,
            std::chrono::hours(2));
}

TEST_P(ReleaseVisibilityTest, TheReleaseQueuesTheFixedMessageForThePatientsEmail) {
  auto outbox = OutboxNotifier::Open(keys_dir_ / "outbox", std::nullopt);
  ASSERT_TRUE(outbox) << outbox.error().message();
  records_ = std::make_unique<ClinicalRecords>(*sealed_, *store_, *log_, *decider_, clock_,
                                               ClinicalRecords::Options{.notifier = outbox->get()});
  const std::string patient =
      Create(R"({"resourceType":"Patient","name":[{"family":"Dupont","given":["Hélène"]}],)"
             R"("telecom":[{"system":"phone","value":"+33 6 12 34 56 78"},)"
             R"({"system":"email","value":"helene.dupont@example.org"}]})");
  const std::string glucose = Observation(patient, "preliminary");
  const std::string report = Report(patient, "preliminary", {glucose});
  const auto messages = [&] {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(keys_dir_ / "outbox")) {
      if (entry.path().extension() == ".msg") files.push_back(entry.path());
    }
    return files;
  };
  EXPECT_TRUE(messages().empty()) << "nothing before the release";

  ASSERT_TRUE(records_->Release(lab_, report));
  const auto files = messages();
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(files[0]);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, fmt::format("To: helene.dupont@example.org\n\n{}\n\n{}\n", kNewResultText,
                              kNewResultTextFrench));
  // A correction is not a new result.
  auto current = records_->Read(lab_, "DiagnosticReport", report);
  ASSERT_TRUE(current);
  boost::json::object changed = *current->resource;
  changed["conclusion"] = "Recontrôle.";
  ASSERT_TRUE(records_->Update(lab_, "DiagnosticReport", report, changed, current->version));
  EXPECT_EQ(messages().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReleaseVisibilityTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::records
