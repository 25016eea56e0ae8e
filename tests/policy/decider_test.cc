// The policy decider: the access rules of every role over every served type and operation (the
// access matrix, checked against a table written from decider.h's comment), and the audited
// decisions on the real audit log over the real store (SQLite and PostgreSQL).
#include "policy/decider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/manual_clock.h"
#include "identity/smart_scopes.h"
#include "policy/care_relations.h"
#include "policy/guard.h"
#include "policy/lab_scope.h"
#include "store/store.h"
#include "store/test_cluster.h"

namespace medvault::policy {
namespace {

using audit::Role;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr Operation kOperations[] = {Operation::kRead,   Operation::kSearch, Operation::kHistory,
                                     Operation::kCreate, Operation::kUpdate, Operation::kDelete};

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kRead:
      return "read";
    case Operation::kSearch:
      return "search";
    case Operation::kHistory:
      return "history";
    case Operation::kCreate:
      return "create";
    case Operation::kUpdate:
      return "update";
    case Operation::kDelete:
      return "delete";
    case Operation::kExport:
      return "export";
    case Operation::kRelease:
      return "release";
  }
  return "?";
}

// The served types, spelled out here rather than taken from the code under test.
const std::vector<std::string> kServedTypes = {
    "AllergyIntolerance", "AuditEvent",        "Binary",       "CareTeam",          "Condition",
    "DiagnosticReport",   "DocumentReference", "Encounter",    "MedicationRequest", "Observation",
    "Organization",       "Patient",           "Practitioner", "PractitionerRole",
};

