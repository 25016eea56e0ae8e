#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace medvault::audit {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes B(const Hash& h) { return Bytes(h.begin(), h.end()); }

std::vector<Bytes> AsBytes(const std::vector<Hash>& proof) {
  std::vector<Bytes> out;
  for (const Hash& h : proof) out.push_back(B(h));
  return out;
}

// RFC 6962's recursive definition, for comparison.
Hash ReferenceRoot(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  if (end - begin == 1) return leaves[begin];
  std::size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

// A tree built with TreeBuilder, its closed subtrees kept in a map as the store keeps them.
struct BuiltTree {
  explicit BuiltTree(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string text = "entry " + std::to_string(i);
      leaves.push_back(LeafHash(Bytes(text.begin(), text.end())));
      std::vector<TreeBuilder::Node> closed;
      builder.Append(leaves.back(), &closed);
      for (const auto& node : closed) stored[{node.level, node.index}] = node.hash;
    }
  }
  NodeSource Source() {
    return [this](int level, std::uint64_t index) -> Result<Hash> {
      auto it = stored.find({level, index});
      if (it == stored.end()) return Fail(ErrorCode::kNotFound, "no node");
      return it->second;
    };
  }
  std::vector<Hash> leaves;
  TreeBuilder builder;
  std::map<std::pair<int, std::uint64_t>, Hash> stored;
};

TEST(Merkle, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(B(EmptyRoot()), (Bytes{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                   0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                   0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}));
  EXPECT_EQ(TreeBuilder().Root(), EmptyRoot());
}

TEST(Merkle, BuilderRootMatchesTheRecursiveDefinitionAtEverySize) {
  BuiltTree tree(0);
  for (std::size_t n = 1; n <= 130; ++n) {
    const std::string text = "entry " + std::to_string(n - 1);
    const Hash leaf = LeafHash(Bytes(text.begin(), text.end()));
    tree.leaves.push_back(leaf);
    tree.builder.Append(leaf);
    ASSERT_EQ(tree.builder.Root(), ReferenceRoot(tree.leaves, 0, n)) << n;
  }
}

TEST(Merkle, EveryInclusionProofOfEverySizeVerifiesAndOnlyAtItsIndex) {
  BuiltTree tree(70);
  for (std::uint64_t size = 1; size <= 70; ++size) {
    auto root = RootFromNodes(size, tree.Source());
    ASSERT_TRUE(root.has_value());
    ASSERT_EQ(*root, ReferenceRoot(tree.leaves, 0, size));
    for (std::uint64_t index = 0; index < size; ++index) {
      auto proof = InclusionProof(index, size, tree.Source());
      ASSERT_TRUE(proof.has_value());
      const auto bytes = AsBytes(*proof);
      EXPECT_TRUE(VerifyInclusion(B(tree.leaves[index]), index, size, bytes, B(*root)))
          << index << "/" << size;
      const std::uint64_t other = (index + 1) % size;
      if (other != index) {
        EXPECT_FALSE(VerifyInclusion(B(tree.leaves[index]), other, size, bytes, B(*root)));
      }
    }
  }
}

TEST(Merkle, EveryConsistencyProofVerifiesAndRejectsAnotherOldRoot) {
  BuiltTree tree(40);
  for (std::uint64_t n = 1; n <= 40; ++n) {
    const Hash new_root = ReferenceRoot(tree.leaves, 0, n);
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, tree.Source());
      ASSERT_TRUE(proof.has_value());
      const Hash old_root = ReferenceRoot(tree.leaves, 0, m);
      EXPECT_TRUE(VerifyConsistency(m, n, AsBytes(*proof), B(old_root), B(new_root)))
          << m << "->" << n;
      if (m < n) {
        const Hash wrong = ReferenceRoot(tree.leaves, 1, m + 1);
        EXPECT_FALSE(VerifyConsistency(m, n, AsBytes(*proof), B(wrong), B(new_root)));
      }
    }
  }
}

TEST(Merkle, ResumedBuilderContinuesTheSameTree) {
  BuiltTree tree(37);
  auto resumed = TreeBuilder::Resume(37, tree.builder.Frontier());
  ASSERT_TRUE(resumed.has_value());
  auto frontier = DecodeFrontier(EncodeFrontier(resumed->Frontier()));
  ASSERT_TRUE(frontier.has_value());
  EXPECT_EQ(*frontier, tree.builder.Frontier());
  const Hash extra = LeafHash(Bytes{1, 2, 3});
  resumed->Append(extra);
  tree.builder.Append(extra);
  EXPECT_EQ(resumed->Root(), tree.builder.Root());
  EXPECT_FALSE(TreeBuilder::Resume(39, tree.builder.Frontier()).has_value());
}

TEST(Merkle, ProofsRefuseImpossibleRequests) {
  BuiltTree tree(8);
  EXPECT_FALSE(InclusionProof(8, 8, tree.Source()).has_value());
  EXPECT_FALSE(ConsistencyProof(0, 8, tree.Source()).has_value());
  EXPECT_FALSE(ConsistencyProof(9, 8, tree.Source()).has_value());
}

}  // namespace
}  // namespace medvault::audit
