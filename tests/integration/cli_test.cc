// Bad use of the real `medvault` command: one clear line on stderr, exit code 2, never a
// crash or a stack trace.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// One line, no sanitizer report, no uncaught exception.
void ExpectOneCleanLine(const CommandResult& result) {
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("terminate called")));
  EXPECT_THAT(result.err, Not(HasSubstr("Sanitizer")));
  EXPECT_THAT(result.err, ::testing::StartsWith("medvault: "));
}

void ExpectBadUse(const CommandResult& result, const std::string& mentions) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  ExpectOneCleanLine(result);
  EXPECT_THAT(result.err, HasSubstr(mentions));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CliTest : public ::testing::Test {
 protected:
  fs::path MakeVault() {
    fs::path vault = dir_.path() / "vault";
    auto init = RunMedvault({"init", "--dir", vault.string()});
    EXPECT_EQ(init.exit_code, 0) << init.err;
    return vault;
  }
  // `serve` that is expected to refuse to start.
  CommandResult Serve(const fs::path& vault, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"serve", "--dir", vault.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--listen") == extra.end()) {
      args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    }
    return RunMedvault(args, {}, std::chrono::seconds(30));
  }
  TempDir dir_;
};

TEST_F(CliTest, InitCreatesTheVaultLayoutWithPrivateKeys) {
  fs::path vault = MakeVault();
  EXPECT_TRUE(fs::is_regular_file(vault / "medvault.toml"));
  EXPECT_TRUE(fs::is_directory(vault / "data"));
  EXPECT_TRUE(fs::is_regular_file(vault / "tls" / "cert.pem"));
  struct stat info {};
  ASSERT_EQ(::stat((vault / "keys").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((vault / "keys" / "master.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((vault / "tls" / "key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(CliTest, EachVaultGetsItsOwnMasterKey) {
  fs::path a = dir_.path() / "a";
  fs::path b = dir_.path() / "b";
  ASSERT_EQ(RunMedvault({"init", "--dir", a.string()}).exit_code, 0);
  ASSERT_EQ(RunMedvault({"init", "--dir", b.string()}).exit_code, 0);
  EXPECT_NE(ReadFile(a / "keys" / "master.key"), ReadFile(b / "keys" / "master.key"));
}

TEST_F(CliTest, InitRefusesToOverwriteAVault) {
  fs::path vault = MakeVault();
  std::string key_before = ReadFile(vault / "keys" / "master.key");
  ExpectBadUse(RunMedvault({"init", "--dir", vault.string()}), "refusing to overwrite");
  EXPECT_EQ(ReadFile(vault / "keys" / "master.key"), key_before);
}

TEST_F(CliTest, DemoCreatesAVaultToo) {
  fs::path vault = dir_.path() / "demo";
  // 300 patients with years of records under ASan: about 30 s on a loaded machine.
  auto demo = RunMedvault({"demo", "--dir", vault.string()}, {}, std::chrono::seconds(240));
  EXPECT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_TRUE(fs::is_regular_file(vault / "medvault.toml"));
  ExpectBadUse(RunMedvault({"demo", "--dir", vault.string()}), "refusing to overwrite");
}

TEST_F(CliTest, UnknownFlagIsOneLineAndExitCode2) {
  ExpectBadUse(RunMedvault({"serve", "--dir", "x", "--bogus"}), "--bogus");
  ExpectBadUse(RunMedvault({"frobnicate"}), "frobnicate");
  ExpectBadUse(RunMedvault({}), "subcommand");
}

TEST_F(CliTest, MissingVaultSaysHowToCreateOne) {
  fs::path missing = dir_.path() / "nowhere";
  ExpectBadUse(Serve(missing), "medvault init --dir " + missing.string());
}

TEST_F(CliTest, MisspeltConfigurationKeyIsNamed) {
  fs::path vault = MakeVault();
  std::string config = ReadFile(vault / "medvault.toml");
  auto at = config.find("\nlisten = ");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 10, "\nlisen = ");
  std::ofstream(vault / "medvault.toml") << config;
  ExpectBadUse(Serve(vault), "unknown key 'server.lisen'");
}

TEST_F(CliTest, KeyFileReadableByOthersRefusesToStart) {
  fs::path vault = MakeVault();
  ASSERT_EQ(::chmod((vault / "keys" / "master.key").c_str(), 0644), 0);
  auto result = Serve(vault);
  ExpectBadUse(result, "master.key");
  EXPECT_THAT(result.err, HasSubstr("0600"));
}

TEST_F(CliTest, UnreadableCertificateRefusesToStart) {
  fs::path vault = MakeVault();
  std::ofstream(vault / "tls" / "cert.pem", std::ios::trunc) << "not a certificate\n";
  ExpectBadUse(Serve(vault), "cert.pem");
}

TEST_F(CliTest, PortInUseRefusesToStart) {
  fs::path vault = MakeVault();
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::string listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  ExpectBadUse(Serve(vault, {"--listen", listen}), "address already in use");
  ::close(holder);
}

TEST_F(CliTest, BadListenValueIsNamed) {
  fs::path vault = MakeVault();
  ExpectBadUse(Serve(vault, {"--listen", "localhost"}), "'localhost' is not HOST:PORT");
}

TEST_F(CliTest, PlainHttpOffLoopbackIsRefused) {
  fs::path vault = MakeVault();
  auto result = RunMedvault({"serve", "--dir", vault.string(), "--listen", "0.0.0.0:0"},
                            {{"MEDVAULT_SERVER_TLS", "false"}});
  ExpectBadUse(result, "loopback");
}

TEST_F(CliTest, HelpOnEveryCommandExitsZero) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"init", "--help"}, {"serve", "--help"},
                                        {"demo", "--help"}, {"version", "--help"}}) {
    auto result = RunMedvault(args);
    EXPECT_EQ(result.exit_code, 0) << args[0];
    EXPECT_THAT(result.out, HasSubstr("Usage")) << args[0];
  }
  EXPECT_THAT(RunMedvault({"serve", "--help"}).out, HasSubstr("--listen"));
}

TEST_F(CliTest, VersionPrintsTheVersion) {
  auto result = RunMedvault({"version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, ::testing::MatchesRegex("medvault [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

}  // namespace
}  // namespace medvault::testing
