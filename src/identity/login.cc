#include "identity/login.h"

#include <limits>
#include <memory>
#include <utility>

#include "core/ids.h"
#include "crypto/aead.h"
#include "identity/password_policy.h"
#include "identity/qr_svg.h"
#include "identity/recovery_codes.h"
#include "identity/tokens.h"
#include "identity/totp.h"

namespace medvault::identity {
namespace {

constexpr std::string_view kPassword = "password";
constexpr std::string_view kTotp = "totp";
constexpr std::string_view kPasskey = "passkey";
constexpr std::string_view kRecoveryCode = "recovery_code";
constexpr std::string_view kTotpSealLabel = "medvault.identity.totp.v1:";
constexpr std::string_view kSuspendedAccount =
    "This account is suspended: the exfiltration guard stopped it. An administrator must "
    "reinstate it (medvault user reinstate LOGIN) before it can log in again.";
constexpr std::string_view kDisabledAccount =
    "This account is disabled by an administrator: ask an administrator to reinstate it (or "
    "to reset its enrollment) before it can log in again.";

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::vector<std::uint8_t> TotpAssociatedData(std::string_view account_id) {
  std::string text(kTotpSealLabel);
  text.append(account_id);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

const store::Credential* FindKind(const std::vector<store::Credential>& credentials,
                                  std::string_view kind) {
  for (const auto& c : credentials) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

// Replaces the account's TOTP (if any) with the sealed secret `material`, whose time step
// `step` was just used.
Status ReplaceTotp(store::Transaction& tx, std::string_view account_id,
                   const std::vector<std::uint8_t>& material, std::int64_t step, Timestamp now) {
  if (auto r = tx.DeleteCredentials(account_id, kTotp); !r) return std::unexpected(r.error());
  auto id = NewHandle();
  if (!id) return std::unexpected(id.error());
  store::Credential totp;
  totp.id = *id;
  totp.account_id = std::string(account_id);
  totp.kind = std::string(kTotp);
  totp.material = material;
  totp.counter = step;
  totp.created_at = now;
  return tx.InsertCredential(totp);
}

PasswordOutcome Failed() { return PasswordOutcome{StepResult::kFailed, {}, std::nullopt, {}}; }
SessionOutcome SessionFailed() { return SessionOutcome{StepResult::kFailed, {}, std::nullopt, {}}; }

// A Secret holding text that cannot be a valid password, for the dummy check of a request
// whose password does not even normalize: the work is the same.
Secret Placeholder() {
  auto secret = Secret::CopyOf(AsBytes("\x01 medvault placeholder"));
  return secret ? std::move(*secret) : std::move(*Secret::Allocate(1));
}

}  // namespace

struct LoginService::Attempt {
  std::string folded_login;  // empty when the login is malformed
  Client client;
  std::optional<store::Account> account;
  std::vector<store::Credential> credentials;
  bool real_check = false;         // a stored password was checked (not the dummy)
  std::optional<Secret> password;  // kept for a rehash at a raised cost
};

LoginService::LoginService(store::Store& store, const Clock& clock, PasswordHasher& hasher,
                           Sessions& sessions, SourceThrottle& source_throttle,
                           StuffingDetector& stuffing, AuthEventSink& events, Secret totp_key,
                           LoginOptions options)
    : store_(store),
      clock_(clock),
      hasher_(hasher),
      sessions_(sessions),
      source_throttle_(source_throttle),
      stuffing_(stuffing),
      events_(events),
      totp_key_(std::move(totp_key)),
      options_(std::move(options)) {}

Status LoginService::Event(const store::Account* account, const Client& client,
                           std::string_view event, std::string_view outcome) {
  AuthEvent e;
  e.at = clock_.Now();
  if (account != nullptr) {
    e.account_id = account->id;
    e.account_kind = account->kind;
  }
  e.source = client.source;
  e.event = event;
  e.outcome = outcome;
  return events_.Record(e);
}

Status LoginService::RecordGrant(const store::Account& account, const Client& client,
                                 std::string_view event, const NewSession& token) {
  auto recorded = Event(&account, client, event, "success");
  if (recorded) return {};
  (void)sessions_.Logout(token.token.view());
  return recorded;
}

std::chrono::seconds LoginService::SourceWait(const Client& client) {
  return source_throttle_.Take(client.source, clock_.Now());
}

std::vector<std::string> LoginService::FactorsOf(
    const store::Account& account, const std::vector<store::Credential>& credentials) const {
  std::vector<std::string> factors;
  auto kind = ParseAccountKind(account.kind);
  const SecondFactorRule rule = kind ? options_.rules.For(*kind) : SecondFactorRule::kPasskeyOnly;
  if (FindKind(credentials, kPasskey) != nullptr) factors.emplace_back(kPasskey);
  if (rule == SecondFactorRule::kPasskeyOrTotp && FindKind(credentials, kTotp) != nullptr) {
    factors.emplace_back(kTotp);
  }
  if (FindKind(credentials, kRecoveryCode) != nullptr) factors.emplace_back(kRecoveryCode);
  return factors;
}

void LoginService::RecordFailure(const store::Account* account, std::string_view stuffing_key,
                                 const Client& client, std::string_view event) {
  const Timestamp now = clock_.Now();
  Event(account, client, event, "failure");
  if (account != nullptr) {
    bool newly_disabled = false;
    Status s = store_.Transact([&](store::Transaction& tx) -> Status {
      auto state = tx.GetThrottle(account->id);
      if (!state) return std::unexpected(state.error());
      const bool was_disabled = state->disabled;
      store::ThrottleState next = AfterFailure(*state, now, options_.account_throttle);
      newly_disabled = next.disabled && !was_disabled;
      return tx.PutThrottle(next);
    });
    if (s && newly_disabled) Event(account, client, "account_locked", "disabled");
  }
  NoteUnfinished(client, stuffing_key);
}

void LoginService::NoteUnfinished(const Client& client, std::string_view account_key) {
  const Timestamp now = clock_.Now();
  if (stuffing_.RecordUnfinished(client.source, account_key, now)) {
    store::Alert alert{0, now, "credential_stuffing", "source/" + client.source,
                       "one source failed logins on many accounts"};
    (void)store_.InsertAlert(alert);
    Event(nullptr, client, "credential_stuffing", "alert");
  }
}

void LoginService::CheckPassword(std::string_view login, Secret password, const Client& client,
                                 std::function<void(Result<PasswordOutcome>)> done) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    // A throttled attempt still names an account: it counts towards the stuffing alert.
    auto folded = NormalizeLogin(login);
    NoteUnfinished(client, folded ? std::string_view(*folded) : std::string_view("-"));
    Event(nullptr, client, "login_password", "throttled");
    return done(PasswordOutcome{StepResult::kSlowDown, wait, std::nullopt, {}});
  }
  auto attempt = std::make_shared<Attempt>();
  attempt->client = client;
  if (auto folded = NormalizeLogin(login)) attempt->folded_login = std::move(*folded);
  auto normalized = NormalizePassword(
      std::string_view(reinterpret_cast<const char*>(password.bytes().data()), password.size()));
  Secret checked = normalized ? std::move(*normalized) : Placeholder();

