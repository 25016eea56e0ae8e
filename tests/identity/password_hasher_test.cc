#include "identity/password_hasher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace medvault::identity {
namespace {

// Tests run at the production floor itself (64 MiB, 2 passes): no cheaper test-only cost.
std::unique_ptr<PasswordHasher> MakeHasher(PasswordHasher::Options options = {}) {
  auto hasher = PasswordHasher::Create(options);
  EXPECT_TRUE(hasher) << hasher.error().message();
  return hasher ? std::move(*hasher) : nullptr;
}

PasswordHasher::Options Pool(std::size_t threads, std::size_t max_pending) {
  PasswordHasher::Options options;
  options.threads = threads;
  options.max_pending = max_pending;
  return options;
}

Secret Password(std::string_view text) {
  auto secret = Secret::CopyOf({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  EXPECT_TRUE(secret);
  return std::move(*secret);
}

Result<std::string> HashOn(PasswordHasher& hasher, std::string_view password) {
  std::promise<Result<std::string>> result;
  hasher.Hash(Password(password), [&](Result<std::string> hash) { result.set_value(hash); });
  return result.get_future().get();
}

Result<PasswordHasher::Verdict> VerifyOn(PasswordHasher& hasher, const std::string& encoded,
                                         std::string_view password) {
  std::promise<Result<PasswordHasher::Verdict>> result;
  hasher.Verify(encoded, Password(password),
                [&](Result<PasswordHasher::Verdict> verdict) { result.set_value(verdict); });
  return result.get_future().get();
}

TEST(PasswordHasher, HashesToArgon2idPhcStringAtTheFloorWithoutPlaintext) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  const std::string_view password = "correct horse battery staple";
  auto hash = HashOn(*hasher, password);
  ASSERT_TRUE(hash) << hash.error().message();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << *hash;
  EXPECT_EQ(hash->find(password), std::string::npos);
  EXPECT_EQ(hash->find("correct"), std::string::npos);
  // A fresh salt each time: the same password never gives the same string.
  auto again = HashOn(*hasher, password);
  ASSERT_TRUE(again);
  EXPECT_NE(*hash, *again);
}

TEST(PasswordHasher, VerifiesTheRightPasswordAndRefusesAWrongOne) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  auto hash = HashOn(*hasher, "Hélène aime les crêpes au sarrasin");
  ASSERT_TRUE(hash);

  auto right = VerifyOn(*hasher, *hash, "Hélène aime les crêpes au sarrasin");
  ASSERT_TRUE(right) << right.error().message();
  EXPECT_TRUE(right->match);
  EXPECT_FALSE(right->needs_rehash);

  for (std::string_view wrong :
       {"Helene aime les crepes au sarrasin", "Hélène aime les crêpes au sarrasin ", "", "h"}) {
    auto verdict = VerifyOn(*hasher, *hash, wrong);
    ASSERT_TRUE(verdict) << wrong;
    EXPECT_FALSE(verdict->match) << wrong;
  }
}

TEST(PasswordHasher, BlockingFormsAgreeWithThePool) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  auto hash = hasher->HashNow(Password("le chat mange des croquettes"));
  ASSERT_TRUE(hash);
  auto pooled = VerifyOn(*hasher, *hash, "le chat mange des croquettes");
  ASSERT_TRUE(pooled);
  EXPECT_TRUE(pooled->match);
  auto direct = hasher->VerifyNow(*hash, Password("le chien mange des croquettes"));
  ASSERT_TRUE(direct);
  EXPECT_FALSE(direct->match);
}

TEST(PasswordHasher, ReportsRehashWhenTheCostChanges) {
  auto old_cost = MakeHasher();
  ASSERT_TRUE(old_cost);
  auto hash = HashOn(*old_cost, "mon vélo est bleu et rapide");
  ASSERT_TRUE(hash);

  auto new_cost = MakeHasher({.cost = {.memory_kib = 65536, .iterations = 3}});
  ASSERT_TRUE(new_cost);
  auto verdict = VerifyOn(*new_cost, *hash, "mon vélo est bleu et rapide");
  ASSERT_TRUE(verdict);
  EXPECT_TRUE(verdict->match);  // the old hash still opens: its parameters travel with it
  EXPECT_TRUE(verdict->needs_rehash);

  auto rehashed = HashOn(*new_cost, "mon vélo est bleu et rapide");
  ASSERT_TRUE(rehashed);
  EXPECT_TRUE(rehashed->starts_with("$argon2id$v=19$m=65536,t=3,p=1$")) << *rehashed;
  auto after = VerifyOn(*new_cost, *rehashed, "mon vélo est bleu et rapide");
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->match);
  EXPECT_FALSE(after->needs_rehash);
}

