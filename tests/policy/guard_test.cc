// The exfiltration guard over the real store (SQLite and PostgreSQL) with a manual clock:
// windows slide, budgets are per role, near a budget a step-up is asked for, over it (or at a
// canary) the account is suspended, its sessions end and one alert is stored; two guards on
// one database share their counts.
#include "policy/guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/manual_clock.h"
#include "identity/accounts.h"
#include "store/store.h"
#include "store/test_cluster.h"

namespace medvault::policy {
namespace {

using audit::Role;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Small budgets so every window is easy to cross: per minute/hour/day.
GuardLimits SmallLimits() {
  auto limits = ParseGuardLimits(
      "patients 5/10/20, records 100/1000/10000, bytes 1M/10M/100M, searches 50/500/5000, "
      "breadth 8",
      GuardLimits{});
  EXPECT_TRUE(limits.has_value()) << limits.error().message();
  return *limits;
}

ExfiltrationGuard::Options SmallOptions(std::int64_t step_up_percent) {
  ExfiltrationGuard::Options options;
  options.budgets.clinician = SmallLimits();
  options.step_up_percent = step_up_percent;
  options.canaries = {"canary-1"};
  return options;
}

Principal Clinician(std::string account = "acct-clin") {
  Principal principal;
  principal.account_id = std::move(account);
  principal.role = Role::kClinician;
  principal.client = "portal";
  return principal;
}

std::string PatientId(int n) { return "patient-" + std::to_string(n); }

class GuardTest : public store::StoreBackendTest {
 protected:
  // Opens patient n's Observation: one read naming its patient.
  Status ReadPatient(ExfiltrationGuard& guard, const Principal& principal, int n) {
    const std::string ids[] = {"obs-" + std::to_string(n)};
    const std::string patients[] = {PatientId(n)};
    return guard.Admit(principal, AccessRequest{.operation = Operation::kRead,
                                                .resource_type = "Observation",
                                                .resource_ids = ids,
                                                .patient_ids = patients});
  }

  std::unique_ptr<ExfiltrationGuard> MakeGuard(ExfiltrationGuard::Options options) {
    return std::make_unique<ExfiltrationGuard>(
        *store_, clock_, std::move(options),
        [this](const store::Alert& alert) { sunk_.push_back(alert); });
  }

  // A staff account with one live session, as login leaves it.
  void AddAccountWithSession(const std::string& id) {
    const Timestamp now = clock_.Now();
    ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
      if (auto s = tx.InsertAccount({id, id + "@test", "clinician",
                                     std::string(identity::kStatusActive), "Dr Test", "", now, now});
          !s) {
        return s;
      }
      store::SessionRecord session;
      session.token_hash = std::vector<std::uint8_t>(32, 7);
      session.id = "session-" + id;
      session.account_id = id;
      session.stage = store::SessionStage::kSession;
      session.created_at = session.last_seen_at = session.second_factor_at = now;
      session.expires_at = now + std::chrono::hours(12);
      return tx.InsertSession(session);
    }));
  }

  std::vector<store::Alert> Alerts() {
    auto alerts = store_->ListAlerts(0, 100);
    EXPECT_TRUE(alerts.has_value());
    return alerts ? *alerts : std::vector<store::Alert>{};
  }

  testing::ManualClock clock_;
  std::vector<store::Alert> sunk_;
};

TEST_P(GuardTest, OverTheMinuteBudgetTheAccountIsSuspendedAndEveryLaterAccessRefused) {
  auto guard = MakeGuard(SmallOptions(0));
  const Principal principal = Clinician();
  for (int n = 1; n <= 5; ++n) {
    EXPECT_TRUE(ReadPatient(*guard, principal, n)) << "patient " << n;
    clock_.Advance(seconds(1));
  }
  Status sixth = ReadPatient(*guard, principal, 6);
  ASSERT_FALSE(sixth);
  EXPECT_EQ(sixth.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(sixth.error().message(), HasSubstr("suspended"));
  // Even a patient already seen is refused now.
  EXPECT_FALSE(ReadPatient(*guard, principal, 1));
  std::vector<store::Alert> alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "exfiltration_suspected");
  EXPECT_EQ(alerts[0].subject, "account/acct-clin");
  EXPECT_THAT(alerts[0].detail, HasSubstr("distinct patients 6 in the last minute (budget 5)"));
  ASSERT_EQ(sunk_.size(), 1u);
  EXPECT_EQ(sunk_[0].id, alerts[0].id);
}

