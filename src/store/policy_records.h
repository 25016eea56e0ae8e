// Rows of the access policy's tables (migration 007_policy): care relations, the link of a
// staff account to its Practitioner or Organization, sensitive-category permissions and
// break-the-glass grants. Part of the store's public interface (included by store/store.h).
//
// No health data in clear: a care relation holds ids and an expiry only (never a code or a
// note of the resource it comes from); a break-the-glass grant keeps its reason category as
// a number and its free text, and the reviewer's note, sealed by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace medvault::store {

// A practitioner's care relation to a patient, from one source resource (a CareTeam, an
// Encounter, an order); it holds until expires_at. A lab's relation, from one of its reports or
// results, has "Organization/<id>" as practitioner_id (policy/lab_scope.h: LabParty).
struct CareRelation {
  std::string practitioner_id;
  std::string patient_id;
  std::string source_type;
  std::string source_id;
  Timestamp expires_at;

  bool operator==(const CareRelation&) const = default;
};

// Whom a staff account acts as in the record: its Practitioner (clinicians) and its
// Organization (lab technicians: their lab). Empty when not linked.
struct AccountLink {
  std::string account_id;
  std::string practitioner_id;
  std::string organization_id;
  Timestamp updated_at;
};

// A permission to see one sensitive category (policy/sensitive.h names them).
struct SensitiveGrant {
  std::string account_id;
  std::string category;
  Timestamp granted_at;
  std::string granted_by;  // the operator or administrator who granted it
};

// An emergency access outside the care relations, limited to one patient until expires_at,
// waiting in the auditors' review queue while reviewed_at is unset.
struct BreakGlassGrant {
  std::string id;
  std::string account_id;
  std::string patient_id;
  std::int64_t reason = 0;                  // audit::BreakGlassReason
  std::vector<std::uint8_t> sealed_reason;  // the free text, sealed by the caller
  Timestamp granted_at;
  Timestamp expires_at;
  Timestamp reviewed_at;  // the epoch: not reviewed yet
  std::string reviewer;
  std::vector<std::uint8_t> sealed_note;  // the reviewer's note, sealed by the caller
};

}  // namespace medvault::store
