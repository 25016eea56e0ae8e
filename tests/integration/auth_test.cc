// The authentication API through the real `medvault` binary over TLS, with real outside
// tools: oathtool computes the TOTP codes (as a phone would) and Node's crypto module signs
// the OAuth client assertions. Nothing here asserts timing; the enumeration test prints the
// median time difference it measured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view kPassword = kTestPassword;
using Session = WebSession;

std::string LoginBody(std::string_view login, std::string_view password) {
  return "{\"login\":" + Quoted(login) + ",\"password\":" + Quoted(password) + "}";
}

// The stable code of an auth API error body (issue[0].details.coding[0], src/api/auth_errors.h).
std::string ErrorCodeOf(const Http& answer) {
  const auto* issue = answer.json.if_contains("issue");
  if (issue == nullptr || !issue->is_array() || issue->as_array().empty()) return "";
  const auto* details = issue->as_array()[0].as_object().if_contains("details");
  if (details == nullptr) return "";
  const auto& coding = details->at("coding").as_array().at(0).as_object();
  EXPECT_EQ(coding.at("system").as_string(), "urn:medvault:auth-error");
  return std::string(coding.at("code").as_string());
}

class AuthApi : public ::testing::Test {
 protected:
  void StartServer(Env env = {}) {
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}).exit_code, 0);
    env.emplace("MEDVAULT_AUTH_SOURCE_BURST", "100000");
    env.emplace("MEDVAULT_AUTH_SOURCE_PER_MINUTE", "100000");
    server_ = ServerProcess::Start(vault_.path(), env);
    ASSERT_NE(server_, nullptr);
  }

  std::string AddUser(const std::string& login, const std::string& kind = "clinician") {
    auto added = RunMedvault({"user", "add", "--dir", vault_.path().string(), "--login", login,
                              "--kind", kind, "--name", "Camille Martin"});
    EXPECT_EQ(added.exit_code, 0) << added.err;
    std::smatch match;
    static const std::regex kCode("enrollment code[^:]*: ([0-9A-Z-]{19})");
    EXPECT_TRUE(std::regex_search(added.out, match, kCode)) << added.out;
    return match.size() > 1 ? match[1].str() : "";
  }

  Enrolled Enroll(const std::string& code) {
    Enrolled out;
    const unsigned short port = server_->port();
    auto started = Send(port, "POST", "/auth/enroll",
                        "{\"code\":" + Quoted(code) + ",\"password\":" + Quoted(kPassword) + "}");
    EXPECT_EQ(started.status, 200u) << started.body;
    const std::string token = Str(started.json, "enrollment_token");
    auto totp =
        Send(port, "POST", "/auth/enroll/totp", "{\"enrollment_token\":" + Quoted(token) + "}");
    EXPECT_EQ(totp.status, 200u) << totp.body;
    out.secret = Str(totp.json, "secret");
    EXPECT_THAT(Str(totp.json, "qr_svg"), HasSubstr("<svg"));
    EXPECT_THAT(Str(totp.json, "otpauth_uri"), HasSubstr("secret=" + out.secret));
    auto confirmed = Send(port, "POST", "/auth/enroll/totp/confirm",
                          "{\"enrollment_token\":" + Quoted(token) +
                              ",\"code\":" + Quoted(Oathtool(out.secret)) + "}");
    EXPECT_EQ(confirmed.status, 200u) << confirmed.body;
    out.confirm_set_cookie = confirmed.set_cookie;
    out.session = {"__Host-medvault_session=" + CookieValue(confirmed.set_cookie),
                   Str(confirmed.json, "csrf_token")};
    if (const auto* codes = confirmed.json.if_contains("recovery_codes")) {
      for (const auto& c : codes->as_array()) out.recovery_codes.emplace_back(c.as_string());
    }
    return out;
  }

  // Password, then the TOTP code of the next time step (the enrollment used the current one).
  Http Login(const std::string& login, const std::string& secret, std::chrono::seconds offset) {
    auto pending = Send(server_->port(), "POST", "/auth/login", LoginBody(login, kPassword));
    EXPECT_EQ(pending.status, 200u) << pending.body;
    return Send(server_->port(), "POST", "/auth/login/totp",
                "{\"pending_token\":" + Quoted(Str(pending.json, "pending_token")) +
                    ",\"code\":" + Quoted(Oathtool(secret, offset)) + "}");
  }

  Http Me(const Session& session) {
    return Send(server_->port(), "GET", "/auth/me", "", {"Cookie: " + session.cookie});
  }

  TempDir vault_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AuthApi, EnrollmentAndLoginWithOathtoolCodesAndReplayRefused) {
  StartServer();
  Enrolled user = Enroll(AddUser("c.martin"));
  ASSERT_EQ(user.recovery_codes.size(), 10u);
  EXPECT_THAT(user.confirm_set_cookie, ::testing::StartsWith("__Host-medvault_session="));
  EXPECT_THAT(user.confirm_set_cookie, HasSubstr("; Secure"));
  EXPECT_THAT(user.confirm_set_cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(user.confirm_set_cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(user.confirm_set_cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(user.confirm_set_cookie, ::testing::Not(HasSubstr("Domain=")));

  // A password alone: a pending token, no cookie, nothing opens with it.
  auto pending = Send(server_->port(), "POST", "/auth/login", LoginBody("C.Martin", kPassword));
  ASSERT_EQ(pending.status, 200u) << pending.body;
  EXPECT_EQ(Str(pending.json, "status"), "second_factor_required");
  EXPECT_TRUE(pending.set_cookie.empty());
  const std::string pending_token = Str(pending.json, "pending_token");
  EXPECT_EQ(Me({"__Host-medvault_session=" + pending_token, ""}).status, 401u);

  const std::string code = Oathtool(user.secret, 30s);
  auto done =
      Send(server_->port(), "POST", "/auth/login/totp",
           "{\"pending_token\":" + Quoted(pending_token) + ",\"code\":" + Quoted(code) + "}");
  ASSERT_EQ(done.status, 200u) << done.body;
  Session session = SessionOf(done);
  auto me = Me(session);
  ASSERT_EQ(me.status, 200u) << me.body;
  EXPECT_EQ(Str(me.json, "login"), "c.martin");
  EXPECT_EQ(Str(me.json, "kind"), "clinician");

  auto again = Send(server_->port(), "POST", "/auth/login", LoginBody("c.martin", kPassword));
  auto replay = Send(server_->port(), "POST", "/auth/login/totp",
                     "{\"pending_token\":" + Quoted(Str(again.json, "pending_token")) +
                         ",\"code\":" + Quoted(code) + "}");
  EXPECT_EQ(replay.status, 401u) << "a TOTP code is accepted once";
  EXPECT_EQ(Str(replay.json, "resourceType"), "OperationOutcome");
  EXPECT_EQ(ErrorCodeOf(replay), "second_factor_refused") << "a replay is told as any refusal";

  // State-changing requests with the cookie need the anti-CSRF header.
  auto no_csrf = Send(server_->port(), "POST", "/auth/logout", "", {"Cookie: " + session.cookie});
  EXPECT_EQ(no_csrf.status, 401u);
  EXPECT_THAT(no_csrf.body, HasSubstr("X-CSRF-Token"));
  EXPECT_EQ(ErrorCodeOf(no_csrf), "csrf_required");
  auto wrong_csrf = Send(server_->port(), "POST", "/auth/logout", "",
                         {"Cookie: " + session.cookie, "X-CSRF-Token: " + user.session.csrf});
  EXPECT_EQ(wrong_csrf.status, 401u) << "the header is bound to its own session";
  EXPECT_EQ(Me(session).status, 200u);
  auto logout = Send(server_->port(), "POST", "/auth/logout", "",
                     {"Cookie: " + session.cookie, "X-CSRF-Token: " + session.csrf});
  EXPECT_EQ(logout.status, 204u);
  EXPECT_THAT(logout.set_cookie, HasSubstr("Max-Age=0"));
  EXPECT_EQ(Me(session).status, 401u);
}

TEST_F(AuthApi, UsersReplaceTheirTotpAndRecoveryCodesButCannotRemoveTheLastFactor) {
  StartServer();
  Enrolled user = Enroll(AddUser("c.martin"));
  const unsigned short port = server_->port();
  const std::vector<std::string> auth = {"Cookie: " + user.session.cookie,
                                         "X-CSRF-Token: " + user.session.csrf};
  auto listed = Send(port, "GET", "/auth/factors", "", {"Cookie: " + user.session.cookie});
  ASSERT_EQ(listed.status, 200u) << listed.body;
  ASSERT_EQ(listed.json.at("factors").as_array().size(), 1u);
  EXPECT_EQ(listed.json.at("recovery_codes_left").as_int64(), 10);

  EXPECT_EQ(Send(port, "POST", "/auth/factors/totp", "{}", {"Cookie: " + user.session.cookie})
                .status,
            401u)
      << "a factor change needs the anti-CSRF header";
  auto change = Send(port, "POST", "/auth/factors/totp", "{}", auth);
  ASSERT_EQ(change.status, 200u) << change.body;
  const std::string fresh = Str(change.json, "secret");
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh, user.secret);
  auto wrong = Send(port, "POST", "/auth/factors/totp/confirm",
                    "{\"code\":" + Quoted(Oathtool(user.secret)) + "}", auth);
  EXPECT_EQ(wrong.status, 400u) << "the old authenticator does not confirm the new secret";
  auto confirmed = Send(port, "POST", "/auth/factors/totp/confirm",
                        "{\"code\":" + Quoted(Oathtool(fresh)) + "}", auth);
  ASSERT_EQ(confirmed.status, 204u) << confirmed.body;

  auto codes = Send(port, "POST", "/auth/recovery-codes", "{}", auth);
  ASSERT_EQ(codes.status, 200u) << codes.body;
  ASSERT_EQ(codes.json.at("recovery_codes").as_array().size(), 10u);
  EXPECT_NE(std::string(codes.json.at("recovery_codes").as_array()[0].as_string()),
            user.recovery_codes[0]);

  listed = Send(port, "GET", "/auth/factors", "", {"Cookie: " + user.session.cookie});
  ASSERT_EQ(listed.json.at("factors").as_array().size(), 1u);
  const std::string id = Str(listed.json.at("factors").as_array()[0].as_object(), "id");
  auto last = Send(port, "DELETE", "/auth/factors/" + id, "", auth);
  EXPECT_EQ(last.status, 422u) << last.body;
  EXPECT_THAT(last.body, HasSubstr("last second factor"));
  EXPECT_EQ(ErrorCodeOf(last), "last_second_factor");

  EXPECT_EQ(Login("c.martin", user.secret, 30s).status, 401u) << "the old secret opens nothing";
  EXPECT_EQ(Login("c.martin", fresh, 30s).status, 200u);
}

// The entries `medvault audit verify` finds in an intact log.
long AuditEntries(const std::filesystem::path& vault) {
  auto verify = RunMedvault({"audit", "verify", "--dir", vault.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  std::smatch match;
  if (!std::regex_search(verify.out, match, std::regex("intact: ([0-9]+) entries"))) return -1;
  return std::stol(match[1]);
}

TEST_F(AuthApi, AuthEventsFromTheCommandAndTheServerGoToTheAuditLog) {
  StartServer();
  const long at_start = AuditEntries(vault_.path());
  AddUser("c.audit");  // the operator's account_created
  const long after_add = AuditEntries(vault_.path());
  EXPECT_GT(after_add, at_start);
  auto refused = Send(server_->port(), "POST", "/auth/login", LoginBody("c.audit", "wrong"));
  EXPECT_EQ(refused.status, 401u) << refused.body;
  auto unknown = Send(server_->port(), "POST", "/auth/login", LoginBody("nobody.here", kPassword));
  EXPECT_EQ(unknown.status, 401u) << unknown.body;
  EXPECT_GE(AuditEntries(vault_.path()), after_add + 2) << "each failed login is an entry";
  EXPECT_THAT(server_->Output(), ::testing::Not(HasSubstr("audit_write_failed")));
}

TEST_F(AuthApi, UnknownLoginAndWrongPasswordGetIdenticalAnswers) {
  StartServer();
  Enroll(AddUser("c.martin"));
  const int tries = std::getenv("MEDVAULT_ENUMERATION_TRIES") != nullptr
                        ? std::atoi(std::getenv("MEDVAULT_ENUMERATION_TRIES"))
                        : 20;
  std::vector<double> unknown_ms;
  std::vector<double> wrong_ms;
  std::string unknown_body;
  std::string wrong_body;
  for (int i = 0; i < tries; ++i) {
    for (bool unknown : {true, false}) {
      const auto start = std::chrono::steady_clock::now();
      auto answer = Send(server_->port(), "POST", "/auth/login",
                         LoginBody(unknown ? "nobody.here" : "c.martin", "wrong password 12345"));
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      ASSERT_EQ(answer.status, 401u) << answer.body;
      (unknown ? unknown_ms : wrong_ms).push_back(ms);
      (unknown ? unknown_body : wrong_body) = answer.body;
    }
  }
  EXPECT_EQ(unknown_body, wrong_body);
  EXPECT_THAT(wrong_body, HasSubstr("\"code\":\"login_failed\""));
  std::ranges::sort(unknown_ms);
  std::ranges::sort(wrong_ms);
  const double median_unknown = unknown_ms[unknown_ms.size() / 2];
  const double median_wrong = wrong_ms[wrong_ms.size() / 2];
  std::printf(
      "enumeration: %d tries each, median unknown %.2f ms, wrong password %.2f ms, "
      "difference %.2f ms\n",
      tries, median_unknown, median_wrong, median_wrong - median_unknown);
  RecordProperty("median_difference_ms", std::to_string(median_wrong - median_unknown));
}

TEST_F(AuthApi, HundredFailuresDisableTheAccountUntilAnAdministratorResetsIt) {
  // No backoff (below one second) so that the 100 failures run quickly; the rule holds.
  StartServer({{"MEDVAULT_AUTH_BACKOFF_FIRST_DELAY_SECONDS", "0.5"}});
  Enroll(AddUser("c.martin"));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Send(server_->port(), "POST", "/auth/login", LoginBody("c.martin", "wrong 123456789"))
                  .status,
              401u);
  }
  auto locked = Send(server_->port(), "POST", "/auth/login", LoginBody("c.martin", kPassword));
  EXPECT_EQ(locked.status, 401u) << "disabled: even the right password gets the common answer";
  EXPECT_THAT(server_->Output(), HasSubstr("\"auth_event\":\"account_locked\""));

  auto reset =
      RunMedvault({"user", "reset", "--dir", vault_.path().string(), "--login", "c.martin"});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  std::smatch match;
  const std::regex code_re("enrollment code[^:]*: ([0-9A-Z-]{19})");
  ASSERT_TRUE(std::regex_search(reset.out, match, code_re));
  Enrolled again = Enroll(match[1].str());
  EXPECT_EQ(Me(again.session).status, 200u) << "re-enrolled after the reset";
}

TEST_F(AuthApi, SaturatedHashingAnswers429WithRetryAfter) {
  StartServer({{"MEDVAULT_AUTH_HASH_THREADS", "1"}, {"MEDVAULT_AUTH_HASH_QUEUE", "1"}});
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<Http> answers;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto answer = Send(server_->port(), "POST", "/auth/login",
                         LoginBody("user" + std::to_string(i), "some password 12345"));
      std::lock_guard lock(mutex);
      answers.push_back(std::move(answer));
    });
  }
  for (auto& t : threads) t.join();
  int throttled = 0;
  for (const auto& answer : answers) {
    if (answer.status == 429) {
      ++throttled;
      EXPECT_FALSE(answer.retry_after.empty()) << "429 says when to come back";
    } else {
      EXPECT_EQ(answer.status, 401u);
    }
  }
  EXPECT_GT(throttled, 0) << "8 concurrent logins against 1 thread and a queue of 1";
}