bool In(std::initializer_list<std::string_view> set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

bool IsDirectory(std::string_view type) {
  return In({"Organization", "Practitioner", "PractitionerRole"}, type);
}

bool IsReadOnly(Operation op) {
  return op == Operation::kRead || op == Operation::kSearch || op == Operation::kHistory;
}

// The rules of decider.h's comment, for a patient asking about their own record.
bool Expected(Role role, std::string_view type, Operation op) {
  switch (role) {
    case Role::kPatient:
      if (IsDirectory(type)) return op == Operation::kRead || op == Operation::kSearch;
      if (type == "AuditEvent") return op == Operation::kRead || op == Operation::kSearch;
      return IsReadOnly(op);
    case Role::kClinician:
      return type != "AuditEvent";
    case Role::kLabTechnician:
      return In({"Patient", "DiagnosticReport", "Observation", "DocumentReference", "Binary",
                 "Organization", "Practitioner", "PractitionerRole"},
                type) &&
             op != Operation::kDelete;
    case Role::kAdministrator:
      return IsDirectory(type) || type == "CareTeam";
    case Role::kAuditor:
      return type == "AuditEvent" && (op == Operation::kRead || op == Operation::kSearch);
    default:
      return false;
  }
}

Principal PrincipalOf(Role role) {
  Principal p;
  p.account_id = "acc-" + std::to_string(static_cast<int>(role));
  p.role = role;
  p.client = "portal";
  p.source_address = "192.0.2.7";
  if (role == Role::kPatient) p.patient_id = "pat-self";
  if (role == Role::kClinician) p.practitioner_id = "pr-1";
  if (role == Role::kLabTechnician) p.organization = "org-lab";
  return p;
}

// A clinician's scope with `related` patients and, by break-the-glass, `glass` ones.
PatientScope ScopeWith(std::initializer_list<std::string> related,
                       std::initializer_list<std::string> glass = {}) {
  PatientScope scope;
  scope.related.insert(related.begin(), related.end());
  for (const std::string& patient : glass) {
    scope.break_glass.emplace(patient, audit::BreakGlassReason::kEmergency);
  }
  return scope;
}

// A request about one resource of `patient` (none for the directory types).
struct Request {
  Operation operation;
  std::string type;
  std::vector<std::string> ids;
  std::vector<std::string> patients;
  AccessRequest view() const { return {operation, type, ids, patients}; }
};

Request About(std::string type, Operation op, std::string patient) {
  Request r{op, std::move(type), {"res-1"}, {}};
  if (op == Operation::kSearch) r.ids.clear();
  if (!IsDirectory(r.type)) r.patients.push_back(std::move(patient));
  return r;
}

TEST(DeciderRules, EveryRoleOverEveryServedTypeAndOperation) {
  int allowed = 0;
  for (Role role : {Role::kPatient, Role::kClinician, Role::kLabTechnician, Role::kAdministrator,
                    Role::kAuditor, Role::kNone, Role::kOperator}) {
    const Principal principal = PrincipalOf(role);
    for (const std::string& type : kServedTypes) {
      for (Operation op : kOperations) {
        const Request request = About(type, op, "pat-self");
        // A clinician related to the patient; the scope means nothing to the other roles.
        Status decision = Decider::Decide(principal, request.view(), ScopeWith({"pat-self"}));
        EXPECT_EQ(decision.has_value(), Expected(role, type, op))
            << audit::RoleName(role) << " " << OperationName(op) << " " << type;
        if (!decision) {
          EXPECT_EQ(decision.error().code(), ErrorCode::kPermissionDenied);
          EXPECT_THAT(decision.error().message(), HasSubstr("policy: "));
          EXPECT_THAT(decision.error().message(), Not(HasSubstr("pat-self")));
          EXPECT_THAT(decision.error().message(), Not(HasSubstr("res-1")));
        } else {
          ++allowed;
        }
      }
    }
  }
  EXPECT_GT(allowed, 100);  // the table is not vacuous
}

TEST(DeciderRules, APatientSeesOnlyTheirOwnCompartment) {
  const Principal patient = PrincipalOf(Role::kPatient);
  for (const std::string& type : kServedTypes) {
    if (IsDirectory(type)) continue;
    for (Operation op : {Operation::kRead, Operation::kSearch, Operation::kHistory}) {
      if (type == "AuditEvent" && op == Operation::kHistory) continue;
      const Request other = About(type, op, "pat-other");
      Status refused = Decider::Decide(patient, other.view());
      ASSERT_FALSE(refused) << type << " " << OperationName(op);
      EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
      EXPECT_THAT(refused.error().message(), Not(HasSubstr("pat-other")));
      // Their own and someone else's together: refused as well.
      Request mixed = About(type, op, "pat-self");
      mixed.patients.push_back("pat-other");
      EXPECT_FALSE(Decider::Decide(patient, mixed.view())) << type;
      // A search confined to no patient would reach everyone's.
      Request unconfined = About(type, op, "pat-self");
      unconfined.patients.clear();
      EXPECT_FALSE(Decider::Decide(patient, unconfined.view())) << type;
      // A resource of no patient is not theirs either.
      Request nobodys = About(type, op, "");
      EXPECT_FALSE(Decider::Decide(patient, nobodys.view())) << type;
    }
  }
  // A patient account without a patient id has no compartment at all.
  Principal unlinked = PrincipalOf(Role::kPatient);
  unlinked.patient_id.clear();
  EXPECT_FALSE(Decider::Decide(unlinked, About("Observation", Operation::kRead, "").view()));
  EXPECT_TRUE(Decider::Decide(unlinked, About("Practitioner", Operation::kRead, "").view()));
}

TEST(DeciderRules, ALabTechnicianOpensOnlyTheirLabsPatients) {
  const Principal lab = PrincipalOf(Role::kLabTechnician);
  const PatientScope scope = ScopeWith({"pat-1"});
  for (const std::string type : {"Patient", "Observation", "DiagnosticReport", "Binary"}) {
    for (Operation op : {Operation::kRead, Operation::kSearch, Operation::kUpdate}) {
      EXPECT_TRUE(Decider::Decide(lab, About(type, op, "pat-1").view(), scope)) << type;
      Status refused = Decider::Decide(lab, About(type, op, "pat-2").view(), scope);
      ASSERT_FALSE(refused) << type;
      EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
      EXPECT_THAT(refused.error().message(), HasSubstr("your lab has no report"));
      EXPECT_THAT(refused.error().message(), Not(HasSubstr("pat-2")));
    }
  }
  // A search across patients: what it returns is filtered on the same scope.
  EXPECT_TRUE(Decider::Decide(lab, About("Observation", Operation::kSearch, "").view(), scope));
  // Registering a patient, and the lab's own work (the records checked its performer), relate
  // the lab to a patient it had none with.
  EXPECT_TRUE(Decider::Decide(lab, About("Patient", Operation::kCreate, "pat-2").view(), scope));
  Request result = About("Observation", Operation::kCreate, "pat-2");
  AccessRequest own_work = result.view();
  own_work.own_lab_work = true;
  EXPECT_TRUE(Decider::Decide(lab, own_work, scope));
  own_work.operation = Operation::kRead;
  EXPECT_FALSE(Decider::Decide(lab, own_work, scope));  // reading is not writing
}

TEST(DeciderRules, ALabTechnicianWithNoLabOpensNoPatientAndIsToldWhy) {
  Principal alone = PrincipalOf(Role::kLabTechnician);
  alone.organization.clear();
  const PatientScope scope = ScopeWith({"pat-1"});
  for (const std::string type : {"Patient", "Observation", "DiagnosticReport"}) {
    Status refused = Decider::Decide(alone, About(type, Operation::kRead, "pat-1").view(), scope);
    ASSERT_FALSE(refused) << type;
    EXPECT_THAT(refused.error().message(), HasSubstr("linked to no lab"));
  }
  EXPECT_FALSE(Decider::Decide(alone, About("Patient", Operation::kCreate, "pat-1").view(), scope));
  EXPECT_FALSE(Decider::Decide(
      alone, About("DiagnosticReport", Operation::kRelease, "pat-1").view(), scope));
  // The directory is no one's health data.
  EXPECT_TRUE(Decider::Decide(alone, About("Organization", Operation::kRead, "").view(), scope));
}

TEST(DeciderRules, AClinicianOpensOnlyThePatientsOfTheirScope) {
  const Principal clinician = PrincipalOf(Role::kClinician);
  const PatientScope scope = ScopeWith({"pat-1"}, {"pat-2"});
  for (const std::string& type : kServedTypes) {
    if (IsDirectory(type) || type == "AuditEvent") continue;
    for (Operation op : kOperations) {
      EXPECT_TRUE(Decider::Decide(clinician, About(type, op, "pat-1").view(), scope)) << type;
      EXPECT_TRUE(Decider::Decide(clinician, About(type, op, "pat-2").view(), scope)) << type;
      if (op == Operation::kCreate && type == "Patient") continue;  // registering relates no one
      Status refused = Decider::Decide(clinician, About(type, op, "pat-3").view(), scope);
      ASSERT_FALSE(refused) << type << " " << OperationName(op);
      EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
      // The same words for a patient who does not exist: nothing tells them apart.
      EXPECT_EQ(refused.error().message(),
                Decider::Decide(clinician, About(type, op, "no-such").view(), scope)
                    .error()
                    .message());
      EXPECT_THAT(refused.error().message(), Not(HasSubstr("pat-3")));
      Request mixed = About(type, op, "pat-1");
      mixed.patients.push_back("pat-3");
      EXPECT_FALSE(Decider::Decide(clinician, mixed.view(), scope)) << type;
    }
  }
  // A search across patients is allowed: the records layer keeps only what the scope covers.
  Request across = About("Observation", Operation::kSearch, "");
  across.patients.clear();
  EXPECT_TRUE(Decider::Decide(clinician, across.view(), scope));
  // Without a scope (no relations configured, or none recorded) nobody's data opens.
  EXPECT_FALSE(Decider::Decide(clinician, About("Observation", Operation::kRead, "pat-1").view()));
  EXPECT_TRUE(Decider::Decide(clinician, About("Practitioner", Operation::kUpdate, "").view()));
}

TEST(DeciderRules, NobodyTakesAPatientIntoTheirOwnCare) {
  const Principal clinician = PrincipalOf(Role::kClinician);
  const std::vector<std::string> ids = {"enc-1"};
  const std::vector<std::string> patients = {"pat-3"};
  // An Encounter or CareTeam naming the clinician gives them no right to a stranger.
  for (std::string_view type : {"Encounter", "CareTeam"}) {
    AccessRequest create{Operation::kCreate, type, ids, patients};
    create.takes_into_care = true;
    auto refused = Decider::Decide(clinician, create, PatientScope{});
    ASSERT_FALSE(refused) << type;
    EXPECT_THAT(refused.error().message(), HasSubstr("ask an administrator"));
  }
  // Nor does a break-the-glass grant become a care relation through such a write.
  PatientScope glass;
  glass.break_glass.emplace("pat-3", audit::BreakGlassReason::kEmergency);
  AccessRequest join{Operation::kCreate, "CareTeam", ids, patients};
  join.takes_into_care = true;
  auto refused = Decider::Decide(clinician, join, glass);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("break-the-glass grant does not take"));
  join.takes_into_care = false;  // a write under the grant that relates nobody
  EXPECT_TRUE(Decider::Decide(clinician, join, glass));
  // In care already: writing their Encounter is fine.
  PatientScope related;
  related.related.insert("pat-3");
  join.takes_into_care = true;
  EXPECT_TRUE(Decider::Decide(clinician, join, related));
}

