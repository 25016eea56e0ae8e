// A lab technician's own lab (policy/lab_scope.h): which resources name a lab, who may see and
// write them, and the care relations a lab's report or result gives.
#include "policy/lab_scope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "policy/care_relations.h"

namespace medvault::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

boost::json::object Json(std::string_view text) { return boost::json::parse(text).as_object(); }

Principal Technician(std::string organization) {
  Principal principal;
  principal.account_id = "acc-lab";
  principal.role = audit::Role::kLabTechnician;
  principal.organization = std::move(organization);
  return principal;
}

const boost::json::object kOwnReport = Json(
    R"({"resourceType":"DiagnosticReport","status":"preliminary","subject":{"reference":"Patient/p1"},)"
    R"("performer":[{"reference":"Organization/lab-1"},{"reference":"Practitioner/dr-1"}]})");
const boost::json::object kOtherResult =
    Json(R"({"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},)"
         R"("performer":[{"reference":"Organization/lab-2"}]})");
const boost::json::object kNote = Json(
    R"({"resourceType":"DocumentReference","status":"current","custodian":{"reference":"Organization/clinic"}})");
const boost::json::object kPdf = Json(
    R"({"resourceType":"DocumentReference","status":"current","custodian":{"reference":"Organization/lab-1"}})");

TEST(LabScope, TheLabsOfAResourceAreItsOrganizationPerformersOrItsCustodian) {
  EXPECT_THAT(LabsOf(kOwnReport), ElementsAre("lab-1"));
  EXPECT_THAT(LabsOf(kOtherResult), ElementsAre("lab-2"));
  EXPECT_THAT(LabsOf(kPdf), ElementsAre("lab-1"));
  EXPECT_THAT(
      LabsOf(
          Json(R"({"resourceType":"Observation","performer":[{"reference":"Organization/a/b"}]})")),
      IsEmpty());
  EXPECT_THAT(
      LabsOf(Json(R"({"resourceType":"Patient","performer":[{"reference":"Organization/x"}]})")),
      IsEmpty());
  EXPECT_EQ(LabParty("lab-1"), "Organization/lab-1");
  EXPECT_TRUE(IsLabParty(LabParty("lab-1")));
  EXPECT_FALSE(IsLabParty("pr-1"));
}

TEST(LabScope, ATechnicianSeesOnlyTheirLabsReportsResultsAndDocuments) {
  const Principal lab = Technician("lab-1");
  EXPECT_TRUE(MayViewAsLab(lab, kOwnReport));
  EXPECT_FALSE(MayViewAsLab(lab, kOtherResult));
  EXPECT_TRUE(MayViewAsLab(lab, kPdf));
  EXPECT_FALSE(MayViewAsLab(lab, kNote));  // no clinical notes
  EXPECT_FALSE(MayViewAsLab(lab, Json(R"({"resourceType":"Observation","status":"final"})")));
  EXPECT_TRUE(MayViewAsLab(lab, Json(R"({"resourceType":"Patient"})")));  // decided by the scope
  EXPECT_FALSE(MayViewAsLab(Technician(""), kOwnReport));
  // Other roles are not concerned.
  Principal clinician = lab;
  clinician.role = audit::Role::kClinician;
  EXPECT_TRUE(MayViewAsLab(clinician, kOtherResult));
  EXPECT_TRUE(MayViewAsLab(clinician, kNote));
}

TEST(LabScope, ATechnicianWritesOnlyUnderTheirLabsNameAndIsToldWhich) {
  EXPECT_TRUE(MayWriteAsLab(Technician("lab-1"), kOwnReport));
  auto refused = MayWriteAsLab(Technician("lab-1"), kOtherResult);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(refused.error().message(), HasSubstr("Organization/lab-1"));
  EXPECT_THAT(refused.error().message(), HasSubstr("performer"));
  auto note = MayWriteAsLab(Technician("lab-1"), kNote);
  ASSERT_FALSE(note);
  EXPECT_THAT(note.error().message(), HasSubstr("custodian"));
  auto alone = MayWriteAsLab(Technician(""), kOwnReport);
  ASSERT_FALSE(alone);
  EXPECT_THAT(alone.error().message(), HasSubstr("linked to no lab"));
  EXPECT_TRUE(MayWriteAsLab(Technician(""), Json(R"({"resourceType":"Patient"})")));
}

TEST(LabScope, AReportRelatesItsLabsToItsPatientWhileItStands) {
  const auto relations =
      CareRelationsOf(kOwnReport, "DiagnosticReport", "rep-1", "p1", Timestamp{}, {});
  ASSERT_EQ(relations.size(), 1u);
  EXPECT_EQ(relations[0].practitioner_id, "Organization/lab-1");
  EXPECT_EQ(relations[0].patient_id, "p1");
  EXPECT_EQ(relations[0].expires_at, kNoEnd);
  // A lab is not a practitioner: nobody is taken into care by it.
  EXPECT_THAT(RelatedPractitioners(kOwnReport, "DiagnosticReport", Timestamp{}, {}), IsEmpty());
  boost::json::object cancelled = kOwnReport;
  cancelled["status"] = "entered-in-error";
  EXPECT_THAT(CareRelationsOf(cancelled, "DiagnosticReport", "rep-1", "p1", Timestamp{}, {}),
              IsEmpty());
  EXPECT_TRUE(IsCareRelationSource("Observation"));
}

}  // namespace
}  // namespace medvault::policy
