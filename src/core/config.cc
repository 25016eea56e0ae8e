#include "core/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <toml++/toml.h>
#include <type_traits>

namespace medvault {
namespace {

namespace fs = std::filesystem;

// One declared configuration key: where it lives, how it reads, how it prints.
struct KeySpec {
  std::string section;
  std::string key;
  std::string type;  // "string", "boolean", "integer", "seconds", "path"
  std::string description;
  std::function<Status(Config&, std::string_view text)> set;
  std::function<std::string(const Config&)> show;
  bool is_path = false;
  // Has no value by default: an unset key is written commented out, since TOML has no null.
  bool optional = false;

  std::string name() const { return section + "." + key; }
  std::string env_var() const {
    std::string name = "MEDVAULT_" + section + "_" + key;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return static_cast<char>(std::toupper(c));
    });
    return name;
  }
};

Status ParseText(std::string_view text, std::string& out) {
  out = std::string(text);
  return {};
}

Status ParseText(std::string_view text, fs::path& out) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "must not be empty");
  out = fs::path(std::string(text));
  return {};
}

Status ParseText(std::string_view text, bool& out) {
  if (text == "true" || text == "1") {
    out = true;
  } else if (text == "false" || text == "0") {
    out = false;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "must be true or false");
  }
  return {};
}

Status ParseText(std::string_view text, std::size_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Fail(ErrorCode::kInvalidArgument, "must be a non-negative whole number");
  }
  out = static_cast<std::size_t>(value);
  return {};
}

// A decimal number above 0 (hours of a grant: "0.002" lets a test see one expire).
Status ParseText(std::string_view text, double& out) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0 || value > 1e6) {
    return Fail(ErrorCode::kInvalidArgument, "must be a number above 0");
  }
  out = value;
  return {};
}

Status ParseText(std::string_view text, KekSourceKind& out) {
  if (text == "file") {
    out = KekSourceKind::kFile;
  } else if (text == "pkcs11") {
    out = KekSourceKind::kPkcs11;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "must be \"file\" or \"pkcs11\"");
  }
  return {};
}

Status ParseText(std::string_view text, std::chrono::milliseconds& out) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) ||
      seconds <= 0 || seconds > 86400) {
    return Fail(ErrorCode::kInvalidArgument, "must be a number of seconds between 0 and 86400");
  }
  out = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
  return {};
}

// An empty text unsets an optional key, so an environment variable can clear a file's value.
template <typename T>
Status ParseText(std::string_view text, std::optional<T>& out) {
  if (text.empty()) {
    out.reset();
    return {};
  }
  T value{};
  if (auto ok = ParseText(text, value); !ok) return ok;
  out = std::move(value);
  return {};
}

std::string ShowValue(const std::string& value) { return value; }
std::string ShowValue(const fs::path& value) { return value.string(); }
std::string ShowValue(bool value) { return value ? "true" : "false"; }
std::string ShowValue(std::size_t value) { return std::to_string(value); }
std::string ShowValue(double value) { return fmt::format("{}", value); }
std::string ShowValue(std::chrono::milliseconds value) {
  if (value.count() % 1000 == 0) return std::to_string(value.count() / 1000);
  return fmt::format("{}", static_cast<double>(value.count()) / 1000.0);
}
std::string ShowValue(KekSourceKind value) {
  return value == KekSourceKind::kPkcs11 ? "pkcs11" : "file";
}
template <typename T>
std::string ShowValue(const std::optional<T>& value) {
  return value ? ShowValue(*value) : "";
}

template <typename T>
constexpr bool kIsOptional = false;
template <typename T>
constexpr bool kIsOptional<std::optional<T>> = true;

template <typename T>
const char* TypeName() {
  if constexpr (kIsOptional<T>) return TypeName<typename T::value_type>();
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  if constexpr (std::is_same_v<T, std::size_t>) return "integer";
  if constexpr (std::is_same_v<T, std::chrono::milliseconds>) return "seconds";
  if constexpr (std::is_same_v<T, double>) return "number";
  if constexpr (std::is_same_v<T, fs::path>) return "path";
  return "string";
}

