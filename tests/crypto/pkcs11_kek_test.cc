// The PKCS#11 master key source against a real SoftHSM2 token. Every test gets throwaway
// tokens in its own directory (SOFTHSM2_CONF points SoftHSM2 there), so tests never share a
// token and can run in parallel.
#include "crypto/pkcs11_kek.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <p11-kit/pkcs11.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keyring.h"
#include "crypto/master_key_file.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_bytes::FromText;

// Debian's softhsm2 (through libsofthsm2) installs the module here on every architecture.
constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kSoftHsmUtil = "/usr/bin/softhsm2-util";
constexpr const char* kPin = "4711-user-pin";
constexpr const char* kSoPin = "so-pin-0815";

EnvLookup NoEnv() {
  return [](const char*) -> const char* { return nullptr; };
}

Secret SecretOf(std::string_view text) { return std::move(*Secret::CopyOf(FromText(text))); }

// Direct PKCS#11 access to the same SoftHSM2 module, for what medvault itself never does:
// reading a key's attributes, planting a badly made key, dropping sessions behind its back.
// It initializes the module only if nobody in the process has, and then finalizes it too.
class RawModule {
 public:
  RawModule() {
    library_ = ::dlopen(kSoftHsmModule, RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr) return;
    auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library_, "C_GetFunctionList"));
    if (get == nullptr || get(&api_) != CKR_OK) return;
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = api_->C_Initialize(&args);
    finalize_ = rv == CKR_OK;
    ok_ = rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED;
  }
  ~RawModule() {
    if (finalize_) api_->C_Finalize(nullptr);
    if (library_ != nullptr) ::dlclose(library_);
  }

  bool ok() const { return ok_; }
  CK_FUNCTION_LIST* api() const { return api_; }

  // The slot of the token labelled `label`, or CK_INVALID_HANDLE.
  CK_SLOT_ID SlotOf(const std::string& label) const {
    CK_SLOT_ID slots[16];
    CK_ULONG count = 16;
    if (api_->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return CK_INVALID_HANDLE;
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (api_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      std::string padded(reinterpret_cast<const char*>(info.label), sizeof info.label);
      if (padded.substr(0, padded.find_last_not_of(' ') + 1) == label) return slots[i];
    }
    return CK_INVALID_HANDLE;
  }

  // A read-write session on the token, logged in as its user.
  CK_SESSION_HANDLE UserSession(const std::string& label) const {
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    EXPECT_EQ(api_->C_OpenSession(SlotOf(label), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                  nullptr, &session),
              CKR_OK);
    CK_RV rv =
        api_->C_Login(session, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(kPin)),
                      std::strlen(kPin));
    EXPECT_TRUE(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) << rv;
    return session;
  }

  // The handle of the secret key labelled `label`, or CK_INVALID_HANDLE.
  CK_OBJECT_HANDLE KeyLabelled(CK_SESSION_HANDLE session, const std::string& label) const {
    CK_ATTRIBUTE query{CKA_LABEL, const_cast<char*>(label.data()), label.size()};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    api_->C_FindObjectsInit(session, &query, 1);
    api_->C_FindObjects(session, &key, 1, &count);
    api_->C_FindObjectsFinal(session);
    return count == 1 ? key : CK_INVALID_HANDLE;
  }

 private:
  void* library_ = nullptr;
  CK_FUNCTION_LIST* api_ = nullptr;
  bool finalize_ = false;
  bool ok_ = false;
};

