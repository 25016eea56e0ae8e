// Conformance of the identity tables (migration 004_identity) on SQLite and on the real
// PostgreSQL 15 cluster of the ctest fixture "pg". Each test gets a fresh database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "test_cluster.h"

namespace medvault::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Timestamp At(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

Bytes Hash(std::uint8_t fill) { return Bytes(32, fill); }

Account MakeAccount(std::string id, std::string login, std::string kind = "clinician") {
  return Account{std::move(id), std::move(login), std::move(kind), "active", "Dr A", "",
                 At(1000),      At(1000)};
}

Credential MakeCredential(std::string id, std::string account, std::string kind,
                          Bytes external_id = {}) {
  Credential c;
  c.id = std::move(id);
  c.account_id = std::move(account);
  c.kind = std::move(kind);
  c.material = {1, 2, 3};
  c.external_id = std::move(external_id);
  c.counter = 10;
  c.algorithm = -7;
  c.created_at = At(1000);
  return c;
}

SessionRecord MakeSession(std::uint8_t fill, std::string id, std::string account) {
  SessionRecord s;
  s.token_hash = Hash(fill);
  s.id = std::move(id);
  s.account_id = std::move(account);
  s.stage = SessionStage::kSession;
  s.created_at = At(2000);
  s.last_seen_at = At(2001);
  s.expires_at = At(2000 + 12 * 3600);
  s.second_factor_at = At(2000);
  s.challenge = {9, 9};
  s.user_agent = "Chrome on Linux";
  s.source = "127.0.0.1";
  return s;
}

class IdentityStore : public StoreBackendTest {};

TEST_P(IdentityStore, MigrationFourIsRecorded) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_NE(std::ranges::find(*applied, 4), applied->end());
}

TEST_P(IdentityStore, AccountsAreFoundByIdAndLoginAndLoginsAreUnique) {
  Account a = MakeAccount("acc-1", "alice");
  a.patient_id = "";
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertAccount(a); }));

  auto by_id = One<Account>([](Transaction& tx) { return tx.GetAccount("acc-1"); });
  ASSERT_TRUE(by_id.has_value()) << by_id.error().message();
  EXPECT_EQ(by_id->login, "alice");
  EXPECT_EQ(by_id->kind, "clinician");
  EXPECT_EQ(by_id->status, "active");
  EXPECT_EQ(by_id->display_name, "Dr A");
  EXPECT_EQ(by_id->created_at, At(1000));

  auto by_login = One<Account>([](Transaction& tx) { return tx.GetAccountByLogin("alice"); });
  ASSERT_TRUE(by_login.has_value());
  EXPECT_EQ(by_login->id, "acc-1");

  Account same_login = MakeAccount("acc-2", "alice");
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.InsertAccount(same_login); }).error().code(),
            ErrorCode::kAlreadyExists);
  Account same_id = MakeAccount("acc-1", "bob");
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.InsertAccount(same_id); }).error().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(
      One<Account>([](Transaction& tx) { return tx.GetAccountByLogin("Alice"); }).error().code(),
      ErrorCode::kNotFound)
      << "logins compare bytewise; identity folds case before the store";
}

TEST_P(IdentityStore, AccountStatusChanges) {
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.InsertAccount(MakeAccount("a", "a")); }));
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.SetAccountStatus("a", "disabled", At(5000)); }));
  auto got = One<Account>([](Transaction& tx) { return tx.GetAccount("a"); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, "disabled");
  EXPECT_EQ(got->updated_at, At(5000));
  EXPECT_EQ(
      Tx([](Transaction& tx) { return tx.SetAccountStatus("zz", "active", At(1)); }).error().code(),
      ErrorCode::kNotFound);
}

