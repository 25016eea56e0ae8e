// COSE key parsing, and the Wycheproof ECDSA P-256/SHA-256 (DER), Ed25519 and RSA PKCS#1 v1.5
// 2048-bit SHA-256 vectors run
// through CosePublicKey::Verify, the exact check VerifyRegistration and VerifyAssertion use.
// A file that yields no vector fails.
#include "identity/cose_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "crypto/test_bytes.h"
#include "identity/soft_authenticator.h"

namespace medvault::identity {
namespace {

namespace json = boost::json;
using testing::Bytes;
using testing::CoseKeyOf;

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

Bytes Hex(const json::value& value) { return crypto::testing_bytes::FromHex(value.as_string()); }

struct Tally {
  int valid = 0;
  int invalid = 0;
  int acceptable = 0;
  int total() const { return valid + invalid + acceptable; }
};

// Runs every case of a Wycheproof signature file; `key_of` builds the group's key.
template <typename KeyOf>
void RunSignatureVectors(const std::string& file, KeyOf key_of) {
  json::value vectors = LoadVectors(file);
  ASSERT_TRUE(vectors.is_object());
  Tally tally;
  for (const json::value& group : vectors.at("testGroups").as_array()) {
    auto key = key_of(group.at("publicKey"));
    ASSERT_TRUE(key) << file << ": a group's public key was refused: " << key.error().message();
    for (const json::value& test : group.at("tests").as_array()) {
      const auto id = test.at("tcId").to_number<int>();
      const std::string result(test.at("result").as_string());
      const bool verified = key->Verify(Hex(test.at("msg")), Hex(test.at("sig")));
      if (result == "valid") {
        ++tally.valid;
        EXPECT_TRUE(verified) << file << " tcId " << id << " is valid but was refused";
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_FALSE(verified) << file << " tcId " << id << " is invalid but was accepted";
      } else {
        ++tally.acceptable;
      }
    }
  }
  std::cout << file << ": " << tally.total() << " vectors (" << tally.valid << " valid, "
            << tally.invalid << " invalid, " << tally.acceptable << " acceptable)\n";
  EXPECT_GT(tally.valid, 0) << "no valid vectors found in " << file;
  EXPECT_GT(tally.invalid, 0) << "no invalid vectors found in " << file;
  EXPECT_EQ(tally.total(), vectors.at("numberOfTests").to_number<int>())
      << "ran fewer vectors than " << file << " declares";
}

TEST(CoseKeyWycheproof, EcdsaP256Sha256DerValidAcceptedInvalidRefused) {
  RunSignatureVectors("ecdsa_secp256r1_sha256_test.json", [](const json::value& key) {
    EXPECT_EQ(key.at("curve").as_string(), "secp256r1");
    return CosePublicKey::FromP256Point(Hex(key.at("uncompressed")));
  });
}

TEST(CoseKeyWycheproof, Ed25519ValidAcceptedInvalidRefused) {
  RunSignatureVectors("ed25519_test.json", [](const json::value& key) {
    return CosePublicKey::FromEd25519(Hex(key.at("pk")));
  });
}

// Wycheproof writes the modulus as an ASN.1 INTEGER's content (a leading 0x00 when the top bit
// is set); COSE and crypto::RsaPublicKey take the minimal big-endian form.
Bytes Unsigned(Bytes integer) {
  const auto first = std::find_if(integer.begin(), integer.end(), [](auto b) { return b != 0; });
  return Bytes(first, integer.end());
}

TEST(CoseKeyWycheproof, RsaPkcs1Sha256ValidAcceptedInvalidRefused) {
  RunSignatureVectors("rsa_signature_2048_sha256_test.json", [](const json::value& key) {
    return CosePublicKey::FromRsa(Unsigned(Hex(key.at("modulus"))),
                                  Unsigned(Hex(key.at("publicExponent"))));
  });
}

TEST(CoseKey, ParsesTheKeysASoftwareAuthenticatorSends) {
  using testing::SoftAuthenticator;
  auto es256 =
      CosePublicKey::Parse(SoftAuthenticator(SoftAuthenticator::Algorithm::kEs256).CoseKey());
  ASSERT_TRUE(es256) << es256.error().message();
  EXPECT_EQ(es256->algorithm(), CoseAlgorithm::kEs256);
  auto eddsa =
      CosePublicKey::Parse(SoftAuthenticator(SoftAuthenticator::Algorithm::kEdDsa).CoseKey());
  ASSERT_TRUE(eddsa) << eddsa.error().message();
  EXPECT_EQ(eddsa->algorithm(), CoseAlgorithm::kEdDsa);
  auto rs256 =
      CosePublicKey::Parse(SoftAuthenticator(SoftAuthenticator::Algorithm::kRs256).CoseKey());
  ASSERT_TRUE(rs256) << rs256.error().message();
  EXPECT_EQ(rs256->algorithm(), CoseAlgorithm::kRs256);
}

TEST(CoseKey, SignatureFromTheSoftwareAuthenticatorVerifiesOnlyForItsMessage) {
  using testing::SoftAuthenticator;
  for (auto algorithm : {SoftAuthenticator::Algorithm::kEs256, SoftAuthenticator::Algorithm::kEdDsa,
                         SoftAuthenticator::Algorithm::kRs256}) {
    SoftAuthenticator authenticator(algorithm);
    auto key = CosePublicKey::Parse(authenticator.CoseKey());
    ASSERT_TRUE(key);
    const Bytes message = testing::BytesOf("authenticator data || client data hash");
    const Bytes signature = authenticator.Sign(message);
    EXPECT_TRUE(key->Verify(message, signature));
    EXPECT_FALSE(key->Verify(testing::BytesOf("another message"), signature));
    EXPECT_FALSE(key->Verify(message, {}));
  }
}

// The Ed25519 base point: a valid public key.
Bytes Ed25519BasePoint() {
  Bytes point(32, 0x66);
  point[0] = 0x58;
  return point;
}

TEST(CoseKey, IncompleteOrInconsistentKeysAreRefused) {
  const Bytes x = Ed25519BasePoint();
  const std::vector<Bytes> keys = {
      CoseKeyOf({{3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, x}}),              // no kty
      CoseKeyOf({{1, 1, {}}, {-1, 6, {}}, {-2, std::nullopt, x}}),               // no alg
      CoseKeyOf({{1, 2, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, x}}),  // EC2 for EdDSA
      CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-2, std::nullopt, x}}),               // no crv
      CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, Bytes(31, 1)}}),
      CoseKeyOf(
          {{1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, x}, {-3, std::nullopt, x}}),
      CoseKeyOf({{1, 2, {}}, {3, -7, {}}, {-1, 1, {}}, {-2, std::nullopt, x}}),              // no y
      CoseKeyOf({{1, 1, {}}, {1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, x}}),  // dup
      CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, 7, {}}}),  // x is not bytes
  };
  for (const Bytes& key : keys) EXPECT_FALSE(CosePublicKey::Parse(key));
  Bytes good = CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, x}});
  EXPECT_TRUE(CosePublicKey::Parse(good));
  good.push_back(0x00);
  EXPECT_FALSE(CosePublicKey::Parse(good)) << "trailing byte accepted";
}

