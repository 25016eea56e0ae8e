// The tamper-evident audit log: entries appended durably, as leaves of one RFC 6962 Merkle
// tree kept in the store (both backends), searchable by account, patient, action and time.
//
// Contract. Append returns a leaf index only once the entry is committed to the store; if it
// cannot be written the caller gets kUnavailable and must refuse the request (HTTP 503, nothing
// returned): the log is fail-closed. Concurrent appends are group-committed: one committer
// thread writes everything queued in one store transaction and wakes each caller when its
// batch has committed. Several processes on one PostgreSQL database (or one SQLite file) write
// one log: each batch locks the log head, so indexes are dense and the tree is consistent.
// The log stamps each entry with its Clock.
//
// Thread safety: every method is thread-safe. Failures: kInvalidArgument for an entry that
// breaks the vocabulary or id rules (audit/entry.h), kUnavailable when the store cannot be
// written or read, kDataLoss when a stored entry or tree node does not parse.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/entry.h"
#include "audit/merkle.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace medvault::audit {

// The log's size and root hash at one moment.
struct TreeHead {
  std::uint64_t size = 0;
  Hash root{};
};

// A search of the log: entries in [from, to) of one account, patient or action (or every
// entry), oldest index first, after `after_index` (to page), at most `limit`.
struct Search {
  enum class By { kTime, kAccount, kPatient, kAction };
  By by = By::kTime;
  std::string key;  // account id, patient id or action name (ActionName)
  Timestamp from;
  Timestamp to = Timestamp::max();
  std::optional<std::uint64_t> after_index;
  std::size_t limit = 1000;
};

class AuditLog {
 public:
  struct Options {
    std::size_t max_batch = 4096;     // most entries in one store transaction
    std::size_t max_queue = 1 << 16;  // Append refuses (kUnavailable) beyond this backlog
    // Longest a batch waits for the callers the previous batch released to append again (a
    // quarter of the last commit's duration, at most this): see RunCommitter.
    std::chrono::microseconds max_gather{500};
  };

  // Starts the committer. `store` and `clock` must outlive the log.
  static Result<std::unique_ptr<AuditLog>> Open(store::Store& store, const Clock& clock,
                                                Options options);
  static Result<std::unique_ptr<AuditLog>> Open(store::Store& store, const Clock& clock) {
    return Open(store, clock, Options{});
  }
  // Commits what is queued, then stops the committer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `entry` (its index and time are set here) and returns its leaf index once it is
  // durably committed.
  Result<std::uint64_t> Append(Entry entry);

  // The committed head, read from the store.
  Result<TreeHead> Head();

  Result<std::vector<Entry>> Find(const Search& search);
  // Every entry that touches `patient_id` in [from, to): what a patient's access history
  // (FHIR AuditEvent) is built from; each entry's index gives its inclusion proof.
  Result<std::vector<Entry>> EntriesOfPatient(const std::string& patient_id, Timestamp from,
                                              Timestamp to, std::optional<std::uint64_t> after,
                                              std::size_t limit);

  // The audit path of entry `index` in the tree of `size` entries (size <= the head's size).
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size);
  // Proof that the tree of `old_size` entries is a prefix of the tree of `new_size`.
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size);

 private:
  struct Pending {
    Entry entry;
    std::promise<Result<std::uint64_t>> done;
  };

  AuditLog(store::Store& store, const Clock& clock, Options options);
  void RunCommitter();
  Status CommitBatch(std::vector<Pending>& batch, std::uint64_t& first_index);

  store::Store& store_;
  const Clock& clock_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  // Queued entries at which the gathering committer wants to be woken (0: at the first one).
  std::size_t gather_target_ = 0;
  std::thread committer_;
};

// A NodeSource reading the stored tree inside a store transaction.
NodeSource StoredNodes(store::Transaction& tx);

}  // namespace medvault::audit
