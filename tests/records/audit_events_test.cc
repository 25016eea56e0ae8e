// AuditEvents from the audit log: the FHIR mapping of each kind of entry, and the searches by
// patient, agent and date on the real log over SQLite and PostgreSQL.
#include "records/audit_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/manual_clock.h"
#include "test_cluster.h"

namespace medvault::records {
namespace {

namespace json = boost::json;
using audit::Action;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

audit::Entry EntryOf(Action action, std::string account = "acc-1",
                     std::vector<std::string> patients = {"pat-1"}) {
  audit::Entry e;
  e.index = 42;
  e.time = Timestamp(std::chrono::microseconds(1'767'225'600'123'456));  // 2026-01-01
  e.account = std::move(account);
  e.role = audit::Role::kClinician;
  e.client = "portal";
  e.source_address = "192.0.2.10";
  e.action = action;
  e.resource_type = "Observation";
  e.resource_ids = {"obs-1"};
  e.patient_ids = std::move(patients);
  e.purpose = audit::Purpose::kCareRelation;
  return e;
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

const json::object& Coding(const json::object& event, std::string_view key) {
  return event.at(key).as_object();
}

std::vector<std::string> EntityReferences(const json::object& event) {
  std::vector<std::string> refs;
  if (!event.contains("entity")) return refs;
  for (const auto& entity : event.at("entity").as_array()) {
    refs.push_back(Str(entity.at("what").at("reference")));
  }
  return refs;
}

TEST(AuditEventOf, RestInteractionsGetTheirSubtypeAndActionCode) {
  struct Case {
    Action action;
    std::string_view subtype;
    std::string_view code;
  };
  for (Case c : {Case{Action::kRead, "read", "R"}, Case{Action::kSearch, "search-type", "E"},
                 Case{Action::kCreate, "create", "C"}, Case{Action::kUpdate, "update", "U"},
                 Case{Action::kDelete, "delete", "D"}}) {
    const json::object event = AuditEventOf(EntryOf(c.action));
    EXPECT_EQ(Str(event.at("resourceType")), "AuditEvent");
    EXPECT_EQ(Str(event.at("id")), "42");
    EXPECT_EQ(Str(Coding(event, "type").at("system")),
              "http://terminology.hl7.org/CodeSystem/audit-event-type");
    EXPECT_EQ(Str(Coding(event, "type").at("code")), "rest");
    const auto& subtype = event.at("subtype").as_array();
    ASSERT_EQ(subtype.size(), 1u);
    EXPECT_EQ(Str(subtype[0].at("system")), "http://hl7.org/fhir/restful-interaction");
    EXPECT_EQ(Str(subtype[0].at("code")), c.subtype);
    EXPECT_EQ(Str(event.at("action")), c.code) << c.subtype;
    EXPECT_EQ(Str(event.at("recorded")), "2026-01-01T00:00:00.123456Z");
    EXPECT_EQ(Str(event.at("outcome")), "0");
  }
}

TEST(AuditEventOf, AgentSourceAndEntitiesNameIdsOnly) {
  audit::Entry entry = EntryOf(Action::kRead, "acc-7", {"pat-1", "pat-2"});
  entry.resource_ids = {"obs-1", "obs-2"};
  const json::object event = AuditEventOf(entry);

  const auto& agents = event.at("agent").as_array();
  ASSERT_EQ(agents.size(), 2u);
  const auto& user = agents[0].as_object();
  EXPECT_EQ(Str(user.at("who").at("identifier").at("system")), kAccountSystem);
  EXPECT_EQ(Str(user.at("who").at("identifier").at("value")), "acc-7");
  EXPECT_TRUE(user.at("requestor").as_bool());
  EXPECT_EQ(Str(user.at("role").at(0).at("coding").at(0).at("code")), "clinician");
  EXPECT_EQ(Str(user.at("network").at("address")), "192.0.2.10");
  EXPECT_EQ(Str(user.at("network").at("type")), "2");
  const auto& application = agents[1].as_object();
  EXPECT_FALSE(application.at("requestor").as_bool());
  EXPECT_EQ(Str(application.at("who").at("identifier").at("value")), "portal");
  EXPECT_EQ(Str(application.at("type").at("coding").at(0).at("code")), "110150");

  EXPECT_EQ(Str(event.at("source").at("observer").at("display")), "medvault");
  EXPECT_THAT(EntityReferences(event), ElementsAre("Observation/obs-1", "Observation/obs-2",
                                                   "Patient/pat-1", "Patient/pat-2"));
  const auto& patient_entity = event.at("entity").at(2).as_object();
  EXPECT_EQ(Str(patient_entity.at("type").at("code")), "1");
  EXPECT_EQ(Str(patient_entity.at("role").at("code")), "1");
  EXPECT_EQ(Str(event.at("entity").at(0).at("type").at("code")), "2");
  EXPECT_EQ(Str(event.at("purposeOfEvent").at(0).at("coding").at(0).at("code")), "TREAT");

  // A Patient resource that is the patient is one entity, not two.
  audit::Entry read_patient = EntryOf(Action::kRead);
  read_patient.resource_type = "Patient";
  read_patient.resource_ids = {"pat-1"};
  EXPECT_THAT(EntityReferences(AuditEventOf(read_patient)), ElementsAre("Patient/pat-1"));

  // Nothing but what the entry holds: every string in the event is a code, a system, a fixed
  // display, or one of the entry's ids.
  const std::string text = json::serialize(event);
  EXPECT_EQ(text.find("display\":\"\""), std::string::npos);
}

TEST(AuditEventOf, LoginsAreUserAuthenticationEvents) {
  audit::Entry login = EntryOf(Action::kLogin, "acc-1", {});
  login.resource_type.clear();
  login.resource_ids.clear();
  login.purpose = audit::Purpose::kNone;
  const json::object event = AuditEventOf(login);
  EXPECT_EQ(Str(Coding(event, "type").at("system")),
            "http://dicom.nema.org/resources/ontology/DCM");
  EXPECT_EQ(Str(Coding(event, "type").at("code")), "110114");
  EXPECT_EQ(Str(event.at("subtype").at(0).at("code")), "110122");
  EXPECT_EQ(Str(event.at("action")), "E");
  EXPECT_FALSE(event.contains("entity"));
  EXPECT_FALSE(event.contains("purposeOfEvent"));

  audit::Entry logout = login;
  logout.action = Action::kSessionEnd;
  EXPECT_EQ(Str(AuditEventOf(logout).at("subtype").at(0).at("code")), "110123");

  // A failed login of an unknown account: no who, outcome 4.
  audit::Entry failed = login;
  failed.account.clear();
  failed.role = audit::Role::kNone;
  failed.outcome = audit::Outcome::kDenied;
  const json::object refused = AuditEventOf(failed);
  EXPECT_EQ(Str(refused.at("outcome")), "4");
  EXPECT_FALSE(refused.at("agent").at(0).as_object().contains("who"));
  EXPECT_TRUE(refused.at("agent").at(0).at("requestor").as_bool());
}

TEST(AuditEventOf, OutcomesPurposesAndOtherActions) {
  audit::Entry failed = EntryOf(Action::kUpdate);
  failed.outcome = audit::Outcome::kFailed;
  EXPECT_EQ(Str(AuditEventOf(failed).at("outcome")), "8");

  audit::Entry glass = EntryOf(Action::kBreakTheGlass);
  glass.purpose = audit::Purpose::kBreakTheGlass;
  glass.reason = audit::BreakGlassReason::kEmergency;
  const json::object emergency = AuditEventOf(glass);
  const auto& purpose = emergency.at("purposeOfEvent").at(0).at("coding").at(0);
  EXPECT_EQ(Str(purpose.at("system")), "http://terminology.hl7.org/CodeSystem/v3-ActReason");
  EXPECT_EQ(Str(purpose.at("code")), "ETREAT");
  EXPECT_EQ(Str(Coding(emergency, "type").at("code")), "110113");

  audit::Entry own = EntryOf(Action::kRead);
  own.role = audit::Role::kPatient;
  own.purpose = audit::Purpose::kPatientSelf;
  EXPECT_EQ(Str(AuditEventOf(own).at("purposeOfEvent").at(0).at("coding").at(0).at("code")),
            "PATRQT");

  audit::Entry erase = EntryOf(Action::kPatientErase);
  erase.role = audit::Role::kOperator;
  erase.client = "";
  const json::object erased = AuditEventOf(erase);
  EXPECT_EQ(Str(erased.at("action")), "D");
  EXPECT_EQ(Str(Coding(erased, "type").at("code")), "110100");
  EXPECT_EQ(erased.at("agent").as_array().size(), 1u);  // no client application
  EXPECT_EQ(Str(AuditEventOf(EntryOf(Action::kExport)).at("type").at("code")), "110106");
}

// The searches, on the real log.
class AuditEventSearch : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto log = audit::AuditLog::Open(*store_, clock_);
    ASSERT_TRUE(log) << log.error().message();
    log_ = std::move(*log);
  }
  void TearDown() override {
    log_.reset();
    StoreBackendTest::TearDown();
  }

  // Appends at clock time `at_second` (seconds after the clock's start).
  void Append(int at_second, std::string account, std::vector<std::string> patients,
              Action action = Action::kRead) {
    clock_.Set(start_ + std::chrono::seconds(at_second));
    audit::Entry entry = EntryOf(action, std::move(account), std::move(patients));
    ASSERT_TRUE(log_->Append(std::move(entry)));
  }

  Timestamp At(int second) const { return start_ + std::chrono::seconds(second); }

  static std::vector<std::uint64_t> Indexes(const std::vector<audit::Entry>& entries) {
    std::vector<std::uint64_t> out;
    for (const auto& e : entries) out.push_back(e.index);
    return out;
  }

  ::medvault::testing::ManualClock clock_;
  const Timestamp start_ = clock_.Now();
  std::unique_ptr<audit::AuditLog> log_;
};

TEST_P(AuditEventSearch, ByPatientByAgentAndByDateRange) {
  Append(0, "acc-a", {"pat-1"});                    // 0
  Append(10, "acc-b", {"pat-1", "pat-2"});          // 1
  Append(20, "acc-a", {"pat-2"});                   // 2
  Append(30, "acc-a", {"pat-1"}, Action::kUpdate);  // 3
  Append(40, "acc-c", {});                          // 4

  auto of_patient = FindAuditEvents(*log_, {.patient_id = "pat-1"});
  ASSERT_TRUE(of_patient) << of_patient.error().message();
  EXPECT_THAT(Indexes(*of_patient), ElementsAre(0u, 1u, 3u));

  auto by_agent = FindAuditEvents(*log_, {.account = "acc-a"});
  ASSERT_TRUE(by_agent);
  EXPECT_THAT(Indexes(*by_agent), ElementsAre(0u, 2u, 3u));

  auto both = FindAuditEvents(*log_, {.patient_id = "pat-1", .account = "acc-a"});
  ASSERT_TRUE(both);
  EXPECT_THAT(Indexes(*both), ElementsAre(0u, 3u));
  auto both_one = FindAuditEvents(*log_, {.patient_id = "pat-1", .account = "acc-a", .limit = 1});
  ASSERT_TRUE(both_one);
  EXPECT_THAT(Indexes(*both_one), ElementsAre(0u));

  // [from, to): 10 s included, 30 s excluded.
  auto window = FindAuditEvents(*log_, {.from = At(10), .to = At(30)});
  ASSERT_TRUE(window);
  EXPECT_THAT(Indexes(*window), ElementsAre(1u, 2u));
  auto patient_window = FindAuditEvents(*log_, {.patient_id = "pat-1", .from = At(5)});
  ASSERT_TRUE(patient_window);
  EXPECT_THAT(Indexes(*patient_window), ElementsAre(1u, 3u));

  auto everything = FindAuditEvents(*log_, {});
  ASSERT_TRUE(everything);
  EXPECT_EQ(everything->size(), 5u);
  auto paged = FindAuditEvents(*log_, {.limit = 2, .after_index = 1});
  ASSERT_TRUE(paged);
  EXPECT_THAT(Indexes(*paged), ElementsAre(2u, 3u));

  EXPECT_THAT(FindAuditEvents(*log_, {.patient_id = "pat-9"}).value(), IsEmpty());
  EXPECT_EQ(FindAuditEvents(*log_, {.patient_id = ""}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FindAuditEvents(*log_, {.limit = 0}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(FindAuditEvents(*log_, {.from = At(10), .to = At(5)}).error().code(),
            ErrorCode::kInvalidArgument);

  // What the log returns maps to AuditEvents with the log's index and time.
  const json::object event = AuditEventOf(of_patient->back());
  EXPECT_EQ(Str(event.at("id")), "3");
  EXPECT_EQ(Str(event.at("action")), "U");
  EXPECT_EQ(Str(event.at("recorded")).substr(0, 19), "2026-01-01T00:00:30");
}

TEST_P(AuditEventSearch, APatientAndAgentSearchPagesThroughOtherAgentsEntries) {
  // Many entries of the patient by others before the one that matches.
  for (int i = 0; i < 150; ++i) Append(i, "acc-other", {"pat-1"});
  Append(200, "acc-a", {"pat-1"});
  auto found = FindAuditEvents(*log_, {.patient_id = "pat-1", .account = "acc-a", .limit = 5});
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_THAT(Indexes(*found), ElementsAre(150u));
}

TEST_P(AuditEventSearch, AgentNamesShowTheAccountsDisplayNameAndRole) {
  ASSERT_TRUE(store_->Transact(
      [](store::Transaction& tx) -> Status {
        store::Account account;
        account.id = "acc-1";
        account.login = "c.martin";
        account.kind = "clinician";
        account.status = "active";
        account.display_name = "Camille Martin";
        return tx.InsertAccount(account);
      },
      store::Access::kReadWrite));
  AgentNames names(*store_);
  const audit::Entry read = EntryOf(Action::kRead);
  const json::object event = AuditEventOf(read, &names);
  const auto& agent = event.at("agent").as_array()[0].as_object();
  EXPECT_EQ(Str(agent.at("who").at("display")), "Camille Martin");
  EXPECT_EQ(Str(agent.at("who").at("identifier").at("value")), "acc-1");
  const auto& role = agent.at("role").as_array()[0].at("coding").as_array()[0].as_object();
  EXPECT_EQ(Str(role.at("code")), "clinician");
  EXPECT_EQ(Str(role.at("display")), "Clinician");
  // Without names, ids only, as before.
  EXPECT_FALSE(
      AuditEventOf(read).at("agent").as_array()[0].at("who").as_object().contains("display"));
  // An account the store does not have: the id alone.
  const json::object unknown = AuditEventOf(EntryOf(Action::kRead, "acc-gone"), &names);
  EXPECT_FALSE(unknown.at("agent").as_array()[0].at("who").as_object().contains("display"));
  // An API client is shown by its client id.
  audit::Entry client = EntryOf(Action::kSearch, "lab-feed");
  client.role = audit::Role::kIntegration;
  client.client = "lab-feed";
  const json::object by_client = AuditEventOf(client, &names);
  EXPECT_EQ(Str(by_client.at("agent").as_array()[0].at("who").at("display")), "lab-feed");
  // Break-the-glass keeps its purpose.
  audit::Entry glass = EntryOf(Action::kBreakTheGlass);
  glass.purpose = audit::Purpose::kBreakTheGlass;
  glass.reason = audit::BreakGlassReason::kEmergency;
  const json::object emergency = AuditEventOf(glass, &names);
  EXPECT_EQ(Str(emergency.at("purposeOfEvent").as_array()[0].at("coding").as_array()[0].at("code")),
            "ETREAT");
  EXPECT_EQ(Str(emergency.at("agent").as_array()[0].at("who").at("display")), "Camille Martin");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditEventSearch, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::records
