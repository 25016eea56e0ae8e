// Passkeys: the relying party's side of the WebAuthn level 2 registration and authentication
// ceremonies (https://www.w3.org/TR/webauthn-2/ sections 7.1 and 7.2), for ES256, EdDSA and RS256
// credentials with attestation "none" (and "packed" self-attestation).
//
// Security property: VerifyRegistration returns a credential only when the browser's response
// answers this challenge, comes from one of the relying party's origins (same-origin unless
// allowed), is scoped to the RP ID, shows user presence (and user verification when required)
// and carries a supported, valid public key. VerifyAssertion accepts an assertion only when,
// in addition, its signature over authenticatorData || SHA-256(clientDataJSON) verifies under
// the stored key and the signature counter moved forward (or both counters are zero, for
// authenticators without one). Challenges are compared in constant time.
//
// Errors: kInvalidArgument for a response that is malformed (bad JSON, base64url, CBOR or
// authenticator data, oversized members) or whose key is not ES256, EdDSA or RS256, and for an
// expected challenge shorter than kMinChallengeBytes; kPermissionDenied for a well-formed response
// that fails a ceremony check; kDataLoss when the signature is valid but the counter did not move
// forward (possible cloned authenticator: refuse the login and raise an alert). Messages name
// the check that failed and never quote the response. This library stores nothing: the caller
// keeps the challenge (single use, with an expiry), the credential and its new sign count.
//
// Thread-safe: every function is stateless.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace medvault::identity {

struct RelyingParty {
  std::string id;                    // the RP ID: a registrable domain, e.g. "medvault.example"
  std::string name;                  // shown by the browser
  std::vector<std::string> origins;  // exact origins allowed, e.g. "https://medvault.example"
  // Whether a ceremony run in a cross-origin iframe is accepted (clientData.crossOrigin true;
  // its topOrigin is then not checked).
  bool allow_cross_origin = false;
};

enum class UserVerification { kRequired, kPreferred };

// A challenge shorter than this is refused by the Verify functions (the specification asks
// for at least 16 random bytes).
inline constexpr std::size_t kMinChallengeBytes = 16;
// The timeout offered to the browser, in milliseconds.
inline constexpr int kCeremonyTimeoutMs = 300000;

// The JSON for `PublicKeyCredential.parseCreationOptionsFromJSON()`: base64url challenge,
// user.id and excluded ids; ES256, EdDSA and RS256; residentKey "preferred"; attestation "none".
std::string CreationOptionsJson(const RelyingParty& rp, std::span<const std::uint8_t> user_handle,
                                std::string_view user_name, std::string_view display_name,
                                std::span<const std::uint8_t> challenge,
                                std::span<const std::vector<std::uint8_t>> exclude_credential_ids,
                                UserVerification user_verification);

// The JSON for `PublicKeyCredential.parseRequestOptionsFromJSON()`. An empty allow list asks
// for a discoverable credential (the user picks the account in the browser).
std::string RequestOptionsJson(const RelyingParty& rp, std::span<const std::uint8_t> challenge,
                               std::span<const std::vector<std::uint8_t>> allow_credential_ids,
                               UserVerification user_verification);

// What to store for a new passkey.
struct RegisteredCredential {
  std::vector<std::uint8_t> id;
  std::vector<std::uint8_t> cose_public_key;  // the COSE_Key bytes, as the authenticator sent them
  int algorithm = 0;                          // COSE: -7 (ES256), -8 (EdDSA) or -257 (RS256)
  std::uint32_t sign_count = 0;
  bool user_verified = false;
  std::array<std::uint8_t, 16> aaguid{};  // the authenticator model (all zero with "none")
};

// `response_json` is what the browser's PublicKeyCredential serializes to (toJSON(): id,
// rawId, type, response.clientDataJSON and response.attestationObject in base64url).
Result<RegisteredCredential> VerifyRegistration(const RelyingParty& rp,
                                                std::span<const std::uint8_t> expected_challenge,
                                                std::string_view response_json,
                                                UserVerification user_verification);

struct AssertionOutcome {
  std::vector<std::uint8_t> credential_id;
  std::uint32_t sign_count = 0;  // store it as the credential's new count
  bool user_verified = false;
  // response.userHandle, empty when the browser sent none. When it is not empty the caller
  // must check it is the user handle of the credential's account (section 7.2 step 6).
  std::vector<std::uint8_t> user_handle;
};

// The credential id named by an assertion (its rawId), to look the stored credential up
// first. kInvalidArgument when the JSON is malformed or id and rawId differ.
Result<std::vector<std::uint8_t>> AssertionCredentialId(std::string_view response_json);

// `response_json` is the toJSON() of an assertion: id, rawId, type, response.clientDataJSON,
// response.authenticatorData, response.signature, optional response.userHandle.
Result<AssertionOutcome> VerifyAssertion(const RelyingParty& rp,
                                         std::span<const std::uint8_t> expected_challenge,
                                         const RegisteredCredential& stored,
                                         std::string_view response_json,
                                         UserVerification user_verification);

}  // namespace medvault::identity
