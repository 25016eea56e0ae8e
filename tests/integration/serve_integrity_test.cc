// Stored data altered on disk under a running `medvault serve` (the real binary): one record's
// ciphertext, and another patient's wrapped data key, each with one byte flipped directly in
// the database (SQLite through the sqlite3 C API, PostgreSQL through libpq on the fixture's
// database). The altered records answer 500 with an OperationOutcome that quotes nothing, the
// other records are still served, searches skip the broken ones, an integrity_failure alert
// is stored and the log warns with ids only. And a master key that is missing, unreadable or
// not the vault's stops `medvault serve` from starting, naming the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kMrnSystem = "https://integrity.example.org/mrn";

struct StoredAlert {
  std::string kind;
  std::string subject;
  std::string detail;
};

// The vault's database as someone with the disk has it: a blob of a row read, one byte of it
// flipped and written back, with bound values.
class Database {
 public:
  virtual ~Database() = default;
  // Flips the middle byte of resource_versions.payload of one version.
  virtual void FlipPayloadByte(const std::string& type, const std::string& id, int version) = 0;
  // Flips the middle byte of patient_keys.wrapped of one patient.
  virtual void FlipWrappedKeyByte(const std::string& patient_id) = 0;
  virtual std::vector<StoredAlert> Alerts() = 0;
};

void Flip(std::vector<std::uint8_t>& bytes) {
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() / 2] ^= 0x01;
}

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(const fs::path& vault) {
    EXPECT_EQ(sqlite3_open((vault / "data" / "medvault.db").c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10'000);
  }
  ~SqliteDatabase() override { sqlite3_close(db_); }

  void FlipPayloadByte(const std::string& type, const std::string& id, int version) override {
    FlipBlob(
        "SELECT payload FROM resource_versions WHERE resource_type = ?1 AND id = ?2 AND "
        "version = ?3",
        "UPDATE resource_versions SET payload = ?4 WHERE resource_type = ?1 AND id = ?2 AND "
        "version = ?3",
        {type, id, std::to_string(version)});
  }
  void FlipWrappedKeyByte(const std::string& patient_id) override {
    FlipBlob("SELECT wrapped FROM patient_keys WHERE patient_id = ?1",
             "UPDATE patient_keys SET wrapped = ?4 WHERE patient_id = ?1", {patient_id});
  }
  std::vector<StoredAlert> Alerts() override {
    std::vector<StoredAlert> alerts;
    sqlite3_stmt* select = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, "SELECT kind, subject, detail FROM alerts ORDER BY id", -1,
                                 &select, nullptr),
              SQLITE_OK);
    while (sqlite3_step(select) == SQLITE_ROW) {
      auto text = [&](int column) {
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(select, column)));
      };
      alerts.push_back({text(0), text(1), text(2)});
    }
    sqlite3_finalize(select);
    return alerts;
  }

 private:
  // `update` takes the key values as ?1.. and the new blob as ?4.
  void FlipBlob(const char* select_sql, const char* update_sql,
                const std::vector<std::string>& key) {
    sqlite3_stmt* select = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, select_sql, -1, &select, nullptr), SQLITE_OK);
    for (std::size_t i = 0; i < key.size(); ++i) {
      sqlite3_bind_text(select, static_cast<int>(i + 1), key[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    ASSERT_EQ(sqlite3_step(select), SQLITE_ROW) << "no such row";
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(select, 0));
    std::vector<std::uint8_t> bytes(data, data + sqlite3_column_bytes(select, 0));
    sqlite3_finalize(select);
    Flip(bytes);
    sqlite3_stmt* update = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, update_sql, -1, &update, nullptr), SQLITE_OK);
    for (std::size_t i = 0; i < key.size(); ++i) {
      sqlite3_bind_text(update, static_cast<int>(i + 1), key[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_blob(update, 4, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(update);
    EXPECT_EQ(sqlite3_changes(db_), 1);
  }

  sqlite3* db_ = nullptr;
};

class PostgresDatabase : public Database {
 public:
  explicit PostgresDatabase(const std::string& url) : db_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(db_), CONNECTION_OK) << PQerrorMessage(db_);
  }
  ~PostgresDatabase() override { PQfinish(db_); }

  void FlipPayloadByte(const std::string& type, const std::string& id, int version) override {
    FlipBlob(
        "SELECT payload FROM resource_versions WHERE resource_type = $1 AND id = $2 AND "
        "version = $3::bigint",
        "UPDATE resource_versions SET payload = $4 WHERE resource_type = $1 AND id = $2 AND "
        "version = $3::bigint",
        {type, id, std::to_string(version)});
  }
  void FlipWrappedKeyByte(const std::string& patient_id) override {
    FlipBlob("SELECT wrapped FROM patient_keys WHERE patient_id = $1",
             "UPDATE patient_keys SET wrapped = $2 WHERE patient_id = $1", {patient_id});
  }
  std::vector<StoredAlert> Alerts() override {
    std::vector<StoredAlert> alerts;
    PGresult* result = PQexec(db_, "SELECT kind, subject, detail FROM alerts ORDER BY id");
    EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQerrorMessage(db_);
    for (int row = 0; row < PQntuples(result); ++row) {
      alerts.push_back(
          {PQgetvalue(result, row, 0), PQgetvalue(result, row, 1), PQgetvalue(result, row, 2)});
    }
    PQclear(result);
    return alerts;
  }

 private:
  // `update` takes the key values as $1.. and the new blob after them.
  void FlipBlob(const char* select_sql, const char* update_sql,
                const std::vector<std::string>& key) {
    std::vector<const char*> values;
    for (const auto& value : key) values.push_back(value.c_str());
    PGresult* selected = PQexecParams(db_, select_sql, static_cast<int>(values.size()), nullptr,
                                      values.data(), nullptr, nullptr, /*resultFormat=*/1);
    ASSERT_EQ(PQresultStatus(selected), PGRES_TUPLES_OK) << PQerrorMessage(db_);
    ASSERT_EQ(PQntuples(selected), 1) << "no such row";
    const auto* data = reinterpret_cast<const std::uint8_t*>(PQgetvalue(selected, 0, 0));
    std::vector<std::uint8_t> bytes(data, data + PQgetlength(selected, 0, 0));
    PQclear(selected);
    Flip(bytes);
    std::vector<int> lengths(values.size(), 0);
    std::vector<int> formats(values.size(), 0);
    values.push_back(reinterpret_cast<const char*>(bytes.data()));
    lengths.push_back(static_cast<int>(bytes.size()));
    formats.push_back(1);  // binary bytea
    PGresult* updated = PQexecParams(db_, update_sql, static_cast<int>(values.size()), nullptr,
                                     values.data(), lengths.data(), formats.data(), 0);
    ASSERT_EQ(PQresultStatus(updated), PGRES_COMMAND_OK) << PQerrorMessage(db_);
    EXPECT_STREQ(PQcmdTuples(updated), "1");
    PQclear(updated);
  }

  PGconn* db_ = nullptr;
};