TEST_P(IdentityStore, CredentialsAreListedAndPasskeysFoundByTheirId) {
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.InsertAccount(MakeAccount("a", "a")); }));
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertCredential(MakeCredential("c1", "a", "password")); !s) return s;
    if (auto s = tx.InsertCredential(MakeCredential("c2", "a", "passkey", Bytes{7, 7})); !s) {
      return s;
    }
    return tx.InsertCredential(MakeCredential("c3", "a", "recovery_code"));
  }));
  auto list = One<std::vector<Credential>>([](Transaction& tx) { return tx.ListCredentials("a"); });
  ASSERT_TRUE(list.has_value()) << list.error().message();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "c1");
  EXPECT_EQ((*list)[0].material, (Bytes{1, 2, 3}));

  const Bytes external{7, 7};
  auto passkey = One<Credential>([&](Transaction& tx) { return tx.GetPasskey(external); });
  ASSERT_TRUE(passkey.has_value());
  EXPECT_EQ(passkey->id, "c2");
  EXPECT_EQ(passkey->algorithm, -7);
  EXPECT_EQ(passkey->counter, 10);

  EXPECT_EQ(Tx([](Transaction& tx) {
              return tx.InsertCredential(MakeCredential("c4", "a", "passkey", Bytes{7, 7}));
            })
                .error()
                .code(),
            ErrorCode::kAlreadyExists)
      << "a passkey credential id belongs to one credential";
  const Bytes unknown{1};
  EXPECT_EQ(One<Credential>([&](Transaction& tx) { return tx.GetPasskey(unknown); }).error().code(),
            ErrorCode::kNotFound);
}

TEST_P(IdentityStore, CounterOnlyMovesForwardSoACodeIsAcceptedOnce) {
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertAccount(MakeAccount("a", "a")); !s) return s;
    return tx.InsertCredential(MakeCredential("totp", "a", "totp"));
  }));
  EXPECT_TRUE(Tx([](Transaction& tx) { return tx.AdvanceCredentialCounter("totp", 11); }));
  EXPECT_EQ(
      Tx([](Transaction& tx) { return tx.AdvanceCredentialCounter("totp", 11); }).error().code(),
      ErrorCode::kConflict)
      << "the same step twice is a replay";
  EXPECT_EQ(
      Tx([](Transaction& tx) { return tx.AdvanceCredentialCounter("totp", 5); }).error().code(),
      ErrorCode::kConflict);
  EXPECT_EQ(
      Tx([](Transaction& tx) { return tx.AdvanceCredentialCounter("gone", 50); }).error().code(),
      ErrorCode::kNotFound);
  auto list = One<std::vector<Credential>>([](Transaction& tx) { return tx.ListCredentials("a"); });
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->front().counter, 11);
}

TEST_P(IdentityStore, MaterialIsReplacedAndCredentialsDeletedByIdOrKind) {
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertAccount(MakeAccount("a", "a")); !s) return s;
    if (auto s = tx.InsertCredential(MakeCredential("p", "a", "password")); !s) return s;
    if (auto s = tx.InsertCredential(MakeCredential("r1", "a", "recovery_code")); !s) return s;
    return tx.InsertCredential(MakeCredential("r2", "a", "recovery_code"));
  }));
  const Bytes rehashed{4, 5, 6, 7};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.ReplaceCredentialMaterial("p", rehashed); }));
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.DeleteCredential("r1"); }));
  EXPECT_EQ(Tx([](Transaction& tx) { return tx.DeleteCredential("r1"); }).error().code(),
            ErrorCode::kNotFound)
      << "a used recovery code is gone";
  auto removed =
      One<std::int64_t>([](Transaction& tx) { return tx.DeleteCredentials("a", "recovery_code"); });
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(*removed, 1);
  auto list = One<std::vector<Credential>>([](Transaction& tx) { return tx.ListCredentials("a"); });
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().material, rehashed);
  auto all = One<std::int64_t>([](Transaction& tx) { return tx.DeleteCredentials("a", ""); });
  EXPECT_EQ(*all, 1);
}

