// The three wire formats inside a WebAuthn response, parsed strictly and without judging
// them: authenticator data (WebAuthn level 2 section 6.1), the attestation object (6.5) and
// the client data JSON (5.8.1). webauthn.cc checks what they say against the ceremony; these
// parsers are separate so that the fuzz target reaches them directly.
//
// Every parser bounds its input, refuses trailing bytes and fails with kInvalidArgument and a
// fixed message (never quoting the input). Thread-safe: stateless.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace medvault::identity::webauthn_formats {

inline constexpr std::size_t kRpIdHashBytes = 32;
inline constexpr std::size_t kAaguidBytes = 16;
inline constexpr std::size_t kMaxCredentialIdBytes = 1023;
inline constexpr std::size_t kMaxAuthenticatorDataBytes = 8 * 1024;
inline constexpr std::size_t kMaxAttestationObjectBytes = 16 * 1024;
inline constexpr std::size_t kMaxClientDataBytes = 4 * 1024;

// Authenticator data flags (section 6.1).
inline constexpr std::uint8_t kFlagUserPresent = 0x01;
inline constexpr std::uint8_t kFlagUserVerified = 0x04;
inline constexpr std::uint8_t kFlagAttestedCredentialData = 0x40;
inline constexpr std::uint8_t kFlagExtensionData = 0x80;

struct AttestedCredentialData {
  std::array<std::uint8_t, kAaguidBytes> aaguid{};
  std::vector<std::uint8_t> credential_id;
  std::vector<std::uint8_t> cose_public_key;  // the COSE_Key's exact bytes, not yet parsed
};

struct AuthenticatorData {
  std::array<std::uint8_t, kRpIdHashBytes> rp_id_hash{};
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  std::optional<AttestedCredentialData> attested;  // present exactly when the AT flag is set
  std::vector<std::uint8_t> extensions;            // the CBOR map's bytes when the ED flag is set

  bool user_present() const { return (flags & kFlagUserPresent) != 0; }
  bool user_verified() const { return (flags & kFlagUserVerified) != 0; }
};

// rpIdHash (32) || flags (1) || signCount (4, big-endian) || attested credential data (when AT)
// || extensions (a CBOR map, when ED), and nothing after.
Result<AuthenticatorData> ParseAuthenticatorData(std::span<const std::uint8_t> bytes);

struct AttestationObject {
  std::string format;                   // "fmt"
  std::vector<std::uint8_t> statement;  // "attStmt", the CBOR map's exact bytes
  std::vector<std::uint8_t> auth_data;  // "authData"
};

// A CBOR map of exactly fmt (text), attStmt (map) and authData (bytes), nothing else.
Result<AttestationObject> ParseAttestationObject(std::span<const std::uint8_t> bytes);

struct ClientData {
  std::string type;
  std::vector<std::uint8_t> challenge;  // decoded from base64url
  std::string origin;
  bool cross_origin = false;
  bool token_binding_present = false;  // tokenBinding.status == "present"
};

// A JSON object with type, challenge (base64url), origin (strings), and optionally
// crossOrigin (bool), topOrigin and tokenBinding; other members are ignored, as the
// specification requires for forward compatibility.
Result<ClientData> ParseClientData(std::span<const std::uint8_t> json);

}  // namespace medvault::identity::webauthn_formats