TEST(DeciderRules, ACreateForAPatientTheSameRequestRegistersNeedsNoRelation) {
  const Principal clinician = PrincipalOf(Role::kClinician);
  const std::vector<std::string> ids = {"enc-1"};
  const std::vector<std::string> patients = {"pat-new"};
  const std::vector<std::string> registered = {"pat-new"};
  AccessRequest create{Operation::kCreate, "Encounter", ids, patients};
  create.takes_into_care = true;
  create.new_patients = registered;
  EXPECT_TRUE(Decider::Decide(clinician, create, PatientScope{}));
  // Only creates, and only for the patient registered, not for another one beside it.
  AccessRequest update = create;
  update.operation = Operation::kUpdate;
  EXPECT_FALSE(Decider::Decide(clinician, update, PatientScope{}));
  const std::vector<std::string> two = {"pat-new", "pat-3"};
  create.patient_ids = two;
  EXPECT_FALSE(Decider::Decide(clinician, create, PatientScope{}));
  // The exception means nothing to other roles.
  create.patient_ids = patients;
  EXPECT_FALSE(Decider::Decide(PrincipalOf(Role::kPatient), create, PatientScope{}));
}

TEST(DeciderRules, AnIntegrationClientGetsWhatItsSystemScopesAllow) {
  Principal client = PrincipalOf(Role::kIntegration);
  client.client = "lab-feed";
  client.scopes = identity::ParseSmartScopes("system/Observation.cru system/Patient.rs").value();
  auto decide = [&](std::string type, Operation op, bool instance = true) {
    Request r = About(std::move(type), op, "pat-1");
    if (!instance) r.ids.clear();
    return Decider::Decide(client, r.view()).has_value();
  };
  EXPECT_TRUE(decide("Observation", Operation::kCreate));
  EXPECT_TRUE(decide("Observation", Operation::kRead));
  EXPECT_TRUE(decide("Observation", Operation::kUpdate));
  EXPECT_TRUE(decide("Observation", Operation::kHistory));  // instance history: read
  EXPECT_FALSE(decide("Observation", Operation::kHistory, /*instance=*/false));  // needs search
  EXPECT_FALSE(decide("Observation", Operation::kSearch));
  EXPECT_FALSE(decide("Observation", Operation::kDelete));
  EXPECT_TRUE(decide("Patient", Operation::kSearch));
  EXPECT_TRUE(decide("Patient", Operation::kHistory, /*instance=*/false));
  EXPECT_FALSE(decide("Patient", Operation::kCreate));
  EXPECT_FALSE(decide("DiagnosticReport", Operation::kCreate));

  // Patient and user scopes give a backend client nothing.
  client.scopes = identity::ParseSmartScopes("patient/*.cruds user/*.cruds").value();
  for (const std::string& type : kServedTypes) {
    for (Operation op : kOperations) EXPECT_FALSE(decide(type, op)) << type;
  }
  // Even system/*.cruds does not make audit events writable.
  client.scopes = identity::ParseSmartScopes("system/*.cruds").value();
  for (const std::string& type : kServedTypes) {
    for (Operation op : kOperations) {
      EXPECT_EQ(decide(type, op),
                type != "AuditEvent" || op == Operation::kRead || op == Operation::kSearch)
          << type << " " << OperationName(op);
    }
  }
  client.scopes.clear();
  EXPECT_FALSE(decide("Observation", Operation::kRead));
}

