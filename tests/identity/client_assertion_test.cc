#include "identity/client_assertion.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "identity/test_jwt_signer.h"

namespace medvault::identity {
namespace {

using testing::B64;
using testing::TestSigner;

constexpr std::string_view kClientId = "lab-analyzer-7f3c";
constexpr std::string_view kTokenEndpoint = "https://medvault.example/auth/token";
constexpr std::string_view kKid = "key-2026-11";
constexpr std::int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z

Timestamp Now() { return Timestamp(std::chrono::seconds(kNow)); }

// Key generation is slow (RSA-3072): one pair of each for the whole suite.
const TestSigner& Rsa() {
  static const TestSigner signer = TestSigner::Rsa(3072);
  return signer;
}
const TestSigner& Ec() {
  static const TestSigner signer = TestSigner::P384();
  return signer;
}

boost::json::object ValidHeader(const TestSigner& signer) {
  return {{"alg", signer.alg()}, {"kid", kKid}, {"typ", "JWT"}};
}

boost::json::object ValidClaims() {
  return {{"iss", kClientId},  {"sub", kClientId}, {"aud", kTokenEndpoint},
          {"exp", kNow + 240}, {"iat", kNow},      {"jti", "b7d1c1a2-0f0e-4c1d-9d57-1c3e"}};
}

std::string Sign(const TestSigner& signer, const boost::json::object& header,
                 const boost::json::object& claims) {
  return signer.Jwt(boost::json::serialize(header), boost::json::serialize(claims));
}

std::vector<ClientKey> KeysOf(const TestSigner& signer) {
  auto key = ParseClientJwk(signer.PublicJwk(kKid));
  EXPECT_TRUE(key.has_value()) << key.error().message();
  return {*key};
}

Result<ClientAssertion> Verify(const TestSigner& signer, std::string_view jwt) {
  return VerifyClientAssertion(jwt, KeysOf(signer), kClientId, kTokenEndpoint, Now());
}

// A refusal with the expected code whose message names the check and quotes nothing sent.
void ExpectRefused(const Result<ClientAssertion>& result, ErrorCode code, std::string_view check) {
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), code) << result.error().message();
  EXPECT_NE(result.error().message().find(check), std::string::npos) << result.error().message();
  for (std::string_view sent : {kClientId, kKid, std::string_view("b7d1c1a2"), kTokenEndpoint}) {
    EXPECT_EQ(result.error().message().find(sent), std::string::npos) << result.error().message();
  }
}

// ---- Keys -------------------------------------------------------------------------------------

TEST(ClientJwk, ParsesRsa3072ForRs384) {
  auto key = ParseClientJwk(Rsa().PublicJwk(kKid));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->kid(), kKid);
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kRs384);
  EXPECT_EQ(key->SubjectPublicKeyInfoDer(), Rsa().SubjectPublicKeyInfoDer());
}

TEST(ClientJwk, ParsesP384ForEs384) {
  auto key = ParseClientJwk(Ec().PublicJwk(kKid));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kEs384);
  EXPECT_EQ(key->SubjectPublicKeyInfoDer(), Ec().SubjectPublicKeyInfoDer());
}

TEST(ClientJwk, AcceptsMatchingAlgUseAndKeyOps) {
  boost::json::object jwk = Ec().PublicJwkObject();
  jwk["kid"] = kKid;
  jwk["alg"] = "ES384";
  jwk["use"] = "sig";
  jwk["key_ops"] = boost::json::array{"verify"};
  EXPECT_TRUE(ParseClientJwk(boost::json::serialize(jwk)).has_value());
}

void ExpectJwkRefused(const boost::json::object& jwk, std::string_view check) {
  auto key = ParseClientJwk(boost::json::serialize(jwk));
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(key.error().message().find(check), std::string::npos) << key.error().message();
}

boost::json::object WithKid(const TestSigner& signer) {
  boost::json::object jwk = signer.PublicJwkObject();
  jwk["kid"] = kKid;
  return jwk;
}

