#include "identity/accounts.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "core/ids.h"
#include "fhir/primitives.h"
#include "identity/tokens.h"

namespace medvault::identity {
namespace {

constexpr std::array<std::pair<AccountKind, std::string_view>, 5> kKinds{{
    {AccountKind::kPatient, "patient"},
    {AccountKind::kClinician, "clinician"},
    {AccountKind::kLabTechnician, "lab_technician"},
    {AccountKind::kAdministrator, "administrator"},
    {AccountKind::kAuditor, "auditor"},
}};

}  // namespace

Result<AccountKind> ParseAccountKind(std::string_view name) {
  for (const auto& [kind, text] : kKinds) {
    if (text == name) return kind;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "account kind must be patient, clinician, lab_technician, administrator or "
              "auditor");
}

std::string_view AccountKindName(AccountKind kind) {
  for (const auto& [k, text] : kKinds) {
    if (k == kind) return text;
  }
  return "unknown";
}

SecondFactorRule SecondFactorRules::For(AccountKind kind) const {
  switch (kind) {
    case AccountKind::kPatient:
      return patient;
    case AccountKind::kClinician:
      return clinician;
    case AccountKind::kLabTechnician:
      return lab_technician;
    case AccountKind::kAdministrator:
      return administrator;
    case AccountKind::kAuditor:
      return auditor;
  }
  return SecondFactorRule::kPasskeyOnly;
}

Result<SecondFactorRule> ParseSecondFactorRule(std::string_view text) {
  if (text == "passkey") return SecondFactorRule::kPasskeyOnly;
  if (text == "passkey_or_totp") return SecondFactorRule::kPasskeyOrTotp;
  return Fail(ErrorCode::kInvalidArgument, "must be passkey or passkey_or_totp");
}

Result<std::string> NormalizeLogin(std::string_view typed) {
  std::string login;
  for (char c : typed) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '@' || c == '-';
    if (!ok) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a login is 3 to 64 letters, digits or . _ @ - (no spaces or accents)");
    }
    login.push_back(c);
  }
  if (login.size() < 3 || login.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument,
                "a login is 3 to 64 letters, digits or . _ @ - (no spaces or accents)");
  }
  return login;
}

