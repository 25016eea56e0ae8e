// Four eyes on staff roles (issue 8), on SQLite and on the PostgreSQL cluster of the fixture
// "pg": a role waits for a second, different, active administrator; it expires; every request
// and decision is an auth event; a reset does not open an account awaiting approval.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/manual_clock.h"
#include "identity/accounts.h"
#include "store/store.h"
#include "store/test_cluster.h"

namespace medvault::identity {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class RecordingEvents final : public AuthEventSink {
 public:
  Status Record(const AuthEvent& event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
    return {};
  }
  // (event, outcome) of every event about `account_id`, in order.
  std::vector<std::pair<std::string, std::string>> About(const std::string& account_id) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const AuthEvent& event : events_) {
      if (event.account_id == account_id) out.emplace_back(event.event, event.outcome);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<AuthEvent> events_;
};

class RoleGrants : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    accounts_ = std::make_unique<Accounts>(*store_, clock_, events_, Accounts::Options{});
  }

  // Administrators created at the bootstrap, then made active as their enrollment would.
  std::vector<std::string> ActiveAdministrators(std::vector<std::string> logins) {
    std::vector<std::string> ids;
    for (const std::string& login : logins) {
      auto created = accounts_->CreateStaff(login, AccountKind::kAdministrator, "Ada", "cli",
                                            RoleApproval::kOperatorBootstrap);
      EXPECT_TRUE(created.has_value()) << created.error().message();
      EXPECT_FALSE(created->pending_grant.has_value());
      ids.push_back(created->account.id);
    }
    for (const std::string& id : ids) {
      EXPECT_TRUE(store_->Transact([&](store::Transaction& tx) {
        return tx.SetAccountStatus(id, kStatusActive, clock_.Now());
      }));
    }
    return ids;
  }
  std::string ActiveAdministrator(const std::string& login) {
    return ActiveAdministrators({login}).front();
  }

  std::string StatusOf(const std::string& login) {
    auto account = accounts_->FindByLogin(login);
    EXPECT_TRUE(account.has_value());
    return account ? account->status : "";
  }

  testing::ManualClock clock_;
  RecordingEvents events_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_P(RoleGrants, TheOperatorGivesRolesAtOnceOnlyWhileNoAdministratorIsActive) {
  auto before = accounts_->CreateStaff("c.martin", AccountKind::kClinician, "Camille", "cli",
                                       RoleApproval::kOperatorBootstrap);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  EXPECT_FALSE(before->pending_grant.has_value());
  EXPECT_EQ(before->account.status, kStatusPendingEnrollment);

  ActiveAdministrator("root.admin");
  auto after = accounts_->CreateStaff("l.bernard", AccountKind::kLabTechnician, "Léa", "cli",
                                      RoleApproval::kOperatorBootstrap);
  ASSERT_TRUE(after.has_value()) << after.error().message();
  ASSERT_TRUE(after->pending_grant.has_value());
  EXPECT_EQ(after->account.status, kStatusPendingApproval);
  EXPECT_EQ(after->pending_grant->kind, "lab_technician");
  EXPECT_EQ(StatusOf("l.bernard"), kStatusPendingApproval);
}

TEST_P(RoleGrants, TheAdminApiAlwaysWaitsForASecondAdministrator) {
  const std::string admin = ActiveAdministrator("root.admin");
  for (AccountKind kind : {AccountKind::kClinician, AccountKind::kLabTechnician,
                           AccountKind::kAdministrator, AccountKind::kAuditor}) {
    const std::string login = "staff." + std::string(AccountKindName(kind));
    auto created = accounts_->CreateStaff(login, kind, "Staff", admin,
                                          RoleApproval::kSecondAdministrator);
    ASSERT_TRUE(created.has_value()) << created.error().message();
    EXPECT_TRUE(created->pending_grant.has_value()) << login;
    EXPECT_EQ(created->account.status, kStatusPendingApproval) << login;
  }
}