std::string PatientJson(std::string_view family, std::string_view mrn) {
  return R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kMrnSystem) +
         R"(","value":")" + std::string(mrn) + R"("}],"name":[{"family":")" + std::string(family) +
         R"(","given":["Solène"]}],"gender":"female","birthDate":"1969-07-21"})";
}

std::string ObservationJson(std::string_view patient_id, int value) {
  return R"({"resourceType":"Observation","status":"final",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient_id) +
         R"("},"performer":[{"reference":"Organization/lab-integrity"}],)"
         R"("valueQuantity":{"value":)" +
         std::to_string(value) +
         R"(,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}})";
}

std::set<std::string> MatchIds(const Http& bundle) {
  std::set<std::string> ids;
  if (const auto* entries = bundle.json.if_contains("entry")) {
    for (const auto& entry : entries->as_array()) {
      const auto& e = entry.as_object();
      if (const auto* search = e.if_contains("search");
          search != nullptr && Str(search->as_object(), "mode") != "match") {
        continue;
      }
      ids.insert(Str(e.at("resource").as_object(), "id"));
    }
  }
  return ids;
}

// The OperationOutcome entries (search.mode "outcome") of a search Bundle, as text.
std::vector<std::string> OutcomeEntries(const Http& bundle) {
  std::vector<std::string> outcomes;
  if (const auto* entries = bundle.json.if_contains("entry")) {
    for (const auto& entry : entries->as_array()) {
      const auto& e = entry.as_object();
      const auto* search = e.if_contains("search");
      if (search == nullptr || Str(search->as_object(), "mode") != "outcome") continue;
      EXPECT_EQ(Str(e.at("resource").as_object(), "resourceType"), "OperationOutcome");
      outcomes.push_back(json::serialize(e.at("resource")));
    }
  }
  return outcomes;
}