TEST_F(AuthApi, SessionsEndWhenIdleAndAtTheirAbsoluteLifetime) {
  // Short timeouts with wide margins: 5 s idle checked after 8 s, activity every second.
  StartServer({{"MEDVAULT_AUTH_STAFF_IDLE_TIMEOUT_SECONDS", "5"},
               {"MEDVAULT_AUTH_SESSION_LIFETIME_SECONDS", "15"}});
  Enrolled user = Enroll(AddUser("c.martin"));
  auto first = Login("c.martin", user.secret, 30s);
  ASSERT_EQ(first.status, 200u) << first.body;
  Session idle = SessionOf(first);
  ASSERT_EQ(Me(idle).status, 200u);
  std::this_thread::sleep_for(8s);
  EXPECT_EQ(Me(idle).status, 401u) << "idle for longer than 5 s";

  // A TOTP code of the next step is used up: the second session comes from a recovery code.
  auto pending = Send(server_->port(), "POST", "/auth/login", LoginBody("c.martin", kPassword));
  ASSERT_EQ(pending.status, 200u) << pending.body;
  auto second = Send(server_->port(), "POST", "/auth/login/recovery-code",
                     "{\"pending_token\":" + Quoted(Str(pending.json, "pending_token")) +
                         ",\"code\":" + Quoted(user.recovery_codes.at(0)) + "}");
  ASSERT_EQ(second.status, 200u) << second.body;
  Session busy = SessionOf(second);
  int alive_checks = 0;
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(1s);
    if (Me(busy).status != 200) break;
    ++alive_checks;
  }
  EXPECT_LT(alive_checks, 40) << "activity does not extend a session past its lifetime";
  EXPECT_GE(alive_checks, 6) << "activity kept the session alive beyond the idle timeout";
}

