// Care relations read off the record (policy/care_relations.h): which practitioners a CareTeam,
// an Encounter or a MedicationRequest relates to its patient, and until when.
#include "policy/care_relations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <string>

namespace medvault::policy {
namespace {

using std::chrono::days;
using std::chrono::hours;
using ::testing::IsEmpty;
using ::testing::ElementsAre;

// 2026-03-01T00:00:00Z
const Timestamp kWritten = std::chrono::sys_days(std::chrono::year(2026) / 3 / 1);
const RelationTerms kTerms{.after_end = days(30), .after_encounter = hours(72)};

Timestamp Day(int year, unsigned month, unsigned day) {
  return std::chrono::sys_days(std::chrono::year(year) / month / day);
}

std::vector<store::CareRelation> Relations(std::string_view type, std::string_view json,
                                           Timestamp written = kWritten) {
  const boost::json::object resource = boost::json::parse(json).as_object();
  return CareRelationsOf(resource, type, "src-1", "pat-1", written, kTerms);
}

store::CareRelation Expect(std::string practitioner, std::string type, Timestamp expires_at) {
  return {std::move(practitioner), "pat-1", std::move(type), "src-1", expires_at};
}

TEST(CareRelations, AnActiveCareTeamRelatesEachPractitionerMemberUntilItsPeriodEnds) {
  auto relations = Relations("CareTeam", R"({"resourceType": "CareTeam", "status": "active",
    "subject": {"reference": "Patient/pat-1"},
    "participant": [
      {"member": {"reference": "Practitioner/gp-1"}},
      {"member": {"reference": "Practitioner/nurse-1"}, "period": {"end": "2026-06-30"}},
      {"member": {"reference": "Organization/clinic"}},
      {"member": {"reference": "Practitioner/gp-1"}, "period": {"end": "2026-04-01"}}
    ]})");
  // gp-1 twice: the later expiry; the Organization is no practitioner.
  EXPECT_EQ(relations, (std::vector<store::CareRelation>{
                           Expect("gp-1", "CareTeam", kNoEnd),
                           Expect("nurse-1", "CareTeam", Day(2026, 7, 1) + days(30))}));
}

TEST(CareRelations, ACareTeamThatEndsOrStopsRelatesOnlyForTheGracePeriod) {
  auto ended = Relations("CareTeam", R"({"status": "active", "period": {"end": "2026-02-20T10:00:00+01:00"},
    "participant": [{"member": {"reference": "Practitioner/gp-1"}}]})");
  EXPECT_EQ(ended, (std::vector<store::CareRelation>{Expect(
                       "gp-1", "CareTeam", Day(2026, 2, 20) + hours(9) + days(30))}));
  auto inactive = Relations("CareTeam", R"({"status": "inactive",
    "participant": [{"member": {"reference": "Practitioner/gp-1"}}]})");
  EXPECT_EQ(inactive,
            (std::vector<store::CareRelation>{Expect("gp-1", "CareTeam", kWritten + days(30))}));
  // Long over: nothing is kept.
  EXPECT_THAT(Relations("CareTeam", R"({"status": "active", "period": {"end": "2020-01-01"},
    "participant": [{"member": {"reference": "Practitioner/gp-1"}}]})"),
              IsEmpty());
  EXPECT_THAT(Relations("CareTeam", R"({"status": "entered-in-error",
    "participant": [{"member": {"reference": "Practitioner/gp-1"}}]})"),
              IsEmpty());
}

TEST(CareRelations, AnOpenEncounterRelatesItsParticipantsAndAClosedOneForItsGrace) {
  const std::string participants =
      R"("participant": [{"individual": {"reference": "Practitioner/dr-1"}},
                         {"individual": {"reference": "PractitionerRole/role-1"}}])";
  for (std::string status : {"planned", "arrived", "triaged", "in-progress", "onleave"}) {
    auto open = Relations("Encounter", R"({"status": ")" + status + R"(", )" + participants + "}");
    EXPECT_EQ(open, (std::vector<store::CareRelation>{Expect("dr-1", "Encounter", kNoEnd)}))
        << status;
  }
  auto finished = Relations("Encounter", R"({"status": "finished",
    "period": {"start": "2026-02-28T08:00:00Z", "end": "2026-02-28T09:00:00Z"}, )" +
                                             participants + "}");
  EXPECT_EQ(finished, (std::vector<store::CareRelation>{Expect(
                          "dr-1", "Encounter", Day(2026, 2, 28) + hours(9) + hours(72))}));
  auto finished_now = Relations("Encounter", R"({"status": "finished", )" + participants + "}");
  EXPECT_EQ(finished_now, (std::vector<store::CareRelation>{
                              Expect("dr-1", "Encounter", kWritten + hours(72))}));
  EXPECT_THAT(Relations("Encounter", R"({"status": "cancelled", )" + participants + "}"),
              IsEmpty());
  EXPECT_THAT(Relations("Encounter", R"({"status": "finished", "period": {"end": "2025-01-01"}, )" +
                                         participants + "}"),
              IsEmpty());
}