  const Timestamp now = clock_.Now();
  bool allowed = false;
  if (!attempt->folded_login.empty()) {
    Status s = store_.Transact(
        [&](store::Transaction& tx) -> Status {
          attempt->account.reset();
          auto account = tx.GetAccountByLogin(attempt->folded_login);
          if (!account) {
            return account.error().code() == ErrorCode::kNotFound
                       ? Status{}
                       : Status(std::unexpected(account.error()));
          }
          auto credentials = tx.ListCredentials(account->id);
          if (!credentials) return std::unexpected(credentials.error());
          auto throttle = tx.GetThrottle(account->id);
          if (!throttle) return std::unexpected(throttle.error());
          allowed = CheckAttempt(*throttle, now) == AttemptVerdict::kAllowed;
          attempt->account = std::move(*account);
          attempt->credentials = std::move(*credentials);
          return {};
        },
        store::Access::kReadOnly);
    if (!s) return done(std::unexpected(s.error()));
  }
  const store::Credential* stored =
      attempt->account ? FindKind(attempt->credentials, kPassword) : nullptr;
  auto finish = [this, attempt, done = std::move(done)](Result<PasswordHasher::Verdict> v) mutable {
    FinishPassword(attempt, std::move(v), std::move(done));
  };
  if (stored != nullptr && allowed && normalized) {
    attempt->real_check = true;
    if (auto copy = checked.Clone()) attempt->password = std::move(*copy);
    hasher_.Verify(std::string(stored->material.begin(), stored->material.end()),
                   std::move(checked), std::move(finish));
  } else {
    hasher_.VerifyDummy(std::move(checked), std::move(finish));
  }
}

void LoginService::FinishPassword(std::shared_ptr<Attempt> attempt,
                                  Result<PasswordHasher::Verdict> verdict,
                                  std::function<void(Result<PasswordOutcome>)> done) {
  const Client& client = attempt->client;
  const store::Account* account = attempt->account ? &*attempt->account : nullptr;
  if (!verdict) {
    if (verdict.error().code() == ErrorCode::kUnavailable) {
      Event(account, client, "login_password", "busy");
      return done(PasswordOutcome{StepResult::kBusy, options_.busy_retry_after, std::nullopt, {}});
    }
    return done(std::unexpected(verdict.error()));
  }
  const std::string stuffing_key =
      attempt->folded_login.empty() ? std::string("-") : attempt->folded_login;
  if (attempt->real_check && verdict->match && account != nullptr &&
      account->status == kStatusSuspended) {
    // Only the holder of the password learns why: the guard stopped this account.
    Event(account, client, "login_password", "suspended");
    return done(Fail(ErrorCode::kPermissionDenied, std::string(kSuspendedAccount)));
  }
  if (attempt->real_check && verdict->match && account != nullptr &&
      account->status == kStatusDisabled) {
    // Likewise: only the holder of the password learns that an administrator disabled it.
    Event(account, client, "login_password", "disabled");
    return done(Fail(ErrorCode::kPermissionDenied, std::string(kDisabledAccount)));
  }
  const bool ok = attempt->real_check && verdict->match && account != nullptr &&
                  account->status == kStatusActive;
  if (!ok) {
    RecordFailure(account, stuffing_key, client, "login_password");
    return done(Failed());
  }
  std::vector<std::string> factors = FactorsOf(*account, attempt->credentials);
  if (factors.empty()) {
    // An active account always has a second factor; without one nothing opens.
    RecordFailure(account, stuffing_key, client, "login_password");
    return done(Failed());
  }
  // Until the second factor, the attempt still counts as unfinished for this source.
  NoteUnfinished(client, stuffing_key);
  std::optional<NewSession> pending;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto started = sessions_.Start(tx, *account, store::SessionStage::kPendingSecondFactor,
                                   Timestamp{}, client.user_agent, client.source);
    if (!started) return std::unexpected(started.error());
    pending.emplace(std::move(*started));
    return {};
  });
  if (!s) return done(std::unexpected(s.error()));
  if (auto recorded = RecordGrant(*account, client, "login_password", *pending); !recorded) {
    return done(std::unexpected(recorded.error()));
  }
  const store::Credential* stored = FindKind(attempt->credentials, kPassword);
  if (verdict->needs_rehash && stored != nullptr && attempt->password) {
    // The cost was raised: store the password at the new cost, off this request's path.
    hasher_.Hash(std::move(*attempt->password), [this, id = stored->id](Result<std::string> phc) {
      if (!phc) return;
      (void)store_.Transact(
          [&](store::Transaction& tx) { return tx.ReplaceCredentialMaterial(id, AsBytes(*phc)); });
    });
  }
  done(PasswordOutcome{StepResult::kOk, {}, std::move(pending), std::move(factors)});
}

