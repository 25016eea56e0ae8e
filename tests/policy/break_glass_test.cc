// Break-the-glass rules: the reason categories by name, the free text's limits, who may break
// the glass and who may review it.
#include "policy/break_glass.h"

#include <gtest/gtest.h>

#include <string>

namespace medvault::policy {
namespace {

Principal Of(audit::Role role) {
  Principal principal;
  principal.account_id = "acc-1";
  principal.role = role;
  return principal;
}

TEST(BreakGlass, ReasonCategoriesAreReadByTheirLogNames) {
  EXPECT_EQ(BreakGlassReasonOf("emergency"), audit::BreakGlassReason::kEmergency);
  EXPECT_EQ(BreakGlassReasonOf("continuity_of_care"), audit::BreakGlassReason::kContinuityOfCare);
  EXPECT_EQ(BreakGlassReasonOf("patient_request"), audit::BreakGlassReason::kPatientRequest);
  EXPECT_EQ(BreakGlassReasonOf("other"), audit::BreakGlassReason::kOther);
  for (auto reason : {audit::BreakGlassReason::kEmergency, audit::BreakGlassReason::kOther}) {
    EXPECT_EQ(BreakGlassReasonOf(audit::ReasonName(reason)), reason);
  }
}

TEST(BreakGlass, NoneAndUnknownCategoriesAreRefused) {
  EXPECT_FALSE(BreakGlassReasonOf("none").has_value());
  EXPECT_FALSE(BreakGlassReasonOf("").has_value());
  EXPECT_FALSE(BreakGlassReasonOf("Emergency").has_value());
  EXPECT_FALSE(BreakGlassReasonOf("unknown").has_value());
}

TEST(BreakGlass, TheTextIsRequiredAndLimitedAndNeverQuoted) {
  EXPECT_TRUE(CheckBreakGlassText("Unconscious patient at the emergency desk").has_value());
  EXPECT_TRUE(CheckBreakGlassText(std::string(kMaxBreakGlassTextBytes, 'x')).has_value());
  auto blank = CheckBreakGlassText(" \t\n ");
  ASSERT_FALSE(blank.has_value());
  EXPECT_EQ(blank.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(CheckBreakGlassText("").has_value());
  const std::string long_text = "secret-" + std::string(kMaxBreakGlassTextBytes, 'y');
  auto too_long = CheckBreakGlassText(long_text);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().message().find("secret"), std::string::npos);
}

TEST(BreakGlass, OnlyCliniciansBreakTheGlass) {
  EXPECT_TRUE(MayBreakGlass(Of(audit::Role::kClinician)).has_value());
  for (auto role : {audit::Role::kPatient, audit::Role::kLabTechnician,
                    audit::Role::kAdministrator, audit::Role::kAuditor, audit::Role::kIntegration,
                    audit::Role::kNone, audit::Role::kOperator}) {
    auto refused = MayBreakGlass(Of(role));
    ASSERT_FALSE(refused.has_value()) << audit::RoleName(role);
    EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  }
}

TEST(BreakGlass, OnlyAuditorsReviewTheQueue) {
  EXPECT_TRUE(MayReviewBreakGlass(Of(audit::Role::kAuditor)).has_value());
  for (auto role : {audit::Role::kPatient, audit::Role::kClinician, audit::Role::kLabTechnician,
                    audit::Role::kAdministrator, audit::Role::kIntegration}) {
    EXPECT_FALSE(MayReviewBreakGlass(Of(role)).has_value()) << audit::RoleName(role);
  }
}

}  // namespace
}  // namespace medvault::policy
