// The identity service end to end over a real store (SQLite and the PostgreSQL fixture "pg"),
// a real Argon2id hasher at the production floor, and a ManualClock.
#include "identity/login.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <mutex>

#include "core/manual_clock.h"
#include "core/base64.h"
#include "identity/accounts.h"
#include "identity/soft_authenticator.h"
#include "identity/totp.h"
#include "store/store.h"
#include "store/test_cluster.h"

namespace medvault::identity {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

constexpr std::string_view kStrongPassword = "violet tram ledger quietly orbits 7";

class RecordingSink final : public AuthEventSink {
 public:
  Status Record(const AuthEvent& event) override {
    std::lock_guard lock(mutex_);
    if (refuse_) return Fail(ErrorCode::kUnavailable, "refused by the test");
    events_.push_back(event);
    return {};
  }
  // From now on, every event is refused as a failing audit log would.
  void Refuse() {
    std::lock_guard lock(mutex_);
    refuse_ = true;
  }
  std::size_t Count(std::string_view event, std::string_view outcome) {
    std::lock_guard lock(mutex_);
    return std::ranges::count_if(
        events_, [&](const AuthEvent& e) { return e.event == event && e.outcome == outcome; });
  }

 private:
  std::mutex mutex_;
  bool refuse_ = false;
  std::vector<AuthEvent> events_;
};

Secret SecretText(std::string_view text) {
  return std::move(
      *Secret::CopyOf({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
}

// RFC 4648 base32 without padding, back to bytes (the authenticator app's side).
Secret FromBase32(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = (c >= 'A' && c <= 'Z') ? c - 'A' : c - '2' + 26;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return std::move(*Secret::CopyOf(out));
}

template <typename T, typename Start>
Result<T> Wait(Start start) {
  std::promise<Result<T>> promise;
  start([&](Result<T> value) { promise.set_value(std::move(value)); });
  return promise.get_future().get();
}

class LoginFlow : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto hasher = PasswordHasher::Create({});
    ASSERT_TRUE(hasher.has_value()) << hasher.error().message();
    hasher_ = std::move(*hasher);
    sessions_ = std::make_unique<Sessions>(*store_, clock_, SessionPolicy{});
    source_ = std::make_unique<SourceThrottle>(SourceThrottle::Options{.capacity = 1000});
    stuffing_ = std::make_unique<StuffingDetector>(
        StuffingDetector::Options{.distinct_accounts = 3, .window = 600s});
    accounts_ = std::make_unique<Accounts>(*store_, clock_, events_, Accounts::Options{});
    login_ =
        std::make_unique<LoginService>(*store_, clock_, *hasher_, *sessions_, *source_, *stuffing_,
                                       events_, std::move(*Secret::Random(32)), LoginOptions{});
  }

  void TearDown() override {
    login_.reset();
    hasher_.reset();
    StoreBackendTest::TearDown();
  }

  Result<PasswordOutcome> Password(std::string_view login, std::string_view password,
                                   const Client& client = {"10.0.0.1", "test"}) {
    return Wait<PasswordOutcome>([&](auto done) {
      login_->CheckPassword(login, SecretText(password), client, std::move(done));
    });
  }

  struct Enrolled {
    std::string account_id;
    Secret totp_secret;
    std::vector<std::string> recovery_codes;
    std::string session_token;
  };

  // Creates a staff account and enrolls it with a password and a TOTP, as a user would.
  Enrolled EnrollStaff(std::string_view login, AccountKind kind = AccountKind::kClinician) {
    auto created = accounts_->CreateStaff(login, kind, "Camille Martin", "admin-1",
                                          RoleApproval::kOperatorBootstrap);
    EXPECT_TRUE(created.has_value()) << created.error().message();
    const std::string code(created->enrollment_code.view());
    auto started = Wait<PasswordOutcome>([&](auto done) {
      login_->StartEnrollment(code, SecretText(kStrongPassword), {"10.0.0.9", "t"},
                              std::move(done));
    });
    EXPECT_TRUE(started.has_value()) << started.error().message();
    EXPECT_EQ(started->result, StepResult::kOk);
    const std::string enrolling(started->pending->token.view());
    auto totp = login_->BeginTotpEnrollment(enrolling);
    EXPECT_TRUE(totp.has_value()) << totp.error().message();
    EXPECT_THAT(std::string(totp->otpauth_uri.view()), ::testing::StartsWith("otpauth://totp/"));
    EXPECT_THAT(std::string(totp->qr_svg.view()), ::testing::HasSubstr("<svg"));
    Secret secret = FromBase32(totp->secret_base32.view());
    auto code_now = TotpCode(secret, TotpStep(clock_.Now()));
    auto confirmed = Wait<SessionOutcome>([&](auto done) {
      login_->ConfirmTotpEnrollment(enrolling, *code_now, {"10.0.0.9", "t"}, std::move(done));
    });
    EXPECT_TRUE(confirmed.has_value()) << confirmed.error().message();
    EXPECT_EQ(confirmed->result, StepResult::kOk);
    EXPECT_EQ(confirmed->recovery_codes.size(), 10u);
    return Enrolled{created->account.id, std::move(secret), confirmed->recovery_codes,
                    std::string(confirmed->session->token.view())};
  }

  std::string CurrentCode(const Secret& secret) {
    return *TotpCode(secret, TotpStep(clock_.Now()));
  }

  medvault::testing::ManualClock clock_;
  RecordingSink events_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<SourceThrottle> source_;
  std::unique_ptr<StuffingDetector> stuffing_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<LoginService> login_;
};

TEST_P(LoginFlow, PasswordAloneOpensNothingAndTotpCompletesTheLoginOnce) {
  Enrolled user = EnrollStaff("c.martin");
  EXPECT_TRUE(sessions_->Authenticate(user.session_token, store::SessionStage::kSession))
      << "enrollment ends with a session";

  clock_.Advance(31s);
  auto pending = Password("C.Martin", kStrongPassword);
  ASSERT_TRUE(pending.has_value()) << pending.error().message();
  ASSERT_EQ(pending->result, StepResult::kOk);
  EXPECT_THAT(pending->factors, ElementsAre("totp", "recovery_code"));
  const std::string pending_token(pending->pending->token.view());
  EXPECT_EQ(sessions_->Authenticate(pending_token, store::SessionStage::kSession).error().code(),
            ErrorCode::kPermissionDenied)
      << "a checked password is not a session";

  auto wrong = login_->CompleteWithTotp(pending_token, "000000", {"10.0.0.1", "t"});
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->result, StepResult::kFailed);

  const std::string code = CurrentCode(user.totp_secret);
  auto done = login_->CompleteWithTotp(pending_token, code, {"10.0.0.1", "t"});
  ASSERT_TRUE(done.has_value()) << done.error().message();
  ASSERT_EQ(done->result, StepResult::kOk);
  const std::string token(done->session->token.view());
  EXPECT_NE(token, pending_token) << "a new token at login";
  auto active = sessions_->Authenticate(token, store::SessionStage::kSession);
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->account.id, user.account_id);
  EXPECT_EQ(sessions_->Authenticate(pending_token, store::SessionStage::kPendingSecondFactor)
                .error()
                .code(),
            ErrorCode::kPermissionDenied)
      << "the pending login is used up";

