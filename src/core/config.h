// The vault's configuration: DIR/medvault.toml, then MEDVAULT_<SECTION>_<KEY> environment
// overrides. Every key is declared once (config.cc's table); an unknown key is an error that
// names it, so a misspelt setting never silently falls back to a default.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault {

struct ServerConfig {
  std::string listen = "127.0.0.1:8443";
  // Plain HTTP is for a TLS-terminating proxy on the same host: loopback addresses only.
  bool tls = true;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  // 0: one network thread per core.
  std::size_t threads = 0;
};

struct TlsConfig {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
};

// Where the master key (KEK) versions come from.
enum class KekSourceKind {
  kFile,    // the key file `medvault init` wrote (keys.master_key_file)
  kPkcs11,  // secret keys on a PKCS#11 token (an HSM); they never leave it
};

struct KeysConfig {
  KekSourceKind source = KekSourceKind::kFile;
  std::filesystem::path master_key_file;
  // The PKCS#11 module (shared library) to load; set when `source` is kPkcs11.
  std::optional<std::filesystem::path> pkcs11_module;
  // The token, by label, by slot, or both (then the slot must hold that token).
  std::optional<std::string> pkcs11_token_label;
  std::optional<std::size_t> pkcs11_slot;
  // Key version n is the token's secret key labelled "<pkcs11_key_label>-<n>".
  std::string pkcs11_key_label = "medvault-kek";
  // The user PIN is never in this file: it is read from this file (mode 0600) or, when this
  // is not set, from the MEDVAULT_PKCS11_PIN environment variable.
  std::optional<std::filesystem::path> pkcs11_pin_file;
};

struct StoreConfig {
  // "sqlite:PATH" (relative to the vault) or "postgres://..." / "postgresql://...".
  std::string url;
  // SQLite's page cache and memory map, in MiB (store::Store::Options).
  std::size_t sqlite_cache_mib = 2;
  std::size_t sqlite_mmap_mib = 0;
};