TEST_P(GuardTest, TheSameFewPatientsReadOftenStayWithinTheBudget) {
  auto guard = MakeGuard(SmallOptions(80));
  const Principal principal = Clinician();
  for (int i = 0; i < 60; ++i) {
    EXPECT_TRUE(ReadPatient(*guard, principal, 1 + i % 3)) << "read " << i;
    clock_.Advance(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(Alerts().empty());
}

TEST_P(GuardTest, TheMinuteWindowSlides) {
  ExfiltrationGuard::Options options = SmallOptions(0);
  options.budgets.clinician.patients = {5, 100, 100};
  auto guard = MakeGuard(options);
  const Principal principal = Clinician();
  for (int n = 1; n <= 5; ++n) ASSERT_TRUE(ReadPatient(*guard, principal, n));
  clock_.Advance(seconds(61));
  for (int n = 6; n <= 10; ++n) EXPECT_TRUE(ReadPatient(*guard, principal, n)) << n;
  EXPECT_FALSE(ReadPatient(*guard, principal, 11));
}

TEST_P(GuardTest, ASlowScraperUnderTheMinuteBudgetIsStoppedByTheHourBudget) {
  auto guard = MakeGuard(SmallOptions(0));  // 5 a minute, 10 an hour
  const Principal principal = Clinician();
  int opened = 0;
  for (int n = 1; n <= 30; ++n) {
    if (!ReadPatient(*guard, principal, n)) break;
    ++opened;
    clock_.Advance(seconds(20));  // 3 a minute
  }
  EXPECT_EQ(opened, 10);
  std::vector<store::Alert> alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_THAT(alerts[0].detail, HasSubstr("in the last hour (budget 10)"));
}

TEST_P(GuardTest, NearTheBudgetAStepUpIsAskedAndAFreshSecondFactorGoesOnToTheBudget) {
  auto guard = MakeGuard(SmallOptions(80));  // near at 4 of 5
  Principal principal = Clinician();
  principal.second_factor_at = clock_.Now();
  for (int n = 1; n <= 3; ++n) ASSERT_TRUE(ReadPatient(*guard, principal, n));
  clock_.Advance(seconds(1));
  Status near = ReadPatient(*guard, principal, 4);
  ASSERT_FALSE(near);
  EXPECT_EQ(near.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_THAT(near.error().message(), HasSubstr("/auth/step-up/totp"));
  // Retrying without a step-up is asked again.
  clock_.Advance(seconds(1));
  EXPECT_EQ(ReadPatient(*guard, principal, 4).error().code(), ErrorCode::kUnauthenticated);
  // The session steps up: it goes on up to the budget, and is suspended beyond it.
  clock_.Advance(seconds(1));
  principal.second_factor_at = clock_.Now();
  clock_.Advance(seconds(1));
  EXPECT_TRUE(ReadPatient(*guard, principal, 4));
  EXPECT_TRUE(ReadPatient(*guard, principal, 5));
  Status over = ReadPatient(*guard, principal, 6);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kPermissionDenied);
}

TEST_P(GuardTest, AStolenSessionThatCannotStepUpIsSuspendedOnceItsAttemptsCrossTheBudget) {
  auto guard = MakeGuard(SmallOptions(80));
  const Principal principal = Clinician();  // its second factor is older than any challenge
  int received = 0;
  int refused = 0;
  for (int n = 1; n <= 20; ++n) {
    Status s = ReadPatient(*guard, principal, n);
    if (s) {
      ++received;
    } else if (s.error().code() == ErrorCode::kUnauthenticated) {
      ++refused;
    } else {
      break;
    }
  }
  EXPECT_EQ(received, 3);
  EXPECT_EQ(refused, 2);  // patients 4 and 5; the 6th attempt suspends
  EXPECT_EQ(Alerts().size(), 1u);
}

TEST_P(GuardTest, ACanaryTouchSuspendsOnTheFirstRequest) {
  auto guard = MakeGuard(SmallOptions(80));
  const Principal reader = Clinician("acct-reader");
  const std::string canary[] = {"canary-1"};
  const std::string ids[] = {"canary-1"};
  Status read = guard->Admit(reader, AccessRequest{.operation = Operation::kRead,
                                                   .resource_type = "Patient",
                                                   .resource_ids = ids,
                                                   .patient_ids = canary});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kPermissionDenied);
  // A search whose results hold a canary, by another account.
  const Principal searcher = Clinician("acct-searcher");
  const std::string found_ids[] = {"p-1", "canary-1"};
  const std::string found_patients[] = {"p-1", "canary-1"};
  EXPECT_FALSE(guard->AdmitResults(searcher, "Patient", found_ids, found_patients));
  std::vector<store::Alert> alerts = Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].kind, "canary_touched");
  EXPECT_EQ(alerts[0].subject, "account/acct-reader");
  EXPECT_THAT(alerts[0].detail, HasSubstr("canary-1"));
  EXPECT_EQ(alerts[1].subject, "account/acct-searcher");
}

