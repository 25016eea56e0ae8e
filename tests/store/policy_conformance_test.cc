// Conformance of the access policy's tables (migration 007_policy) on SQLite and on the real
// PostgreSQL 15 cluster of the ctest fixture "pg". Each test gets a fresh database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "test_cluster.h"

namespace medvault::store {
namespace {

Timestamp At(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

CareRelation Relation(std::string practitioner, std::string patient, std::string source_id,
                      std::int64_t expires) {
  return {.practitioner_id = std::move(practitioner),
          .patient_id = std::move(patient),
          .source_type = "CareTeam",
          .source_id = std::move(source_id),
          .expires_at = At(expires)};
}

BreakGlassGrant Grant(std::string id, std::string patient, std::int64_t granted) {
  BreakGlassGrant grant;
  grant.id = std::move(id);
  grant.account_id = "acc-1";
  grant.patient_id = std::move(patient);
  grant.reason = 1;
  grant.sealed_reason = {9, 9, 9};
  grant.granted_at = At(granted);
  grant.expires_at = At(granted + 3600);
  return grant;
}

class PolicyStore : public StoreBackendTest {
 protected:
  Result<std::vector<CareRelation>> RelationsOf(std::string practitioner, std::int64_t now) {
    return One<std::vector<CareRelation>>(
        [&](Transaction& tx) { return tx.ListCareRelations(practitioner, At(now)); });
  }
};

TEST_P(PolicyStore, MigrationSevenIsRecorded) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(*applied, ::testing::Contains(7));
}

TEST_P(PolicyStore, OneRelationIsLookedUpByPartyAndPatientWhileItHolds) {
  const std::vector<CareRelation> report = {Relation("Organization/lab-1", "pat-1", "dr-1", 1000),
                                            Relation("pr-a", "pat-2", "dr-1", 1000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) {
    return tx.ReplaceCareRelations("CareTeam", "dr-1", report);
  }));
  const auto has = [&](std::string party, std::string patient, std::int64_t now) {
    return One<bool>([&](Transaction& tx) { return tx.HasCareRelation(party, patient, At(now)); });
  };
  EXPECT_EQ(has("Organization/lab-1", "pat-1", 100), true);
  EXPECT_EQ(has("Organization/lab-1", "pat-1", 1000), false);  // expired at 1000
  EXPECT_EQ(has("Organization/lab-1", "pat-2", 100), false);   // another party's patient
  EXPECT_EQ(has("Organization/lab-2", "pat-1", 100), false);
  EXPECT_EQ(has("pr-a", "pat-2", 100), true);
  auto bad = One<bool>([&](Transaction& tx) { return tx.HasCareRelation("", "pat-1", At(100)); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(PolicyStore, CareRelationsAreReplacedPerSourceAndListedWhileTheyHold) {
  const std::vector<CareRelation> team = {Relation("pr-a", "pat-2", "team-1", 1000),
                                          Relation("pr-a", "pat-1", "team-1", 500),
                                          Relation("pr-b", "pat-1", "team-1", 1000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-1", team); }));
  const std::vector<CareRelation> other = {Relation("pr-a", "pat-3", "team-2", 1000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-2", other); }));

  auto at_100 = RelationsOf("pr-a", 100);
  ASSERT_TRUE(at_100);
  EXPECT_EQ(*at_100, (std::vector<CareRelation>{team[1], team[0], other[0]}));
  auto at_500 = RelationsOf("pr-a", 500);  // the one expiring at 500 no longer holds
  ASSERT_TRUE(at_500);
  EXPECT_EQ(*at_500, (std::vector<CareRelation>{team[0], other[0]}));

  // The source changed: its rows are what it says now, the other source's stay.
  const std::vector<CareRelation> changed = {Relation("pr-b", "pat-2", "team-1", 2000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-1", changed); }));
  auto after = RelationsOf("pr-a", 100);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, (std::vector<CareRelation>{other[0]}));
  auto of_b = RelationsOf("pr-b", 100);
  ASSERT_TRUE(of_b);
  EXPECT_EQ(*of_b, changed);

  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-1", {}); }));
  auto none = RelationsOf("pr-b", 100);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(PolicyStore, ARelationOfAnotherSourceIsRefusedAndNothingChanges) {
  const std::vector<CareRelation> kept = {Relation("pr-a", "pat-1", "team-1", 1000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-1", kept); }));
  const std::vector<CareRelation> wrong = {Relation("pr-a", "pat-2", "team-9", 1000)};
  auto refused =
      Tx([&](Transaction& tx) { return tx.ReplaceCareRelations("CareTeam", "team-1", wrong); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  auto still = RelationsOf("pr-a", 100);
  ASSERT_TRUE(still);
  EXPECT_EQ(*still, kept);
}

TEST_P(PolicyStore, AnAccountLinkIsReplacedWhole) {
  auto missing = One<AccountLink>([](Transaction& tx) { return tx.GetAccountLink("acc-1"); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.PutAccountLink({"acc-1", "pr-a", "", At(10)});
  }));
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.PutAccountLink({"acc-1", "", "org-lab", At(20)});
  }));
  auto link = One<AccountLink>([](Transaction& tx) { return tx.GetAccountLink("acc-1"); });
  ASSERT_TRUE(link);
  EXPECT_EQ(link->practitioner_id, "");
  EXPECT_EQ(link->organization_id, "org-lab");
  EXPECT_EQ(link->updated_at, At(20));
}

TEST_P(PolicyStore, ASensitiveGrantIsKeptOncePerCategory) {
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.InsertSensitiveGrant({"acc-1", "mental-health", At(10), "cli"});
  }));
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.InsertSensitiveGrant({"acc-1", "hiv", At(20), "cli"});
  }));
  auto again = Tx([](Transaction& tx) {
    return tx.InsertSensitiveGrant({"acc-1", "hiv", At(30), "admin-2"});
  });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto grants = One<std::vector<SensitiveGrant>>(
      [](Transaction& tx) { return tx.ListSensitiveGrants("acc-1"); });
  ASSERT_TRUE(grants);
  ASSERT_EQ(grants->size(), 2u);
  EXPECT_EQ((*grants)[0].category, "hiv");
  EXPECT_EQ((*grants)[0].granted_at, At(20));
  EXPECT_EQ((*grants)[1].category, "mental-health");
}

TEST_P(PolicyStore, ARevokedSensitiveGrantIsGoneAndRevokingAgainIsNotFound) {
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.InsertSensitiveGrant({"acc-1", "genetics", At(10), "cli"});
  }));
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.InsertSensitiveGrant({"acc-2", "genetics", At(10), "cli"});
  }));
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.DeleteSensitiveGrant("acc-1", "genetics"); }));
  auto again = Tx([](Transaction& tx) { return tx.DeleteSensitiveGrant("acc-1", "genetics"); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
  auto mine = One<std::vector<SensitiveGrant>>(
      [](Transaction& tx) { return tx.ListSensitiveGrants("acc-1"); });
  ASSERT_TRUE(mine);
  EXPECT_TRUE(mine->empty());
  auto theirs = One<std::vector<SensitiveGrant>>(
      [](Transaction& tx) { return tx.ListSensitiveGrants("acc-2"); });
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->size(), 1u);
}

