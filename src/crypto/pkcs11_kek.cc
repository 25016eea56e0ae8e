#include "crypto/pkcs11_kek.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <p11-kit/pkcs11.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "crypto/private_file.h"

namespace medvault::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kIvBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr CK_ULONG kKeyBytes = 32;
// PKCS#11 token labels are 32 bytes, padded with blanks.
constexpr std::size_t kTokenLabelBytes = 32;
// Sessions one token keeps open for concurrent wraps; more threads wait for one to be free.
// HSMs limit sessions per token, so this stays small.
constexpr std::size_t kMaxSessions = 4;
// A PIN file holds a PIN; anything larger is not a PIN file.
constexpr std::size_t kMaxPinFileBytes = 1024;

// The name of a PKCS#11 return value, for error messages an operator can look up.
std::string RvName(CK_RV rv) {
  static constexpr std::pair<CK_RV, std::string_view> kNames[] = {
      {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
      {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
      {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
      {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
      {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
      {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
      {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
      {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
      {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
      {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
      {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
      {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
      {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
      {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
      {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
      {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
      {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
      {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
      {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
      {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
      {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
      {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
      {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
      {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
  };
  for (const auto& [value, name] : kNames) {
    if (value == rv) return std::string(name);
  }
  return fmt::format("CKR 0x{:x}", rv);
}

// Errors after which the session (and the key handles seen through it) cannot be trusted,
// but a new session may work: the token was reset, or the module dropped our sessions.
bool SessionLost(CK_RV rv) {
  switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
      return true;
    default:
      return false;
  }
}

std::string TrimBlanks(const unsigned char* text, std::size_t size) {
  std::string out(reinterpret_cast<const char*>(text), size);
  out.erase(out.find_last_not_of(std::string_view(" \0", 2)) + 1);
  return out;
}

// A loaded module. PKCS#11 allows one C_Initialize per module and process, so every token
// opened through the same module shares one Module, and the last one to let go finalizes it
// (that also frees what the module allocated, which a leak checker would otherwise report).
class Module {
 public:
  // The module at `path`, loaded and initialized on first use.
  static Result<std::shared_ptr<const Module>> Acquire(const fs::path& path);

  CK_FUNCTION_LIST* api() const { return api_; }
  const std::string& path() const { return path_; }

 private:
  Module(std::string path, void* library, CK_FUNCTION_LIST* api, bool finalize)
      : path_(std::move(path)), library_(library), api_(api), finalize_(finalize) {}
  static void Release(const std::string& key);

  // Loaded modules by path, with the number of users of each. A plain count under one mutex
  // (not weak pointers) so that a module being finalized is never handed to a new user.
  static std::mutex& RegistryMutex() {
    static std::mutex mutex;
    return mutex;
  }
  // Never destroyed, so a KEK released during static destruction still finds its module.
  static std::map<std::string, std::pair<Module*, std::size_t>>& Registry() {
    static auto* registry = new std::map<std::string, std::pair<Module*, std::size_t>>();
    return *registry;
  }

  std::string path_;
  void* library_;
  CK_FUNCTION_LIST* api_;
  // False if someone else in the process had initialized the module: it is theirs to finalize.
  bool finalize_;
};

Result<std::shared_ptr<const Module>> Module::Acquire(const fs::path& path) {
  const std::string name = path.string();
  if (!path.is_absolute()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PKCS#11 module {} must be an absolute path", name));
  }
  std::error_code ignored;
  fs::path canonical = fs::canonical(path, ignored);
  const std::string key = canonical.empty() ? name : canonical.string();

  std::lock_guard lock(RegistryMutex());
  auto& registry = Registry();
  Module* module = nullptr;
  if (auto found = registry.find(key); found != registry.end()) {
    module = found->second.first;
    ++found->second.second;
  } else {
    // RTLD_LOCAL keeps the module's symbols (it may bundle its own crypto library) out of ours.
    void* library = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* reason = ::dlerror();
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cannot load PKCS#11 module {}: {}", name,
                              reason != nullptr ? reason : "unknown reason"));
    }
    auto get_function_list =
        reinterpret_cast<CK_C_GetFunctionList>(::dlsym(library, "C_GetFunctionList"));
    CK_FUNCTION_LIST* api = nullptr;
    if (get_function_list == nullptr || get_function_list(&api) != CKR_OK || api == nullptr) {
      ::dlclose(library);
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} is not a PKCS#11 module (no usable C_GetFunctionList)", name));
    }
    // The module may use its own threads and the operating system's locks: medvault calls it
    // from several threads at once (on different sessions).
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = api->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ::dlclose(library);
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("PKCS#11 module {} failed to initialize: {}", name, RvName(rv)));
    }
    module = new Module(name, library, api, rv == CKR_OK);
    registry.emplace(key, std::make_pair(module, std::size_t{1}));
  }
  return std::shared_ptr<const Module>(module, [key](const Module*) { Release(key); });
}

void Module::Release(const std::string& key) {
  std::lock_guard lock(RegistryMutex());
  auto& registry = Registry();
  auto found = registry.find(key);
  if (found == registry.end() || --found->second.second > 0) return;
  Module* module = found->second.first;
  registry.erase(found);
  if (module->finalize_) module->api_->C_Finalize(nullptr);
  ::dlclose(module->library_);
  delete module;
}

// Whether a token's sessions may change objects on it (create and destroy keys).
enum class Access { kReadOnly, kReadWrite };

// A token we are logged in to, and the sessions open on it. A PKCS#11 session must not be
// used by two threads at once, so each operation leases a session of its own from a small
// pool. Every session of one application shares the token's login, so a new session is
// logged in again only if the token dropped the login. Thread-safe.
class Token {
 public:
  // A session leased to one operation; returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(const Token* token, CK_SESSION_HANDLE session) : token_(token), session_(session) {}
    Lease(Lease&& other) noexcept
        : token_(std::exchange(other.token_, nullptr)),
          session_(other.session_),
          lost_(other.lost_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (token_ != nullptr) token_->Return(session_, lost_);
    }

    CK_SESSION_HANDLE session() const { return session_; }
    // The session failed in a way that says it (and likely its siblings) is gone: close it and
    // every idle one rather than hand them out again.
    void MarkLost() { lost_ = true; }

   private:
    const Token* token_;
    CK_SESSION_HANDLE session_;
    bool lost_ = false;
  };

  // Loads the module, finds the token and logs in. Errors name the module and token.
  static Result<std::shared_ptr<const Token>> Open(const Pkcs11Options& options, const Secret& pin,
                                                   Access access);

  ~Token() {
    // Only our own sessions: C_CloseAllSessions would also close those of another Token on the
    // same slot in this process.
    for (CK_SESSION_HANDLE session : idle_) api()->C_CloseSession(session);
  }

  Result<Lease> Acquire() const;
  CK_FUNCTION_LIST* api() const { return module_->api(); }
  // "token 'NAME' (slot N, module PATH)", for error messages.
  const std::string& name() const { return name_; }

 private:
  Token(std::shared_ptr<const Module> module, CK_SLOT_ID slot, Secret pin, Access access,
        std::string name)
      : module_(std::move(module)),
        slot_(slot),
        pin_(std::move(pin)),
        access_(access),
        name_(std::move(name)) {}

  Result<CK_SESSION_HANDLE> OpenSession() const;
  void Return(CK_SESSION_HANDLE session, bool lost) const;

  std::shared_ptr<const Module> module_;
  CK_SLOT_ID slot_;
  // Kept to log in again if the token drops the login (it does once every session is closed).
  Secret pin_;
  Access access_;
  std::string name_;

  mutable std::mutex mutex_;
  mutable std::condition_variable session_returned_;
  mutable std::vector<CK_SESSION_HANDLE> idle_;  // guarded by mutex_
  mutable std::size_t open_ = 0;                 // leased + idle; guarded by mutex_
};

// The slot holding the token `options` names. Errors name the module and say what is there.
Result<CK_SLOT_ID> FindSlot(const Module& module, const Pkcs11Options& options) {
  CK_FUNCTION_LIST* api = module.api();
  std::vector<CK_SLOT_ID> slots;
  CK_ULONG count = 0;
  CK_RV rv = api->C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv == CKR_OK && count > 0) {
    slots.resize(count);
    rv = api->C_GetSlotList(CK_TRUE, slots.data(), &count);
    slots.resize(count);
  }
  if (rv != CKR_OK) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("cannot list the slots of PKCS#11 module {}: {}", module.path(), RvName(rv)));
  }
  // The label of each initialized token, by slot.
  std::vector<std::pair<CK_SLOT_ID, std::string>> tokens;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (api->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    tokens.emplace_back(slot, TrimBlanks(info.label, sizeof info.label));
  }
  auto present = [&] {
    if (tokens.empty()) return std::string("no initialized token");
    std::string list;
    for (const auto& [slot, label] : tokens) {
      list += fmt::format("{}'{}' in slot {}", list.empty() ? "" : ", ", label, slot);
    }
    return "tokens present: " + list;
  };

  if (options.slot) {
    auto token = std::find_if(tokens.begin(), tokens.end(),
                              [&](const auto& entry) { return entry.first == *options.slot; });
    if (token == tokens.end()) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("PKCS#11 module {} has no initialized token in slot {} ({})",
                              module.path(), *options.slot, present()));
    }
    if (options.token_label && token->second != *options.token_label) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("slot {} of PKCS#11 module {} holds token '{}', not '{}'",
                              *options.slot, module.path(), token->second, *options.token_label));
    }
    return token->first;
  }
  std::vector<CK_SLOT_ID> matches;
  for (const auto& [slot, label] : tokens) {
    if (label == *options.token_label) matches.push_back(slot);
  }
  if (matches.empty()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("PKCS#11 module {} has no token labelled '{}' ({})", module.path(),
                            *options.token_label, present()));
  }
  if (matches.size() > 1) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PKCS#11 module {} has {} tokens labelled '{}'; set keys.pkcs11_slot "
                            "to pick one ({})",
                            module.path(), matches.size(), *options.token_label, present()));
  }
  return matches.front();
}

Result<std::shared_ptr<const Token>> Token::Open(const Pkcs11Options& options, const Secret& pin,
                                                 Access access) {
  if (!options.token_label && !options.slot) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("no PKCS#11 token named for module {}: set its label or slot",
                            options.module.string()));
  }
  auto module = Module::Acquire(options.module);
  if (!module) return std::unexpected(module.error());
  auto slot = FindSlot(**module, options);
  if (!slot) return std::unexpected(slot.error());
  auto pin_copy = pin.Clone();
  if (!pin_copy) return std::unexpected(pin_copy.error());

  CK_TOKEN_INFO info{};
  (*module)->api()->C_GetTokenInfo(*slot, &info);
  std::string name =
      fmt::format("token '{}' (slot {}, module {})", TrimBlanks(info.label, sizeof info.label),
                  *slot, (*module)->path());
  std::shared_ptr<const Token> token(
      new Token(std::move(*module), *slot, std::move(*pin_copy), access, std::move(name)));
  // The first session logs in, so a wrong PIN is reported now rather than at the first wrap;
  // returned to the pool, it keeps the login for the sessions after it.
  auto first = token->Acquire();
  if (!first) return std::unexpected(first.error());
  return token;
}

Result<CK_SESSION_HANDLE> Token::OpenSession() const {
  CK_FLAGS flags = CKF_SERIAL_SESSION | (access_ == Access::kReadWrite ? CKF_RW_SESSION : 0);
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = api()->C_OpenSession(slot_, flags, nullptr, nullptr, &session);
  if (rv != CKR_OK) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot open a session on {}: {}", name_, RvName(rv)));
  }
  // Another session of this process may already hold the login (the token shares it between
  // an application's sessions); the PIN was checked when that one logged in.
  rv =
      api()->C_Login(session, CKU_USER, const_cast<CK_UTF8CHAR*>(pin_.bytes().data()), pin_.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return session;
  api()->C_CloseSession(session);
  switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return Fail(ErrorCode::kPermissionDenied, fmt::format("wrong PIN for {}", name_));
    case CKR_PIN_LOCKED:
      return Fail(ErrorCode::kPermissionDenied,
                  fmt::format("the user PIN of {} is locked after too many wrong PINs; its "
                              "security officer must reset it",
                              name_));
    case CKR_PIN_EXPIRED:
      return Fail(ErrorCode::kPermissionDenied,
                  fmt::format("the user PIN of {} has expired", name_));
    case CKR_USER_PIN_NOT_INITIALIZED:
      return Fail(ErrorCode::kPermissionDenied,
                  fmt::format("{} has no user PIN yet; its security officer must set one", name_));
    default:
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cannot log in to {}: {}", name_, RvName(rv)));
  }
}

Result<Token::Lease> Token::Acquire() const {
  std::unique_lock lock(mutex_);
  session_returned_.wait(lock, [&] { return !idle_.empty() || open_ < kMaxSessions; });
  if (!idle_.empty()) {
    CK_SESSION_HANDLE session = idle_.back();
    idle_.pop_back();
    return Lease(this, session);
  }
  ++open_;
  lock.unlock();  // opening and logging in may take a while on a network HSM
  auto session = OpenSession();
  if (!session) {
    lock.lock();
    --open_;
    session_returned_.notify_one();
    return std::unexpected(session.error());
  }
  return Lease(this, *session);
}

void Token::Return(CK_SESSION_HANDLE session, bool lost) const {
  std::vector<CK_SESSION_HANDLE> to_close;
  {
    std::lock_guard lock(mutex_);
    if (lost) {
      // The idle sessions most likely went with it (a token reset takes them all).
      to_close = std::exchange(idle_, {});
      to_close.push_back(session);
      open_ -= to_close.size();
    } else {
      idle_.push_back(session);
    }
  }
  for (CK_SESSION_HANDLE stale : to_close) api()->C_CloseSession(stale);
  session_returned_.notify_all();
}

// Reads one fixed-size attribute of an object.
template <typename T>
CK_RV GetAttribute(const Token& token, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                   CK_ATTRIBUTE_TYPE type, T& value) {
  CK_ATTRIBUTE attribute{type, &value, sizeof value};
  return token.api()->C_GetAttributeValue(session, object, &attribute, 1);
}

Result<std::string> GetLabel(const Token& token, CK_SESSION_HANDLE session,
                             CK_OBJECT_HANDLE object) {
  CK_ATTRIBUTE attribute{CKA_LABEL, nullptr, 0};
  CK_RV rv = token.api()->C_GetAttributeValue(session, object, &attribute, 1);
  std::string label;
  if (rv == CKR_OK && attribute.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
    label.resize(attribute.ulValueLen);
    attribute.pValue = label.data();
    rv = token.api()->C_GetAttributeValue(session, object, &attribute, 1);
  }
  if (rv != CKR_OK) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot read a key label on {}: {}", token.name(), RvName(rv)));
  }
  label.resize(attribute.ulValueLen);
  return label;
}

// The secret keys on the token, optionally only those labelled `label`.
Result<std::vector<CK_OBJECT_HANDLE>> FindSecretKeys(const Token& token, CK_SESSION_HANDLE session,
                                                     const std::string* label) {
  CK_OBJECT_CLASS secret_key = CKO_SECRET_KEY;
  CK_BBOOL on_token = CK_TRUE;
  std::vector<CK_ATTRIBUTE> query = {{CKA_CLASS, &secret_key, sizeof secret_key},
                                     {CKA_TOKEN, &on_token, sizeof on_token}};
  if (label != nullptr) {
    query.push_back({CKA_LABEL, const_cast<char*>(label->data()), label->size()});
  }
  CK_RV rv = token.api()->C_FindObjectsInit(session, query.data(), query.size());
  std::vector<CK_OBJECT_HANDLE> found;
  if (rv == CKR_OK) {
    std::array<CK_OBJECT_HANDLE, 64> batch{};
    CK_ULONG count = 0;
    while ((rv = token.api()->C_FindObjects(session, batch.data(), batch.size(), &count)) ==
               CKR_OK &&
           count > 0) {
      found.insert(found.end(), batch.begin(), batch.begin() + count);
    }
    CK_RV final_rv = token.api()->C_FindObjectsFinal(session);
    if (rv == CKR_OK) rv = final_rv;
  }
  if (rv != CKR_OK) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot search the keys on {}: {}", token.name(), RvName(rv)));
  }
  return found;
}