TEST(ClientJwk, RefusesPrivateMembers) {
  for (std::string_view member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    boost::json::object jwk = WithKid(Rsa());
    jwk[member] = "AQAB";
    ExpectJwkRefused(jwk, "private");
  }
  boost::json::object ec = WithKid(Ec());
  ec["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
  ExpectJwkRefused(ec, "private");
}

TEST(ClientJwk, RequiresKid) { ExpectJwkRefused(Ec().PublicJwkObject(), "kid"); }

TEST(ClientJwk, RefusesAnAlgOtherThanTheKeyTypes) {
  boost::json::object rsa = WithKid(Rsa());
  rsa["alg"] = "RS256";
  ExpectJwkRefused(rsa, "alg");
  rsa["alg"] = "ES384";
  ExpectJwkRefused(rsa, "alg");
  boost::json::object ec = WithKid(Ec());
  ec["alg"] = "RS384";
  ExpectJwkRefused(ec, "alg");
}

TEST(ClientJwk, RefusesRsaUnder2048Bits) {
  ExpectJwkRefused(WithKid(TestSigner::Rsa(1024)), "2048");
  ExpectJwkRefused(WithKid(TestSigner::Rsa(2040)), "2048");
  EXPECT_TRUE(ParseClientJwk(TestSigner::Rsa(2048).PublicJwk(kKid)).has_value());
}

TEST(ClientJwk, RefusesAPointOffTheCurve) {
  boost::json::object jwk = WithKid(Ec());
  auto y = DecodeBase64(jwk["y"].as_string(), Base64Alphabet::kUrlSafe).value();
  y.back() ^= 0x01;
  jwk["y"] = B64(y);
  ExpectJwkRefused(jwk, "P-384");
}

TEST(ClientJwk, RefusesOtherCurvesAndShortCoordinates) {
  boost::json::object p256 = WithKid(Ec());
  p256["crv"] = "P-256";
  ExpectJwkRefused(p256, "P-384");
  boost::json::object shorter = WithKid(Ec());
  auto x = DecodeBase64(shorter["x"].as_string(), Base64Alphabet::kUrlSafe).value();
  x.erase(x.begin());
  shorter["x"] = B64(x);
  ExpectJwkRefused(shorter, "48 bytes");
}

TEST(ClientJwk, RefusesALeadingZeroOctetInTheModulus) {
  boost::json::object jwk = WithKid(Rsa());
  auto n = DecodeBase64(jwk["n"].as_string(), Base64Alphabet::kUrlSafe).value();
  n.insert(n.begin(), 0);
  jwk["n"] = B64(n);
  ExpectJwkRefused(jwk, "leading zero");
}

TEST(ClientJwk, RefusesOtherKeyTypesUsesAndMalformedJson) {
  ExpectJwkRefused({{"kty", "oct"}, {"kid", kKid}}, "kty");
  ExpectJwkRefused({{"kty", "OKP"}, {"kid", kKid}, {"crv", "Ed25519"}, {"x", "AQAB"}}, "kty");
  boost::json::object enc = WithKid(Ec());
  enc["use"] = "enc";
  ExpectJwkRefused(enc, "use");
  boost::json::object ops = WithKid(Ec());
  ops["key_ops"] = boost::json::array{"sign"};
  ExpectJwkRefused(ops, "key_ops");
  for (std::string_view text : {"", "[]", "{", "{\"kty\":\"EC\"", "null", "\"RSA\""}) {
    auto key = ParseClientJwk(text);
    ASSERT_FALSE(key.has_value());
    EXPECT_EQ(key.error().code(), ErrorCode::kInvalidArgument);
  }
  boost::json::object padded = WithKid(Rsa());
  padded["e"] = "AQAB==";
  ExpectJwkRefused(padded, "base64url");
}

TEST(ClientJwks, ParsesAKeySetOfBothKinds) {
  boost::json::object rsa = WithKid(Rsa());
  boost::json::object ec = Ec().PublicJwkObject();
  ec["kid"] = "second";
  auto keys = ParseClientJwks(boost::json::serialize(boost::json::object{{"keys", {rsa, ec}}}));
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].algorithm(), JwsAlgorithm::kRs384);
  EXPECT_EQ((*keys)[1].kid(), "second");
}

