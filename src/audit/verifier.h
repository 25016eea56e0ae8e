// The audit log's verifier: recomputes the whole Merkle tree from the stored entries and checks
// it against every stored signed checkpoint and any given one, and checks every entry against
// what was recorded when it was appended (its index, its search columns, its stored leaf hash).
//
// It names the first bad entry: a missing index (deleted, truncated, rolled back), an entry
// that does not parse (edited), an entry whose own index differs from its position (moved,
// reordered), an entry beyond the log head (inserted), or an entry whose hash differs from the
// one stored at append time. When the entries and the stored tree were rewritten together, only
// a signed checkpoint can tell; the report then names the first index the failing checkpoint
// covers beyond the last one that matched. Reads in pages, the next one on a second thread while
// the current one is checked; memory stays O(page size x log n). Thread-safe (it only reads the
// store).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "core/error.h"
#include "store/store.h"

namespace medvault::audit {

// A checkpoint to check the log against, with where it came from (for the report).
struct CheckpointSource {
  std::string label;  // e.g. "store", or a file name
  std::string note;
};

struct VerifyReport {
  std::uint64_t entries = 0;      // entries read from the store
  std::uint64_t checkpoints = 0;  // checkpoints the tree was checked against
  std::optional<std::uint64_t> largest_checkpoint;
  Hash root{};  // root of the entries read
  std::optional<std::uint64_t> first_bad_index;
  std::string problem;  // empty when the log is intact

  bool intact() const { return problem.empty(); }
};

// kUnavailable when the store cannot be read; tampering is a report, not an error.
Result<VerifyReport> VerifyLog(store::Store& store, const NoteVerifier& verifier,
                               std::span<const CheckpointSource> extra_checkpoints);

// The checkpoints outside the store that `medvault audit verify` and GET /audit/verify check
// the log against too: the latest one the server wrote to `checkpoint_dir` (when there is one)
// and `extra_file` (when given). kNotFound or kInvalidArgument (too large) for a file that
// cannot be read.
Result<std::vector<CheckpointSource>> CheckpointFiles(
    const std::filesystem::path& checkpoint_dir,
    const std::optional<std::filesystem::path>& extra_file);

// The report in one line: "audit log intact: N entries, root ..., checked against ..." or
// "audit log NOT intact: first bad entry I: problem".
std::string VerifySummary(const VerifyReport& report, const NoteVerifier& verifier);

}  // namespace medvault::audit