// The version a key label names: "<key_label>-<n>" with n a positive number without leading
// zeros, so that every version has exactly one label.
std::optional<std::uint32_t> VersionOfLabel(std::string_view label, std::string_view key_label) {
  if (!label.starts_with(key_label) || label.size() < key_label.size() + 2 ||
      label[key_label.size()] != '-') {
    return std::nullopt;
  }
  std::string_view digits = label.substr(key_label.size() + 1);
  if (digits.front() == '0') return std::nullopt;
  std::uint32_t version = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return version;
}

std::string LabelOf(std::string_view key_label, std::uint32_t version) {
  return fmt::format("{}-{}", key_label, version);
}

struct KeyVersion {
  std::uint32_t version;
  CK_OBJECT_HANDLE handle;
};

// Every version of `key_label` on the token, oldest first. Refuses two keys with one label,
// and keys that could not serve as a KEK (so the mistake shows at start, not at a wrap).
Result<std::vector<KeyVersion>> FindVersions(const Token& token, CK_SESSION_HANDLE session,
                                             const std::string& key_label) {
  auto keys = FindSecretKeys(token, session, nullptr);
  if (!keys) return std::unexpected(keys.error());
  std::vector<KeyVersion> versions;
  for (CK_OBJECT_HANDLE key : *keys) {
    auto label = GetLabel(token, session, key);
    if (!label) return std::unexpected(label.error());
    auto version = VersionOfLabel(*label, key_label);
    if (!version) continue;
    CK_KEY_TYPE type = 0;
    CK_ULONG length = 0;
    CK_BBOOL sensitive = CK_FALSE, encrypt = CK_FALSE, decrypt = CK_FALSE;
    if (GetAttribute(token, session, key, CKA_KEY_TYPE, type) != CKR_OK ||
        GetAttribute(token, session, key, CKA_VALUE_LEN, length) != CKR_OK || type != CKK_AES ||
        length != kKeyBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("key '{}' on {} is not an AES-256 key", *label, token.name()));
    }
    if (GetAttribute(token, session, key, CKA_SENSITIVE, sensitive) != CKR_OK || !sensitive) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("key '{}' on {} is not sensitive: its bytes could be read off the "
                              "token, so it cannot be a master key",
                              *label, token.name()));
    }
    if (GetAttribute(token, session, key, CKA_ENCRYPT, encrypt) != CKR_OK || !encrypt ||
        GetAttribute(token, session, key, CKA_DECRYPT, decrypt) != CKR_OK || !decrypt) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("key '{}' on {} is not allowed to both encrypt and decrypt", *label,
                              token.name()));
    }
    versions.push_back({*version, key});
  }
  std::sort(versions.begin(), versions.end(),
            [](const KeyVersion& a, const KeyVersion& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < versions.size(); ++i) {
    if (versions[i].version == versions[i - 1].version) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{} holds two keys labelled '{}'", token.name(),
                              LabelOf(key_label, versions[i].version)));
    }
  }
  return versions;
}

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// One master key version on the token. Wrap and Unwrap run AES-256-GCM on the token with a
// session of their own, so any number of threads may use one Pkcs11Kek at once.
class Pkcs11Kek final : public Kek {
 public:
  Pkcs11Kek(std::shared_ptr<const Token> token, std::uint32_t version, std::string label,
            CK_OBJECT_HANDLE handle)
      : token_(std::move(token)), version_(version), label_(std::move(label)), handle_(handle) {}