class Pkcs11KekTest : public testing::Test {
 protected:
  void SetUp() override {
    // SoftHSM2 is a test dependency like PostgreSQL: its absence is a failure to fix, never a
    // reason to skip the only tests of the PKCS#11 path.
    ASSERT_TRUE(fs::exists(kSoftHsmModule) && fs::exists(kSoftHsmUtil))
        << "SoftHSM2 is not installed (no " << kSoftHsmModule << " or " << kSoftHsmUtil
        << "): install it with 'apt-get install softhsm2' (scripts/test does)";
    std::string pattern = (fs::temp_directory_path() / "medvault-softhsm-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directory(dir_ / "tokens");
    const fs::path conf = dir_ / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
                        << "objectstore.backend = file\n"
                        << "log.level = ERROR\n"
                        << "slots.removable = false\n";
    // Read by SoftHSM2 at C_Initialize, which the code under test calls.
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  }

  void TearDown() override {
    ::unsetenv("SOFTHSM2_CONF");
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Initializes a fresh token with the test PINs, as an operator would.
  void InitToken(const std::string& label) {
    const fs::path log = dir_ / "softhsm2-util.log";
    std::string command = std::string(kSoftHsmUtil) + " --init-token --free --label '" + label +
                          "' --so-pin " + kSoPin + " --pin " + kPin + " > '" + log.string() +
                          "' 2>&1";
    int status = std::system(command.c_str());
    std::stringstream output;
    output << std::ifstream(log).rdbuf();
    ASSERT_EQ(status, 0) << command << "\n" << output.str();
  }

  Pkcs11Options OptionsFor(const std::string& token_label) const {
    Pkcs11Options options;
    options.module = kSoftHsmModule;
    options.token_label = token_label;
    return options;
  }

  // A token with key versions 1..`versions`, made by the function `medvault keys` will use.
  Pkcs11Options TokenWithVersions(const std::string& label, std::uint32_t versions) {
    InitToken(label);
    return AddVersions(OptionsFor(label), versions);
  }

  static Pkcs11Options AddVersions(Pkcs11Options options, std::uint32_t versions) {
    for (std::uint32_t expected = 1; expected <= versions; ++expected) {
      auto created = CreatePkcs11KekVersion(options, SecretOf(kPin));
      EXPECT_EQ(created.value_or(0), expected) << (created ? "" : created.error().message());
    }
    return options;
  }

  static std::unique_ptr<Keyring> LoadKeyring(const Pkcs11Options& options) {
    Pkcs11KekSource source(options, SecretOf(kPin));
    auto keyring = Keyring::Load(source);
    EXPECT_TRUE(keyring) << keyring.error().message();
    return keyring ? std::move(*keyring) : nullptr;
  }

  static Secret DataKey() { return std::move(*Secret::Random(32)); }

  fs::path dir_;
};

TEST_F(Pkcs11KekTest, WrapThenUnwrapGivesTheKeyBack) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 1));
  ASSERT_TRUE(keyring);
  const Secret key = DataKey();
  const auto associated = FromText("patient-1|dek|v1");
  auto wrapped = keyring->active().Wrap(key, associated);
  ASSERT_TRUE(wrapped) << wrapped.error().message();
  // IV || ciphertext || tag.
  EXPECT_EQ(wrapped->size(), 12u + 32u + 16u);
  auto unwrapped = keyring->active().Unwrap(*wrapped, associated);
  ASSERT_TRUE(unwrapped) << unwrapped.error().message();
  EXPECT_TRUE(unwrapped->Equals(key));
}

TEST_F(Pkcs11KekTest, EveryWrapHasAFreshIvAndDoesNotShowTheKey) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 1));
  ASSERT_TRUE(keyring);
  const Secret key = DataKey();
  auto first = keyring->active().Wrap(key, FromText("ad"));
  auto second = keyring->active().Wrap(key, FromText("ad"));
  ASSERT_TRUE(first && second);
  EXPECT_NE(std::vector(first->begin(), first->begin() + 12),
            std::vector(second->begin(), second->begin() + 12));
  EXPECT_NE(*first, *second);
  const auto bytes = key.bytes();
  EXPECT_EQ(std::search(first->begin(), first->end(), bytes.begin(), bytes.begin() + 8),
            first->end());
}

TEST_F(Pkcs11KekTest, UnwrapWithOtherAssociatedDataIsDataLoss) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 1));
  ASSERT_TRUE(keyring);
  auto wrapped = keyring->active().Wrap(DataKey(), FromText("patient-1"));
  ASSERT_TRUE(wrapped);
  auto unwrapped = keyring->active().Unwrap(*wrapped, FromText("patient-2"));
  ASSERT_FALSE(unwrapped);
  EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(unwrapped.error().message(), HasSubstr("medvault-kek-1"));
}