template <typename Accessor>
KeySpec Key(std::string section, std::string key, std::string description, Accessor field) {
  using T = std::remove_cvref_t<decltype(field(std::declval<Config&>()))>;
  KeySpec spec;
  spec.section = std::move(section);
  spec.key = std::move(key);
  spec.type = TypeName<T>();
  spec.description = std::move(description);
  spec.is_path = std::is_same_v<T, fs::path> || std::is_same_v<T, std::optional<fs::path>>;
  spec.optional = kIsOptional<T>;
  spec.set = [field](Config& config, std::string_view text) -> Status {
    return ParseText(text, field(config));
  };
  spec.show = [field](const Config& config) {
    return ShowValue(field(const_cast<Config&>(config)));
  };
  return spec;
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec> keys = {
      Key("server", "listen", "address and port to serve on (HOST:PORT; port 0 picks a free one)",
          [](Config& c) -> auto& { return c.server.listen; }),
      Key("server", "tls", "serve HTTPS; false is allowed only on a loopback address",
          [](Config& c) -> auto& { return c.server.tls; }),
      Key("server", "max_header_bytes", "largest request header block (431 beyond)",
          [](Config& c) -> auto& { return c.server.max_header_bytes; }),
      Key("server", "max_body_bytes", "largest request body (413 beyond)",
          [](Config& c) -> auto& { return c.server.max_body_bytes; }),
      Key("server", "max_connections", "open connections accepted at once; more are closed",
          [](Config& c) -> auto& { return c.server.max_connections; }),
      Key("server", "header_timeout_seconds", "time a client has to send a request's headers",
          [](Config& c) -> auto& { return c.server.header_timeout; }),
      Key("server", "body_timeout_seconds", "time a client has to send a request's body",
          [](Config& c) -> auto& { return c.server.body_timeout; }),
      Key("server", "idle_timeout_seconds", "an idle keep-alive connection is closed after this",
          [](Config& c) -> auto& { return c.server.idle_timeout; }),
      Key("server", "shutdown_grace_seconds", "on SIGTERM, time given to requests in flight",
          [](Config& c) -> auto& { return c.server.shutdown_grace; }),
      Key("server", "threads", "network threads; 0 means one per core",
          [](Config& c) -> auto& { return c.server.threads; }),
      Key("tls", "certificate", "PEM certificate chain (relative paths are inside the vault)",
          [](Config& c) -> auto& { return c.tls.certificate; }),
      Key("tls", "private_key", "PEM private key of the certificate, mode 0600",
          [](Config& c) -> auto& { return c.tls.private_key; }),
      Key("keys", "source", "where the master key (KEK) versions come from: file or pkcs11",
          [](Config& c) -> auto& { return c.keys.source; }),
      Key("keys", "master_key_file", "master key file (KEK), mode 0600, outside data/",
          [](Config& c) -> auto& { return c.keys.master_key_file; }),
      Key("keys", "pkcs11_module", "PKCS#11 module (shared library) of the token holding the KEK",
          [](Config& c) -> auto& { return c.keys.pkcs11_module; }),
      Key("keys", "pkcs11_token_label", "label of the PKCS#11 token holding the KEK",
          [](Config& c) -> auto& { return c.keys.pkcs11_token_label; }),
      Key("keys", "pkcs11_slot", "PKCS#11 slot id of the token, when its label is not enough",
          [](Config& c) -> auto& { return c.keys.pkcs11_slot; }),
      Key("keys", "pkcs11_key_label", "KEK version n is the token's AES key labelled LABEL-n",
          [](Config& c) -> auto& { return c.keys.pkcs11_key_label; }),
      Key("keys", "pkcs11_pin_file", "file holding the token's user PIN, mode 0600",
          [](Config& c) -> auto& { return c.keys.pkcs11_pin_file; }),
      Key("store", "url", "sqlite:PATH (inside the vault) or postgres://USER@HOST/DB",
          [](Config& c) -> auto& { return c.store.url; }),
      Key("store", "sqlite_cache_mib", "SQLite page cache of the server's connection, in MiB",
          [](Config& c) -> auto& { return c.store.sqlite_cache_mib; }),
      Key("store", "sqlite_mmap_mib", "SQLite: MiB of the database file read through mmap; 0 off",
          [](Config& c) -> auto& { return c.store.sqlite_mmap_mib; }),
      Key("audit", "checkpoint_interval_seconds", "how often the audit log's head is signed",
          [](Config& c) -> auto& { return c.audit.checkpoint_interval; }),
      Key("audit", "checkpoint_dir", "where signed checkpoints go, outside data/ (mode 0700)",
          [](Config& c) -> auto& { return c.audit.checkpoint_dir; }),
      Key("audit", "checkpoint_command", "program run with each new checkpoint file's path",
          [](Config& c) -> auto& { return c.audit.checkpoint_command; }),
      Key("auth", "public_url", "public base URL; assertions name PUBLIC_URL/auth/token (empty: the bound address)",
          [](Config& c) -> auto& { return c.auth.public_url; }),
      Key("auth", "staff_idle_timeout_seconds", "a staff session idle this long ends",
          [](Config& c) -> auto& { return c.auth.staff_idle_timeout; }),
      Key("auth", "patient_idle_timeout_seconds", "a patient session idle this long ends",
          [](Config& c) -> auto& { return c.auth.patient_idle_timeout; }),
      Key("auth", "session_lifetime_seconds", "absolute lifetime of a session",
          [](Config& c) -> auto& { return c.auth.session_lifetime; }),
      Key("auth", "backoff_first_delay_seconds", "wait after the 6th consecutive failure; doubles after each further one (at most 15 min)",
          [](Config& c) -> auto& { return c.auth.backoff_first_delay; }),
      Key("auth", "hash_threads", "Argon2id worker threads (64 MiB each)",
          [](Config& c) -> auto& { return c.auth.hash_threads; }),
      Key("auth", "hash_queue", "hashes waiting beyond the running ones; more get 429",
          [](Config& c) -> auto& { return c.auth.hash_queue; }),
      Key("auth", "source_burst", "login attempts one address may make in a burst",
          [](Config& c) -> auto& { return c.auth.source_burst; }),
      Key("auth", "source_per_minute", "sustained login attempts per minute per address",
          [](Config& c) -> auto& { return c.auth.source_per_minute; }),
      Key("auth", "stuffing_accounts", "distinct accounts one address fails on in 10 min before a credential_stuffing alert",
          [](Config& c) -> auto& { return c.auth.stuffing_accounts; }),
      Key("auth", "rp_id", "WebAuthn relying party id (the site's domain) for passkeys",
          [](Config& c) -> auto& { return c.auth.rp_id; }),
      Key("auth", "passkey_origins", "origins passkey ceremonies may come from, space-separated (empty: SCHEME://RP_ID:PORT)",
          [](Config& c) -> auto& { return c.auth.passkey_origins; }),
      Key("auth", "second_factor_patient", "second factors of patients: passkey or passkey_or_totp",
          [](Config& c) -> auto& { return c.auth.second_factor_patient; }),
      Key("auth", "second_factor_clinician", "second factors of clinicians: passkey or passkey_or_totp",
          [](Config& c) -> auto& { return c.auth.second_factor_clinician; }),
      Key("auth", "second_factor_lab_technician", "second factors of lab technicians: passkey or passkey_or_totp",
          [](Config& c) -> auto& { return c.auth.second_factor_lab_technician; }),
      Key("auth", "second_factor_administrator", "second factors of administrators: passkey or passkey_or_totp",
          [](Config& c) -> auto& { return c.auth.second_factor_administrator; }),
      Key("auth", "second_factor_auditor", "second factors of auditors: passkey or passkey_or_totp",
          [](Config& c) -> auto& { return c.auth.second_factor_auditor; }),
      Key("lab", "mllp_listen", "HL7 v2 MLLP listener address (HOST:PORT; empty: off)",
          [](Config& c) -> auto& { return c.lab.mllp_listen; }),
      Key("lab", "mllp_tls", "MLLP over TLS; false is allowed only on a loopback address",
          [](Config& c) -> auto& { return c.lab.mllp_tls; }),
      Key("lab", "client_id", "API client (client add) whose scopes the lab feed writes with",
          [](Config& c) -> auto& { return c.lab.client_id; }),
      Key("lab", "max_message_bytes", "largest HL7 message taken; a larger frame closes the connection",
          [](Config& c) -> auto& { return c.lab.max_message_bytes; }),
      Key("lab", "idle_timeout_seconds", "an MLLP connection idle this long is closed",
          [](Config& c) -> auto& { return c.lab.idle_timeout; }),
      // access policy:
      Key("policy", "relation_grace_days", "a care relation from a CareTeam or an order lasts this long after its source ends",
          [](Config& c) -> auto& { return c.policy.relation_grace_days; }),
      Key("policy", "encounter_grace_hours", "a care relation from an Encounter lasts this long after it closes",
          [](Config& c) -> auto& { return c.policy.encounter_grace_hours; }),
      Key("policy", "break_glass_hours", "how long a break-the-glass grant opens its patient's record",
          [](Config& c) -> auto& { return c.policy.break_glass_hours; }),
      // exfiltration guard:
      Key("guard", "enabled", "count accesses per account and stop one that reads too much",
          [](Config& c) -> auto& { return c.guard.enabled; }),
      Key("guard", "step_up_percent", "near a budget (this % of it) a fresh second factor is asked for; 0: never",
          [](Config& c) -> auto& { return c.guard.step_up_percent; }),
      Key("guard", "clinician", "a clinician's budgets per minute/hour/day (README: the exfiltration guard)",
          [](Config& c) -> auto& { return c.guard.clinician; }),
      Key("guard", "lab_technician", "a lab technician's budgets per minute/hour/day",
          [](Config& c) -> auto& { return c.guard.lab_technician; }),
      Key("guard", "patient", "a patient's budgets per minute/hour/day",
          [](Config& c) -> auto& { return c.guard.patient; }),
      Key("guard", "integration", "an API client's budgets per minute/hour/day",
          [](Config& c) -> auto& { return c.guard.integration; }),
      Key("guard", "canaries", "canary patient ids, space-separated: touching one suspends at once",
          [](Config& c) -> auto& { return c.guard.canaries; }),
      Key("guard", "webhook_url", "alerts are POSTed here as JSON (http:// on loopback; empty: off)",
          [](Config& c) -> auto& { return c.guard.webhook_url; }),
      // approvals (bulk export):
      Key("export", "request_ttl_seconds",
          "a bulk export request not approved within this time lapses",
          [](Config& c) -> auto& { return c.export_jobs.request_ttl; }),
      Key("export", "file_ttl_seconds",
          "a sealed export file is deleted this long after it was made (a download then gets 410)",
          [](Config& c) -> auto& { return c.export_jobs.file_ttl; }),
      Key("export", "canaries",
          "synthetic canary patients that watermark each export file (at least 1)",
          [](Config& c) -> auto& { return c.export_jobs.canaries; }),
  };
  return keys;
}