TEST(CoseKey, PointsOffTheCurveAreRefused) {
  Bytes point(65, 0x01);
  point[0] = 0x04;
  EXPECT_FALSE(CosePublicKey::FromP256Point(point));
  point[0] = 0x02;  // compressed form is not what COSE EC2 with x and y means
  EXPECT_FALSE(CosePublicKey::FromP256Point(Bytes(point.begin(), point.begin() + 33)));
}

TEST(CoseKey, SmallOrderEd25519KeysAreRefused) {
  EXPECT_TRUE(CosePublicKey::FromEd25519(Ed25519BasePoint()));
  Bytes identity_point(32, 0x00);
  identity_point[0] = 0x01;  // the neutral element
  EXPECT_FALSE(CosePublicKey::FromEd25519(identity_point));
  EXPECT_FALSE(CosePublicKey::FromEd25519(Bytes(32, 0x00)));  // a point of order 4
  EXPECT_FALSE(CosePublicKey::FromEd25519(Bytes(31, 0x01)));
}

TEST(CoseKeyRs256, TamperedSignatureIsRefused) {
  testing::SoftAuthenticator authenticator(testing::SoftAuthenticator::Algorithm::kRs256);
  auto key = CosePublicKey::Parse(authenticator.CoseKey());
  ASSERT_TRUE(key) << key.error().message();
  const Bytes message = testing::BytesOf("authenticator data || client data hash");
  const Bytes signature = authenticator.Sign(message);
  ASSERT_EQ(signature.size(), 256u);
  ASSERT_TRUE(key->Verify(message, signature));
  for (std::size_t index : {std::size_t{0}, std::size_t{128}, std::size_t{255}}) {
    Bytes tampered = signature;
    tampered[index] ^= 0x01;
    EXPECT_FALSE(key->Verify(message, tampered)) << "byte " << index;
  }
  Bytes longer = signature;
  longer.insert(longer.begin(), 0x00);  // the same number, one byte longer
  EXPECT_FALSE(key->Verify(message, longer));
  EXPECT_FALSE(key->Verify(message, Bytes(signature.begin() + 1, signature.end())));
}

