// The WebAuthn ceremonies against a software authenticator that builds real attestation
// objects and assertions. Each refusal test changes exactly one thing from a ceremony that
// the matching acceptance test shows to pass.
#include "identity/webauthn.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "identity/soft_authenticator.h"

namespace medvault::identity {
namespace {

using testing::AssertionInput;
using testing::B64;
using testing::Bytes;
using testing::RegistrationInput;
using testing::SoftAuthenticator;
using Algorithm = SoftAuthenticator::Algorithm;

const Bytes kChallenge = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                          0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};
const Bytes kUserHandle = {0x75, 0x73, 0x65, 0x72, 0x2d, 0x34, 0x32};

RelyingParty Rp() {
  return RelyingParty{.id = std::string(testing::kRpId),
                      .name = "medvault",
                      .origins = {std::string(testing::kOrigin)}};
}

RegistrationInput GoodRegistration() {
  RegistrationInput input;
  input.client.challenge = kChallenge;
  return input;
}

AssertionInput GoodAssertion() {
  AssertionInput input;
  input.client.challenge = kChallenge;
  return input;
}

Result<RegisteredCredential> Register(const SoftAuthenticator& authenticator,
                                      const RegistrationInput& input,
                                      UserVerification uv = UserVerification::kRequired,
                                      const RelyingParty& rp = Rp()) {
  return VerifyRegistration(rp, kChallenge, authenticator.Register(input), uv);
}

RegisteredCredential MustRegister(const SoftAuthenticator& authenticator) {
  auto credential = Register(authenticator, GoodRegistration());
  EXPECT_TRUE(credential) << credential.error().message();
  return credential.value_or(RegisteredCredential{});
}

Result<AssertionOutcome> Assert(const SoftAuthenticator& authenticator,
                                const RegisteredCredential& stored, const AssertionInput& input,
                                UserVerification uv = UserVerification::kRequired,
                                const RelyingParty& rp = Rp()) {
  return VerifyAssertion(rp, kChallenge, stored, authenticator.Assert(input), uv);
}

// Refused with `code`, by the check whose message contains `reason`: a refusal for another
// cause would hide that the check under test does nothing.
template <typename T>
void ExpectRefused(const Result<T>& result, ErrorCode code, std::string_view reason) {
  ASSERT_FALSE(result) << "accepted a ceremony that should fail (" << reason << ")";
  EXPECT_EQ(result.error().code(), code) << result.error().message();
  EXPECT_NE(result.error().message().find(reason), std::string::npos)
      << "refused for another reason: " << result.error().message();
}

std::string AlgorithmName(const ::testing::TestParamInfo<Algorithm>& info) {
  switch (info.param) {
    case Algorithm::kEs256:
      return "Es256";
    case Algorithm::kEdDsa:
      return "EdDsa";
    case Algorithm::kRs256:
      return "Rs256";
  }
  return "Unknown";
}

class WebAuthnEveryAlgorithm : public ::testing::TestWithParam<Algorithm> {};
INSTANTIATE_TEST_SUITE_P(Keys, WebAuthnEveryAlgorithm,
                         ::testing::Values(Algorithm::kEs256, Algorithm::kEdDsa, Algorithm::kRs256),
                         AlgorithmName);

// ---- Registration ----

TEST_P(WebAuthnEveryAlgorithm, RegistrationWithAttestationNoneIsAccepted) {
  SoftAuthenticator authenticator(GetParam());
  RegistrationInput input = GoodRegistration();
  input.sign_count = 7;
  auto credential = Register(authenticator, input);
  ASSERT_TRUE(credential) << credential.error().message();
  EXPECT_EQ(credential->id, authenticator.credential_id());
  EXPECT_EQ(credential->cose_public_key, authenticator.CoseKey());
  EXPECT_EQ(credential->algorithm, static_cast<int>(GetParam()));
  EXPECT_EQ(credential->sign_count, 7u);
  EXPECT_TRUE(credential->user_verified);
}

TEST_P(WebAuthnEveryAlgorithm, PackedSelfAttestationIsAccepted) {
  SoftAuthenticator authenticator(GetParam());
  RegistrationInput input = GoodRegistration();
  input.format = "packed";
  auto credential = Register(authenticator, input);
  ASSERT_TRUE(credential) << credential.error().message();
  EXPECT_EQ(credential->algorithm, static_cast<int>(GetParam()));
}

TEST_P(WebAuthnEveryAlgorithm, PackedSelfAttestationByAnotherKeyIsRefused) {
  SoftAuthenticator authenticator(GetParam());
  SoftAuthenticator other(GetParam());
  RegistrationInput input = GoodRegistration();
  input.format = "packed";
  input.cose_key = other.CoseKey();  // authData names a key that did not sign the statement
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied,
                "packed self-attestation signature");
}