struct AuditConfig {
  // How often the server signs a checkpoint of the audit log (and once more at shutdown).
  std::chrono::milliseconds checkpoint_interval{60'000};
  // Where the latest checkpoint and the verifier key go: outside the data directory.
  std::filesystem::path checkpoint_dir;
  // A program run with the checkpoint file's path as its only argument (no shell).
  std::optional<std::filesystem::path> checkpoint_command;
};

// Login, sessions and throttling (identity). Second-factor rules per account kind are
// "passkey" or "passkey_or_totp".
struct AuthConfig {
  // The server's public base URL ("https://vault.example.org"); empty: derived from the
  // bound address. Machine clients sign assertions for PUBLIC_URL/auth/token.
  std::string public_url;
  std::chrono::milliseconds staff_idle_timeout{15 * 60 * 1000};
  std::chrono::milliseconds patient_idle_timeout{30 * 60 * 1000};
  std::chrono::milliseconds session_lifetime{12 * 60 * 60 * 1000};
  std::chrono::milliseconds backoff_first_delay{1000};
  std::size_t hash_threads = 2;
  std::size_t hash_queue = 32;
  std::size_t source_burst = 30;
  std::size_t source_per_minute = 30;
  std::size_t stuffing_accounts = 20;
  // Passkeys: the WebAuthn relying party id and the exact origins allowed (space-separated;
  // empty: SCHEME://RP_ID:PORT of the bound address).
  std::string rp_id = "localhost";
  std::string passkey_origins;
  std::string second_factor_patient = "passkey_or_totp";
  std::string second_factor_clinician = "passkey_or_totp";
  std::string second_factor_lab_technician = "passkey_or_totp";
  std::string second_factor_administrator = "passkey";
  std::string second_factor_auditor = "passkey";
};

// The lab feed's MLLP listener (HL7 v2 results in). Off while mllp_listen is empty.
struct LabConfig {
  std::string mllp_listen;  // HOST:PORT; port 0 picks a free one
  bool mllp_tls = true;     // plain MLLP only on a loopback address
  std::string client_id;    // the registered API client whose scopes the feed writes with
  std::size_t max_message_bytes = 1024 * 1024;
  std::chrono::milliseconds idle_timeout{300'000};
};

// Access policy (issue 8): how long care relations outlast their source, and break-the-glass.
struct PolicyConfig {
  std::size_t relation_grace_days = 30;    // a CareTeam or order relation, after it ends
  std::size_t encounter_grace_hours = 72;  // an Encounter relation, after it closes
  double break_glass_hours = 4;            // a break-the-glass grant (fractions allowed)
};

// The exfiltration guard (policy/guard.h). Budgets per role are "METRIC MINUTE/HOUR/DAY"
// items (patients, records, bytes, searches) and "breadth N", comma-separated; a metric not
// named keeps its default; 0 means not limited.
inline constexpr const char* kGuardClinicianDefault =
    "patients 30/60/150, records 600/4000/12000, bytes 16M/128M/512M, searches 60/600/3000, "
    "breadth 30";
inline constexpr const char* kGuardLabTechnicianDefault =
    "patients 60/300/1500, records 1200/10000/50000, bytes 32M/256M/1G, searches 120/1200/6000, "
    "breadth 60";
// A patient opens only their own record (later the ones they are proxy for): the portal reads
// years of results and their trends at once, so only patients and searches are limited.
inline constexpr const char* kGuardPatientDefault =
    "patients 5/5/5, records 0/0/0, bytes 0/0/0, searches 600/6000/30000, breadth 5";
// API clients write in bulk (the lab feed matches a patient for every message it takes, at
// hundreds a second), so only the patients they read are limited by default.
inline constexpr const char* kGuardIntegrationDefault =
    "patients 20000/100000/500000, records 0/0/0, bytes 0/0/0, searches 0/0/0, breadth 1000";

struct GuardConfig {
  bool enabled = true;
  std::size_t step_up_percent = 80;  // 0: no step-up, suspension only
  std::string clinician = kGuardClinicianDefault;
  std::string lab_technician = kGuardLabTechnicianDefault;
  std::string patient = kGuardPatientDefault;
  std::string integration = kGuardIntegrationDefault;
  std::string canaries;     // patient ids, space-separated
  std::string webhook_url;  // http://HOST:PORT/PATH on loopback; empty: no webhook
};

// Bulk export jobs (issue 8): how long a request waits for its approval, how long the sealed
// file is kept, and how many canary patients watermark each file.
struct ExportConfig {
  std::chrono::milliseconds request_ttl{24LL * 3600 * 1000};
  std::chrono::milliseconds file_ttl{24LL * 3600 * 1000};
  std::size_t canaries = 3;
};

struct Config {
  std::filesystem::path vault_dir;
  ServerConfig server;
  TlsConfig tls;
  KeysConfig keys;
  StoreConfig store;
  AuditConfig audit;
  AuthConfig auth;
  LabConfig lab;
  PolicyConfig policy;
  GuardConfig guard;  // exfiltration guard
  ExportConfig export_jobs;  // [export]
};

// Environment lookup, injectable so tests do not touch the process environment.
using EnvLookup = std::function<const char*(const char* name)>;

// The configuration a fresh vault at `vault_dir` gets, paths relative to the vault.
Config DefaultConfig(const std::filesystem::path& vault_dir);

// The text `medvault init` writes: every key with its value in `config` and a comment.
// Paths are written as they are held (relative ones stay relative to the vault).
std::string RenderConfigToml(const Config& config);

// Reads DIR/medvault.toml and applies environment overrides. Relative paths are resolved
// against the vault directory. Errors name the file, the key and what is wrong.
Result<Config> LoadConfig(const std::filesystem::path& vault_dir, const EnvLookup& env);

// Parses TOML text (for tests and for LoadConfig). `source` names the text in errors.
Result<Config> ParseConfig(const std::string& toml_text, const std::string& source,
                           const std::filesystem::path& vault_dir, const EnvLookup& env);

// One line per key, "section.key  type  default  description", for the README.
struct ConfigKeyDoc {
  std::string name;
  std::string type;
  std::string default_value;
  std::string env_var;
  std::string description;
};
std::vector<ConfigKeyDoc> DescribeConfigKeys();

}  // namespace medvault
