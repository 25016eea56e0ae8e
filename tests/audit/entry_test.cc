#include "audit/entry.h"

#include <gtest/gtest.h>

namespace medvault::audit {
namespace {

Entry Sample() {
  Entry e;
  e.index = 42;
  e.time = Timestamp(std::chrono::microseconds(1'764'620'000'123'456));
  e.account = "acc-7";
  e.role = Role::kClinician;
  e.client = "portal";
  e.source_address = "2001:db8::1";
  e.action = Action::kSearch;
  e.resource_type = "Observation";
  e.resource_ids = {"obs-1", "obs-2"};
  e.patient_ids = {"pat-1", "pat-2"};
  e.purpose = Purpose::kBreakTheGlass;
  e.reason = BreakGlassReason::kEmergency;
  e.outcome = Outcome::kSuccess;
  return e;
}

TEST(AuditEntry, EncodingRoundTripsExactly) {
  auto bytes = EncodeEntry(Sample());
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message();
  auto parsed = ParseEntry(*bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(*parsed, Sample());
  EXPECT_EQ(EncodeEntry(*parsed).value(), *bytes);
}

TEST(AuditEntry, DifferentFieldsNeverShareAnEncoding) {
  // Moving a byte from one field into its neighbour changes the encoding (length prefixes).
  Entry a = Sample();
  Entry b = Sample();
  a.account = "ab";
  a.client = "c";
  b.account = "a";
  b.client = "bc";
  EXPECT_NE(EncodeEntry(a).value(), EncodeEntry(b).value());
  Entry c = Sample();
  c.resource_ids = {"obs-1obs-2"};
  EXPECT_NE(EncodeEntry(c).value(), EncodeEntry(Sample()).value());
}

TEST(AuditEntry, ParserRejectsTruncationTrailingBytesAndUnknownVocabulary) {
  const auto bytes = EncodeEntry(Sample()).value();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(ParseEntry(std::span(bytes).first(cut)).has_value()) << cut;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(ParseEntry(longer).has_value());
  auto bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_FALSE(ParseEntry(bad_version).has_value());
  auto bad_action = bytes;
  bad_action[17] = 99;  // after version (1), index (8) and time (8)
  EXPECT_FALSE(ParseEntry(bad_action).has_value());
}

TEST(AuditEntry, FreeTextIsRefused) {
  Entry e = Sample();
  e.account = "Jean Dupont";
  EXPECT_EQ(EncodeEntry(e).error().code(), ErrorCode::kInvalidArgument);
  e = Sample();
  e.patient_ids = {"pat-1", "HIV positive"};
  EXPECT_FALSE(EncodeEntry(e).has_value());
  e = Sample();
  e.source_address = "evil.example.com";
  EXPECT_FALSE(EncodeEntry(e).has_value());
  e = Sample();
  e.reason = BreakGlassReason::kNone;  // break-the-glass needs its reason category
  EXPECT_FALSE(EncodeEntry(e).has_value());
  e = Sample();
  e.action = static_cast<Action>(99);
  EXPECT_FALSE(EncodeEntry(e).has_value());
}

TEST(AuditEntry, ErrorMessagesNameTheFieldNotTheValue) {
  Entry e = Sample();
  e.account = "Jean Dupont";
  auto result = EncodeEntry(e);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message().find("Dupont"), std::string::npos);
  EXPECT_NE(result.error().message().find("account"), std::string::npos);
}

TEST(AuditEntry, ActionNamesRoundTrip) {
  for (Action a : {Action::kLogin, Action::kRead, Action::kBreakTheGlass, Action::kKeyRotate,
                   Action::kPatientErase}) {
    EXPECT_EQ(ActionFromName(ActionName(a)), a);
  }
  EXPECT_FALSE(ActionFromName("drop table").has_value());
}

}  // namespace
}  // namespace medvault::audit
