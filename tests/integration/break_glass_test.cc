// Break-the-glass through the real `medvault` binary, on SQLite and on PostgreSQL (the fixture
// "pg"): a clinician outside a patient's care relations gets 404, is asked for a fresh second
// factor, steps up with an oathtool code, breaks the glass and reads the patient; the alert is
// on the security console, the patient's access history shows the access flagged as
// emergency treatment, the auditor reads the reason in the review queue, reviews it and it
// leaves the queue. Other roles are refused; a grant opens its patient only until it expires.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
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

constexpr std::string_view kMrnSystem = "https://lab.example.org/mrn";
// The free text: it must show only in the auditors' queue.
constexpr std::string_view kReasonText = "Unconscious at the emergency desk, Dr Martin away";

std::string PatientJson(std::string_view mrn) {
  return R"({"resourceType":"Patient","identifier":[{"system":")" + std::string(kMrnSystem) +
         R"(","value":")" + std::string(mrn) +
         R"("}],"name":[{"family":"Lefèvre","given":["Anaïs"]}],"gender":"female",)"
         R"("birthDate":"1975-06-30"})";
}

std::string ObservationJson(std::string_view patient_id) {
  return R"({"resourceType":"Observation","status":"final",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient_id) +
         R"("},"effectiveDateTime":"2026-11-02T08:30:00Z","valueQuantity":{"value":5.4,)"
         R"("unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
}

std::string GlassJson(std::string_view reason, std::string_view text,
                      std::string_view identifier = {}) {
  json::array parameters;
  if (!reason.empty()) parameters.push_back({{"name", "reason"}, {"valueCode", reason}});
  if (!text.empty()) parameters.push_back({{"name", "text"}, {"valueString", text}});
  if (!identifier.empty()) {
    parameters.push_back({{"name", "identifier"}, {"valueString", identifier}});
  }
  return json::serialize(json::object{{"resourceType", "Parameters"}, {"parameter", parameters}});
}

// The value of a Parameters answer's parameter `name` in `kind` (valueId, ...).
std::string ParameterOf(const json::object& parameters, std::string_view name,
                        std::string_view kind) {
  const auto* list = parameters.if_contains("parameter");
  if (list == nullptr || !list->is_array()) return {};
  for (const auto& item : list->as_array()) {
    const auto& parameter = item.as_object();
    if (Str(parameter, "name") != name) continue;
    const auto* value = parameter.if_contains(kind);
    if (value == nullptr) return {};
    if (value->is_string()) return std::string(value->as_string());
    return Str(value->as_object(), "reference");
  }
  return {};
}

