// RFC 7515 Appendix A examples (tests/vectors/rfc7515): what they can check of a verifier that
// accepts only RS384 and ES384 (see the README beside the vectors).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "identity/client_assertion.h"

namespace medvault::identity {
namespace {

boost::json::array Vectors() {
  std::ifstream file(MEDVAULT_TEST_VECTORS_DIR "/rfc7515/appendix_a.json");
  std::stringstream text;
  text << file.rdbuf();
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text.str(), ec);
  if (ec || !value.is_object() || !value.as_object().contains("vectors")) return {};
  return value.at("vectors").as_array();
}

std::string Text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// Verifies an RS256 signature with OpenSSL over a key medvault parsed and exported.
bool OpenSslVerifiesRs256(const ClientKey& key, const CompactJws& jws) {
  const std::vector<std::uint8_t> der = key.SubjectPublicKeyInfoDer();
  const unsigned char* p = der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
                  EVP_DigestVerify(ctx, jws.signature.data(), jws.signature.size(),
                                   reinterpret_cast<const unsigned char*>(jws.signing_input.data()),
                                   jws.signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

TEST(Rfc7515, AppendixAExamplesParseAndAreRefusedForTheirAlgorithm) {
  const boost::json::array vectors = Vectors();
  ASSERT_EQ(vectors.size(), 2u) << "no RFC 7515 vectors found";
  int checked = 0;
  for (const boost::json::value& entry : vectors) {
    const boost::json::object& vector = entry.as_object();
    const std::string section(vector.at("section").as_string());
    const std::string compact(vector.at("compact").as_string());
    SCOPED_TRACE(section);

    auto jws = ParseCompactJws(compact);
    ASSERT_TRUE(jws.has_value()) << jws.error().message();
    EXPECT_EQ(jws->alg, vector.at("alg").as_string());
    EXPECT_TRUE(jws->kid.empty());
    EXPECT_EQ(Text(jws->header_json), vector.at("header").as_string());
    EXPECT_EQ(Text(jws->payload), vector.at("payload").as_string());
    EXPECT_EQ(jws->signing_input, compact.substr(0, compact.rfind('.')));
    EXPECT_EQ(jws->signature.size(), vector.at("signature_bytes").as_int64());

    // No key is even looked at: the algorithm alone refuses it.
    auto verdict = VerifyClientAssertion(compact, {}, "joe", "https://example.com", {});
    ASSERT_FALSE(verdict.has_value());
    EXPECT_EQ(verdict.error().code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(verdict.error().message().find("not RS384 or ES384"), std::string::npos);
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(Rfc7515, A2RsaKeyImportsFromTheJwkAndVerifiesTheRfcSignature) {
  const boost::json::array vectors = Vectors();
  ASSERT_FALSE(vectors.empty()) << "no RFC 7515 vectors found";
  const boost::json::object& a2 = vectors.at(0).as_object();
  ASSERT_EQ(a2.at("section").as_string(), "A.2");
  boost::json::object jwk = a2.at("jwk").as_object();
  jwk["kid"] = "rfc7515-a2";
  auto key = ParseClientJwk(boost::json::serialize(jwk));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kRs384);

  auto jws = ParseCompactJws(std::string(a2.at("compact").as_string()));
  ASSERT_TRUE(jws.has_value());
  EXPECT_TRUE(OpenSslVerifiesRs256(*key, *jws));
  // The same bytes are no RS384 signature.
  EXPECT_FALSE(key->VerifySignature(
      std::span(reinterpret_cast<const std::uint8_t*>(jws->signing_input.data()),
                jws->signing_input.size()),
      jws->signature));
  // And one changed signature byte no longer verifies under RS256 either.
  jws->signature[10] ^= 1;
  EXPECT_FALSE(OpenSslVerifiesRs256(*key, *jws));

  // The RFC's alg member for this key is RS256, which medvault does not register.
  jwk["alg"] = "RS256";
  EXPECT_FALSE(ParseClientJwk(boost::json::serialize(jwk)).has_value());
}

TEST(Rfc7515, A3KeyIsRefusedAsPrintedAndAsP256) {
  const boost::json::array vectors = Vectors();
  ASSERT_EQ(vectors.size(), 2u) << "no RFC 7515 vectors found";
  const boost::json::object& a3 = vectors.at(1).as_object();
  ASSERT_EQ(a3.at("section").as_string(), "A.3");
  boost::json::object jwk = a3.at("jwk").as_object();
  jwk["kid"] = "rfc7515-a3";
  auto as_printed = ParseClientJwk(boost::json::serialize(jwk));
  ASSERT_FALSE(as_printed.has_value());
  EXPECT_NE(as_printed.error().message().find("private"), std::string::npos);
  jwk.erase("d");
  auto public_only = ParseClientJwk(boost::json::serialize(jwk));
  ASSERT_FALSE(public_only.has_value());
  EXPECT_NE(public_only.error().message().find("P-384"), std::string::npos);
}

}  // namespace
}  // namespace medvault::identity