TEST_P(IdentityStore, SessionsAreKeyedByTokenHashAndEndedOneOrAll) {
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertAccount(MakeAccount("a", "a")); !s) return s;
    if (auto s = tx.InsertAccount(MakeAccount("b", "b")); !s) return s;
    if (auto s = tx.InsertSession(MakeSession(1, "s1", "a")); !s) return s;
    if (auto s = tx.InsertSession(MakeSession(2, "s2", "a")); !s) return s;
    return tx.InsertSession(MakeSession(3, "s3", "b"));
  }));
  const Bytes one = Hash(1);
  auto got = One<SessionRecord>([&](Transaction& tx) { return tx.GetSession(one); });
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->id, "s1");
  EXPECT_EQ(got->stage, SessionStage::kSession);
  EXPECT_EQ(got->last_seen_at, At(2001));
  EXPECT_EQ(got->challenge, (Bytes{9, 9}));
  EXPECT_EQ(got->user_agent, "Chrome on Linux");
  EXPECT_EQ(got->source, "127.0.0.1");

  EXPECT_EQ(Tx([](Transaction& tx) { return tx.InsertSession(MakeSession(1, "s9", "a")); })
                .error()
                .code(),
            ErrorCode::kAlreadyExists);

  SessionRecord touched = *got;
  touched.last_seen_at = At(3000);
  touched.second_factor_at = At(2999);
  touched.challenge.clear();
  touched.stage = SessionStage::kPendingSecondFactor;
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.UpdateSession(touched); }));
  got = One<SessionRecord>([&](Transaction& tx) { return tx.GetSession(one); });
  EXPECT_EQ(got->last_seen_at, At(3000));
  EXPECT_EQ(got->second_factor_at, At(2999));
  EXPECT_THAT(got->challenge, IsEmpty());
  EXPECT_EQ(got->stage, SessionStage::kPendingSecondFactor);

  EXPECT_EQ(Tx([](Transaction& tx) { return tx.DeleteSessionById("a", "s3"); }).error().code(),
            ErrorCode::kNotFound)
      << "an account cannot end another account's session";
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.DeleteSessionById("a", "s2"); }));
  auto listed =
      One<std::vector<SessionRecord>>([](Transaction& tx) { return tx.ListSessions("a"); });
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, "s1");

  auto ended = One<std::int64_t>([](Transaction& tx) { return tx.DeleteSessions("a"); });
  EXPECT_EQ(*ended, 1);
  EXPECT_EQ(One<SessionRecord>([&](Transaction& tx) { return tx.GetSession(one); }).error().code(),
            ErrorCode::kNotFound);
  const Bytes three = Hash(3);
  EXPECT_TRUE(One<SessionRecord>([&](Transaction& tx) { return tx.GetSession(three); }));
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.DeleteSession(three); }).has_value(), true);
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.DeleteSession(three); }).error().code(),
            ErrorCode::kNotFound);
}

TEST_P(IdentityStore, ExpiredSessionsAreForgotten) {
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertAccount(MakeAccount("a", "a")); !s) return s;
    SessionRecord early = MakeSession(1, "s1", "a");
    early.expires_at = At(2500);
    if (auto s = tx.InsertSession(early); !s) return s;
    return tx.InsertSession(MakeSession(2, "s2", "a"));
  }));
  auto forgotten =
      One<std::int64_t>([](Transaction& tx) { return tx.DeleteExpiredSessions(At(2500)); });
  EXPECT_EQ(*forgotten, 1);
  auto listed =
      One<std::vector<SessionRecord>>([](Transaction& tx) { return tx.ListSessions("a"); });
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, "s2");
}

