// `medvault audit verify` (the real binary) on a vault whose audit log was tampered with
// directly in its database: every edit, deletion, insertion, reordering, truncation and
// rollback is found, and the first bad entry is named. The log is written by the audit
// library in this process, on the vault's own store and signing key, as the server writes it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "audit/audit_log.h"
#include "audit/checkpointer.h"
#include "cli/vault.h"
#include "records/phi_access_for_testing.h"
#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kEntries = 300;

// Appends entries [first, last) to the vault's log and signs a checkpoint every 100 entries
// (stored in the log and written to the vault's checkpoint directory).
void WriteLog(const fs::path& vault, int first, int last, const std::string& store_url = "") {
  auto opened = cli::OpenVault(
      vault, store_url.empty() ? cli::VaultOverrides{} : cli::VaultOverrides{{}, store_url});
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  static const SystemClock clock;
  auto log = audit::AuditLog::Open(*opened->store, clock);
  ASSERT_TRUE(log.has_value()) << log.error().message();
  auto checkpointer = audit::Checkpointer::Start(
      **log, *opened->store, opened->records->derived_keys().signing_key(), clock,
      {opened->config.audit.checkpoint_dir, std::chrono::hours(1), std::nullopt});
  ASSERT_TRUE(checkpointer.has_value()) << checkpointer.error().message();
  for (int i = first; i < last; ++i) {
    audit::Entry entry;
    entry.account = "acc-" + std::to_string(i % 7);
    entry.role = audit::Role::kClinician;
    entry.client = "portal";
    entry.source_address = "192.0.2." + std::to_string(i % 250);
    entry.action = i % 5 == 0 ? audit::Action::kSearch : audit::Action::kRead;
    entry.resource_type = "Observation";
    entry.resource_ids = {"obs-" + std::to_string(i)};
    entry.patient_ids = {"pat-" + std::to_string(i % 40)};
    entry.purpose = audit::Purpose::kCareRelation;
    auto index = (*log)->Append(entry);
    ASSERT_TRUE(index.has_value()) << index.error().message();
    ASSERT_EQ(*index, static_cast<std::uint64_t>(i));
    if ((i + 1) % 100 == 0) {
      ASSERT_TRUE((*checkpointer)->CheckpointNow().has_value());
    }
  }
}

// Runs constant SQL on the vault's SQLite database.
void Sqlite(const fs::path& vault, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((vault / "data" / "medvault.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// Rewrites the bytes of the entry at `seq` with `edit` (bound values, as an attacker with the
// database file could).
template <typename Edit>
void EditEntry(const fs::path& vault, int seq, Edit edit) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((vault / "data" / "medvault.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT entry FROM audit_entries WHERE seq = ?1", -1, &select,
                               nullptr),
            SQLITE_OK);
  sqlite3_bind_int(select, 1, seq);
  ASSERT_EQ(sqlite3_step(select), SQLITE_ROW);
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(select, 0));
  std::vector<std::uint8_t> bytes(data, data + sqlite3_column_bytes(select, 0));
  sqlite3_finalize(select);
  edit(bytes);
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE audit_entries SET entry = ?1 WHERE seq = ?2", -1,
                               &update, nullptr),
            SQLITE_OK);
  sqlite3_bind_blob(update, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(update, 2, seq);
  ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
  sqlite3_finalize(update);
  sqlite3_close(db);
}

// Replaces the first occurrence of `from` in the bytes with `to` (same length).
void Replace(std::vector<std::uint8_t>& bytes, std::string_view from, std::string_view to) {
  auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
  ASSERT_NE(it, bytes.end());
  std::copy(to.begin(), to.end(), it);
}

CommandResult Verify(const fs::path& vault, const Env& env = {},
                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"audit", "verify", "--dir", vault.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunMedvault(args, env);
}

void ExpectFirstBad(const CommandResult& result, int index, std::string_view what) {
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("first bad entry " + std::to_string(index) + ":"));
  EXPECT_THAT(result.out, HasSubstr(std::string(what)));
}

class AuditTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new TempDir();
    const fs::path vault = pristine_->path() / "vault";
    ASSERT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
    WriteLog(vault, 0, kEntries);
  }
  static void TearDownTestSuite() {
    delete pristine_;
    pristine_ = nullptr;
  }
  // A copy of the pristine vault for one test to tamper with.
  fs::path Copy() {
    const fs::path vault = dir_.path() / "vault";
    fs::copy(pristine_->path() / "vault", vault, fs::copy_options::recursive);
    return vault;
  }

  static TempDir* pristine_;
  TempDir dir_;
};
TempDir* AuditTamperTest::pristine_ = nullptr;

TEST_F(AuditTamperTest, UntouchedLogVerifies) {
  const fs::path vault = Copy();
  auto result = Verify(vault);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("audit log intact: 300 entries"));
  EXPECT_THAT(result.out, HasSubstr("checked against 5 checkpoints"));  // 0,100,200,300 + file
}

TEST_F(AuditTamperTest, EditedEntryIsNamed) {
  const fs::path vault = Copy();
  EditEntry(vault, 123, [](auto& bytes) { Replace(bytes, "acc-4", "acc-5"); });
  ExpectFirstBad(Verify(vault), 123, "edited");
}

TEST_F(AuditTamperTest, EditedEntryWithMatchingSearchColumnsIsNamed) {
  const fs::path vault = Copy();
  EditEntry(vault, 123, [](auto& bytes) { Replace(bytes, "acc-4", "acc-5"); });
  Sqlite(vault, "UPDATE audit_entries SET account = 'acc-5' WHERE seq = 123");
  ExpectFirstBad(Verify(vault), 123, "differs from the entry appended");
}

TEST_F(AuditTamperTest, GarbledEntryIsNamed) {
  const fs::path vault = Copy();
  EditEntry(vault, 7, [](auto& bytes) { bytes.resize(bytes.size() - 3); });
  ExpectFirstBad(Verify(vault), 7, "does not parse");
}

TEST_F(AuditTamperTest, DeletedEntryIsNamed) {
  const fs::path vault = Copy();
  Sqlite(vault, "DELETE FROM audit_entries WHERE seq = 150");
  ExpectFirstBad(Verify(vault), 150, "missing");
}

TEST_F(AuditTamperTest, InsertedEntryIsNamed) {
  const fs::path vault = Copy();
  Sqlite(vault,
         "INSERT INTO audit_entries (seq, recorded_at, account, action, entry) "
         "SELECT 300, recorded_at, account, action, entry FROM audit_entries WHERE seq = 299");
  ExpectFirstBad(Verify(vault), 300, "inserted");
}

TEST_F(AuditTamperTest, InsertedEntryWithARewrittenHeadIsNamed) {
  const fs::path vault = Copy();
  Sqlite(vault,
         "INSERT INTO audit_entries (seq, recorded_at, account, action, entry) "
         "SELECT 300, recorded_at, account, action, entry FROM audit_entries WHERE seq = 299;"
         "UPDATE audit_head SET size = 301");
  ExpectFirstBad(Verify(vault), 300, "moved or reordered");
}

TEST_F(AuditTamperTest, ReorderedEntriesAreNamed) {
  const fs::path vault = Copy();
  Sqlite(vault,
         "UPDATE audit_entries SET seq = -1 WHERE seq = 60;"
         "UPDATE audit_entries SET seq = 60 WHERE seq = 61;"
         "UPDATE audit_entries SET seq = 61 WHERE seq = -1");
  ExpectFirstBad(Verify(vault), 60, "holds the entry recorded at index 61");
}

TEST_F(AuditTamperTest, ABrokenStoredTreeNodeIsNamedByTheEntriesItCovers) {
  const fs::path vault = Copy();
  Sqlite(vault,
         "UPDATE audit_nodes SET hash = (SELECT hash FROM audit_nodes WHERE level = 0 AND "
         "idx = 0) WHERE level = 3 AND idx = 5");
  ExpectFirstBad(Verify(vault), 40, "stored tree node over entries 40 to 47");
}

TEST_F(AuditTamperTest, TruncatedTailIsNamed) {
  const fs::path vault = Copy();
  Sqlite(vault, "DELETE FROM audit_entries WHERE seq >= 250");
  ExpectFirstBad(Verify(vault), 250, "truncated");
}

