// Runs the published RFC 6962 / RFC 9162 proof vectors (tests/vectors/merkle, from
// transparency-dev/merkle): every happy path verifies, every corrupted proof is rejected.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "core/base64.h"

namespace medvault::audit {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using Bytes = std::vector<std::uint8_t>;

const fs::path kVectors = fs::path(MEDVAULT_TEST_VECTORS_DIR) / "merkle";

json::value Load(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// Vectors use standard base64; a value that does not decode stays empty (then it is no hash).
Bytes Decode(const json::value& value) {
  if (!value.is_string()) return {};
  auto bytes = DecodeBase64(value.as_string(), Base64Alphabet::kStandard);
  return bytes ? *bytes : Bytes{};
}

std::vector<Bytes> Proof(const json::value& value) {
  std::vector<Bytes> out;
  if (value.is_array()) {
    for (const auto& element : value.as_array()) out.push_back(Decode(element));
  }
  return out;
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(entry.path());
  }
  return out;
}

struct Tally {
  int accepted = 0;
  int rejected = 0;
};

TEST(MerkleVectors, EveryInclusionVectorIsDecidedAsPublished) {
  Tally tally;
  for (const fs::path& file : Files(kVectors / "inclusion")) {
    const json::value v = Load(file);
    const bool want_error = v.at("wantErr").as_bool();
    const std::vector<Bytes> proof = Proof(v.at("proof"));
    Status verdict =
        VerifyInclusion(Decode(v.at("leafHash")), v.at("leafIdx").to_number<std::uint64_t>(),
                        v.at("treeSize").to_number<std::uint64_t>(), proof, Decode(v.at("root")));
    EXPECT_EQ(verdict.has_value(), !want_error) << file;
    (want_error ? tally.rejected : tally.accepted)++;
  }
  std::cout << "inclusion vectors: " << tally.accepted << " valid, " << tally.rejected
            << " corrupted\n";
  EXPECT_GT(tally.accepted, 0) << "no valid inclusion vectors in " << kVectors;
  EXPECT_GT(tally.rejected, 0) << "no corrupted inclusion vectors in " << kVectors;
}

TEST(MerkleVectors, EveryConsistencyVectorIsDecidedAsPublished) {
  Tally tally;
  for (const fs::path& file : Files(kVectors / "consistency")) {
    const json::value v = Load(file);
    const bool want_error = v.at("wantErr").as_bool();
    const std::vector<Bytes> proof = Proof(v.at("proof"));
    Status verdict = VerifyConsistency(v.at("size1").to_number<std::uint64_t>(),
                                       v.at("size2").to_number<std::uint64_t>(), proof,
                                       Decode(v.at("root1")), Decode(v.at("root2")));
    EXPECT_EQ(verdict.has_value(), !want_error) << file;
    (want_error ? tally.rejected : tally.accepted)++;
  }
  std::cout << "consistency vectors: " << tally.accepted << " valid, " << tally.rejected
            << " corrupted\n";
  EXPECT_GT(tally.accepted, 0) << "no valid consistency vectors in " << kVectors;
  EXPECT_GT(tally.rejected, 0) << "no corrupted consistency vectors in " << kVectors;
}

// The happy-path vectors come from the RFC 6962 reference tree of eight leaves; our generator
// must produce exactly the published proofs for it.
TEST(MerkleVectors, GeneratedProofsEqualThePublishedOnes) {
  // The eight leaves of RFC 6962's reference tree (transparency-dev testonly.LeafInputs).
  const std::vector<Bytes> leaves = {
      {},
      {0x00},
      {0x10},
      {0x20, 0x21},
      {0x30, 0x31},
      {0x40, 0x41, 0x42, 0x43},
      {0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
      {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e,
       0x6f},
  };
  std::vector<std::vector<Hash>> levels(1);
  for (const Bytes& leaf : leaves) levels[0].push_back(LeafHash(leaf));
  for (std::size_t l = 0; levels[l].size() > 1; ++l) {
    levels.emplace_back();
    for (std::size_t i = 0; i + 1 < levels[l].size(); i += 2) {
      levels[l + 1].push_back(NodeHash(levels[l][i], levels[l][i + 1]));
    }
  }
  NodeSource nodes = [&](int level, std::uint64_t index) -> Result<Hash> {
    return levels.at(static_cast<std::size_t>(level)).at(index);
  };
  int compared = 0;
  for (const fs::path& file : Files(kVectors / "inclusion")) {
    const json::value v = Load(file);
    if (v.at("wantErr").as_bool() || file.parent_path().filename() == "single-entry") continue;
    const auto size = v.at("treeSize").to_number<std::uint64_t>();
    const auto index = v.at("leafIdx").to_number<std::uint64_t>();
    auto proof = InclusionProof(index, size, nodes);
    ASSERT_TRUE(proof.has_value());
    const std::vector<Bytes> published = Proof(v.at("proof"));
    ASSERT_EQ(proof->size(), published.size()) << file;
    for (std::size_t i = 0; i < published.size(); ++i) {
      EXPECT_EQ(Bytes((*proof)[i].begin(), (*proof)[i].end()), published[i]) << file;
    }
    auto root = RootFromNodes(size, nodes);
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(Bytes(root->begin(), root->end()), Decode(v.at("root"))) << file;
    ++compared;
  }
  for (const fs::path& file : Files(kVectors / "consistency")) {
    const json::value v = Load(file);
    if (v.at("wantErr").as_bool() || file.parent_path().filename() == "additional") continue;
    auto proof = ConsistencyProof(v.at("size1").to_number<std::uint64_t>(),
                                  v.at("size2").to_number<std::uint64_t>(), nodes);
    ASSERT_TRUE(proof.has_value());
    const std::vector<Bytes> published = Proof(v.at("proof"));
    ASSERT_EQ(proof->size(), published.size()) << file;
    for (std::size_t i = 0; i < published.size(); ++i) {
      EXPECT_EQ(Bytes((*proof)[i].begin(), (*proof)[i].end()), published[i]) << file;
    }
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no happy-path vectors in " << kVectors;
}

}  // namespace
}  // namespace medvault::audit
