// The verifier on a log whose entries and stored tree an attacker rewrote consistently: only a
// signed checkpoint can tell, and the report bounds where the first bad entry is.
#include "audit/verifier.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "audit/checkpointer.h"
#include "audit_log_fixture.h"
#include "core/manual_clock.h"
#include "core/secret.h"

namespace medvault::audit {
namespace {

crypto::SigningKey Key() {
  auto seed = Secret::Allocate(crypto::kEd25519SeedBytes).value();
  std::ranges::fill(seed.mutable_bytes(), 0x42);
  return crypto::SigningKey::FromSeed(seed).value();
}

class VerifierTest : public testing::StoreBackend {};

TEST_P(VerifierTest, IntactLogVerifiesAgainstItsCheckpoints) {
  ::medvault::testing::ManualClock clock;
  const auto key = Key();
  auto log = AuditLog::Open(*store_, clock).value();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("medvault-verifier-" + std::to_string(::getpid()) + GetParam());
  {
    auto checkpointer =
        Checkpointer::Start(*log, *store_, key, clock, {dir, std::chrono::hours(1), {}});
    ASSERT_TRUE(checkpointer.has_value());
    for (int i = 0; i < 37; ++i) ASSERT_TRUE(log->Append(testing::ReadBy("acc-1", {"pat-1"})));
  }
  const NoteVerifier verifier{OriginFor(key.public_key()), key.public_key()};
  auto report = VerifyLog(*store_, verifier, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact()) << report->problem;
  EXPECT_EQ(report->entries, 37u);
  EXPECT_EQ(report->checkpoints, 2u);  // at start (0) and shutdown (37)
  EXPECT_EQ(report->root, log->Head()->root);
  std::filesystem::remove_all(dir);
}

// More entries than one page of the verifier (8,192), written by concurrent callers: the
// subtrees that end in the second and third pages are checked with those pages.
std::uint64_t AppendConcurrently(AuditLog& log, int threads, int each) {
  std::vector<std::thread> writers;
  std::atomic<std::uint64_t> committed{0};
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        if (log.Append(testing::ReadBy("acc-" + std::to_string(t), {"pat-" + std::to_string(i)}))) {
          ++committed;
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  return committed.load();
}

TEST_P(VerifierTest, LogOfSeveralPagesVerifies) {
  ::medvault::testing::ManualClock clock;
  auto log = AuditLog::Open(*store_, clock).value();
  ASSERT_EQ(AppendConcurrently(*log, 32, 650), 20'800u);
  const auto key = Key();
  const NoteVerifier verifier{OriginFor(key.public_key()), key.public_key()};
  auto report = VerifyLog(*store_, verifier, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_TRUE(report->intact()) << report->problem;
  EXPECT_EQ(report->entries, 20'800u);
  EXPECT_EQ(report->root, log->Head()->root);
}

INSTANTIATE_TEST_SUITE_P(Backends, VerifierTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// SQLite only: the rewrite goes through the database file, as an attacker holding it would.
TEST(VerifierRewrite, ConsistentRewriteIsCaughtByTheCheckpointThatCoversIt) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-rewrite-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const std::string path = (dir / "store.db").string();
  ::medvault::testing::ManualClock clock;
  const auto key = Key();
  std::vector<Entry> written;
  {
    auto store = store::Store::Open("sqlite:" + path).value();
    auto log = AuditLog::Open(*store, clock).value();
    auto checkpointer =
        Checkpointer::Start(*log, *store, key, clock, {dir / "cp", std::chrono::hours(1), {}});
    ASSERT_TRUE(checkpointer.has_value());
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(log->Append(testing::ReadBy("acc-" + std::to_string(i % 3), {"pat-1"})));
      if (i + 1 == 10 || i + 1 == 20) {
        ASSERT_TRUE((*checkpointer)->CheckpointNow());
      }
    }
    written =
        log->Find({Search::By::kTime, "", Timestamp::min(), Timestamp::max(), std::nullopt, 100})
            .value();
  }
  // Rewrite entry 13 (account acc-1 -> acc-2) and everything derived from it: its columns, the
  // whole stored tree and the head.
  written[13].account = "acc-2";
  TreeBuilder builder;
  std::vector<TreeBuilder::Node> nodes;
  std::vector<std::vector<std::uint8_t>> encoded;
  for (const Entry& e : written) {
    encoded.push_back(EncodeEntry(e).value());
    builder.Append(LeafHash(encoded.back()), &nodes);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN; DELETE FROM audit_nodes;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                               -1, &insert, nullptr),
            SQLITE_OK);
  for (const auto& node : nodes) {
    sqlite3_bind_int(insert, 1, node.level);
    sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(node.index));
    sqlite3_bind_blob(insert, 3, node.hash.data(), kHashBytes, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(
                db, "UPDATE audit_entries SET entry = ?1, account = 'acc-2' WHERE seq = 13", -1,
                &update, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(update, 1, encoded[13].data(), static_cast<int>(encoded[13].size()),
                    SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
  sqlite3_finalize(update);
  const auto frontier = EncodeFrontier(builder.Frontier());
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE audit_head SET frontier = ?1", -1, &update, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(update, 1, frontier.data(), static_cast<int>(frontier.size()),
                    SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
  sqlite3_finalize(update);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto store = store::Store::Open("sqlite:" + path).value();
  const NoteVerifier verifier{OriginFor(key.public_key()), key.public_key()};
  auto report = VerifyLog(*store, verifier, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  ASSERT_FALSE(report->intact());
  // The checkpoint at 10 still matches; the one at 20 does not: entry 10..19 is the bad one.
  EXPECT_EQ(report->first_bad_index, 10u);
  EXPECT_NE(report->problem.find("do not match the checkpoint"), std::string::npos)
      << report->problem;
  EXPECT_NE(report->problem.find("up to 19"), std::string::npos) << report->problem;
  store.reset();
  std::filesystem::remove_all(dir);
}

// SQLite only, through the database file: a stored subtree that ends in the second page of the
// verifier, and a leaf in its third page.
TEST(VerifierPages, WrongNodesBeyondTheFirstPageAreNamed) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-pages-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const std::string path = (dir / "store.db").string();
  ::medvault::testing::ManualClock clock;
  {
    auto store = store::Store::Open("sqlite:" + path).value();
    auto log = AuditLog::Open(*store, clock).value();
    ASSERT_EQ(AppendConcurrently(*log, 32, 650), 20'800u);
  }
  const auto key = Key();
  const NoteVerifier verifier{OriginFor(key.public_key()), key.public_key()};
  auto verify = [&](const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto store = store::Store::Open("sqlite:" + path).value();
    auto report = VerifyLog(*store, verifier, {});
    EXPECT_TRUE(report.has_value());
    return report.value_or(VerifyReport{});
  };
  // Level 14, index 0 covers entries 0 to 16,383: it closes with the last entry of page two.
  auto node = verify("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 14 AND idx = 0");
  ASSERT_FALSE(node.intact());
  EXPECT_EQ(node.first_bad_index, 0u);
  EXPECT_NE(node.problem.find("the stored tree node over entries 0 to 16383"), std::string::npos)
      << node.problem;
  // A wrong leaf is named as its entry, before any interior node.
  auto leaf = verify("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 17000");
  ASSERT_FALSE(leaf.intact());
  EXPECT_EQ(leaf.first_bad_index, 17'000u);
  EXPECT_NE(leaf.problem.find("entry 17000 differs"), std::string::npos) << leaf.problem;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medvault::audit