const KeySpec* FindKey(std::string_view section, std::string_view key) {
  for (const auto& spec : Keys()) {
    if (spec.section == section && spec.key == key) return &spec;
  }
  return nullptr;
}

// Levenshtein distance, to suggest the key a typo meant.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggestion(const std::string& name) {
  const KeySpec* best = nullptr;
  std::size_t best_distance = 4;
  for (const auto& spec : Keys()) {
    std::size_t distance = EditDistance(name, spec.name());
    if (distance < best_distance) {
      best = &spec;
      best_distance = distance;
    }
  }
  return best == nullptr ? "" : fmt::format(" (did you mean '{}'?)", best->name());
}

// The text form of a TOML value of the kind `spec` expects, or an error naming the key.
Result<std::string> NodeText(const KeySpec& spec, const toml::node& node, const std::string& where) {
  auto wrong_type = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: '{}' must be a {}", where, spec.name(), spec.type));
  };
  if (spec.type == "boolean") {
    if (!node.is_boolean()) return wrong_type();
    return std::string(*node.value<bool>() ? "true" : "false");
  }
  if (spec.type == "integer") {
    if (!node.is_integer()) return wrong_type();
    return std::to_string(*node.value<std::int64_t>());
  }
  if (spec.type == "seconds" || spec.type == "number") {
    if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
    if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
    return wrong_type();
  }
  if (!node.is_string()) return wrong_type();
  return *node.value<std::string>();
}