Result<std::vector<std::uint8_t>> LoginService::SealTotp(const Secret& secret,
                                                         std::string_view account_id) {
  return crypto::AeadSeal(totp_key_, secret.bytes(), TotpAssociatedData(account_id));
}

Result<std::optional<NewSession>> LoginService::TotpSession(const ActiveSession& current,
                                                            std::string_view code) {
  const store::Account& account = current.account;
  const Timestamp now = clock_.Now();
  std::optional<NewSession> session;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    session.reset();
    auto throttle = tx.GetThrottle(account.id);
    if (!throttle) return std::unexpected(throttle.error());
    auto credentials = tx.ListCredentials(account.id);
    if (!credentials) return std::unexpected(credentials.error());
    const store::Credential* totp = FindKind(*credentials, kTotp);
    if (CheckAttempt(*throttle, now) != AttemptVerdict::kAllowed || totp == nullptr ||
        options_.rules.For(current.kind) != SecondFactorRule::kPasskeyOrTotp) {
      return {};
    }
    auto secret = OpenTotp(totp->material, account.id);
    if (!secret) return std::unexpected(secret.error());
    auto step = VerifyTotp(*secret, code, now, totp->counter);
    if (!step) return {};
    if (auto advanced = tx.AdvanceCredentialCounter(totp->id, *step); !advanced) {
      if (advanced.error().code() == ErrorCode::kConflict) return {};  // a racing replay
      return advanced;
    }
    if (auto t = tx.PutThrottle({account.id, 0, Timestamp{}, false}); !t) return t;
    auto started = sessions_.Rotate(tx, current, store::SessionStage::kSession, now);
    if (!started) return std::unexpected(started.error());
    session.emplace(std::move(*started));
    return {};
  });
  if (!s) return std::unexpected(s.error());
  return session;
}

Result<Secret> LoginService::OpenTotp(std::span<const std::uint8_t> sealed,
                                      std::string_view account_id) {
  return crypto::AeadOpenSecret(totp_key_, sealed, TotpAssociatedData(account_id));
}

Result<SessionOutcome> LoginService::CompleteWithTotp(std::string_view pending_token,
                                                      std::string_view code, const Client& client) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    Event(nullptr, client, "login_second_factor", "throttled");
    return SessionOutcome{StepResult::kSlowDown, wait, std::nullopt, {}};
  }
  auto pending = sessions_.Authenticate(pending_token, store::SessionStage::kPendingSecondFactor);
  if (!pending) {
    if (pending.error().code() != ErrorCode::kPermissionDenied) {
      return std::unexpected(pending.error());
    }
    Event(nullptr, client, "login_second_factor", "failure");
    return SessionFailed();
  }
  const store::Account& account = pending->account;
  auto session = TotpSession(*pending, code);
  if (!session) return std::unexpected(session.error());
  if (!*session) {
    RecordFailure(&account, account.login, client, "login_second_factor");
    return SessionFailed();
  }
  stuffing_.RecordFinished(client.source, account.login);
  if (auto recorded = RecordGrant(account, client, "login_second_factor", **session); !recorded) {
    return std::unexpected(recorded.error());
  }
  return SessionOutcome{StepResult::kOk, {}, std::move(*session), {}};
}

void LoginService::SetPasswordAndEnroll(
    Secret password, std::vector<std::string> personal_terms, const Client& client,
    std::function<Result<store::Account>(store::Transaction&, const std::string& phc)> write,
    std::function<void(Result<PasswordOutcome>)> done) {
  auto normalized = NormalizePassword(
      std::string_view(reinterpret_cast<const char*>(password.bytes().data()), password.size()));
  if (!normalized) return done(std::unexpected(normalized.error()));
  if (auto policy = CheckNewPassword(*normalized, personal_terms); !policy) {
    return done(std::unexpected(policy.error()));
  }
  hasher_.Hash(std::move(*normalized), [this, client, write = std::move(write),
                                        done = std::move(done)](Result<std::string> phc) {
    if (!phc) {
      if (phc.error().code() == ErrorCode::kUnavailable) {
        return done(
            PasswordOutcome{StepResult::kBusy, options_.busy_retry_after, std::nullopt, {}});
      }
      return done(std::unexpected(phc.error()));
    }
    std::optional<NewSession> enrolling;
    std::optional<store::Account> account;
    Status s = store_.Transact([&](store::Transaction& tx) -> Status {
      auto written = write(tx, *phc);
      if (!written) return std::unexpected(written.error());
      account = *written;
      auto started = sessions_.Start(tx, *account, store::SessionStage::kEnrolling, Timestamp{},
                                     client.user_agent, client.source);
      if (!started) return std::unexpected(started.error());
      enrolling.emplace(std::move(*started));
      return {};
    });
    if (!s) {
      if (s.error().code() == ErrorCode::kPermissionDenied) {
        Event(nullptr, client, "enrollment_password", "failure");
        return done(Failed());
      }
      return done(std::unexpected(s.error()));
    }
    Event(&*account, client, "enrollment_password", "success");
    std::vector<std::string> factors;
    auto kind = ParseAccountKind(account->kind);
    if (kind && options_.rules.For(*kind) == SecondFactorRule::kPasskeyOrTotp) {
      factors.emplace_back(kTotp);
    }
    factors.emplace_back(kPasskey);
    done(PasswordOutcome{StepResult::kOk, {}, std::move(enrolling), std::move(factors)});
  });
}

namespace {

Status CodeRefused() {
  return Fail(ErrorCode::kPermissionDenied,
              "this code is not valid: check it, or ask for a new one if it has expired or was "
              "used");
}

store::Credential PasswordCredential(const std::string& account_id, const std::string& phc,
                                     Timestamp now, std::string id) {
  store::Credential c;
  c.id = std::move(id);
  c.account_id = account_id;
  c.kind = std::string(kPassword);
  c.material.assign(phc.begin(), phc.end());
  c.created_at = now;
  return c;
}

}  // namespace