TEST(ClientJwks, RefusesDuplicateKidsEmptySetsAndAnyBadKey) {
  boost::json::object ec = WithKid(Ec());
  auto duplicate = ParseClientJwks(boost::json::serialize(boost::json::object{{"keys", {ec, ec}}}));
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_NE(duplicate.error().message().find("kid"), std::string::npos);
  EXPECT_FALSE(ParseClientJwks(R"({"keys":[]})").has_value());
  EXPECT_FALSE(ParseClientJwks(R"({"keys":{}})").has_value());
  EXPECT_FALSE(ParseClientJwks(boost::json::serialize(ec)).has_value());
  boost::json::object secret = ec;
  secret["kid"] = "other";
  secret["d"] = "AQAB";
  EXPECT_FALSE(ParseClientJwks(boost::json::serialize(boost::json::object{{"keys", {ec, secret}}}))
                   .has_value());
}

// ---- Assertions: what passes ---------------------------------------------------------------

TEST(ClientAssertion, AcceptsAValidRs384Assertion) {
  auto accepted = Verify(Rsa(), Sign(Rsa(), ValidHeader(Rsa()), ValidClaims()));
  ASSERT_TRUE(accepted.has_value()) << accepted.error().message();
  EXPECT_EQ(accepted->client_id, kClientId);
  EXPECT_EQ(accepted->jti, "b7d1c1a2-0f0e-4c1d-9d57-1c3e");
  EXPECT_EQ(accepted->expires_at, Timestamp(std::chrono::seconds(kNow + 240)));
}

TEST(ClientAssertion, AcceptsAValidEs384Assertion) {
  auto accepted = Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), ValidClaims()));
  ASSERT_TRUE(accepted.has_value()) << accepted.error().message();
  EXPECT_EQ(accepted->jti, "b7d1c1a2-0f0e-4c1d-9d57-1c3e");
}

TEST(ClientAssertion, PicksTheKeyByKidAmongSeveral) {
  auto rsa = ParseClientJwk(Rsa().PublicJwk("rsa-key")).value();
  auto ec = ParseClientJwk(Ec().PublicJwk(kKid)).value();
  std::vector<ClientKey> keys{rsa, ec};
  auto accepted = VerifyClientAssertion(Sign(Ec(), ValidHeader(Ec()), ValidClaims()), keys,
                                        kClientId, kTokenEndpoint, Now());
  EXPECT_TRUE(accepted.has_value());
}

TEST(ClientAssertion, AcceptsAnAudienceArrayThatHoldsTheEndpoint) {
  boost::json::object claims = ValidClaims();
  claims["aud"] = boost::json::array{"https://other.example/token", kTokenEndpoint};
  EXPECT_TRUE(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)).has_value());
}

TEST(ClientAssertion, AcceptsAHeaderWithoutTyp) {
  boost::json::object header = ValidHeader(Ec());
  header.erase("typ");
  EXPECT_TRUE(Verify(Ec(), Sign(Ec(), header, ValidClaims())).has_value());
}

TEST(ClientAssertion, ExpiryBoundsAreInclusiveOfTheSkewAndNoMore) {
  boost::json::object claims = ValidClaims();
  claims["exp"] = kNow - 29;  // expired 29 s ago: within the 30 s skew
  EXPECT_TRUE(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)).has_value());
  claims["exp"] = kNow - 30;
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "exp has passed");
  claims["exp"] = kNow + 330;  // 5 minutes plus the skew
  EXPECT_TRUE(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)).has_value());
  claims["exp"] = kNow + 331;
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "5 minutes");
}