class ServeIntegrity : public ::testing::Test {
 protected:
  void Start(Env env) {
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env_));
    ASSERT_NE(server_, nullptr);
    // A lab technician: patients and their lab's results, without care relations to set up.
    clinician_ =
        EnrollWithTotp(port(), AddStaff(vault_.path(), "c.integrity", "lab_technician", env_));
    ASSERT_FALSE(clinician_.session.csrf.empty()) << "the clinician could not enroll";
    ASSERT_TRUE(
        LinkLab(port(), vault_.path(), clinician_.session, "c.integrity", "lab-integrity", env_));
  }
  unsigned short port() const { return server_->port(); }
  Http Clinician(std::string_view method, std::string_view target, std::string_view body = "") {
    return SendAs(port(), clinician_.session, method, target, body);
  }
  std::string Create(std::string_view type, const std::string& body) {
    auto created = Clinician("POST", "/fhir/" + std::string(type), body);
    EXPECT_EQ(created.status, 201u) << created.body;
    return Str(created.json, "id");
  }

  // A 500 with an OperationOutcome that names none of `secrets`.
  void ExpectBrokenAndQuiet(const std::string& target, const std::vector<std::string>& secrets) {
    auto answer = Clinician("GET", target);
    EXPECT_EQ(answer.status, 500u) << answer.body;
    EXPECT_EQ(Str(answer.json, "resourceType"), "OperationOutcome") << answer.body;
    for (const std::string& secret : secrets) {
      EXPECT_THAT(answer.body, Not(HasSubstr(secret))) << "the error quotes a value or an id";
    }
  }

  void AlteredRecordsFailAloneAndAreReported(Database& db) {
    // Three patients whose family names share a prefix, each with Observations.
    const std::string altered = Create("Patient", PatientJson("Bernard", "MRN-ALTERED"));
    const std::string keyless = Create("Patient", PatientJson("Bernier", "MRN-KEYLESS"));
    const std::string healthy = Create("Patient", PatientJson("Berthier", "MRN-HEALTHY"));
    ASSERT_FALSE(altered.empty() || keyless.empty() || healthy.empty());
    const std::string broken_result = Create("Observation", ObservationJson(altered, 111));
    const std::string other_result = Create("Observation", ObservationJson(altered, 222));
    const std::string keyless_result = Create("Observation", ObservationJson(keyless, 333));
    const std::string healthy_result = Create("Observation", ObservationJson(healthy, 444));
    // Read once, so that the server holds every data key unwrapped in its cache.
    for (const std::string& id : {broken_result, other_result, keyless_result, healthy_result}) {
      ASSERT_EQ(Clinician("GET", "/fhir/Observation/" + id).status, 200u);
    }

    db.FlipPayloadByte("Observation", broken_result, 1);
    db.FlipWrappedKeyByte(keyless);

    const std::vector<std::string> secrets{altered,       keyless,        healthy,   broken_result,
                                           other_result,  keyless_result, "Bernard", "Bernier",
                                           "MRN-ALTERED", "MRN-KEYLESS",  "Solène"};
    ExpectBrokenAndQuiet("/fhir/Observation/" + broken_result, secrets);
    ExpectBrokenAndQuiet("/fhir/Observation/" + broken_result + "/_history/1", secrets);
    ExpectBrokenAndQuiet("/fhir/Patient/" + keyless, secrets);
    ExpectBrokenAndQuiet("/fhir/Observation/" + keyless_result, secrets);

    // Everything else is still served: the altered record's patient and other result, and
    // the other patients.
    for (const std::string& target :
         {"/fhir/Patient/" + altered, "/fhir/Observation/" + other_result,
          "/fhir/Patient/" + healthy, "/fhir/Observation/" + healthy_result}) {
      auto read = Clinician("GET", target);
      EXPECT_EQ(read.status, 200u) << target << ": " << read.body;
    }
    auto created = Clinician("POST", "/fhir/Observation", ObservationJson(healthy, 555));
    EXPECT_EQ(created.status, 201u) << "writes go on: " << created.body;

    // Searches skip what does not open and serve the rest.
    auto compartment = Clinician("GET", "/fhir/Observation?patient=" + altered);
    EXPECT_EQ(compartment.status, 200u) << compartment.body;
    EXPECT_EQ(MatchIds(compartment), std::set<std::string>{other_result});
    auto names = Clinician("GET", "/fhir/Patient?family=Ber");
    EXPECT_EQ(names.status, 200u) << names.body;
    EXPECT_EQ(MatchIds(names), (std::set<std::string>{altered, healthy}));
    for (const Http* answer : {&compartment, &names}) {
      // Flagged: one outcome entry says a record that may match could not be read.
      const auto outcomes = OutcomeEntries(*answer);
      ASSERT_EQ(outcomes.size(), 1u) << answer->body;
      EXPECT_THAT(outcomes[0], HasSubstr("\"warning\""));
      EXPECT_THAT(outcomes[0], HasSubstr("1 stored resource that may match could not be read"));
      for (const std::string& secret : {keyless, broken_result, keyless_result}) {
        EXPECT_THAT(answer->body, Not(HasSubstr(secret))) << "a search names a broken record";
      }
    }

    auto clean = Clinician("GET", "/fhir/Observation?patient=" + healthy);
    EXPECT_EQ(clean.status, 200u) << clean.body;
    EXPECT_EQ(MatchIds(clean).size(), 2u);
    EXPECT_TRUE(OutcomeEntries(clean).empty()) << "nothing flagged where all records open";

    // The alerts: ids only, for the operators.
    std::set<std::string> subjects;
    for (const StoredAlert& alert : db.Alerts()) {
      if (alert.kind != "integrity_failure") continue;
      subjects.insert(alert.subject);
      for (std::string_view value : {"Bernard", "Bernier", "MRN-ALTERED", "Solène"}) {
        EXPECT_THAT(alert.subject + alert.detail, Not(HasSubstr(value)));
      }
    }
    EXPECT_TRUE(subjects.contains("Observation/" + broken_result + "/_history/1"))
        << ::testing::PrintToString(subjects);
    EXPECT_TRUE(subjects.contains("Patient/" + keyless + "/_history/1") ||
                subjects.contains("Observation/" + keyless_result + "/_history/1"))
        << ::testing::PrintToString(subjects);

    // The log warns with ids, and quotes no value.
    const std::string log = server_->Output();
    std::vector<std::string> warnings;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("integrity_failure") != std::string::npos) warnings.push_back(line);
    }
    ASSERT_FALSE(warnings.empty()) << log;
    bool names_the_record = false;
    bool names_the_key = false;
    for (const std::string& warning : warnings) {
      EXPECT_THAT(warning, HasSubstr("warn")) << warning;
      names_the_record |= warning.find(broken_result) != std::string::npos;
      names_the_key |= warning.find("data key") != std::string::npos;
    }
    EXPECT_TRUE(names_the_record) << log;
    EXPECT_TRUE(names_the_key) << log;
    for (std::string_view value : {"Bernard", "Bernier", "Berthier", "MRN-", "Solène"}) {
      EXPECT_THAT(log, Not(HasSubstr(value))) << "the log quotes a value";
    }
  }

  TempDir vault_;
  Env env_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled clinician_;
};