void LoginService::StartEnrollment(std::string_view code, Secret password, const Client& client,
                                   std::function<void(Result<PasswordOutcome>)> done) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    Event(nullptr, client, "enrollment_password", "throttled");
    return done(PasswordOutcome{StepResult::kSlowDown, wait, std::nullopt, {}});
  }
  auto hash = HashTypedOneTimeCode(code);
  if (!hash) {
    Event(nullptr, client, "enrollment_password", "failure");
    return done(Failed());
  }
  const Timestamp now = clock_.Now();
  std::optional<store::Account> account;
  Status peek = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.PeekOneTimeCode(*hash, kCodeEnrollment, now);
        if (!found) return std::unexpected(found.error());
        auto owner = tx.GetAccount(found->subject);
        if (!owner) return std::unexpected(owner.error());
        account = std::move(*owner);
        return {};
      },
      store::Access::kReadOnly);
  if (!peek || account->status != kStatusPendingEnrollment) {
    if (!peek && peek.error().code() != ErrorCode::kNotFound) {
      return done(std::unexpected(peek.error()));
    }
    Event(account ? &*account : nullptr, client, "enrollment_password", "failure");
    return done(Failed());
  }
  std::vector<std::string> terms{account->login, account->display_name};
  auto code_hash = *hash;
  SetPasswordAndEnroll(
      std::move(password), std::move(terms), client,
      [this, code_hash](store::Transaction& tx, const std::string& phc) -> Result<store::Account> {
        const Timestamp at = clock_.Now();
        auto used = tx.ConsumeOneTimeCode(code_hash, kCodeEnrollment, at);
        if (!used) return std::unexpected(CodeRefused().error());
        auto owner = tx.GetAccount(used->subject);
        if (!owner) return std::unexpected(owner.error());
        if (owner->status != kStatusPendingEnrollment) {
          return std::unexpected(CodeRefused().error());
        }
        if (auto r = tx.DeleteCredentials(owner->id, ""); !r) return std::unexpected(r.error());
        auto id = NewHandle();
        if (!id) return std::unexpected(id.error());
        if (auto s = tx.InsertCredential(PasswordCredential(owner->id, phc, at, *id)); !s) {
          return std::unexpected(s.error());
        }
        return owner;
      },
      std::move(done));
}

void LoginService::Activate(std::string_view code, std::string_view login,
                            std::string_view display_name, Secret password, const Client& client,
                            std::function<void(Result<PasswordOutcome>)> done) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    Event(nullptr, client, "activation", "throttled");
    return done(PasswordOutcome{StepResult::kSlowDown, wait, std::nullopt, {}});
  }
  auto folded = NormalizeLogin(login);
  if (!folded) return done(std::unexpected(folded.error()));
  if (display_name.empty() || display_name.size() > store::kMaxNameBytes) {
    return done(Fail(ErrorCode::kInvalidArgument, "the name must be 1 to 128 bytes"));
  }
  auto hash = HashTypedOneTimeCode(code);
  const Timestamp now = clock_.Now();
  bool usable = false;
  if (hash) {
    Status peek = store_.Transact(
        [&](store::Transaction& tx) -> Status {
          auto found = tx.PeekOneTimeCode(*hash, kCodeActivation, now);
          if (!found) {
            return found.error().code() == ErrorCode::kNotFound
                       ? Status{}
                       : Status(std::unexpected(found.error()));
          }
          usable = true;
          return {};
        },
        store::Access::kReadOnly);
    if (!peek) return done(std::unexpected(peek.error()));
  }
  if (!usable) {
    Event(nullptr, client, "activation", "failure");
    return done(Failed());
  }
  std::vector<std::string> terms{*folded, std::string(display_name)};
  SetPasswordAndEnroll(
      std::move(password), std::move(terms), client,
      [this, code_hash = *hash, login = *folded, name = std::string(display_name)](
          store::Transaction& tx, const std::string& phc) -> Result<store::Account> {
        const Timestamp at = clock_.Now();
        auto used = tx.ConsumeOneTimeCode(code_hash, kCodeActivation, at);
        if (!used) return std::unexpected(CodeRefused().error());
        store::Account account{
            NewResourceId(), login, "patient", std::string(kStatusPendingEnrollment), name,
            used->subject,   at,    at};
        if (auto s = tx.InsertAccount(account); !s) {
          if (s.error().code() == ErrorCode::kAlreadyExists) {
            return Fail(ErrorCode::kAlreadyExists, "this login is taken: choose another one");
          }
          return std::unexpected(s.error());
        }
        auto id = NewHandle();
        if (!id) return std::unexpected(id.error());
        if (auto s = tx.InsertCredential(PasswordCredential(account.id, phc, at, *id)); !s) {
          return std::unexpected(s.error());
        }
        return account;
      },
      std::move(done));
}

Result<TotpEnrollment> LoginService::BeginTotpEnrollment(std::string_view enrollment_token) {
  auto enrolling = sessions_.Authenticate(enrollment_token, store::SessionStage::kEnrolling);
  if (!enrolling) return std::unexpected(enrolling.error());
  return NewTotpFor(*enrolling);
}

Result<TotpEnrollment> LoginService::NewTotpFor(const ActiveSession& session) {
  if (options_.rules.For(session.kind) != SecondFactorRule::kPasskeyOrTotp) {
    return Fail(ErrorCode::kPermissionDenied,
                "this kind of account must use a passkey as its second factor");
  }
  auto secret = NewTotpSecret();
  if (!secret) return std::unexpected(secret.error());
  auto sealed = SealTotp(*secret, session.account.id);
  if (!sealed) return std::unexpected(sealed.error());
  store::SessionRecord record = session.record;
  record.challenge = *sealed;
  Status s = store_.Transact([&](store::Transaction& tx) { return tx.UpdateSession(record); });
  if (!s) return std::unexpected(s.error());
  crypto::WipedText uri = OtpauthUri(options_.totp_issuer, session.account.login, *secret);
  auto svg = QrCodeSvg(uri.view());
  if (!svg) return std::unexpected(svg.error());
  return TotpEnrollment{std::move(uri), std::move(*svg), TotpSecretBase32(*secret)};
}

