// The real `medvault` binary with its master keys on a SoftHSM2 token: init creates version 1
// on the token, serve runs on it, keys rotate adds version 2 on the token, rewraps, destroys
// version 1, and the server keeps serving and restarts on the new version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kPin = "2468-user-pin";

class Pkcs11CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kSoftHsmModule))
        << "SoftHSM2 is missing: install it with 'apt-get install softhsm2' (scripts/test does)";
    fs::create_directory(dir_.path() / "tokens");
    conf_ = dir_.path() / "softhsm2.conf";
    std::ofstream(conf_) << "directories.tokendir = " << (dir_.path() / "tokens").string()
                         << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    env_ = {{"SOFTHSM2_CONF", conf_.string()}, {"MEDVAULT_PKCS11_PIN", kPin}};
    std::string command = "SOFTHSM2_CONF='" + conf_.string() +
                          "' softhsm2-util --init-token --free --label medvault-test "
                          "--so-pin 1357-so-pin --pin " +
                          kPin + " >/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  unsigned short Ready(const ServerProcess& server) {
    TlsOptions tls;
    tls.trust = VaultCertificate(vault_);
    auto client = Client::Connect(server.port(), tls);
    if (!client) return 0;
    auto response = client->Get("/readyz");
    return response ? response->result_int() : 0;
  }

  TempDir dir_;
  fs::path conf_;
  fs::path vault_ = dir_.path() / "vault";
  Env env_;
};

TEST_F(Pkcs11CliTest, AVaultOnATokenServesAndRotatesWithoutAKeyFile) {
  auto init = RunMedvault({"init", "--dir", vault_.string(), "--pkcs11-module", kSoftHsmModule,
                           "--pkcs11-token-label", "medvault-test"},
                          env_);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_FALSE(fs::exists(vault_ / "keys" / "master.key"));
  std::stringstream config;
  config << std::ifstream(vault_ / "medvault.toml").rdbuf();
  EXPECT_THAT(config.str(), HasSubstr("source = 'pkcs11'"));
  EXPECT_THAT(config.str(), ::testing::Not(HasSubstr(kPin)));

  auto server = ServerProcess::Start(vault_, env_);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Ready(*server), 200);

  auto rotate = RunMedvault({"keys", "rotate", "--dir", vault_.string()}, env_);
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_THAT(rotate.out, HasSubstr("added master key version 2"));
  EXPECT_THAT(rotate.out, HasSubstr("rotation complete"));
  auto status = RunMedvault({"keys", "status", "--dir", vault_.string()}, env_);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("PKCS#11 token medvault-test"));
  EXPECT_THAT(status.out, HasSubstr("loaded versions: 2 (active 2)"));
  EXPECT_THAT(status.out, HasSubstr("wrapped under kek-2: 1"));
  EXPECT_EQ(Ready(*server), 200);

  server->Signal(SIGTERM);
  ASSERT_EQ(server->Wait(std::chrono::seconds(15)), 0);
  auto restarted = ServerProcess::Start(vault_, env_);
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(Ready(*restarted), 200);
}

TEST_F(Pkcs11CliTest, AWrongPinOrTokenRefusesWithoutQuotingThePin) {
  ASSERT_EQ(RunMedvault({"init", "--dir", vault_.string(), "--pkcs11-module", kSoftHsmModule,
                         "--pkcs11-token-label", "medvault-test"},
                        env_)
                .exit_code,
            0);
  Env wrong = env_;
  wrong["MEDVAULT_PKCS11_PIN"] = "9999-wrong-pin";
  auto serve = RunMedvault({"serve", "--dir", vault_.string(), "--listen", "127.0.0.1:0"}, wrong);
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_THAT(serve.err, HasSubstr("medvault-test"));
  EXPECT_THAT(serve.err, ::testing::Not(HasSubstr("9999-wrong-pin")));

  auto missing = RunMedvault({"init", "--dir", (dir_.path() / "other").string(), "--pkcs11-module",
                              kSoftHsmModule, "--pkcs11-token-label", "no-such-token"},
                             env_);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no-such-token"));
  EXPECT_FALSE(fs::exists(dir_.path() / "other"));
}

}  // namespace
}  // namespace medvault::testing