Status Apply(Config& config, const KeySpec& spec, std::string_view text, const std::string& where) {
  auto status = spec.set(config, text);
  if (!status) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: '{}' {}", where, spec.name(), status.error().message()));
  }
  return {};
}

}  // namespace

Config DefaultConfig(const fs::path& vault_dir) {
  Config config;
  config.vault_dir = vault_dir;
  config.tls.certificate = "tls/cert.pem";
  config.tls.private_key = "tls/key.pem";
  config.keys.master_key_file = "keys/master.key";
  config.store.url = "sqlite:data/medvault.db";
  config.audit.checkpoint_dir = "checkpoints";
  return config;
}

std::string RenderConfigToml(const Config& config) {
  std::string text = "# medvault vault configuration. Every key is listed; see the README for each one.\n"
                     "# Environment variables MEDVAULT_<SECTION>_<KEY> override these values.\n";
  std::string section;
  for (const auto& spec : Keys()) {
    if (spec.section != section) {
      section = spec.section;
      text += fmt::format("\n[{}]\n", section);
    }
    std::string value = spec.show(config);
    if (spec.optional && value.empty()) {
      text += fmt::format("# {}\n# {} = (not set)\n", spec.description, spec.key);
      continue;
    }
    if (spec.type == "string" || spec.type == "path") {
      std::ostringstream quoted;
      quoted << toml::value<std::string>(value);
      value = quoted.str();
    }
    text += fmt::format("# {}\n{} = {}\n", spec.description, spec.key, value);
  }
  return text;
}

