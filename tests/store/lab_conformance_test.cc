// Conformance of the lab feed's tables (migration 006_lab) on SQLite and on the real
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

QuarantinedMessage Held(std::string id, std::int64_t received) {
  QuarantinedMessage message;
  message.id = std::move(id);
  message.received_at = At(received);
  message.updated_at = At(received);
  message.state = "held";
  message.condition = 101;
  message.error = "PID-3: the patient identifier is missing";
  message.version = 1;
  message.sealed = {7, 7, 7, 1};
  return message;
}

class LabStore : public StoreBackendTest {};

TEST_P(LabStore, MigrationSixIsRecorded) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(*applied, ::testing::Contains(6));
}

TEST_P(LabStore, AMessageIsTakenOncePerFacilityAndControlId) {
  const LabMessageRecord first{"LBM-QUAIS", "MSG-1", "AA", At(100)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertLabMessage(first); }));
  auto again = Tx([&](Transaction& tx) {
    return tx.InsertLabMessage({"LBM-QUAIS", "MSG-1", "AA", At(200)});
  });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(Tx([&](Transaction& tx) {
    return tx.InsertLabMessage({"LBM-RIVES", "MSG-1", "AA", At(300)});
  }));
  auto found = One<LabMessageRecord>(
      [](Transaction& tx) { return tx.GetLabMessage("LBM-QUAIS", "MSG-1"); });
  ASSERT_TRUE(found);
  EXPECT_EQ(found->ack_code, "AA");
  EXPECT_EQ(found->received_at, At(100));
  auto missing = One<LabMessageRecord>(
      [](Transaction& tx) { return tx.GetLabMessage("LBM-QUAIS", "MSG-2"); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_P(LabStore, QuarantineKeepsListsAndUpdatesByVersion) {
  for (auto [id, at] : {std::pair{"q-b", 20}, {"q-a", 20}, {"q-c", 10}}) {
    ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertQuarantined(Held(id, at)); }));
  }
  auto taken = Tx([&](Transaction& tx) { return tx.InsertQuarantined(Held("q-a", 30)); });
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);

  auto page = One<std::vector<QuarantinedMessage>>(
      [](Transaction& tx) { return tx.ListQuarantined(Timestamp(), "", 2); });
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "q-c");
  EXPECT_EQ((*page)[1].id, "q-a");
  auto rest = One<std::vector<QuarantinedMessage>>([&](Transaction& tx) {
    return tx.ListQuarantined(page->back().received_at, page->back().id, 10);
  });
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, "q-b");

  QuarantinedMessage fixed = Held("q-a", 20);
  fixed.updated_at = At(50);
  fixed.state = "replayed";
  fixed.condition = 0;
  fixed.error = "";
  fixed.version = 2;
  fixed.sealed = {9, 9};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.UpdateQuarantined(fixed, 1); }));
  auto stale = Tx([&](Transaction& tx) { return tx.UpdateQuarantined(fixed, 1); });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  QuarantinedMessage unknown = Held("q-zz", 20);
  auto missing = Tx([&](Transaction& tx) { return tx.UpdateQuarantined(unknown, 1); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto read = One<QuarantinedMessage>([](Transaction& tx) { return tx.GetQuarantined("q-a"); });
  ASSERT_TRUE(read);
  EXPECT_EQ(read->state, "replayed");
  EXPECT_EQ(read->version, 2);
  EXPECT_EQ(read->received_at, At(20));
  EXPECT_EQ(read->updated_at, At(50));
  EXPECT_EQ(read->sealed, (Bytes{9, 9}));
  EXPECT_EQ(read->error, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, LabStore, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::store