TEST(DeciderRules, TypesTheApiDoesNotServeAreRefusedToEveryone) {
  for (Role role : {Role::kPatient, Role::kClinician, Role::kAdministrator, Role::kAuditor}) {
    for (std::string type : {"Medication", "", "patient", "Observation "}) {
      EXPECT_FALSE(
          Decider::Decide(PrincipalOf(role), About(type, Operation::kRead, "pat-self").view()))
          << type;
    }
  }
}

// The audited decisions, on the real log over each backend.
class DeciderTest : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    OpenLog({});
  }
  void TearDown() override {
    decider_.reset();
    log_.reset();
    StoreBackendTest::TearDown();
  }

  void OpenLog(audit::AuditLog::Options options) {
    decider_.reset();
    log_.reset();
    auto log = audit::AuditLog::Open(*store_, clock_, options);
    ASSERT_TRUE(log) << log.error().message();
    log_ = std::move(*log);
    relations_ = std::make_unique<StoreCareRelations>(*store_);
    decider_ = std::make_unique<Decider>(*log_, clock_,
                                         Decider::Extensions{.relations = relations_.get()});
  }

  // A care relation of the test clinician's Practitioner to `patient`, until `expires_at`.
  // Relates the clinician (pr-1) and the lab technician's lab (org-lab) to `patient`.
  void Relate(const std::string& patient, Timestamp expires_at = kNoEnd) {
    const std::vector<store::CareRelation> relation = {
        {"pr-1", patient, "CareTeam", "team-" + patient, expires_at}};
    const std::vector<store::CareRelation> lab = {
        {LabParty("org-lab"), patient, "DiagnosticReport", "report-" + patient, expires_at}};
    ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
      if (auto s = tx.ReplaceCareRelations("CareTeam", "team-" + patient, relation); !s) return s;
      return tx.ReplaceCareRelations("DiagnosticReport", "report-" + patient, lab);
    }));
  }

  std::vector<audit::Entry> Logged() {
    auto all = log_->Find(
        {audit::Search::By::kTime, "", Timestamp::min(), Timestamp::max(), std::nullopt, 1000});
    EXPECT_TRUE(all) << all.error().message();
    return all ? *all : std::vector<audit::Entry>{};
  }

  ::medvault::testing::ManualClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<StoreCareRelations> relations_;
  std::unique_ptr<Decider> decider_;
};