  std::uint32_t version() const override { return version_; }

  Result<std::vector<std::uint8_t>> Wrap(
      const Secret& key, std::span<const std::uint8_t> associated_data) const override {
    // A fresh random IV for every wrap: with 96-bit random IVs, GCM stays safe far beyond the
    // number of data keys a vault will ever wrap under one version.
    std::vector<std::uint8_t> wrapped(kIvBytes + key.size() + kTagBytes);
    randombytes_buf(wrapped.data(), kIvBytes);
    CK_ULONG length = 0;
    auto rv = Run([&](CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle) {
      CK_GCM_PARAMS params = GcmParams(wrapped.data(), associated_data);
      CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
      CK_RV init = token_->api()->C_EncryptInit(session, &mechanism, handle);
      if (init != CKR_OK) return init;
      length = key.size() + kTagBytes;
      return token_->api()->C_Encrypt(session, const_cast<std::uint8_t*>(key.bytes().data()),
                                      key.size(), wrapped.data() + kIvBytes, &length);
    });
    if (!rv) return std::unexpected(rv.error());
    if (*rv != CKR_OK) {
      return Fail(ErrorCode::kUnavailable, fmt::format("cannot wrap a key with '{}' on {}: {}",
                                                       label_, token_->name(), RvName(*rv)));
    }
    if (length != key.size() + kTagBytes) {
      return Fail(
          ErrorCode::kInternal,
          fmt::format("'{}' on {} returned a wrap of unexpected length", label_, token_->name()));
    }
    return wrapped;
  }

