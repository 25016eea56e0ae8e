// The `medvault` command. Bad use (unknown flag, missing vault, bad configuration, unsafe
// key file, unusable certificate, port in use) prints one line and exits 2; nothing here
// lets an exception or a stack trace reach the terminal.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/audit.h"
#include "cli/demo.h"
#include "cli/export.h"
#include "cli/keys.h"
#include "cli/patients.h"
#include "cli/serve.h"
#include "cli/users.h"
#include "cli/vault.h"

namespace {

namespace fs = std::filesystem;
using medvault::Status;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Report(const Status& status) {
  if (status) return kExitOk;
  std::fprintf(stderr, "medvault: %s\n", status.error().message().c_str());
  return kExitUsage;
}

int Run(int argc, char** argv) {
  CLI::App app{"medvault: an encrypted, audited health-record server (FHIR R4, HL7v2, portal)",
               "medvault"};
  app.require_subcommand(1);

  fs::path init_dir;
  medvault::cli::VaultOptions vault_options;
  auto* init = app.add_subcommand("init", "Create a new vault: configuration, keys, certificate");
  init->add_option("--dir", init_dir, "Directory of the new vault")->required();
  init->add_option("--hostname", vault_options.hostnames,
                   "Names the self-signed certificate covers (repeatable)")
      ->take_all();
  init->add_option("--tls-certificate", vault_options.certificate,
                   "Use this PEM certificate chain instead of a self-signed one");
  init->add_option("--tls-private-key", vault_options.private_key,
                   "Private key of --tls-certificate");
  medvault::KeysConfig token;
  std::filesystem::path token_module;
  auto* module_option = init->add_option(
      "--pkcs11-module", token_module,
      "Keep the master keys on a PKCS#11 token (HSM) through this module instead of a key "
      "file; the PIN comes from --pkcs11-pin-file or MEDVAULT_PKCS11_PIN");
  init->add_option("--pkcs11-token-label", token.pkcs11_token_label, "Label of the token")
      ->needs(module_option);
  init->add_option("--pkcs11-slot", token.pkcs11_slot, "Slot of the token")->needs(module_option);
  init->add_option("--pkcs11-key-label", token.pkcs11_key_label,
                   "Label prefix of the key versions (default medvault-kek)")
      ->needs(module_option);
  init->add_option("--pkcs11-pin-file", token.pkcs11_pin_file,
                   "File (mode 0600) holding the token's user PIN")
      ->needs(module_option);

  medvault::cli::ServeOptions serve_options;
  std::string listen;
  auto* serve = app.add_subcommand("serve", "Serve a vault over HTTPS until SIGINT or SIGTERM");
  serve->add_option("--dir", serve_options.vault_dir, "Directory of the vault")->required();
  serve->add_option("--listen", listen,
                    "HOST:PORT to listen on (default from the vault's "
                    "configuration: 127.0.0.1:8443)");
  std::string store_url;
  serve->add_option("--store", store_url,
                    "Store URL, overriding store.url: sqlite:PATH or postgres://USER@HOST/DB");

  fs::path demo_dir;
  std::size_t demo_patients = 295;
  auto* demo = app.add_subcommand("demo", "Create a vault filled with demo content");
  demo->add_option("--dir", demo_dir, "Directory of the new demo vault")->required();
  demo->add_option(
          "--patients", demo_patients,
          "Made-up patients to add beyond the five named demo ones (default 295: 300 in all)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{10'000'000}));

  fs::path keys_dir;
  auto* keys = app.add_subcommand("keys", "Master keys: status and rotation");
  keys->require_subcommand(1);
  auto* keys_status = keys->add_subcommand("status", "Show master-key versions and their use");
  keys_status->add_option("--dir", keys_dir, "Directory of the vault")->required();
  auto* keys_rotate = keys->add_subcommand(
      "rotate",
      "Add a master-key version, rewrap every data key, retire the old version "
      "(while the vault keeps serving; resumes an interrupted rotation)");
  keys_rotate->add_option("--dir", keys_dir, "Directory of the vault")->required();

  fs::path audit_dir;
  std::optional<fs::path> audit_checkpoint;
  medvault::cli::ScopeOptions scope_options;
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log: verify, breach scope");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand(
      "verify",
      "Recompute the audit tree and check it against every stored checkpoint, the latest in "
      "audit.checkpoint_dir and --checkpoint; exit 0 when intact, 1 naming the first bad entry");
  audit_verify->add_option("--dir", audit_dir, "Directory of the vault")->required();
  audit_verify->add_option("--checkpoint", audit_checkpoint,
                           "A signed checkpoint file kept elsewhere (e.g. by a witness)");
  auto* audit_scope = audit->add_subcommand(
      "scope", "Patients whose data an account read or changed in a time window, with a draft "
               "regulator notification and patient letters (French and English)");
  audit_scope->add_option("--dir", audit_dir, "Directory of the vault")->required();
  audit_scope->add_option("--account", scope_options.account, "Account id")->required();
  audit_scope->add_option("--from", scope_options.from, "Start, ISO 8601 UTC (inclusive)")
      ->required();
  audit_scope->add_option("--to", scope_options.to, "End, ISO 8601 UTC (exclusive)")->required();
  audit_scope->add_option("--out", scope_options.out_dir,
                          "Directory for scope.csv, the notification drafts and the letters");
  medvault::cli::UserAddOptions user_add_options;
  fs::path user_dir;
  std::string user_login;
  std::string user_patient;
  auto* user =
      app.add_subcommand("user", "Accounts: add staff, approve their roles, reset an "
                                 "enrollment, activation codes");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand(
      "add", "Create a staff account; prints a one-time enrollment code (never a password)");
  user_add->add_option("--dir", user_add_options.vault_dir, "Directory of the vault")->required();
  user_add->add_option("--login", user_add_options.login, "Login (3-64 of a-z 0-9 . _ @ -)")
      ->required();
  user_add
      ->add_option("--kind", user_add_options.kind,
                   "clinician, lab_technician, administrator or auditor")
      ->required();
  user_add->add_option("--name", user_add_options.name, "Display name")->required();
  user_add->add_option("--by", user_add_options.requested_by,
                       "Login of the administrator requesting the role (default: the operator)");
  user_add->add_option("--link", user_add_options.link,
                       "Practitioner/ID (a clinician) or Organization/ID (a lab technician's lab)");
  auto* user_reset = user->add_subcommand(
      "reset", "Remove an account's factors and sessions; prints a new enrollment code");
  user_reset->add_option("--dir", user_dir, "Directory of the vault")->required();
  user_reset->add_option("--login", user_login, "Login of the account")->required();
  std::string user_reference;
  auto* user_link = user->add_subcommand(
      "link", "Link a clinician to their Practitioner, a lab technician to their Organization");
  user_link->add_option("--dir", user_dir, "Directory of the vault")->required();
  user_link->add_option("login", user_login, "Login of the account")->required();
  user_link
      ->add_option("reference", user_reference, "Practitioner/<id> or Organization/<id>")
      ->required();
  auto* user_activation = user->add_subcommand(
      "activation-code", "Print a one-time activation code for a patient's own account");
  user_activation->add_option("--dir", user_dir, "Directory of the vault")->required();
  user_activation->add_option("--patient", user_patient, "Patient id")->required();
  // exfiltration guard:
  std::string reinstate_client;
  auto* user_reinstate = user->add_subcommand(
      "reinstate", "Lift the exfiltration guard's suspension of an account or API client");
  user_reinstate->add_option("--dir", user_dir, "Directory of the vault")->required();
  auto* reinstate_login = user_reinstate->add_option("--login", user_login, "Login of the account");
  user_reinstate->add_option("--client", reinstate_client, "Id of the API client")
      ->excludes(reinstate_login);
  // sensitive categories (glass):
  std::string grant_category;
  bool grant_revoke = false;
  auto* user_grant = user->add_subcommand(
      "grant", "Let a staff account see a sensitive category (or --revoke it)");
  user_grant->add_option("--dir", user_dir, "Directory of the vault")->required();
  user_grant->add_option("login", user_login, "Login of the account")->required();
  user_grant
      ->add_option("--sensitive", grant_category,
                   "mental_health, sexual_health, pregnancy or genetics")
      ->required();
  user_grant->add_flag("--revoke", grant_revoke, "Take the permission back");
  auto* user_show = user->add_subcommand(
      "show", "Print an account: kind, status, link and sensitive categories");
  user_show->add_option("--dir", user_dir, "Directory of the vault")->required();
  user_show->add_option("login", user_login, "Login of the account")->required();
  // approvals (four eyes):
  std::string grant_id;
  std::string grant_by;
  auto* user_approve = user->add_subcommand(
      "approve", "Four eyes: a second administrator approves a pending staff role");
  auto* user_refuse =
      user->add_subcommand("refuse", "An administrator refuses a pending staff role");
  for (auto* decide : {user_approve, user_refuse}) {
    decide->add_option("--dir", user_dir, "Directory of the vault")->required();
    decide->add_option("--grant", grant_id, "Id of the role grant (`medvault user grants`)")
        ->required();
    decide->add_option("--by", grant_by, "Login of the deciding administrator (active)")
        ->required();
  }
  auto* user_grants =
      user->add_subcommand("grants", "List the staff roles waiting for a second administrator");
  user_grants->add_option("--dir", user_dir, "Directory of the vault")->required();

  medvault::cli::ClientAddOptions client_options;
  auto* client = app.add_subcommand("client", "API clients (SMART Backend Services)");
  client->require_subcommand(1);
  auto* client_add = client->add_subcommand(
      "add", "Register a machine client: its public JWKS and the scopes it may get");
  client_add->add_option("--dir", client_options.vault_dir, "Directory of the vault")->required();
  client_add->add_option("--client-id", client_options.client_id, "Client id")->required();
  client_add->add_option("--jwks", client_options.jwks_file, "File with the public JWK Set")
      ->required();
  client_add
      ->add_option("--scopes", client_options.scopes,
                   "SMART system scopes, e.g. \"system/Observation.c\"")
      ->required();
  auto* client_organization = client_add->add_option(
      "--organization", client_options.organization,
      "Id of the Organization the client acts for: it reaches that organization's patients only");
  client_add
      ->add_flag("--all-organizations", client_options.all_organizations,
                 "The client reaches every organization's patients (within its scopes)")
      ->excludes(client_organization);

  fs::path patient_dir;
  std::string patient_id;
  std::string patient_confirm;
  auto* patient = app.add_subcommand("patient", "Patients: crypto-shredding");
  patient->require_subcommand(1);
  auto* patient_erase = patient->add_subcommand(
      "erase",
      "Destroy a patient's data key: every version of their records becomes unreadable for "
      "good (recorded in the audit log first)");
  patient_erase->add_option("--dir", patient_dir, "Directory of the vault")->required();
  patient_erase->add_option("--id", patient_id, "Patient id")->required();
  patient_erase->add_option("--confirm", patient_confirm, "The same patient id again")
      ->required();

  fs::path export_dir;
  fs::path export_key;
  fs::path export_in;
  fs::path export_out;
  std::string export_job;
  std::string export_by;
  std::vector<fs::path> export_files;
  auto* export_command = app.add_subcommand(
      "export", "Bulk export as approved jobs: recipient keys, decisions, opening, tracing");
  export_command->require_subcommand(1);
  auto* export_keygen = export_command->add_subcommand(
      "keygen", "Make a recipient key pair: FILE (secret, 0600) and FILE.pub");
  export_keygen->add_option("--out", export_key, "File for the secret key")->required();
  auto* export_open = export_command->add_subcommand(
      "open", "Open a sealed export with the recipient's secret key into NDJSON files");
  export_open->add_option("--key", export_key, "The recipient's secret key file")->required();
  export_open->add_option("--in", export_in, "The sealed export file")->required();
  export_open->add_option("--out", export_out, "Directory for the NDJSON files")->required();
  auto* export_approve = export_command->add_subcommand(
      "approve", "Four eyes: an administrator other than the requester approves a job");
  auto* export_refuse = export_command->add_subcommand("refuse", "An administrator refuses a job");
  for (auto* decide : {export_approve, export_refuse}) {
    decide->add_option("--dir", export_dir, "Directory of the vault")->required();
    decide->add_option("--job", export_job, "Id of the export job")->required();
    decide->add_option("--by", export_by, "Login of the deciding administrator (active)")
        ->required();
  }
  auto* export_list = export_command->add_subcommand("list", "List the export jobs");
  export_list->add_option("--dir", export_dir, "Directory of the vault")->required();
  auto* export_trace = export_command->add_subcommand(
      "trace", "Name the export job a leaked file came from (its canary patients)");
  export_trace->add_option("--dir", export_dir, "Directory of the vault")->required();
  export_trace->add_option("files", export_files, "NDJSON files or directories of them")
      ->required();

  app.add_subcommand("version", "Print medvault's version");

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  auto known = app.get_subcommands(
      [&](CLI::App* command) { return argc > 1 && command->get_name() == argv[1]; });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(stderr, "medvault: unknown command '%s' (see 'medvault --help')\n", argv[1]);
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    std::string where = app.get_subcommands().empty()
                            ? "medvault --help"
                            : "medvault " + app.get_subcommands().front()->get_name() + " --help";
    std::fprintf(stderr, "medvault: %s (see '%s')\n", error.what(), where.c_str());
    return kExitUsage;
  }

