// Care relations through the clinical records, on both backends: a source's relations are
// written with it, a clinician reads only the patients of their relations, and a search
// across patients returns only theirs, counted and paged as if the others did not exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clinical_records_fixture.h"

namespace medvault::records {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class CareRelationsRecords : public ClinicalRecordsTest {
 protected:
  // Administrators keep the care teams; nobody takes a patient into their own care.
  policy::Principal Administrator() const {
    policy::Principal admin;
    admin.account_id = "admin-1";
    admin.role = audit::Role::kAdministrator;
    admin.client = "portal";
    admin.source_address = "127.0.0.1";
    return admin;
  }
  std::vector<std::string> RelatedPatients() {
    std::vector<std::string> patients;
    EXPECT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
      auto relations = tx.ListCareRelations(clinician_.practitioner_id, clock_.Now());
      if (!relations) return std::unexpected(relations.error());
      for (const auto& relation : *relations) patients.push_back(relation.patient_id);
      return {};
    }));
    return patients;
  }
  void PutPractitioner() {
    auto written = records_->Update(
        clinician_, "Practitioner", clinician_.practitioner_id,
        Json(R"({"resourceType":"Practitioner","id":"pr-clin-1","name":[{"family":"Martin"}]})"),
        std::nullopt);
    ASSERT_TRUE(written) << written.error().issues.front().diagnostics;
  }
  std::string CareTeamJson(const std::string& patient, std::string_view status) {
    return fmt::format(
        R"({{"resourceType":"CareTeam","status":"{}","subject":{{"reference":"Patient/{}"}},)"
        R"("participant":[{{"member":{{"reference":"Practitioner/pr-clin-1"}}}}]}})",
        status, patient);
  }
};

TEST_P(CareRelationsRecords, AnUnrelatedPatientIsAnsweredLikeOneThatDoesNotExist) {
  const std::string mine = NewPatient("Durand");
  const std::string other = NewUnrelatedPatient("Lefèvre");
  ASSERT_FALSE(other.empty());
  EXPECT_TRUE(records_->Read(clinician_, "Patient", mine));
  auto unrelated = records_->Read(clinician_, "Patient", other);
  auto missing = records_->Read(clinician_, "Patient", "no-such-patient");
  ASSERT_FALSE(unrelated);
  ASSERT_FALSE(missing);
  EXPECT_EQ(unrelated.error().failure, fhir::Failure::kNotFound);
  EXPECT_EQ(unrelated.error().issues.front().diagnostics,
            missing.error().issues.front().diagnostics);
  // Confined to the other patient: refused with the policy's reason, the same for nobody.
  auto confined = records_->Search(clinician_, Query("Observation", "patient=" + other));
  auto nobody = records_->Search(clinician_, Query("Observation", "patient=no-such-patient"));
  ASSERT_FALSE(confined);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(confined.error().failure, fhir::Failure::kForbidden);
  EXPECT_EQ(confined.error().issues.front().diagnostics,
            nobody.error().issues.front().diagnostics);
  // The denial is audited.
  const auto entries = EntriesOf(clinician_.account_id);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().outcome, audit::Outcome::kDenied);
}

TEST_P(CareRelationsRecords, ASearchAcrossPatientsReturnsOnlyRelatedOnesAndCountsThem) {
  std::vector<std::string> mine;
  for (int i = 0; i < 3; ++i) mine.push_back(NewPatient("Moreau", "Anne"));
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(NewUnrelatedPatient("Moreau", "Anne").empty());
  auto page = records_->Search(clinician_, Query("Patient", "family=moreau&_count=2"));
  ASSERT_TRUE(page) << page.error().issues.front().diagnostics;
  ASSERT_EQ(page->matches.size(), 2u);
  ASSERT_FALSE(page->next_page.empty());
  fhir::SearchRequest next = Query("Patient", "family=moreau&_count=2");
  next.page = page->next_page;
  auto second = records_->Search(clinician_, next);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->matches.size(), 1u);
  EXPECT_TRUE(second->next_page.empty());
  std::vector<std::string> seen = {page->matches[0].id, page->matches[1].id,
                                   second->matches[0].id};
  EXPECT_THAT(seen, UnorderedElementsAre(mine[0], mine[1], mine[2]));
  auto count = records_->Count(clinician_, Query("Patient", "family=moreau"));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 3);
  auto all = records_->Search(clinician_, Query("Patient", "family=moreau"));
  ASSERT_TRUE(all);
  ASSERT_TRUE(all->total);
  EXPECT_EQ(*all->total, 3);
}