  Result<Secret> Unwrap(std::span<const std::uint8_t> wrapped,
                        std::span<const std::uint8_t> associated_data) const override {
    if (wrapped.size() < kIvBytes + kTagBytes) return NotOpened();
    const auto sealed = wrapped.subspan(kIvBytes);
    // The module writes the plaintext here, so it is guarded memory, wiped when freed. Some
    // modules (SoftHSM2) want room for the whole input, tag included.
    auto buffer = Secret::Allocate(sealed.size());
    if (!buffer) return std::unexpected(buffer.error());
    CK_ULONG length = 0;
    auto rv = Run([&](CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle) {
      CK_GCM_PARAMS params = GcmParams(wrapped.data(), associated_data);
      CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
      CK_RV init = token_->api()->C_DecryptInit(session, &mechanism, handle);
      if (init != CKR_OK) return init;
      length = buffer->size();
      return token_->api()->C_Decrypt(session, const_cast<std::uint8_t*>(sealed.data()),
                                      sealed.size(), buffer->mutable_bytes().data(), &length);
    });
    if (!rv) return std::unexpected(rv.error());
    switch (*rv) {
      case CKR_OK:
        break;
      // The token is unusable or the call was wrong: not evidence about the wrap itself.
      case CKR_HOST_MEMORY:
      case CKR_DEVICE_MEMORY:
      case CKR_CRYPTOKI_NOT_INITIALIZED:
      case CKR_OPERATION_NOT_INITIALIZED:
      case CKR_BUFFER_TOO_SMALL:
      case CKR_MECHANISM_INVALID:
      case CKR_MECHANISM_PARAM_INVALID:
      case CKR_KEY_FUNCTION_NOT_PERMITTED:
        return Fail(ErrorCode::kUnavailable, fmt::format("cannot unwrap a key with '{}' on {}: {}",
                                                         label_, token_->name(), RvName(*rv)));
      default:
        if (SessionLost(*rv)) {
          return Fail(ErrorCode::kUnavailable,
                      fmt::format("cannot unwrap a key with '{}' on {}: {}", label_, token_->name(),
                                  RvName(*rv)));
        }
        // A failed tag check: the standard says CKR_ENCRYPTED_DATA_INVALID, SoftHSM2 says
        // CKR_GENERAL_ERROR. Either way the wrap does not open under this key.
        return NotOpened();
    }
    if (length != sealed.size() - kTagBytes) return NotOpened();
    return Secret::CopyOf(buffer->bytes().first(length));
  }