void LoginService::ConfirmTotpEnrollment(std::string_view enrollment_token, std::string_view code,
                                         const Client& client,
                                         std::function<void(Result<SessionOutcome>)> done) {
  auto enrolling = sessions_.Authenticate(enrollment_token, store::SessionStage::kEnrolling);
  if (!enrolling) return done(std::unexpected(enrolling.error()));
  if (enrolling->record.challenge.empty()) {
    return done(Fail(ErrorCode::kInvalidArgument, "start the TOTP enrollment first"));
  }
  auto secret = OpenTotp(enrolling->record.challenge, enrolling->account.id);
  if (!secret) return done(Fail(ErrorCode::kInvalidArgument, "start the TOTP enrollment again"));
  const Timestamp now = clock_.Now();
  auto step = VerifyTotp(*secret, code, now, std::numeric_limits<std::int64_t>::min());
  if (!step) {
    Event(&enrolling->account, client, "enrollment_totp", "failure");
    return done(SessionFailed());
  }
  // `write` runs inside FinishEnrollment's transaction, before it returns.
  FinishEnrollment(
      *enrolling, "enrollment_totp", client,
      [&](store::Transaction& tx) {
        return ReplaceTotp(tx, enrolling->account.id, enrolling->record.challenge, *step, now);
      },
      std::move(done));
}

void LoginService::ReplaceRecoveryCodes(
    std::string account_id, std::function<void(Result<std::vector<std::string>>)> done) {
  GenerateRecoveryCodes(hasher_, [this, account_id = std::move(account_id),
                                  done = std::move(done)](Result<NewRecoveryCodes> made) {
    if (!made) return done(std::unexpected(made.error()));
    const Timestamp now = clock_.Now();
    Status s = store_.Transact([&](store::Transaction& tx) -> Status {
      if (auto r = tx.DeleteCredentials(account_id, kRecoveryCode); !r) {
        return std::unexpected(r.error());
      }
      for (std::size_t i = 0; i < made->hashes.size(); ++i) {
        auto id = NewHandle();
        if (!id) return std::unexpected(id.error());
        store::Credential c;
        c.id = *id;
        c.account_id = account_id;
        c.kind = std::string(kRecoveryCode);
        c.material.assign(made->hashes[i].begin(), made->hashes[i].end());
        c.algorithm = static_cast<std::int64_t>(i);  // the code's index in its set
        c.created_at = now;
        if (auto r = tx.InsertCredential(c); !r) return r;
      }
      return {};
    });
    if (!s) return done(std::unexpected(s.error()));
    std::vector<std::string> codes;
    for (auto& code : made->codes) codes.emplace_back(code.view());
    done(std::move(codes));
  });
}

void LoginService::CompleteWithRecoveryCode(std::string_view pending_token, std::string_view code,
                                            const Client& client,
                                            std::function<void(Result<SessionOutcome>)> done) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    Event(nullptr, client, "login_recovery_code", "throttled");
    return done(SessionOutcome{StepResult::kSlowDown, wait, std::nullopt, {}});
  }
  auto pending = sessions_.Authenticate(pending_token, store::SessionStage::kPendingSecondFactor);
  if (!pending) {
    if (pending.error().code() != ErrorCode::kPermissionDenied) {
      return done(std::unexpected(pending.error()));
    }
    Event(nullptr, client, "login_recovery_code", "failure");
    return done(SessionFailed());
  }
  const Timestamp now = clock_.Now();
  std::vector<StoredRecoveryCode> stored(kRecoveryCodeCount, StoredRecoveryCode{"", true});
  std::vector<std::string> ids(kRecoveryCodeCount);
  bool allowed = false;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto throttle = tx.GetThrottle(pending->account.id);
        if (!throttle) return std::unexpected(throttle.error());
        allowed = CheckAttempt(*throttle, now) == AttemptVerdict::kAllowed;
        auto credentials = tx.ListCredentials(pending->account.id);
        if (!credentials) return std::unexpected(credentials.error());
        for (const auto& c : *credentials) {
          if (c.kind != kRecoveryCode || c.algorithm < 0 ||
              c.algorithm >= static_cast<std::int64_t>(kRecoveryCodeCount)) {
            continue;
          }
          const auto index = static_cast<std::size_t>(c.algorithm);
          stored[index] = {std::string(c.material.begin(), c.material.end()), false};
          ids[index] = c.id;
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return done(std::unexpected(s.error()));
  if (!allowed) {
    // Throttled: same work as a check, same answer as a wrong code.
    for (auto& entry : stored) entry.used = true;
  }
  auto active = std::make_shared<ActiveSession>(std::move(*pending));
  VerifyRecoveryCode(
      hasher_, stored, code,
      [this, active, ids = std::move(ids), client,
       done = std::move(done)](Result<std::size_t> index) mutable {
        const store::Account& account = active->account;
        if (!index) {
          if (index.error().code() == ErrorCode::kUnavailable) {
            return done(
                SessionOutcome{StepResult::kBusy, options_.busy_retry_after, std::nullopt, {}});
          }
          RecordFailure(&account, account.login, client, "login_recovery_code");
          return done(SessionFailed());
        }
        const Timestamp at = clock_.Now();
        std::optional<NewSession> session;
        Status used = store_.Transact([&](store::Transaction& tx) -> Status {
          session.reset();
          // Deleting the code is the "used" mark; a concurrent use of the same code
          // loses.
          if (auto d = tx.DeleteCredential(ids[*index]); !d) return d;
          if (auto t = tx.PutThrottle({account.id, 0, Timestamp{}, false}); !t) return t;
          auto started = sessions_.Rotate(tx, *active, store::SessionStage::kSession, at);
          if (!started) return std::unexpected(started.error());
          session.emplace(std::move(*started));
          return {};
        });
        if (!used) {
          if (used.error().code() == ErrorCode::kNotFound) {
            RecordFailure(&account, account.login, client, "login_recovery_code");
            return done(SessionFailed());
          }
          return done(std::unexpected(used.error()));
        }
        stuffing_.RecordFinished(client.source, account.login);
        if (auto recorded = RecordGrant(account, client, "login_recovery_code", *session);
            !recorded) {
          return done(std::unexpected(recorded.error()));
        }
        done(SessionOutcome{StepResult::kOk, {}, std::move(session), {}});
      });
}

