#include "cli/users.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/identity_services.h"
#include "cli/vault.h"
#include "identity/accounts.h"
#include "identity/api_clients.h"
#include "identity/auth_events.h"
#include "policy/guard.h"
#include "policy/sensitive.h"

namespace medvault::cli {
namespace {

constexpr std::string_view kCliActor = "cli";

}  // namespace

Result<std::unique_ptr<OperatorVault>> OpenForOperator(const std::filesystem::path& dir) {
  auto vault = OpenVault(dir, {});
  if (!vault) return std::unexpected(vault.error());
  auto opened = std::make_unique<OperatorVault>();
  opened->vault = std::move(*vault);
  auto audit_log = audit::AuditLog::Open(*opened->vault.store, opened->clock);
  if (!audit_log) return std::unexpected(audit_log.error());
  opened->audit_log = std::move(*audit_log);
  opened->events = std::make_unique<AuditAuthEvents>(*opened->audit_log, "cli");
  return opened;
}

Result<store::Account> ActiveAdministrator(identity::Accounts& accounts, const std::string& login) {
  auto account = accounts.FindByLogin(login);
  if (!account) {
    if (account.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no account has the login " + login);
    }
    return std::unexpected(account.error());
  }
  if (account->kind != identity::AccountKindName(identity::AccountKind::kAdministrator) ||
      account->status != identity::kStatusActive) {
    return Fail(ErrorCode::kPermissionDenied, login + " is not an active administrator");
  }
  return account;
}

namespace {

// The operator's change to an account, recorded in the audit log before it is made.
Status RecordUserChange(OperatorVault& op, const store::Account& account) {
  audit::Entry entry;
  entry.account = "operator";
  entry.role = audit::Role::kOperator;
  entry.client = std::string(kCliActor);
  entry.action = audit::Action::kUserChange;
  entry.purpose = audit::Purpose::kAdministration;
  entry.resource_ids = {account.id};
  auto appended = op.audit_log->Append(std::move(entry));
  if (!appended) return std::unexpected(appended.error());
  return {};
}

}  // namespace

Status AddUser(const UserAddOptions& options) {
  auto kind = identity::ParseAccountKind(options.kind);
  if (!kind) return std::unexpected(kind.error());
  auto op = OpenForOperator(options.vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  if (!options.link.empty()) {
    if (auto checked = accounts.CheckLink(identity::AccountKindName(*kind), options.link);
        !checked) {
      return checked;
    }
  }
  if (*kind == identity::AccountKind::kPatient) {
    return Fail(ErrorCode::kInvalidArgument,
                "patients activate their own account: give them a code from `medvault user "
                "activation-code --patient ID`");
  }
  std::string actor(kCliActor);
  auto approval = identity::RoleApproval::kOperatorBootstrap;
  if (!options.requested_by.empty()) {
    auto requester = ActiveAdministrator(accounts, options.requested_by);
    if (!requester) return std::unexpected(requester.error());
    actor = requester->id;
    approval = identity::RoleApproval::kSecondAdministrator;
  }
  auto created = accounts.CreateStaff(options.login, *kind, options.name, actor, approval);
  if (!created) return std::unexpected(created.error());
  if (!options.link.empty()) {
    auto linked = accounts.Link(created->account.login, options.link, actor);
    if (!linked) return std::unexpected(linked.error());
    std::printf("linked to %s\n", options.link.c_str());
  }
  if (created->pending_grant) {
    std::printf(
        "account %s (%s) created, waiting for a second administrator to approve its role\n",
        created->account.login.c_str(), created->account.kind.c_str());
    std::printf("role grant %s (expires in 72 h): medvault user approve --dir DIR --grant %s "
                "--by ADMINISTRATOR\n",
                created->pending_grant->id.c_str(), created->pending_grant->id.c_str());
  } else {
    std::printf("account %s (%s) created, pending enrollment\n", created->account.login.c_str(),
                created->account.kind.c_str());
  }
  std::printf("enrollment code (one use, 72 h): %s\n",
              std::string(created->enrollment_code.view()).c_str());
  return {};
}

Status DecideGrant(const std::filesystem::path& vault_dir, const std::string& grant_id,
                   const std::string& by, GrantDecision decision) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto decider = ActiveAdministrator(accounts, by);
  if (!decider) return std::unexpected(decider.error());
  auto decided = decision == GrantDecision::kApprove
                     ? accounts.ApproveRoleGrant(grant_id, decider->id)
                     : accounts.RefuseRoleGrant(grant_id, decider->id);
  if (!decided) return std::unexpected(decided.error());
  std::printf("role grant %s %s: account %s (%s)%s\n", decided->id.c_str(),
              decided->state.c_str(), decided->account_id.c_str(), decided->kind.c_str(),
              decision == GrantDecision::kApprove ? " may now enroll" : " stays closed");
  return {};
}

Status ListGrants(const std::filesystem::path& vault_dir) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto pending = accounts.ListPendingRoleGrants(1000);
  if (!pending) return std::unexpected(pending.error());
  std::printf("%zu pending role grant(s)\n", pending->size());
  for (const store::RoleGrant& grant : *pending) {
    std::printf("  %s  account %s  %s  requested by %s  expires %s\n", grant.id.c_str(),
                grant.account_id.c_str(), grant.kind.c_str(), grant.requested_by.c_str(),
                fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(grant.expires_at)).c_str());
  }
  return {};
}

