#include "audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <utility>

namespace medvault::audit {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

// SHA-256 fetched once; a context per thread reused for every hash (the verifier hashes
// millions of leaves, and a fresh context per hash would cost more than the hash).
const EVP_MD* Sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  return context.get();
}

// OpenSSL fails here only when out of memory; a zero hash then never matches a root.
Hash Digest(std::uint8_t prefix, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  Hash out{};
  EVP_MD_CTX* context = ThreadContext();
  unsigned int length = 0;
  if (context == nullptr || Sha256() == nullptr ||
      EVP_DigestInit_ex2(context, Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context, &prefix, 1) != 1 ||
      (!a.empty() && EVP_DigestUpdate(context, a.data(), a.size()) != 1) ||
      (!b.empty() && EVP_DigestUpdate(context, b.data(), b.size()) != 1) ||
      EVP_DigestFinal_ex(context, out.data(), &length) != 1) {
    out.fill(0);
  }
  return out;
}

// Largest power of two strictly below n (n >= 2).
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH of leaves [start, start + count), count >= 1.
Result<Hash> SubtreeHash(std::uint64_t start, std::uint64_t count, const NodeSource& nodes) {
  if (std::has_single_bit(count) && start % count == 0) {
    const int level = std::countr_zero(count);
    return nodes(level, start >> level);
  }
  const std::uint64_t k = SplitPoint(count);
  auto left = SubtreeHash(start, k, nodes);
  if (!left) return left;
  auto right = SubtreeHash(start + k, count - k, nodes);
  if (!right) return right;
  return NodeHash(*left, *right);
}

// RFC 9162 PATH(m, D[start:start+count]), appended bottom-up.
Status AppendPath(std::uint64_t m, std::uint64_t start, std::uint64_t count,
                  const NodeSource& nodes, std::vector<Hash>& out) {
  if (count <= 1) return {};
  const std::uint64_t k = SplitPoint(count);
  Result<Hash> sibling;
  if (m < k) {
    if (auto s = AppendPath(m, start, k, nodes, out); !s) return s;
    sibling = SubtreeHash(start + k, count - k, nodes);
  } else {
    if (auto s = AppendPath(m - k, start + k, count - k, nodes, out); !s) return s;
    sibling = SubtreeHash(start, k, nodes);
  }
  if (!sibling) return std::unexpected(sibling.error());
  out.push_back(*sibling);
  return {};
}

// RFC 9162 SUBPROOF(m, D[start:start+count], b), appended bottom-up.
Status AppendSubproof(std::uint64_t m, std::uint64_t start, std::uint64_t count, bool complete,
                      const NodeSource& nodes, std::vector<Hash>& out) {
  if (m == count) {
    if (complete) return {};
    auto hash = SubtreeHash(start, count, nodes);
    if (!hash) return std::unexpected(hash.error());
    out.push_back(*hash);
    return {};
  }
  const std::uint64_t k = SplitPoint(count);
  Result<Hash> sibling;
  if (m <= k) {
    if (auto s = AppendSubproof(m, start, k, complete, nodes, out); !s) return s;
    sibling = SubtreeHash(start + k, count - k, nodes);
  } else {
    if (auto s = AppendSubproof(m - k, start + k, count - k, false, nodes, out); !s) return s;
    sibling = SubtreeHash(start, k, nodes);
  }
  if (!sibling) return std::unexpected(sibling.error());
  out.push_back(*sibling);
  return {};
}

bool IsHash(std::span<const std::uint8_t> bytes) { return bytes.size() == kHashBytes; }

Hash ToHash(std::span<const std::uint8_t> bytes) {
  Hash out{};
  std::copy_n(bytes.begin(), kHashBytes, out.begin());
  return out;
}

bool Equal(const Hash& a, std::span<const std::uint8_t> b) {
  return b.size() == kHashBytes && std::equal(a.begin(), a.end(), b.begin());
}

Status Reject(const char* why) { return Fail(ErrorCode::kDataLoss, std::string("merkle: ") + why); }

}  // namespace

Hash LeafHash(std::span<const std::uint8_t> entry) { return Digest(kLeafPrefix, entry, {}); }

Hash NodeHash(const Hash& left, const Hash& right) {
  // The prefix byte is folded into Digest; a node hash is SHA-256(0x01 || left || right).
  return Digest(kNodePrefix, left, right);
}

Hash EmptyRoot() {
  Hash out{};
  unsigned int length = 0;
  if (EVP_Digest(nullptr, 0, out.data(), &length, Sha256(), nullptr) != 1) out.fill(0);
  return out;
}