TEST(CoseKeyRs256, KeysOutsideTwoTo8KBitsAreRefused) {
  using testing::SoftAuthenticator;
  for (unsigned bits : {1024u, 2040u}) {
    auto key = CosePublicKey::Parse(
        SoftAuthenticator(SoftAuthenticator::Algorithm::kRs256, {1}, bits).CoseKey());
    ASSERT_FALSE(key) << bits << "-bit RSA key accepted";
    EXPECT_NE(key.error().message().find("shorter than 2048 bits"), std::string::npos)
        << key.error().message();
  }
  // A modulus over 8192 bits is refused before OpenSSL sees it (no key needs generating).
  Bytes huge(1025, 0xff);
  auto key = CosePublicKey::Parse(CoseKeyOf(
      {{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, huge}, {-2, std::nullopt, {1, 0, 1}}}));
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("longer than 8192 bits"), std::string::npos)
      << key.error().message();
}

TEST(CoseKeyRs256, MalformedOrPrivateKeysAreRefused) {
  using testing::SoftAuthenticator;
  const SoftAuthenticator authenticator(SoftAuthenticator::Algorithm::kRs256);
  const Bytes n = authenticator.RsaParam("n");
  const Bytes e = authenticator.RsaParam("e");
  Bytes padded_n = n;
  padded_n.insert(padded_n.begin(), 0x00);
  const std::vector<Bytes> keys = {
      CoseKeyOf({{3, -257, {}}, {-1, std::nullopt, n}, {-2, std::nullopt, e}}),  // no kty
      CoseKeyOf({{1, 2, {}}, {3, -257, {}}, {-1, std::nullopt, n}, {-2, std::nullopt, e}}),
      CoseKeyOf({{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, n}}),  // no e
      CoseKeyOf({{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, padded_n}, {-2, std::nullopt, e}}),
      CoseKeyOf({{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, n}, {-2, std::nullopt, {2}}}),
      CoseKeyOf({{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, n}, {-2, std::nullopt, {1}}}),
      // d (label -3): a private key is never what an authenticator registers.
      CoseKeyOf({{1, 3, {}},
                 {3, -257, {}},
                 {-1, std::nullopt, n},
                 {-2, std::nullopt, e},
                 {-3, std::nullopt, n}}),
  };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_FALSE(CosePublicKey::Parse(keys[i])) << "key " << i << " accepted";
  }
  EXPECT_TRUE(CosePublicKey::Parse(
      CoseKeyOf({{1, 3, {}}, {3, -257, {}}, {-1, std::nullopt, n}, {-2, std::nullopt, e}})));
}

}  // namespace
}  // namespace medvault::identity
