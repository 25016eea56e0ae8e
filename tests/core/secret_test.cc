#include "core/secret.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <type_traits>

namespace medvault {
namespace {

static_assert(!std::is_copy_constructible_v<Secret>, "secrets are never copied implicitly");
static_assert(!std::is_copy_assignable_v<Secret>, "secrets are never copied implicitly");

TEST(Secret, AllocateIsZeroFilled) {
  auto secret = Secret::Allocate(32);
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->size(), 32u);
  for (auto byte : secret->bytes()) EXPECT_EQ(byte, 0);
}

TEST(Secret, RandomSecretsDiffer) {
  auto a = Secret::Random(32);
  auto b = Secret::Random(32);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->Equals(*b));
}

TEST(Secret, CopyOfAndCloneAreEqualInConstantTimeCompare) {
  std::array<std::uint8_t, 4> bytes{1, 2, 3, 4};
  auto a = Secret::CopyOf(bytes);
  ASSERT_TRUE(a);
  auto b = a->Clone();
  ASSERT_TRUE(b);
  EXPECT_TRUE(a->Equals(*b));
  b->mutable_bytes()[3] = 5;
  EXPECT_FALSE(a->Equals(*b));
}

TEST(Secret, MoveLeavesTheSourceEmpty) {
  auto a = Secret::Random(16);
  ASSERT_TRUE(a);
  Secret moved = std::move(*a);
  EXPECT_EQ(moved.size(), 16u);
  EXPECT_EQ(a->size(), 0u);  // NOLINT(bugprone-use-after-move): the contract under test
}

TEST(Secret, DifferentSizesAreNotEqual) {
  auto a = Secret::Allocate(16);
  auto b = Secret::Allocate(17);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->Equals(*b));
}

TEST(Secret, AFreedSmallSecretIsWipedBeforeItsMemoryIsReused) {
  auto first = Secret::Random(32);
  ASSERT_TRUE(first);
  const std::uint8_t* where = first->bytes().data();
  *first = std::move(*Secret::Allocate(0));  // frees the random bytes
  // Small secrets come from a pool: the next one may reuse the slot, and must be zeros.
  for (int i = 0; i < 4; ++i) {
    auto next = Secret::Allocate(32);
    ASSERT_TRUE(next);
    EXPECT_TRUE(std::all_of(next->bytes().begin(), next->bytes().end(),
                            [](std::uint8_t b) { return b == 0; }));
    if (next->bytes().data() == where) break;
  }
}

TEST(Secret, LargeAndSmallSecretsBothWork) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{65},
                           std::size_t{4096}}) {
    auto secret = Secret::Random(size);
    ASSERT_TRUE(secret) << size;
    EXPECT_EQ(secret->size(), size);
    auto copy = secret->Clone();
    ASSERT_TRUE(copy);
    EXPECT_TRUE(copy->Equals(*secret));
  }
}

}  // namespace
}  // namespace medvault