// ---- Assertions: each check, with only that thing wrong ------------------------------------

TEST(ClientAssertion, RefusesAlgNone) {
  boost::json::object header = ValidHeader(Ec());
  header["alg"] = "none";
  const std::string unsigned_input =
      B64(boost::json::serialize(header)) + "." + B64(boost::json::serialize(ValidClaims()));
  ExpectRefused(Verify(Ec(), unsigned_input + "."), ErrorCode::kInvalidArgument, "empty part");
  ExpectRefused(Verify(Ec(), unsigned_input + ".AAAA"), ErrorCode::kPermissionDenied, "none");
  // Even the signature of the real key does not make alg none acceptable.
  ExpectRefused(Verify(Ec(), unsigned_input + "." + B64(Ec().SignJws(unsigned_input))),
                ErrorCode::kPermissionDenied, "none");
}

TEST(ClientAssertion, RefusesHs384KeyedWithThePublicKey) {
  // The classic confusion attack: HMAC keyed with the server's copy of the public key.
  for (const TestSigner* signer : {&Rsa(), &Ec()}) {
    boost::json::object header = ValidHeader(*signer);
    header["alg"] = "HS384";
    const std::string input =
        B64(boost::json::serialize(header)) + "." + B64(boost::json::serialize(ValidClaims()));
    const std::vector<std::uint8_t> der = signer->SubjectPublicKeyInfoDer();
    for (const std::string& secret :
         {boost::json::serialize(signer->PublicJwkObject()), std::string(der.begin(), der.end())}) {
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_length = 0;
      HMAC(EVP_sha384(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_length);
      ExpectRefused(Verify(*signer, input + "." + B64(std::span(mac, mac_length))),
                    ErrorCode::kPermissionDenied, "symmetric");
    }
  }
}

TEST(ClientAssertion, RefusesAlgorithmsOutsideRs384AndEs384) {
  for (std::string_view alg : {"RS256", "RS512", "ES256", "ES512", "PS384", "EdDSA", "rs384"}) {
    boost::json::object header = ValidHeader(Rsa());
    header["alg"] = alg;
    ExpectRefused(Verify(Rsa(), Sign(Rsa(), header, ValidClaims())), ErrorCode::kPermissionDenied,
                  "not RS384 or ES384");
  }
}

TEST(ClientAssertion, RefusesAnAlgThatIsNotTheKeys) {
  // An ES384 header naming the RSA key's kid, signed by the EC key: the key decides, not the
  // token.
  boost::json::object header = ValidHeader(Ec());
  ExpectRefused(Verify(Rsa(), Sign(Ec(), header, ValidClaims())), ErrorCode::kPermissionDenied,
                "does not match");
  ExpectRefused(Verify(Ec(), Sign(Rsa(), ValidHeader(Rsa()), ValidClaims())),
                ErrorCode::kPermissionDenied, "does not match");
}

TEST(ClientAssertion, RefusesAnUnknownOrMissingKid) {
  boost::json::object header = ValidHeader(Ec());
  header["kid"] = "key-2026-10";
  ExpectRefused(Verify(Ec(), Sign(Ec(), header, ValidClaims())), ErrorCode::kPermissionDenied,
                "kid");
  header.erase("kid");
  ExpectRefused(Verify(Ec(), Sign(Ec(), header, ValidClaims())), ErrorCode::kPermissionDenied,
                "no kid");
  // No keys registered at all.
  ExpectRefused(VerifyClientAssertion(Sign(Ec(), ValidHeader(Ec()), ValidClaims()), {}, kClientId,
                                      kTokenEndpoint, Now()),
                ErrorCode::kPermissionDenied, "kid");
}

TEST(ClientAssertion, RefusesAChangedSignatureByte) {
  for (const TestSigner* signer : {&Rsa(), &Ec()}) {
    const std::string jwt = Sign(*signer, ValidHeader(*signer), ValidClaims());
    const std::size_t dot = jwt.rfind('.');
    auto signature = DecodeBase64(jwt.substr(dot + 1), Base64Alphabet::kUrlSafe).value();
    for (std::size_t at : {std::size_t{0}, signature.size() / 2, signature.size() - 1}) {
      auto changed = signature;
      changed[at] ^= 0x40;
      ExpectRefused(Verify(*signer, jwt.substr(0, dot + 1) + B64(changed)),
                    ErrorCode::kPermissionDenied, "signature");
    }
  }
}

TEST(ClientAssertion, RefusesClaimsChangedAfterSigning) {
  const std::string jwt = Sign(Ec(), ValidHeader(Ec()), ValidClaims());
  const std::size_t first = jwt.find('.');
  const std::size_t second = jwt.rfind('.');
  boost::json::object claims = ValidClaims();
  claims["exp"] = kNow + 200;
  const std::string forged =
      jwt.substr(0, first + 1) + B64(boost::json::serialize(claims)) + jwt.substr(second);
  ExpectRefused(Verify(Ec(), forged), ErrorCode::kPermissionDenied, "signature");
}

TEST(ClientAssertion, RefusesDerInsteadOfRawEs384Signature) {
  const std::string input = B64(boost::json::serialize(ValidHeader(Ec()))) + "." +
                            B64(boost::json::serialize(ValidClaims()));
  ExpectRefused(Verify(Ec(), input + "." + B64(Ec().SignNative(input))),
                ErrorCode::kPermissionDenied, "signature");
}

TEST(ClientAssertion, RefusesAnExpiredAssertion) {
  boost::json::object claims = ValidClaims();
  claims["exp"] = kNow - 3600;
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "exp has passed");
}