TEST(WebAuthnRegistration, WrongChallengeIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.client.challenge.back() ^= 0x01;
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied, "challenge");
}

TEST(WebAuthnRegistration, WrongOriginIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.client.origin = "https://medvault.example.evil";
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied, "origin");
}

TEST(WebAuthnRegistration, WrongTypeIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.client.type = "webauthn.get";
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied, "type");
}

TEST(WebAuthnRegistration, CrossOriginIsRefusedUnlessAllowed) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.client.cross_origin = true;
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied, "cross-origin");
  RelyingParty rp = Rp();
  rp.allow_cross_origin = true;
  EXPECT_TRUE(Register(authenticator, input, UserVerification::kRequired, rp));
}

TEST(WebAuthnRegistration, ClientDataWithoutCrossOriginIsSameOrigin) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.client.cross_origin.reset();
  EXPECT_TRUE(Register(authenticator, input));
}

TEST(WebAuthnRegistration, WrongRpIdHashIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.rp_id = "evil.example";
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied, "RP ID");
}

TEST(WebAuthnRegistration, MissingUserPresenceIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.flags = testing::kUv | testing::kAt;
  ExpectRefused(Register(authenticator, input, UserVerification::kPreferred),
                ErrorCode::kPermissionDenied, "user presence");
}

TEST(WebAuthnRegistration, MissingUserVerificationIsRefusedOnlyWhenRequired) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.flags = testing::kUp | testing::kAt;
  ExpectRefused(Register(authenticator, input, UserVerification::kRequired),
                ErrorCode::kPermissionDenied, "verify the user");
  auto preferred = Register(authenticator, input, UserVerification::kPreferred);
  ASSERT_TRUE(preferred) << preferred.error().message();
  EXPECT_FALSE(preferred->user_verified);
}

TEST(WebAuthnRegistration, MissingAttestedCredentialDataIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.flags = testing::kUp | testing::kUv;
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument,
                "no attested credential data");
}

TEST(WebAuthnRegistration, UnsupportedAlgorithmsAreRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const Bytes coordinate(48, 0x11);
  const std::vector<std::pair<Bytes, std::string_view>> keys = {
      {testing::CoseKeyOf({{1, 3, {}},
                           {3, -37, {}},
                           {-1, std::nullopt, Bytes(256, 0xab)},
                           {-2, std::nullopt, {0x01, 0x00, 0x01}}}),
       "COSE algorithm is not supported"},  // PS256
      {testing::CoseKeyOf({{1, 2, {}},
                           {3, -257, {}},
                           {-1, std::nullopt, Bytes(256, 0xab)},
                           {-2, std::nullopt, {0x01, 0x00, 0x01}}}),
       "RS256 key must be an RSA key"},  // RS256 claimed with kty EC2
      {testing::CoseKeyOf({{1, 2, {}},
                           {3, -35, {}},
                           {-1, 2, {}},
                           {-2, std::nullopt, coordinate},
                           {-3, std::nullopt, coordinate}}),
       "COSE algorithm is not supported"},  // ES384
      {testing::CoseKeyOf({{1, 2, {}},
                           {3, -7, {}},
                           {-1, 2, {}},
                           {-2, std::nullopt, coordinate},
                           {-3, std::nullopt, coordinate}}),
       "ES256 key must be an EC2 P-256 point"},  // ES256 claimed on P-384
      {testing::CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-1, 7, {}}, {-2, std::nullopt, Bytes(57, 1)}}),
       "EdDSA key must be an OKP Ed25519 key"},  // EdDSA claimed with Ed448
  };
  for (const auto& [key, reason] : keys) {
    RegistrationInput input = GoodRegistration();
    input.cose_key = key;
    ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument, reason);
  }
}

