// The security console's endpoints through the real `medvault` binary, on SQLite and on
// PostgreSQL (the fixture "pg"): administrators list accounts (filters, pages, factor kinds,
// last full login, no secrets) and disable one (its sessions end, its login says why, another
// administrator reinstates it) or an API client (its tokens end, no new one); administrators
// and auditors acknowledge an alert once (the second acknowledgement names the first);
// administrators link staff to their Practitioner or lab; the
// latest signed checkpoint, the verifier's run (intact, then the first bad entry after an edit
// of the log in the database) and the key status without key material. Every other role is
// refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/store/test_cluster.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Logins(const Http& page) {
  std::vector<std::string> logins;
  for (const auto& row : page.json.at("accounts").as_array()) {
    logins.push_back(Str(row.as_object(), "login"));
  }
  return logins;
}

const json::object* AccountRow(const Http& page, std::string_view login) {
  for (const auto& row : page.json.at("accounts").as_array()) {
    if (Str(row.as_object(), "login") == login) return &row.as_object();
  }
  return nullptr;
}

class Console : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Env env;
    if (GetParam() == "postgres") {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      store_url_ = *url;
      env.emplace("MEDVAULT_STORE_URL", store_url_);
    }
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    env.emplace("MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp");
    env.emplace("MEDVAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1");
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env));
    ASSERT_NE(server_, nullptr);
    // Before any administrator is active, the operator's bootstrap gives the roles at once.
    const std::string root_code = AddStaff(vault_.path(), "root.admin", "administrator", env_);
    const std::string second_code = AddStaff(vault_.path(), "second.admin", "administrator", env_);
    const std::string auditor_code = AddStaff(vault_.path(), "a.udit", "auditor", env_);
    const std::string martin_code = AddStaff(vault_.path(), "c.martin", "clinician", env_);
    AddStaff(vault_.path(), "l.waiting", "lab_technician", env_);
    urgent_code_ = AddStaff(vault_.path(), "e.urgent", "clinician", env_);
    root_ = EnrollWithTotp(port(), root_code);
    second_ = EnrollWithTotp(port(), second_code);
    auditor_ = EnrollWithTotp(port(), auditor_code);
    martin_ = EnrollWithTotp(port(), martin_code);
    ASSERT_FALSE(root_.session.csrf.empty());
    ASSERT_FALSE(second_.session.csrf.empty());
    ASSERT_FALSE(auditor_.session.csrf.empty());
    ASSERT_FALSE(martin_.session.csrf.empty());
  }

  unsigned short port() const { return server_->port(); }

  std::string AccountIdOf(const WebSession& session) {
    auto me = SendAs(port(), session, "GET", "/auth/me");
    EXPECT_EQ(me.status, 200u) << me.body;
    return Str(me.json, "account_id");
  }

  Http PasswordStep(std::string_view login) {
    return Send(port(), "POST", "/auth/login",
                "{\"login\":" + Quoted(login) + ",\"password\":" + Quoted(kTestPassword) + "}");
  }

  // Runs a fixed SQL statement on the vault's database.
  void RunSql(const std::string& sql) {
    if (GetParam() == "postgres") {
      auto ran = store::RunPsql(store_url_, sql);
      ASSERT_TRUE(ran.has_value()) << ran.error().message();
    } else {
      const std::string db = (vault_.path() / "data" / "medvault.db").string();
      RunTool("sqlite3 -cmd '.timeout 5000' " + db + " \"" + sql + "\"");
    }
  }

  TempDir vault_;
  Env env_;
  std::string store_url_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled root_, second_, auditor_, martin_;
  std::string urgent_code_;  // enrolled by the test that needs a second clinician
};