Result<Hash> RootFromNodes(std::uint64_t size, const NodeSource& nodes) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(0, size, nodes);
}

Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const NodeSource& nodes) {
  if (index >= size) return Fail(ErrorCode::kInvalidArgument, "merkle: index beyond the tree");
  std::vector<Hash> proof;
  proof.reserve(64);
  if (auto s = AppendPath(index, 0, size, nodes, proof); !s) return std::unexpected(s.error());
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const NodeSource& nodes) {
  if (old_size == 0 || old_size > new_size) {
    return Fail(ErrorCode::kInvalidArgument, "merkle: consistency needs 0 < old size <= new size");
  }
  std::vector<Hash> proof;
  proof.reserve(64);
  if (auto s = AppendSubproof(old_size, 0, new_size, true, nodes, proof); !s) {
    return std::unexpected(s.error());
  }
  return proof;
}

Status VerifyInclusion(std::span<const std::uint8_t> leaf_hash, std::uint64_t index,
                       std::uint64_t size, std::span<const std::vector<std::uint8_t>> proof,
                       std::span<const std::uint8_t> root) {
  if (index >= size) return Reject("leaf index beyond the tree size");
  if (!IsHash(leaf_hash) || !IsHash(root)) return Reject("hash of the wrong length");
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = ToHash(leaf_hash);
  for (const std::vector<std::uint8_t>& element : proof) {
    if (!IsHash(element)) return Reject("proof hash of the wrong length");
    if (sn == 0) return Reject("inclusion proof too long");
    const Hash p = ToHash(element);
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Reject("inclusion proof too short");
  if (!Equal(r, root)) return Reject("inclusion proof does not lead to the root");
  return {};
}

Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                         std::span<const std::vector<std::uint8_t>> proof,
                         std::span<const std::uint8_t> old_root,
                         std::span<const std::uint8_t> new_root) {
  if (old_size > new_size) return Reject("old size beyond the new size");
  // Every tree extends the empty one: a proof from size 0 proves nothing and is refused.
  if (old_size == 0) return Reject("consistency from the empty tree");
  if (old_size == new_size) {
    if (!proof.empty()) return Reject("proof given for equal sizes");
    if (!std::ranges::equal(old_root, new_root)) return Reject("roots differ at equal sizes");
    return {};
  }
  if (proof.empty()) return Reject("empty consistency proof");
  if (!IsHash(old_root) || !IsHash(new_root)) return Reject("hash of the wrong length");
  for (const auto& element : proof) {
    if (!IsHash(element)) return Reject("proof hash of the wrong length");
  }
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(ToHash(old_root));
  for (const auto& element : proof) path.push_back(ToHash(element));

  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path.front();
  Hash sr = path.front();
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return Reject("consistency proof too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Reject("consistency proof too short");
  if (!Equal(fr, old_root)) return Reject("consistency proof does not lead to the old root");
  if (!Equal(sr, new_root)) return Reject("consistency proof does not lead to the new root");
  return {};
}

Result<TreeBuilder> TreeBuilder::Resume(std::uint64_t size, std::vector<Hash> frontier) {
  if (frontier.size() != static_cast<std::size_t>(std::popcount(size))) {
    return Fail(ErrorCode::kInvalidArgument, "merkle: frontier does not match the tree size");
  }
  return TreeBuilder(size, std::move(frontier));
}

void TreeBuilder::Append(const Hash& leaf_hash, std::vector<Node>* closed) {
  const std::uint64_t index = size_;
  Hash node = leaf_hash;
  int level = 0;
  if (closed != nullptr) closed->push_back({0, index, node});
  while (((index >> level) & 1) != 0) {
    node = NodeHash(frontier_.back(), node);
    frontier_.pop_back();
    ++level;
    if (closed != nullptr) closed->push_back({level, index >> level, node});
  }
  frontier_.push_back(node);
  ++size_;
}

Hash TreeBuilder::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  Hash root = frontier_.back();
  for (std::size_t i = frontier_.size() - 1; i-- > 0;) root = NodeHash(frontier_[i], root);
  return root;
}

std::vector<std::uint8_t> EncodeFrontier(std::span<const Hash> frontier) {
  std::vector<std::uint8_t> out;
  out.reserve(frontier.size() * kHashBytes);
  for (const Hash& hash : frontier) out.insert(out.end(), hash.begin(), hash.end());
  return out;
}

Result<std::vector<Hash>> DecodeFrontier(std::span<const std::uint8_t> bytes) {
  if (bytes.size() % kHashBytes != 0 || bytes.size() / kHashBytes > 64) {
    return Fail(ErrorCode::kDataLoss, "merkle: malformed frontier");
  }
  std::vector<Hash> out(bytes.size() / kHashBytes);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::memcpy(out[i].data(), bytes.data() + i * kHashBytes, kHashBytes);
  }
  return out;
}

}  // namespace medvault::audit
