#include "identity/webauthn.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <utility>

#include "core/base64.h"
#include "crypto/rsa_signature.h"
#include "identity/cbor_item.h"
#include "identity/cose_key.h"
#include "identity/webauthn_formats.h"

namespace medvault::identity {
namespace {

namespace json = boost::json;
namespace formats = webauthn_formats;
using Bytes = std::vector<std::uint8_t>;
using Sha256Digest = std::array<std::uint8_t, 32>;

constexpr std::size_t kMaxResponseJsonBytes = 64 * 1024;
// An RS256 signature is as long as the modulus: up to 8192 bits.
constexpr std::size_t kMaxSignatureBytes = crypto::kMaxRsaModulusBits / 8;
constexpr std::size_t kMaxUserHandleBytes = 64;

Sha256Digest Sha256(std::span<const std::uint8_t> bytes) {
  Sha256Digest digest{};
  unsigned int length = 0;
  // SHA-256 of bytes in memory cannot fail short of memory exhaustion; an all-zero digest
  // then matches nothing that was hashed properly.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    digest.fill(0);
  }
  return digest;
}

Sha256Digest Sha256(std::string_view text) {
  return Sha256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

bool EqualConstantTime(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view UserVerificationName(UserVerification user_verification) {
  return user_verification == UserVerification::kRequired ? "required" : "preferred";
}

std::string Base64Url(std::span<const std::uint8_t> bytes) {
  return EncodeBase64(bytes, Base64Alphabet::kUrlSafe);
}

json::array CredentialDescriptors(std::span<const std::vector<std::uint8_t>> ids) {
  json::array descriptors;
  for (const auto& id : ids) {
    descriptors.push_back(json::object{{"type", "public-key"}, {"id", Base64Url(id)}});
  }
  return descriptors;
}

// The members of a PublicKeyCredential's toJSON() that the ceremonies read, decoded.
struct CredentialResponse {
  Bytes id;
  Bytes client_data;
  Bytes attestation_object;  // registration
  Bytes authenticator_data;  // assertion
  Bytes signature;           // assertion
  Bytes user_handle;         // assertion, optional
};

enum class Ceremony { kRegistration, kAssertion };

Result<Bytes> DecodeMember(const json::object& object, std::string_view name,
                           std::size_t max_bytes) {
  const json::value* member = object.if_contains(name);
  const json::string* text = member != nullptr ? member->if_string() : nullptr;
  if (text == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "credential response lacks a required member");
  }
  // base64url carries 3 bytes in 4 characters.
  if (text->size() > (max_bytes / 3 + 1) * 4) {
    return Fail(ErrorCode::kInvalidArgument, "credential response member is too large");
  }
  auto bytes = DecodeBase64(std::string_view(text->data(), text->size()), Base64Alphabet::kUrlSafe);
  if (!bytes || bytes->size() > max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "credential response member is not valid base64url");
  }
  return std::move(*bytes);
}

Result<CredentialResponse> ParseCredentialResponse(std::string_view response_json,
                                                   Ceremony ceremony) {
  if (response_json.size() > kMaxResponseJsonBytes) {
    return Fail(ErrorCode::kInvalidArgument, "credential response is too large");
  }
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code error;
  const json::value value =
      json::parse(json::string_view(response_json.data(), response_json.size()), error,
                  json::storage_ptr(), options);
  const json::object* object = error ? nullptr : value.if_object();
  if (object == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "credential response is not a JSON object");
  }
  const json::value* type = object->if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "public-key") {
    return Fail(ErrorCode::kInvalidArgument, "credential type is not public-key");
  }
  CredentialResponse response;
  auto raw_id = DecodeMember(*object, "rawId", formats::kMaxCredentialIdBytes);
  if (!raw_id) return std::unexpected(raw_id.error());
  auto id = DecodeMember(*object, "id", formats::kMaxCredentialIdBytes);
  if (!id) return std::unexpected(id.error());
  if (raw_id->empty() || *raw_id != *id) {
    return Fail(ErrorCode::kInvalidArgument, "credential id and rawId differ");
  }
  response.id = std::move(*raw_id);

  const json::value* inner = object->if_contains("response");
  const json::object* body = inner != nullptr ? inner->if_object() : nullptr;
  if (body == nullptr)
    return Fail(ErrorCode::kInvalidArgument, "credential response lacks response");
  auto client_data = DecodeMember(*body, "clientDataJSON", formats::kMaxClientDataBytes);
  if (!client_data) return std::unexpected(client_data.error());
  response.client_data = std::move(*client_data);

  if (ceremony == Ceremony::kRegistration) {
    auto attestation =
        DecodeMember(*body, "attestationObject", formats::kMaxAttestationObjectBytes);
    if (!attestation) return std::unexpected(attestation.error());
    response.attestation_object = std::move(*attestation);
    return response;
  }
  auto auth_data = DecodeMember(*body, "authenticatorData", formats::kMaxAuthenticatorDataBytes);
  if (!auth_data) return std::unexpected(auth_data.error());
  response.authenticator_data = std::move(*auth_data);
  auto signature = DecodeMember(*body, "signature", kMaxSignatureBytes);
  if (!signature) return std::unexpected(signature.error());
  response.signature = std::move(*signature);
  if (const json::value* handle = body->if_contains("userHandle");
      handle != nullptr && !handle->is_null()) {
    auto user_handle = DecodeMember(*body, "userHandle", kMaxUserHandleBytes);
    if (!user_handle || user_handle->empty()) {
      return Fail(ErrorCode::kInvalidArgument, "userHandle must be 1 to 64 bytes of base64url");
    }
    response.user_handle = std::move(*user_handle);
  }
  return response;
}

