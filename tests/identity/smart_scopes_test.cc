#include "identity/smart_scopes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medvault::identity {
namespace {

using Context = SmartScope::Context;

SmartScope Scope(Context context, std::string type, std::string_view permissions) {
  SmartScope scope;
  scope.context = context;
  scope.resource_type = std::move(type);
  for (char letter : permissions) {
    if (letter == 'c') scope.create = true;
    if (letter == 'r') scope.read = true;
    if (letter == 'u') scope.update = true;
    if (letter == 'd') scope.delete_ = true;
    if (letter == 's') scope.search = true;
  }
  return scope;
}

std::vector<SmartScope> Parsed(std::string_view text) {
  auto scopes = ParseSmartScopes(text);
  EXPECT_TRUE(scopes.has_value()) << text << ": " << scopes.error().message();
  return scopes.value_or(std::vector<SmartScope>{});
}

void ExpectRefused(std::string_view text, std::string_view check) {
  auto scopes = ParseSmartScopes(text);
  ASSERT_FALSE(scopes.has_value()) << text;
  EXPECT_EQ(scopes.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(scopes.error().message().find(check), std::string::npos)
      << text << ": " << scopes.error().message();
}

TEST(SmartScopes, ParsesV2ScopesInEveryContext) {
  EXPECT_EQ(Parsed("system/Observation.c"),
            (std::vector{Scope(Context::kSystem, "Observation", "c")}));
  EXPECT_EQ(Parsed("system/DiagnosticReport.cu patient/*.rs user/Patient.cruds"),
            (std::vector{Scope(Context::kSystem, "DiagnosticReport", "cu"),
                         Scope(Context::kPatient, "*", "rs"),
                         Scope(Context::kUser, "Patient", "cruds")}));
}

TEST(SmartScopes, AcceptsEveryServedResourceType) {
  for (std::string_view type : kSmartResourceTypes) {
    auto scopes = Parsed("system/" + std::string(type) + ".r");
    ASSERT_EQ(scopes.size(), 1u);
    EXPECT_EQ(scopes[0].resource_type, type);
  }
}

TEST(SmartScopes, ExpandsV1Aliases) {
  EXPECT_EQ(Parsed("system/Observation.read"),
            (std::vector{Scope(Context::kSystem, "Observation", "rs")}));
  EXPECT_EQ(Parsed("system/Observation.write"),
            (std::vector{Scope(Context::kSystem, "Observation", "cud")}));
  EXPECT_EQ(Parsed("patient/*.*"), (std::vector{Scope(Context::kPatient, "*", "cruds")}));
}

TEST(SmartScopes, EmptyStringIsNoScopes) { EXPECT_TRUE(Parsed("").empty()); }

TEST(SmartScopes, RefusesPermissionsOutOfOrderRepeatedOrUnknown) {
  ExpectRefused("system/Observation.sr", "order");
  ExpectRefused("system/Observation.rr", "order");
  ExpectRefused("system/Observation.crudsx", "order");
  ExpectRefused("system/Observation.R", "order");
  ExpectRefused("system/Observation.", "no permissions");
  ExpectRefused("system/Observation.reads", "order");
}

TEST(SmartScopes, RefusesUnknownContextsAndTypes) {
  ExpectRefused("admin/Observation.r", "context");
  ExpectRefused("System/Observation.r", "context");
  ExpectRefused("system/observation.r", "resource type");
  ExpectRefused("system/Medication.r", "resource type");
  ExpectRefused("system/.r", "resource type");
  ExpectRefused("system/Observation", "context/Type.permissions");
  ExpectRefused("Observation.read", "context/Type.permissions");
}

TEST(SmartScopes, RefusesQueryRestrictions) {
  ExpectRefused("patient/Observation.rs?category=laboratory", "query");
  ExpectRefused("system/Observation.rs?", "query");
}

TEST(SmartScopes, RefusesUserAndLaunchScopesForBackendClients) {
  for (std::string_view scope : {"openid", "fhirUser", "profile", "launch", "launch/patient",
                                 "launch/encounter", "offline_access", "online_access"}) {
    ExpectRefused(std::string("system/Observation.r ") + std::string(scope), "backend clients");
  }
  ExpectRefused("unknown_scope", "context/Type.permissions");
}

TEST(SmartScopes, RefusesBadSeparatorsAndTooMany) {
  ExpectRefused("system/Observation.r  system/Patient.r", "single spaces");
  ExpectRefused(" system/Observation.r", "single spaces");
  ExpectRefused("system/Observation.r ", "single spaces");
  ExpectRefused("system/Observation.r\tsystem/Patient.r", "RFC 6749");
  ExpectRefused("system/Observation.r\"", "RFC 6749");
  ExpectRefused("system/Observation.r\n", "RFC 6749");
  ExpectRefused(std::string("system/Observation.r\0", 21), "RFC 6749");
  std::string many;
  for (int i = 0; i < 65; ++i) many += (i ? " " : "") + std::string("system/Patient.r");
  ExpectRefused(many, "64");
  ExpectRefused(std::string(kMaxScopeStringBytes + 1, 'a'), "4096");
}

TEST(SmartScopes, FormatsInV2FormAndRoundTrips) {
  const std::string text = "system/Observation.cruds patient/*.rs user/Binary.r system/Patient.cud";
  EXPECT_EQ(FormatSmartScopes(Parsed(text)), text);
  EXPECT_EQ(FormatSmartScopes(Parsed("system/Observation.read system/Patient.*")),
            "system/Observation.rs system/Patient.cruds");
  std::vector<SmartScope> none{Scope(Context::kSystem, "Patient", "")};
  EXPECT_EQ(FormatSmartScopes(none), "");
}

TEST(SmartScopes, NarrowingGrantsOnlyWhatIsRequestedAndRegistered) {
  const auto registered = Parsed("system/Observation.cu system/DiagnosticReport.cu");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(Parsed("system/Observation.cruds"), registered)),
            "system/Observation.cu");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(Parsed("system/Observation.c"), registered)),
            "system/Observation.c");
  EXPECT_TRUE(NarrowSmartScopes(Parsed("system/Patient.rs"), registered).empty());
  EXPECT_TRUE(NarrowSmartScopes(Parsed("system/Observation.rs"), registered).empty());
  // Another context never follows from a system registration.
  EXPECT_TRUE(NarrowSmartScopes(Parsed("patient/Observation.cu"), registered).empty());
}

