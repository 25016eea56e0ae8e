#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace medvault {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup NoEnv() {
  return [](const char*) -> const char* { return nullptr; };
}

EnvLookup EnvOf(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    auto it = values.find(name);
    return it == values.end() ? nullptr : it->second.c_str();
  };
}

TEST(Config, EmptyFileGivesSafeDefaults) {
  auto config = ParseConfig("", "medvault.toml", "/vault", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.listen, "127.0.0.1:8443");
  EXPECT_TRUE(config->server.tls);
  EXPECT_EQ(config->server.max_header_bytes, 16u * 1024);
  EXPECT_EQ(config->keys.master_key_file, "/vault/keys/master.key");
  EXPECT_EQ(config->tls.certificate, "/vault/tls/cert.pem");
  EXPECT_EQ(config->store.url, "sqlite:/vault/data/medvault.db");
}

TEST(Config, SqliteCacheAndMapSizesHaveDefaultsAndCanBeSetOrTurnedOff) {
  auto defaults = ParseConfig("", "medvault.toml", "/vault", NoEnv());
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->store.sqlite_cache_mib, 2u);
  EXPECT_EQ(defaults->store.sqlite_mmap_mib, 0u);
  auto set = ParseConfig("[store]\nsqlite_cache_mib = 32\nsqlite_mmap_mib = 0\n", "medvault.toml",
                         "/vault", EnvOf({{"MEDVAULT_STORE_SQLITE_CACHE_MIB", "1024"}}));
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->store.sqlite_cache_mib, 1024u);  // the environment wins over the file
  EXPECT_EQ(set->store.sqlite_mmap_mib, 0u);
  auto negative =
      ParseConfig("[store]\nsqlite_cache_mib = -1\n", "medvault.toml", "/vault", NoEnv());
  EXPECT_FALSE(negative.has_value());
}

TEST(Config, StoreUrlsOtherThanRelativeSqlitePathsAreKeptAsGiven) {
  auto absolute = ParseConfig("[store]\nurl = \"sqlite:/srv/db.sqlite\"\n", "medvault.toml",
                              "/vault", NoEnv());
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->store.url, "sqlite:/srv/db.sqlite");
  auto postgres = ParseConfig("[store]\nurl = \"postgres://medvault@db.internal/medvault\"\n",
                              "medvault.toml", "/vault", NoEnv());
  ASSERT_TRUE(postgres);
  EXPECT_EQ(postgres->store.url, "postgres://medvault@db.internal/medvault");
}

TEST(Config, RenderedDefaultsParseBackToTheSameValues) {
  Config defaults = DefaultConfig("");
  std::string text = RenderConfigToml(defaults);
  auto config = ParseConfig(text, "medvault.toml", "/v", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.listen, defaults.server.listen);
  EXPECT_EQ(config->server.idle_timeout, defaults.server.idle_timeout);
  EXPECT_EQ(config->tls.private_key, "/v/tls/key.pem");
}

TEST(Config, RenderedPathsAreQuotedSoAnyPathRoundTrips) {
  Config config = DefaultConfig("");
  config.tls.certificate = "/etc/ssl/a \"quoted\" dir\\cert.pem";
  auto parsed = ParseConfig(RenderConfigToml(config), "medvault.toml", "/v", NoEnv());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->tls.certificate, config.tls.certificate);
}

TEST(Config, MisspeltKeyIsNamedWithASuggestion) {
  auto config = ParseConfig("[server]\nlisen = \"127.0.0.1:1\"\n", "v/medvault.toml", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(config.error().message(), HasSubstr("unknown key 'server.lisen'"));
  EXPECT_THAT(config.error().message(), HasSubstr("did you mean 'server.listen'"));
  EXPECT_THAT(config.error().message(), HasSubstr("v/medvault.toml"));
}

TEST(Config, UnknownSectionIsRefused) {
  auto config = ParseConfig("[sever]\nlisten = \"x\"\n", "medvault.toml", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("unknown key 'sever.listen'"));
}

TEST(Config, WrongTypeNamesKeyAndExpectedType) {
  auto config = ParseConfig("[server]\ntls = \"yes\"\n", "medvault.toml", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("'server.tls' must be a boolean"));
}

TEST(Config, SecondsAcceptFractions) {
  auto config = ParseConfig("[server]\nheader_timeout_seconds = 0.25\n", "f", "v", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.header_timeout, std::chrono::milliseconds(250));
}

TEST(Config, NegativeOrZeroTimeoutIsRefused) {
  auto config = ParseConfig("[server]\nidle_timeout_seconds = 0\n", "f", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("server.idle_timeout_seconds"));
}

TEST(Config, SyntaxErrorGivesFileLineAndColumn) {
  auto config = ParseConfig("[server\nlisten=1", "v/medvault.toml", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("v/medvault.toml:1:"));
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto config = ParseConfig("[server]\nlisten = \"127.0.0.1:1\"\n", "f", "v",
                            EnvOf({{"MEDVAULT_SERVER_LISTEN", "127.0.0.1:2"},
                                   {"MEDVAULT_SERVER_TLS", "false"}}));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->server.listen, "127.0.0.1:2");
  EXPECT_FALSE(config->server.tls);
}