TEST_P(Console, AdministratorsListAccountsByKindStatusAndLoginInPages) {
  auto all = SendAs(port(), root_.session, "GET", "/auth/admin/accounts");
  ASSERT_EQ(all.status, 200u) << all.body;
  EXPECT_THAT(Logins(all), ::testing::ElementsAre("a.udit", "c.martin", "e.urgent", "l.waiting",
                                                  "root.admin", "second.admin"));
  const json::object* root = AccountRow(all, "root.admin");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(Str(*root, "kind"), "administrator");
  EXPECT_EQ(Str(*root, "status"), "active");
  EXPECT_EQ(json::serialize(root->at("second_factors")), R"(["recovery_code","totp"])");
  EXPECT_TRUE(root->at("created_at").is_int64());
  // The enrollment checked the password and the new second factor: a full login.
  ASSERT_TRUE(root->at("last_login_at").is_int64()) << all.body;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_NEAR(static_cast<double>(root->at("last_login_at").as_int64()), static_cast<double>(now),
              120.0);
  const json::object* waiting = AccountRow(all, "l.waiting");
  ASSERT_NE(waiting, nullptr);
  EXPECT_TRUE(waiting->at("last_login_at").is_null()) << "never logged in";
  EXPECT_TRUE(waiting->at("second_factors").as_array().empty());
  // Kinds of factors only: no password, no hash, no secret.
  EXPECT_THAT(all.body, Not(HasSubstr("password")));
  EXPECT_THAT(all.body, Not(HasSubstr("argon2")));
  EXPECT_THAT(all.body, Not(HasSubstr(root_.secret)));
  EXPECT_EQ(all.Header("Cache-Control"), "no-store");

  auto clinicians = SendAs(port(), root_.session, "GET", "/auth/admin/accounts?kind=clinician");
  ASSERT_EQ(clinicians.status, 200u) << clinicians.body;
  EXPECT_THAT(Logins(clinicians), ::testing::ElementsAre("c.martin", "e.urgent"));
  auto pending = SendAs(port(), root_.session, "GET", "/auth/admin/accounts?status=pending");
  ASSERT_EQ(pending.status, 200u) << pending.body;
  EXPECT_THAT(Logins(pending), ::testing::ElementsAre("e.urgent", "l.waiting"));
  auto prefix = SendAs(port(), root_.session, "GET", "/auth/admin/accounts?login=SEC");
  ASSERT_EQ(prefix.status, 200u) << prefix.body;
  EXPECT_THAT(Logins(prefix), ::testing::ElementsAre("second.admin"));

  // Pages of two, by login, each naming the next.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto got = SendAs(
        port(), root_.session, "GET",
        "/auth/admin/accounts?_count=2" + (cursor.empty() ? std::string() : "&cursor=" + cursor));
    ASSERT_EQ(got.status, 200u) << got.body;
    for (const std::string& login : Logins(got)) paged.push_back(login);
    cursor = Str(got.json, "next");
    if (cursor.empty()) break;
  }
  EXPECT_EQ(paged, Logins(all));

  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/auth/admin/accounts?status=gone").status, 400u);
  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/auth/admin/accounts?_count=0").status, 400u);
  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/auth/admin/accounts?kind=robot").status, 400u);
  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/auth/admin/accounts?sort=login").status, 400u);
  EXPECT_EQ(SendAs(port(), martin_.session, "GET", "/auth/admin/accounts").status, 403u);
  EXPECT_EQ(SendAs(port(), auditor_.session, "GET", "/auth/admin/accounts").status, 403u);
  EXPECT_EQ(Send(port(), "GET", "/auth/admin/accounts", "").status, 401u);
}