TEST_P(DeciderTest, AnAllowedRequestIsLoggedBeforeThePhiAccessIsMinted) {
  Principal clinician = PrincipalOf(Role::kClinician);
  Relate("pat-1");
  Relate("pat-2");
  const std::vector<std::string> ids = {"obs-1", "obs-2"};
  const std::vector<std::string> patients = {"pat-1", "", "pat-2", "pat-1"};
  auto access = decider_->Authorize(clinician, {Operation::kRead, "Observation", ids, patients});
  ASSERT_TRUE(access) << access.error().message();

  // Durable when Authorize returned: a second log on the same store reads it.
  auto again = audit::AuditLog::Open(*store_, clock_);
  ASSERT_TRUE(again);
  auto head = (*again)->Head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->size, 1u);

  auto logged = Logged();
  ASSERT_EQ(logged.size(), 1u);
  const audit::Entry& entry = logged.front();
  EXPECT_EQ(entry.account, clinician.account_id);
  EXPECT_EQ(entry.role, Role::kClinician);
  EXPECT_EQ(entry.client, "portal");
  EXPECT_EQ(entry.source_address, "192.0.2.7");
  EXPECT_EQ(entry.action, audit::Action::kRead);
  EXPECT_EQ(entry.resource_type, "Observation");
  EXPECT_THAT(entry.resource_ids, ElementsAre("obs-1", "obs-2"));
  EXPECT_THAT(entry.patient_ids, ElementsAre("pat-1", "pat-2"));  // once each, none empty
  EXPECT_EQ(entry.purpose, audit::Purpose::kCareRelation);
  EXPECT_EQ(entry.outcome, audit::Outcome::kSuccess);
  EXPECT_EQ(entry.time, clock_.Now());
  EXPECT_EQ(access->purpose(), "audit-" + std::to_string(entry.index));
}

TEST_P(DeciderTest, EachOperationAndRoleIsLoggedWithItsActionAndPurpose) {
  struct Case {
    Role role;
    Operation op;
    std::string type;
    audit::Action action;
    audit::Purpose purpose;
  };
  const std::vector<Case> cases = {
      {Role::kPatient, Operation::kSearch, "Observation", audit::Action::kSearch,
       audit::Purpose::kPatientSelf},
      {Role::kPatient, Operation::kHistory, "Condition", audit::Action::kRead,
       audit::Purpose::kPatientSelf},
      {Role::kLabTechnician, Operation::kCreate, "DiagnosticReport", audit::Action::kCreate,
       audit::Purpose::kCareRelation},
      {Role::kClinician, Operation::kUpdate, "MedicationRequest", audit::Action::kUpdate,
       audit::Purpose::kCareRelation},
      {Role::kClinician, Operation::kDelete, "Encounter", audit::Action::kDelete,
       audit::Purpose::kCareRelation},
      {Role::kAdministrator, Operation::kUpdate, "Organization", audit::Action::kUpdate,
       audit::Purpose::kAdministration},
      {Role::kAuditor, Operation::kSearch, "AuditEvent", audit::Action::kSearch,
       audit::Purpose::kAudit},
  };
  Relate("pat-self");
  for (const Case& c : cases) {
    Request request = About(c.type, c.op, "pat-self");
    ASSERT_TRUE(decider_->Authorize(PrincipalOf(c.role), request.view())) << c.type;
  }
  Principal client = PrincipalOf(Role::kIntegration);
  client.client = "lab-feed";
  client.scopes = identity::ParseSmartScopes("system/Observation.c").value();
  ASSERT_TRUE(decider_->Authorize(client, About("Observation", Operation::kCreate, "p").view()));

  auto logged = Logged();
  ASSERT_EQ(logged.size(), cases.size() + 1);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(logged[i].action, cases[i].action) << i;
    EXPECT_EQ(logged[i].purpose, cases[i].purpose) << i;
    EXPECT_EQ(logged[i].role, cases[i].role) << i;
    EXPECT_EQ(logged[i].resource_type, cases[i].type) << i;
    EXPECT_EQ(logged[i].outcome, audit::Outcome::kSuccess) << i;
  }
  EXPECT_EQ(logged.back().purpose, audit::Purpose::kIntegration);
  EXPECT_EQ(logged.back().client, "lab-feed");
}

