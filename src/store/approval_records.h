// Rows of the approval tables (migration 010_approvals): role grants waiting for a second
// administrator (four eyes), and bulk export jobs. No health data: a grant names an account
// and a role; an export job names its requester, its approver, the resource types, the
// recipient's public key, the sealed file's name and the synthetic canary patients that
// watermark it. Part of the store's public interface (included by store/store.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace medvault::store {

// A staff role given to an account: pending until a second administrator approves it.
struct RoleGrant {
  std::string id;
  std::string account_id;
  std::string kind;          // the role given: clinician, lab_technician, administrator, auditor
  std::string state;         // pending | approved | refused | expired
  std::string requested_by;  // the requesting administrator's account id, or "cli" / "demo"
  Timestamp requested_at;
  Timestamp expires_at;      // a pending grant not decided by then is expired
  std::string decided_by;    // the deciding account id ("cli" / "demo": bootstrap), "" if pending
  Timestamp decided_at;
};

// A bulk export: requested, approved by a second person, run, downloaded, expired.
struct ExportJobRecord {
  std::string id;
  std::string state;           // requested | refused | ready | failed | expired
  std::string requested_by;    // account or API client id
  std::string requester_role;  // the audit role name of the requester
  std::string types;           // resource types exported, space-separated
  std::vector<std::uint8_t> recipient_key;  // X25519 public key (32 bytes)
  Timestamp requested_at;
  Timestamp expires_at;        // requested: the request lapses; ready: the file is deleted
  std::string decided_by;      // the approving (or refusing) account, "" while requested
  Timestamp decided_at;
  std::string file;            // the sealed file's name under data/exports, once ready
  std::int64_t file_bytes = 0;
  std::int64_t patients = 0;   // patients whose data the file holds (canaries not counted)
  std::string watermark;       // the canary patients' ids and identifiers (synthetic), JSON
};

inline constexpr std::size_t kMaxExportTypesBytes = 4 * 1024;
inline constexpr std::size_t kMaxWatermarkBytes = 16 * 1024;

}  // namespace medvault::store