TEST(CareRelations, AnOrderRelatesItsRequesterWhileItRunsAndAfterItEnds) {
  auto active = Relations("MedicationRequest", R"({"status": "active",
    "requester": {"reference": "Practitioner/gp-1"}})");
  EXPECT_EQ(active,
            (std::vector<store::CareRelation>{Expect("gp-1", "MedicationRequest", kNoEnd)}));
  auto bounded = Relations("MedicationRequest", R"({"status": "active",
    "requester": {"reference": "Practitioner/gp-1"},
    "dispenseRequest": {"validityPeriod": {"end": "2026-05"}}})");
  EXPECT_EQ(bounded, (std::vector<store::CareRelation>{Expect(
                         "gp-1", "MedicationRequest", Day(2026, 6, 1) + days(30))}));
  auto completed = Relations("MedicationRequest", R"({"status": "completed",
    "authoredOn": "2026-02-15", "requester": {"reference": "Practitioner/gp-1"}})");
  EXPECT_EQ(completed, (std::vector<store::CareRelation>{Expect(
                           "gp-1", "MedicationRequest", Day(2026, 2, 16) + days(30))}));
  EXPECT_THAT(Relations("MedicationRequest", R"({"status": "completed", "authoredOn": "2019",
    "requester": {"reference": "Practitioner/gp-1"}})"),
              IsEmpty());
  EXPECT_THAT(Relations("MedicationRequest", R"({"status": "cancelled",
    "requester": {"reference": "Practitioner/gp-1"}})"),
              IsEmpty());
  EXPECT_THAT(Relations("MedicationRequest", R"({"status": "active",
    "requester": {"reference": "Organization/lab"}})"),
              IsEmpty());
}

// A patient relates the organization that manages their record (its integration clients'
// scope), while the record is active; a general practitioner named on it relates no one (the
// record's word is not a care relation).
TEST(CareRelations, APatientRelatesTheOrganizationThatManagesTheRecordWhileActive) {
  EXPECT_TRUE(IsCareRelationSource("Patient"));
  EXPECT_THAT(Relations("Patient", R"({"managingOrganization": {"reference": "Organization/hosp-1"}})"),
              ElementsAre(Expect("Organization/hosp-1", "Patient", kNoEnd)));
  EXPECT_THAT(Relations("Patient", R"({"active": false,
                                      "managingOrganization": {"reference": "Organization/hosp-1"}})"),
              IsEmpty());
  EXPECT_THAT(Relations("Patient", R"({"managingOrganization": {"reference": "Organization/a/b"}})"),
              IsEmpty());
  EXPECT_THAT(Relations("Patient", R"({"generalPractitioner": [{"reference": "Practitioner/gp-1"}]})"),
              IsEmpty());
}

TEST(CareRelations, OtherTypesAndResourcesOfNoPatientRelateNoOne) {
  EXPECT_FALSE(IsCareRelationSource("Condition"));  // Observation: lab_scope_test
  EXPECT_TRUE(IsCareRelationSource("CareTeam"));
  const boost::json::object team = boost::json::parse(
      R"({"status": "active", "participant": [{"member": {"reference": "Practitioner/gp-1"}}]})")
                                       .as_object();
  EXPECT_THAT(CareRelationsOf(team, "CareTeam", "t", "", kWritten, kTerms), IsEmpty());
  EXPECT_EQ(RelatedPractitioners(team, "CareTeam", kWritten, kTerms),
            (std::vector<std::string>{"gp-1"}));
}

}  // namespace
}  // namespace medvault::policy