Result<Config> ParseConfig(const std::string& toml_text, const std::string& source,
                           const fs::path& vault_dir, const EnvLookup& env) {
  Config config = DefaultConfig(vault_dir);
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}:{}:{}: {}", source, begin.line, begin.column, error.description()));
  }
  for (const auto& [section_key, section_node] : table) {
    std::string section(section_key.str());
    const toml::table* section_table = section_node.as_table();
    if (section_table == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}: unknown key '{}'{}", source, section, Suggestion(section)));
    }
    for (const auto& [key, node] : *section_table) {
      std::string name = fmt::format("{}.{}", section, key.str());
      const KeySpec* spec = FindKey(section, key.str());
      if (spec == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown key '{}'{}", source, name, Suggestion(name)));
      }
      auto text = NodeText(*spec, node, source);
      if (!text) return std::unexpected(text.error());
      if (auto ok = Apply(config, *spec, *text, source); !ok) return std::unexpected(ok.error());
    }
  }
  for (const auto& spec : Keys()) {
    const char* value = env ? env(spec.env_var().c_str()) : nullptr;
    if (value == nullptr) continue;
    if (auto ok = Apply(config, spec, value, spec.env_var()); !ok) {
      return std::unexpected(ok.error());
    }
  }
  for (fs::path* path : {&config.tls.certificate, &config.tls.private_key,
                         &config.keys.master_key_file, &config.audit.checkpoint_dir}) {
    if (path->is_relative()) *path = vault_dir / *path;
  }
  // A relative module path is inside the vault too, never a name for the loader to search.
  for (std::optional<fs::path>* path : {&config.keys.pkcs11_module, &config.keys.pkcs11_pin_file,
                                        &config.audit.checkpoint_command}) {
    if (*path && (*path)->is_relative()) **path = vault_dir / **path;
  }
  // A SQLite database path is inside the vault like every other relative path.
  constexpr std::string_view kSqlitePrefix = "sqlite:";
  if (std::string_view url = config.store.url; url.starts_with(kSqlitePrefix)) {
    fs::path database(url.substr(kSqlitePrefix.size()));
    if (database.is_relative()) {
      config.store.url = std::string(kSqlitePrefix) + (vault_dir / database).string();
    }
  }
  return config;
}

Result<Config> LoadConfig(const fs::path& vault_dir, const EnvLookup& env) {
  fs::path file = vault_dir / "medvault.toml";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("no vault at {} (create one with 'medvault init --dir {}')",
                            vault_dir.string(), vault_dir.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), file.string(), vault_dir, env);
}

std::vector<ConfigKeyDoc> DescribeConfigKeys() {
  Config defaults = DefaultConfig("");
  std::vector<ConfigKeyDoc> docs;
  for (const auto& spec : Keys()) {
    std::string default_value = spec.show(defaults);
    if (spec.optional && default_value.empty()) default_value = "(not set)";
    docs.push_back({spec.name(), spec.type, default_value, spec.env_var(), spec.description});
  }
  return docs;
}

}  // namespace medvault
