// Runs the published Wycheproof vectors (tests/vectors/wycheproof) through medvault's own
// wrappers. Every "valid" case must seal to the published bytes and open to the message;
// every "invalid" case must be refused. The files hold no "acceptable" case today; if a later
// copy has some, they are counted and must behave consistently (an acceptable case that opens
// must give the published message) but either outcome passes. A test that finds no vector
// fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/signing.h"
#include "test_bytes.h"

namespace medvault::crypto {
namespace {

namespace json = boost::json;
using Bytes = std::vector<std::uint8_t>;

json::value LoadVectors(const std::string& file) {
  const std::string path = std::string(MEDVAULT_TEST_VECTORS_DIR) + "/wycheproof/" + file;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing vector file " << path;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code error;
  json::value parsed = json::parse(text.str(), error);
  EXPECT_FALSE(error) << path << ": " << error.message();
  return parsed;
}

Bytes Hex(const json::value& value) { return testing_bytes::FromHex(value.as_string()); }

Secret KeyOf(const json::value& value) {
  auto key = Secret::CopyOf(Hex(value));
  EXPECT_TRUE(key);
  return std::move(*key);
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Tally {
  int valid = 0;
  int invalid = 0;
  int acceptable = 0;
  int total() const { return valid + invalid + acceptable; }
};

void Report(const std::string& file, const json::value& vectors, const Tally& tally) {
  std::cout << file << ": " << tally.total() << " vectors (" << tally.valid << " valid, "
            << tally.invalid << " invalid, " << tally.acceptable << " acceptable)\n";
  EXPECT_GT(tally.total(), 0) << "no vectors found in " << file;
  EXPECT_EQ(tally.total(), vectors.at("numberOfTests").to_number<int>())
      << "ran fewer vectors than " << file << " declares";
}

using SealFn = Result<Bytes> (*)(const Secret&, std::span<const std::uint8_t>,
                                 std::span<const std::uint8_t>, std::span<const std::uint8_t>);

// Runs every case of one AEAD file, counting them in `tally`.
void RunAeadVectors(const std::string& file, SealFn seal, SealFn open, bool sealed_format,
                    Tally& tally) {
  json::value vectors = LoadVectors(file);
  ASSERT_TRUE(vectors.is_object());
  for (const json::value& group : vectors.at("testGroups").as_array()) {
    for (const json::value& test : group.at("tests").as_array()) {
      const auto id = test.at("tcId").to_number<int>();
      const std::string result(test.at("result").as_string());
      Secret key = KeyOf(test.at("key"));
      const Bytes nonce = Hex(test.at("iv"));
      const Bytes aad = Hex(test.at("aad"));
      const Bytes message = Hex(test.at("msg"));
      const Bytes ciphertext_and_tag = Concat(Hex(test.at("ct")), Hex(test.at("tag")));

      auto sealed = seal(key, nonce, message, aad);
      auto opened = open(key, nonce, ciphertext_and_tag, aad);
      // The production format nonce || ciphertext || tag, opened by the production call.
      std::optional<Result<Bytes>> opened_sealed_format;
      if (sealed_format) {
        opened_sealed_format = AeadOpen(key, Concat(nonce, ciphertext_and_tag), aad);
      }

      if (result == "valid") {
        ++tally.valid;
        ASSERT_TRUE(sealed) << file << " tcId " << id << ": " << sealed.error().message();
        EXPECT_EQ(*sealed, ciphertext_and_tag) << file << " tcId " << id;
        ASSERT_TRUE(opened) << file << " tcId " << id << ": " << opened.error().message();
        EXPECT_EQ(*opened, message) << file << " tcId " << id;
        if (opened_sealed_format && nonce.size() == kAeadNonceBytes) {
          ASSERT_TRUE(*opened_sealed_format) << file << " tcId " << id;
          EXPECT_EQ(**opened_sealed_format, message) << file << " tcId " << id;
        }
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_FALSE(opened) << file << " tcId " << id << " opened but is invalid";
        // Sealing the message must not reproduce the invalid ciphertext either.
        EXPECT_TRUE(!sealed || *sealed != ciphertext_and_tag) << file << " tcId " << id;
        if (opened_sealed_format && nonce.size() == kAeadNonceBytes) {
          EXPECT_FALSE(*opened_sealed_format) << file << " tcId " << id;
        }
      } else {
        ++tally.acceptable;
        if (opened) {
          EXPECT_EQ(*opened, message) << file << " tcId " << id;
        }
      }
    }
  }
}

TEST(Wycheproof, XChaCha20Poly1305ValidCasesOpenAndInvalidCasesAreRefused) {
  const std::string file = "xchacha20_poly1305_test.json";
  Tally tally;
  RunAeadVectors(file, raw::XChaChaSeal, raw::XChaChaOpen, /*sealed_format=*/true, tally);
  Report(file, LoadVectors(file), tally);
}

TEST(Wycheproof, ChaCha20Poly1305ValidCasesOpenAndInvalidCasesAreRefused) {
  const std::string file = "chacha20_poly1305_test.json";
  Tally tally;
  RunAeadVectors(file, raw::ChaChaIetfSeal, raw::ChaChaIetfOpen, /*sealed_format=*/false, tally);
  Report(file, LoadVectors(file), tally);
}

TEST(Wycheproof, HmacSha256ValidTagsVerifyAndInvalidTagsAreRefused) {
  const std::string file = "hmac_sha256_test.json";
  json::value vectors = LoadVectors(file);
  ASSERT_TRUE(vectors.is_object());
  Tally tally;
  for (const json::value& group : vectors.at("testGroups").as_array()) {
    const auto tag_bytes = static_cast<std::size_t>(group.at("tagSize").to_number<int>() / 8);
    for (const json::value& test : group.at("tests").as_array()) {
      const auto id = test.at("tcId").to_number<int>();
      const std::string result(test.at("result").as_string());
      Secret key = KeyOf(test.at("key"));
      const Bytes message = Hex(test.at("msg"));
      const Bytes tag = Hex(test.at("tag"));

      auto full = HmacSha256(key, message);
      ASSERT_TRUE(full);
      const Bytes truncated(full->begin(), full->begin() + std::min(tag_bytes, full->size()));
      auto verified = VerifyHmacSha256(key, message, tag);

      if (result == "valid") {
        ++tally.valid;
        EXPECT_EQ(truncated, tag) << file << " tcId " << id;
        EXPECT_TRUE(verified) << file << " tcId " << id << ": " << verified.error().message();
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_NE(truncated, tag) << file << " tcId " << id;
        EXPECT_FALSE(verified) << file << " tcId " << id;
      } else {
        ++tally.acceptable;
      }
    }
  }
  Report(file, vectors, tally);
}

// The HMAC under TOTP. A group with a tagSize under 160 bits publishes the truncated tag: the
// same-length prefix of the full tag must equal it for a valid case and differ for an invalid
// one.
TEST(Wycheproof, HmacSha1ValidTagsMatchAndInvalidTagsDiffer) {
  const std::string file = "hmac_sha1_test.json";
  json::value vectors = LoadVectors(file);
  ASSERT_TRUE(vectors.is_object());
  Tally tally;
  for (const json::value& group : vectors.at("testGroups").as_array()) {
    const auto tag_bytes = static_cast<std::size_t>(group.at("tagSize").to_number<int>() / 8);
    ASSERT_LE(tag_bytes, kHmacSha1Bytes) << file;
    for (const json::value& test : group.at("tests").as_array()) {
      const auto id = test.at("tcId").to_number<int>();
      const std::string result(test.at("result").as_string());
      Secret key = KeyOf(test.at("key"));
      const Bytes tag = Hex(test.at("tag"));

      auto full = HmacSha1(key, Hex(test.at("msg")));
      ASSERT_TRUE(full) << file << " tcId " << id;
      const Bytes truncated(full->begin(), full->begin() + tag_bytes);
      if (result == "valid") {
        ++tally.valid;
        EXPECT_EQ(tag.size(), tag_bytes) << file << " tcId " << id;
        EXPECT_EQ(truncated, tag) << file << " tcId " << id;
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_NE(truncated, tag) << file << " tcId " << id;
      } else {
        ++tally.acceptable;
      }
    }
  }
  Report(file, vectors, tally);
}

TEST(Wycheproof, Ed25519ValidSignaturesVerifyAndInvalidOnesAreRefused) {
  const std::string file = "ed25519_test.json";
  json::value vectors = LoadVectors(file);
  ASSERT_TRUE(vectors.is_object());
  Tally tally;
  for (const json::value& group : vectors.at("testGroups").as_array()) {
    const Bytes public_key = Hex(group.at("publicKey").at("pk"));
    for (const json::value& test : group.at("tests").as_array()) {
      const auto id = test.at("tcId").to_number<int>();
      const std::string result(test.at("result").as_string());
      const bool verified = VerifyEd25519(public_key, Hex(test.at("msg")), Hex(test.at("sig")));
      if (result == "valid") {
        ++tally.valid;
        EXPECT_TRUE(verified) << file << " tcId " << id;
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_FALSE(verified) << file << " tcId " << id;
      } else {
        ++tally.acceptable;
      }
    }
  }
  Report(file, vectors, tally);
}

}  // namespace
}  // namespace medvault::crypto