class BreakGlass : public ::testing::TestWithParam<std::string> {
 protected:
  void Start(Env env = {}) {
    if (GetParam() == "postgres") {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      store_url_ = *url;
      env.emplace("MEDVAULT_STORE_URL", store_url_);
    }
    env_ = env;
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}, env_).exit_code, 0);
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env_));
    ASSERT_NE(server_, nullptr);
    martin_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician", env_));
    ASSERT_FALSE(martin_.session.csrf.empty()) << "the GP could not enroll";
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), martin_.session, "c.martin", "pr-martin",
                              env_));
    urgent_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "e.urgent", "clinician", env_));
    ASSERT_FALSE(urgent_.session.csrf.empty()) << "the emergency doctor could not enroll";
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), urgent_.session, "e.urgent", "pr-urgent",
                              env_));
    admin_ = EnrollCareAdministrator(port(), vault_.path(), env_);
    ASSERT_FALSE(admin_.session.csrf.empty()) << "the administrator could not enroll";
    auto created = SendAs(port(), martin_.session, "POST", "/fhir/Patient", PatientJson("MRN-77"));
    ASSERT_EQ(created.status, 201u) << created.body;
    patient_ = Str(created.json, "id");
    ASSERT_NE(TakeIntoCare(port(), admin_.session, "pr-martin", patient_), "");
    auto observation =
        SendAs(port(), martin_.session, "POST", "/fhir/Observation", ObservationJson(patient_));
    ASSERT_EQ(observation.status, 201u) << observation.body;
    observation_ = Str(observation.json, "id");
  }

  unsigned short port() const { return server_->port(); }

  Http Urgent(std::string_view method, std::string_view target, std::string_view body = "") {
    return SendAs(port(), urgent_.session, method, target, body);
  }

  std::string AccountIdOf(const WebSession& session) {
    auto me = SendAs(port(), session, "GET", "/auth/me");
    EXPECT_EQ(me.status, 200u) << me.body;
    return Str(me.json, "account_id");
  }

  // Moves the second factor of `login`'s sessions an hour back: no longer fresh.
  void AgeSecondFactor(const std::string& login) {
    const std::string sql =
        "UPDATE sessions SET second_factor_at = second_factor_at - 3600000000 WHERE account_id "
        "IN (SELECT id FROM accounts WHERE login = '" +
        login + "')";
    if (GetParam() == "postgres") {
      auto ran = store::RunPsql(store_url_, sql);
      ASSERT_TRUE(ran.has_value()) << ran.error().message();
    } else {
      const std::string db = (vault_.path() / "data" / "medvault.db").string();
      RunTool("sqlite3 -cmd '.timeout 5000' " + db + " \"" + sql + "\"");
    }
  }

  // A TOTP step-up of the emergency doctor (a code of the next step: the enrollment used
  // this one); the session's token changes.
  void StepUp() {
    auto stepped = SendAs(port(), urgent_.session, "POST", "/auth/step-up/totp",
                          R"({"code":")" + Oathtool(urgent_.secret, std::chrono::seconds(30)) +
                              R"("})",
                          {}, "application/json");
    ASSERT_EQ(stepped.status, 200u) << stepped.body;
    urgent_.session = SessionOf(stepped);
    ASSERT_FALSE(urgent_.session.cookie.empty());
  }

  TempDir vault_;
  Env env_;
  std::string store_url_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled martin_;
  Enrolled urgent_;
  Enrolled admin_;  // keeps the care teams
  std::string patient_;
  std::string observation_;
};