TEST(PasswordHasher, RefusesACostBelowTheFloorAndBadOptions) {
  for (const PasswordHasher::Options& options : std::vector<PasswordHasher::Options>{
           {.cost = {.memory_kib = 65535, .iterations = 2}},
           {.cost = {.memory_kib = 19456, .iterations = 2}},  // OWASP's minimum: not enough here
           {.cost = {.memory_kib = 65536, .iterations = 1}},
           Pool(0, 32),
           Pool(2, 0),
       }) {
    auto hasher = PasswordHasher::Create(options);
    ASSERT_FALSE(hasher);
    EXPECT_EQ(hasher.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(PasswordHasher, DummyVerificationNeverMatches) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  for (std::string_view password : {"", "password", "correct horse battery staple"}) {
    std::promise<Result<PasswordHasher::Verdict>> result;
    hasher->VerifyDummy(Password(password), [&](Result<PasswordHasher::Verdict> verdict) {
      result.set_value(verdict);
    });
    auto verdict = result.get_future().get();
    ASSERT_TRUE(verdict) << verdict.error().message();
    EXPECT_FALSE(verdict->match);
    EXPECT_FALSE(verdict->needs_rehash);
  }
}

TEST(PasswordHasher, RefusesStoredHashesItCouldNotHaveWritten) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  auto good = HashOn(*hasher, "une phrase de passe assez longue");
  ASSERT_TRUE(good);
  std::string argon2i = *good;
  argon2i.replace(0, 10, "$argon2i$");
  for (const std::string& stored :
       {std::string(), std::string("plaintext"), argon2i,
        std::string("$argon2id$v=19$m=4194305,t=2,p=1$c2FsdA$aGFzaA"),
        std::string("$argon2id$v=19$m=65536,t=2,p=4$c2FsdA$aGFzaA"), std::string(200, 'a')}) {
    auto verdict = VerifyOn(*hasher, stored, "une phrase de passe assez longue");
    ASSERT_FALSE(verdict) << stored;
    EXPECT_EQ(verdict.error().code(), ErrorCode::kDataLoss) << stored;
  }
}

// The pool's one thread is held inside a job's `done` (which runs on the pool thread), so the
// queue state is exact: max_pending more jobs wait, the next is refused at once.
TEST(PasswordHasher, RefusesWorkAtOnceWhenMaxPendingJobsWait) {
  auto hasher = MakeHasher(Pool(1, 2));
  ASSERT_TRUE(hasher);

  std::promise<void> busy, release;
  std::shared_future<void> released = release.get_future().share();
  hasher->Hash(Password("first password, holds the thread"), [&](Result<std::string> hash) {
    EXPECT_TRUE(hash);
    busy.set_value();
    released.wait();
  });
  busy.get_future().wait();  // the only worker is now inside the first job

  std::promise<void> second_done, third_done;
  hasher->Hash(Password("second"), [&](Result<std::string> hash) {
    EXPECT_TRUE(hash);
    second_done.set_value();
  });
  hasher->Verify("$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", Password("third"),
                 [&](Result<PasswordHasher::Verdict>) { third_done.set_value(); });

  // Two wait: the third and fourth submissions are refused on this thread, before returning.
  std::vector<ErrorCode> refused;
  hasher->Hash(Password("fourth"), [&](Result<std::string> hash) {
    ASSERT_FALSE(hash);
    refused.push_back(hash.error().code());
  });
  hasher->VerifyDummy(Password("fifth"), [&](Result<PasswordHasher::Verdict> verdict) {
    ASSERT_FALSE(verdict);
    refused.push_back(verdict.error().code());
  });
  EXPECT_EQ(refused, (std::vector<ErrorCode>{ErrorCode::kUnavailable, ErrorCode::kUnavailable}));

  release.set_value();
  second_done.get_future().wait();
  third_done.get_future().wait();
}

// Whether the waiting job still runs depends on whether the worker is released before the
// destructor empties the queue; either way its `done` runs exactly once, with a hash or with
// kUnavailable, and destruction returns.
TEST(PasswordHasher, DestructionAnswersEveryAcceptedJobOnce) {
  auto hasher = MakeHasher(Pool(1, 4));
  ASSERT_TRUE(hasher);
  std::promise<void> busy, release;
  std::shared_future<void> released = release.get_future().share();
  hasher->Hash(Password("holds the thread"), [&](Result<std::string>) {
    busy.set_value();
    released.wait();
  });
  busy.get_future().wait();
  std::atomic<int> answers = 0;
  std::atomic<bool> unexpected_error = false;
  for (int i = 0; i < 3; ++i) {
    hasher->Hash(Password("waits"), [&](Result<std::string> hash) {
      ++answers;
      if (!hash && hash.error().code() != ErrorCode::kUnavailable) unexpected_error = true;
    });
  }
  std::thread releaser([&] { release.set_value(); });
  hasher.reset();
  releaser.join();
  EXPECT_EQ(answers, 3);
  EXPECT_FALSE(unexpected_error);
}

TEST(PasswordHasher, HashAllHashesEachSecretInOrder) {
  auto hasher = MakeHasher();
  ASSERT_TRUE(hasher);
  std::vector<Secret> codes;
  codes.push_back(Password("code one"));
  codes.push_back(Password("code two"));
  std::promise<Result<std::vector<std::string>>> result;
  hasher->HashAll(std::move(codes),
                  [&](Result<std::vector<std::string>> hashes) { result.set_value(hashes); });
  auto hashes = result.get_future().get();
  ASSERT_TRUE(hashes);
  ASSERT_EQ(hashes->size(), 2u);
  EXPECT_TRUE(hasher->VerifyNow((*hashes)[0], Password("code one"))->match);
  EXPECT_TRUE(hasher->VerifyNow((*hashes)[1], Password("code two"))->match);
  EXPECT_FALSE(hasher->VerifyNow((*hashes)[1], Password("code one"))->match);
}

}  // namespace
}  // namespace medvault::identity