TEST_F(ServeIntegrity, AnAlteredRecordOrKeyFailsAloneOnSqlite) {
  Start({});
  SqliteDatabase db(vault_.path());
  AlteredRecordsFailAloneAndAreReported(db);
}

TEST_F(ServeIntegrity, AnAlteredRecordOrKeyFailsAloneOnPostgres) {
  auto url = store::CreatePostgresDatabase();
  ASSERT_TRUE(url) << url.error().message();
  Start({{"MEDVAULT_STORE_URL", *url}});
  PostgresDatabase db(*url);
  AlteredRecordsFailAloneAndAreReported(db);
}

// A master key that is not there, not a key file, or not the vault's: serve refuses to start
// (exit code 2) and names the file. (A key file others may read: cli_test.cc; a wrong PIN or
// token: pkcs11_cli_test.cc.)
class MasterKeyRefusal : public ::testing::Test {
 protected:
  fs::path Init(const std::string& name) {
    const fs::path vault = dir_.path() / name;
    EXPECT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
    return vault;
  }
  void ExpectRefusalNaming(const fs::path& vault, const std::string& why) {
    auto serve = RunMedvault({"serve", "--dir", vault.string(), "--listen", "127.0.0.1:0"}, {},
                             std::chrono::seconds(30));
    EXPECT_EQ(serve.exit_code, 2) << serve.out << serve.err;
    EXPECT_THAT(serve.err, HasSubstr((vault / "keys" / "master.key").string())) << serve.err;
    EXPECT_THAT(serve.err, HasSubstr(why));
    EXPECT_THAT(serve.err, Not(HasSubstr("Sanitizer")));
    EXPECT_THAT(serve.out, Not(HasSubstr("\"listening\"")));
  }
  TempDir dir_;
};

TEST_F(MasterKeyRefusal, AMissingKeyFileIsNamed) {
  const fs::path vault = Init("vault");
  fs::remove(vault / "keys" / "master.key");
  ExpectRefusalNaming(vault, "master key file");
}

TEST_F(MasterKeyRefusal, AKeyFileThatHoldsNoKeyIsNamed) {
  const fs::path vault = Init("vault");
  const fs::path key = vault / "keys" / "master.key";
  { std::ofstream(key, std::ios::trunc) << "kek-1 not-a-key\n"; }
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  ExpectRefusalNaming(vault, "master key file");
}

TEST_F(MasterKeyRefusal, AnotherVaultsKeyIsNamed) {
  const fs::path vault = Init("vault");
  const fs::path other = Init("other");
  // The key root is made on first open: open both once so each has its own.
  for (const fs::path& v : {vault, other}) {
    auto status = RunMedvault({"keys", "status", "--dir", v.string()});
    ASSERT_EQ(status.exit_code, 0) << status.err;
  }
  fs::copy_file(other / "keys" / "master.key", vault / "keys" / "master.key",
                fs::copy_options::overwrite_existing);
  ExpectRefusalNaming(vault, "does not open with this master key");
}

}  // namespace
}  // namespace medvault::testing