TEST_P(BreakGlass, AnEmergencyAccessIsAskedForAStepUpAlertedShownToThePatientAndReviewed) {
  Start();
  Enrolled patient = ActivatePatient(port(), vault_.path(), patient_, "a.lefevre", env_);
  ASSERT_FALSE(patient.session.csrf.empty());
  Enrolled auditor = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.udit", "auditor", env_));
  ASSERT_FALSE(auditor.session.csrf.empty());
  Enrolled lab = EnrollWithTotp(port(), AddStaff(vault_.path(), "l.tech", "lab_technician", env_));
  ASSERT_FALSE(lab.session.csrf.empty());
  const std::string target = "/fhir/Patient/" + patient_ + "/$break-glass";

  // Outside the care relations: the patient is not there.
  EXPECT_EQ(Urgent("GET", "/fhir/Patient/" + patient_).status, 404u);
  EXPECT_EQ(Urgent("GET", "/fhir/Observation/" + observation_).status, 404u);

  // Without a fresh second factor: the step-up challenge.
  AgeSecondFactor("e.urgent");
  auto challenged = Urgent("POST", target, GlassJson("emergency", kReasonText));
  EXPECT_EQ(challenged.status, 401u) << challenged.body;
  EXPECT_THAT(challenged.body, HasSubstr("/auth/step-up/totp"));
  EXPECT_FALSE(challenged.Header("WWW-Authenticate").empty());
  StepUp();

  // Bad requests lose nothing and say why.
  auto no_text = Urgent("POST", target, GlassJson("emergency", ""));
  EXPECT_EQ(no_text.status, 400u) << no_text.body;
  EXPECT_THAT(no_text.body, HasSubstr("text"));
  auto blank = Urgent("POST", target, GlassJson("emergency", "   "));
  EXPECT_EQ(blank.status, 400u) << blank.body;
  auto bad_reason = Urgent("POST", target, GlassJson("curiosity", kReasonText));
  EXPECT_EQ(bad_reason.status, 400u) << bad_reason.body;
  EXPECT_THAT(bad_reason.body, HasSubstr("continuity_of_care"));
  auto too_long = Urgent("POST", target, GlassJson("other", std::string(2001, 'x')));
  EXPECT_EQ(too_long.status, 400u) << too_long.body;
  auto unknown = Urgent("POST", "/fhir/Patient/no-such-patient/$break-glass",
                        GlassJson("emergency", kReasonText));
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  // Only clinicians break the glass.
  auto refused = SendAs(port(), lab.session, "POST", target, GlassJson("emergency", kReasonText));
  EXPECT_EQ(refused.status, 403u) << refused.body;
  EXPECT_EQ(Urgent("GET", "/fhir/Patient/" + patient_).status, 404u);

  const auto before = std::chrono::system_clock::now();
  auto granted = Urgent("POST", target, GlassJson("emergency", kReasonText));
  ASSERT_EQ(granted.status, 200u) << granted.body;
  EXPECT_EQ(Str(granted.json, "resourceType"), "Parameters");
  const std::string grant = ParameterOf(granted.json, "grant", "valueId");
  ASSERT_FALSE(grant.empty()) << granted.body;
  EXPECT_EQ(ParameterOf(granted.json, "patient", "valueReference"), "Patient/" + patient_);
  EXPECT_EQ(ParameterOf(granted.json, "reason", "valueCode"), "emergency");
  const std::string expires = ParameterOf(granted.json, "expires", "valueInstant");
  // Four hours by default: the expiry's hour is 4 hours on (or 3, across a second's edge).
  ASSERT_GE(expires.size(), 19u) << granted.body;
  const std::time_t later = std::chrono::system_clock::to_time_t(before + std::chrono::hours(4));
  std::tm expected{};
  gmtime_r(&later, &expected);
  char day[11];
  std::strftime(day, sizeof day, "%Y-%m-%d", &expected);
  EXPECT_EQ(expires.substr(0, 10), day) << expires;

  // The record opens: read and compartment search.
  auto read = Urgent("GET", "/fhir/Patient/" + patient_);
  EXPECT_EQ(read.status, 200u) << read.body;
  auto results = Urgent("GET", "/fhir/Observation?patient=" + patient_);
  ASSERT_EQ(results.status, 200u) << results.body;
  EXPECT_THAT(ResourceIds(results.json), ::testing::Contains(observation_));
  // The grant stays a grant: it does not let its holder join the care team for good.
  auto joined = Urgent("POST", "/fhir/CareTeam",
                       R"({"resourceType":"CareTeam","status":"active","subject":{"reference":)"
                       R"("Patient/)" + patient_ +
                           R"("},"participant":[{"member":{"reference":"Practitioner/pr-urgent"}}]})");
  EXPECT_EQ(joined.status, 403u) << joined.body;
  EXPECT_THAT(joined.body, HasSubstr("does not take the patient into your care"));

  // The alert, ids only.
  auto alerts = SendAs(port(), auditor.session, "GET", "/security/alerts");
  ASSERT_EQ(alerts.status, 200u) << alerts.body;
  EXPECT_THAT(alerts.body, HasSubstr("\"kind\":\"break_the_glass\""));
  EXPECT_THAT(alerts.body, HasSubstr("account/" + AccountIdOf(urgent_.session)));
  EXPECT_THAT(alerts.body, HasSubstr(patient_));
  EXPECT_THAT(alerts.body, Not(HasSubstr("Unconscious")));

  // The patient's access history: the emergency doctor's reads, flagged.
  const std::string urgent_id = AccountIdOf(urgent_.session);
  auto history = SendAs(port(), patient.session, "GET",
                        "/fhir/AuditEvent?patient=" + patient_ + "&_count=100");
  ASSERT_EQ(history.status, 200u) << history.body;
  int flagged = 0;
  for (const auto& entry : history.json.at("entry").as_array()) {
    const std::string event = json::serialize(entry.at("resource"));
    if (event.find("ETREAT") != std::string::npos && event.find(urgent_id) != std::string::npos) {
      ++flagged;
    }
  }
  EXPECT_GE(flagged, 3) << "the grant, the read and the search are flagged";
  EXPECT_THAT(history.body, Not(HasSubstr("Unconscious")));

  // The review queue: auditors only, with the text.
  auto not_for_clinicians = Urgent("GET", "/audit/break-glass");
  EXPECT_EQ(not_for_clinicians.status, 403u) << not_for_clinicians.body;
  auto queue = SendAs(port(), auditor.session, "GET", "/audit/break-glass");
  ASSERT_EQ(queue.status, 200u) << queue.body;
  const auto& grants = queue.json.at("grants").as_array();
  ASSERT_EQ(grants.size(), 1u) << queue.body;
  const auto& listed = grants[0].as_object();
  EXPECT_EQ(Str(listed, "id"), grant);
  EXPECT_EQ(Str(listed, "patient_id"), patient_);
  EXPECT_EQ(Str(listed, "account"), AccountIdOf(urgent_.session));
  EXPECT_EQ(Str(listed, "reason"), "emergency");
  EXPECT_EQ(Str(listed, "text"), kReasonText);
  EXPECT_EQ(Str(listed, "expires_at").substr(0, 16), expires.substr(0, 16));
  EXPECT_FALSE(listed.at("reviewed").as_bool());

  const std::string review = "/audit/break-glass/" + grant + "/$review";
  auto no_note = SendAs(port(), auditor.session, "POST", review, R"({})", {}, "application/json");
  EXPECT_EQ(no_note.status, 400u) << no_note.body;
  auto by_clinician = SendAs(port(), urgent_.session, "POST", review,
                             R"({"note":"fine by me"})", {}, "application/json");
  EXPECT_EQ(by_clinician.status, 403u) << by_clinician.body;
  auto reviewed = SendAs(port(), auditor.session, "POST", review,
                         R"({"note":"Called the ward: admitted at 03:10, justified."})", {},
                         "application/json");
  EXPECT_EQ(reviewed.status, 200u) << reviewed.body;
  auto again = SendAs(port(), auditor.session, "POST", review, R"({"note":"twice"})", {},
                      "application/json");
  EXPECT_EQ(again.status, 409u) << again.body;
  auto unknown_grant = SendAs(port(), auditor.session, "POST",
                              "/audit/break-glass/no-such-grant/$review", R"({"note":"x"})", {},
                              "application/json");
  EXPECT_EQ(unknown_grant.status, 404u) << unknown_grant.body;
  auto emptied = SendAs(port(), auditor.session, "GET", "/audit/break-glass");
  ASSERT_EQ(emptied.status, 200u) << emptied.body;
  EXPECT_TRUE(emptied.json.at("grants").as_array().empty()) << emptied.body;

  // Neither the text nor the note reached the server's log.
  EXPECT_THAT(server_->Output(), Not(HasSubstr("Unconscious")));
  EXPECT_THAT(server_->Output(), Not(HasSubstr("Called the ward")));
}