TEST_P(Console, ADisabledAccountLosesItsSessionsAndLogsInOnlyOnceReinstated) {
  const std::string martin_id = AccountIdOf(martin_.session);
  auto by_clinician = SendAs(port(), martin_.session, "POST", "/auth/admin/accounts/disable",
                             R"({"login":"root.admin"})", {}, "application/json");
  EXPECT_EQ(by_clinician.status, 403u) << by_clinician.body;
  auto self = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                     R"({"login":"root.admin"})", {}, "application/json");
  EXPECT_EQ(self.status, 403u) << self.body;
  EXPECT_THAT(self.body, HasSubstr("own account"));
  auto both = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                     R"({"login":"c.martin","client":"x"})", {}, "application/json");
  EXPECT_EQ(both.status, 400u) << both.body;
  auto unknown = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                        R"({"login":"no.one"})", {}, "application/json");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;

  auto disabled = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                         R"({"login":"c.martin"})", {}, "application/json");
  ASSERT_EQ(disabled.status, 200u) << disabled.body;
  EXPECT_EQ(Str(disabled.json, "status"), "disabled");
  EXPECT_EQ(SendAs(port(), martin_.session, "GET", "/auth/me").status, 401u)
      << "its session ended at once";
  auto login = PasswordStep("c.martin");
  EXPECT_EQ(login.status, 401u) << login.body;
  EXPECT_THAT(login.body, HasSubstr("disabled by an administrator"));
  EXPECT_EQ(PasswordStep("c.martin").json.if_contains("pending_token"), nullptr);
  auto again = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                      R"({"login":"c.martin"})", {}, "application/json");
  EXPECT_EQ(again.status, 409u) << again.body;
  auto listed = SendAs(port(), root_.session, "GET", "/auth/admin/accounts?status=disabled");
  ASSERT_EQ(listed.status, 200u) << listed.body;
  EXPECT_THAT(Logins(listed), ::testing::ElementsAre("c.martin"));

  // Audited, the administrator as the actor and the account as what was acted on.
  auto csv = SendAs(port(), auditor_.session, "GET", "/audit/entries.csv?action=user_change");
  ASSERT_EQ(csv.status, 200u) << csv.body;
  EXPECT_THAT(csv.body, HasSubstr(AccountIdOf(root_.session) + ",administrator"));
  EXPECT_THAT(csv.body, HasSubstr("Account," + martin_id));

  // Another administrator reinstates it; its factors are kept.
  auto own = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/reinstate",
                    R"({"login":"root.admin"})", {}, "application/json");
  EXPECT_EQ(own.status, 403u) << own.body;
  auto reinstated = SendAs(port(), second_.session, "POST", "/auth/admin/accounts/reinstate",
                           R"({"login":"c.martin"})", {}, "application/json");
  ASSERT_EQ(reinstated.status, 200u) << reinstated.body;
  EXPECT_EQ(Str(reinstated.json, "status"), "active");
  auto back = PasswordStep("c.martin");
  ASSERT_EQ(back.status, 200u) << back.body;
  EXPECT_EQ(Str(back.json, "status"), "second_factor_required");
}

// kNodeSigner with its key kept in DIR/key.pem, so that one client signs several assertions.
std::string KeptKeySigner() {
  std::string script = kNodeSigner;
  const std::string generate =
      "const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: "
      "'P-384' });";
  const auto at = script.find(generate);
  if (at == std::string::npos) return {};
  script.replace(at, generate.size(),
                 "const kept = process.argv[2] + '/key.pem';\n"
                 "const privateKey = require('fs').existsSync(kept)\n"
                 "  ? crypto.createPrivateKey(require('fs').readFileSync(kept))\n"
                 "  : crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;\n"
                 "require('fs').writeFileSync(kept, privateKey.export({ type: 'pkcs8', format: "
                 "'pem' }));\n"
                 "const publicKey = crypto.createPublicKey(privateKey);");
  return script;
}

TEST_P(Console, ADisabledApiClientLosesItsTokensAndGetsNoNewOne) {
  TempDir keys;
  const std::string signer = KeptKeySigner();
  ASSERT_FALSE(signer.empty()) << "kNodeSigner no longer generates its key as expected";
  { std::ofstream(keys.path() / "sign.js") << signer; }
  const std::string endpoint = "https://127.0.0.1:" + std::to_string(port()) + "/auth/token";
  const auto token_for = [&](const std::string& jti) {
    const std::string assertion =
        RunTool("node " + (keys.path() / "sign.js").string() + " " + keys.path().string() +
                " lab-robot " + endpoint + " " + jti);
    return Send(port(), "POST", "/auth/token",
                "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth"
                "%3Aclient-assertion-type%3Ajwt-bearer&scope=system%2FPatient.rs&"
                "client_assertion=" +
                    assertion,
                {}, "application/x-www-form-urlencoded");
  };
  auto first = token_for("jti-1");  // writes the key, refused: no such client yet
  EXPECT_EQ(first.status, 401u) << first.body;
  ASSERT_EQ(
      RunMedvault({"client", "add", "--dir", vault_.path().string(), "--client-id", "lab-robot",
                   "--jwks", (keys.path() / "jwks.json").string(), "--scopes", "system/Patient.rs",
                   "--all-organizations"},
                  env_)
          .exit_code,
      0);
  auto issued = token_for("jti-2");
  ASSERT_EQ(issued.status, 200u) << issued.body;
  const std::string token = Str(issued.json, "access_token");
  EXPECT_EQ(
      Send(port(), "GET", "/fhir/Patient?_id=x", "", {"Authorization: Bearer " + token}).status,
      200u);

  auto disabled = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                         R"({"client":"lab-robot"})", {}, "application/json");
  ASSERT_EQ(disabled.status, 200u) << disabled.body;
  EXPECT_EQ(disabled.json.at("tokens_ended").as_int64(), 1);
  EXPECT_EQ(
      Send(port(), "GET", "/fhir/Patient?_id=x", "", {"Authorization: Bearer " + token}).status,
      401u)
      << "its token ended at once";
  auto refused = token_for("jti-3");
  EXPECT_EQ(refused.status, 401u) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("disabled by an administrator"));
  auto unknown = SendAs(port(), root_.session, "POST", "/auth/admin/accounts/disable",
                        R"({"client":"no-such-client"})", {}, "application/json");
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  auto by_auditor = SendAs(port(), auditor_.session, "POST", "/auth/admin/accounts/disable",
                           R"({"client":"lab-robot"})", {}, "application/json");
  EXPECT_EQ(by_auditor.status, 403u) << by_auditor.body;
}