TEST_P(GuardTest, ASearchWiderThanTheBreadthSuspends) {
  auto guard = MakeGuard(SmallOptions(0));
  std::vector<std::string> ids;
  for (int n = 1; n <= 9; ++n) ids.push_back(PatientId(n));
  Status s = guard->AdmitResults(Clinician(), "Patient", ids, ids);
  ASSERT_FALSE(s);
  EXPECT_THAT(Alerts().at(0).detail, HasSubstr("one search returned 9 distinct patients"));
}

TEST_P(GuardTest, BudgetsArePerRole) {
  ExfiltrationGuard::Options options = SmallOptions(0);
  options.budgets.lab_technician.patients = {50, 100, 200};
  auto guard = MakeGuard(options);
  Principal lab = Clinician("acct-lab");
  lab.role = Role::kLabTechnician;
  for (int n = 1; n <= 20; ++n) EXPECT_TRUE(ReadPatient(*guard, lab, n)) << n;
  // An administrator's directory reads and an auditor's audit events are not counted.
  Principal auditor = Clinician("acct-auditor");
  auditor.role = Role::kAuditor;
  for (int n = 1; n <= 20; ++n) {
    const std::string patients[] = {PatientId(n)};
    EXPECT_TRUE(guard->Admit(auditor, AccessRequest{.operation = Operation::kSearch,
                                                    .resource_type = "AuditEvent",
                                                    .resource_ids = {},
                                                    .patient_ids = patients}));
  }
  EXPECT_TRUE(Alerts().empty());
}

TEST_P(GuardTest, WritesAreNotCounted) {
  auto guard = MakeGuard(SmallOptions(0));
  const Principal principal = Clinician();
  for (int n = 1; n <= 20; ++n) {
    const std::string ids[] = {"obs-" + std::to_string(n)};
    const std::string patients[] = {PatientId(n)};
    EXPECT_TRUE(guard->Admit(principal, AccessRequest{.operation = Operation::kCreate,
                                                      .resource_type = "Observation",
                                                      .resource_ids = ids,
                                                      .patient_ids = patients}));
  }
}

TEST_P(GuardTest, BytesOverTheBudgetSuspend) {
  auto guard = MakeGuard(SmallOptions(0));  // 1 MiB a minute
  const Principal principal = Clinician();
  ASSERT_TRUE(ReadPatient(*guard, principal, 1));
  EXPECT_TRUE(guard->AdmitBytes(principal, 600 * 1024));
  Status s = guard->AdmitBytes(principal, 600 * 1024);
  ASSERT_FALSE(s);
  EXPECT_THAT(Alerts().at(0).detail, HasSubstr("bytes"));
}

TEST_P(GuardTest, SuspensionEndsTheSessionsAndMarksTheAccountThenReinstatementLiftsIt) {
  AddAccountWithSession("acct-clin");
  auto guard = MakeGuard(SmallOptions(0));
  const Principal principal = Clinician();
  for (int n = 1; n <= 6; ++n) (void)ReadPatient(*guard, principal, n);
  auto account = store_->Transact([&](store::Transaction& tx) -> Status {
    auto got = tx.GetAccount("acct-clin");
    if (!got) return std::unexpected(got.error());
    EXPECT_EQ(got->status, identity::kStatusSuspended);
    auto sessions = tx.ListSessions("acct-clin");
    if (!sessions) return std::unexpected(sessions.error());
    EXPECT_TRUE(sessions->empty());
    return {};
  });
  ASSERT_TRUE(account);

  clock_.Advance(seconds(1));
  auto reinstated = ExfiltrationGuard::Reinstate(*store_, "acct-clin", clock_.Now());
  ASSERT_TRUE(reinstated.has_value()) << reinstated.error().message();
  EXPECT_TRUE(*reinstated);
  ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
    auto got = tx.GetAccount("acct-clin");
    if (!got) return std::unexpected(got.error());
    EXPECT_EQ(got->status, identity::kStatusActive);
    return {};
  }));
  // The same guard (another process's, as far as it knows) lets the account go on, afresh.
  EXPECT_TRUE(ReadPatient(*guard, principal, 7));
  auto again = ExfiltrationGuard::Reinstate(*store_, "acct-clin", clock_.Now());
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
}