 private:
  // The IV is the first kIvBytes of `iv`; the tag is 128 bits. (PKCS#11 takes non-const
  // pointers for inputs it only reads.)
  static CK_GCM_PARAMS GcmParams(const std::uint8_t* iv,
                                 std::span<const std::uint8_t> associated_data) {
    CK_GCM_PARAMS params{};
    params.pIv = const_cast<std::uint8_t*>(iv);
    params.ulIvLen = kIvBytes;
    params.ulIvBits = kIvBytes * 8;
    params.pAAD = const_cast<std::uint8_t*>(associated_data.data());
    params.ulAADLen = associated_data.size();
    params.ulTagBits = kTagBytes * 8;
    return params;
  }

  std::unexpected<Error> NotOpened() const {
    return Fail(ErrorCode::kDataLoss,
                fmt::format("wrapped key does not open under '{}' on {}: altered, wrapped by "
                            "another key, or bound to other data",
                            label_, token_->name()));
  }

  // Runs `operation` on a leased session with the key's handle and returns what the token
  // said. If the token lost the session (a reset, a dropped HSM connection), tries once more on
  // a new session, looking the key up again since its handle may have changed with the login.
  template <typename Operation>
  Result<CK_RV> Run(Operation operation) const {
    for (int attempt = 0;; ++attempt) {
      auto lease = token_->Acquire();
      if (!lease) return std::unexpected(lease.error());
      if (attempt > 0) {
        auto found = FindSecretKeys(*token_, lease->session(), &label_);
        if (!found) return std::unexpected(found.error());
        if (found->size() != 1) {
          return Fail(ErrorCode::kUnavailable,
                      fmt::format("key '{}' is no longer on {}", label_, token_->name()));
        }
        handle_.store(found->front());
      }
      CK_RV rv = operation(lease->session(), handle_.load());
      if (!SessionLost(rv)) return rv;
      lease->MarkLost();
      if (attempt == 1) return rv;
    }
  }