Status ResetUser(const std::filesystem::path& vault_dir, const std::string& login) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto code = accounts.ResetEnrollment(login, kCliActor);
  if (!code) return std::unexpected(code.error());
  std::printf("enrollment of %s reset: factors and sessions removed\n", login.c_str());
  std::printf("enrollment code (one use, 72 h): %s\n", std::string(code->view()).c_str());
  return {};
}

Status IssueActivationCode(const std::filesystem::path& vault_dir, const std::string& patient_id) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto code = accounts.IssueActivationCode(patient_id, kCliActor);
  if (!code) return std::unexpected(code.error());
  std::printf("activation code (one use, 30 days): %s\n", std::string(code->view()).c_str());
  return {};
}

Status LinkUser(const std::filesystem::path& vault_dir, const std::string& login,
                const std::string& reference) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto linked = accounts.Link(login, reference, kCliActor);
  if (!linked) return std::unexpected(linked.error());
  std::printf("account %s linked to %s\n", login.c_str(), reference.c_str());
  return {};
}

Status ReinstateUser(const std::filesystem::path& vault_dir, const std::string& login,
                     const std::string& client_id) {
  if (login.empty() == client_id.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "give --login LOGIN or --client ID");
  }
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  store::Store& store = *(*op)->vault.store;
  const std::string& named = login.empty() ? client_id : login;
  if (!login.empty()) {
    identity::Accounts accounts(store, (*op)->clock, *(*op)->events, {});
    if (auto reinstated = accounts.Reinstate(login, kCliActor); !reinstated) {
      if (reinstated.error().code() != ErrorCode::kConflict) {
        return std::unexpected(reinstated.error());
      }
      return Fail(ErrorCode::kNotFound,
                  fmt::format("{} is not suspended: nothing to reinstate", named));
    }
  } else {
    identity::AuthEvent event;
    event.at = (*op)->clock.Now();
    event.event = "account_reinstated";
    event.actor_id = std::string(kCliActor);
    event.account_id = client_id;
    auto reinstated = policy::ExfiltrationGuard::Reinstate(store, client_id, event.at);
    if (!reinstated) return std::unexpected(reinstated.error());
    if (!*reinstated) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("{} is not suspended: nothing to reinstate", named));
    }
    event.outcome = "success";
    if (auto recorded = (*op)->events->Record(event); !recorded) return recorded;
  }
  std::printf("%s reinstated: the guard's counts are reset; it logs in again with both factors\n",
              named.c_str());
  return {};
}