TEST_F(AuthApi, UsersListTheirSessionsAndLogOutEverywhere) {
  StartServer();
  Enrolled user = Enroll(AddUser("c.martin"));
  auto second = Login("c.martin", user.secret, 30s);
  ASSERT_EQ(second.status, 200u) << second.body;
  Session other = SessionOf(second);
  auto listed = Send(server_->port(), "GET", "/auth/sessions", "", {"Cookie: " + other.cookie});
  ASSERT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.json.at("sessions").as_array().size(), 2u);
  auto everywhere = Send(server_->port(), "POST", "/auth/logout-everywhere", "",
                         {"Cookie: " + other.cookie, "X-CSRF-Token: " + other.csrf});
  ASSERT_EQ(everywhere.status, 200u) << everywhere.body;
  EXPECT_EQ(Me(user.session).status, 401u);
  EXPECT_EQ(Me(other).status, 401u);
}

TEST_F(AuthApi, AdministratorsCreateAndResetAccountsWithAFreshSecondFactor) {
  StartServer({{"MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp"}});
  // Both before any administrator is active: the operator's bootstrap gives the roles at once.
  const std::string admin_code = AddUser("root.admin", "administrator");
  const std::string clinician_code = AddUser("c.martin");
  Enrolled admin = Enroll(admin_code);
  Enrolled clinician = Enroll(clinician_code);
  const std::string create = R"({"login":"l.bernard","kind":"lab_technician","name":"Lea B"})";

  auto not_admin =
      Send(server_->port(), "POST", "/auth/admin/accounts", create,
           {"Cookie: " + clinician.session.cookie, "X-CSRF-Token: " + clinician.session.csrf});
  EXPECT_EQ(not_admin.status, 403u) << not_admin.body;
  auto no_csrf = Send(server_->port(), "POST", "/auth/admin/accounts", create,
                      {"Cookie: " + admin.session.cookie});
  EXPECT_EQ(no_csrf.status, 401u);

  // The enrollment just checked the second factor: fresh for 5 minutes.
  auto created = Send(server_->port(), "POST", "/auth/admin/accounts", create,
                      {"Cookie: " + admin.session.cookie, "X-CSRF-Token: " + admin.session.csrf});
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(Str(created.json, "status"), "pending_approval") << "four eyes";
  EXPECT_EQ(Str(created.json, "enrollment_code").size(), 19u);
  EXPECT_EQ(created.json.if_contains("password"), nullptr);

  auto reset =
      Send(server_->port(), "POST", "/auth/admin/accounts/reset", R"({"login":"c.martin"})",
           {"Cookie: " + admin.session.cookie, "X-CSRF-Token: " + admin.session.csrf});
  ASSERT_EQ(reset.status, 200u) << reset.body;
  EXPECT_EQ(Me(clinician.session).status, 401u) << "a reset ends the account's sessions";
  Enrolled again = Enroll(Str(reset.json, "enrollment_code"));
  EXPECT_EQ(Me(again.session).status, 200u);
}

