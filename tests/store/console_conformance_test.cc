// Conformance of the security console's tables (migration 011_console) on SQLite and on the
// real PostgreSQL 15 cluster of the ctest fixture "pg": accounts listed by login with their
// last full login and factor kinds under every filter, an alert's first acknowledgement kept,
// a disabled API client remembered. Each test gets a fresh database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store.h"
#include "test_cluster.h"

namespace medvault::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Timestamp At(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

Account MakeAccount(std::string id, std::string login, std::string kind, std::string status) {
  return Account{std::move(id), std::move(login), std::move(kind), std::move(status), "Name", "",
                 At(1000),      At(1000)};
}

Credential MakeCredential(std::string id, std::string account, std::string kind) {
  Credential c;
  c.id = std::move(id);
  c.account_id = std::move(account);
  c.kind = std::move(kind);
  c.material = {1, 2, 3};
  c.created_at = At(1000);
  return c;
}

// A query with `kind`, `status_prefix`, `login_prefix`, after `after_login`, at most `limit`.
AccountQuery Where(std::string kind, std::string status, std::string login, std::string after = "",
                   std::size_t limit = 50) {
  AccountQuery query;
  query.kind = std::move(kind);
  query.status_prefix = std::move(status);
  query.login_prefix = std::move(login);
  query.after_login = std::move(after);
  query.limit = limit;
  return query;
}

class ConsoleStore : public StoreBackendTest {
 protected:
  void Accounts() {
    ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
      for (const Account& a : {MakeAccount("a1", "c.martin", "clinician", "active"),
                               MakeAccount("a2", "c.dubois", "clinician", "pending_approval"),
                               MakeAccount("a3", "root.admin", "administrator", "active"),
                               MakeAccount("a4", "l.roux", "lab_technician", "pending_enrollment"),
                               MakeAccount("a5", "c.morel", "clinician", "disabled")}) {
        if (auto s = tx.InsertAccount(a); !s) return s;
      }
      for (const Credential& c :
           {MakeCredential("k1", "a1", "password"), MakeCredential("k2", "a1", "totp"),
            MakeCredential("k3", "a1", "recovery_code"),
            MakeCredential("k4", "a1", "recovery_code"), MakeCredential("k5", "a3", "passkey")}) {
        if (auto s = tx.InsertCredential(c); !s) return s;
      }
      return tx.SetAccountLastLogin("a1", At(5000));
    }));
  }

  std::vector<std::string> Logins(const AccountQuery& query) {
    auto page =
        One<std::vector<AccountSummary>>([&](Transaction& tx) { return tx.ListAccounts(query); });
    EXPECT_TRUE(page.has_value()) << page.error().message();
    std::vector<std::string> logins;
    if (page) {
      for (const AccountSummary& row : *page) logins.push_back(row.account.login);
    }
    return logins;
  }
};

TEST_P(ConsoleStore, MigrationElevenIsRecorded) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(*applied, ::testing::Contains(11));
}

TEST_P(ConsoleStore, AccountsComeByLoginWithTheirLastLoginAndDistinctFactorKinds) {
  Accounts();
  auto page = One<std::vector<AccountSummary>>([](Transaction& tx) { return tx.ListAccounts({}); });
  ASSERT_TRUE(page.has_value()) << page.error().message();
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].account.login, "c.dubois");
  const AccountSummary& martin = (*page)[1];
  EXPECT_EQ(martin.account.login, "c.martin");
  EXPECT_EQ(martin.last_login_at, At(5000));
  EXPECT_THAT(martin.factor_kinds, ElementsAre("password", "recovery_code", "totp"));
  EXPECT_EQ((*page)[0].last_login_at, Timestamp{}) << "never logged in";
  EXPECT_THAT((*page)[0].factor_kinds, IsEmpty());
  EXPECT_THAT((*page)[4].factor_kinds, ElementsAre("passkey"));
}