  std::shared_ptr<const Token> token_;
  std::uint32_t version_;
  std::string label_;
  // The token may hand out a new handle after it drops and regains the login.
  mutable std::atomic<CK_OBJECT_HANDLE> handle_;
};

Status CheckLabelFits(const std::optional<std::string>& label) {
  if (label && (label->empty() || label->size() > kTokenLabelBytes)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("keys.pkcs11_token_label '{}' must be 1 to {} bytes (a PKCS#11 token "
                            "label)",
                            *label, kTokenLabelBytes));
  }
  return {};
}

}  // namespace

Result<Pkcs11Options> Pkcs11OptionsFrom(const KeysConfig& keys) {
  if (!keys.pkcs11_module) {
    return Fail(ErrorCode::kInvalidArgument,
                "keys.source is \"pkcs11\" but keys.pkcs11_module (the token's PKCS#11 library) "
                "is not set");
  }
  if (!keys.pkcs11_token_label && !keys.pkcs11_slot) {
    return Fail(ErrorCode::kInvalidArgument,
                "keys.source is \"pkcs11\" but neither keys.pkcs11_token_label nor "
                "keys.pkcs11_slot says which token holds the master key");
  }
  if (auto ok = CheckLabelFits(keys.pkcs11_token_label); !ok) return std::unexpected(ok.error());
  if (keys.pkcs11_key_label.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "keys.pkcs11_key_label must not be empty");
  }
  Pkcs11Options options;
  options.module = *keys.pkcs11_module;
  options.token_label = keys.pkcs11_token_label;
  if (keys.pkcs11_slot) options.slot = *keys.pkcs11_slot;
  options.key_label = keys.pkcs11_key_label;
  return options;
}