  // The same code again, in a new login within the same 30 seconds: replay refused.
  auto again = Password("c.martin", kStrongPassword);
  ASSERT_EQ(again->result, StepResult::kOk);
  auto replay = login_->CompleteWithTotp(again->pending->token.view(), code, {"10.0.0.1", "t"});
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->result, StepResult::kFailed);
  EXPECT_GE(events_.Count("login_second_factor", "success"), 1u);
}

TEST_P(LoginFlow, UnknownLoginWrongPasswordAndLockedAccountGetTheSameAnswer) {
  EnrollStaff("c.martin");
  auto unknown = Password("nobody.here", kStrongPassword);
  auto wrong = Password("c.martin", "not the password at all 99");
  auto malformed = Password("x", kStrongPassword);
  ASSERT_TRUE(unknown && wrong && malformed);
  EXPECT_EQ(unknown->result, StepResult::kFailed);
  EXPECT_EQ(wrong->result, StepResult::kFailed);
  EXPECT_EQ(malformed->result, StepResult::kFailed);
  EXPECT_FALSE(unknown->pending);
  EXPECT_FALSE(wrong->pending);
  EXPECT_EQ(events_.Count("login_password", "failure"), 3u);
}

TEST_P(LoginFlow, BackoffAfterFiveFailuresThenDisabledAfterAHundredUntilReset) {
  EnrollStaff("c.martin");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Password("c.martin", "wrong wrong wrong 1")->result, StepResult::kFailed);
  }
  EXPECT_EQ(Password("c.martin", kStrongPassword)->result, StepResult::kOk)
      << "five failures are free";
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Password("c.martin", "wrong wrong wrong 1")->result, StepResult::kFailed);
  }
  // 6 consecutive failures (the success above did not finish a login): wait 1 s.
  EXPECT_EQ(Password("c.martin", kStrongPassword)->result, StepResult::kFailed)
      << "during the backoff even the right password gets the common answer";
  clock_.Advance(1h);
  EXPECT_EQ(Password("c.martin", kStrongPassword)->result, StepResult::kOk);

  // Drive the counter to 100 directly (each real attempt costs a 64 MiB hash).
  auto account = accounts_->FindByLogin("c.martin");
  ASSERT_TRUE(account);
  ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) {
    return tx.PutThrottle({account->id, 99, Timestamp{}, false});
  }));
  EXPECT_EQ(Password("c.martin", "wrong wrong wrong 1")->result, StepResult::kFailed);
  EXPECT_EQ(events_.Count("account_locked", "disabled"), 1u);
  clock_.Advance(24h * 30);
  EXPECT_EQ(Password("c.martin", kStrongPassword)->result, StepResult::kFailed)
      << "disabled: time does not lift it";

  auto code = accounts_->ResetEnrollment("c.martin", "admin-1");
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(Password("c.martin", kStrongPassword)->result, StepResult::kFailed)
      << "a reset drops the old password: the user enrolls again";
  auto restarted = Wait<PasswordOutcome>([&](auto done) {
    login_->StartEnrollment(code->view(), SecretText(kStrongPassword), {"10.0.0.9", "t"},
                            std::move(done));
  });
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message();
  EXPECT_EQ(restarted->result, StepResult::kOk);
}