TEST(WebAuthnRegistration, Rs256KeyUnder2048BitsIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kRs256, {0xc0, 0xff, 0xee, 0x01}, 1024);
  ExpectRefused(Register(authenticator, GoodRegistration()), ErrorCode::kInvalidArgument,
                "shorter than 2048 bits");
}

TEST(WebAuthnRegistration, Es256PointOffTheCurveIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.cose_key = testing::CoseKeyOf({{1, 2, {}},
                                       {3, -7, {}},
                                       {-1, 1, {}},
                                       {-2, std::nullopt, Bytes(32, 0x01)},
                                       {-3, std::nullopt, Bytes(32, 0x02)}});
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument,
                "not a valid P-256 public key");
}

TEST(WebAuthnRegistration, CoseKeyWithUnexpectedMemberIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEdDsa);
  Bytes raw_key(32, 0x66);  // the Ed25519 base point
  raw_key[0] = 0x58;
  RegistrationInput input = GoodRegistration();
  input.cose_key = testing::CoseKeyOf({{1, 1, {}},
                                       {3, -8, {}},
                                       {-1, 6, {}},
                                       {-2, std::nullopt, raw_key},
                                       {-4, std::nullopt, raw_key}});
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument, "unexpected member");
}

TEST(WebAuthnRegistration, TrailingBytesAfterTheAttestationObjectAreRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.attestation_suffix = {0x00};
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument,
                "attestation object is malformed");
}

TEST(WebAuthnRegistration, TruncatedAuthenticatorDataIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  // 37 fixed bytes, 16 aaguid, 2 id length, 4 id, 77 COSE key: 136 bytes.
  ASSERT_EQ(authenticator.RegistrationAuthData(GoodRegistration()).size(), 136u);
  const std::vector<std::pair<std::size_t, std::string_view>> cuts = {
      {1, "credential public key is malformed"},
      {136 - 57, "credential id is truncated"},
      {136 - 40, "attested credential data is truncated"},
      {136 - 36, "authenticator data is truncated"},
  };
  for (const auto& [cut, reason] : cuts) {
    RegistrationInput input = GoodRegistration();
    input.auth_data_cut = cut;
    ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument, reason);
  }
}

TEST(WebAuthnRegistration, TrailingBytesAfterTheCoseKeyAreRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.auth_data_suffix = {0xa0};  // an extensions map, but the ED flag is not set
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument, "trailing bytes");
}

TEST(WebAuthnRegistration, ExtensionsAreAcceptedWhenFlagged) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.flags |= testing::kEd;
  // {"credProtect": 2}
  input.auth_data_suffix = {0xa1, 0x6b, 'c', 'r', 'e', 'd', 'P',
                            'r',  'o',  't', 'e', 'c', 't', 0x02};
  EXPECT_TRUE(Register(authenticator, input));
}

TEST(WebAuthnRegistration, OtherAttestationFormatsAreRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  for (const char* format : {"fido-u2f", "tpm", "android-key", "apple", ""}) {
    RegistrationInput input = GoodRegistration();
    input.format = format;
    ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied,
                  "attestation format is not supported");
  }
}

TEST(WebAuthnRegistration, AttestationNoneWithAStatementIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.statement_not_empty = true;
  ExpectRefused(Register(authenticator, input), ErrorCode::kInvalidArgument, "empty statement");
}

TEST(WebAuthnRegistration, RawIdThatIsNotTheAttestedCredentialIdIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  input.raw_id = Bytes{0x01, 0x02, 0x03};
  ExpectRefused(Register(authenticator, input), ErrorCode::kPermissionDenied,
                "credential id differs");
}

TEST(WebAuthnRegistration, CredentialIdOfUpTo1023BytesIsAcceptedAndLongerRefused) {
  SoftAuthenticator longest(Algorithm::kEs256, Bytes(1023, 0x5a));
  EXPECT_TRUE(Register(longest, GoodRegistration()));
  SoftAuthenticator too_long(Algorithm::kEs256, Bytes(1024, 0x5a));
  EXPECT_FALSE(Register(too_long, GoodRegistration()));
}

TEST(WebAuthnRegistration, ShortExpectedChallengeIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegistrationInput input = GoodRegistration();
  const Bytes short_challenge(kChallenge.begin(), kChallenge.begin() + 15);
  input.client.challenge = short_challenge;
  auto result = VerifyRegistration(Rp(), short_challenge, authenticator.Register(input),
                                   UserVerification::kRequired);
  ExpectRefused(result, ErrorCode::kInvalidArgument, "challenge is too short");
}