Result<Secret> LoadPkcs11Pin(const KeysConfig& keys, const EnvLookup& env) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  const std::string variable(kPkcs11PinVariable);
  const char* from_env = env ? env(variable.c_str()) : nullptr;
  if (keys.pkcs11_pin_file && from_env != nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the PKCS#11 PIN is given twice, by keys.pkcs11_pin_file and by {}; "
                            "keep one",
                            variable));
  }
  if (from_env != nullptr) {
    if (*from_env == '\0') {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is empty", variable));
    }
    return Secret::CopyOf(AsBytes(from_env));
  }
  if (!keys.pkcs11_pin_file) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("no PKCS#11 PIN: set keys.pkcs11_pin_file to a file (mode 0600) "
                            "holding it, or the environment variable {}",
                            variable));
  }
  auto contents = ReadPrivateFile(*keys.pkcs11_pin_file, "PKCS#11 PIN file", kMaxPinFileBytes);
  if (!contents) return std::unexpected(contents.error());
  // Editors and `echo` end the file with a newline that is not part of the PIN.
  auto pin = contents->bytes();
  if (!pin.empty() && pin.back() == '\n') pin = pin.first(pin.size() - 1);
  if (!pin.empty() && pin.back() == '\r') pin = pin.first(pin.size() - 1);
  if (pin.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PKCS#11 PIN file {} is empty", keys.pkcs11_pin_file->string()));
  }
  return Secret::CopyOf(pin);
}

Result<std::vector<std::unique_ptr<Kek>>> Pkcs11KekSource::Load() const {
  auto token = Token::Open(options_, pin_, Access::kReadOnly);
  if (!token) return std::unexpected(token.error());
  auto lease = (*token)->Acquire();
  if (!lease) return std::unexpected(lease.error());
  auto versions = FindVersions(**token, lease->session(), options_.key_label);
  if (!versions) return std::unexpected(versions.error());
  if (versions->empty()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("{} holds no key labelled '{}-<version>' (such as '{}')",
                            (*token)->name(), options_.key_label, LabelOf(options_.key_label, 1)));
  }
  std::vector<std::unique_ptr<Kek>> keks;
  for (const KeyVersion& version : *versions) {
    keks.push_back(std::make_unique<Pkcs11Kek>(
        *token, version.version, LabelOf(options_.key_label, version.version), version.handle));
  }
  return keks;
}