// Section 7.1 steps 7-10 and 7.2 steps 11-14.
Status CheckClientData(const RelyingParty& rp, std::string_view expected_type,
                       std::span<const std::uint8_t> expected_challenge,
                       std::span<const std::uint8_t> client_data_json) {
  auto client_data = formats::ParseClientData(client_data_json);
  if (!client_data) return std::unexpected(client_data.error());
  if (client_data->type != expected_type) {
    return Fail(ErrorCode::kPermissionDenied, "client data type is not the ceremony's");
  }
  if (!EqualConstantTime(client_data->challenge, expected_challenge)) {
    return Fail(ErrorCode::kPermissionDenied, "client data challenge is not the one issued");
  }
  if (std::find(rp.origins.begin(), rp.origins.end(), client_data->origin) == rp.origins.end()) {
    return Fail(ErrorCode::kPermissionDenied, "client data origin is not allowed");
  }
  if (client_data->cross_origin && !rp.allow_cross_origin) {
    return Fail(ErrorCode::kPermissionDenied, "cross-origin ceremonies are not allowed");
  }
  if (client_data->token_binding_present) {
    return Fail(ErrorCode::kPermissionDenied, "token binding is not supported");
  }
  return {};
}

// Section 7.1 steps 13-15 and 7.2 steps 15-17.
Status CheckAuthenticatorData(const RelyingParty& rp, const formats::AuthenticatorData& data,
                              UserVerification user_verification) {
  const Sha256Digest rp_id_hash = Sha256(std::string_view(rp.id));
  if (!EqualConstantTime(data.rp_id_hash, rp_id_hash)) {
    return Fail(ErrorCode::kPermissionDenied, "authenticator data is for another RP ID");
  }
  if (!data.user_present()) {
    return Fail(ErrorCode::kPermissionDenied, "authenticator did not confirm user presence");
  }
  if (user_verification == UserVerification::kRequired && !data.user_verified()) {
    return Fail(ErrorCode::kPermissionDenied, "authenticator did not verify the user");
  }
  return {};
}

Bytes SignedData(std::span<const std::uint8_t> auth_data,
                 std::span<const std::uint8_t> client_data) {
  const Sha256Digest client_data_hash = Sha256(client_data);
  Bytes signed_data(auth_data.begin(), auth_data.end());
  signed_data.insert(signed_data.end(), client_data_hash.begin(), client_data_hash.end());
  return signed_data;
}