TEST(WebAuthnRegistration, MalformedResponsesAreRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const std::string good = authenticator.Register(GoodRegistration());
  boost::json::object parsed = boost::json::parse(good).as_object();
  const auto with = [&](auto change) {
    boost::json::object copy = parsed;
    change(copy);
    return boost::json::serialize(copy);
  };
  const std::vector<std::string> bad = {
      "",
      "[]",
      "{",
      good.substr(0, good.size() - 1),
      with([](auto& o) { o["type"] = "password"; }),
      with([](auto& o) { o["id"] = B64(Bytes{0x09}); }),
      with([](auto& o) { o["rawId"] = "not base64url!"; }),
      with([](auto& o) { o.erase("response"); }),
      with([](auto& o) { o["response"].as_object().erase("attestationObject"); }),
      with([](auto& o) { o["response"].as_object()["clientDataJSON"] = 5; }),
      with([](auto& o) {
        o["response"].as_object()["clientDataJSON"] = B64(testing::BytesOf("{}"));
      }),
      with([](auto& o) {
        o["response"].as_object()["clientDataJSON"] = B64(testing::BytesOf("not json"));
      }),
      with([](auto& o) { o["response"].as_object()["attestationObject"] = B64(Bytes{0xa0}); }),
  };
  for (const std::string& response : bad) {
    auto result = VerifyRegistration(Rp(), kChallenge, response, UserVerification::kRequired);
    EXPECT_FALSE(result) << response;
  }
}

// ---- Authentication ----

TEST_P(WebAuthnEveryAlgorithm, AssertionIsAcceptedAndReturnsTheNewCount) {
  SoftAuthenticator authenticator(GetParam());
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.sign_count = 5;
  input.user_handle = kUserHandle;
  auto outcome = Assert(authenticator, stored, input);
  ASSERT_TRUE(outcome) << outcome.error().message();
  EXPECT_EQ(outcome->credential_id, authenticator.credential_id());
  EXPECT_EQ(outcome->sign_count, 5u);
  EXPECT_TRUE(outcome->user_verified);
  EXPECT_EQ(outcome->user_handle, kUserHandle);
}

TEST_P(WebAuthnEveryAlgorithm, FlippedSignatureByteIsRefused) {
  SoftAuthenticator authenticator(GetParam());
  const RegisteredCredential stored = MustRegister(authenticator);
  for (std::size_t index : {std::size_t{0}, std::size_t{10}, std::size_t{40}}) {
    AssertionInput input = GoodAssertion();
    input.flip_signature_byte = index;
    ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied,
                  "signature does not verify");
  }
}

TEST_P(WebAuthnEveryAlgorithm, SignatureByAnotherKeyIsRefused) {
  SoftAuthenticator authenticator(GetParam());
  SoftAuthenticator impostor(GetParam());  // same credential id, another key
  const RegisteredCredential stored = MustRegister(authenticator);
  ExpectRefused(Assert(impostor, stored, GoodAssertion()), ErrorCode::kPermissionDenied,
                "signature does not verify");
}

TEST(WebAuthnAssertion, WrongChallengeIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.client.challenge.front() ^= 0x80;
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied, "challenge");
}

TEST(WebAuthnAssertion, WrongOriginIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.client.origin = "http://medvault.example";
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied, "origin");
}

TEST(WebAuthnAssertion, WrongTypeIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.client.type = "webauthn.create";
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied, "type");
}

TEST(WebAuthnAssertion, CrossOriginIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.client.cross_origin = true;
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied, "cross-origin");
}

TEST(WebAuthnAssertion, WrongRpIdHashIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.rp_id = "example";
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied, "RP ID");
}

TEST(WebAuthnAssertion, MissingUserPresenceIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.flags = testing::kUv;
  ExpectRefused(Assert(authenticator, stored, input, UserVerification::kPreferred),
                ErrorCode::kPermissionDenied, "user presence");
}

TEST(WebAuthnAssertion, MissingUserVerificationIsRefusedOnlyWhenRequired) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.flags = testing::kUp;
  ExpectRefused(Assert(authenticator, stored, input, UserVerification::kRequired),
                ErrorCode::kPermissionDenied, "verify the user");
  auto preferred = Assert(authenticator, stored, input, UserVerification::kPreferred);
  ASSERT_TRUE(preferred) << preferred.error().message();
  EXPECT_FALSE(preferred->user_verified);
}