TEST_F(AuthApi, AStaffRoleWaitsForASecondAdministratorWhoIsNotTheRequester) {
  StartServer({{"MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp"}});
  const std::string first_code = AddUser("root.admin", "administrator");
  const std::string second_code = AddUser("second.admin", "administrator");
  Enrolled first = Enroll(first_code);
  Enrolled second = Enroll(second_code);
  const auto as = [&](const Enrolled& who) {
    return std::vector<std::string>{"Cookie: " + who.session.cookie,
                                    "X-CSRF-Token: " + who.session.csrf};
  };
  auto created =
      Send(server_->port(), "POST", "/auth/admin/accounts",
           R"({"login":"c.dubois","kind":"clinician","name":"Claire D"})", as(first));
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string code = Str(created.json, "enrollment_code");
  const std::string grant = Str(created.json.at("grant").as_object(), "id");
  EXPECT_EQ(Str(created.json.at("grant").as_object(), "state"), "pending");

  auto early = Send(server_->port(), "POST", "/auth/enroll",
                    "{\"code\":" + Quoted(code) + ",\"password\":" + Quoted(kPassword) + "}");
  EXPECT_NE(early.status, 200u) << "no enrollment, so no clinical role, before the approval";
  auto reset = Send(server_->port(), "POST", "/auth/admin/accounts/reset",
                    R"({"login":"c.dubois"})", as(first));
  EXPECT_EQ(reset.status, 409u) << "a reset does not open an account awaiting approval";

  auto listed = Send(server_->port(), "GET", "/auth/admin/grants", "", as(second));
  ASSERT_EQ(listed.status, 200u) << listed.body;
  ASSERT_EQ(listed.json.at("grants").as_array().size(), 1u);
  EXPECT_EQ(Str(listed.json.at("grants").as_array()[0].as_object(), "id"), grant);

  auto own = Send(server_->port(), "POST", "/auth/admin/grants/" + grant + "/approve", "",
                  as(first));
  EXPECT_EQ(own.status, 403u) << own.body;
  auto no_csrf = Send(server_->port(), "POST", "/auth/admin/grants/" + grant + "/approve", "",
                      {"Cookie: " + second.session.cookie});
  EXPECT_EQ(no_csrf.status, 401u);
  auto approved = Send(server_->port(), "POST", "/auth/admin/grants/" + grant + "/approve", "",
                       as(second));
  ASSERT_EQ(approved.status, 200u) << approved.body;
  EXPECT_EQ(Str(approved.json, "state"), "approved");
  EXPECT_EQ(Str(approved.json, "decided_by"), Str(Me(second.session).json, "account_id"));
  auto again = Send(server_->port(), "POST", "/auth/admin/grants/" + grant + "/refuse", "",
                    as(second));
  EXPECT_EQ(again.status, 409u) << "decided once";

  Enrolled clinician = Enroll(code);
  EXPECT_EQ(Str(Me(clinician.session).json, "kind"), "clinician");

  // The operator at the console now needs a second administrator too.
  auto console = RunMedvault({"user", "add", "--dir", vault_.path().string(), "--login",
                              "l.roux", "--kind", "lab_technician", "--name", "Lou Roux"});
  ASSERT_EQ(console.exit_code, 0) << console.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(console.out, match, std::regex("role grant ([0-9a-f-]+) ")))
      << console.out;
  auto refused = RunMedvault({"user", "refuse", "--dir", vault_.path().string(), "--grant",
                              match[1].str(), "--by", "c.martin"});
  EXPECT_EQ(refused.exit_code, 2) << "c.martin is no administrator (and does not exist)";
  auto by_console = RunMedvault({"user", "approve", "--dir", vault_.path().string(), "--grant",
                                 match[1].str(), "--by", "second.admin"});
  EXPECT_EQ(by_console.exit_code, 0) << by_console.err;
  EXPECT_THAT(by_console.out, HasSubstr("approved"));
}