TEST(ClientAssertion, RefusesAnExpiryMoreThanFiveMinutesAway) {
  boost::json::object claims = ValidClaims();
  claims["exp"] = kNow + 3600;
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "5 minutes");
}

TEST(ClientAssertion, RefusesAMissingOrNonNumericExp) {
  boost::json::object claims = ValidClaims();
  claims.erase("exp");
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "no exp");
  claims["exp"] = std::to_string(kNow + 60);
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kInvalidArgument,
                "exp");
}

TEST(ClientAssertion, RefusesAnotherAudience) {
  boost::json::object claims = ValidClaims();
  claims["aud"] = "https://medvault.example/auth/token/";
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "aud");
  claims["aud"] = boost::json::array{"https://other.example/token"};
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "aud");
  claims.erase("aud");
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "aud");
}

TEST(ClientAssertion, RefusesIssDifferentFromSub) {
  boost::json::object claims = ValidClaims();
  claims["sub"] = "another-client";
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "sub");
  claims = ValidClaims();
  claims["iss"] = "another-client";
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "iss");
}

TEST(ClientAssertion, RefusesAnAssertionOfAnotherClient) {
  // iss == sub, signed by this key, but for a client_id the token request did not name.
  auto result = VerifyClientAssertion(Sign(Ec(), ValidHeader(Ec()), ValidClaims()), KeysOf(Ec()),
                                      "another-client", kTokenEndpoint, Now());
  ExpectRefused(result, ErrorCode::kPermissionDenied, "iss");
}

TEST(ClientAssertion, RefusesAMissingJti) {
  boost::json::object claims = ValidClaims();
  claims.erase("jti");
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "jti");
}

TEST(ClientAssertion, RefusesAnEmptyOrTooLongJti) {
  boost::json::object claims = ValidClaims();
  claims["jti"] = "";
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "jti");
  claims["jti"] = std::string(257, 'j');
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                "jti");
  claims["jti"] = std::string(256, 'j');
  EXPECT_TRUE(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)).has_value());
}

TEST(ClientAssertion, RefusesNbfOrIatInTheFuture) {
  for (std::string_view name : {"nbf", "iat"}) {
    boost::json::object claims = ValidClaims();
    claims[name] = kNow + 30;
    EXPECT_TRUE(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)).has_value()) << name;
    claims[name] = kNow + 31;
    ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kPermissionDenied,
                  std::string(name) + " is in the future");
  }
}