TEST_P(DeciderTest, ADenialIsLoggedAndMintsNothing) {
  Principal patient = PrincipalOf(Role::kPatient);
  const std::vector<std::string> ids = {"obs-9"};
  const std::vector<std::string> patients = {"pat-other"};
  auto refused = decider_->Authorize(patient, {Operation::kRead, "Observation", ids, patients});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("pat-other")));

  Principal lab = PrincipalOf(Role::kLabTechnician);
  auto no_delete = decider_->Authorize(lab, About("Observation", Operation::kDelete, "p").view());
  ASSERT_FALSE(no_delete);
  EXPECT_EQ(no_delete.error().code(), ErrorCode::kPermissionDenied);
  // A type the API does not serve: refused, and logged without the type it named.
  auto unserved = decider_->Authorize(PrincipalOf(Role::kClinician),
                                      About("Nope", Operation::kRead, "p").view());
  ASSERT_FALSE(unserved);

  auto logged = Logged();
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[0].outcome, audit::Outcome::kDenied);
  EXPECT_EQ(logged[0].action, audit::Action::kRead);
  EXPECT_EQ(logged[0].account, patient.account_id);
  EXPECT_THAT(logged[0].patient_ids, ElementsAre("pat-other"));
  EXPECT_THAT(logged[0].resource_ids, ElementsAre("obs-9"));
  EXPECT_EQ(logged[0].purpose, audit::Purpose::kPatientSelf);
  EXPECT_EQ(logged[1].outcome, audit::Outcome::kDenied);
  EXPECT_EQ(logged[1].action, audit::Action::kDelete);
  EXPECT_EQ(logged[2].outcome, audit::Outcome::kDenied);
  EXPECT_EQ(logged[2].resource_type, "");
}

TEST_P(DeciderTest, SearchResultsAreRecordedInOneEntry) {
  Principal clinician = PrincipalOf(Role::kClinician);
  const std::vector<std::string> ids = {"p1", "p2", "p3"};
  const std::vector<std::string> patients = {"p1", "p2", "p3", "p2", ""};
  ASSERT_TRUE(decider_->RecordResults(clinician, "Patient", ids, patients));
  ASSERT_TRUE(decider_->RecordResults(clinician, "Patient", {}, {}));  // an empty page
  auto logged = Logged();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].action, audit::Action::kSearch);
  EXPECT_EQ(logged[0].resource_type, "Patient");
  EXPECT_THAT(logged[0].resource_ids, ElementsAre("p1", "p2", "p3"));
  EXPECT_THAT(logged[0].patient_ids, ElementsAre("p1", "p2", "p3"));
  EXPECT_EQ(logged[0].outcome, audit::Outcome::kSuccess);
  EXPECT_THAT(logged[1].patient_ids, IsEmpty());
  auto of_p2 = log_->EntriesOfPatient("p2", Timestamp::min(), Timestamp::max(), std::nullopt, 10);
  ASSERT_TRUE(of_p2);
  EXPECT_EQ(of_p2->size(), 1u);
}