TEST_P(RoleGrants, ASecondAdministratorApprovesNotTheRequester) {
  const auto admins = ActiveAdministrators({"root.admin", "second.admin"});
  const std::string& first = admins[0];
  const std::string& second = admins[1];
  auto created = accounts_->CreateStaff("c.martin", AccountKind::kClinician, "Camille", first,
                                        RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(created.has_value());
  const std::string grant = created->pending_grant->id;

  auto own = accounts_->ApproveRoleGrant(grant, first);
  ASSERT_FALSE(own.has_value());
  EXPECT_EQ(own.error().code(), ErrorCode::kPermissionDenied);
  auto by_grantee = accounts_->ApproveRoleGrant(grant, created->account.id);
  ASSERT_FALSE(by_grantee.has_value());
  EXPECT_EQ(by_grantee.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(StatusOf("c.martin"), kStatusPendingApproval);

  auto approved = accounts_->ApproveRoleGrant(grant, second);
  ASSERT_TRUE(approved.has_value()) << approved.error().message();
  EXPECT_EQ(approved->state, kGrantApproved);
  EXPECT_EQ(approved->decided_by, second);
  EXPECT_EQ(StatusOf("c.martin"), kStatusPendingEnrollment);
  auto twice = accounts_->RefuseRoleGrant(grant, second);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(events_.About(created->account.id),
              ElementsAre(Pair("account_created", "success"), Pair("role_requested", "success"),
                          Pair("role_approved", "refused"), Pair("role_approved", "refused"),
                          Pair("role_approved", "success"), Pair("role_refused", "refused")));
}

TEST_P(RoleGrants, OnlyAnActiveAdministratorDecides) {
  const std::string admin = ActiveAdministrator("root.admin");
  auto clinician = accounts_->CreateStaff("c.bootstrap", AccountKind::kClinician, "C", "cli",
                                          RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(clinician.has_value());
  auto created = accounts_->CreateStaff("l.bernard", AccountKind::kLabTechnician, "Léa", admin,
                                        RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(created.has_value());
  // An administrator still waiting for their own approval decides nothing.
  auto waiting = accounts_->CreateStaff("new.admin", AccountKind::kAdministrator, "N", admin,
                                        RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(waiting.has_value());
  for (const std::string& decider :
       {clinician->account.id, waiting->account.id, std::string("cli"), std::string("nobody")}) {
    auto decided = accounts_->ApproveRoleGrant(created->pending_grant->id, decider);
    ASSERT_FALSE(decided.has_value()) << decider;
    EXPECT_EQ(decided.error().code(), ErrorCode::kPermissionDenied) << decider;
  }
  auto unknown = accounts_->ApproveRoleGrant("no-such-grant", admin);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_P(RoleGrants, ARefusedRoleLeavesTheAccountClosedEvenToAReset) {
  const std::string first = ActiveAdministrator("root.admin");
  auto created = accounts_->CreateStaff("c.martin", AccountKind::kClinician, "Camille", first,
                                        RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(created.has_value());
  auto reset = accounts_->ResetEnrollment("c.martin", first);
  ASSERT_FALSE(reset.has_value());
  EXPECT_EQ(reset.error().code(), ErrorCode::kConflict);
  auto refused = accounts_->RefuseRoleGrant(created->pending_grant->id, first);
  ASSERT_TRUE(refused.has_value()) << "the requester may withdraw";
  EXPECT_EQ(refused->state, kGrantRefused);
  EXPECT_EQ(StatusOf("c.martin"), kStatusPendingApproval);
  EXPECT_FALSE(accounts_->ResetEnrollment("c.martin", first).has_value());
}

TEST_P(RoleGrants, APendingGrantExpiresAndIsNoLongerListed) {
  const auto admins = ActiveAdministrators({"root.admin", "second.admin"});
  const std::string& first = admins[0];
  const std::string& second = admins[1];
  auto created = accounts_->CreateStaff("c.martin", AccountKind::kClinician, "Camille", first,
                                        RoleApproval::kSecondAdministrator);
  ASSERT_TRUE(created.has_value());
  auto listed = accounts_->ListPendingRoleGrants(10);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, created->pending_grant->id);

  clock_.Advance(Accounts::Options{}.role_grant_ttl);
  listed = accounts_->ListPendingRoleGrants(10);
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->empty());
  auto late = accounts_->ApproveRoleGrant(created->pending_grant->id, second);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(StatusOf("c.martin"), kStatusPendingApproval);
  std::optional<store::RoleGrant> stored;
  ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
    auto grant = tx.GetRoleGrant(created->pending_grant->id);
    if (!grant) return std::unexpected(grant.error());
    stored = *grant;
    return {};
  }));
  EXPECT_EQ(stored->state, kGrantExpired);
}

INSTANTIATE_TEST_SUITE_P(Backends, RoleGrants, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::identity