TEST(ClientAssertion, RefusesAnExtraOrMissingDot) {
  const std::string jwt = Sign(Ec(), ValidHeader(Ec()), ValidClaims());
  ExpectRefused(Verify(Ec(), jwt + "."), ErrorCode::kInvalidArgument, "three parts");
  ExpectRefused(Verify(Ec(), jwt + ".AAAA"), ErrorCode::kInvalidArgument, "three parts");
  ExpectRefused(Verify(Ec(), jwt.substr(0, jwt.rfind('.'))), ErrorCode::kInvalidArgument,
                "three parts");
  ExpectRefused(Verify(Ec(), ""), ErrorCode::kInvalidArgument, "three parts");
}

TEST(ClientAssertion, RefusesBadBase64Url) {
  const std::string jwt = Sign(Ec(), ValidHeader(Ec()), ValidClaims());
  const std::size_t dot = jwt.rfind('.');
  std::string standard = jwt;  // the standard alphabet's '+' and '/' are not base64url
  standard[dot + 1] = '+';
  ExpectRefused(Verify(Ec(), standard), ErrorCode::kInvalidArgument, "base64url");
  ExpectRefused(Verify(Ec(), jwt + "=="), ErrorCode::kInvalidArgument, "base64url");
  ExpectRefused(Verify(Ec(), jwt.substr(0, dot) + " " + jwt.substr(dot)),
                ErrorCode::kInvalidArgument, "base64url");
  // A header that is base64url but not JSON.
  ExpectRefused(Verify(Ec(), B64("alg=ES384") + jwt.substr(jwt.find('.'))),
                ErrorCode::kInvalidArgument, "JSON");
}

TEST(ClientAssertion, RefusesTypOtherThanJwt) {
  boost::json::object header = ValidHeader(Ec());
  header["typ"] = "JOSE+JSON";
  ExpectRefused(Verify(Ec(), Sign(Ec(), header, ValidClaims())), ErrorCode::kInvalidArgument,
                "typ");
}

TEST(ClientAssertion, RefusesCritAndKeysNamedOrEmbeddedInTheHeader) {
  boost::json::object crit = ValidHeader(Ec());
  crit["crit"] = boost::json::array{"exp"};
  ExpectRefused(Verify(Ec(), Sign(Ec(), crit, ValidClaims())), ErrorCode::kPermissionDenied,
                "crit");
  for (std::string_view member : {"jku", "jwk", "x5u", "x5c"}) {
    boost::json::object header = ValidHeader(Ec());
    if (member == "jwk") {
      header[member] = Ec().PublicJwkObject();
    } else {
      header[member] = "https://attacker.example/keys";
    }
    ExpectRefused(Verify(Ec(), Sign(Ec(), header, ValidClaims())), ErrorCode::kPermissionDenied,
                  "registered keys");
  }
}

TEST(ClientAssertion, RefusesAnOversizedToken) {
  boost::json::object claims = ValidClaims();
  claims["padding"] = std::string(kMaxAssertionBytes, 'p');
  ExpectRefused(Verify(Ec(), Sign(Ec(), ValidHeader(Ec()), claims)), ErrorCode::kInvalidArgument,
                "8 KiB");
}

TEST(CompactJws, DuplicateHeaderNamesTheLastCounts) {
  // RFC 7515 §4: reject, or let the lexically last duplicate count. Boost.JSON keeps the last.
  const std::string header = R"({"alg":"none","kid":"k","alg":"ES384"})";
  auto jws = ParseCompactJws(B64(header) + "." + B64("{}") + ".AAAA");
  ASSERT_TRUE(jws.has_value()) << jws.error().message();
  EXPECT_EQ(jws->alg, "ES384");
}

}  // namespace
}  // namespace medvault::identity
