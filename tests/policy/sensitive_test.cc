// Sensitive categories: the HL7 v3 labels and medvault's own mapped to the four categories,
// and who sees a labelled resource.
#include "policy/sensitive.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace medvault::policy {
namespace {

boost::json::object Labelled(std::string_view security) {
  return boost::json::parse(R"({"resourceType":"DocumentReference","meta":{"security":)" +
                            std::string(security) + "}}")
      .as_object();
}

Principal Of(audit::Role role, std::vector<std::string> categories = {}) {
  Principal principal;
  principal.account_id = "acc-1";
  principal.role = role;
  principal.sensitive_categories = std::move(categories);
  return principal;
}

TEST(Sensitive, HL7ActCodeLabelsMapToTheirCategory) {
  const struct {
    std::string_view code;
    SensitiveCategory category;
  } kCases[] = {
      {"PSY", SensitiveCategory::kMentalHealth},  {"PSYTHPN", SensitiveCategory::kMentalHealth},
      {"MH", SensitiveCategory::kMentalHealth},   {"HIV", SensitiveCategory::kSexualHealth},
      {"STD", SensitiveCategory::kSexualHealth},  {"SEX", SensitiveCategory::kSexualHealth},
      {"SDV", SensitiveCategory::kSexualHealth},  {"GDIS", SensitiveCategory::kGenetics},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(CategoryOfLabel(kActCodeSystem, c.code), c.category) << c.code;
  }
}

TEST(Sensitive, MedvaultsOwnSystemNamesEveryCategoryIncludingPregnancy) {
  for (SensitiveCategory category : kSensitiveCategories) {
    EXPECT_EQ(CategoryOfLabel(kSensitivitySystem, SensitiveCategoryName(category)), category);
    EXPECT_EQ(SensitiveCategoryFromName(SensitiveCategoryName(category)), category);
  }
  EXPECT_EQ(CategoryOfLabel(kSensitivitySystem, "pregnancy"), SensitiveCategory::kPregnancy);
}

TEST(Sensitive, OtherLabelsAndOtherSystemsMakeNoCategory) {
  EXPECT_FALSE(CategoryOfLabel(kActCodeSystem, "ETH"));  // substance abuse: not one of the four
  EXPECT_FALSE(CategoryOfLabel(kActCodeSystem, "psy"));
  EXPECT_FALSE(CategoryOfLabel("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"));
  EXPECT_FALSE(CategoryOfLabel("http://example.org/codes", "PSY"));
  EXPECT_FALSE(CategoryOfLabel(kSensitivitySystem, "astrology"));
  EXPECT_FALSE(SensitiveCategoryFromName("Mental_Health"));
}

TEST(Sensitive, AResourceHasTheCategoriesOfAllItsLabelsOnceEach) {
  const auto resource = Labelled(
      R"([{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"},)"
      R"({"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},)"
      R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"},)"
      R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"STD"}])");
  EXPECT_EQ(SensitiveCategoriesOf(resource),
            (std::vector{SensitiveCategory::kMentalHealth, SensitiveCategory::kSexualHealth}));
  EXPECT_TRUE(SensitiveCategoriesOf(boost::json::object{{"resourceType", "Observation"}}).empty());
  EXPECT_TRUE(SensitiveCategoriesOf(Labelled(R"("PSY")")).empty());  // not an array: no label
}

TEST(Sensitive, StaffNeedAPermissionForEveryCategoryOfTheResource) {
  const auto both = Labelled(
      R"([{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"GDIS"},)"
      R"({"system":"urn:medvault:sensitivity","code":"pregnancy"}])");
  EXPECT_FALSE(MayViewSensitive(Of(audit::Role::kClinician), both));
  EXPECT_FALSE(MayViewSensitive(Of(audit::Role::kClinician, {"genetics"}), both));
  EXPECT_TRUE(MayViewSensitive(Of(audit::Role::kClinician, {"genetics", "pregnancy"}), both));
  EXPECT_FALSE(MayViewSensitive(Of(audit::Role::kLabTechnician, {"pregnancy"}), both));
  EXPECT_FALSE(MayViewSensitive(Of(audit::Role::kIntegration), both));
}

TEST(Sensitive, PatientsSeeTheirOwnAndUnlabelledResourcesAreForEveryone) {
  const auto note = Labelled(
      R"([{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}])");
  EXPECT_TRUE(MayViewSensitive(Of(audit::Role::kPatient), note));
  EXPECT_FALSE(MayViewSensitive(Of(audit::Role::kClinician, {"sexual_health"}), note));
  const boost::json::object plain{{"resourceType", "Observation"}};
  EXPECT_TRUE(MayViewSensitive(Of(audit::Role::kClinician), plain));
}

}  // namespace
}  // namespace medvault::policy