TEST_P(DeciderTest, ALogThatRefusesGivesUnavailableAndNoPhiAccess) {
  Relate("p");
  // The store refuses every new audit entry from now on (a constraint no entry can meet).
  if (GetParam() == "sqlite") {
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other,
                           "CREATE TRIGGER refuse_all BEFORE INSERT ON audit_entries "
                           "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(other);
  } else {
    auto altered = store::RunPsql(
        url_, "ALTER TABLE audit_entries ADD CONSTRAINT refuse_all CHECK (seq < 0) NOT VALID");
    ASSERT_TRUE(altered) << altered.error().message();
  }
  Principal clinician = PrincipalOf(Role::kClinician);
  auto allowed = decider_->Authorize(clinician, About("Observation", Operation::kRead, "p").view());
  ASSERT_FALSE(allowed);
  EXPECT_EQ(allowed.error().code(), ErrorCode::kUnavailable);
  // A denial that cannot be logged is unavailable too, not a plain refusal.
  auto denied = decider_->Authorize(PrincipalOf(Role::kAuditor),
                                    About("Observation", Operation::kRead, "p").view());
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), ErrorCode::kUnavailable);
  auto results = decider_->RecordResults(clinician, "Patient", {}, {});
  ASSERT_FALSE(results);
  EXPECT_EQ(results.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(Logged(), IsEmpty());
}

TEST_P(DeciderTest, AnIdTheLogCannotHoldIsRefusedUnlogged) {
  const std::vector<std::string> ids = {"obs 1'; --"};
  auto refused = decider_->Authorize(PrincipalOf(Role::kClinician),
                                     {Operation::kRead, "Observation", ids, {}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("obs 1")));
  EXPECT_THAT(Logged(), IsEmpty());
}

TEST_P(DeciderTest, OnlyAnAuditorExportsAndOnlyTheAuditLogAsAnExportEntry) {
  auto exported =
      decider_->Authorize(PrincipalOf(Role::kAuditor), {Operation::kExport, "AuditEvent", {}, {}});
  ASSERT_TRUE(exported) << exported.error().message();
  for (Role role : {Role::kPatient, Role::kClinician, Role::kLabTechnician, Role::kAdministrator,
                    Role::kIntegration}) {
    Principal principal = PrincipalOf(role);
    if (role == Role::kIntegration) {
      principal.scopes = identity::ParseSmartScopes("system/*.rs").value();
    }
    const std::vector<std::string> self = {"pat-self"};
    auto refused = decider_->Authorize(principal, {Operation::kExport, "AuditEvent", {}, self});
    EXPECT_FALSE(refused) << static_cast<int>(role);
  }
  EXPECT_FALSE(decider_->Authorize(PrincipalOf(Role::kAuditor),
                                   {Operation::kExport, "Observation", {}, {}}));
  auto logged = Logged();
  ASSERT_EQ(logged.size(), 7u);
  EXPECT_EQ(logged[0].action, audit::Action::kExport);
  EXPECT_EQ(logged[0].outcome, audit::Outcome::kSuccess);
  EXPECT_EQ(logged[0].purpose, audit::Purpose::kAudit);
  for (std::size_t i = 1; i < logged.size(); ++i) {
    EXPECT_EQ(logged[i].action, audit::Action::kExport) << i;
    EXPECT_EQ(logged[i].outcome, audit::Outcome::kDenied) << i;
  }
}

TEST_P(DeciderTest, AClinicianIsAllowedWhileTheirRelationHoldsAndRefusedAfter) {
  const Principal clinician = PrincipalOf(Role::kClinician);
  Relate("pat-1", clock_.Now() + std::chrono::hours(1));
  const Request read = About("Observation", Operation::kRead, "pat-1");
  EXPECT_TRUE(decider_->Authorize(clinician, read.view()));
  // Another clinician, linked to no Practitioner or to another one, is refused.
  Principal other = clinician;
  other.account_id = "acc-other";
  other.practitioner_id = "pr-2";
  EXPECT_FALSE(decider_->Authorize(other, read.view()));
  other.practitioner_id.clear();
  EXPECT_FALSE(decider_->Authorize(other, read.view()));
  clock_.Advance(std::chrono::hours(1));
  auto expired = decider_->Authorize(clinician, read.view());
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kPermissionDenied);
  auto logged = Logged();
  ASSERT_EQ(logged.size(), 4u);
  EXPECT_EQ(logged[0].outcome, audit::Outcome::kSuccess);
  EXPECT_EQ(logged[0].purpose, audit::Purpose::kCareRelation);
  for (std::size_t i = 1; i < logged.size(); ++i) {
    EXPECT_EQ(logged[i].outcome, audit::Outcome::kDenied) << i;
  }
}

