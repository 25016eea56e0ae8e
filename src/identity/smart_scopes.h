// SMART on FHIR scopes (SMART App Launch 2, "Scopes and Launch Context"): what an access token
// lets a client do, as `context/ResourceType.permissions`.
//
// Grammar accepted (anything else is kInvalidArgument, with a message that quotes nothing):
// - context: `patient`, `user` or `system`;
// - resource type: one of the FHIR R4 types medvault serves (kSmartResourceTypes), or `*`;
// - permissions, SMART v2: a non-empty subset of `c r u d s`, each at most once and in that
//   order (`.cruds`, `.rs`, `.cu`); SMART v1 aliases: `.read` = rs, `.write` = cud, `.*` = cruds.
// Refused on purpose:
// - v2 query restrictions (`patient/Observation.rs?category=laboratory`): medvault's policy
//   cannot enforce them yet, and granting the scope without them would widen it;
// - `openid`, `fhirUser`, `profile`, `launch`, `launch/patient`, `launch/encounter`,
//   `offline_access`, `online_access`: recognised, and refused because medvault issues tokens
//   only to backend (machine) clients, which have no user, launch or refresh token.
// Scopes are separated by single spaces (RFC 6749 §3.3); at most kMaxScopes of them.
// Thread safety: every function is stateless.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace medvault::identity {

inline constexpr std::size_t kMaxScopes = 64;
inline constexpr std::size_t kMaxScopeStringBytes = 4096;

// The resource types a scope may name besides `*`.
inline constexpr std::string_view kSmartResourceTypes[] = {
    "AllergyIntolerance", "AuditEvent",        "Binary",       "CareTeam",          "Condition",
    "DiagnosticReport",   "DocumentReference", "Encounter",    "MedicationRequest", "Observation",
    "Organization",       "Patient",           "Practitioner", "PractitionerRole",
};

struct SmartScope {
  enum class Context { kPatient, kUser, kSystem };
  Context context = Context::kSystem;
  std::string resource_type;  // one of kSmartResourceTypes, or "*"
  bool create = false;
  bool read = false;    // read, vread, instance history
  bool update = false;  // update, patch
  bool delete_ = false;
  bool search = false;  // search, type history

  friend bool operator==(const SmartScope&, const SmartScope&) = default;
};

// What a request does to a resource type, as SMART v2 permissions name it.
enum class SmartInteraction { kCreate, kRead, kUpdate, kDelete, kSearch };

// Parses a space-separated scope string. The empty string gives no scopes (the caller decides
// whether that is an error). Scopes are returned as written, v1 aliases expanded.
Result<std::vector<SmartScope>> ParseSmartScopes(std::string_view space_separated);

// The scopes in SMART v2 form (`system/Observation.rs`), space-separated, in order. A scope with
// no permission is left out.
std::string FormatSmartScopes(std::span<const SmartScope> scopes);

// What a token gets: the part of `requested` that `registered` (what the client was registered
// for) covers. A registered scope covers a requested one of the same context and the same type
// (or either is `*`, giving the more specific type), with the permissions both have. The result
// has one scope per (context, type), in the order requested, permissions merged; nothing is
// granted that is not both requested and registered.
std::vector<SmartScope> NarrowSmartScopes(std::span<const SmartScope> requested,
                                          std::span<const SmartScope> registered);

// Whether `scopes` allow `interaction` on `resource_type` in `context` (a system scope allows
// nothing in patient or user context, and the other way round). `*` covers every type.
// Compartment rules for patient/ and user/ scopes are the policy's, not this function's.
bool SmartScopesAllow(std::span<const SmartScope> scopes, SmartScope::Context context,
                      std::string_view resource_type, SmartInteraction interaction);

}  // namespace medvault::identity