Result<std::uint32_t> CreatePkcs11KekVersion(const Pkcs11Options& options, const Secret& pin) {
  auto token = Token::Open(options, pin, Access::kReadWrite);
  if (!token) return std::unexpected(token.error());
  auto lease = (*token)->Acquire();
  if (!lease) return std::unexpected(lease.error());
  const CK_SESSION_HANDLE session = lease->session();
  auto versions = FindVersions(**token, session, options.key_label);
  if (!versions) return std::unexpected(versions.error());
  const std::uint32_t newest = versions->empty() ? 0 : versions->back().version;
  if (newest == std::numeric_limits<std::uint32_t>::max()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} has no key version left after '{}'", (*token)->name(),
                            LabelOf(options.key_label, newest)));
  }
  const std::uint32_t version = newest + 1;
  std::string label = LabelOf(options.key_label, version);

  CK_OBJECT_CLASS secret_key = CKO_SECRET_KEY;
  CK_KEY_TYPE aes = CKK_AES;
  CK_ULONG length = kKeyBytes;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  // A token object only the logged-in user can use, only to encrypt and decrypt, whose value
  // can be neither read nor exported, not even wrapped under another key.
  CK_ATTRIBUTE attributes[] = {
      {CKA_CLASS, &secret_key, sizeof secret_key},
      {CKA_KEY_TYPE, &aes, sizeof aes},
      {CKA_VALUE_LEN, &length, sizeof length},
      {CKA_LABEL, label.data(), label.size()},
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes},
      {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_ENCRYPT, &yes, sizeof yes},
      {CKA_DECRYPT, &yes, sizeof yes},
      {CKA_WRAP, &no, sizeof no},
      {CKA_UNWRAP, &no, sizeof no},
      {CKA_SIGN, &no, sizeof no},
      {CKA_VERIFY, &no, sizeof no},
      {CKA_DERIVE, &no, sizeof no},
  };
  CK_MECHANISM generate{CKM_AES_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV rv =
      (*token)->api()->C_GenerateKey(session, &generate, attributes, std::size(attributes), &key);
  if (rv != CKR_OK) {
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot generate key '{}' on {}: {}", label,
                                                     (*token)->name(), RvName(rv)));
  }
  // Two rotations at once would both pick this version; the one that sees a twin backs out.
  auto twins = FindSecretKeys(**token, session, &label);
  if (!twins || twins->size() != 1) {
    (*token)->api()->C_DestroyObject(session, key);
    if (!twins) return std::unexpected(twins.error());
    return Fail(ErrorCode::kConflict,
                fmt::format("another process created '{}' on {} at the same time; try again", label,
                            (*token)->name()));
  }
  return version;
}

Status DestroyPkcs11KekVersion(const Pkcs11Options& options, const Secret& pin,
                               std::uint32_t version) {
  auto token = Token::Open(options, pin, Access::kReadWrite);
  if (!token) return std::unexpected(token.error());
  auto lease = (*token)->Acquire();
  if (!lease) return std::unexpected(lease.error());
  auto versions = FindVersions(**token, lease->session(), options.key_label);
  if (!versions) return std::unexpected(versions.error());
  const std::string label = LabelOf(options.key_label, version);
  auto found = std::find_if(versions->begin(), versions->end(),
                            [&](const KeyVersion& entry) { return entry.version == version; });
  if (found == versions->end()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("{} holds no key labelled '{}'", (*token)->name(), label));
  }
  if (version == versions->back().version) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' on {} is the active master key version; create a newer one and "
                            "rewrap before retiring it",
                            label, (*token)->name()));
  }
  CK_RV rv = (*token)->api()->C_DestroyObject(lease->session(), found->handle);
  if (rv != CKR_OK) {
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot destroy key '{}' on {}: {}", label,
                                                     (*token)->name(), RvName(rv)));
  }
  return {};
}

}  // namespace medvault::crypto