TEST_P(DeciderTest, ABreakTheGlassGrantOpensItsPatientAndIsLoggedWithItsReason) {
  const Principal clinician = PrincipalOf(Role::kClinician);
  store::BreakGlassGrant grant;
  grant.id = "bg-1";
  grant.account_id = clinician.account_id;
  grant.patient_id = "pat-9";
  grant.reason = static_cast<std::int64_t>(audit::BreakGlassReason::kEmergency);
  grant.granted_at = clock_.Now();
  grant.expires_at = clock_.Now() + std::chrono::hours(4);
  ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) { return tx.InsertBreakGlass(grant); }));
  Relate("pat-1");
  ASSERT_TRUE(decider_->Authorize(clinician, About("Condition", Operation::kRead, "pat-9").view()));
  ASSERT_TRUE(decider_->Authorize(clinician, About("Condition", Operation::kRead, "pat-1").view()));
  const std::vector<std::string> ids = {"c-1", "c-2"};
  const std::vector<std::string> patients = {"pat-1", "pat-9"};
  ASSERT_TRUE(decider_->RecordResults(clinician, "Condition", ids, patients));
  clock_.Advance(std::chrono::hours(4));
  EXPECT_FALSE(decider_->Authorize(clinician, About("Condition", Operation::kRead, "pat-9").view()));
  auto logged = Logged();
  ASSERT_EQ(logged.size(), 4u);
  EXPECT_EQ(logged[0].purpose, audit::Purpose::kBreakTheGlass);
  EXPECT_EQ(logged[0].reason, audit::BreakGlassReason::kEmergency);
  EXPECT_EQ(logged[1].purpose, audit::Purpose::kCareRelation);
  EXPECT_EQ(logged[1].reason, audit::BreakGlassReason::kNone);
  EXPECT_EQ(logged[2].purpose, audit::Purpose::kBreakTheGlass);  // the results name pat-9
  EXPECT_EQ(logged[3].outcome, audit::Outcome::kDenied);
}

// Which part refused is told with the refusal, so records need not read the care relations a
// second time to choose between 404 (the rules) and 403 (the gate).
TEST_P(DeciderTest, TheRefusalSaysWhetherTheRulesOrTheGateRefused) {
  ExfiltrationGuard::Options options;
  options.canaries = {"canary-1"};
  ExfiltrationGuard guard(*store_, clock_, options, [](const store::Alert&) {});
  Decider gated(*log_, clock_, Decider::Extensions{.gate = &guard, .relations = relations_.get()});
  Relate("canary-1");
  const Principal clinician = PrincipalOf(Role::kClinician);

  // A clinician's read of an Observation of `patient` is refused, by `expected`; the variable
  // starts at the other value, so that an untold refusal fails.
  auto expect_refused_by = [&](const std::string& patient, const std::string& id,
                               Decider::RefusedBy expected) {
    auto refused_by = expected == Decider::RefusedBy::kRules ? Decider::RefusedBy::kGate
                                                             : Decider::RefusedBy::kRules;
    const std::vector<std::string> ids = {id};
    const std::vector<std::string> patients = {patient};
    auto access = gated.Authorize(clinician, {Operation::kRead, "Observation", ids, patients},
                                  &refused_by);
    ASSERT_FALSE(access) << patient;
    EXPECT_EQ(access.error().code(), ErrorCode::kPermissionDenied) << patient;
    EXPECT_EQ(refused_by, expected) << patient;
  };
  expect_refused_by("pat-unrelated", "obs-1", Decider::RefusedBy::kRules);
  expect_refused_by("canary-1", "obs-2", Decider::RefusedBy::kGate);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeciderTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// The store failing under the log (another process holds SQLite's write lock): kUnavailable.
TEST(DeciderOnAFailingStore, AStoreThatCannotWriteGivesUnavailable) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-policy-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string path = pattern + "/store.db";
  {
    auto store =
        store::Store::Open("sqlite:" + path, {.busy_timeout = std::chrono::milliseconds(50)});
    ASSERT_TRUE(store) << store.error().message();
    ::medvault::testing::ManualClock clock;
    auto log = audit::AuditLog::Open(**store, clock);
    ASSERT_TRUE(log);
    Decider decider(**log, clock);
    // A read every lab technician may make, whatever their lab's patients.
    const Principal clinician = PrincipalOf(Role::kLabTechnician);
    ASSERT_TRUE(decider.Authorize(clinician, About("Organization", Operation::kRead, "").view()));

    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    auto refused = decider.Authorize(clinician, About("Organization", Operation::kRead, "").view());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    // Once the store is back, so is the log.
    EXPECT_TRUE(decider.Authorize(clinician, About("Organization", Operation::kRead, "").view()));
  }
  std::filesystem::remove_all(pattern);
}

}  // namespace
}  // namespace medvault::policy