// An administrator links a clinician to their Practitioner and a lab technician to their lab;
// a link that does not suit the kind, names nothing in the vault or no account is refused
// with the reason, and only administrators link.
TEST_P(Console, AnAdministratorLinksStaffToWhomTheyActAs) {
  const auto practitioner =
      SendAs(port(), root_.session, "POST", "/fhir/Practitioner",
             R"({"resourceType":"Practitioner","name":[{"family":"Martin","given":["Claire"]}]})");
  ASSERT_EQ(practitioner.status, 201u) << practitioner.body;
  const std::string practitioner_ref = "Practitioner/" + Str(practitioner.json, "id");
  const auto lab = SendAs(port(), root_.session, "POST", "/fhir/Organization",
                          R"({"resourceType":"Organization","name":"Laboratoire des Quais"})");
  ASSERT_EQ(lab.status, 201u) << lab.body;
  const std::string lab_ref = "Organization/" + Str(lab.json, "id");
  const auto link = [&](const WebSession& as, const std::string& login, const std::string& to) {
    return SendAs(port(), as, "POST", "/auth/admin/accounts/link",
                  R"({"login":")" + login + R"(","link":")" + to + R"("})");
  };

  const auto linked = link(root_.session, "c.martin", practitioner_ref);
  ASSERT_EQ(linked.status, 200u) << linked.body;
  EXPECT_EQ(Str(linked.json, "link"), practitioner_ref);
  ASSERT_EQ(link(root_.session, "l.waiting", lab_ref).status, 200u);
  const auto shown =
      RunMedvault({"user", "show", "--dir", vault_.path().string(), "c.martin"}, env_);
  EXPECT_THAT(shown.out, HasSubstr("linked to " + practitioner_ref));
  EXPECT_THAT(RunMedvault({"user", "show", "--dir", vault_.path().string(),
                           "l.waiting"},
                          env_)
                  .out,
              HasSubstr("linked to " + lab_ref));

  const auto wrong_kind = link(root_.session, "c.martin", lab_ref);
  EXPECT_EQ(wrong_kind.status, 400u) << wrong_kind.body;
  EXPECT_THAT(wrong_kind.body, HasSubstr("a clinician links to a Practitioner"));
  const auto malformed = link(root_.session, "c.martin", "Patient/x");
  EXPECT_EQ(malformed.status, 400u) << malformed.body;
  const auto nowhere = link(root_.session, "c.martin", "Practitioner/nowhere");
  EXPECT_EQ(nowhere.status, 404u) << nowhere.body;
  EXPECT_THAT(nowhere.body, HasSubstr("no Practitioner has this id"));
  EXPECT_EQ(link(root_.session, "no.body", practitioner_ref).status, 404u);
  // The refused ones changed nothing.
  EXPECT_THAT(RunMedvault({"user", "show", "--dir", vault_.path().string(),
                           "c.martin"},
                          env_)
                  .out,
              HasSubstr("linked to " + practitioner_ref));

  for (const WebSession* other : {&auditor_.session, &martin_.session}) {
    const auto refused = link(*other, "c.martin", practitioner_ref);
    EXPECT_TRUE(refused.status == 401u || refused.status == 403u) << refused.body;
  }
}