  if (init->parsed()) {
    if (!token_module.empty()) {
      token.pkcs11_module = std::filesystem::absolute(token_module);
      if (token.pkcs11_pin_file)
        *token.pkcs11_pin_file = std::filesystem::absolute(*token.pkcs11_pin_file);
      vault_options.pkcs11 = token;
    }
    int code = Report(medvault::cli::CreateVault(init_dir, vault_options));
    if (code == kExitOk) std::printf("created vault %s\n", init_dir.c_str());
    return code;
  }
  if (demo->parsed()) {
    int code = Report(medvault::cli::CreateVault(demo_dir, {}));
    if (code != kExitOk) return code;
    auto vault = medvault::cli::OpenVault(demo_dir, {});
    if (!vault) return Report(std::unexpected(vault.error()));
    auto added = medvault::cli::AddDemoPatients(*vault, demo_patients);
    if (!added) return Report(std::unexpected(added.error()));
    std::printf("created demo vault %s with %zu patients (made up, encrypted in the store)\n",
                demo_dir.c_str(), added->patients);
    std::printf(
        "  %zu FHIR resources: a lab, a clinic, their staff, and years of results, "
        "prescriptions and notes\n",
        added->written.size());
    return Report(medvault::cli::AddDemoAccounts(*vault, added->first_patient_id));
  }
  if (serve->parsed()) {
    if (!listen.empty()) serve_options.listen = listen;
    if (!store_url.empty()) serve_options.store_url = store_url;
    return Report(medvault::cli::Serve(serve_options));
  }
  if (audit_verify->parsed()) {
    auto intact = medvault::cli::VerifyAudit(audit_dir, audit_checkpoint);
    if (!intact) return Report(std::unexpected(intact.error()));
    return *intact ? kExitOk : kExitFailure;
  }
  if (audit_scope->parsed()) return Report(medvault::cli::AuditScope(audit_dir, scope_options));
  if (user_add->parsed()) return Report(medvault::cli::AddUser(user_add_options));
  if (user_reset->parsed()) return Report(medvault::cli::ResetUser(user_dir, user_login));
  if (user_link->parsed()) {
    return Report(medvault::cli::LinkUser(user_dir, user_login, user_reference));
  }
  if (user_activation->parsed()) {
    return Report(medvault::cli::IssueActivationCode(user_dir, user_patient));
  }
  if (user_reinstate->parsed()) {
    return Report(medvault::cli::ReinstateUser(user_dir, user_login, reinstate_client));
  }
  if (user_grant->parsed()) {
    return Report(
        medvault::cli::GrantSensitive(user_dir, user_login, grant_category, grant_revoke));
  }
  if (user_show->parsed()) return Report(medvault::cli::ShowUser(user_dir, user_login));
  if (user_approve->parsed() || user_refuse->parsed()) {
    return Report(medvault::cli::DecideGrant(user_dir, grant_id, grant_by,
                                             user_approve->parsed()
                                                 ? medvault::cli::GrantDecision::kApprove
                                                 : medvault::cli::GrantDecision::kRefuse));
  }
  if (user_grants->parsed()) return Report(medvault::cli::ListGrants(user_dir));
  if (client_add->parsed()) return Report(medvault::cli::AddClient(client_options));
  if (export_keygen->parsed()) return Report(medvault::cli::ExportKeygen(export_key));
  if (export_open->parsed()) {
    return Report(medvault::cli::ExportOpen(export_key, export_in, export_out));
  }
  if (export_approve->parsed() || export_refuse->parsed()) {
    return Report(medvault::cli::ExportDecide(export_dir, export_job, export_by,
                                              export_approve->parsed()
                                                  ? medvault::cli::ExportDecision::kApprove
                                                  : medvault::cli::ExportDecision::kRefuse));
  }
  if (export_list->parsed()) return Report(medvault::cli::ExportList(export_dir));
  if (export_trace->parsed()) {
    auto found = medvault::cli::ExportTrace(export_dir, export_files);
    if (!found) return Report(std::unexpected(found.error()));
    return *found ? kExitOk : kExitFailure;
  }
  if (keys_status->parsed()) return Report(medvault::cli::PrintKeyStatus(keys_dir));
  if (keys_rotate->parsed()) return Report(medvault::cli::RotateKeys(keys_dir));
  if (patient_erase->parsed()) {
    return Report(medvault::cli::ErasePatient(patient_dir, patient_id, patient_confirm));
  }
  std::printf("medvault %s\n", MEDVAULT_VERSION);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "medvault: unexpected error: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "medvault: unexpected error\n");
  }
  return kExitFailure;
}