TEST_F(AuditTamperTest, TruncatedTailWithARewoundHeadAndNoStoredCheckpointsIsNamed) {
  const fs::path vault = Copy();
  // The attacker also rewinds the head and removes the stored checkpoints: the checkpoint file
  // outside the data directory still covers 300 entries.
  Sqlite(vault,
         "DELETE FROM audit_entries WHERE seq >= 250; DELETE FROM audit_nodes;"
         "DELETE FROM audit_checkpoints; UPDATE audit_head SET size = 250");
  ExpectFirstBad(Verify(vault), 0, "differs from the entry appended");
  // With the stored tree left alone except for the head, the checkpoint names entry 250.
  const fs::path again = dir_.path() / "again";
  fs::copy(pristine_->path() / "vault", again, fs::copy_options::recursive);
  Sqlite(again,
         "DELETE FROM audit_entries WHERE seq >= 250; DELETE FROM audit_checkpoints;"
         "UPDATE audit_head SET size = 250");
  auto result = Verify(again);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_THAT(result.out, HasSubstr("first bad entry 250: entry 250 is missing"));
}

TEST_F(AuditTamperTest, RollbackToAnOlderCopyOfTheDatabaseIsNamed) {
  const fs::path vault = dir_.path() / "vault";
  ASSERT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
  WriteLog(vault, 0, 200);
  const fs::path data = vault / "data";
  const fs::path old_copy = dir_.path() / "old";
  fs::copy(data, old_copy, fs::copy_options::recursive);  // the database and any WAL
  WriteLog(vault, 200, 300);
  const fs::path shipped = dir_.path() / "shipped-checkpoint";
  fs::copy_file(vault / "checkpoints" / "checkpoint", shipped);
  fs::remove_all(data);
  fs::copy(old_copy, data, fs::copy_options::recursive);
  ExpectFirstBad(Verify(vault), 200, "rolled back");
  // The same with the vault's checkpoint directory lost too: the shipped copy still tells.
  fs::remove(vault / "checkpoints" / "checkpoint");
  ExpectFirstBad(Verify(vault, {}, {"--checkpoint", shipped.string()}), 200, "rolled back");
  auto unaware = Verify(vault);
  EXPECT_EQ(unaware.exit_code, 0) << "without any newer checkpoint a rollback is invisible";
}