TEST(Config, BadEnvironmentValueNamesTheVariable) {
  auto config = ParseConfig("", "f", "v", EnvOf({{"MEDVAULT_SERVER_MAX_BODY_BYTES", "lots"}}));
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("MEDVAULT_SERVER_MAX_BODY_BYTES"));
}

TEST(Config, MissingVaultSaysHowToCreateOne) {
  auto config = LoadConfig("/nonexistent/vault", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(config.error().message(), HasSubstr("medvault init --dir /nonexistent/vault"));
}

TEST(Config, MasterKeysComeFromTheKeyFileUnlessAPkcs11TokenIsConfigured) {
  auto defaults = ParseConfig("", "f", "/vault", NoEnv());
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->keys.source, KekSourceKind::kFile);
  EXPECT_FALSE(defaults->keys.pkcs11_module);
  EXPECT_FALSE(defaults->keys.pkcs11_token_label);
  EXPECT_FALSE(defaults->keys.pkcs11_slot);
  EXPECT_EQ(defaults->keys.pkcs11_key_label, "medvault-kek");
  EXPECT_FALSE(defaults->keys.pkcs11_pin_file);

  auto config = ParseConfig(
      "[keys]\nsource = \"pkcs11\"\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\n"
      "pkcs11_token_label = \"medvault\"\npkcs11_slot = 1794977385\n"
      "pkcs11_key_label = \"kek\"\npkcs11_pin_file = \"keys/token.pin\"\n",
      "f", "/vault", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->keys.source, KekSourceKind::kPkcs11);
  EXPECT_EQ(config->keys.pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(config->keys.pkcs11_token_label, "medvault");
  EXPECT_EQ(config->keys.pkcs11_slot, 1794977385u);
  EXPECT_EQ(config->keys.pkcs11_key_label, "kek");
  // Relative paths are inside the vault, like the key file.
  EXPECT_EQ(config->keys.pkcs11_pin_file, "/vault/keys/token.pin");
}

TEST(Config, UnknownKeySourceIsRefusedNamingTheChoices) {
  auto config = ParseConfig("[keys]\nsource = \"hsm\"\n", "f", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("'keys.source'"));
  EXPECT_THAT(config.error().message(), HasSubstr("\"pkcs11\""));
}

TEST(Config, RelativeModulePathIsInsideTheVaultNeverSearched) {
  auto config = ParseConfig("[keys]\npkcs11_module = \"lib/p11.so\"\n", "f", "/vault", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->keys.pkcs11_module, "/vault/lib/p11.so");
}

TEST(Config, ThePinItselfIsNotAConfigurationKey) {
  auto config = ParseConfig("[keys]\npkcs11_pin = \"1234\"\n", "f", "v", NoEnv());
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("unknown key 'keys.pkcs11_pin'"));
  EXPECT_THAT(config.error().message(), Not(HasSubstr("1234")));
}

TEST(Config, UnsetOptionalKeysAreWrittenCommentedOutAndReadBackUnset) {
  Config defaults = DefaultConfig("");
  std::string text = RenderConfigToml(defaults);
  EXPECT_THAT(text, HasSubstr("# pkcs11_slot = (not set)\n"));
  auto config = ParseConfig(text, "medvault.toml", "/v", NoEnv());
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_FALSE(config->keys.pkcs11_slot);
  EXPECT_FALSE(config->keys.pkcs11_module);

  defaults.keys.pkcs11_slot = 7;
  defaults.keys.pkcs11_token_label = "medvault";
  auto set = ParseConfig(RenderConfigToml(defaults), "medvault.toml", "/v", NoEnv());
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->keys.pkcs11_slot, 7u);
  EXPECT_EQ(set->keys.pkcs11_token_label, "medvault");
}

TEST(Config, EmptyEnvironmentValueUnsetsAnOptionalKey) {
  auto config = ParseConfig("[keys]\npkcs11_slot = 3\n", "f", "v",
                            EnvOf({{"MEDVAULT_KEYS_PKCS11_SLOT", ""},
                                   {"MEDVAULT_KEYS_SOURCE", "pkcs11"}}));
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_FALSE(config->keys.pkcs11_slot);
  EXPECT_EQ(config->keys.source, KekSourceKind::kPkcs11);
}

TEST(Config, EveryKeyIsDocumentedWithItsEnvironmentVariable) {
  auto docs = DescribeConfigKeys();
  ASSERT_GE(docs.size(), 10u);
  for (const auto& doc : docs) {
    EXPECT_FALSE(doc.description.empty()) << doc.name;
    EXPECT_TRUE(doc.env_var.starts_with("MEDVAULT_")) << doc.name;
  }
}

}  // namespace
}  // namespace medvault