TEST_P(Console, AnAlertIsAcknowledgedOnceAndListedWithWhoAndWhen) {
  // A break-the-glass access raises an alert at once.
  ASSERT_TRUE(LinkClinician(port(), vault_.path(), martin_.session, "c.martin", "pr-martin", env_));
  auto created = SendAs(port(), martin_.session, "POST", "/fhir/Patient",
                        R"({"resourceType":"Patient","name":[{"family":"Lefèvre"}]})");
  ASSERT_EQ(created.status, 201u) << created.body;
  Enrolled urgent = EnrollWithTotp(port(), urgent_code_);
  ASSERT_FALSE(urgent.session.csrf.empty());
  ASSERT_TRUE(LinkClinician(port(), vault_.path(), urgent.session, "e.urgent", "pr-urgent", env_));
  const std::string glass = json::serialize(json::object{
      {"resourceType", "Parameters"},
      {"parameter", json::array{json::object{{"name", "reason"}, {"valueCode", "emergency"}},
                                json::object{{"name", "text"}, {"valueString", "Unconscious"}}}}});
  auto granted = SendAs(port(), urgent.session, "POST",
                        "/fhir/Patient/" + Str(created.json, "id") + "/$break-glass", glass);
  ASSERT_EQ(granted.status, 200u) << granted.body;

  auto alerts = SendAs(port(), auditor_.session, "GET", "/security/alerts");
  ASSERT_EQ(alerts.status, 200u) << alerts.body;
  const auto& list = alerts.json.at("alerts").as_array();
  ASSERT_FALSE(list.empty());
  const json::object& alert = list.back().as_object();
  EXPECT_EQ(Str(alert, "kind"), "break_the_glass");
  EXPECT_EQ(alert.if_contains("acknowledged_by"), nullptr);
  const std::string id = std::to_string(alert.at("id").as_int64());
  const std::string target = "/security/alerts/" + id + "/$acknowledge";

  EXPECT_EQ(SendAs(port(), martin_.session, "POST", target).status, 403u);
  EXPECT_EQ(Send(port(), "POST", target, "", {"Cookie: " + auditor_.session.cookie}).status, 401u)
      << "no anti-CSRF header";
  EXPECT_EQ(SendAs(port(), auditor_.session, "POST", "/security/alerts/999999/$acknowledge").status,
            404u);
  EXPECT_EQ(SendAs(port(), auditor_.session, "POST", "/security/alerts/x1/$acknowledge").status,
            404u);

  const std::string auditor_id = AccountIdOf(auditor_.session);
  auto first = SendAs(port(), auditor_.session, "POST", target);
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(Str(first.json, "acknowledged_by"), auditor_id);
  EXPECT_TRUE(first.json.at("first").as_bool());
  auto second = SendAs(port(), root_.session, "POST", target);
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(Str(second.json, "acknowledged_by"), auditor_id) << "the first one is kept";
  EXPECT_FALSE(second.json.at("first").as_bool());
  EXPECT_EQ(Str(second.json, "acknowledged_at"), Str(first.json, "acknowledged_at"));

  auto listed = SendAs(port(), root_.session, "GET", "/security/alerts");
  ASSERT_EQ(listed.status, 200u) << listed.body;
  const json::object& shown = listed.json.at("alerts").as_array().back().as_object();
  EXPECT_EQ(Str(shown, "acknowledged_by"), auditor_id);
  EXPECT_EQ(Str(shown, "acknowledged_at"), Str(first.json, "acknowledged_at"));

  auto csv = SendAs(port(), auditor_.session, "GET", "/audit/entries.csv?action=acknowledge");
  ASSERT_EQ(csv.status, 200u) << csv.body;
  EXPECT_THAT(csv.body, HasSubstr(auditor_id + ",auditor"));
  EXPECT_THAT(csv.body, HasSubstr(",acknowledge,Alert," + id + ","));
}

