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

}  // namespace

void LogAuthEvents::Record(const identity::AuthEvent& event) {
  log::Info("auth_event", {{"account", std::string_view(event.account_id)},
                           {"kind", std::string_view(event.account_kind)},
                           {"source", std::string_view(event.source)},
                           {"auth_event", std::string_view(event.event)},
                           {"outcome", std::string_view(event.outcome)},
                           {"actor", std::string_view(event.actor_id)}});
}

Result<std::unique_ptr<IdentityServices>> MakeIdentityServices(OpenedVault& vault) {
  const AuthConfig& config = vault.config.auth;
  auto services = std::make_unique<IdentityServices>();

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
      *vault.store, services->clock, services->events, identity::Accounts::Options{});
  services->clients =
      std::make_unique<identity::ApiClients>(*vault.store, services->clock, services->events);
  auto totp_key = vault.records->derived_keys().SecretKey("identity.totp");
  if (!totp_key) return std::unexpected(totp_key.error());
  services->login = std::make_unique<identity::LoginService>(
      *vault.store, services->clock, *services->hasher, *services->sessions,
      *services->source_throttle, *services->stuffing, services->events, std::move(*totp_key),
      login_options);
  return services;
}

}  // namespace medvault::cli