Result<Accounts::Created> Accounts::CreateStaff(std::string_view login, AccountKind kind,
                                                std::string_view display_name,
                                                std::string_view actor_id, RoleApproval approval) {
  if (!IsStaff(kind)) {
    return Fail(ErrorCode::kInvalidArgument,
                "patient accounts are created by their patient with an activation code");
  }
  auto folded = NormalizeLogin(login);
  if (!folded) return std::unexpected(folded.error());
  if (display_name.empty() || display_name.size() > store::kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the display name must be 1 to 128 bytes");
  }
  auto code = NewOneTimeCode();
  if (!code) return std::unexpected(code.error());
  const Timestamp now = clock_.Now();
  store::Account account{NewResourceId(),
                         *folded,
                         std::string(AccountKindName(kind)),
                         std::string(kStatusPendingApproval),
                         std::string(display_name),
                         "",
                         now,
                         now};
  store::RoleGrant grant{NewResourceId(), account.id,           account.kind,
                         "",              std::string(actor_id), now,
                         now + options_.role_grant_ttl,         "",
                         Timestamp{}};
  store::OneTimeCode stored{code->hash, std::string(kCodeEnrollment), account.id, now,
                            now + options_.enrollment_code_ttl};
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    bool at_once = false;
    if (approval == RoleApproval::kOperatorBootstrap) {
      auto administrators =
          tx.CountAccounts(AccountKindName(AccountKind::kAdministrator), kStatusActive);
      if (!administrators) return std::unexpected(administrators.error());
      at_once = *administrators == 0;
    }
    account.status = std::string(at_once ? kStatusPendingEnrollment : kStatusPendingApproval);
    grant.state = std::string(at_once ? kGrantApproved : kGrantPending);
    grant.decided_by = at_once ? std::string(actor_id) : std::string();
    grant.decided_at = at_once ? now : Timestamp{};
    if (auto inserted = tx.InsertAccount(account); !inserted) return inserted;
    if (auto inserted = tx.InsertRoleGrant(grant); !inserted) return inserted;
    return tx.InsertOneTimeCode(stored);
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "an account with this login exists already");
    }
    return std::unexpected(s.error());
  }
  const bool pending = grant.state == kGrantPending;
  // Fail-closed, as every code handed out: one the audit log has not recorded is not shown.
  if (auto recorded = events_.Record(
          {now, account.id, account.kind, "", "account_created", "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  if (pending) {
    if (auto recorded = events_.Record({now, account.id, account.kind, "", "role_requested",
                                        "success", std::string(actor_id)});
        !recorded) {
      return std::unexpected(recorded.error());
    }
  }
  Created created{std::move(account), std::move(code->text), std::nullopt};
  if (pending) created.pending_grant = std::move(grant);
  return created;
}

Result<store::RoleGrant> Accounts::ApproveRoleGrant(std::string_view grant_id,
                                                    std::string_view approver_id) {
  return Decide(grant_id, approver_id, Decision::kApprove);
}

Result<store::RoleGrant> Accounts::RefuseRoleGrant(std::string_view grant_id,
                                                   std::string_view refuser_id) {
  return Decide(grant_id, refuser_id, Decision::kRefuse);
}

Result<store::RoleGrant> Accounts::Decide(std::string_view grant_id, std::string_view decider_id,
                                          Decision decision) {
  enum class Outcome { kDecided, kNotAdministrator, kOwnRequest, kNotPending, kExpired };
  const Timestamp now = clock_.Now();
  store::RoleGrant grant;
  Outcome outcome = Outcome::kDecided;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto found = tx.GetRoleGrant(grant_id);
    if (!found) return std::unexpected(found.error());
    grant = std::move(*found);
    auto decider = tx.GetAccount(decider_id);
    if (!decider && decider.error().code() != ErrorCode::kNotFound) {
      return std::unexpected(decider.error());
    }
    if (!decider || decider->kind != AccountKindName(AccountKind::kAdministrator) ||
        decider->status != kStatusActive) {
      outcome = Outcome::kNotAdministrator;
      return {};
    }
    if (grant.state != kGrantPending) {
      outcome = Outcome::kNotPending;
      return {};
    }
    if (now >= grant.expires_at) {
      grant.state = std::string(kGrantExpired);
      grant.decided_at = now;
      outcome = Outcome::kExpired;
      return tx.DecideRoleGrant(grant, kGrantPending);
    }
    if (decision == Decision::kApprove &&
        (decider_id == grant.requested_by || decider_id == grant.account_id)) {
      outcome = Outcome::kOwnRequest;
      return {};
    }
    grant.state = std::string(decision == Decision::kApprove ? kGrantApproved : kGrantRefused);
    grant.decided_by = std::string(decider_id);
    grant.decided_at = now;
    if (auto decided = tx.DecideRoleGrant(grant, kGrantPending); !decided) return decided;
    outcome = Outcome::kDecided;
    if (decision == Decision::kRefuse) return {};
    auto account = tx.GetAccount(grant.account_id);
    if (!account) return std::unexpected(account.error());
    if (account->status != kStatusPendingApproval) return {};
    return tx.SetAccountStatus(grant.account_id, kStatusPendingEnrollment, now);
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no role grant has this id");
    }
    if (s.error().code() == ErrorCode::kConflict) {
      return Fail(ErrorCode::kConflict, "the grant was decided meanwhile");
    }
    return std::unexpected(s.error());
  }
  const std::string_view event =
      decision == Decision::kApprove ? "role_approved" : "role_refused";
  const bool decided = outcome == Outcome::kDecided;
  if (auto recorded = events_.Record({now, grant.account_id, grant.kind, "", std::string(event),
                                      decided ? "success" : "refused", std::string(decider_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  switch (outcome) {
    case Outcome::kDecided:
      return grant;
    case Outcome::kNotAdministrator:
      return Fail(ErrorCode::kPermissionDenied,
                  "only an active administrator account decides a role grant");
    case Outcome::kOwnRequest:
      return Fail(ErrorCode::kPermissionDenied,
                  "four eyes: a second administrator, not the requester or the account itself, "
                  "approves a role");
    case Outcome::kNotPending:
      return Fail(ErrorCode::kConflict, "this grant is " + grant.state + " already");
    case Outcome::kExpired:
      return Fail(ErrorCode::kConflict,
                  "this grant expired before anyone approved it: create the account again");
  }
  return Fail(ErrorCode::kInternal, "unknown grant outcome");
}

Result<std::vector<store::RoleGrant>> Accounts::ListPendingRoleGrants(std::size_t limit) {
  const Timestamp now = clock_.Now();
  std::vector<store::RoleGrant> pending;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto listed = tx.ListRoleGrants(kGrantPending, "", limit);
        if (!listed) return std::unexpected(listed.error());
        pending.clear();
        for (store::RoleGrant& grant : *listed) {
          if (now < grant.expires_at) pending.push_back(std::move(grant));
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return pending;
}

Result<crypto::WipedText> Accounts::IssueActivationCode(std::string_view patient_id,
                                                        std::string_view actor_id) {
  if (patient_id.empty() || patient_id.size() > store::kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument, "a patient id is 1 to 128 bytes");
  }
  auto code = NewOneTimeCode();
  if (!code) return std::unexpected(code.error());
  const Timestamp now = clock_.Now();
  store::OneTimeCode stored{code->hash, std::string(kCodeActivation), std::string(patient_id), now,
                            now + options_.activation_code_ttl};
  Status s = store_.Transact([&](store::Transaction& tx) { return tx.InsertOneTimeCode(stored); });
  if (!s) return std::unexpected(s.error());
  if (auto recorded = events_.Record(
          {now, "", "patient", "", "activation_code_issued", "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return std::move(code->text);
}

Result<crypto::WipedText> Accounts::ResetEnrollment(std::string_view login,
                                                    std::string_view actor_id) {
  auto folded = NormalizeLogin(login);
  if (!folded) return std::unexpected(folded.error());
  auto code = NewOneTimeCode();
  if (!code) return std::unexpected(code.error());
  const Timestamp now = clock_.Now();
  store::Account account;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto found = tx.GetAccountByLogin(*folded);
    if (!found) return std::unexpected(found.error());
    account = *found;
    if (account.status == kStatusPendingApproval) {
      // A reset must not open an account whose role no second administrator approved.
      return Fail(ErrorCode::kConflict,
                  "this account waits for a second administrator to approve its role");
    }
    if (auto r = tx.DeleteCredentials(account.id, ""); !r) return std::unexpected(r.error());
    if (auto r = tx.DeleteSessions(account.id); !r) return std::unexpected(r.error());
    if (auto r = tx.DeleteOneTimeCodes(account.id, kCodeEnrollment); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = tx.PutThrottle({account.id, 0, Timestamp{}, false}); !r) return r;
    if (auto r = tx.SetAccountStatus(account.id, kStatusPendingEnrollment, now); !r) return r;
    return tx.InsertOneTimeCode({code->hash, std::string(kCodeEnrollment), account.id, now,
                                 now + options_.enrollment_code_ttl});
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no account has this login");
    }
    return std::unexpected(s.error());
  }
  if (auto recorded = events_.Record({now, account.id, account.kind, "", "enrollment_reset",
                                      "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return std::move(code->text);
}

Result<store::Account> Accounts::FindByLogin(std::string_view login) {
  auto folded = NormalizeLogin(login);
  if (!folded) return std::unexpected(folded.error());
  std::optional<store::Account> found;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto account = tx.GetAccountByLogin(*folded);
        if (!account) return std::unexpected(account.error());
        found = std::move(*account);
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return std::move(*found);
}

Result<store::Account> Accounts::AnotherAccount(std::string_view login, std::string_view actor_id,
                                                AuthEvent& event, std::string_view verb) {
  auto account = FindByLogin(login);
  if (!account) {
    if (account.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no account has this login");
    }
    return std::unexpected(account.error());
  }
  event.at = clock_.Now();
  event.account_id = account->id;
  event.account_kind = account->kind;
  event.outcome = "success";
  event.actor_id = std::string(actor_id);
  if (account->id == actor_id) {
    event.outcome = "refused";
    if (auto recorded = events_.Record(event); !recorded) return std::unexpected(recorded.error());
    return Fail(ErrorCode::kPermissionDenied, "an administrator cannot " + std::string(verb) +
                                                  " their own account: another one must");
  }
  return account;
}

Result<store::Account> Accounts::Reinstate(std::string_view login, std::string_view actor_id) {
  AuthEvent event;
  event.event = "account_reinstated";
  auto account = AnotherAccount(login, actor_id, event, "reinstate");
  if (!account) return account;
  const Timestamp now = event.at;
  bool was_disabled = false;
  if (account->status == kStatusDisabled) {
    Status enabled = store_.Transact([&](store::Transaction& tx) -> Status {
      auto current = tx.GetAccount(account->id);
      if (!current) return std::unexpected(current.error());
      was_disabled = current->status == kStatusDisabled;
      if (!was_disabled) return {};
      return tx.SetAccountStatus(account->id, kStatusActive, now);
    });
    if (!enabled) return std::unexpected(enabled.error());
  }
  auto lifted = LiftSuspension(store_, account->id, now);
  if (!lifted) return std::unexpected(lifted.error());
  if (!*lifted && !was_disabled) {
    return Fail(ErrorCode::kConflict,
                "this account is neither suspended nor disabled: nothing to reinstate");
  }
  if (auto recorded = events_.Record(event); !recorded) return std::unexpected(recorded.error());
  account->status = std::string(kStatusActive);
  return std::move(*account);
}

Result<store::Account> Accounts::Disable(std::string_view login, std::string_view actor_id) {
  AuthEvent event;
  event.event = "account_disabled";
  auto account = AnotherAccount(login, actor_id, event, "disable");
  if (!account) return account;
  const Timestamp now = event.at;
  bool already = false;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto current = tx.GetAccount(account->id);
    if (!current) return std::unexpected(current.error());
    already = current->status == kStatusDisabled;
    if (already) return {};
    if (auto r = tx.SetAccountStatus(account->id, kStatusDisabled, now); !r) return r;
    auto ended = tx.DeleteSessions(account->id);
    if (!ended) return std::unexpected(ended.error());
    return {};
  });
  if (!s) return std::unexpected(s.error());
  if (already) return Fail(ErrorCode::kConflict, "this account is disabled already");
  if (auto recorded = events_.Record(event); !recorded) return std::unexpected(recorded.error());
  account->status = std::string(kStatusDisabled);
  return std::move(*account);
}

Result<std::int64_t> Accounts::DisableClient(std::string_view client_id,
                                             std::string_view actor_id) {
  const Timestamp now = clock_.Now();
  std::int64_t ended = 0;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    if (auto r = tx.DisableApiClient(client_id, actor_id, now); !r) return r;
    auto tokens = tx.DeleteAccessTokens(client_id);
    if (!tokens) return std::unexpected(tokens.error());
    ended = *tokens;
    return {};
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kNotFound ||
        s.error().code() == ErrorCode::kInvalidArgument) {
      return Fail(ErrorCode::kNotFound, "no API client has this id");
    }
    return std::unexpected(s.error());
  }
  if (auto recorded = events_.Record({now, std::string(client_id), "client", "", "account_disabled",
                                      "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return ended;
}

namespace {

// "Practitioner/<id>" or "Organization/<id>" as its type and id; nullopt for anything else.
std::optional<std::pair<std::string_view, std::string_view>> LinkTarget(
    std::string_view reference) {
  const auto slash = reference.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view type = reference.substr(0, slash);
  const std::string_view id = reference.substr(slash + 1);
  if ((type != "Practitioner" && type != "Organization") || !fhir::primitives::IsId(id)) {
    return std::nullopt;
  }
  return std::pair{type, id};
}

}  // namespace

Status Accounts::CheckLink(std::string_view kind, std::string_view reference) {
  const auto target = LinkTarget(reference);
  if (!target) {
    return Fail(ErrorCode::kInvalidArgument,
                "link to Practitioner/<id> (a clinician) or Organization/<id> (a lab "
                "technician's lab)");
  }
  const auto [type, id] = *target;
  const bool suits = (type == "Practitioner" && kind == AccountKindName(AccountKind::kClinician)) ||
                     (type == "Organization" && kind == AccountKindName(AccountKind::kLabTechnician));
  if (!suits) {
    return Fail(ErrorCode::kInvalidArgument,
                "a clinician links to a Practitioner, a lab technician to an Organization");
  }
  auto found = store_.Get(type, id);
  if (!found || found->state == store::VersionState::kDeleted) {
    if (!found && found.error().code() != ErrorCode::kNotFound) {
      return std::unexpected(found.error());
    }
    return Fail(ErrorCode::kNotFound, fmt::format("no {} has this id in the vault", type));
  }
  return {};
}

Result<store::AccountLink> Accounts::Link(std::string_view login, std::string_view reference,
                                          std::string_view actor_id) {
  auto account = FindByLogin(login);
  if (!account) {
    if (account.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no account has this login");
    }
    return std::unexpected(account.error());
  }
  if (auto checked = CheckLink(account->kind, reference); !checked) {
    return std::unexpected(checked.error());
  }
  const auto [type, target_id] = *LinkTarget(reference);  // CheckLink read it
  const std::string id(target_id);
  store::AccountLink link{.account_id = account->id,
                          .practitioner_id = type == "Practitioner" ? id : std::string(),
                          .organization_id = type == "Organization" ? id : std::string(),
                          .updated_at = clock_.Now()};
  if (auto recorded = events_.Record({link.updated_at, account->id, account->kind, "",
                                      "account_linked", "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  if (auto stored = store_.Transact([&](store::Transaction& tx) { return tx.PutAccountLink(link); });
      !stored) {
    return std::unexpected(stored.error());
  }
  return link;
}

Result<std::vector<store::AccountSummary>> Accounts::List(const store::AccountQuery& query) {
  std::vector<store::AccountSummary> page;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto listed = tx.ListAccounts(query);
        if (!listed) return std::unexpected(listed.error());
        page = std::move(*listed);
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return page;
}

Result<bool> Accounts::LiftSuspension(store::Store& store, std::string_view id, Timestamp now) {
  bool was_suspended = false;
  Status s = store.Transact([&](store::Transaction& tx) -> Status {
    auto state = tx.GetGuardState(id);
    if (!state) return std::unexpected(state.error());
    was_suspended = state->suspended_at != Timestamp{};
    auto account = tx.GetAccount(id);
    if (account && account->status == kStatusSuspended) {
      was_suspended = true;
      if (auto r = tx.SetAccountStatus(id, kStatusActive, now); !r) return r;
    } else if (!account && account.error().code() != ErrorCode::kNotFound) {
      return std::unexpected(account.error());
    }
    auto reset = tx.ResetGuardAccount(id);
    if (!reset) return std::unexpected(reset.error());
    return {};
  });
  if (!s) return std::unexpected(s.error());
  return was_suspended;
}

}  // namespace medvault::identity