TEST_P(PolicyStore, BreakGlassGrantsHoldUntilTheyExpireAndAreReviewedOnce) {
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.InsertBreakGlass(Grant("bg-2", "pat-1", 200)); }));
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.InsertBreakGlass(Grant("bg-1", "pat-2", 100)); }));
  auto taken = Tx([](Transaction& tx) { return tx.InsertBreakGlass(Grant("bg-1", "pat-3", 300)); });
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);

  auto active = One<std::vector<BreakGlassGrant>>(
      [](Transaction& tx) { return tx.ListActiveBreakGlass("acc-1", At(3750)); });
  ASSERT_TRUE(active);
  ASSERT_EQ(active->size(), 1u);  // bg-1 expired at 3700
  EXPECT_EQ(active->front().id, "bg-2");
  EXPECT_EQ(active->front().sealed_reason, (std::vector<std::uint8_t>{9, 9, 9}));

  auto queue = One<std::vector<BreakGlassGrant>>(
      [](Transaction& tx) { return tx.ListBreakGlassToReview(At(0), "", 10); });
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].id, "bg-1");
  EXPECT_EQ((*queue)[1].id, "bg-2");
  EXPECT_EQ((*queue)[0].reviewed_at, Timestamp());

  BreakGlassGrant review = Grant("bg-1", "", 0);
  review.reviewed_at = At(5000);
  review.reviewer = "auditor-1";
  review.sealed_note = {4, 2};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReviewBreakGlass(review); }));
  auto twice = Tx([&](Transaction& tx) { return tx.ReviewBreakGlass(review); });
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), ErrorCode::kConflict);
  review.id = "bg-9";
  auto unknown = Tx([&](Transaction& tx) { return tx.ReviewBreakGlass(review); });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);

  auto reviewed = One<BreakGlassGrant>([](Transaction& tx) { return tx.GetBreakGlass("bg-1"); });
  ASSERT_TRUE(reviewed);
  EXPECT_EQ(reviewed->reviewed_at, At(5000));
  EXPECT_EQ(reviewed->reviewer, "auditor-1");
  EXPECT_EQ(reviewed->sealed_note, (std::vector<std::uint8_t>{4, 2}));
  EXPECT_EQ(reviewed->patient_id, "pat-2");
  auto rest = One<std::vector<BreakGlassGrant>>(
      [](Transaction& tx) { return tx.ListBreakGlassToReview(At(0), "", 10); });
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().id, "bg-2");
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyStore, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace medvault::store
