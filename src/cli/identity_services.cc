#include "cli/identity_services.h"

#include <chrono>

#include "core/log.h"

namespace medvault::cli {
namespace {

std::chrono::seconds Seconds(std::chrono::milliseconds value) {
  return std::chrono::duration_cast<std::chrono::seconds>(value);
}

Result<identity::SecondFactorRule> Rule(const std::string& value, std::string_view key) {
  auto rule = identity::ParseSecondFactorRule(value);
  if (!rule) {
    return Fail(ErrorCode::kInvalidArgument,
                "configuration: auth." + std::string(key) + " must be passkey or passkey_or_totp");
  }
  return *rule;
}

audit::Action ActionOf(std::string_view event) {
  using audit::Action;
  if (event == "login_password") return Action::kLogin;
  if (event.starts_with("login_") || event.starts_with("step_up")) return Action::kSecondFactor;
  if (event.starts_with("enrollment_") && event != "enrollment_reset") return Action::kEnrollFactor;
  if (event == "activation" || event == "factor_added" || event == "factor_removed" ||
      event == "recovery_codes_replaced") {
    return Action::kEnrollFactor;
  }
  if (event == "account_locked") return Action::kLockout;
  if (event == "account_created" || event == "client_registered") return Action::kUserAdd;
  if (event == "token") return Action::kTokenIssue;
  if (event == "role_requested") return Action::kApprovalRequest;
  if (event == "role_approved") return Action::kApprove;
  if (event == "role_refused") return Action::kRefuse;
  if (event.starts_with("logout") || event.starts_with("session")) return Action::kSessionEnd;
  return Action::kUserChange;  // resets, activation codes and other account changes
}

audit::Role RoleOf(std::string_view kind) {
  using audit::Role;
  if (kind == "patient") return Role::kPatient;
  if (kind == "clinician") return Role::kClinician;
  if (kind == "lab_technician") return Role::kLabTechnician;
  if (kind == "administrator") return Role::kAdministrator;
  if (kind == "auditor") return Role::kAuditor;
  if (kind == "client") return Role::kIntegration;
  return Role::kNone;
}

}  // namespace

audit::Entry AuditEntryOf(const identity::AuthEvent& event, std::string_view client) {
  audit::Entry entry;
  entry.time = event.at;
  entry.client = std::string(client);
  entry.source_address = event.source;
  entry.action = ActionOf(event.event);
  entry.outcome = event.outcome == "success" ? audit::Outcome::kSuccess : audit::Outcome::kDenied;
  // At the console the operator acts, unless an administrator named themselves (`user approve
  // --by`): four eyes must show both people.
  const bool by_operator = client == "cli" && (event.actor_id.empty() || event.actor_id == "cli" ||
                                                event.actor_id == "demo");
  if (by_operator || !event.actor_id.empty()) {
    // Someone acted on the account: the actor is who, the account is what.
    entry.account = by_operator ? "" : event.actor_id;
    entry.role = by_operator ? audit::Role::kOperator : audit::Role::kAdministrator;
    entry.purpose = audit::Purpose::kAdministration;
    if (!event.account_id.empty()) {
      entry.resource_type = event.account_kind == "client" ? "Client" : "Account";
      entry.resource_ids = {event.account_id};
    }
  } else {
    entry.account = event.account_id;
    entry.role = RoleOf(event.account_kind);
  }
  return entry;
}

Status AuditAuthEvents::Record(const identity::AuthEvent& event) {
  log::Info("auth_event", {{"account", std::string_view(event.account_id)},
                           {"kind", std::string_view(event.account_kind)},
                           {"source", std::string_view(event.source)},
                           {"auth_event", std::string_view(event.event)},
                           {"outcome", std::string_view(event.outcome)},
                           {"actor", std::string_view(event.actor_id)}});
  if (auto appended = log_.Append(AuditEntryOf(event, client_)); !appended) {
    log::Error("audit_write_failed", {{"auth_event", std::string_view(event.event)},
                                      {"error", std::string_view(appended.error().message())}});
    return Fail(ErrorCode::kUnavailable, "the audit log cannot record this now: try again shortly");
  }
  return {};
}

Result<std::unique_ptr<IdentityServices>> MakeIdentityServices(OpenedVault& vault,
                                                               audit::AuditLog& audit_log) {
  const AuthConfig& config = vault.config.auth;
  auto services = std::make_unique<IdentityServices>();
  services->events = std::make_unique<AuditAuthEvents>(audit_log, "api");

  identity::LoginOptions login_options;
  // Below one second (tests only): no backoff, the disable-after-100 rule still holds.
  login_options.account_throttle.first_delay = Seconds(config.backoff_first_delay);
  struct {
    const std::string& value;
    std::string_view key;
    identity::SecondFactorRule& rule;
  } rules[] = {
      {config.second_factor_patient, "second_factor_patient", login_options.rules.patient},
      {config.second_factor_clinician, "second_factor_clinician", login_options.rules.clinician},
      {config.second_factor_lab_technician, "second_factor_lab_technician",
       login_options.rules.lab_technician},
      {config.second_factor_administrator, "second_factor_administrator",
       login_options.rules.administrator},
      {config.second_factor_auditor, "second_factor_auditor", login_options.rules.auditor},
  };
  for (auto& entry : rules) {
    auto rule = Rule(entry.value, entry.key);
    if (!rule) return std::unexpected(rule.error());
    entry.rule = *rule;
  }
  if (config.hash_threads == 0) {
    return Fail(ErrorCode::kInvalidArgument, "configuration: auth.hash_threads must be at least 1");
  }

  auto hasher = identity::PasswordHasher::Create(
      {.cost = {}, .threads = config.hash_threads, .max_pending = config.hash_queue});
  if (!hasher) return std::unexpected(hasher.error());
  services->hasher = std::move(*hasher);

  identity::SessionPolicy policy;
  policy.staff_idle = Seconds(config.staff_idle_timeout);
  policy.patient_idle = Seconds(config.patient_idle_timeout);
  policy.absolute = Seconds(config.session_lifetime);
  // Touch a session often enough that the shorter idle timeout is measured to a quarter.
  policy.touch_interval = std::min<std::chrono::seconds>(
      std::chrono::seconds(5), std::min(policy.staff_idle, policy.patient_idle) / 4);
  services->sessions = std::make_unique<identity::Sessions>(*vault.store, services->clock, policy);
  services->source_throttle =
      std::make_unique<identity::SourceThrottle>(identity::SourceThrottle::Options{
          .capacity = static_cast<double>(std::max<std::size_t>(1, config.source_burst)),
          .refill_per_second =
              static_cast<double>(std::max<std::size_t>(1, config.source_per_minute)) / 60.0});
  services->stuffing =
      std::make_unique<identity::StuffingDetector>(identity::StuffingDetector::Options{
          .distinct_accounts = std::max<std::size_t>(1, config.stuffing_accounts)});
  services->accounts = std::make_unique<identity::Accounts>(
      *vault.store, services->clock, *services->events, identity::Accounts::Options{});
  services->clients =
      std::make_unique<identity::ApiClients>(*vault.store, services->clock, *services->events);
  auto totp_key = vault.records->derived_keys().SecretKey("identity.totp");
  if (!totp_key) return std::unexpected(totp_key.error());
  services->login = std::make_unique<identity::LoginService>(
      *vault.store, services->clock, *services->hasher, *services->sessions,
      *services->source_throttle, *services->stuffing, *services->events, std::move(*totp_key),
      login_options);
  return services;
}

}  // namespace medvault::cli