Result<SessionOutcome> LoginService::StepUpWithTotp(std::string_view session_token,
                                                    std::string_view code, const Client& client) {
  if (auto wait = SourceWait(client); wait.count() > 0) {
    return SessionOutcome{StepResult::kSlowDown, wait, std::nullopt, {}};
  }
  auto active = sessions_.Authenticate(session_token, store::SessionStage::kSession);
  if (!active) return std::unexpected(active.error());
  const store::Account& account = active->account;
  auto session = TotpSession(*active, code);
  if (!session) return std::unexpected(session.error());
  if (!*session) {
    RecordFailure(&account, account.login, client, "step_up");
    return SessionFailed();
  }
  if (auto recorded = RecordGrant(account, client, "step_up", **session); !recorded) {
    return std::unexpected(recorded.error());
  }
  return SessionOutcome{StepResult::kOk, {}, std::move(*session), {}};
}

namespace {

constexpr std::size_t kChallengeBytes = 32;

std::vector<std::uint8_t> AccountHandle(std::string_view account_id) {
  return std::vector<std::uint8_t>(account_id.begin(), account_id.end());
}

}  // namespace

Result<std::string> LoginService::PasskeyStepUpOptions(std::string_view session_token) {
  return PasskeyOptionsAt(session_token, store::SessionStage::kSession);
}

Result<SessionOutcome> LoginService::StepUpWithPasskey(std::string_view session_token,
                                                       std::string_view response_json,
                                                       const Client& client) {
  return PasskeyAt(session_token, store::SessionStage::kSession, response_json, client);
}

Result<std::string> LoginService::PasskeyLoginOptions(std::string_view pending_token) {
  return PasskeyOptionsAt(pending_token, store::SessionStage::kPendingSecondFactor);
}

Result<SessionOutcome> LoginService::CompleteWithPasskey(std::string_view pending_token,
                                                         std::string_view response_json,
                                                         const Client& client) {
  return PasskeyAt(pending_token, store::SessionStage::kPendingSecondFactor, response_json, client);
}

Result<std::string> LoginService::PasskeyOptionsAt(std::string_view token,
                                                   store::SessionStage stage) {
  auto pending = sessions_.Authenticate(token, stage);
  if (!pending) return std::unexpected(pending.error());
  auto challenge = Secret::Random(kChallengeBytes);
  if (!challenge) return std::unexpected(challenge.error());
  std::vector<std::vector<std::uint8_t>> allow;
  store::SessionRecord record = pending->record;
  record.challenge.assign(challenge->bytes().begin(), challenge->bytes().end());
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    allow.clear();
    auto credentials = tx.ListCredentials(pending->account.id);
    if (!credentials) return std::unexpected(credentials.error());
    for (const auto& c : *credentials) {
      if (c.kind == kPasskey) allow.push_back(c.external_id);
    }
    return tx.UpdateSession(record);
  });
  if (!s) return std::unexpected(s.error());
  if (allow.empty()) {
    return Fail(ErrorCode::kPermissionDenied, "this account has no passkey: use another factor");
  }
  return RequestOptionsJson(rp_, record.challenge, allow, UserVerification::kRequired);
}

Result<SessionOutcome> LoginService::PasskeyAt(std::string_view token, store::SessionStage stage,
                                               std::string_view response_json,
                                               const Client& client) {
  const std::string_view event =
      stage == store::SessionStage::kSession ? "step_up_passkey" : "login_passkey";
  if (auto wait = SourceWait(client); wait.count() > 0) {
    Event(nullptr, client, event, "throttled");
    return SessionOutcome{StepResult::kSlowDown, wait, std::nullopt, {}};
  }
  auto pending = sessions_.Authenticate(token, stage);
  if (!pending) {
    if (pending.error().code() != ErrorCode::kPermissionDenied) {
      return std::unexpected(pending.error());
    }
    Event(nullptr, client, event, "failure");
    return SessionFailed();
  }
  const store::Account& account = pending->account;
  const Timestamp now = clock_.Now();
  std::optional<NewSession> session;
  bool failed = false;
  bool clone = false;
  const std::vector<std::uint8_t> challenge = pending->record.challenge;
  // The challenge is single use: forget it before anything else.
  {
    store::SessionRecord cleared = pending->record;
    cleared.challenge.clear();
    if (auto s = store_.Transact([&](store::Transaction& tx) { return tx.UpdateSession(cleared); });
        !s) {
      return std::unexpected(s.error());
    }
  }
  auto credential_id = AssertionCredentialId(response_json);
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    failed = false;
    clone = false;
    session.reset();
    auto throttle = tx.GetThrottle(account.id);
    if (!throttle) return std::unexpected(throttle.error());
    if (challenge.empty() || !credential_id ||
        CheckAttempt(*throttle, now) != AttemptVerdict::kAllowed) {
      return failed = true, Status{};
    }
    auto stored = tx.GetPasskey(*credential_id);
    if (!stored) {
      if (stored.error().code() == ErrorCode::kNotFound) return failed = true, Status{};
      return std::unexpected(stored.error());
    }
    if (stored->account_id != account.id) return failed = true, Status{};
    RegisteredCredential registered;
    registered.id = stored->external_id;
    registered.cose_public_key = stored->material;
    registered.algorithm = static_cast<int>(stored->algorithm);
    registered.sign_count = static_cast<std::uint32_t>(stored->counter);
    auto outcome =
        VerifyAssertion(rp_, challenge, registered, response_json, UserVerification::kRequired);
    if (!outcome) {
      clone = outcome.error().code() == ErrorCode::kDataLoss;
      return failed = true, Status{};
    }
    if (outcome->sign_count > 0 || stored->counter > 0) {
      if (auto advanced = tx.AdvanceCredentialCounter(stored->id, outcome->sign_count); !advanced) {
        if (advanced.error().code() == ErrorCode::kConflict) {
          clone = true;
          return failed = true, Status{};
        }
        return advanced;
      }
    }
    if (auto t = tx.PutThrottle({account.id, 0, Timestamp{}, false}); !t) return t;
    auto started = sessions_.Rotate(tx, *pending, store::SessionStage::kSession, now);
    if (!started) return std::unexpected(started.error());
    session.emplace(std::move(*started));
    return {};
  });
  if (!s) return std::unexpected(s.error());
  if (failed || !session) {
    if (clone) {
      (void)store_.InsertAlert({0, now, "passkey_clone", "account/" + account.id,
                                "a passkey's signature counter did not move forward"});
      Event(&account, client, event, "clone_suspected");
    }
    RecordFailure(&account, account.login, client, event);
    return SessionFailed();
  }
  stuffing_.RecordFinished(client.source, account.login);
  if (auto recorded = RecordGrant(account, client, event, *session); !recorded) {
    return std::unexpected(recorded.error());
  }
  return SessionOutcome{StepResult::kOk, {}, std::move(session), {}};
}

