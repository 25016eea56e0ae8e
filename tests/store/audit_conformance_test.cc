// The audit log's tables through the Store, on SQLite and on the PostgreSQL test cluster (the
// ctest fixture "pg"): appends move one head, searches are by account, patient, action and
// time window, and two Store objects (two processes) appending at once produce one dense log.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "test_cluster.h"

namespace medvault::store {
namespace {

Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

AuditRecord Record(std::int64_t index, std::int64_t micros, std::string account, std::string action,
                   std::vector<std::string> patients) {
  AuditRecord r;
  r.index = index;
  r.recorded_at = At(micros);
  r.account = std::move(account);
  r.action = std::move(action);
  r.patient_ids = std::move(patients);
  r.encoded = B("entry-" + std::to_string(index));
  return r;
}

// Appends `records` at the current head in one transaction, with one leaf node per record.
Status AppendAtHead(Store& store, std::vector<AuditRecord> records) {
  return store.Transact([&](Transaction& tx) -> Status {
    auto head = tx.LockAuditHead();
    if (!head) return std::unexpected(head.error());
    AuditAppend batch;
    batch.expected_size = head->size;
    for (std::size_t i = 0; i < records.size(); ++i) {
      AuditRecord r = records[i];
      r.index = head->size + static_cast<std::int64_t>(i);
      r.encoded = B("entry-" + std::to_string(r.index));
      batch.nodes.push_back({0, r.index, B("leaf-" + std::to_string(r.index))});
      batch.records.push_back(std::move(r));
    }
    batch.frontier = B("frontier-" + std::to_string(head->size + records.size()));
    return tx.AppendAudit(batch);
  });
}

class AuditStoreConformance : public StoreBackendTest {
 protected:
  AuditHead Head() {
    AuditHead head;
    EXPECT_TRUE(store_->Transact(
        [&](Transaction& tx) -> Status {
          auto got = tx.GetAuditHead();
          if (!got) return std::unexpected(got.error());
          head = *got;
          return {};
        },
        Access::kReadOnly));
    return head;
  }

  std::vector<AuditRecord> Find(const AuditQuery& query, std::int64_t after, std::size_t limit) {
    std::vector<AuditRecord> found;
    auto status = store_->Transact(
        [&](Transaction& tx) -> Status {
          auto got = tx.FindAuditEntries(query, after, limit);
          if (!got) return std::unexpected(got.error());
          found = std::move(*got);
          return {};
        },
        Access::kReadOnly);
    EXPECT_TRUE(status.has_value()) << status.error().message();
    return found;
  }

  std::vector<std::int64_t> Indexes(const std::vector<AuditRecord>& records) {
    std::vector<std::int64_t> out;
    for (const auto& r : records) out.push_back(r.index);
    return out;
  }
};

TEST_P(AuditStoreConformance, NewStoreHasAnEmptyLogAndMigrationThree) {
  EXPECT_EQ(Head().size, 0);
  EXPECT_TRUE(Head().frontier.empty());
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_NE(std::ranges::find(*applied, 3), applied->end());
}

TEST_P(AuditStoreConformance, AppendStoresEntriesPatientsNodesAndMovesTheHead) {
  ASSERT_TRUE(AppendAtHead(*store_, {Record(0, 10, "acc-1", "read", {"p1", "p2"}),
                                     Record(0, 11, "acc-2", "login", {})}));
  ASSERT_TRUE(AppendAtHead(*store_, {Record(0, 12, "acc-1", "search", {"p2", "p2", "p3"})}));
  EXPECT_EQ(Head().size, 3);
  EXPECT_EQ(Head().frontier, B("frontier-3"));

  std::vector<AuditRecord> all;
  Bytes node;
  std::vector<AuditNode> leaves;
  ASSERT_TRUE(store_->Transact(
      [&](Transaction& tx) -> Status {
        auto entries = tx.ListAuditEntries(0, 100);
        if (!entries) return std::unexpected(entries.error());
        all = std::move(*entries);
        auto got = tx.GetAuditNode(0, 2);
        if (!got) return std::unexpected(got.error());
        node = *got;
        EXPECT_EQ(tx.GetAuditNode(1, 0).error().code(), ErrorCode::kNotFound);
        auto level = tx.ListAuditNodes(0, 1, 10);
        if (!level) return std::unexpected(level.error());
        leaves = std::move(*level);
        return {};
      },
      Access::kReadOnly));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].index, 0);
  EXPECT_EQ(all[0].recorded_at, At(10));
  EXPECT_EQ(all[0].account, "acc-1");
  EXPECT_EQ(all[0].action, "read");
  EXPECT_EQ(all[0].patient_ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(all[0].encoded, B("entry-0"));
  EXPECT_TRUE(all[1].patient_ids.empty());
  EXPECT_EQ(all[2].patient_ids, (std::vector<std::string>{"p2", "p3"}));  // one row per patient
  EXPECT_EQ(node, B("leaf-2"));
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0].index, 1);
  EXPECT_EQ(leaves[1].hash, B("leaf-2"));
}

TEST_P(AuditStoreConformance, AppendAtAStaleHeadConflictsAndWritesNothing) {
  ASSERT_TRUE(AppendAtHead(*store_, {Record(0, 10, "acc-1", "read", {"p1"})}));
  auto stale = store_->Transact([&](Transaction& tx) -> Status {
    AuditAppend batch;
    batch.expected_size = 0;
    batch.records.push_back(Record(0, 11, "acc-9", "read", {"p9"}));
    return tx.AppendAudit(batch);
  });
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(Head().size, 1);
  EXPECT_TRUE(Find({AuditQuery::By::kAccount, "acc-9", At(0), At(100)}, -1, 10).empty());
}