TEST_P(BreakGlass, AClinicianWhoCannotSearchThePatientNamesThemByIdentifier) {
  Start();
  // Search leaves out patients outside the care relations.
  auto search = Urgent("GET", "/fhir/Patient?identifier=" + std::string(kMrnSystem) + "%7CMRN-77");
  ASSERT_EQ(search.status, 200u) << search.body;
  EXPECT_TRUE(ResourceIds(search.json).empty()) << search.body;

  const std::string target = "/fhir/Patient/$break-glass";
  const std::string identifier = std::string(kMrnSystem) + "|MRN-77";
  auto unknown = Urgent("POST", target,
                        GlassJson("continuity_of_care", kReasonText,
                                  std::string(kMrnSystem) + "|MRN-00"));
  EXPECT_EQ(unknown.status, 404u) << unknown.body;
  auto no_identifier = Urgent("POST", target, GlassJson("continuity_of_care", kReasonText));
  EXPECT_EQ(no_identifier.status, 400u) << no_identifier.body;
  auto granted = Urgent("POST", target, GlassJson("continuity_of_care", kReasonText, identifier));
  ASSERT_EQ(granted.status, 200u) << granted.body;
  EXPECT_EQ(ParameterOf(granted.json, "patient", "valueReference"), "Patient/" + patient_);
  EXPECT_EQ(ParameterOf(granted.json, "reason", "valueCode"), "continuity_of_care");
  EXPECT_EQ(Urgent("GET", "/fhir/Patient/" + patient_).status, 200u);
  EXPECT_EQ(Urgent("GET", "/fhir/Observation/" + observation_).status, 200u);
}

