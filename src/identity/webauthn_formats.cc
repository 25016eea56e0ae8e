#include "identity/webauthn_formats.h"

#include <boost/json.hpp>

#include "core/base64.h"
#include "identity/cbor_item.h"

namespace medvault::identity::webauthn_formats {
namespace {

namespace json = boost::json;

constexpr std::size_t kFixedAuthDataBytes = kRpIdHashBytes + 1 + 4;
constexpr std::size_t kMaxChallengeBytes = 1024;

std::uint32_t BigEndian32(std::span<const std::uint8_t> bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

}  // namespace

Result<AuthenticatorData> ParseAuthenticatorData(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxAuthenticatorDataBytes) {
    return Fail(ErrorCode::kInvalidArgument, "authenticator data is too large");
  }
  if (bytes.size() < kFixedAuthDataBytes) {
    return Fail(ErrorCode::kInvalidArgument, "authenticator data is truncated");
  }
  AuthenticatorData data;
  std::copy_n(bytes.begin(), kRpIdHashBytes, data.rp_id_hash.begin());
  data.flags = bytes[kRpIdHashBytes];
  data.sign_count = BigEndian32(bytes.subspan(kRpIdHashBytes + 1, 4));
  std::span<const std::uint8_t> rest = bytes.subspan(kFixedAuthDataBytes);

  if ((data.flags & kFlagAttestedCredentialData) != 0) {
    if (rest.size() < kAaguidBytes + 2) {
      return Fail(ErrorCode::kInvalidArgument, "attested credential data is truncated");
    }
    AttestedCredentialData attested;
    std::copy_n(rest.begin(), kAaguidBytes, attested.aaguid.begin());
    const std::size_t id_length = (std::size_t{rest[kAaguidBytes]} << 8) | rest[kAaguidBytes + 1];
    rest = rest.subspan(kAaguidBytes + 2);
    if (id_length == 0 || id_length > kMaxCredentialIdBytes) {
      return Fail(ErrorCode::kInvalidArgument, "credential id length is out of range");
    }
    if (rest.size() < id_length) {
      return Fail(ErrorCode::kInvalidArgument, "credential id is truncated");
    }
    attested.credential_id.assign(rest.begin(), rest.begin() + id_length);
    rest = rest.subspan(id_length);
    // The COSE key is the one CBOR item that follows; only its encoding says where it ends.
    auto key_length = CborItemLength(rest);
    if (!key_length) return Fail(ErrorCode::kInvalidArgument, "credential public key is malformed");
    attested.cose_public_key.assign(rest.begin(), rest.begin() + *key_length);
    rest = rest.subspan(*key_length);
    data.attested = std::move(attested);
  }

  if ((data.flags & kFlagExtensionData) != 0) {
    auto extensions = DecodeCbor(rest);
    if (!extensions || !cbor_isa_map(extensions->get())) {
      return Fail(ErrorCode::kInvalidArgument, "authenticator extensions are malformed");
    }
    data.extensions.assign(rest.begin(), rest.end());
    rest = {};
  }
  if (!rest.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "authenticator data has trailing bytes");
  }
  return data;
}

Result<AttestationObject> ParseAttestationObject(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxAttestationObjectBytes) {
    return Fail(ErrorCode::kInvalidArgument, "attestation object is too large");
  }
  auto decoded = DecodeCbor(bytes);
  if (!decoded) return Fail(ErrorCode::kInvalidArgument, "attestation object is malformed CBOR");
  const cbor_item_t* map = decoded->get();
  if (!cbor_isa_map(map) || cbor_map_size(map) != 3) {
    return Fail(ErrorCode::kInvalidArgument, "attestation object must be a map of three members");
  }
  AttestationObject object;
  bool have_format = false, have_statement = false, have_auth_data = false;
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const auto key = CborText(pairs[i].key);
    const cbor_item_t* value = pairs[i].value;
    if (key == "fmt" && !have_format) {
      const auto format = CborText(value);
      if (!format) return Fail(ErrorCode::kInvalidArgument, "attestation fmt is not text");
      object.format.assign(*format);
      have_format = true;
    } else if (key == "attStmt" && !have_statement) {
      if (!cbor_isa_map(value)) {
        return Fail(ErrorCode::kInvalidArgument, "attestation statement is not a map");
      }
      unsigned char* serialized = nullptr;
      std::size_t capacity = 0;
      const std::size_t length = cbor_serialize_alloc(value, &serialized, &capacity);
      if (length == 0 || serialized == nullptr) {
        free(serialized);
        return Fail(ErrorCode::kInternal, "attestation statement could not be re-encoded");
      }
      object.statement.assign(serialized, serialized + length);
      free(serialized);
      have_statement = true;
    } else if (key == "authData" && !have_auth_data) {
      const auto auth_data = CborBytes(value);
      if (!auth_data) return Fail(ErrorCode::kInvalidArgument, "authData is not a byte string");
      object.auth_data.assign(auth_data->begin(), auth_data->end());
      have_auth_data = true;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "attestation object has an unexpected or duplicate member");
    }
  }
  return object;
}

Result<ClientData> ParseClientData(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxClientDataBytes) {
    return Fail(ErrorCode::kInvalidArgument, "client data is too large");
  }
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code error;
  const json::value value =
      json::parse(json::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  error, json::storage_ptr(), options);
  if (error || !value.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "client data is not a JSON object");
  }
  const json::object& object = value.get_object();
  const auto text = [&](std::string_view name) -> const json::string* {
    const json::value* member = object.if_contains(name);
    return member != nullptr ? member->if_string() : nullptr;
  };
  const json::string* type = text("type");
  const json::string* challenge = text("challenge");
  const json::string* origin = text("origin");
  if (type == nullptr || challenge == nullptr || origin == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "client data lacks type, challenge or origin");
  }
  ClientData data;
  data.type.assign(type->begin(), type->end());
  data.origin.assign(origin->begin(), origin->end());
  if (challenge->size() > kMaxChallengeBytes * 2) {
    return Fail(ErrorCode::kInvalidArgument, "client data challenge is too long");
  }
  auto decoded = DecodeBase64(std::string_view(challenge->data(), challenge->size()),
                              Base64Alphabet::kUrlSafe);
  if (!decoded) return Fail(ErrorCode::kInvalidArgument, "client data challenge is not base64url");
  data.challenge = std::move(*decoded);
  if (const json::value* cross = object.if_contains("crossOrigin"); cross != nullptr) {
    if (!cross->is_bool()) {
      return Fail(ErrorCode::kInvalidArgument, "client data crossOrigin is not a boolean");
    }
    data.cross_origin = cross->get_bool();
  }
  if (const json::value* binding = object.if_contains("tokenBinding"); binding != nullptr) {
    const json::object* binding_object = binding->if_object();
    const json::value* status =
        binding_object != nullptr ? binding_object->if_contains("status") : nullptr;
    if (status == nullptr || !status->is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "client data tokenBinding is malformed");
    }
    data.token_binding_present = status->get_string() == "present";
  }
  return data;
}

}  // namespace medvault::identity::webauthn_formats
