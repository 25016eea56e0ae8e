// Release visibility: which lab results a patient sees, by their status.
#include "policy/release.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace medvault::policy {
namespace {

boost::json::object Resource(std::string_view type, std::string_view status) {
  boost::json::object resource;
  resource["resourceType"] = type;
  if (!status.empty()) resource["status"] = status;
  return resource;
}

Principal Of(audit::Role role) {
  Principal principal;
  principal.account_id = "acc-1";
  principal.role = role;
  principal.patient_id = role == audit::Role::kPatient ? "pat-1" : "";
  return principal;
}

TEST(Release, ReleasedStatusesAreVisibleToThePatient) {
  for (std::string_view type : {"DiagnosticReport", "Observation"}) {
    for (std::string_view status : {"final", "corrected", "amended", "appended"}) {
      EXPECT_TRUE(PatientMayView(Resource(type, status))) << type << " " << status;
    }
  }
}

TEST(Release, UnreleasedStatusesAreHiddenFromThePatient) {
  for (std::string_view type : {"DiagnosticReport", "Observation"}) {
    for (std::string_view status : {"registered", "partial", "preliminary", "cancelled",
                                    "entered-in-error", "unknown", "FINAL", ""}) {
      EXPECT_FALSE(PatientMayView(Resource(type, status))) << type << " '" << status << "'";
    }
  }
  boost::json::object odd = Resource("Observation", "");
  odd["status"] = 3;
  EXPECT_FALSE(PatientMayView(odd));
}

TEST(Release, OtherTypesAreUnaffectedByTheirStatus) {
  EXPECT_TRUE(PatientMayView(Resource("MedicationRequest", "draft")));
  EXPECT_TRUE(PatientMayView(Resource("DocumentReference", "current")));
  EXPECT_TRUE(PatientMayView(Resource("Patient", "")));
}

TEST(Release, OnlyPatientsAreConfinedToReleasedResults) {
  const boost::json::object preliminary = Resource("DiagnosticReport", "preliminary");
  EXPECT_FALSE(MayViewReleased(Of(audit::Role::kPatient), preliminary));
  for (audit::Role role : {audit::Role::kClinician, audit::Role::kLabTechnician,
                           audit::Role::kIntegration, audit::Role::kOperator}) {
    EXPECT_TRUE(MayViewReleased(Of(role), preliminary));
  }
  EXPECT_TRUE(MayViewReleased(Of(audit::Role::kPatient), Resource("DiagnosticReport", "final")));
}

TEST(Release, OnlyLabTechniciansMayRelease) {
  EXPECT_TRUE(MayRelease(Of(audit::Role::kLabTechnician)));
  for (audit::Role role :
       {audit::Role::kPatient, audit::Role::kClinician, audit::Role::kAdministrator,
        audit::Role::kAuditor, audit::Role::kIntegration, audit::Role::kNone}) {
    auto allowed = MayRelease(Of(role));
    ASSERT_FALSE(allowed);
    EXPECT_EQ(allowed.error().code(), ErrorCode::kPermissionDenied);
  }
}

TEST(Release, TheDeciderReleasesOnlyReportsAndOnlyForLabTechnicians) {
  const std::string ids[] = {"rep-1"};
  const std::string patients[] = {"pat-1"};
  AccessRequest request{.operation = Operation::kRelease,
                        .resource_type = "DiagnosticReport",
                        .resource_ids = ids,
                        .patient_ids = patients};
  // A lab technician of the patient's lab (policy/lab_scope.h); another lab's, or one of no lab,
  // releases nothing.
  Principal technician = Of(audit::Role::kLabTechnician);
  technician.organization = "lab-1";
  PatientScope lab_patients;
  lab_patients.related.insert("pat-1");
  EXPECT_TRUE(Decider::Decide(technician, request, lab_patients));
  EXPECT_FALSE(Decider::Decide(technician, request, PatientScope{}));
  EXPECT_FALSE(Decider::Decide(Of(audit::Role::kLabTechnician), request, lab_patients));
  EXPECT_FALSE(Decider::Decide(Of(audit::Role::kClinician), request));
  EXPECT_FALSE(Decider::Decide(Of(audit::Role::kPatient), request));
  Principal integration = Of(audit::Role::kIntegration);
  integration.scopes = identity::ParseSmartScopes("system/*.cruds").value();
  EXPECT_FALSE(Decider::Decide(integration, request));
  request.resource_type = "Observation";
  EXPECT_FALSE(Decider::Decide(technician, request, lab_patients));
}

}  // namespace
}  // namespace medvault::policy
