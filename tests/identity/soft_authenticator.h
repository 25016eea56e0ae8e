// A software WebAuthn authenticator and browser for the tests: real P-256, Ed25519 and RSA
// keys from OpenSSL, real CBOR from libcbor, and the JSON a browser's PublicKeyCredential.toJSON()
// produces. Every field a verifier checks can be set wrong on purpose through the Input
// structs, one at a time.
#pragma once

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base64.h"

namespace medvault::identity::testing {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::string_view kRpId = "medvault.example";
inline constexpr std::string_view kOrigin = "https://medvault.example";

inline constexpr std::uint8_t kUp = 0x01;
inline constexpr std::uint8_t kUv = 0x04;
inline constexpr std::uint8_t kAt = 0x40;
inline constexpr std::uint8_t kEd = 0x80;

inline Bytes Sha256Of(std::span<const std::uint8_t> bytes) {
  Bytes digest(32);
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

inline Bytes BytesOf(std::string_view text) { return {text.begin(), text.end()}; }

inline std::string B64(std::span<const std::uint8_t> bytes) {
  return EncodeBase64(bytes, Base64Alphabet::kUrlSafe);
}

// Serializes a libcbor item (taking ownership of it).
inline Bytes Serialize(cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  std::size_t capacity = 0;
  const std::size_t length = cbor_serialize_alloc(item, &buffer, &capacity);
  Bytes out(buffer, buffer + length);
  free(buffer);
  cbor_decref(&item);
  return out;
}

// The shortest encoding, as CTAP2's canonical CBOR requires.
inline cbor_item_t* CborUint(std::uint64_t value) {
  if (value <= 0xff) return cbor_build_uint8(static_cast<std::uint8_t>(value));
  if (value <= 0xffff) return cbor_build_uint16(static_cast<std::uint16_t>(value));
  if (value <= 0xffffffff) return cbor_build_uint32(static_cast<std::uint32_t>(value));
  return cbor_build_uint64(value);
}

inline cbor_item_t* CborInt(std::int64_t value) {
  if (value >= 0) return CborUint(static_cast<std::uint64_t>(value));
  cbor_item_t* item = CborUint(static_cast<std::uint64_t>(-1 - value));
  cbor_mark_negint(item);
  return item;
}

inline void MapAdd(cbor_item_t* map, cbor_item_t* key, cbor_item_t* value) {
  cbor_map_add(map, cbor_pair{cbor_move(key), cbor_move(value)});
}

// A COSE_Key map from (label, value) pairs, values being integers or byte strings.
struct CoseMember {
  std::int64_t label;
  std::optional<std::int64_t> integer;
  Bytes bytes;
};
inline Bytes CoseKeyOf(const std::vector<CoseMember>& members) {
  cbor_item_t* map = cbor_new_definite_map(members.size());
  for (const CoseMember& member : members) {
    cbor_item_t* value = member.integer
                             ? CborInt(*member.integer)
                             : cbor_build_bytestring(member.bytes.data(), member.bytes.size());
    MapAdd(map, CborInt(member.label), value);
  }
  return Serialize(map);
}

struct ClientDataInput {
  std::string type;
  Bytes challenge;
  std::string origin = std::string(kOrigin);
  std::optional<bool> cross_origin = false;
};

// The client data JSON in the member order browsers write it.
inline Bytes ClientDataJson(const ClientDataInput& input) {
  std::string text = "{\"type\":" + boost::json::serialize(boost::json::string(input.type)) +
                     ",\"challenge\":\"" + B64(input.challenge) +
                     "\",\"origin\":" + boost::json::serialize(boost::json::string(input.origin));
  if (input.cross_origin)
    text += std::string(",\"crossOrigin\":") + (*input.cross_origin ? "true" : "false");
  text += "}";
  return BytesOf(text);
}

struct RegistrationInput {
  ClientDataInput client{.type = "webauthn.create", .challenge = {}};
  std::string rp_id = std::string(kRpId);
  std::uint8_t flags = kUp | kUv | kAt;
  std::uint32_t sign_count = 0;
  std::string format = "none";         // "none", "packed" (self-attestation) or anything else
  std::optional<Bytes> cose_key;       // default: the authenticator's own key
  std::optional<Bytes> credential_id;  // in authData; default: the authenticator's
  std::optional<Bytes> raw_id;         // in the JSON; default: the authenticator's
  Bytes auth_data_suffix;              // appended to authData (extensions, or junk)
  std::size_t auth_data_cut = 0;       // bytes cut from the end of authData
  Bytes attestation_suffix;            // appended to the attestation object's CBOR
  bool statement_not_empty = false;    // "none" with a member in attStmt
};

struct AssertionInput {
  ClientDataInput client{.type = "webauthn.get", .challenge = {}};
  std::string rp_id = std::string(kRpId);
  std::uint8_t flags = kUp | kUv;
  std::uint32_t sign_count = 1;
  std::optional<Bytes> raw_id;
  Bytes user_handle;
  std::size_t auth_data_cut = 0;
  std::optional<std::size_t> flip_signature_byte;  // index into the signature
};

class SoftAuthenticator {
 public:
  enum class Algorithm { kEs256 = -7, kEdDsa = -8, kRs256 = -257 };

  // `rsa_bits` is the RS256 modulus size (a wrong one on purpose, in refusal tests).
  explicit SoftAuthenticator(Algorithm algorithm, Bytes credential_id = {0xc0, 0xff, 0xee, 0x01},
                             unsigned rsa_bits = 2048)
      : algorithm_(algorithm), credential_id_(std::move(credential_id)) {
    switch (algorithm) {
      case Algorithm::kEs256:
        key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        break;
      case Algorithm::kEdDsa:
        key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        break;
      case Algorithm::kRs256:
        key_.reset(EVP_RSA_gen(rsa_bits));
        break;
    }
    if (!key_) throw std::runtime_error("key generation failed");
  }

  Algorithm algorithm() const { return algorithm_; }
  const Bytes& credential_id() const { return credential_id_; }

  // An RS256 key's modulus and exponent, big-endian without leading zeros.
  Bytes RsaParam(const char* name) const {
    BIGNUM* value = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &value);
    Bytes out(static_cast<std::size_t>(BN_num_bytes(value)));
    BN_bn2bin(value, out.data());
    BN_free(value);
    return out;
  }

  Bytes CoseKey() const {
    if (algorithm_ == Algorithm::kRs256) {
      return CoseKeyOf({{1, 3, {}},
                        {3, -257, {}},
                        {-1, std::nullopt, RsaParam(OSSL_PKEY_PARAM_RSA_N)},
                        {-2, std::nullopt, RsaParam(OSSL_PKEY_PARAM_RSA_E)}});
    }
    if (algorithm_ == Algorithm::kEdDsa) {
      Bytes raw(32);
      std::size_t length = raw.size();
      EVP_PKEY_get_raw_public_key(key_.get(), raw.data(), &length);
      return CoseKeyOf({{1, 1, {}}, {3, -8, {}}, {-1, 6, {}}, {-2, std::nullopt, raw}});
    }
    Bytes point(65);
    std::size_t length = 0;
    EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                    point.size(), &length);
    return CoseKeyOf({{1, 2, {}},
                      {3, -7, {}},
                      {-1, 1, {}},
                      {-2, std::nullopt, Bytes(point.begin() + 1, point.begin() + 33)},
                      {-3, std::nullopt, Bytes(point.begin() + 33, point.end())}});
  }

