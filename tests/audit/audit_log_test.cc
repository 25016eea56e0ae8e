// The audit log over a real store (SQLite and the PostgreSQL test cluster).
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <set>
#include <thread>

#include "audit_log_fixture.h"
#include "core/manual_clock.h"

namespace medvault::audit {
namespace {

using testing::ReadBy;

std::vector<std::uint8_t> B(const Hash& h) { return {h.begin(), h.end()}; }
std::vector<std::vector<std::uint8_t>> Bytes(const std::vector<Hash>& proof) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const Hash& h : proof) out.push_back(B(h));
  return out;
}

class AuditLogTest : public testing::StoreBackend {
 protected:
  void SetUp() override {
    store::StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto log = AuditLog::Open(*store_, clock_);
    ASSERT_TRUE(log.has_value()) << log.error().message();
    log_ = std::move(*log);
  }
  void TearDown() override {
    log_.reset();
    store::StoreBackendTest::TearDown();
  }

  std::vector<Entry> All() {
    auto all = log_->Find(
        {Search::By::kTime, "", Timestamp::min(), Timestamp::max(), std::nullopt, 100'000});
    EXPECT_TRUE(all.has_value()) << all.error().message();
    return all ? *all : std::vector<Entry>{};
  }

  ::medvault::testing::ManualClock clock_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, AppendsGetDenseIndexesAndTheHeadCommitsToThem) {
  for (std::uint64_t i = 0; i < 5; ++i) {
    auto index = log_->Append(ReadBy("acc-1", {"pat-" + std::to_string(i)}));
    ASSERT_TRUE(index.has_value()) << index.error().message();
    EXPECT_EQ(*index, i);
    clock_.Advance(std::chrono::seconds(1));
  }
  TreeBuilder expected;
  for (const Entry& entry : All()) expected.Append(LeafHash(EncodeEntry(entry).value()));
  auto head = log_->Head();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->root, expected.Root());
  EXPECT_EQ(All()[3].time, clock_.Now() - std::chrono::seconds(2));
}

TEST_P(AuditLogTest, ConcurrentAppendsAllCommitWithDistinctIndexes) {
  constexpr int kThreads = 16;
  constexpr int kEach = 25;
  std::vector<std::vector<std::uint64_t>> got(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        auto index = log_->Append(ReadBy("acc-" + std::to_string(t), {"pat-1"}));
        if (index) got[t].push_back(*index);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::uint64_t> all;
  for (const auto& list : got) {
    EXPECT_EQ(list.size(), static_cast<std::size_t>(kEach));
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*all.rbegin(), static_cast<std::uint64_t>(kThreads * kEach - 1));
  // Each caller's index names its own entry.
  const auto entries = All();
  for (int t = 0; t < kThreads; ++t) {
    for (std::uint64_t index : got[t]) {
      EXPECT_EQ(entries[index].account, "acc-" + std::to_string(t));
      EXPECT_EQ(entries[index].index, index);
    }
  }
}

// The committer waits a moment for the callers it released to append again; callers that do
// not come back must not hold the others' entries back for long, nor lose any.
TEST_P(AuditLogTest, CallersThatDoNotAppendAgainStillGetTheirEntriesCommitted) {
  for (int round = 0; round < 3; ++round) {
    constexpr int kThreads = 24;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    std::atomic<int> committed{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        if (log_->Append(ReadBy("acc-" + std::to_string(t), {"pat-1"}))) ++committed;
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(committed.load(), kThreads);
  }
  // Then one caller alone.
  auto last = log_->Append(ReadBy("acc-last", {"pat-2"}));
  ASSERT_TRUE(last.has_value()) << last.error().message();
  EXPECT_EQ(*last, 72u);
  EXPECT_EQ(All().size(), 73u);
}

TEST_P(AuditLogTest, InclusionAndConsistencyProofsVerifyAgainstTheHead) {
  std::vector<Hash> leaves;
  std::vector<Hash> roots;  // roots[n - 1]: root at size n
  for (int i = 0; i < 23; ++i) {
    ASSERT_TRUE(log_->Append(ReadBy("acc-1", {"pat-" + std::to_string(i % 4)})));
    roots.push_back(log_->Head()->root);
  }
  for (const Entry& e : All()) leaves.push_back(LeafHash(EncodeEntry(e).value()));
  for (std::uint64_t size = 1; size <= 23; size += 5) {
    for (std::uint64_t index = 0; index < size; ++index) {
      auto proof = log_->InclusionProof(index, size);
      ASSERT_TRUE(proof.has_value()) << proof.error().message();
      EXPECT_TRUE(
          VerifyInclusion(B(leaves[index]), index, size, Bytes(*proof), B(roots[size - 1])));
    }
    auto consistency = log_->ConsistencyProof(size, 23);
    ASSERT_TRUE(consistency.has_value());
    EXPECT_TRUE(VerifyConsistency(size, 23, Bytes(*consistency), B(roots[size - 1]), B(roots[22])));
  }
  EXPECT_EQ(log_->InclusionProof(0, 24).error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(AuditLogTest, FindsByAccountPatientActionAndWindow) {
  ASSERT_TRUE(log_->Append(ReadBy("acc-a", {"pat-1", "pat-2"})));
  clock_.Advance(std::chrono::minutes(1));
  const Timestamp t1 = clock_.Now();
  ASSERT_TRUE(log_->Append(ReadBy("acc-b", {"pat-2"}, Action::kSearch)));
  ASSERT_TRUE(log_->Append(ReadBy("acc-a", {"pat-3"}, Action::kUpdate)));
  clock_.Advance(std::chrono::minutes(1));
  const Timestamp t2 = clock_.Now();
  ASSERT_TRUE(log_->Append(ReadBy("acc-a", {"pat-2"})));

  auto by_account = log_->Find({Search::By::kAccount, "acc-a", t1, t2, std::nullopt, 100});
  ASSERT_TRUE(by_account.has_value());
  ASSERT_EQ(by_account->size(), 1u);
  EXPECT_EQ((*by_account)[0].patient_ids, std::vector<std::string>{"pat-3"});
  EXPECT_EQ((*by_account)[0].action, Action::kUpdate);

  auto history =
      log_->EntriesOfPatient("pat-2", Timestamp::min(), Timestamp::max(), std::nullopt, 100);
  ASSERT_TRUE(history.has_value());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].index, 0u);
  EXPECT_EQ((*history)[1].account, "acc-b");
  EXPECT_EQ((*history)[2].index, 3u);

  auto searches = log_->Find({Search::By::kAction, std::string(ActionName(Action::kSearch)),
                              Timestamp::min(), Timestamp::max(), std::nullopt, 100});
  ASSERT_TRUE(searches.has_value());
  ASSERT_EQ(searches->size(), 1u);
  EXPECT_EQ((*searches)[0].index, 1u);
}

TEST_P(AuditLogTest, InvalidEntryIsRefusedAndNothingIsLogged) {
  Entry bad = ReadBy("acc-1", {"Jean Dupont"});
  EXPECT_EQ(log_->Append(bad).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->Head()->size, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// Fail-closed: another process holds SQLite's write lock past the busy timeout.
TEST(AuditLogFailClosed, UnwritableStoreMakesAppendUnavailable) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-audit-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string path = pattern + "/store.db";
  auto store =
      store::Store::Open("sqlite:" + path, {.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(store.has_value()) << store.error().message();
  ::medvault::testing::ManualClock clock;
  auto log = AuditLog::Open(**store, clock);
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE((*log)->Append(ReadBy("acc-1", {"pat-1"})));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto refused = (*log)->Append(ReadBy("acc-1", {"pat-2"}));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  auto again = (*log)->Append(ReadBy("acc-1", {"pat-3"}));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 1u);  // the refused entry left no trace
  log->reset();
  store->reset();
  std::filesystem::remove_all(pattern);
}

// Two processes (two Stores, two logs) on one PostgreSQL database write one consistent log.
TEST(AuditLogShared, TwoLogsOnOneDatabaseWriteOneTree) {
  auto url = store::CreatePostgresDatabase();
  ASSERT_TRUE(url.has_value()) << url.error().message();
  auto a = store::Store::Open(*url);
  auto b = store::Store::Open(*url);
  ASSERT_TRUE(a.has_value() && b.has_value());
  ::medvault::testing::ManualClock clock;
  auto log_a = AuditLog::Open(**a, clock);
  auto log_b = AuditLog::Open(**b, clock);
  ASSERT_TRUE(log_a.has_value() && log_b.has_value());
  constexpr int kThreads = 8;
  constexpr int kEach = 15;
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    AuditLog* log = (t % 2 == 0 ? log_a : log_b)->get();
    threads.emplace_back([&, log, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        if (!log->Append(ReadBy("acc-" + std::to_string(t), {"pat-1"}))) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = (*log_a)->Find(
      {Search::By::kTime, "", Timestamp::min(), Timestamp::max(), std::nullopt, 10'000});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), static_cast<std::size_t>(kThreads * kEach));
  TreeBuilder expected;
  for (std::size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].index, i);
    expected.Append(LeafHash(EncodeEntry((*all)[i]).value()));
  }
  EXPECT_EQ((*log_b)->Head()->root, expected.Root());
  EXPECT_EQ((*log_a)->Head()->size, static_cast<std::uint64_t>(kThreads * kEach));
}

}  // namespace
}  // namespace medvault::audit
