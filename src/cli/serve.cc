#include "cli/serve.h"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stop_token>
#include <thread>

#include "api/audit_api.h"
#include "api/auth_api.h"
#include "api/export_api.h"
#include "api/fhir_api.h"
#include "api/lab_api.h"
#include "audit/audit_log.h"
#include "audit/checkpointer.h"
#include "cli/identity_services.h"
#include "cli/lab_feed.h"
#include "cli/vault.h"
#include "core/config.h"
#include "core/log.h"
#include "http/dispatcher.h"
#include "http/health.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_files.h"
#include "http/tls.h"
#include "policy/care_relations.h"
#include "policy/alert_webhook.h"
#include "policy/decider.h"
#include "policy/guard.h"
#include "records/bulk_export.h"
#include "records/clinical_records.h"
#include "records/emergency_access.h"
#include "records/key_report.h"

namespace medvault::cli {
namespace {

// Health data and keys live in this process's memory: keep them out of core files and away
// from other processes of the same user.
void HardenProcess() {
  ::umask(077);
  struct rlimit no_core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// A checkpoint is worth something only where a copy of the data directory does not carry it.
Status CheckCheckpointDirOutsideData(const Config& config) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (!std::string_view(config.store.url).starts_with(kSqlite)) return {};
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path data =
      fs::weakly_canonical(fs::path(config.store.url.substr(kSqlite.size())).parent_path(), error);
  const fs::path checkpoints = fs::weakly_canonical(config.audit.checkpoint_dir, error);
  if (error) return {};
  auto [mismatch, rest] =
      std::mismatch(data.begin(), data.end(), checkpoints.begin(), checkpoints.end());
  if (mismatch == data.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                "audit.checkpoint_dir must be outside the data directory");
  }
  return {};
}

// Store and audit work mostly waits (on I/O, and on the audit log's group commit, which a
// request waits for before its data leaves), so the FHIR pool has many more threads than the
// machine has cores: enough waiting requests to fill each group commit. A request holds its
// worker through two waits (the guard's round and the audit entry), so fewer workers than
// connections leave the group commits half empty: 128 covers the usual pools of clients.
std::size_t FhirWorkerThreads() {
  return std::max<std::size_t>(128, 32 * std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

Status Serve(const ServeOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  HardenProcess();
  auto vault =
      OpenVault(options.vault_dir, {.listen = options.listen, .store_url = options.store_url});
  if (!vault) return std::unexpected(vault.error());
  const Config* config = &vault->config;

  std::unique_ptr<boost::asio::ssl::context> tls;
  if (config->server.tls) {
    auto context = http::MakeServerTlsContext(config->tls.certificate, config->tls.private_key);
    if (!context) return std::unexpected(context.error());
    tls = std::move(*context);
  }

  store::Store& store = *vault->store;
  // The audit log and its checkpointer: signed at audit.checkpoint_interval_seconds and once
  // more when the server stops (the checkpointer is destroyed before the log).
  if (auto outside = CheckCheckpointDirOutsideData(*config); !outside) return outside;
  static const SystemClock clock;
  auto audit_log = audit::AuditLog::Open(store, clock);
  if (!audit_log) return std::unexpected(audit_log.error());
  auto checkpointer = audit::Checkpointer::Start(
      **audit_log, store, vault->records->derived_keys().signing_key(), clock,
      {config->audit.checkpoint_dir, config->audit.checkpoint_interval,
       config->audit.checkpoint_command});
  if (!checkpointer) return std::unexpected(checkpointer.error());

  http::Router router;
  if (auto ok = http::AddHealthRoutes(router, [&store] { return store.Ping(); }); !ok) return ok;
  auto identity = MakeIdentityServices(*vault, **audit_log);
  if (!identity) return std::unexpected(identity.error());
  // Filled in once the port is known, before any request is served.
  auto token_endpoint = std::make_shared<std::string>();
  if (auto ok = api::AddAuthRoutes(router,
                                   {*(*identity)->login, *(*identity)->sessions,
                                    *(*identity)->clients, *(*identity)->accounts},
                                   {.token_endpoint = token_endpoint});
      !ok) {
    return ok;
  }
  // The exfiltration guard (guard.*): every access the policy allows is counted; its alerts
  // go to the log and, when set, to the operators' webhook.
  std::unique_ptr<policy::AlertWebhook> webhook;
  if (!config->guard.webhook_url.empty()) {
    auto target = policy::ParseWebhookUrl(config->guard.webhook_url);
    if (!target) return std::unexpected(target.error());
    webhook = std::make_unique<policy::AlertWebhook>(std::move(*target));
  }
  const auto post_alert = [hook = webhook.get()](const store::Alert& alert) {
    if (hook != nullptr) hook->Post(alert);
  };
  std::unique_ptr<policy::ExfiltrationGuard> guard;
  if (config->guard.enabled) {
    auto guard_options = policy::ExfiltrationGuard::OptionsFrom(config->guard);
    if (!guard_options) return std::unexpected(guard_options.error());
    guard = std::make_unique<policy::ExfiltrationGuard>(store, clock, std::move(*guard_options),
                                                        post_alert);
  }
  // The FHIR API: every access decided by the policy and written to the audit log first.
  policy::StoreCareRelations care_relations(store);
  policy::Decider decider(**audit_log, clock,
                          {.gate = guard.get(), .relations = &care_relations});
  records::ClinicalRecords clinical(*vault->records, store, **audit_log, decider, clock, {});
  // Break-the-glass: grants of policy.break_glass_hours, their alerts like the guard's.
  records::EmergencyAccess emergency_access(
      *vault->records, store, **audit_log, decider, clock,
      {.duration = std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::duration<double, std::ratio<3600>>(config->policy.break_glass_hours)),
       .on_alert = post_alert});
  auto fhir_base = std::make_shared<std::string>();
  if (auto ok = api::AddFhirRoutes(
          router,
          {clinical, *(*identity)->sessions, *(*identity)->clients, store, &emergency_access},
          {.base_url = fhir_base, .worker_threads = FhirWorkerThreads()});
      !ok) {
    return ok;
  }
  if (auto ok = api::AddAuditRoutes(
          router,
          {.log = **audit_log,
           .decider = decider,
           .sessions = *(*identity)->sessions,
           .clients = *(*identity)->clients,
           .store = store,
           .emergency_access = &emergency_access,
           .clock = &clock,
           .verifier = audit::VerifierOf(vault->records->derived_keys().signing_key()),
           .checkpoint_dir = config->audit.checkpoint_dir,
           .keys = vault->records.get(),
           .key_place = records::KeyPlaceDescription(config->keys)},
          {});
      !ok)
    return ok;
  // Lab feed: HL7 v2 results over MLLP (lab.*), written as the integration client lab.client_id.
  auto lab_feed = LabFeed::Start(*config, clinical, *vault->records, store, **audit_log, clock);
  if (!lab_feed) return std::unexpected(lab_feed.error());
  if (auto ok = api::AddLabRoutes(router, {(*lab_feed)->ingest(), clinical, (*lab_feed)->client(),
                                           *(*identity)->sessions, *(*identity)->clients, store});
      !ok) {
    return ok;
  }
  // Bulk export (issue 8): jobs a second person approves, sealed files under data/exports,
  // swept when their time passes.
  records::BulkExports exports(clinical, store, **audit_log, clock,
                               {.directory = config->vault_dir / "data" / "exports",
                                .request_ttl = config->export_jobs.request_ttl,
                                .file_ttl = config->export_jobs.file_ttl,
                                .canaries = config->export_jobs.canaries});
  if (auto ok = api::AddExportRoutes(
          router, {exports, *(*identity)->sessions, *(*identity)->clients, store},
          {.base_url = fhir_base});
      !ok) {
    return ok;
  }
  std::jthread export_sweeper([&exports](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    while (!stop.stop_requested()) {
      if (auto swept = exports.ExpireDue(); !swept) {
        log::Error("export_sweep_failed", {{"error", std::string_view(swept.error().message())}});
      }
      std::unique_lock lock(mutex);
      wake.wait_for(lock, stop, std::chrono::seconds(60), [] { return false; });
    }
  });
  // The web portal: static files only; it talks to the server through the API above.
  if (auto ok = http::AddStaticRoutes(router, http::WebAssets(), "index.html"); !ok) return ok;
  auto dispatcher = std::make_shared<const http::Dispatcher>(std::move(router));
  auto server = http::Server::Open(config->server, std::move(tls), dispatcher);
  if (!server) return std::unexpected(server.error());

  const std::string address = (*server)->local_address();
  std::string public_url = config->auth.public_url;
  if (public_url.empty()) public_url = (config->server.tls ? "https://" : "http://") + address;
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  *token_endpoint = public_url + "/auth/token";
  *fhir_base = public_url + "/fhir";
  identity::RelyingParty rp{config->auth.rp_id, "medvault", {}, false};
  std::string_view origins = config->auth.passkey_origins;
  while (!origins.empty()) {
    const auto space = origins.find(' ');
    if (space != 0) rp.origins.emplace_back(origins.substr(0, space));
    if (space == std::string_view::npos) break;
    origins.remove_prefix(space + 1);
  }
  if (rp.origins.empty()) {
    const std::string port = address.substr(address.rfind(':') + 1);
    rp.origins.push_back((config->server.tls ? "https://" : "http://") + rp.id + ":" + port);
  }
  (*identity)->login->SetRelyingParty(std::move(rp));
  const double startup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::Info("listening", {{"address", std::string_view(address)},
                          {"tls", config->server.tls},
                          {"startup_ms", startup_ms}});
  (*server)->Run();
  log::Info("stopped");
  return {};
}

}  // namespace medvault::cli
