// `medvault export ...`: the console's side of bulk export (records/bulk_export.h). The
// recipient makes a key pair, an administrator decides a job at the console as they would
// through the admin API, the recipient opens the sealed file, and anyone holding a leaked
// file asks which job it came from.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault::cli {

// Writes the secret key to `out` (raw 32 bytes, mode 0600, refused if it exists) and the public
// key to `out`.pub (base64url), and prints the public key to give at kick-off.
Status ExportKeygen(const std::filesystem::path& out);

// Opens a sealed export with the recipient's secret key file and writes its NDJSON files
// into `out_dir` (created, 0700; files 0600): plaintext lands only where the recipient says.
Status ExportOpen(const std::filesystem::path& key_file, const std::filesystem::path& sealed,
                  const std::filesystem::path& out_dir);

// An administrator (login `by`, active, not the requester) approves or refuses a job.
enum class ExportDecision { kApprove, kRefuse };
Status ExportDecide(const std::filesystem::path& vault_dir, const std::string& job_id,
                    const std::string& by, ExportDecision decision);

// The jobs: id, state, requester, types, approver, patients, expiry.
Status ExportList(const std::filesystem::path& vault_dir);

// Names the export job(s) whose canaries appear in the files (NDJSON, or directories of
// them). Found: true (exit 0); none: false (exit 1).
Result<bool> ExportTrace(const std::filesystem::path& vault_dir,
                         const std::vector<std::filesystem::path>& files);

}  // namespace medvault::cli