TEST_P(IdentityStore, SessionTokenHashMustBe32Bytes) {
  SessionRecord bad = MakeSession(1, "s", "a");
  bad.token_hash.resize(31);
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.InsertSession(bad); }).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(IdentityStore, ThrottleStartsAtZeroAndIsReplaced) {
  ASSERT_TRUE(Tx([](Transaction& tx) { return tx.InsertAccount(MakeAccount("a", "a")); }));
  auto zero = One<ThrottleState>([](Transaction& tx) { return tx.GetThrottle("a"); });
  ASSERT_TRUE(zero.has_value()) << zero.error().message();
  EXPECT_EQ(zero->consecutive_failures, 0);
  EXPECT_FALSE(zero->disabled);
  EXPECT_EQ(zero->next_allowed_at, Timestamp{});

  ThrottleState state{"a", 6, At(4000), false};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.PutThrottle(state); }));
  state.consecutive_failures = 100;
  state.disabled = true;
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.PutThrottle(state); }));
  auto got = One<ThrottleState>([](Transaction& tx) { return tx.GetThrottle("a"); });
  EXPECT_EQ(got->consecutive_failures, 100);
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->next_allowed_at, At(4000));
}

TEST_P(IdentityStore, OneTimeCodeIsUsableOnceBeforeItExpiresForItsPurposeOnly) {
  OneTimeCode code{Hash(5), "activation", "patient-1", At(1000), At(2000)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertOneTimeCode(code); }));
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.InsertOneTimeCode(code); }).error().code(),
            ErrorCode::kAlreadyExists);
  const Bytes hash = Hash(5);
  auto wrong_purpose = One<OneTimeCode>(
      [&](Transaction& tx) { return tx.ConsumeOneTimeCode(hash, "enrollment", At(1500)); });
  EXPECT_EQ(wrong_purpose.error().code(), ErrorCode::kNotFound);
  auto expired = One<OneTimeCode>(
      [&](Transaction& tx) { return tx.ConsumeOneTimeCode(hash, "activation", At(2000)); });
  EXPECT_EQ(expired.error().code(), ErrorCode::kNotFound) << "expires_at is exclusive";
  auto peeked = One<OneTimeCode>(
      [&](Transaction& tx) { return tx.PeekOneTimeCode(hash, "activation", At(1500)); });
  ASSERT_TRUE(peeked.has_value()) << peeked.error().message();
  EXPECT_EQ(peeked->subject, "patient-1");
  EXPECT_EQ(One<OneTimeCode>(
                [&](Transaction& tx) { return tx.PeekOneTimeCode(hash, "activation", At(2000)); })
                .error()
                .code(),
            ErrorCode::kNotFound);
  auto used = One<OneTimeCode>(
      [&](Transaction& tx) { return tx.ConsumeOneTimeCode(hash, "activation", At(1500)); });
  ASSERT_TRUE(used.has_value()) << used.error().message();
  EXPECT_EQ(used->subject, "patient-1");
  EXPECT_EQ(used->expires_at, At(2000));
  auto again = One<OneTimeCode>(
      [&](Transaction& tx) { return tx.ConsumeOneTimeCode(hash, "activation", At(1501)); });
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound) << "single use";
  EXPECT_EQ(One<OneTimeCode>(
                [&](Transaction& tx) { return tx.PeekOneTimeCode(hash, "activation", At(1501)); })
                .error()
                .code(),
            ErrorCode::kNotFound)
      << "a used code is not found by a peek either";
}

TEST_P(IdentityStore, CodesOfASubjectAreDeletedOnReset) {
  ASSERT_TRUE(Tx([](Transaction& tx) -> Status {
    if (auto s = tx.InsertOneTimeCode({Hash(1), "enrollment", "acc", At(1), At(9000)}); !s) {
      return s;
    }
    return tx.InsertOneTimeCode({Hash(2), "enrollment", "other", At(1), At(9000)});
  }));
  auto removed =
      One<std::int64_t>([](Transaction& tx) { return tx.DeleteOneTimeCodes("acc", "enrollment"); });
  EXPECT_EQ(*removed, 1);
  const Bytes one = Hash(1);
  const Bytes two = Hash(2);
  EXPECT_FALSE(One<OneTimeCode>([&](Transaction& tx) {
                 return tx.ConsumeOneTimeCode(one, "enrollment", At(5));
               }).has_value());
  EXPECT_TRUE(One<OneTimeCode>([&](Transaction& tx) {
                return tx.ConsumeOneTimeCode(two, "enrollment", At(5));
              }).has_value());
}