TEST_P(ConsoleStore, AccountFiltersCombineAndPagesFollowTheLogin) {
  Accounts();
  EXPECT_THAT(Logins(Where("clinician", "", "")), ElementsAre("c.dubois", "c.martin", "c.morel"));
  EXPECT_THAT(Logins(Where("", "pending", "")), ElementsAre("c.dubois", "l.roux"));
  EXPECT_THAT(Logins(Where("", "active", "")), ElementsAre("c.martin", "root.admin"));
  EXPECT_THAT(Logins(Where("clinician", "disabled", "")), ElementsAre("c.morel"));
  EXPECT_THAT(Logins(Where("", "", "c.m")), ElementsAre("c.martin", "c.morel"));
  EXPECT_THAT(Logins(Where("", "", "zz")), IsEmpty());
  EXPECT_THAT(Logins(Where("", "", "", "", 2)), ElementsAre("c.dubois", "c.martin"));
  EXPECT_THAT(Logins(Where("", "", "", "c.martin", 2)), ElementsAre("c.morel", "l.roux"));
  EXPECT_THAT(Logins(Where("", "", "", "root.admin")), IsEmpty());
  auto zero = One<std::vector<AccountSummary>>(
      [](Transaction& tx) { return tx.ListAccounts(Where("", "", "", "", 0)); });
  EXPECT_EQ(zero.error().code(), ErrorCode::kInvalidArgument);
  auto unknown = Tx([](Transaction& tx) { return tx.SetAccountLastLogin("nobody", At(1)); });
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST_P(ConsoleStore, AnAlertKeepsItsFirstAcknowledgement) {
  auto first_id = store_->InsertAlert({0, At(100), "canary_touched", "account/a1", "a canary"});
  auto second_id = store_->InsertAlert({0, At(200), "break_the_glass", "account/a2", "glass"});
  ASSERT_TRUE(first_id.has_value() && second_id.has_value());
  auto first = One<AlertAck>([&](Transaction& tx) {
    return tx.AcknowledgeAlert({*second_id, "auditor-1", At(300)});
  });
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->acknowledged_by, "auditor-1");
  auto again = One<AlertAck>([&](Transaction& tx) {
    return tx.AcknowledgeAlert({*second_id, "admin-1", At(400)});
  });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->acknowledged_by, "auditor-1");
  EXPECT_EQ(again->acknowledged_at, At(300));
  auto missing = One<AlertAck>([](Transaction& tx) {
    return tx.AcknowledgeAlert({999, "x", At(1)});
  });
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto acks =
      One<std::vector<AlertAck>>([&](Transaction& tx) { return tx.ListAlertAcks(0, *second_id); });
  ASSERT_TRUE(acks.has_value());
  ASSERT_EQ(acks->size(), 1u);
  EXPECT_EQ(acks->front().alert_id, *second_id);
  auto before =
      One<std::vector<AlertAck>>([&](Transaction& tx) { return tx.ListAlertAcks(0, *first_id); });
  ASSERT_TRUE(before.has_value());
  EXPECT_THAT(*before, IsEmpty());
}

TEST_P(ConsoleStore, ADisabledApiClientStaysDisabled) {
  ASSERT_TRUE(Tx([](Transaction& tx) {
    return tx.InsertApiClient({"lab-feed", R"({"keys":[]})", "system/Patient.rs", "", At(1)});
  }));
  auto before = One<bool>([](Transaction& tx) { return tx.IsApiClientDisabled("lab-feed"); });
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(*before);
  ASSERT_TRUE(
      Tx([](Transaction& tx) { return tx.DisableApiClient("lab-feed", "admin-1", At(2)); }));
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.DisableApiClient("lab-feed", "admin-2", At(3)); }))
      << "disabling twice keeps it disabled";
  auto after = One<bool>([](Transaction& tx) { return tx.IsApiClientDisabled("lab-feed"); });
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(*after);
  auto unknown =
      Tx([](Transaction& tx) { return tx.DisableApiClient("no-such", "admin-1", At(2)); });
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsoleStore, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::store