TEST(WebAuthnAssertion, SignCountThatDoesNotIncreaseIsPossibleClone) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegisteredCredential stored = MustRegister(authenticator);
  stored.sign_count = 10;
  for (std::uint32_t count : {10u, 9u, 0u}) {
    AssertionInput input = GoodAssertion();
    input.sign_count = count;
    ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kDataLoss,
                  "possible cloned authenticator");
  }
  AssertionInput next = GoodAssertion();
  next.sign_count = 11;
  EXPECT_TRUE(Assert(authenticator, stored, next));
}

TEST(WebAuthnAssertion, AuthenticatorWithoutCounterKeepsZero) {
  SoftAuthenticator authenticator(Algorithm::kEdDsa);
  const RegisteredCredential stored = MustRegister(authenticator);
  ASSERT_EQ(stored.sign_count, 0u);
  AssertionInput input = GoodAssertion();
  input.sign_count = 0;
  auto outcome = Assert(authenticator, stored, input);
  ASSERT_TRUE(outcome) << outcome.error().message();
  EXPECT_EQ(outcome->sign_count, 0u);
}

TEST(WebAuthnAssertion, CountCheckRunsOnlyAfterTheSignature) {
  // A forged assertion with an old count must not raise a clone alert.
  SoftAuthenticator authenticator(Algorithm::kEs256);
  RegisteredCredential stored = MustRegister(authenticator);
  stored.sign_count = 10;
  AssertionInput input = GoodAssertion();
  input.sign_count = 3;
  input.flip_signature_byte = 20;
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied,
                "signature does not verify");
}

TEST(WebAuthnAssertion, TruncatedAuthenticatorDataIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.auth_data_cut = 1;
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kInvalidArgument,
                "authenticator data is truncated");
}

TEST(WebAuthnAssertion, AssertionForAnotherCredentialIsRefused) {
  SoftAuthenticator authenticator(Algorithm::kEs256);
  const RegisteredCredential stored = MustRegister(authenticator);
  AssertionInput input = GoodAssertion();
  input.raw_id = Bytes{0x0b, 0xad};
  ExpectRefused(Assert(authenticator, stored, input), ErrorCode::kPermissionDenied,
                "another credential");
}

TEST(WebAuthnAssertion, CredentialIdIsReadBeforeVerification) {
  SoftAuthenticator authenticator(Algorithm::kEdDsa, Bytes{1, 2, 3, 4, 5, 6, 7, 8});
  auto id = AssertionCredentialId(authenticator.Assert(GoodAssertion()));
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_FALSE(AssertionCredentialId("{\"id\":\"AQ\",\"rawId\":\"Ag\",\"type\":\"public-key\"}"));
}

// ---- Responses a real browser produced (tests/identity/testdata/README.md) ----

std::string ReadTestData(const std::string& name) {
  std::ifstream in(std::string(MEDVAULT_SOURCE_DIR) + "/tests/identity/testdata/" + name);
  EXPECT_TRUE(in) << "missing test data " << name;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

RelyingParty ChromiumRp() {
  return RelyingParty{.id = "localhost", .name = "medvault", .origins = {"http://localhost:18443"}};
}

class WebAuthnChromium : public ::testing::TestWithParam<Algorithm> {};
INSTANTIATE_TEST_SUITE_P(Keys, WebAuthnChromium,
                         ::testing::Values(Algorithm::kEs256, Algorithm::kEdDsa, Algorithm::kRs256),
                         AlgorithmName);

TEST_P(WebAuthnChromium, RegistrationAndAssertionFromChromiumVerify) {
  const std::string suffix = GetParam() == Algorithm::kEs256   ? "_es256.json"
                             : GetParam() == Algorithm::kEdDsa ? "_eddsa.json"
                                                               : "_rs256.json";
  const Bytes registration_challenge(32, 0xc1);
  const Bytes assertion_challenge(32, 0xc2);
  auto credential = VerifyRegistration(ChromiumRp(), registration_challenge,
                                       ReadTestData("chromium_registration" + suffix),
                                       UserVerification::kRequired);
  ASSERT_TRUE(credential) << credential.error().message();
  EXPECT_EQ(credential->algorithm, static_cast<int>(GetParam()));
  EXPECT_EQ(credential->sign_count, 1u);
  EXPECT_TRUE(credential->user_verified);

  const std::string assertion = ReadTestData("chromium_assertion" + suffix);
  auto id = AssertionCredentialId(assertion);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, credential->id);
  auto outcome = VerifyAssertion(ChromiumRp(), assertion_challenge, *credential, assertion,
                                 UserVerification::kRequired);
  ASSERT_TRUE(outcome) << outcome.error().message();
  EXPECT_EQ(outcome->sign_count, 2u);
  EXPECT_EQ(outcome->user_handle, testing::BytesOf("u-42"));

  // The same assertion again, once its count is stored: a replay or a clone.
  RegisteredCredential after = *credential;
  after.sign_count = outcome->sign_count;
  ExpectRefused(VerifyAssertion(ChromiumRp(), assertion_challenge, after, assertion,
                                UserVerification::kRequired),
                ErrorCode::kDataLoss, "possible cloned authenticator");
  // Against another challenge (the one of the registration).
  ExpectRefused(VerifyAssertion(ChromiumRp(), registration_challenge, *credential, assertion,
                                UserVerification::kRequired),
                ErrorCode::kPermissionDenied, "challenge");
}