TEST_P(BreakGlass, AGrantOpensItsPatientOnlyUntilItExpires) {
  // 0.0015 h: 5.4 seconds.
  Start({{"MEDVAULT_POLICY_BREAK_GLASS_HOURS", "0.0015"}});
  auto granted = Urgent("POST", "/fhir/Patient/" + patient_ + "/$break-glass",
                        GlassJson("emergency", kReasonText));
  ASSERT_EQ(granted.status, 200u) << granted.body;
  const auto granted_at = std::chrono::steady_clock::now();
  EXPECT_EQ(Urgent("GET", "/fhir/Observation/" + observation_).status, 200u);
  std::this_thread::sleep_until(granted_at + std::chrono::milliseconds(6500));
  EXPECT_EQ(Urgent("GET", "/fhir/Observation/" + observation_).status, 404u);
  EXPECT_EQ(Urgent("GET", "/fhir/Patient/" + patient_).status, 404u);
}

// A note labelled mental health (HL7 v3 ActCode PSY), its text inline: stored with a Binary.
std::string SensitiveNoteJson(std::string_view patient_id) {
  return R"({"resourceType":"DocumentReference","meta":{"security":[{"system":)"
         R"("http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},)"
         R"("status":"current","type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient_id) +
         R"("},"content":[{"attachment":{"contentType":"text/plain; charset=utf-8",)"
         R"("data":"U8OpYW5jZSBkZSBwc3ljaG90aMOpcmFwaWUu"}}]})";
}

TEST_P(BreakGlass, ASensitiveNoteNeedsItsCategoryPermissionEvenUnderBreakTheGlass) {
  Start();
  Enrolled patient = ActivatePatient(port(), vault_.path(), patient_, "a.lefevre", env_);
  ASSERT_FALSE(patient.session.csrf.empty());
  Enrolled auditor = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.udit", "auditor", env_));
  ASSERT_FALSE(auditor.session.csrf.empty());
  const auto grant_martin = [&](bool revoke) {
    std::vector<std::string> args = {"user", "grant", "--dir", vault_.path().string(),
                                     "c.martin", "--sensitive", "mental_health"};
    if (revoke) args.emplace_back("--revoke");
    return RunMedvault(args, env_);
  };
  // Nobody labels what they could not see: without the permission, the note is refused.
  auto unlabelled_writer = SendAs(port(), martin_.session, "POST", "/fhir/DocumentReference",
                                  SensitiveNoteJson(patient_));
  EXPECT_EQ(unlabelled_writer.status, 403u) << unlabelled_writer.body;
  EXPECT_THAT(unlabelled_writer.body, HasSubstr("needs the permission for mental_health"));
  ASSERT_EQ(grant_martin(false).exit_code, 0);
  auto created = SendAs(port(), martin_.session, "POST", "/fhir/DocumentReference",
                        SensitiveNoteJson(patient_));
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string note = Str(created.json, "id");
  ASSERT_EQ(grant_martin(true).exit_code, 0);
  const std::string binary_url = Str(created.json.at("content")
                                         .as_array()[0]
                                         .as_object()
                                         .at("attachment")
                                         .as_object(),
                                     "url");
  ASSERT_EQ(binary_url.rfind("Binary/", 0), 0u) << created.body;
  const auto martin = [&](std::string_view target) {
    return SendAs(port(), martin_.session, "GET", target);
  };
  const std::string search = "/fhir/DocumentReference?patient=" + patient_;

  // Without the permission: as if absent, counts included, the content as well.
  EXPECT_EQ(martin("/fhir/DocumentReference/" + note).status, 404u);
  EXPECT_EQ(martin("/fhir/" + binary_url).status, 404u);
  auto hidden = martin(search);
  ASSERT_EQ(hidden.status, 200u) << hidden.body;
  EXPECT_TRUE(ResourceIds(hidden.json).empty()) << hidden.body;
  EXPECT_EQ(hidden.json.at("total").as_int64(), 0);
  auto counted = martin(search + "&_summary=count");
  ASSERT_EQ(counted.status, 200u) << counted.body;
  EXPECT_EQ(counted.json.at("total").as_int64(), 0);
  // The rest of the record stays open.
  EXPECT_EQ(martin("/fhir/Observation/" + observation_).status, 200u);
  // Nor is it changed or deleted: as if absent, whatever the new body says.
  json::object unlabelled = created.json;
  unlabelled.erase("meta");
  const std::string path = "/fhir/DocumentReference/" + note;
  EXPECT_EQ(SendAs(port(), martin_.session, "PUT", path, json::serialize(unlabelled)).status, 404u);
  EXPECT_EQ(SendAs(port(), martin_.session, "DELETE", path).status, 404u);
  auto bundled = SendAs(
      port(), martin_.session, "POST", "/fhir",
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE",)"
      R"("url":"DocumentReference/)" + note + R"("}}]})");
  EXPECT_EQ(bundled.status, 404u) << bundled.body;

  // The patient sees their own note.
  auto own = SendAs(port(), patient.session, "GET", "/fhir/DocumentReference/" + note);
  EXPECT_EQ(own.status, 200u) << own.body;
  auto own_search = SendAs(port(), patient.session, "GET", search);
  ASSERT_EQ(own_search.status, 200u) << own_search.body;
  EXPECT_THAT(ResourceIds(own_search.json), ::testing::ElementsAre(note));
  EXPECT_EQ(Str(own.json.at("meta").as_object(), "versionId"), "1") << "nothing changed it";

  // Break-the-glass opens the record, not the category.
  auto granted = Urgent("POST", "/fhir/Patient/" + patient_ + "/$break-glass",
                        GlassJson("emergency", kReasonText));
  ASSERT_EQ(granted.status, 200u) << granted.body;
  EXPECT_EQ(Urgent("GET", "/fhir/Observation/" + observation_).status, 200u);
  EXPECT_EQ(Urgent("GET", "/fhir/DocumentReference/" + note).status, 404u);

  // With the permission (granted by the operator, audited), it shows; revoked, it hides.
  auto grant = grant_martin(false);
  ASSERT_EQ(grant.exit_code, 0) << grant.out << grant.err;
  auto twice = RunMedvault({"user", "grant", "--dir", vault_.path().string(), "c.martin",
                            "--sensitive", "mental_health"},
                           env_);
  EXPECT_NE(twice.exit_code, 0);
  auto bad = RunMedvault({"user", "grant", "--dir", vault_.path().string(), "c.martin",
                          "--sensitive", "astrology"},
                         env_);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("mental_health"));
  auto shown = RunMedvault({"user", "show", "--dir", vault_.path().string(), "c.martin"}, env_);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("sensitive categories mental_health"));
  EXPECT_THAT(shown.out, HasSubstr("Practitioner/pr-martin"));
  EXPECT_EQ(martin("/fhir/DocumentReference/" + note).status, 200u);
  EXPECT_EQ(martin("/fhir/" + binary_url + "?_format=json").status, 200u);
  auto open = martin(search);
  ASSERT_EQ(open.status, 200u) << open.body;
  EXPECT_THAT(ResourceIds(open.json), ::testing::ElementsAre(note));
  auto revoke = grant_martin(true);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.out << revoke.err;
  EXPECT_EQ(martin("/fhir/DocumentReference/" + note).status, 404u);

  // Each withholding is audited as a denial naming the note.
  auto csv = SendAs(port(), auditor.session, "GET",
                    "/audit/entries.csv?patient=" + patient_ + "&action=read");
  ASSERT_EQ(csv.status, 200u) << csv.body;
  int denied = 0;
  for (std::size_t at = 0; (at = csv.body.find(note, at)) != std::string::npos; ++at) {
    const std::size_t end = csv.body.find('\n', at);
    if (csv.body.substr(at, end - at).find(",denied") != std::string::npos) ++denied;
  }
  EXPECT_GE(denied, 3) << csv.body;
  // So is each refused change: the update, and both deletions.
  for (const auto& [action, at_least] : {std::pair{"update", 1}, std::pair{"delete", 2}}) {
    auto changes = SendAs(port(), auditor.session, "GET",
                          "/audit/entries.csv?patient=" + patient_ + "&action=" + action);
    ASSERT_EQ(changes.status, 200u) << changes.body;
    int refused = 0;
    for (std::size_t at = 0; (at = changes.body.find(note, at)) != std::string::npos; ++at) {
      const std::size_t end = changes.body.find('\n', at);
      if (changes.body.substr(at, end - at).find(",denied") != std::string::npos) ++refused;
    }
    EXPECT_GE(refused, at_least) << action << ": " << changes.body;
  }
  // Nothing of the note's label is in clear in the database (case 2).
  if (GetParam() == "sqlite") {
    const std::string db = (vault_.path() / "data" / "medvault.db").string();
    EXPECT_EQ(RunTool("grep -c -a PSY " + db + " || true"), "0");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BreakGlass, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::testing
