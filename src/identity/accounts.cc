#include "identity/accounts.h"

#include <algorithm>
#include <array>

#include "core/ids.h"
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
                                                std::string_view actor_id) {
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
                         std::string(kStatusPendingEnrollment),
                         std::string(display_name),
                         "",
                         now,
                         now};
  store::OneTimeCode stored{code->hash, std::string(kCodeEnrollment), account.id, now,
                            now + options_.enrollment_code_ttl};
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    if (auto inserted = tx.InsertAccount(account); !inserted) return inserted;
    return tx.InsertOneTimeCode(stored);
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "an account with this login exists already");
    }
    return std::unexpected(s.error());
  }
  // Fail-closed, as every code handed out: one the audit log has not recorded is not shown.
  if (auto recorded = events_.Record(
          {now, account.id, account.kind, "", "account_created", "success", std::string(actor_id)});
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return Created{std::move(account), std::move(code->text)};
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

}  // namespace medvault::identity