TEST_P(GuardTest, TwoGuardsOnOneDatabaseShareTheirCounts) {
  auto first = MakeGuard(SmallOptions(0));
  auto second = MakeGuard(SmallOptions(0));
  const Principal principal = Clinician();
  for (int n = 1; n <= 3; ++n) ASSERT_TRUE(ReadPatient(*first, principal, n));
  for (int n = 4; n <= 5; ++n) ASSERT_TRUE(ReadPatient(*second, principal, n));
  EXPECT_FALSE(ReadPatient(*second, principal, 6));
  // The first learns of the suspension at its next round.
  EXPECT_FALSE(ReadPatient(*first, principal, 7));
}

TEST_P(GuardTest, ParallelAccessesLoseNoCount) {
  ExfiltrationGuard::Options options = SmallOptions(0);
  options.budgets.clinician.patients = {40, 1000, 1000};
  // Two guards, as two processes on one database, four threads each.
  auto first = MakeGuard(options);
  auto second = MakeGuard(options);
  const Principal principal = Clinician();
  std::atomic<int> allowed{0};
  std::atomic<int> next{1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    ExfiltrationGuard& guard = t % 2 == 0 ? *first : *second;
    threads.emplace_back([&] {
      for (int n = next.fetch_add(1); n <= 200; n = next.fetch_add(1)) {
        if (ReadPatient(guard, principal, n)) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 40);
  EXPECT_EQ(Alerts().size(), 1u);
}

TEST_P(GuardTest, ManyParallelAccessesOfOneGuardAreEachJudgedAsIfAlone) {
  // One guard, many threads: their rounds share store transactions, and still exactly the
  // budget is allowed before the account is suspended.
  ExfiltrationGuard::Options options = SmallOptions(0);
  options.budgets.clinician.patients = {60, 1000, 1000};
  auto guard = MakeGuard(options);
  const Principal principal = Clinician();
  std::atomic<int> allowed{0};
  std::atomic<int> next{1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      for (int n = next.fetch_add(1); n <= 300; n = next.fetch_add(1)) {
        if (ReadPatient(*guard, principal, n)) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 60);
  EXPECT_EQ(Alerts().size(), 1u);
}

TEST_P(GuardTest, AccessesUnderNoPatientBudgetAreStillCountedForAGuardWithOne) {
  ExfiltrationGuard::Options unlimited = SmallOptions(0);
  unlimited.budgets.clinician.patients = {0, 0, 0};
  auto first = MakeGuard(unlimited);
  auto second = MakeGuard(SmallOptions(0));  // 5 patients a minute
  const Principal principal = Clinician();
  for (int n = 1; n <= 8; ++n) ASSERT_TRUE(ReadPatient(*first, principal, n));
  // The second process reads the 8 patients the first recorded: the 9th is over its budget.
  const Status refused = ReadPatient(*second, principal, 9);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Backends, GuardTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(GuardLimits, ParseReplacesTheNamedMetricsAndKeepsTheOthers) {
  const GuardLimits base = DefaultGuardBudgets().clinician;
  auto limits = ParseGuardLimits("patients 3/4/5, bytes 1K/2M/3G", base);
  ASSERT_TRUE(limits.has_value()) << limits.error().message();
  EXPECT_EQ(limits->patients, (std::array<std::int64_t, 3>{3, 4, 5}));
  EXPECT_EQ(limits->bytes, (std::array<std::int64_t, 3>{1024, 2 << 20, std::int64_t{3} << 30}));
  EXPECT_EQ(limits->records, base.records);
  EXPECT_EQ(limits->breadth, base.breadth);
  auto back = ParseGuardLimits(GuardLimitsText(*limits), GuardLimits{});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(GuardLimitsText(*back), GuardLimitsText(*limits));
}

TEST(GuardLimits, BadBudgetsSayWhatIsWrong) {
  for (std::string_view text : {"patients 3/4", "patients 3/4/5/6", "visits 1/2/3",
                                "patients a/b/c", "breadth -1", "bytes 1T/2/3"}) {
    auto limits = ParseGuardLimits(text, GuardLimits{});
    ASSERT_FALSE(limits.has_value()) << text;
    EXPECT_EQ(limits.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(limits.error().message(), HasSubstr("guard budget")) << text;
  }
}

TEST(GuardLimits, TheDefaultsStopAStolenClinicianWithinFiftyPatients) {
  const GuardLimits clinician = DefaultGuardBudgets().clinician;
  EXPECT_LE(clinician.patients[0], 50);
  EXPECT_LE(clinician.breadth, 50);
}

}  // namespace
}  // namespace medvault::policy