  // ES256: DER ECDSA over SHA-256(message); EdDSA: Ed25519 over the message; RS256: PKCS#1
  // v1.5 (OpenSSL's default RSA padding) over SHA-256(message).
  Bytes Sign(std::span<const std::uint8_t> message) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, algorithm_ == Algorithm::kEdDsa ? nullptr : EVP_sha256(),
                       nullptr, key_.get());
    std::size_t length = 0;
    EVP_DigestSign(ctx.get(), nullptr, &length, message.data(), message.size());
    Bytes signature(length);
    EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size());
    signature.resize(length);
    return signature;
  }

  static Bytes AuthData(std::string_view rp_id, std::uint8_t flags, std::uint32_t sign_count) {
    Bytes data = Sha256Of(BytesOf(rp_id));
    data.push_back(flags);
    for (int shift = 24; shift >= 0; shift -= 8)
      data.push_back(static_cast<std::uint8_t>(sign_count >> shift));
    return data;
  }

  Bytes RegistrationAuthData(const RegistrationInput& input) const {
    Bytes data = AuthData(input.rp_id, input.flags, input.sign_count);
    if ((input.flags & kAt) != 0) {
      const Bytes aaguid(16, 0);
      data.insert(data.end(), aaguid.begin(), aaguid.end());
      const Bytes& id = input.credential_id ? *input.credential_id : credential_id_;
      data.push_back(static_cast<std::uint8_t>(id.size() >> 8));
      data.push_back(static_cast<std::uint8_t>(id.size()));
      data.insert(data.end(), id.begin(), id.end());
      const Bytes key = input.cose_key ? *input.cose_key : CoseKey();
      data.insert(data.end(), key.begin(), key.end());
    }
    data.insert(data.end(), input.auth_data_suffix.begin(), input.auth_data_suffix.end());
    data.resize(data.size() - input.auth_data_cut);
    return data;
  }

  Bytes AttestationObject(const RegistrationInput& input, const Bytes& client_data) const {
    const Bytes auth_data = RegistrationAuthData(input);
    cbor_item_t* statement = nullptr;
    if (input.format == "packed") {
      Bytes signed_data = auth_data;
      const Bytes hash = Sha256Of(client_data);
      signed_data.insert(signed_data.end(), hash.begin(), hash.end());
      const Bytes signature = Sign(signed_data);
      statement = cbor_new_definite_map(2);
      MapAdd(statement, cbor_build_string("alg"), CborInt(static_cast<int>(algorithm_)));
      MapAdd(statement, cbor_build_string("sig"),
             cbor_build_bytestring(signature.data(), signature.size()));
    } else if (input.statement_not_empty) {
      statement = cbor_new_definite_map(1);
      MapAdd(statement, cbor_build_string("x"), CborInt(1));
    } else {
      statement = cbor_new_definite_map(0);
    }
    cbor_item_t* object = cbor_new_definite_map(3);
    MapAdd(object, cbor_build_string("fmt"), cbor_build_string(input.format.c_str()));
    MapAdd(object, cbor_build_string("attStmt"), statement);
    MapAdd(object, cbor_build_string("authData"),
           cbor_build_bytestring(auth_data.data(), auth_data.size()));
    Bytes encoded = Serialize(object);
    encoded.insert(encoded.end(), input.attestation_suffix.begin(), input.attestation_suffix.end());
    return encoded;
  }

  // What navigator.credentials.create() resolves to, as toJSON() serializes it.
  std::string Register(const RegistrationInput& input) const {
    const Bytes client_data = ClientDataJson(input.client);
    const Bytes& raw_id = input.raw_id ? *input.raw_id : credential_id_;
    boost::json::object json{
        {"id", B64(raw_id)},
        {"rawId", B64(raw_id)},
        {"type", "public-key"},
        {"response",
         boost::json::object{{"clientDataJSON", B64(client_data)},
                             {"attestationObject", B64(AttestationObject(input, client_data))},
                             {"transports", boost::json::array{"internal"}}}},
        {"clientExtensionResults", boost::json::object{}},
        {"authenticatorAttachment", "platform"},
    };
    return boost::json::serialize(json);
  }

  // What navigator.credentials.get() resolves to, as toJSON() serializes it.
  std::string Assert(const AssertionInput& input) const {
    const Bytes client_data = ClientDataJson(input.client);
    Bytes auth_data = AuthData(input.rp_id, input.flags, input.sign_count);
    Bytes signed_data = auth_data;
    const Bytes hash = Sha256Of(client_data);
    signed_data.insert(signed_data.end(), hash.begin(), hash.end());
    Bytes signature = Sign(signed_data);
    if (input.flip_signature_byte) signature[*input.flip_signature_byte] ^= 0x01;
    auth_data.resize(auth_data.size() - input.auth_data_cut);
    const Bytes& raw_id = input.raw_id ? *input.raw_id : credential_id_;
    boost::json::object response{{"clientDataJSON", B64(client_data)},
                                 {"authenticatorData", B64(auth_data)},
                                 {"signature", B64(signature)}};
    if (!input.user_handle.empty()) response["userHandle"] = B64(input.user_handle);
    boost::json::object json{
        {"id", B64(raw_id)},
        {"rawId", B64(raw_id)},
        {"type", "public-key"},
        {"response", response},
        {"clientExtensionResults", boost::json::object{}},
    };
    return boost::json::serialize(json);
  }

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  Algorithm algorithm_;
  Bytes credential_id_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

}  // namespace medvault::identity::testing