TEST_P(Console, AuditorsSeeTheCheckpointVerifyTheLogAndAdministratorsTheKeys) {
  Http checkpoint;
  for (int i = 0; i < 100; ++i) {
    checkpoint = SendAs(port(), auditor_.session, "GET", "/audit/checkpoint");
    if (checkpoint.status == 200 && checkpoint.json.at("size").as_int64() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(checkpoint.status, 200u) << checkpoint.body;
  EXPECT_GT(checkpoint.json.at("size").as_int64(), 0);
  EXPECT_TRUE(checkpoint.json.at("signature_valid").as_bool());
  EXPECT_THAT(Str(checkpoint.json, "key_id"), ::testing::MatchesRegex("[0-9a-f]{8}"));
  EXPECT_THAT(Str(checkpoint.json, "signature"), ::testing::MatchesRegex("[A-Za-z0-9+/=]{80,}"));
  EXPECT_EQ(Str(checkpoint.json, "root").size(), 44u);
  EXPECT_THAT(Str(checkpoint.json, "note"), HasSubstr(Str(checkpoint.json, "root")));
  std::ifstream pub(vault_.path() / "checkpoints" / "medvault.pub");
  std::string verifier_key;
  std::getline(pub, verifier_key);
  EXPECT_EQ(Str(checkpoint.json, "verifier_key"), verifier_key);
  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/audit/checkpoint").status, 200u);
  EXPECT_EQ(SendAs(port(), martin_.session, "GET", "/audit/checkpoint").status, 403u);

  auto verified = SendAs(port(), auditor_.session, "GET", "/audit/verify");
  ASSERT_EQ(verified.status, 200u) << verified.body;
  EXPECT_TRUE(verified.json.at("intact").as_bool()) << verified.body;
  EXPECT_THAT(Str(verified.json, "summary"), ::testing::StartsWith("audit log intact: "));
  EXPECT_GT(verified.json.at("entries").to_number<std::uint64_t>(), 0u);
  EXPECT_GE(verified.json.at("checkpoints").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(SendAs(port(), root_.session, "GET", "/audit/verify").status, 403u);
  EXPECT_EQ(SendAs(port(), martin_.session, "GET", "/audit/verify").status, 403u);

  auto keys = SendAs(port(), root_.session, "GET", "/security/keys");
  ASSERT_EQ(keys.status, 200u) << keys.body;
  EXPECT_EQ(json::serialize(keys.json.at("loaded_versions")), "[1]");
  EXPECT_EQ(keys.json.at("active_version").as_int64(), 1);
  EXPECT_FALSE(keys.json.at("rotation_under_way").as_bool());
  EXPECT_THAT(Str(keys.json, "place"), HasSubstr("master key file"));
  EXPECT_THAT(json::serialize(keys.json.at("lines")), HasSubstr("rotation: none under way"));
  std::ifstream key_file(vault_.path() / "keys" / "master.key");
  std::string line;
  std::getline(key_file, line);
  ASSERT_GT(line.size(), 10u);
  EXPECT_THAT(keys.body, Not(HasSubstr(line.substr(line.find(' ') + 1, 16)))) << "no key material";
  EXPECT_EQ(SendAs(port(), auditor_.session, "GET", "/security/keys").status, 403u);
  EXPECT_EQ(SendAs(port(), martin_.session, "GET", "/security/keys").status, 403u);
  EXPECT_EQ(Send(port(), "GET", "/security/keys", "").status, 401u);

  // An entry edited in the database: the verifier names it.
  RunSql(GetParam() == "postgres" ? "UPDATE audit_entries SET entry = '\\x00' WHERE seq = 1"
                                  : "UPDATE audit_entries SET entry = X'00' WHERE seq = 1");
  auto tampered = SendAs(port(), auditor_.session, "GET", "/audit/verify");
  ASSERT_EQ(tampered.status, 200u) << tampered.body;
  EXPECT_FALSE(tampered.json.at("intact").as_bool()) << tampered.body;
  EXPECT_EQ(tampered.json.at("first_bad_index").to_number<std::uint64_t>(), 1u) << tampered.body;
  EXPECT_THAT(Str(tampered.json, "summary"),
              ::testing::StartsWith("audit log NOT intact: first bad entry 1: "));
}

INSTANTIATE_TEST_SUITE_P(Backends, Console, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::testing