TEST_F(AuthApi, TokenEndpointTakesANodeSignedAssertionOnceAndAdvertisesItself) {
  StartServer();
  auto config = Send(server_->port(), "GET", "/fhir/.well-known/smart-configuration", "");
  ASSERT_EQ(config.status, 200u);
  const std::string endpoint = Str(config.json, "token_endpoint");
  EXPECT_EQ(endpoint, "https://127.0.0.1:" + std::to_string(server_->port()) + "/auth/token");
  EXPECT_EQ(boost::json::serialize(config.json.at("token_endpoint_auth_methods_supported")),
            "[\"private_key_jwt\"]");

  TempDir keys;
  const std::string script = (keys.path() / "sign.js").string();
  {
    FILE* file = std::fopen(script.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs(kNodeSigner, file);
    std::fclose(file);
  }
  const std::string jwt =
      RunTool("node " + script + " " + keys.path().string() + " lab-1 " + endpoint + " jti-1");
  ASSERT_FALSE(jwt.empty()) << "node could not sign (install nodejs)";
  auto added = RunMedvault({"client", "add", "--dir", vault_.path().string(), "--client-id",
                            "lab-1", "--jwks", (keys.path() / "jwks.json").string(), "--scopes",
                            "system/Observation.cu system/DiagnosticReport.c",
                            "--all-organizations"});
  ASSERT_EQ(added.exit_code, 0) << added.err;

  const std::string form =
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
      "client-assertion-type%3Ajwt-bearer&scope=system%2FObservation.c+system%2FPatient.r"
      "&client_assertion=" +
      jwt;
  auto token =
      Send(server_->port(), "POST", "/auth/token", form, {}, "application/x-www-form-urlencoded");
  ASSERT_EQ(token.status, 200u) << token.body;
  EXPECT_EQ(Str(token.json, "token_type"), "bearer");
  EXPECT_EQ(token.json.at("expires_in").as_int64(), 300);
  EXPECT_EQ(Str(token.json, "scope"), "system/Observation.c") << "narrowed to the registration";
  EXPECT_EQ(Str(token.json, "access_token").size(), 43u);

  auto replay =
      Send(server_->port(), "POST", "/auth/token", form, {}, "application/x-www-form-urlencoded");
  EXPECT_EQ(replay.status, 401u) << replay.body;
  EXPECT_EQ(Str(replay.json, "error"), "invalid_client");
}

// Stolen passwords without the second factor: N accounts (MEDVAULT_STUFFING_N, default 4)
// whose passwords the attacker has, from one address; bench/run-stuffing runs a larger N.
TEST_F(AuthApi, CredentialStuffingWithCorrectPasswordsOpensNoSession) {
  StartServer({{"MEDVAULT_AUTH_STUFFING_ACCOUNTS", "3"}});
  const int n = std::getenv("MEDVAULT_STUFFING_N") != nullptr
                    ? std::atoi(std::getenv("MEDVAULT_STUFFING_N"))
                    : 4;
  for (int i = 0; i < n; ++i) Enroll(AddUser("victim" + std::to_string(i)));
  int sessions = 0, pending = 0, refused = 0, throttled = 0;
  for (int i = 0; i < n; ++i) {
    auto first = Send(server_->port(), "POST", "/auth/login",
                      LoginBody("victim" + std::to_string(i), kPassword));
    if (first.status == 429) {
      ++throttled;
      continue;
    }
    ASSERT_EQ(first.status, 200u) << first.body;
    ++pending;
    for (const char* guess : {"000000", "123456", "111111"}) {
      auto second = Send(server_->port(), "POST", "/auth/login/totp",
                         "{\"pending_token\":" + Quoted(Str(first.json, "pending_token")) +
                             ",\"code\":\"" + guess + "\"}");
      if (second.status == 200) ++sessions;
      if (second.status == 401) ++refused;
      if (second.status == 429) ++throttled;
      EXPECT_TRUE(second.set_cookie.empty());
    }
  }
  std::printf(
      "stuffing: %d accounts, %d passwords accepted, %d codes refused, %d throttled, "
      "%d sessions\n",
      n, pending, refused, throttled, sessions);
  EXPECT_EQ(sessions, 0);
  EXPECT_THAT(server_->Output(), HasSubstr("\"auth_event\":\"credential_stuffing\""));
}

}  // namespace
}  // namespace medvault::testing