// "none": an empty statement. "packed" self-attestation: {alg, sig} signed by the credential's
// own key. Attestation with certificates (x5c) and every other format are refused: medvault
// asks for "none" and has no trust store of authenticator vendors.
Status CheckAttestationStatement(const formats::AttestationObject& object, const CosePublicKey& key,
                                 std::span<const std::uint8_t> client_data) {
  auto statement = DecodeCbor(object.statement);
  if (!statement || !cbor_isa_map(statement->get())) {
    return Fail(ErrorCode::kInvalidArgument, "attestation statement is malformed");
  }
  const cbor_item_t* map = statement->get();
  if (object.format == "none") {
    if (cbor_map_size(map) != 0) {
      return Fail(ErrorCode::kInvalidArgument, "attestation \"none\" must have an empty statement");
    }
    return {};
  }
  if (object.format != "packed") {
    return Fail(
        ErrorCode::kPermissionDenied,
        "attestation format is not supported (only \"none\" and \"packed\" self-attestation)");
  }
  std::optional<std::int64_t> alg;
  std::optional<std::span<const std::uint8_t>> sig;
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const auto name = CborText(pairs[i].key);
    if (name == "alg" && !alg) {
      alg = CborInteger(pairs[i].value);
      if (!alg)
        return Fail(ErrorCode::kInvalidArgument, "packed attestation alg is not an integer");
    } else if (name == "sig" && !sig) {
      sig = CborBytes(pairs[i].value);
      if (!sig) return Fail(ErrorCode::kInvalidArgument, "packed attestation sig is not bytes");
    } else if (name == "x5c") {
      return Fail(ErrorCode::kPermissionDenied,
                  "packed attestation with a certificate chain is not supported");
    } else {
      return Fail(ErrorCode::kInvalidArgument, "packed attestation has an unexpected member");
    }
  }
  if (!alg || !sig) return Fail(ErrorCode::kInvalidArgument, "packed attestation lacks alg or sig");
  if (*alg != static_cast<int>(key.algorithm())) {
    return Fail(ErrorCode::kPermissionDenied, "packed attestation alg is not the credential's");
  }
  if (!key.Verify(SignedData(object.auth_data, client_data), *sig)) {
    return Fail(ErrorCode::kPermissionDenied, "packed self-attestation signature does not verify");
  }
  return {};
}

Status CheckChallengeSize(std::span<const std::uint8_t> expected_challenge) {
  if (expected_challenge.size() < kMinChallengeBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the expected challenge is too short");
  }
  return {};
}

}  // namespace

std::string CreationOptionsJson(const RelyingParty& rp, std::span<const std::uint8_t> user_handle,
                                std::string_view user_name, std::string_view display_name,
                                std::span<const std::uint8_t> challenge,
                                std::span<const std::vector<std::uint8_t>> exclude_credential_ids,
                                UserVerification user_verification) {
  json::object options{
      {"challenge", Base64Url(challenge)},
      {"rp", json::object{{"id", rp.id}, {"name", rp.name}}},
      {"user",
       json::object{{"id", Base64Url(user_handle)},
                    {"name", json::string_view(user_name.data(), user_name.size())},
                    {"displayName", json::string_view(display_name.data(), display_name.size())}}},
      {"pubKeyCredParams",
       json::array{
           json::object{{"type", "public-key"}, {"alg", static_cast<int>(CoseAlgorithm::kEs256)}},
           json::object{{"type", "public-key"}, {"alg", static_cast<int>(CoseAlgorithm::kEdDsa)}},
           json::object{{"type", "public-key"}, {"alg", static_cast<int>(CoseAlgorithm::kRs256)}},
       }},
      {"timeout", kCeremonyTimeoutMs},
      {"excludeCredentials", CredentialDescriptors(exclude_credential_ids)},
      {"authenticatorSelection",
       json::object{{"residentKey", "preferred"},
                    {"requireResidentKey", false},
                    {"userVerification", UserVerificationName(user_verification)}}},
      {"attestation", "none"},
  };
  return json::serialize(options);
}

std::string RequestOptionsJson(const RelyingParty& rp, std::span<const std::uint8_t> challenge,
                               std::span<const std::vector<std::uint8_t>> allow_credential_ids,
                               UserVerification user_verification) {
  json::object options{
      {"challenge", Base64Url(challenge)},
      {"timeout", kCeremonyTimeoutMs},
      {"rpId", rp.id},
      {"allowCredentials", CredentialDescriptors(allow_credential_ids)},
      {"userVerification", UserVerificationName(user_verification)},
  };
  return json::serialize(options);
}