TEST_F(AuditTamperTest, ACheckpointSignedByAnotherKeyIsRefused) {
  const fs::path vault = Copy();
  const fs::path other = dir_.path() / "other";
  ASSERT_EQ(RunMedvault({"init", "--dir", other.string()}).exit_code, 0);
  WriteLog(other, 0, 3);
  auto result =
      Verify(vault, {}, {"--checkpoint", (other / "checkpoints" / "checkpoint").string()});
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_THAT(result.out, HasSubstr("not validly signed"));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(AuditTamperTest, ScopeListsThePatientsAnAccountTouchedWithLettersInFrenchAndEnglish) {
  const fs::path vault = Copy();
  const fs::path out = dir_.path() / "scope";
  auto result =
      RunMedvault({"audit", "scope", "--dir", vault.string(), "--account", "acc-3", "--from",
                   "2000-01-01", "--to", "2100-01-01T00:00:00Z", "--out", out.string()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  // Entries i with i % 7 == 3 (43 of 300) touch patients i % 40: every patient, as 7 and 40
  // are coprime.
  EXPECT_THAT(result.out, HasSubstr("40 patients, 43 records, 43 audit entries"));
  EXPECT_THAT(result.out, HasSubstr("patient pat-3: Observation x"));
  const std::string csv = ReadFile(out / "scope.csv");
  EXPECT_THAT(csv, HasSubstr("pat-3,Observation,"));
  EXPECT_THAT(ReadFile(out / "notification.en.txt"), HasSubstr("number of people concerned: 40"));
  EXPECT_THAT(ReadFile(out / "notification.fr.txt"), HasSubstr("personnes concernées : 40"));
  EXPECT_THAT(ReadFile(out / "letters" / "patient-pat-3.fr.txt"), HasSubstr("pat-3"));
  EXPECT_THAT(ReadFile(out / "letters" / "patient-pat-3.en.txt"), HasSubstr("Observation"));

  auto none = RunMedvault({"audit", "scope", "--dir", vault.string(), "--account", "acc-3",
                           "--from", "2000-01-01", "--to", "2000-01-02"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_THAT(none.out, HasSubstr("0 patients"));
  auto bad_time = RunMedvault({"audit", "scope", "--dir", vault.string(), "--account", "acc-3",
                               "--from", "yesterday", "--to", "2000-01-02"});
  EXPECT_EQ(bad_time.exit_code, 2);
}

TEST(AuditServe, RefusesACheckpointDirectoryInsideTheDataDirectory) {
  TempDir dir;
  const fs::path vault = dir.path() / "vault";
  ASSERT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
  auto result = RunMedvault({"serve", "--dir", vault.string(), "--listen", "127.0.0.1:0"},
                            {{"MEDVAULT_AUDIT_CHECKPOINT_DIR", "data/checkpoints"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("audit.checkpoint_dir must be outside the data directory"));
}

// The same tampering on a vault whose store is the PostgreSQL test cluster.
class AuditTamperPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = store::CreatePostgresDatabase();
    ASSERT_TRUE(url.has_value()) << url.error().message();
    url_ = *url;
    vault_ = dir_.path() / "vault";
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.string()}).exit_code, 0);
    WriteLog(vault_, 0, kEntries, url_);
  }
  Env env() const { return {{"MEDVAULT_STORE_URL", url_}}; }
  TempDir dir_;
  fs::path vault_;
  std::string url_;
};

TEST_F(AuditTamperPostgresTest, UntouchedLogVerifies) {
  auto result = Verify(vault_, env());
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("audit log intact: 300 entries"));
}

TEST_F(AuditTamperPostgresTest, EditedEntryIsNamed) {
  ASSERT_TRUE(store::RunPsql(url_,
                             "UPDATE audit_entries SET entry = set_byte(entry, 40, "
                             "get_byte(entry, 40) # 1) WHERE seq = 77"));
  ExpectFirstBad(Verify(vault_, env()), 77, "entry 77");
}

TEST_F(AuditTamperPostgresTest, DeletedEntryIsNamed) {
  ASSERT_TRUE(store::RunPsql(url_, "DELETE FROM audit_entries WHERE seq = 150"));
  ExpectFirstBad(Verify(vault_, env()), 150, "missing");
}

// `medvault patient erase` logs the erasure first, then destroys the data key for good.
TEST(PatientEraseCommand, TheErasureIsInTheAuditLogAndTheRecordNeverOpensAgain) {
  TempDir dir;
  const fs::path vault = dir.path() / "vault";
  ASSERT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
  const Timestamp before = SystemClock().Now();
  {
    auto opened = cli::OpenVault(vault, {});
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    constexpr std::string_view kJson = R"({"resourceType":"Patient","id":"pat-erase"})";
    ASSERT_TRUE(opened->records->Put({"Patient", "pat-erase", 0, "pat-erase", kJson, before}));
  }
  auto slip = RunMedvault({"patient", "erase", "--dir", vault.string(), "--id", "pat-erase",
                           "--confirm", "pat-eras"});
  EXPECT_NE(slip.exit_code, 0);
  EXPECT_THAT(slip.err, HasSubstr("nothing was erased"));

  auto erased = RunMedvault({"patient", "erase", "--dir", vault.string(), "--id", "pat-erase",
                             "--confirm", "pat-erase"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  auto again = RunMedvault({"patient", "erase", "--dir", vault.string(), "--id", "pat-erase",
                            "--confirm", "pat-erase"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("erased already"));

  auto opened = cli::OpenVault(vault, {});
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  auto read = opened->records->Get(policy::PhiAccessForTesting::Grant(), "Patient", "pat-erase");
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().code(), ErrorCode::kNotFound);
  static const SystemClock clock;
  auto log = audit::AuditLog::Open(*opened->store, clock);
  ASSERT_TRUE(log.has_value());
  auto entries = (*log)->EntriesOfPatient("pat-erase", before, clock.Now() + std::chrono::hours(1),
                                          std::nullopt, 100);
  ASSERT_TRUE(entries.has_value()) << entries.error().message();
  ASSERT_EQ(entries->size(), 1u) << "one erasure, logged once; the refused attempts log nothing";
  EXPECT_EQ((*entries)[0].action, audit::Action::kPatientErase);
  EXPECT_EQ((*entries)[0].role, audit::Role::kOperator);
  EXPECT_EQ((*entries)[0].outcome, audit::Outcome::kSuccess);
  EXPECT_EQ(Verify(vault).exit_code, 0);
}

}  // namespace
}  // namespace medvault::testing
