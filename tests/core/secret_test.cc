#include "core/secret.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace medvault