Result<RegisteredCredential> VerifyRegistration(const RelyingParty& rp,
                                                std::span<const std::uint8_t> expected_challenge,
                                                std::string_view response_json,
                                                UserVerification user_verification) {
  if (auto ok = CheckChallengeSize(expected_challenge); !ok) return std::unexpected(ok.error());
  auto response = ParseCredentialResponse(response_json, Ceremony::kRegistration);
  if (!response) return std::unexpected(response.error());
  if (auto ok = CheckClientData(rp, "webauthn.create", expected_challenge, response->client_data);
      !ok) {
    return std::unexpected(ok.error());
  }
  auto object = formats::ParseAttestationObject(response->attestation_object);
  if (!object) return std::unexpected(object.error());
  auto auth_data = formats::ParseAuthenticatorData(object->auth_data);
  if (!auth_data) return std::unexpected(auth_data.error());
  if (auto ok = CheckAuthenticatorData(rp, *auth_data, user_verification); !ok) {
    return std::unexpected(ok.error());
  }
  if (!auth_data->attested) {
    return Fail(ErrorCode::kInvalidArgument, "registration carries no attested credential data");
  }
  const formats::AttestedCredentialData& attested = *auth_data->attested;
  if (attested.credential_id != response->id) {
    return Fail(ErrorCode::kPermissionDenied, "credential id differs from the attested one");
  }
  auto key = CosePublicKey::Parse(attested.cose_public_key);
  if (!key) return std::unexpected(key.error());
  if (auto ok = CheckAttestationStatement(*object, *key, response->client_data); !ok) {
    return std::unexpected(ok.error());
  }
  RegisteredCredential credential;
  credential.id = attested.credential_id;
  credential.cose_public_key = attested.cose_public_key;
  credential.algorithm = static_cast<int>(key->algorithm());
  credential.sign_count = auth_data->sign_count;
  credential.user_verified = auth_data->user_verified();
  credential.aaguid = attested.aaguid;
  return credential;
}

Result<std::vector<std::uint8_t>> AssertionCredentialId(std::string_view response_json) {
  auto response = ParseCredentialResponse(response_json, Ceremony::kAssertion);
  if (!response) return std::unexpected(response.error());
  return std::move(response->id);
}

Result<AssertionOutcome> VerifyAssertion(const RelyingParty& rp,
                                         std::span<const std::uint8_t> expected_challenge,
                                         const RegisteredCredential& stored,
                                         std::string_view response_json,
                                         UserVerification user_verification) {
  if (auto ok = CheckChallengeSize(expected_challenge); !ok) return std::unexpected(ok.error());
  auto response = ParseCredentialResponse(response_json, Ceremony::kAssertion);
  if (!response) return std::unexpected(response.error());
  if (response->id != stored.id) {
    return Fail(ErrorCode::kPermissionDenied, "assertion is for another credential");
  }
  if (auto ok = CheckClientData(rp, "webauthn.get", expected_challenge, response->client_data);
      !ok) {
    return std::unexpected(ok.error());
  }
  auto auth_data = formats::ParseAuthenticatorData(response->authenticator_data);
  if (!auth_data) return std::unexpected(auth_data.error());
  if (auth_data->attested) {
    return Fail(ErrorCode::kInvalidArgument, "assertion carries attested credential data");
  }
  if (auto ok = CheckAuthenticatorData(rp, *auth_data, user_verification); !ok) {
    return std::unexpected(ok.error());
  }
  auto key = CosePublicKey::Parse(stored.cose_public_key);
  if (!key || static_cast<int>(key->algorithm()) != stored.algorithm) {
    return Fail(ErrorCode::kInternal, "stored credential key is unusable");
  }
  if (!key->Verify(SignedData(response->authenticator_data, response->client_data),
                   response->signature)) {
    return Fail(ErrorCode::kPermissionDenied, "assertion signature does not verify");
  }
  // Section 7.2 step 21, checked only once the signature proved the authenticator answered.
  const std::uint32_t count = auth_data->sign_count;
  if ((count != 0 || stored.sign_count != 0) && count <= stored.sign_count) {
    return Fail(ErrorCode::kDataLoss,
                "signature counter did not increase: possible cloned authenticator");
  }
  AssertionOutcome outcome;
  outcome.credential_id = std::move(response->id);
  outcome.sign_count = count;
  outcome.user_verified = auth_data->user_verified();
  outcome.user_handle = std::move(response->user_handle);
  return outcome;
}

}  // namespace medvault::identity