TEST_P(LoginFlow, SessionsExpireWhenIdleAndAtTheirAbsoluteLimit) {
  Enrolled user = EnrollStaff("c.martin");
  clock_.Advance(14min);
  EXPECT_TRUE(sessions_->Authenticate(user.session_token, store::SessionStage::kSession));
  clock_.Advance(14min);
  EXPECT_TRUE(sessions_->Authenticate(user.session_token, store::SessionStage::kSession))
      << "activity keeps a session alive";
  clock_.Advance(15min);
  EXPECT_FALSE(sessions_->Authenticate(user.session_token, store::SessionStage::kSession))
      << "15 minutes idle ends a staff session";

  clock_.Advance(31s);
  auto pending = Password("c.martin", kStrongPassword);
  auto done = login_->CompleteWithTotp(pending->pending->token.view(),
                                       CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
  ASSERT_EQ(done->result, StepResult::kOk);
  const std::string token(done->session->token.view());
  for (int i = 0; i < 12 * 6; ++i) {
    clock_.Advance(10min);
    if (!sessions_->Authenticate(token, store::SessionStage::kSession)) {
      EXPECT_GE(i, 12 * 6 - 2) << "ended before 12 hours";
      return;
    }
  }
  FAIL() << "a session outlived its 12-hour limit";
}

TEST_P(LoginFlow, RecoveryCodeWorksOnceAndStepUpRotatesTheToken) {
  Enrolled user = EnrollStaff("c.martin");
  auto pending = Password("c.martin", kStrongPassword);
  const std::string pending_token(pending->pending->token.view());
  auto recovered = Wait<SessionOutcome>([&](auto done) {
    login_->CompleteWithRecoveryCode(pending_token, user.recovery_codes[3], {"10.0.0.1", "t"},
                                     std::move(done));
  });
  ASSERT_TRUE(recovered.has_value()) << recovered.error().message();
  ASSERT_EQ(recovered->result, StepResult::kOk);
  const std::string token(recovered->session->token.view());

  auto second = Password("c.martin", kStrongPassword);
  auto reused = Wait<SessionOutcome>([&](auto done) {
    login_->CompleteWithRecoveryCode(second->pending->token.view(), user.recovery_codes[3],
                                     {"10.0.0.1", "t"}, std::move(done));
  });
  ASSERT_TRUE(reused.has_value());
  EXPECT_EQ(reused->result, StepResult::kFailed) << "a recovery code is single use";

  auto active = sessions_->Authenticate(token, store::SessionStage::kSession);
  ASSERT_TRUE(active);
  EXPECT_TRUE(sessions_->HasFreshSecondFactor(active->record));
  clock_.Advance(6min);
  active = sessions_->Authenticate(token, store::SessionStage::kSession);
  ASSERT_TRUE(active);
  EXPECT_FALSE(sessions_->HasFreshSecondFactor(active->record)) << "step-up window is 5 minutes";
  auto stepped = login_->StepUpWithTotp(token, CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
  ASSERT_TRUE(stepped.has_value()) << stepped.error().message();
  ASSERT_EQ(stepped->result, StepResult::kOk);
  EXPECT_FALSE(sessions_->Authenticate(token, store::SessionStage::kSession))
      << "the token before the privilege change is worthless";
  auto fresh =
      sessions_->Authenticate(stepped->session->token.view(), store::SessionStage::kSession);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(sessions_->HasFreshSecondFactor(fresh->record));
}

TEST_P(LoginFlow, UsersListAndEndTheirSessionsAndLogOutEverywhere) {
  Enrolled user = EnrollStaff("c.martin");
  std::vector<std::string> tokens{user.session_token};
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(31s);
    auto pending = Password("c.martin", kStrongPassword);
    auto done = login_->CompleteWithTotp(pending->pending->token.view(),
                                         CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
    ASSERT_EQ(done->result, StepResult::kOk);
    tokens.emplace_back(done->session->token.view());
  }
  auto listed = sessions_->List(user.account_id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 3u);
  ASSERT_TRUE(sessions_->End(user.account_id, listed->front().id));
  EXPECT_FALSE(sessions_->Authenticate(tokens[0], store::SessionStage::kSession));
  EXPECT_TRUE(sessions_->Authenticate(tokens[1], store::SessionStage::kSession));
  auto ended = sessions_->EndAll(user.account_id);
  EXPECT_EQ(*ended, 2);
  EXPECT_FALSE(sessions_->Authenticate(tokens[1], store::SessionStage::kSession));
  EXPECT_FALSE(sessions_->Authenticate(tokens[2], store::SessionStage::kSession));
}

TEST_P(LoginFlow, AdministratorsMustEnrollAPasskeyNotATotp) {
  auto created = accounts_->CreateStaff("root.admin", AccountKind::kAdministrator, "Ada", "cli",
                                        RoleApproval::kOperatorBootstrap);
  ASSERT_TRUE(created.has_value());
  auto started = Wait<PasswordOutcome>([&](auto done) {
    login_->StartEnrollment(created->enrollment_code.view(), SecretText(kStrongPassword),
                            {"10.0.0.9", "t"}, std::move(done));
  });
  ASSERT_TRUE(started.has_value()) << started.error().message();
  EXPECT_THAT(started->factors, ElementsAre("passkey"));
  auto totp = login_->BeginTotpEnrollment(started->pending->token.view());
  ASSERT_FALSE(totp.has_value());
  EXPECT_EQ(totp.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Password("root.admin", kStrongPassword)->result, StepResult::kFailed)
      << "no session and no pending login before a second factor is enrolled";
}

TEST_P(LoginFlow, EnrollmentRefusesAWeakPasswordAndCodesAreSingleUse) {
  auto created = accounts_->CreateStaff("l.bernard", AccountKind::kLabTechnician, "Léa", "cli",
                                        RoleApproval::kOperatorBootstrap);
  ASSERT_TRUE(created.has_value());
  const std::string code(created->enrollment_code.view());
  auto weak = Wait<PasswordOutcome>([&](auto done) {
    login_->StartEnrollment(code, SecretText("password1234"), {"10.0.0.9", "t"}, std::move(done));
  });
  ASSERT_FALSE(weak.has_value());
  EXPECT_EQ(weak.error().code(), ErrorCode::kInvalidArgument);
  auto ok = Wait<PasswordOutcome>([&](auto done) {
    login_->StartEnrollment(code, SecretText(kStrongPassword), {"10.0.0.9", "t"}, std::move(done));
  });
  ASSERT_EQ(ok->result, StepResult::kOk) << "a refused password does not use up the code";
  auto twice = Wait<PasswordOutcome>([&](auto done) {
    login_->StartEnrollment(code, SecretText(kStrongPassword), {"10.0.0.9", "t"}, std::move(done));
  });
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->result, StepResult::kFailed);
}

TEST_P(LoginFlow, PatientActivatesWithTheCodeFromTheReceipt) {
  auto code = accounts_->IssueActivationCode("patient-42", "lab-frontdesk");
  ASSERT_TRUE(code.has_value());
  auto activated = Wait<PasswordOutcome>([&](auto done) {
    login_->Activate(code->view(), "jeanne.d", "Jeanne Dupont", SecretText(kStrongPassword),
                     {"10.0.0.5", "phone"}, std::move(done));
  });
  ASSERT_TRUE(activated.has_value()) << activated.error().message();
  ASSERT_EQ(activated->result, StepResult::kOk);
  EXPECT_THAT(activated->factors, ElementsAre("totp", "passkey"));
  auto account = accounts_->FindByLogin("jeanne.d");
  ASSERT_TRUE(account.has_value());
  EXPECT_EQ(account->kind, "patient");
  EXPECT_EQ(account->patient_id, "patient-42");
  EXPECT_EQ(account->status, "pending_enrollment");
  auto again = Wait<PasswordOutcome>([&](auto done) {
    login_->Activate(code->view(), "jeanne.e", "Jeanne Dupont", SecretText(kStrongPassword),
                     {"10.0.0.5", "phone"}, std::move(done));
  });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->result, StepResult::kFailed) << "an activation code is single use";
  clock_.Advance(24h * 31);
  auto late = accounts_->IssueActivationCode("patient-43", "lab");
  clock_.Advance(24h * 31);
  auto expired = Wait<PasswordOutcome>([&](auto done) {
    login_->Activate(late->view(), "paul.m", "Paul Martin", SecretText(kStrongPassword),
                     {"10.0.0.5", "phone"}, std::move(done));
  });
  ASSERT_TRUE(expired.has_value());
  EXPECT_EQ(expired->result, StepResult::kFailed) << "activation codes expire";
}