Status AddClient(const ClientAddOptions& options) {
  if (options.organization.empty() && !options.all_organizations) {
    return Fail(ErrorCode::kInvalidArgument,
                "a client acts for one organization: give --organization ID (the id of its "
                "Organization), or --all-organizations for a client that may reach every "
                "organization's patients within its scopes");
  }
  std::ifstream in(options.jwks_file);
  if (!in)
    return Fail(ErrorCode::kNotFound, "cannot read the JWKS file " + options.jwks_file.string());
  std::stringstream text;
  text << in.rdbuf();
  auto op = OpenForOperator(options.vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::ApiClients clients(*(*op)->vault.store, (*op)->clock, *(*op)->events);
  if (auto s =
          clients.Register(options.client_id, text.str(), options.scopes, options.organization);
      !s) {
    return s;
  }
  if (options.organization.empty()) {
    std::printf("client %s registered for every organization\n", options.client_id.c_str());
  } else {
    std::printf("client %s registered for Organization/%s\n", options.client_id.c_str(),
                options.organization.c_str());
  }
  return {};
}

Status GrantSensitive(const std::filesystem::path& vault_dir, const std::string& login,
                      const std::string& category, bool revoke) {
  if (!policy::SensitiveCategoryFromName(category)) {
    return Fail(ErrorCode::kInvalidArgument,
                "--sensitive is one of mental_health, sexual_health, pregnancy, genetics");
  }
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto account = accounts.FindByLogin(login);
  if (!account) return std::unexpected(account.error());
  if (account->kind == identity::AccountKindName(identity::AccountKind::kPatient)) {
    return Fail(ErrorCode::kInvalidArgument,
                "a patient sees their own record whole: sensitive permissions are for staff");
  }
  if (auto recorded = RecordUserChange(**op, *account); !recorded) return recorded;
  const store::SensitiveGrant grant{.account_id = account->id,
                                    .category = category,
                                    .granted_at = (*op)->clock.Now(),
                                    .granted_by = std::string(kCliActor)};
  Status changed = (*op)->vault.store->Transact([&](store::Transaction& tx) -> Status {
    return revoke ? tx.DeleteSensitiveGrant(grant.account_id, grant.category)
                  : tx.InsertSensitiveGrant(grant);
  });
  if (!changed) {
    if (changed.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists,
                  fmt::format("{} may already see {}", account->login, category));
    }
    if (changed.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("{} had no permission for {}", account->login, category));
    }
    return changed;
  }
  std::printf(revoke ? "%s may no longer see %s\n" : "%s may now see %s\n",
              account->login.c_str(), category.c_str());
  return {};
}

Status ShowUser(const std::filesystem::path& vault_dir, const std::string& login) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  identity::Accounts accounts(*(*op)->vault.store, (*op)->clock, *(*op)->events, {});
  auto account = accounts.FindByLogin(login);
  if (!account) return std::unexpected(account.error());
  std::optional<store::AccountLink> link;
  std::vector<store::SensitiveGrant> grants;
  Status read = (*op)->vault.store->Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetAccountLink(account->id);
        if (found) {
          link = std::move(*found);
        } else if (found.error().code() != ErrorCode::kNotFound) {
          return std::unexpected(found.error());
        }
        auto listed = tx.ListSensitiveGrants(account->id);
        if (!listed) return std::unexpected(listed.error());
        grants = std::move(*listed);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return read;
  std::printf("login %s\nid %s\nkind %s\nstatus %s\n", account->login.c_str(),
              account->id.c_str(), account->kind.c_str(), account->status.c_str());
  if (link && !link->practitioner_id.empty()) {
    std::printf("linked to Practitioner/%s\n", link->practitioner_id.c_str());
  }
  if (link && !link->organization_id.empty()) {
    std::printf("linked to Organization/%s\n", link->organization_id.c_str());
  }
  std::string categories;
  for (const store::SensitiveGrant& grant : grants) {
    if (!categories.empty()) categories += ' ';
    categories += grant.category;
  }
  std::printf("sensitive categories %s\n", categories.empty() ? "(none)" : categories.c_str());
  return {};
}

}  // namespace medvault::cli