TEST(SmartScopes, NarrowingAWildcardGivesTheRegisteredTypes) {
  const auto registered = Parsed("system/Observation.cu system/DiagnosticReport.c");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(Parsed("system/*.cruds"), registered)),
            "system/Observation.cu system/DiagnosticReport.c");
  const auto wildcard = Parsed("system/*.rs");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(Parsed("system/Patient.cruds"), wildcard)),
            "system/Patient.rs");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(Parsed("system/*.r"), wildcard)), "system/*.r");
}

TEST(SmartScopes, NarrowingMergesOneScopePerContextAndType) {
  const auto registered = Parsed("system/*.cruds");
  EXPECT_EQ(FormatSmartScopes(NarrowSmartScopes(
                Parsed("system/Observation.c system/Observation.s system/Patient.r"), registered)),
            "system/Observation.cs system/Patient.r");
}

TEST(SmartScopes, AllowAnswersPerInteractionTypeAndContext) {
  const auto scopes = Parsed("system/Observation.cu system/*.s");
  EXPECT_TRUE(SmartScopesAllow(scopes, Context::kSystem, "Observation", SmartInteraction::kCreate));
  EXPECT_TRUE(SmartScopesAllow(scopes, Context::kSystem, "Observation", SmartInteraction::kUpdate));
  EXPECT_FALSE(SmartScopesAllow(scopes, Context::kSystem, "Observation", SmartInteraction::kRead));
  EXPECT_FALSE(
      SmartScopesAllow(scopes, Context::kSystem, "Observation", SmartInteraction::kDelete));
  EXPECT_TRUE(SmartScopesAllow(scopes, Context::kSystem, "Patient", SmartInteraction::kSearch));
  EXPECT_FALSE(SmartScopesAllow(scopes, Context::kSystem, "Patient", SmartInteraction::kCreate));
  EXPECT_FALSE(
      SmartScopesAllow(scopes, Context::kPatient, "Observation", SmartInteraction::kCreate));
  EXPECT_FALSE(SmartScopesAllow({}, Context::kSystem, "Observation", SmartInteraction::kRead));
}

}  // namespace
}  // namespace medvault::identity