Result<std::string> LoginService::BeginPasskeyEnrollment(std::string_view enrollment_token) {
  auto enrolling = sessions_.Authenticate(enrollment_token, store::SessionStage::kEnrolling);
  if (!enrolling) return std::unexpected(enrolling.error());
  return PasskeyCreationOptions(*enrolling);
}

Result<std::string> LoginService::PasskeyCreationOptions(const ActiveSession& session) {
  auto challenge = Secret::Random(kChallengeBytes);
  if (!challenge) return std::unexpected(challenge.error());
  store::SessionRecord record = session.record;
  record.challenge.assign(challenge->bytes().begin(), challenge->bytes().end());
  std::vector<std::vector<std::uint8_t>> exclude;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    exclude.clear();
    auto credentials = tx.ListCredentials(session.account.id);
    if (!credentials) return std::unexpected(credentials.error());
    for (const auto& c : *credentials) {
      if (c.kind == kPasskey) exclude.push_back(c.external_id);
    }
    return tx.UpdateSession(record);
  });
  if (!s) return std::unexpected(s.error());
  return CreationOptionsJson(rp_, AccountHandle(session.account.id), session.account.login,
                             session.account.display_name, record.challenge, exclude,
                             UserVerification::kRequired);
}

void LoginService::ConfirmPasskeyEnrollment(std::string_view enrollment_token,
                                            std::string_view response_json, const Client& client,
                                            std::function<void(Result<SessionOutcome>)> done) {
  auto enrolling = sessions_.Authenticate(enrollment_token, store::SessionStage::kEnrolling);
  if (!enrolling) return done(std::unexpected(enrolling.error()));
  if (enrolling->record.challenge.size() != kChallengeBytes) {
    return done(Fail(ErrorCode::kInvalidArgument, "start the passkey enrollment first"));
  }
  auto registered = VerifyRegistration(rp_, enrolling->record.challenge, response_json,
                                       UserVerification::kRequired);
  if (!registered) {
    Event(&enrolling->account, client, "enrollment_passkey", "failure");
    return done(SessionFailed());
  }
  const Timestamp now = clock_.Now();
  const std::string account_id = enrolling->account.id;
  FinishEnrollment(
      *enrolling, "enrollment_passkey", client,
      [&, account_id](store::Transaction& tx) -> Status {
        auto id = NewHandle();
        if (!id) return std::unexpected(id.error());
        store::Credential passkey;
        passkey.id = *id;
        passkey.account_id = account_id;
        passkey.kind = std::string(kPasskey);
        passkey.material = registered->cose_public_key;
        passkey.external_id = registered->id;
        passkey.counter = registered->sign_count;
        passkey.algorithm = registered->algorithm;
        passkey.created_at = now;
        return tx.InsertCredential(passkey);
      },
      std::move(done));
}

void LoginService::FinishEnrollment(const ActiveSession& enrolling, std::string_view event,
                                    const Client& client,
                                    std::function<Status(store::Transaction&)> write,
                                    std::function<void(Result<SessionOutcome>)> done) {
  const Timestamp now = clock_.Now();
  const store::Account& account = enrolling.account;
  std::optional<NewSession> session;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    session.reset();
    if (auto r = write(tx); !r) return r;
    if (auto r = tx.SetAccountStatus(account.id, kStatusActive, now); !r) return r;
    store::Account active = account;
    active.status = std::string(kStatusActive);
    ActiveSession as_active{enrolling.record, active, enrolling.kind};
    auto started = sessions_.Rotate(tx, as_active, store::SessionStage::kSession, now);
    if (!started) return std::unexpected(started.error());
    session.emplace(std::move(*started));
    return {};
  });
  if (!s) return done(std::unexpected(s.error()));
  if (auto recorded = RecordGrant(account, client, event, *session); !recorded) {
    return done(std::unexpected(recorded.error()));
  }
  auto outcome =
      std::make_shared<SessionOutcome>(SessionOutcome{StepResult::kOk, {}, std::move(session), {}});
  ReplaceRecoveryCodes(account.id, [outcome, done = std::move(done)](
                                       Result<std::vector<std::string>> codes) mutable {
    if (codes) outcome->recovery_codes = std::move(*codes);
    done(std::move(*outcome));
  });
}

// Factor changes from a session.

Result<ActiveSession> LoginService::FreshSession(std::string_view token) {
  auto active = sessions_.Authenticate(token, store::SessionStage::kSession);
  if (!active) return std::unexpected(active.error());
  if (!sessions_.HasFreshSecondFactor(active->record)) {
    return Fail(ErrorCode::kPermissionDenied,
                "step up first: changing a second factor needs one checked in the last minutes");
  }
  return active;
}