TEST_P(AuditStoreConformance, RecordsMustFollowTheHeadWithoutGaps) {
  auto gap = store_->Transact([&](Transaction& tx) -> Status {
    AuditAppend batch;
    batch.expected_size = 0;
    batch.records.push_back(Record(1, 11, "acc-1", "read", {}));
    return tx.AppendAudit(batch);
  });
  ASSERT_FALSE(gap.has_value());
  EXPECT_EQ(gap.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Head().size, 0);
}

TEST_P(AuditStoreConformance, SearchesByAccountPatientActionAndTimeWindowPage) {
  std::vector<AuditRecord> batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back(Record(0, 100 + i, i % 2 == 0 ? "acc-even" : "acc-odd",
                           i % 5 == 0 ? "search" : "read", {"p" + std::to_string(i % 3)}));
  }
  ASSERT_TRUE(AppendAtHead(*store_, batch));

  auto even = Find({AuditQuery::By::kAccount, "acc-even", At(104), At(112)}, -1, 100);
  EXPECT_EQ(Indexes(even), (std::vector<std::int64_t>{4, 6, 8, 10}));
  auto page = Find({AuditQuery::By::kAccount, "acc-even", At(0), At(1000)}, 6, 2);
  EXPECT_EQ(Indexes(page), (std::vector<std::int64_t>{8, 10}));
  auto patient = Find({AuditQuery::By::kPatient, "p1", At(0), At(1000)}, -1, 100);
  EXPECT_EQ(Indexes(patient), (std::vector<std::int64_t>{1, 4, 7, 10, 13, 16, 19}));
  EXPECT_EQ(patient[1].account, "acc-even");
  EXPECT_EQ(patient[1].encoded, B("entry-4"));
  auto searches = Find({AuditQuery::By::kAction, "search", At(0), At(1000)}, -1, 100);
  EXPECT_EQ(Indexes(searches), (std::vector<std::int64_t>{0, 5, 10, 15}));
  auto window = Find({AuditQuery::By::kTime, "", At(117), At(200)}, -1, 100);
  EXPECT_EQ(Indexes(window), (std::vector<std::int64_t>{17, 18, 19}));
  EXPECT_TRUE(Find({AuditQuery::By::kPatient, "nobody", At(0), At(1000)}, -1, 10).empty());
}

TEST_P(AuditStoreConformance, CheckpointsAreKeptOncePerSizeInOrder) {
  ASSERT_TRUE(store_->Transact([&](Transaction& tx) -> Status {
    if (auto s = tx.InsertAuditCheckpoint({20, At(5), "note-20"}); !s) return s;
    if (auto s = tx.InsertAuditCheckpoint({10, At(4), "note-10"}); !s) return s;
    auto again = tx.InsertAuditCheckpoint({10, At(6), "other"});
    EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
    return {};
  }));
  std::vector<AuditCheckpoint> listed;
  ASSERT_TRUE(store_->Transact(
      [&](Transaction& tx) -> Status {
        auto got = tx.ListAuditCheckpoints(0, 10);
        if (!got) return std::unexpected(got.error());
        listed = std::move(*got);
        return {};
      },
      Access::kReadOnly));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].size, 10);
  EXPECT_EQ(listed[0].note, "note-10");
  EXPECT_EQ(listed[0].signed_at, At(4));
  EXPECT_EQ(listed[1].size, 20);
}

TEST_P(AuditStoreConformance, TwoStoresAppendingAtOnceWriteOneDenseLog) {
  auto other = Store::Open(url_);
  ASSERT_TRUE(other.has_value()) << other.error().message();
  constexpr int kThreadsPerStore = 3;
  constexpr int kBatches = 15;
  std::atomic<int> failures{0};
  std::latch start(2 * kThreadsPerStore);
  std::vector<std::thread> threads;
  for (Store* store : {store_.get(), other->get()}) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back([&, store, t] {
        start.arrive_and_wait();
        for (int b = 0; b < kBatches; ++b) {
          const std::string account = "acc-" + std::to_string(t);
          Status s = Status{};
          // A conflicting transaction is retried by the store; keep trying if it gave up.
          for (int attempt = 0; attempt < 20; ++attempt) {
            s = AppendAtHead(*store, {Record(0, b, account, "read", {"p"}),
                                      Record(0, b, account, "read", {"q"})});
            if (s || s.error().code() != ErrorCode::kConflict) break;
          }
          if (!s) failures.fetch_add(1);
        }
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const std::int64_t expected = 2 * kThreadsPerStore * kBatches * 2;
  EXPECT_EQ(Head().size, expected);
  std::vector<AuditRecord> all;
  ASSERT_TRUE(store_->Transact(
      [&](Transaction& tx) -> Status {
        auto got = tx.ListAuditEntries(0, 10'000);
        if (!got) return std::unexpected(got.error());
        all = std::move(*got);
        return {};
      },
      Access::kReadOnly));
  ASSERT_EQ(static_cast<std::int64_t>(all.size()), expected);
  for (std::int64_t i = 0; i < expected; ++i) {
    EXPECT_EQ(all[static_cast<std::size_t>(i)].index, i);
    EXPECT_EQ(all[static_cast<std::size_t>(i)].encoded, B("entry-" + std::to_string(i)));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditStoreConformance, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::store