TEST_P(LoginFlow, StolenPasswordsWithoutSecondFactorGiveNoSessionAndRaiseTheAlert) {
  std::vector<std::string> logins{"user.a", "user.b", "user.c", "user.d"};
  for (const auto& login : logins) EnrollStaff(login);
  std::size_t sessions = 0;
  for (const auto& login : logins) {
    auto pending = Password(login, kStrongPassword, {"203.0.113.7", "bot"});
    ASSERT_EQ(pending->result, StepResult::kOk);
    auto guess =
        login_->CompleteWithTotp(pending->pending->token.view(), "123456", {"203.0.113.7", "bot"});
    if (guess && guess->result == StepResult::kOk) ++sessions;
  }
  EXPECT_EQ(sessions, 0u);
  auto alerts = store_->ListAlerts(0, 10);
  ASSERT_TRUE(alerts.has_value());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().kind, "credential_stuffing");
  EXPECT_EQ(alerts->front().subject, "source/203.0.113.7");
}

INSTANTIATE_TEST_SUITE_P(Backends, LoginFlow, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::identity

namespace medvault::identity {
namespace {

// The challenge of a navigator.credentials.create options JSON.
std::vector<std::uint8_t> ChallengeOf(std::string_view options_json) {
  const auto options = boost::json::parse(options_json).as_object();
  const auto& challenge = options.at("challenge").as_string();
  auto bytes = DecodeBase64({challenge.data(), challenge.size()}, Base64Alphabet::kUrlSafe);
  return bytes ? *bytes : std::vector<std::uint8_t>{};
}

TEST_P(LoginFlow, ChangingATotpNeedsAFreshSecondFactorAndRetiresTheOldSecret) {
  Enrolled user = EnrollStaff("c.martin");
  clock_.Advance(6min);
  auto stale = login_->BeginTotpChange(user.session_token);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(stale.error().message(), ::testing::HasSubstr("step up"));

  clock_.Advance(30s);  // the enrollment's TOTP step is used: step up with the next one
  auto stepped =
      login_->StepUpWithTotp(user.session_token, CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
  ASSERT_TRUE(stepped.has_value()) << stepped.error().message();
  ASSERT_EQ(stepped->result, StepResult::kOk);
  const std::string token(stepped->session->token.view());
  auto change = login_->BeginTotpChange(token);
  ASSERT_TRUE(change.has_value()) << change.error().message();
  Secret fresh = FromBase32(change->secret_base32.view());
  EXPECT_FALSE(login_->ConfirmTotpChange(token, CurrentCode(user.totp_secret), {"10.0.0.1", "t"}))
      << "the old authenticator's code does not confirm the new secret";
  ASSERT_TRUE(login_->ConfirmTotpChange(token, CurrentCode(fresh), {"10.0.0.1", "t"}));
  EXPECT_EQ(events_.Count("factor_added", "success"), 1u);
  EXPECT_EQ(events_.Count("factor_added", "failure"), 1u);

  clock_.Advance(30s);
  auto pending = Password("c.martin", kStrongPassword);
  ASSERT_TRUE(pending.has_value());
  auto old_code = login_->CompleteWithTotp(pending->pending->token.view(),
                                           CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
  ASSERT_TRUE(old_code.has_value());
  EXPECT_EQ(old_code->result, StepResult::kFailed) << "the replaced secret opens nothing";
  auto new_code = login_->CompleteWithTotp(pending->pending->token.view(), CurrentCode(fresh),
                                           {"10.0.0.1", "t"});
  ASSERT_TRUE(new_code.has_value());
  EXPECT_EQ(new_code->result, StepResult::kOk);
}

TEST_P(LoginFlow, NoSessionLeavesWhenTheAuditLogRefusesTheEvent) {
  Enrolled user = EnrollStaff("c.martin");
  auto pending = Password("c.martin", kStrongPassword);
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->result, StepResult::kOk);
  events_.Refuse();
  clock_.Advance(30s);
  auto refused = login_->CompleteWithTotp(pending->pending->token.view(),
                                          CurrentCode(user.totp_secret), {"10.0.0.1", "t"});
  ASSERT_FALSE(refused.has_value()) << "a session the audit log does not hold is not handed out";
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  auto sessions = sessions_->List(user.account_id);
  ASSERT_TRUE(sessions.has_value());
  EXPECT_EQ(sessions->size(), 1u) << "only the enrollment's session remains: the new one ended";
  auto password = Password("c.martin", kStrongPassword);
  ASSERT_FALSE(password.has_value()) << "nor is a pending login";
  EXPECT_EQ(password.error().code(), ErrorCode::kUnavailable);
}

TEST_P(LoginFlow, RegeneratedRecoveryCodesReplaceTheOldOnes) {
  Enrolled user = EnrollStaff("c.martin");
  auto before = login_->ListFactors(user.session_token);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  EXPECT_EQ(before->recovery_codes_left, 10u);
  auto codes = Wait<std::vector<std::string>>([&](auto done) {
    login_->RegenerateRecoveryCodes(user.session_token, {"10.0.0.1", "t"}, std::move(done));
  });
  ASSERT_TRUE(codes.has_value()) << codes.error().message();
  ASSERT_EQ(codes->size(), 10u);
  EXPECT_NE((*codes)[0], user.recovery_codes[0]);
  EXPECT_EQ(events_.Count("recovery_codes_replaced", "success"), 1u);

  auto pending = Password("c.martin", kStrongPassword);
  auto old_code = Wait<SessionOutcome>([&](auto done) {
    login_->CompleteWithRecoveryCode(pending->pending->token.view(), user.recovery_codes[0],
                                     {"10.0.0.1", "t"}, std::move(done));
  });
  ASSERT_TRUE(old_code.has_value());
  EXPECT_EQ(old_code->result, StepResult::kFailed) << "the old set is gone";
  auto new_code = Wait<SessionOutcome>([&](auto done) {
    login_->CompleteWithRecoveryCode(pending->pending->token.view(), (*codes)[5],
                                     {"10.0.0.1", "t"}, std::move(done));
  });
  ASSERT_TRUE(new_code.has_value());
  EXPECT_EQ(new_code->result, StepResult::kOk);

  clock_.Advance(6min);
  auto stale = Wait<std::vector<std::string>>([&](auto done) {
    login_->RegenerateRecoveryCodes(new_code->session->token.view(), {"10.0.0.1", "t"},
                                    std::move(done));
  });
  ASSERT_FALSE(stale.has_value()) << "regenerating needs a fresh second factor";
  EXPECT_EQ(stale.error().code(), ErrorCode::kPermissionDenied);
}

TEST_P(LoginFlow, APasskeyCanBeAddedAndTheLastSecondFactorCannotBeRemoved) {
  login_->SetRelyingParty(RelyingParty{.id = std::string(testing::kRpId),
                                       .name = "medvault",
                                       .origins = {std::string(testing::kOrigin)}});
  Enrolled user = EnrollStaff("c.martin");
  auto listed = login_->ListFactors(user.session_token);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->factors.size(), 1u);
  EXPECT_EQ(listed->factors[0].kind, "totp");
  const std::string totp_id = listed->factors[0].id;
  auto last = login_->RemoveFactor(user.session_token, totp_id, {"10.0.0.1", "t"});
  ASSERT_FALSE(last.has_value());
  EXPECT_EQ(last.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(last.error().message(), ::testing::HasSubstr("last second factor"));

  auto options = login_->BeginPasskeyAddition(user.session_token);
  ASSERT_TRUE(options.has_value()) << options.error().message();
  testing::SoftAuthenticator authenticator(testing::SoftAuthenticator::Algorithm::kEs256);
  testing::RegistrationInput input;
  input.client.challenge = ChallengeOf(*options);
  ASSERT_TRUE(login_->ConfirmPasskeyAddition(user.session_token, authenticator.Register(input),
                                             {"10.0.0.1", "t"}));
  EXPECT_FALSE(login_->ConfirmPasskeyAddition(user.session_token, authenticator.Register(input),
                                              {"10.0.0.1", "t"}))
      << "the registration challenge is single use";

  listed = login_->ListFactors(user.session_token);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->factors.size(), 2u);
  ASSERT_TRUE(login_->RemoveFactor(user.session_token, totp_id, {"10.0.0.1", "t"}));
  auto unknown = login_->RemoveFactor(user.session_token, totp_id, {"10.0.0.1", "t"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(events_.Count("factor_removed", "success"), 1u);

  auto pending = Password("c.martin", kStrongPassword);
  ASSERT_TRUE(pending.has_value());
  EXPECT_THAT(pending->factors, ElementsAre("passkey", "recovery_code"));
}

}  // namespace
}  // namespace medvault::identity
