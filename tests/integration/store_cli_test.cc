// The real `medvault` binary on its store: demo content, key status and rotation while a
// server keeps serving, PostgreSQL shared by two servers, and a master key that does not
// match the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "crypto/master_key_file.h"
#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every byte of every file under `dir`.
std::string ReadTree(const fs::path& dir) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) all += ReadFile(entry.path());
  }
  return all;
}

unsigned short ReadyStatus(unsigned short port, const fs::path& vault) {
  TlsOptions tls;
  tls.trust = VaultCertificate(vault);
  auto client = Client::Connect(port, tls);
  if (!client) return 0;
  auto response = client->Get("/readyz");
  return response ? response->result_int() : 0;
}

class StoreCliTest : public ::testing::Test {
 protected:
  fs::path Demo(std::string name, std::string patients) {
    fs::path vault = dir_.path() / name;
    auto demo = RunMedvault({"demo", "--dir", vault.string(), "--patients", patients});
    EXPECT_EQ(demo.exit_code, 0) << demo.err;
    return vault;
  }
  TempDir dir_;
};

TEST_F(StoreCliTest, DemoWritesItsPatientsEncrypted) {
  fs::path vault = dir_.path() / "demo";
  auto demo = RunMedvault({"demo", "--dir", vault.string(), "--patients", "40"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_THAT(demo.out, HasSubstr("with 45 patients"));
  std::string stored = ReadTree(vault / "data");
  EXPECT_GT(stored.size(), 10'000u);
  for (std::string_view named : {"Dupont", "Hélène", "helene", "Lefèvre", "N'Diaye", "Müller",
                                 "@example.org", "urn:oid:1.2.250.1.213.1.4.8"}) {
    EXPECT_EQ(stored.find(named), std::string::npos) << named;
  }
}

TEST_F(StoreCliTest, KeysRotateWhileTheServerServesAndTheServerRestartsOnTheNewKey) {
  fs::path vault = Demo("vault", "30");
  auto before = RunMedvault({"keys", "status", "--dir", vault.string()});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  // 35 demo patients, the 4 canaries and 2 more keys of the demo's directory and accounts.
  EXPECT_THAT(before.out, HasSubstr("wrapped under kek-1: 41"));
  EXPECT_THAT(before.out, HasSubstr("rotation: none under way"));

  auto server = ServerProcess::Start(vault);
  ASSERT_NE(server, nullptr);
  auto rotate = RunMedvault({"keys", "rotate", "--dir", vault.string()});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_THAT(rotate.out, HasSubstr("added master key version 2"));
  EXPECT_THAT(rotate.out, HasSubstr("rotation complete"));
  EXPECT_EQ(ReadyStatus(server->port(), vault), 200);

  std::string key_file = ReadFile(vault / "keys" / "master.key");
  EXPECT_EQ(key_file.rfind("kek-2 ", 0), 0u) << "the file keeps only the new version";
  EXPECT_EQ(std::count(key_file.begin(), key_file.end(), '\n'), 1);
  auto after = RunMedvault({"keys", "status", "--dir", vault.string()});
  EXPECT_THAT(after.out, HasSubstr("loaded versions: 2 (active 2)"));
  EXPECT_THAT(after.out, HasSubstr("wrapped under kek-2: 41"));

  server->Signal(SIGTERM);
  ASSERT_EQ(server->Wait(std::chrono::seconds(15)), 0);
  auto restarted = ServerProcess::Start(vault);
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(ReadyStatus(restarted->port(), vault), 200);
}

TEST_F(StoreCliTest, AnInterruptedRotationResumes) {
  fs::path vault = Demo("vault", "10");
  // The first step of a rotation happened (a version was added), then the command died.
  ASSERT_EQ(crypto::AddMasterKeyVersion(vault / "keys" / "master.key").value(), 2u);
  auto status = RunMedvault({"keys", "status", "--dir", vault.string()});
  EXPECT_THAT(status.out, HasSubstr("loaded versions: 1, 2 (active 2)"));
  // 15 demo patients and the 4 canaries, plus the 2 other keys.
  EXPECT_THAT(status.out, HasSubstr("rotation: under way, 21 keys still to rewrap"));

  auto rotate = RunMedvault({"keys", "rotate", "--dir", vault.string()});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_THAT(rotate.out, HasSubstr("resuming the rotation to master key version 2"));
  EXPECT_THAT(rotate.out, ::testing::Not(HasSubstr("added master key version")));
  auto after = RunMedvault({"keys", "status", "--dir", vault.string()});
  EXPECT_THAT(after.out, HasSubstr("loaded versions: 2 (active 2)"));
  EXPECT_THAT(after.out, HasSubstr("wrapped under kek-2: 21"));
}

TEST_F(StoreCliTest, AMasterKeyThatDoesNotMatchTheStoreRefusesToStart) {
  fs::path vault = Demo("vault", "1");
  fs::path other = Demo("other", "1");
  fs::copy_file(other / "keys" / "master.key", vault / "keys" / "master.key",
                fs::copy_options::overwrite_existing);
  auto serve = RunMedvault({"serve", "--dir", vault.string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("does not open with this master key"));
  auto status = RunMedvault({"keys", "status", "--dir", vault.string()});
  EXPECT_EQ(status.exit_code, 2);
}

TEST_F(StoreCliTest, TwoServersShareOnePostgresDatabase) {
  auto url = store::CreatePostgresDatabase();
  ASSERT_TRUE(url) << url.error().message();
  fs::path vault = dir_.path() / "vault";
  ASSERT_EQ(RunMedvault({"init", "--dir", vault.string()}).exit_code, 0);
  const Env env{{"MEDVAULT_STORE_URL", *url}};
  auto first = ServerProcess::Start(vault, env);
  auto second = ServerProcess::Start(vault, env);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(ReadyStatus(first->port(), vault), 200);
  EXPECT_EQ(ReadyStatus(second->port(), vault), 200);
  // Both created or found the same vault root: the store holds exactly one.
  auto roots = store::RunPsql(
      *url, "SELECT count(*) FROM patient_keys WHERE patient_id = 'medvault:derivation-root'");
  ASSERT_TRUE(roots) << roots.error().message();
  EXPECT_EQ(*roots, "1");
  auto status = RunMedvault({"keys", "status", "--dir", vault.string()}, env);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("wrapped under kek-1: 1"));
}

}  // namespace
}  // namespace medvault::testing