// ---- Options ----

TEST(WebAuthnOptions, CreationOptionsHaveTheShapeBrowsersParse) {
  const std::vector<Bytes> exclude = {{0x01, 0x02}, {0xff}};
  const std::string text = CreationOptionsJson(Rp(), kUserHandle, "nurse\"joy", "Joy \xc3\x89lise",
                                               kChallenge, exclude, UserVerification::kRequired);
  const boost::json::object options = boost::json::parse(text).as_object();
  EXPECT_EQ(options.at("challenge").as_string(), B64(kChallenge));
  EXPECT_EQ(options.at("rp").at("id").as_string(), testing::kRpId);
  EXPECT_EQ(options.at("rp").at("name").as_string(), "medvault");
  EXPECT_EQ(options.at("user").at("id").as_string(), B64(kUserHandle));
  EXPECT_EQ(options.at("user").at("name").as_string(), "nurse\"joy");
  EXPECT_EQ(options.at("user").at("displayName").as_string(), "Joy \xc3\x89lise");
  const auto& params = options.at("pubKeyCredParams").as_array();
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].at("type").as_string(), "public-key");
  EXPECT_EQ(params[0].at("alg").as_int64(), -7);
  EXPECT_EQ(params[1].at("alg").as_int64(), -8);
  EXPECT_EQ(params[2].at("alg").as_int64(), -257);
  EXPECT_EQ(options.at("timeout").as_int64(), kCeremonyTimeoutMs);
  const auto& excluded = options.at("excludeCredentials").as_array();
  ASSERT_EQ(excluded.size(), 2u);
  EXPECT_EQ(excluded[0].at("id").as_string(), B64(exclude[0]));
  EXPECT_EQ(excluded[1].at("type").as_string(), "public-key");
  EXPECT_EQ(options.at("authenticatorSelection").at("residentKey").as_string(), "preferred");
  EXPECT_EQ(options.at("authenticatorSelection").at("userVerification").as_string(), "required");
  EXPECT_EQ(options.at("attestation").as_string(), "none");
}

TEST(WebAuthnOptions, RequestOptionsHaveTheShapeBrowsersParse) {
  const std::vector<Bytes> allow = {{0x0a, 0x0b, 0x0c}};
  const boost::json::object options =
      boost::json::parse(RequestOptionsJson(Rp(), kChallenge, allow, UserVerification::kPreferred))
          .as_object();
  EXPECT_EQ(options.at("challenge").as_string(), B64(kChallenge));
  EXPECT_EQ(options.at("rpId").as_string(), testing::kRpId);
  EXPECT_EQ(options.at("timeout").as_int64(), kCeremonyTimeoutMs);
  EXPECT_EQ(options.at("userVerification").as_string(), "preferred");
  const auto& allowed = options.at("allowCredentials").as_array();
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_EQ(allowed[0].at("type").as_string(), "public-key");
  EXPECT_EQ(allowed[0].at("id").as_string(), B64(allow[0]));
}

}  // namespace
}  // namespace medvault::identity
