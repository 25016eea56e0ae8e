// The rows of the identity tables (migration 004_identity): accounts, their credentials,
// sessions, per-account throttling, one-time codes, API clients, used assertion ids and
// access tokens. Part of the store's public interface (included by store/store.h).
//
// The store keeps what identity gives it and never interprets secrets: a session or access
// token and a one-time code arrive as their SHA-256 only, a password as its PHC string, a TOTP
// secret sealed with AEAD by identity. Kinds and statuses are short fixed words chosen by
// identity; the store checks only their lengths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace medvault::store {

// One person's account. `login` is unique and compared bytewise: identity case-folds it
// before it reaches the store.
struct Account {
  std::string id;
  std::string login;
  std::string kind;    // patient | clinician | lab_technician | administrator | auditor
  std::string status;  // pending_enrollment | active | disabled | suspended
  std::string display_name;
  std::string patient_id;  // the patient's id for a patient account, else empty
  Timestamp created_at;
  Timestamp updated_at;
};

// One authentication factor of an account.
struct Credential {
  std::string id;
  std::string account_id;
  std::string kind;  // password | totp | passkey | recovery_code
  // The factor's material: a PHC string (password, recovery code), the AEAD-sealed TOTP
  // secret, or a passkey's COSE public key.
  std::vector<std::uint8_t> material;
  // A passkey's credential id (unique among passkeys), else empty.
  std::vector<std::uint8_t> external_id;
  // The TOTP's last used time step or the passkey's sign count; it only moves forward.
  std::int64_t counter = 0;
  std::int64_t algorithm = 0;  // a passkey's COSE algorithm, else 0
  Timestamp created_at;
};

enum class SessionStage : std::int64_t {
  kPendingSecondFactor = 0,  // password checked; not a session, opens nothing
  kSession = 1,              // both factors checked
  kEnrolling = 2,            // enrollment code and new password checked; opens enrollment only
};

// A login in progress or a session, keyed by the SHA-256 of its token.
struct SessionRecord {
  std::vector<std::uint8_t> token_hash;  // SHA-256 of the 256-bit token, 32 bytes
  std::string id;                        // a public handle for listing and ending one
  std::string account_id;
  SessionStage stage = SessionStage::kPendingSecondFactor;
  Timestamp created_at;
  Timestamp last_seen_at;
  Timestamp expires_at;        // absolute expiry
  Timestamp second_factor_at;  // last second-factor check (epoch when none yet)
  // The state of a ceremony in progress, single use: the last WebAuthn challenge issued, or
  // a sealed TOTP secret that awaits its first code.
  std::vector<std::uint8_t> challenge;
  std::string user_agent;  // a short summary ("Chrome on Linux")
  std::string source;      // the client's address
};

// Per-account login throttling; an account without a row has the zero state.
struct ThrottleState {
  std::string account_id;
  std::int64_t consecutive_failures = 0;
  Timestamp next_allowed_at;  // no attempt before this instant
  bool disabled = false;      // after too many failures, until an administrator resets it
};

// A single-use code (activation of a patient, enrollment of staff), kept as its SHA-256.
struct OneTimeCode {
  std::vector<std::uint8_t> code_hash;
  std::string purpose;  // activation | enrollment
  std::string subject;  // the account id (enrollment) or patient id (activation)
  Timestamp created_at;
  Timestamp expires_at;
};

// A machine client of the token endpoint (SMART Backend Services).
struct ApiClient {
  std::string client_id;
  std::string jwks;            // the registered public keys, JSON
  std::string allowed_scopes;  // space-separated SMART scopes
  std::string organization;
  Timestamp created_at;
};

// An access token given to an API client, kept as its SHA-256.
struct AccessToken {
  std::vector<std::uint8_t> token_hash;
  std::string client_id;
  std::string scopes;
  Timestamp created_at;
  Timestamp expires_at;
};

// Longest JWKS and scope list the store accepts.
inline constexpr std::size_t kMaxJwksBytes = 16 * 1024;
inline constexpr std::size_t kMaxScopesBytes = 4 * 1024;
// Longest credential material (a COSE key, a sealed secret, a PHC string).
inline constexpr std::size_t kMaxCredentialBytes = 4 * 1024;

}  // namespace medvault::store