Result<LoginService::FactorList> LoginService::ListFactors(std::string_view session_token) {
  auto active = sessions_.Authenticate(session_token, store::SessionStage::kSession);
  if (!active) return std::unexpected(active.error());
  FactorList list;
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        list = {};
        auto credentials = tx.ListCredentials(active->account.id);
        if (!credentials) return std::unexpected(credentials.error());
        for (const auto& c : *credentials) {
          if (c.kind == kTotp || c.kind == kPasskey) {
            list.factors.push_back({c.id, c.kind, c.created_at});
          } else if (c.kind == kRecoveryCode) {
            ++list.recovery_codes_left;
          }
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return list;
}

void LoginService::RegenerateRecoveryCodes(
    std::string_view session_token, const Client& client,
    std::function<void(Result<std::vector<std::string>>)> done) {
  auto active = FreshSession(session_token);
  if (!active) return done(std::unexpected(active.error()));
  auto account = std::make_shared<store::Account>(active->account);
  ReplaceRecoveryCodes(account->id, [this, account, client, done = std::move(done)](
                                        Result<std::vector<std::string>> codes) mutable {
    if (codes) {
      // Fail-closed: codes the audit log has not recorded are not shown.
      if (auto recorded = Event(account.get(), client, "recovery_codes_replaced", "success");
          !recorded) {
        return done(std::unexpected(recorded.error()));
      }
    }
    done(std::move(codes));
  });
}

Result<TotpEnrollment> LoginService::BeginTotpChange(std::string_view session_token) {
  auto active = FreshSession(session_token);
  if (!active) return std::unexpected(active.error());
  return NewTotpFor(*active);
}

Status LoginService::ConfirmTotpChange(std::string_view session_token, std::string_view code,
                                       const Client& client) {
  auto active = FreshSession(session_token);
  if (!active) return std::unexpected(active.error());
  // A passkey step-up challenge is kChallengeBytes long; a sealed TOTP secret never is.
  if (active->record.challenge.empty() || active->record.challenge.size() == kChallengeBytes) {
    return Fail(ErrorCode::kInvalidArgument, "start the TOTP change first");
  }
  auto secret = OpenTotp(active->record.challenge, active->account.id);
  if (!secret) return Fail(ErrorCode::kInvalidArgument, "start the TOTP change again");
  const Timestamp now = clock_.Now();
  auto step = VerifyTotp(*secret, code, now, std::numeric_limits<std::int64_t>::min());
  if (!step) {
    Event(&active->account, client, "factor_added", "failure");
    return Fail(ErrorCode::kPermissionDenied,
                "the code was not accepted: type the current code of the new authenticator");
  }
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    if (auto r = ReplaceTotp(tx, active->account.id, active->record.challenge, *step, now); !r) {
      return r;
    }
    store::SessionRecord cleared = active->record;
    cleared.challenge.clear();
    return tx.UpdateSession(cleared);
  });
  if (!s) return s;
  Event(&active->account, client, "factor_added", "success");
  return {};
}

Result<std::string> LoginService::BeginPasskeyAddition(std::string_view session_token) {
  auto active = FreshSession(session_token);
  if (!active) return std::unexpected(active.error());
  return PasskeyCreationOptions(*active);
}

Status LoginService::ConfirmPasskeyAddition(std::string_view session_token,
                                            std::string_view response_json, const Client& client) {
  auto active = FreshSession(session_token);
  if (!active) return std::unexpected(active.error());
  if (active->record.challenge.size() != kChallengeBytes) {
    return Fail(ErrorCode::kInvalidArgument, "start the passkey registration first");
  }
  const std::vector<std::uint8_t> challenge = active->record.challenge;
  // The challenge is single use, accepted or not.
  store::SessionRecord cleared = active->record;
  cleared.challenge.clear();
  if (auto s = store_.Transact([&](store::Transaction& tx) { return tx.UpdateSession(cleared); });
      !s) {
    return s;
  }
  auto registered = VerifyRegistration(rp_, challenge, response_json, UserVerification::kRequired);
  if (!registered) {
    Event(&active->account, client, "factor_added", "failure");
    return Fail(ErrorCode::kPermissionDenied,
                "the passkey was not accepted: start the registration again");
  }
  const Timestamp now = clock_.Now();
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto id = NewHandle();
    if (!id) return std::unexpected(id.error());
    store::Credential passkey;
    passkey.id = *id;
    passkey.account_id = active->account.id;
    passkey.kind = std::string(kPasskey);
    passkey.material = registered->cose_public_key;
    passkey.external_id = registered->id;
    passkey.counter = registered->sign_count;
    passkey.algorithm = registered->algorithm;
    passkey.created_at = now;
    return tx.InsertCredential(passkey);
  });
  if (!s) {
    if (s.error().code() == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "this passkey is registered already");
    }
    return s;
  }
  Event(&active->account, client, "factor_added", "success");
  return {};
}

Status LoginService::RemoveFactor(std::string_view session_token, std::string_view factor_id,
                                  const Client& client) {
  auto active = FreshSession(session_token);
  if (!active) return std::unexpected(active.error());
  const SecondFactorRule rule = options_.rules.For(active->kind);
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto credentials = tx.ListCredentials(active->account.id);
    if (!credentials) return std::unexpected(credentials.error());
    const store::Credential* target = nullptr;
    std::size_t usable_left = 0;
    for (const auto& c : *credentials) {
      const bool second_factor = c.kind == kPasskey || c.kind == kTotp;
      if (second_factor && c.id == factor_id) {
        target = &c;
      } else if (c.kind == kPasskey ||
                 (c.kind == kTotp && rule == SecondFactorRule::kPasskeyOrTotp)) {
        ++usable_left;
      }
    }
    if (target == nullptr) return Fail(ErrorCode::kNotFound, "this account has no such factor");
    if (usable_left == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  rule == SecondFactorRule::kPasskeyOnly
                      ? "this is the last passkey: register another one before removing it"
                      : "this is the last second factor: add another one before removing it");
    }
    return tx.DeleteCredential(target->id);
  });
  if (!s) return s;
  Event(&active->account, client, "factor_removed", "success");
  return {};
}

}  // namespace medvault::identity