TEST_P(CareRelationsRecords, ACareTeamWritesItsRelationsAndTheyEndWithIt) {
  PutPractitioner();
  const std::string patient = NewUnrelatedPatient("Roux");
  // Taking the patient into care: an administrator's CareTeam naming the clinician's
  // Practitioner.
  auto team = records_->Create(Administrator(), Json(CareTeamJson(patient, "active")), "");
  ASSERT_TRUE(team) << team.error().issues.front().diagnostics;
  EXPECT_THAT(RelatedPatients(), UnorderedElementsAre(patient));
  ASSERT_TRUE(records_->Read(clinician_, "Patient", patient));
  EXPECT_TRUE(records_->Create(clinician_, Json(ObservationJson(patient, "2345-7", "2026-03-05")), ""));

  // The team made inactive: the relation lasts the grace period from that write.
  boost::json::object inactive = Json(CareTeamJson(patient, "inactive"));
  inactive["id"] = team->stored.id;
  ASSERT_TRUE(
      records_->Update(Administrator(), "CareTeam", team->stored.id, inactive, std::nullopt));
  EXPECT_THAT(RelatedPatients(), UnorderedElementsAre(patient));
  clock_.Advance(std::chrono::days(31));
  EXPECT_THAT(RelatedPatients(), IsEmpty());
  EXPECT_FALSE(records_->Read(clinician_, "Patient", patient));
}

TEST_P(CareRelationsRecords, DeletingTheSourceEndsItsRelations) {
  PutPractitioner();
  const std::string patient = NewUnrelatedPatient("Blanc");
  auto team = records_->Create(Administrator(), Json(CareTeamJson(patient, "active")), "");
  ASSERT_TRUE(team);
  EXPECT_THAT(RelatedPatients(), UnorderedElementsAre(patient));
  ASSERT_TRUE(records_->Delete(clinician_, "CareTeam", team->stored.id));
  EXPECT_THAT(RelatedPatients(), IsEmpty());
}

TEST_P(CareRelationsRecords, NobodyTakesAnUnrelatedPatientIntoTheirOwnCare) {
  PutPractitioner();
  const std::string patient = NewUnrelatedPatient("Giraud");
  // A team naming the clinician, written by the clinician: refused, the same for nobody.
  auto own_team = records_->Create(clinician_, Json(CareTeamJson(patient, "active")), "");
  auto nobodys = records_->Create(clinician_, Json(CareTeamJson("no-such-patient", "active")), "");
  ASSERT_FALSE(own_team);
  ASSERT_FALSE(nobodys);
  EXPECT_EQ(own_team.error().failure, fhir::Failure::kForbidden);
  EXPECT_EQ(own_team.error().issues.front().diagnostics,
            nobodys.error().issues.front().diagnostics);
  EXPECT_THAT(own_team.error().issues.front().diagnostics,
              ::testing::HasSubstr("ask an administrator"));
  EXPECT_EQ(EntriesOf(clinician_.account_id).back().outcome, audit::Outcome::kDenied);
  // Someone else's team: it does not take the patient into this clinician's care either.
  auto refused = records_->Create(
      clinician_,
      Json(fmt::format(R"({{"resourceType":"CareTeam","status":"active","subject":{{"reference":"Patient/{}"}}}})",
                       patient)),
      "");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(RelatedPatients().empty());
  auto observation = records_->Create(clinician_, Json(ObservationJson(patient, "2345-7", "2026-03-05")), "");
  ASSERT_FALSE(observation);
  // A clinician with no Practitioner link takes no one into care.
  policy::Principal unlinked = clinician_;
  unlinked.account_id = "clin-2";
  unlinked.practitioner_id.clear();
  EXPECT_FALSE(records_->Create(unlinked, Json(CareTeamJson(patient, "active")), ""));
}

INSTANTIATE_TEST_SUITE_P(Backends, CareRelationsRecords, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace medvault::records
