#include "identity/throttle.h"

#include <gtest/gtest.h>

#include "identity/tokens.h"

namespace medvault::identity {
namespace {

Timestamp At(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

TEST(AccountThrottle, FiveFailuresAreFreeThenTheDelayDoublesUpToTheCap) {
  AccountThrottlePolicy policy;
  store::ThrottleState state{"a", 0, Timestamp{}, false};
  for (int i = 0; i < 5; ++i) {
    state = AfterFailure(state, At(100), policy);
    EXPECT_EQ(CheckAttempt(state, At(100)), AttemptVerdict::kAllowed) << i;
  }
  state = AfterFailure(state, At(100), policy);  // 6th
  EXPECT_EQ(CheckAttempt(state, At(100)), AttemptVerdict::kWait);
  EXPECT_EQ(state.next_allowed_at, At(101));
  state = AfterFailure(state, At(200), policy);  // 7th
  EXPECT_EQ(state.next_allowed_at, At(202));
  state = AfterFailure(state, At(300), policy);  // 8th
  EXPECT_EQ(state.next_allowed_at, At(304));
  for (int i = 0; i < 40; ++i) state = AfterFailure(state, At(1000), policy);
  EXPECT_EQ(state.next_allowed_at, At(1000 + 15 * 60)) << "capped at 15 minutes";
  EXPECT_FALSE(state.disabled);
}

TEST(AccountThrottle, HundredConsecutiveFailuresDisableTheAccount) {
  AccountThrottlePolicy policy;
  store::ThrottleState state{"a", 0, Timestamp{}, false};
  for (int i = 0; i < 99; ++i) state = AfterFailure(state, At(0), policy);
  EXPECT_FALSE(state.disabled);
  state = AfterFailure(state, At(0), policy);
  EXPECT_TRUE(state.disabled);
  EXPECT_EQ(CheckAttempt(state, At(1'000'000'000)), AttemptVerdict::kDisabled)
      << "only an administrator's reset lifts it, not time";
}

TEST(SourceThrottle, BurstThenRefillAtTheSustainedRate) {
  SourceThrottle throttle({.capacity = 3, .refill_per_second = 0.5, .max_sources = 10});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(throttle.Take("10.0.0.1", At(0)).count(), 0);
  EXPECT_EQ(throttle.Take("10.0.0.1", At(0)).count(), 2) << "one token every 2 seconds";
  EXPECT_EQ(throttle.Take("10.0.0.2", At(0)).count(), 0) << "buckets are per source";
  EXPECT_EQ(throttle.Take("10.0.0.1", At(2)).count(), 0);
  EXPECT_GT(throttle.Take("10.0.0.1", At(2)).count(), 0);
}

TEST(SourceThrottle, ForgettingSourcesOnlyFavoursThem) {
  SourceThrottle throttle({.capacity = 1, .refill_per_second = 1, .max_sources = 2});
  EXPECT_EQ(throttle.Take("a", At(0)).count(), 0);
  EXPECT_EQ(throttle.Take("b", At(0)).count(), 0);
  EXPECT_EQ(throttle.Take("c", At(0)).count(), 0);
  EXPECT_EQ(throttle.Take("d", At(0)).count(), 0);
}

TEST(StuffingDetector, AlertsOncePerWindowWhenOneSourceTriesManyAccounts) {
  StuffingDetector detector({.distinct_accounts = 3, .window = std::chrono::seconds(600)});
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "a", At(0)));
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "a", At(1))) << "same account twice";
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "b", At(2)));
  EXPECT_FALSE(detector.RecordUnfinished("5.6.7.8", "c", At(2))) << "another source";
  EXPECT_TRUE(detector.RecordUnfinished("1.2.3.4", "c", At(3)));
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "d", At(4))) << "one alert per window";
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "a", At(700)));
  EXPECT_FALSE(detector.RecordUnfinished("1.2.3.4", "b", At(701)));
  EXPECT_TRUE(detector.RecordUnfinished("1.2.3.4", "c", At(702))) << "a new window alerts again";
}

TEST(StuffingDetector, FinishedLoginsDoNotCount) {
  StuffingDetector detector({.distinct_accounts = 2, .window = std::chrono::seconds(600)});
  EXPECT_FALSE(detector.RecordUnfinished("s", "a", At(0)));
  detector.RecordFinished("s", "a");
  EXPECT_FALSE(detector.RecordUnfinished("s", "b", At(1)));
  EXPECT_TRUE(detector.RecordUnfinished("s", "c", At(2)));
}

TEST(Tokens, SessionTokensAre256BitsAndOnlyTheirHashIsKept) {
  auto a = NewToken();
  auto b = NewToken();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->text.view().size(), 43u) << "32 bytes in unpadded base64url";
  EXPECT_NE(a->text.view(), b->text.view());
  EXPECT_EQ(a->hash, Sha256(a->text.view()));
  EXPECT_EQ(a->hash.size(), kTokenHashBytes);
}

TEST(Tokens, OneTimeCodesForgiveCaseDashesAndLookAlikes) {
  auto code = NewOneTimeCode();
  ASSERT_TRUE(code);
  const std::string shown(code->text.view());
  ASSERT_EQ(shown.size(), 19u);
  EXPECT_EQ(shown[4], '-');
  EXPECT_EQ(HashTypedOneTimeCode(shown), code->hash);
  std::string typed;
  for (char c : shown) {
    if (c == '-') continue;
    typed.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  EXPECT_EQ(HashTypedOneTimeCode(typed), code->hash);
  EXPECT_EQ(HashTypedOneTimeCode("0000 1111 1111 3333"),
            HashTypedOneTimeCode("OOOO-IIII-LLLL-3333"));
  EXPECT_FALSE(HashTypedOneTimeCode("short"));
  EXPECT_FALSE(HashTypedOneTimeCode("UUUU-UUUU-UUUU-UUUU")) << "U is not Crockford base32";
}

}  // namespace
}  // namespace medvault::identity
