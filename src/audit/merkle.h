// The RFC 6962 / RFC 9162 Merkle tree over the audit log's entries: leaf and node hashes,
// roots, inclusion and consistency proofs (generation and verification).
//
// Security property: a root commits to every entry and its position; an inclusion proof shows
// one entry is at its index in the tree of a given size, a consistency proof that the tree of
// size m is a prefix of the tree of size n. Verification accepts only proofs that recompute the
// given roots exactly (RFC 9162 sections 2.1.3.2 and 2.1.4.2). Thread-safe: every function is
// pure, except that proof generation calls the NodeSource it is given.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/error.h"

namespace medvault::audit {

inline constexpr std::size_t kHashBytes = 32;
using Hash = std::array<std::uint8_t, kHashBytes>;

// SHA-256(0x00 || entry).
Hash LeafHash(std::span<const std::uint8_t> entry);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256 of nothing: the root of the empty tree.
Hash EmptyRoot();

// The hash of the complete subtree at `level` (0: leaves) and `index` within that level: it
// covers leaves [index << level, (index + 1) << level). The log keeps these; proofs read
// O(log n) of them.
using NodeSource = std::function<Result<Hash>(int level, std::uint64_t index)>;

// The root of the first `size` leaves, from complete-subtree hashes.
Result<Hash> RootFromNodes(std::uint64_t size, const NodeSource& nodes);

// The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1), bottom up.
// kInvalidArgument unless index < size.
Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const NodeSource& nodes);
// The consistency proof from size `old_size` to `new_size` (RFC 9162 2.1.4.1).
// kInvalidArgument unless 0 < old_size <= new_size.
Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const NodeSource& nodes);

// Verifiers take the proof's hashes as they arrived (any length), so that a malformed proof is
// simply rejected. kDataLoss when the proof does not prove the claim; the message names why.
Status VerifyInclusion(std::span<const std::uint8_t> leaf_hash, std::uint64_t index,
                       std::uint64_t size, std::span<const std::vector<std::uint8_t>> proof,
                       std::span<const std::uint8_t> root);
Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                         std::span<const std::vector<std::uint8_t>> proof,
                         std::span<const std::uint8_t> old_root,
                         std::span<const std::uint8_t> new_root);

// Builds a tree leaf by leaf keeping only its right edge (one complete subtree per set bit of
// the size): the root at any size, and every complete subtree as it closes, in O(log n)
// memory. The verifier streams millions of entries through it; the log appends with it.
class TreeBuilder {
 public:
  // A complete subtree that an append closed.
  struct Node {
    int level;
    std::uint64_t index;
    Hash hash;
  };

  TreeBuilder() = default;
  // Resumes a tree of `size` leaves from its right edge (Frontier() of that tree). Fails with
  // kInvalidArgument when the frontier does not have one hash per set bit of size.
  static Result<TreeBuilder> Resume(std::uint64_t size, std::vector<Hash> frontier);

  // Appends one leaf hash; `closed` (if given) receives the leaf and every subtree it closed.
  void Append(const Hash& leaf_hash, std::vector<Node>* closed = nullptr);

  std::uint64_t size() const { return size_; }
  Hash Root() const;
  // Largest subtree first.
  const std::vector<Hash>& Frontier() const { return frontier_; }

 private:
  TreeBuilder(std::uint64_t size, std::vector<Hash> frontier)
      : size_(size), frontier_(std::move(frontier)) {}

  std::uint64_t size_ = 0;
  std::vector<Hash> frontier_;
};

// Frontier bytes as the store keeps them (concatenated hashes) and back.
std::vector<std::uint8_t> EncodeFrontier(std::span<const Hash> frontier);
Result<std::vector<Hash>> DecodeFrontier(std::span<const std::uint8_t> bytes);

}  // namespace medvault::audit