TEST_F(Pkcs11KekTest, AlteredOrTruncatedWrapIsDataLoss) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 1));
  ASSERT_TRUE(keyring);
  const auto associated = FromText("patient-1");
  auto wrapped = keyring->active().Wrap(DataKey(), associated);
  ASSERT_TRUE(wrapped);
  // One flipped bit in the IV, in the ciphertext, and in the tag.
  for (std::size_t position : {std::size_t{0}, std::size_t{11}, std::size_t{12}, std::size_t{43},
                               std::size_t{44}, wrapped->size() - 1}) {
    auto altered = *wrapped;
    altered[position] ^= 0x01;
    auto unwrapped = keyring->active().Unwrap(altered, associated);
    ASSERT_FALSE(unwrapped) << "byte " << position;
    EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss) << unwrapped.error().message();
  }
  for (std::size_t size : {std::size_t{0}, std::size_t{27}, std::size_t{28}, wrapped->size() - 1}) {
    auto unwrapped = keyring->active().Unwrap(std::span(*wrapped).first(size), associated);
    ASSERT_FALSE(unwrapped) << "size " << size;
    EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
  }
  // The token is still fine after all those failures.
  EXPECT_TRUE(keyring->active().Unwrap(*wrapped, associated));
}

TEST_F(Pkcs11KekTest, KeyringActiveVersionIsTheNewestOnTheToken) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 3));
  ASSERT_TRUE(keyring);
  EXPECT_EQ(keyring->active_version(), 3u);
  EXPECT_EQ(keyring->versions(), (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST_F(Pkcs11KekTest, WrapUnderVersionOneStillOpensAfterVersionTwoIsAdded) {
  const Pkcs11Options options = TokenWithVersions("medvault", 1);
  const Secret key = DataKey();
  const auto associated = FromText("patient-1");
  std::vector<std::uint8_t> wrapped;
  {
    auto before = LoadKeyring(options);
    ASSERT_TRUE(before);
    auto made = before->active().Wrap(key, associated);
    ASSERT_TRUE(made);
    wrapped = *made;
  }
  auto created = CreatePkcs11KekVersion(options, SecretOf(kPin));
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(*created, 2u);

  auto after = LoadKeyring(options);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->active_version(), 2u);
  auto one = after->Find(1);
  ASSERT_TRUE(one);
  auto unwrapped = (*one)->Unwrap(wrapped, associated);
  ASSERT_TRUE(unwrapped) << unwrapped.error().message();
  EXPECT_TRUE(unwrapped->Equals(key));
  // Version 2 is another key: it does not open what version 1 wrapped.
  auto under_two = after->active().Unwrap(wrapped, associated);
  ASSERT_FALSE(under_two);
  EXPECT_EQ(under_two.error().code(), ErrorCode::kDataLoss);
}

TEST_F(Pkcs11KekTest, WrapByOneTokensKeyDoesNotOpenUnderAnotherTokensKey) {
  // SoftHSM2 sees the tokens that exist when it is initialized, so both are made first.
  InitToken("alpha");
  InitToken("beta");
  auto alpha = LoadKeyring(AddVersions(OptionsFor("alpha"), 1));
  auto beta = LoadKeyring(AddVersions(OptionsFor("beta"), 1));
  ASSERT_TRUE(alpha && beta);
  const Secret key = DataKey();
  auto wrapped = alpha->active().Wrap(key, FromText("ad"));
  ASSERT_TRUE(wrapped);
  // Same label, same version, another token: another key.
  auto unwrapped = beta->active().Unwrap(*wrapped, FromText("ad"));
  ASSERT_FALSE(unwrapped);
  EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(unwrapped.error().message(), HasSubstr("'beta'"));
  EXPECT_TRUE(alpha->active().Unwrap(*wrapped, FromText("ad")));
}

TEST_F(Pkcs11KekTest, WrongPinIsPermissionDeniedNamingTheTokenButNotThePin) {
  const Pkcs11Options options = TokenWithVersions("medvault", 1);
  Pkcs11KekSource source(options, SecretOf("wrong-pin-31337"));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(keks.error().message(), HasSubstr("wrong PIN"));
  EXPECT_THAT(keks.error().message(), HasSubstr("'medvault'"));
  EXPECT_THAT(keks.error().message(), Not(HasSubstr("31337")));
  EXPECT_THAT(keks.error().message(), Not(HasSubstr(kPin)));
}

TEST_F(Pkcs11KekTest, UnknownTokenLabelIsNotFoundNamingItAndTheTokensPresent) {
  const Pkcs11Options present = TokenWithVersions("medvault", 1);
  Pkcs11KekSource source(OptionsFor("elsewhere"), SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(keks.error().message(), HasSubstr("'elsewhere'"));
  EXPECT_THAT(keks.error().message(), HasSubstr("'medvault'"));
  EXPECT_THAT(keks.error().message(), HasSubstr(kSoftHsmModule));
}

TEST_F(Pkcs11KekTest, MissingModuleIsUnavailableNamingItsPath) {
  Pkcs11Options options = OptionsFor("medvault");
  options.module = dir_ / "no-such-pkcs11-module.so";
  Pkcs11KekSource source(options, SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(keks.error().message(), HasSubstr("cannot load PKCS#11 module"));
  EXPECT_THAT(keks.error().message(), HasSubstr((dir_ / "no-such-pkcs11-module.so").string()));
}

TEST_F(Pkcs11KekTest, LibraryThatIsNotAPkcs11ModuleIsRefused) {
  // libsodium: a shared library that is surely there, and surely not a PKCS#11 module.
  Dl_info sodium{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&sodium_init), &sodium), 0);
  Pkcs11Options options = OptionsFor("medvault");
  options.module = fs::absolute(sodium.dli_fname);
  Pkcs11KekSource source(options, SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(keks.error().message(), HasSubstr("is not a PKCS#11 module"));
  EXPECT_THAT(keks.error().message(), HasSubstr(options.module.string()));
}

TEST_F(Pkcs11KekTest, RelativeModulePathIsRefusedRatherThanSearched) {
  Pkcs11Options options = OptionsFor("medvault");
  options.module = "libsofthsm2.so";
  Pkcs11KekSource source(options, SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(keks.error().message(), HasSubstr("absolute"));
}

TEST_F(Pkcs11KekTest, TokenWithoutKeysIsNotFoundNamingTheKeyLabel) {
  InitToken("medvault");
  Pkcs11KekSource source(OptionsFor("medvault"), SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(keks.error().message(), HasSubstr("medvault-kek-1"));
  EXPECT_THAT(keks.error().message(), HasSubstr("'medvault'"));
}

TEST_F(Pkcs11KekTest, KeysWithAnotherLabelAreNotVersions) {
  Pkcs11Options options = TokenWithVersions("medvault", 2);
  options.key_label = "other-kek";
  ASSERT_TRUE(CreatePkcs11KekVersion(options, SecretOf(kPin)));
  auto other = LoadKeyring(options);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->versions(), (std::vector<std::uint32_t>{1}));
  options.key_label = "medvault-kek";
  auto mine = LoadKeyring(options);
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->versions(), (std::vector<std::uint32_t>{1, 2}));
}

TEST_F(Pkcs11KekTest, TokenIsFoundBySlotAndASlotHoldingAnotherTokenIsRefused) {
  const Pkcs11Options by_label = TokenWithVersions("alpha", 1);
  InitToken("beta");
  RawModule raw;
  ASSERT_TRUE(raw.ok());
  const CK_SLOT_ID alpha_slot = raw.SlotOf("alpha");
  ASSERT_NE(alpha_slot, CK_INVALID_HANDLE);

  Pkcs11Options by_slot;
  by_slot.module = kSoftHsmModule;
  by_slot.slot = alpha_slot;
  auto keyring = LoadKeyring(by_slot);
  ASSERT_TRUE(keyring);
  EXPECT_EQ(keyring->active_version(), 1u);

  by_slot.token_label = "beta";
  Pkcs11KekSource mismatched(by_slot, SecretOf(kPin));
  auto keks = mismatched.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(keks.error().message(), HasSubstr("holds token 'alpha', not 'beta'"));
}

TEST_F(Pkcs11KekTest, CreatedKeyCannotBeReadOffTheToken) {
  const Pkcs11Options options = TokenWithVersions("medvault", 1);
  auto keyring = LoadKeyring(options);
  ASSERT_TRUE(keyring);
  RawModule raw;
  ASSERT_TRUE(raw.ok());
  CK_SESSION_HANDLE session = raw.UserSession("medvault");
  CK_OBJECT_HANDLE key = raw.KeyLabelled(session, "medvault-kek-1");
  ASSERT_NE(key, CK_INVALID_HANDLE);

  std::uint8_t value[64];
  CK_ATTRIBUTE read_value{CKA_VALUE, value, sizeof value};
  EXPECT_EQ(raw.api()->C_GetAttributeValue(session, key, &read_value, 1), CKR_ATTRIBUTE_SENSITIVE);
  CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE, on_token = CK_FALSE, wrap = CK_TRUE;
  CK_ATTRIBUTE flags[] = {{CKA_EXTRACTABLE, &extractable, sizeof extractable},
                          {CKA_SENSITIVE, &sensitive, sizeof sensitive},
                          {CKA_TOKEN, &on_token, sizeof on_token},
                          {CKA_WRAP, &wrap, sizeof wrap}};
  ASSERT_EQ(raw.api()->C_GetAttributeValue(session, key, flags, std::size(flags)), CKR_OK);
  EXPECT_EQ(extractable, CK_FALSE);
  EXPECT_EQ(sensitive, CK_TRUE);
  EXPECT_EQ(on_token, CK_TRUE);
  EXPECT_EQ(wrap, CK_FALSE);
  raw.api()->C_CloseSession(session);
}

TEST_F(Pkcs11KekTest, KeyWhoseBytesCanBeReadIsRefusedAsAMasterKey) {
  InitToken("medvault");
  RawModule raw;
  ASSERT_TRUE(raw.ok());
  CK_SESSION_HANDLE session = raw.UserSession("medvault");
  CK_OBJECT_CLASS secret_key = CKO_SECRET_KEY;
  CK_KEY_TYPE aes = CKK_AES;
  CK_ULONG length = 32;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::string label = "medvault-kek-1";
  CK_ATTRIBUTE attributes[] = {{CKA_CLASS, &secret_key, sizeof secret_key},
                               {CKA_KEY_TYPE, &aes, sizeof aes},
                               {CKA_VALUE_LEN, &length, sizeof length},
                               {CKA_LABEL, label.data(), label.size()},
                               {CKA_TOKEN, &yes, sizeof yes},
                               {CKA_SENSITIVE, &no, sizeof no},
                               {CKA_ENCRYPT, &yes, sizeof yes},
                               {CKA_DECRYPT, &yes, sizeof yes}};
  CK_MECHANISM generate{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  ASSERT_EQ(raw.api()->C_GenerateKey(session, &generate, attributes, std::size(attributes), &key),
            CKR_OK);
  raw.api()->C_CloseSession(session);

  Pkcs11KekSource source(OptionsFor("medvault"), SecretOf(kPin));
  auto keks = source.Load();
  ASSERT_FALSE(keks);
  EXPECT_EQ(keks.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(keks.error().message(), HasSubstr("'medvault-kek-1'"));
  EXPECT_THAT(keks.error().message(), HasSubstr("not sensitive"));
}

TEST_F(Pkcs11KekTest, DestroyRetiresAnOldVersionButNeverTheActiveOne) {
  const Pkcs11Options options = TokenWithVersions("medvault", 2);
  std::vector<std::uint8_t> wrapped;
  {
    auto keyring = LoadKeyring(options);
    ASSERT_TRUE(keyring);
    auto made = (*keyring->Find(1))->Wrap(DataKey(), FromText("ad"));
    ASSERT_TRUE(made);
    wrapped = *made;
  }
  auto active = DestroyPkcs11KekVersion(options, SecretOf(kPin), 2);
  ASSERT_FALSE(active);
  EXPECT_EQ(active.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(active.error().message(), HasSubstr("'medvault-kek-2'"));
  auto missing = DestroyPkcs11KekVersion(options, SecretOf(kPin), 7);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("'medvault-kek-7'"));

  auto retired = DestroyPkcs11KekVersion(options, SecretOf(kPin), 1);
  ASSERT_TRUE(retired) << retired.error().message();
  auto keyring = LoadKeyring(options);
  ASSERT_TRUE(keyring);
  EXPECT_EQ(keyring->versions(), (std::vector<std::uint32_t>{2}));
  EXPECT_FALSE(keyring->Find(1));
  // Retiring never reuses a number: the next version is 3, not 1 or 2.
  auto next = CreatePkcs11KekVersion(options, SecretOf(kPin));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 3u);
}

TEST_F(Pkcs11KekTest, SeveralThreadsWrapAndUnwrapAtOnce) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 2));
  ASSERT_TRUE(keyring);
  // More threads than the token keeps sessions, so some wait for a free one.
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Kek& kek = t % 2 == 0 ? keyring->active() : **keyring->Find(1);
      for (int round = 0; round < kRounds; ++round) {
        const Secret key = DataKey();
        const auto associated = FromText("patient-" + std::to_string(t * 1000 + round));
        auto wrapped = kek.Wrap(key, associated);
        if (!wrapped) {
          ++failures;
          continue;
        }
        auto unwrapped = kek.Unwrap(*wrapped, associated);
        if (!unwrapped || !unwrapped->Equals(key)) ++failures;
        // A failing unwrap on one thread must not disturb the others' sessions.
        if (kek.Unwrap(*wrapped, FromText("other"))) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(Pkcs11KekTest, KeepsWorkingAfterTheTokenDroppedEverySession) {
  auto keyring = LoadKeyring(TokenWithVersions("medvault", 1));
  ASSERT_TRUE(keyring);
  const Secret key = DataKey();
  auto wrapped = keyring->active().Wrap(key, FromText("ad"));
  ASSERT_TRUE(wrapped);
  {
    // What a token reset or a lost HSM connection looks like: every session of this process
    // on the slot is gone, and with them the login.
    RawModule raw;
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(raw.api()->C_CloseAllSessions(raw.SlotOf("medvault")), CKR_OK);
  }
  auto unwrapped = keyring->active().Unwrap(*wrapped, FromText("ad"));
  ASSERT_TRUE(unwrapped) << unwrapped.error().message();
  EXPECT_TRUE(unwrapped->Equals(key));
  EXPECT_TRUE(keyring->active().Wrap(key, FromText("ad")));
}

TEST_F(Pkcs11KekTest, KeksOutliveTheirSource) {
  std::vector<std::unique_ptr<Kek>> keks;
  {
    Pkcs11KekSource source(TokenWithVersions("medvault", 1), SecretOf(kPin));
    auto loaded = source.Load();
    ASSERT_TRUE(loaded) << loaded.error().message();
    keks = std::move(*loaded);
  }
  ASSERT_EQ(keks.size(), 1u);
  const Secret key = DataKey();
  auto wrapped = keks[0]->Wrap(key, FromText("ad"));
  ASSERT_TRUE(wrapped) << wrapped.error().message();
  auto unwrapped = keks[0]->Unwrap(*wrapped, FromText("ad"));
  ASSERT_TRUE(unwrapped);
  EXPECT_TRUE(unwrapped->Equals(key));
}

// MakeKekSource: the configuration picks the source, and the PIN never comes from the file.
class KekSourceConfigTest : public Pkcs11KekTest {
 protected:
  KeysConfig Pkcs11Keys(const std::string& token_label) const {
    KeysConfig keys;
    keys.source = KekSourceKind::kPkcs11;
    keys.pkcs11_module = kSoftHsmModule;
    keys.pkcs11_token_label = token_label;
    return keys;
  }

  fs::path WritePinFile(const std::string& contents, mode_t mode) const {
    const fs::path path = dir_ / "token.pin";
    std::ofstream(path) << contents;
    ::chmod(path.c_str(), mode);
    return path;
  }
};

TEST_F(KekSourceConfigTest, FileSourceReadsTheMasterKeyFile) {
  KeysConfig keys;
  keys.master_key_file = dir_ / "master.key";
  ASSERT_TRUE(CreateMasterKeyFile(keys.master_key_file));
  auto source = MakeKekSource(keys, NoEnv());
  ASSERT_TRUE(source) << source.error().message();
  auto keyring = Keyring::Load(**source);
  ASSERT_TRUE(keyring) << keyring.error().message();
  EXPECT_EQ((*keyring)->active_version(), 1u);
}

TEST_F(KekSourceConfigTest, Pkcs11SourceWithAPinFileOpensTheToken) {
  TokenWithVersions("medvault", 2);
  KeysConfig keys = Pkcs11Keys("medvault");
  // The newline an editor leaves is not part of the PIN.
  keys.pkcs11_pin_file = WritePinFile(std::string(kPin) + "\n", 0600);
  auto source = MakeKekSource(keys, NoEnv());
  ASSERT_TRUE(source) << source.error().message();
  auto keyring = Keyring::Load(**source);
  ASSERT_TRUE(keyring) << keyring.error().message();
  EXPECT_EQ((*keyring)->active_version(), 2u);
}

TEST_F(KekSourceConfigTest, Pkcs11SourceTakesThePinFromTheEnvironment) {
  TokenWithVersions("medvault", 1);
  auto source = MakeKekSource(Pkcs11Keys("medvault"), [](const char* name) -> const char* {
    return std::string_view(name) == kPkcs11PinVariable ? kPin : nullptr;
  });
  ASSERT_TRUE(source) << source.error().message();
  EXPECT_TRUE(Keyring::Load(**source));
}

TEST_F(KekSourceConfigTest, PinFileOthersCanReadIsRefusedNamingTheFile) {
  KeysConfig keys = Pkcs11Keys("medvault");
  keys.pkcs11_pin_file = WritePinFile(kPin, 0644);
  auto source = MakeKekSource(keys, NoEnv());
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(source.error().message(), HasSubstr(keys.pkcs11_pin_file->string()));
  EXPECT_THAT(source.error().message(), HasSubstr("0644"));
  EXPECT_THAT(source.error().message(), Not(HasSubstr(kPin)));
}

TEST_F(KekSourceConfigTest, PinMustComeFromExactlyOnePlace) {
  KeysConfig keys = Pkcs11Keys("medvault");
  auto none = MakeKekSource(keys, NoEnv());
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().message(), HasSubstr("keys.pkcs11_pin_file"));
  EXPECT_THAT(none.error().message(), HasSubstr("MEDVAULT_PKCS11_PIN"));

  keys.pkcs11_pin_file = WritePinFile(kPin, 0600);
  auto both = MakeKekSource(keys, [](const char*) -> const char* { return kPin; });
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(both.error().message(), Not(HasSubstr(kPin)));

  keys.pkcs11_pin_file = WritePinFile("\n", 0600);
  auto empty = MakeKekSource(keys, NoEnv());
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), HasSubstr("empty"));
}

TEST_F(KekSourceConfigTest, Pkcs11SourceNeedsAModuleAndAToken) {
  KeysConfig keys = Pkcs11Keys("medvault");
  auto env = [](const char*) -> const char* { return kPin; };
  keys.pkcs11_module.reset();
  auto no_module = MakeKekSource(keys, env);
  ASSERT_FALSE(no_module);
  EXPECT_THAT(no_module.error().message(), HasSubstr("keys.pkcs11_module"));

  keys = Pkcs11Keys("medvault");
  keys.pkcs11_token_label.reset();
  auto no_token = MakeKekSource(keys, env);
  ASSERT_FALSE(no_token);
  EXPECT_THAT(no_token.error().message(), HasSubstr("keys.pkcs11_token_label"));

  keys = Pkcs11Keys(std::string(33, 'x'));
  auto long_label = MakeKekSource(keys, env);
  ASSERT_FALSE(long_label);
  EXPECT_THAT(long_label.error().message(), HasSubstr("32"));
}

}  // namespace
}  // namespace medvault::crypto