TEST_P(IdentityStore, ApiClientsJtisAndAccessTokens) {
  ApiClient client{"lab-1", R"({"keys":[]})", "system/Observation.c", "Lab One", At(10)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertApiClient(client); }));
  EXPECT_EQ(Tx([&](Transaction& tx) { return tx.InsertApiClient(client); }).error().code(),
            ErrorCode::kAlreadyExists);
  auto got = One<ApiClient>([](Transaction& tx) { return tx.GetApiClient("lab-1"); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->jwks, R"({"keys":[]})");
  EXPECT_EQ(got->allowed_scopes, "system/Observation.c");
  EXPECT_EQ(got->organization, "Lab One");
  EXPECT_EQ(One<ApiClient>([](Transaction& tx) { return tx.GetApiClient("x"); }).error().code(),
            ErrorCode::kNotFound);

  EXPECT_TRUE(Tx([](Transaction& tx) { return tx.RecordUsedJti("lab-1", "j1", At(300), At(10)); }));
  EXPECT_EQ(Tx([](Transaction& tx) { return tx.RecordUsedJti("lab-1", "j1", At(300), At(20)); })
                .error()
                .code(),
            ErrorCode::kAlreadyExists)
      << "a replayed jti is refused";
  EXPECT_TRUE(Tx([](Transaction& tx) { return tx.RecordUsedJti("lab-2", "j1", At(300), At(20)); }))
      << "jtis are per client";
  EXPECT_TRUE(Tx([](Transaction& tx) { return tx.RecordUsedJti("lab-1", "j1", At(900), At(300)); }))
      << "an expired jti is forgotten (its assertion can no longer be valid)";

  AccessToken token{Hash(8), "lab-1", "system/Observation.c", At(100), At(400)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertAccessToken(token); }));
  const Bytes hash = Hash(8);
  auto live = One<AccessToken>([&](Transaction& tx) { return tx.GetAccessToken(hash, At(399)); });
  ASSERT_TRUE(live.has_value()) << live.error().message();
  EXPECT_EQ(live->client_id, "lab-1");
  EXPECT_EQ(live->scopes, "system/Observation.c");
  EXPECT_EQ(One<AccessToken>([&](Transaction& tx) { return tx.GetAccessToken(hash, At(400)); })
                .error()
                .code(),
            ErrorCode::kNotFound);
  AccessToken later{Hash(9), "lab-1", "", At(500), At(800)};
  ASSERT_TRUE(Tx([&](Transaction& tx) { return tx.InsertAccessToken(later); }));
  EXPECT_EQ(One<AccessToken>([&](Transaction& tx) { return tx.GetAccessToken(hash, At(0)); })
                .error()
                .code(),
            ErrorCode::kNotFound)
      << "expired tokens are forgotten when a new one is stored";
}

TEST_P(IdentityStore, ReadOnlyTransactionRefusesIdentityWrites) {
  Status s = store_->Transact(
      [](Transaction& tx) { return tx.InsertAccount(MakeAccount("a", "a")); }, Access::kReadOnly);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(IdentityStore, RolledBackTransactionLeavesNoAccount) {
  Status s = Tx([](Transaction& tx) -> Status {
    if (auto st = tx.InsertAccount(MakeAccount("a", "a")); !st) return st;
    return Fail(ErrorCode::kInternal, "test: roll back");
  });
  EXPECT_FALSE(s.has_value());
  EXPECT_EQ(One<Account>([](Transaction& tx) { return tx.GetAccount("a"); }).error().code(),
            ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityStore, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::store
