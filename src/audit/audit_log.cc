#include "audit/audit_log.h"

#include <algorithm>
#include <utility>

#include "core/log.h"

namespace medvault::audit {
namespace {

// The store retries conflicting transactions itself; beyond that, another process kept
// winning the head for a while: try a few more rounds before failing closed.
constexpr int kCommitRounds = 8;

store::Bytes ToBytes(const Hash& hash) { return store::Bytes(hash.begin(), hash.end()); }

Result<Hash> ToHash(const store::Bytes& bytes) {
  if (bytes.size() != kHashBytes) return Fail(ErrorCode::kDataLoss, "audit: malformed tree node");
  Hash hash{};
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

Result<TreeBuilder> BuilderAt(const store::AuditHead& head) {
  auto frontier = DecodeFrontier(head.frontier);
  if (!frontier) return std::unexpected(frontier.error());
  auto builder = TreeBuilder::Resume(static_cast<std::uint64_t>(head.size), std::move(*frontier));
  if (!builder) return Fail(ErrorCode::kDataLoss, "audit: the log head does not match its size");
  return builder;
}

Error Unavailable(const Error& cause) {
  // The cause's message is safe to log (store errors carry codes only).
  log::Error("audit_append_failed", {{"code", std::string_view(ErrorCodeName(cause.code()))},
                                     {"detail", std::string_view(cause.message())}});
  return Error(ErrorCode::kUnavailable, "audit: the log cannot be written");
}

store::AuditQuery::By StoreKey(Search::By by) {
  switch (by) {
    case Search::By::kAccount:
      return store::AuditQuery::By::kAccount;
    case Search::By::kPatient:
      return store::AuditQuery::By::kPatient;
    case Search::By::kAction:
      return store::AuditQuery::By::kAction;
    case Search::By::kTime:
      break;
  }
  return store::AuditQuery::By::kTime;
}

}  // namespace

NodeSource StoredNodes(store::Transaction& tx) {
  return [&tx](int level, std::uint64_t index) -> Result<Hash> {
    auto bytes = tx.GetAuditNode(level, static_cast<std::int64_t>(index));
    if (!bytes) {
      if (bytes.error().code() == ErrorCode::kNotFound) {
        return Fail(ErrorCode::kDataLoss, "audit: a tree node is missing");
      }
      return std::unexpected(bytes.error());
    }
    return ToHash(*bytes);
  };
}

AuditLog::AuditLog(store::Store& store, const Clock& clock, Options options)
    : store_(store), clock_(clock), options_(options) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store, const Clock& clock,
                                                 Options options) {
  if (options.max_batch == 0 || options.max_queue == 0) {
    return Fail(ErrorCode::kInvalidArgument, "audit: batch and queue sizes must be positive");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(store, clock, options));
  // Reading the head once proves the tables exist and the frontier parses.
  if (auto head = log->Head(); !head) return std::unexpected(head.error());
  log->committer_ = std::thread([raw = log.get()] { raw->RunCommitter(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable()) committer_.join();
}

Result<std::uint64_t> AuditLog::Append(Entry entry) {
  entry.index = 0;
  entry.time = clock_.Now();
  if (auto valid = ValidateEntry(entry); !valid) return std::unexpected(valid.error());
  std::future<Result<std::uint64_t>> done;
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Fail(ErrorCode::kUnavailable, "audit: the log is closing");
    if (queue_.size() >= options_.max_queue) {
      return Fail(ErrorCode::kUnavailable, "audit: the log is overloaded");
    }
    queue_.push_back(Pending{std::move(entry), {}});
    done = queue_.back().done.get_future();
    // Only the committer waits on wake_; it needs waking for the first entry of a batch, or
    // when the batch it gathers is full.
    notify = queue_.size() == 1 || queue_.size() >= gather_target_;
  }
  if (notify) wake_.notify_one();
  return done.get();
}

// Group commit under steady concurrency: the callers a batch releases usually append again
// within microseconds, while the next batch would already have started with only the entries
// that queued during the commit, so each caller would wait for two commits. The committer
// therefore waits a moment (a quarter of the last commit, at most Options::max_gather) until as
// many entries are queued as were queued or released when the last batch ended. One caller, or
// callers that do not come back, cost at most that wait; every entry is still committed, and
// its caller answered, only once its batch is durable.
void AuditLog::RunCommitter() {
  using SteadyClock = std::chrono::steady_clock;
  std::size_t expected = 0;  // entries queued or released when the last batch ended
  SteadyClock::duration gather{};
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      const std::size_t want = std::min(expected, options_.max_batch);
      if (queue_.size() < want && !stopping_) {
        gather_target_ = want;
        wake_.wait_for(lock, gather, [&] { return stopping_ || queue_.size() >= want; });
        gather_target_ = 0;
      }
      const std::size_t take = std::min(queue_.size(), options_.max_batch);
      batch.reserve(take);
      for (std::size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const SteadyClock::time_point start = SteadyClock::now();
    std::uint64_t first_index = 0;
    Status committed = CommitBatch(batch, first_index);
    gather = std::min<SteadyClock::duration>((SteadyClock::now() - start) / 4, options_.max_gather);
    {
      std::lock_guard lock(mutex_);
      expected = queue_.size() + batch.size();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (committed) {
        batch[i].done.set_value(first_index + i);
      } else {
        batch[i].done.set_value(std::unexpected(committed.error()));
      }
    }
  }
}

Status AuditLog::CommitBatch(std::vector<Pending>& batch, std::uint64_t& first_index) {
  Status status;
  for (int round = 0; round < kCommitRounds; ++round) {
    status = store_.Transact([&](store::Transaction& tx) -> Status {
      auto head = tx.LockAuditHead();
      if (!head) return std::unexpected(head.error());
      auto builder = BuilderAt(*head);
      if (!builder) return std::unexpected(builder.error());
      store::AuditAppend append;
      append.expected_size = head->size;
      append.records.reserve(batch.size());
      std::vector<TreeBuilder::Node> closed;
      closed.reserve(batch.size() * 2 + 64);
      for (Pending& pending : batch) {
        Entry& entry = pending.entry;
        entry.index = builder->size();
        auto encoded = EncodeEntry(entry);
        if (!encoded) return std::unexpected(encoded.error());
        builder->Append(LeafHash(*encoded), &closed);
        store::AuditRecord record;
        record.index = static_cast<std::int64_t>(entry.index);
        record.recorded_at = entry.time;
        record.account = entry.account;
        record.action = std::string(ActionName(entry.action));
        record.patient_ids = entry.patient_ids;
        record.encoded = std::move(*encoded);
        append.records.push_back(std::move(record));
      }
      append.nodes.reserve(closed.size());
      for (const TreeBuilder::Node& node : closed) {
        append.nodes.push_back(
            {node.level, static_cast<std::int64_t>(node.index), ToBytes(node.hash)});
      }
      append.frontier = EncodeFrontier(builder->Frontier());
      first_index = static_cast<std::uint64_t>(head->size);
      return tx.AppendAudit(append);
    });
    if (status || status.error().code() != ErrorCode::kConflict) break;
  }
  if (!status) return std::unexpected(Unavailable(status.error()));
  return {};
}

Result<TreeHead> AuditLog::Head() {
  TreeHead head;
  Status status = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto stored = tx.GetAuditHead();
        if (!stored) return std::unexpected(stored.error());
        auto builder = BuilderAt(*stored);
        if (!builder) return std::unexpected(builder.error());
        head = {builder->size(), builder->Root()};
        return {};
      },
      store::Access::kReadOnly);
  if (!status) return std::unexpected(status.error());
  return head;
}

Result<std::vector<Entry>> AuditLog::Find(const Search& search) {
  if (search.by != Search::By::kTime && search.key.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "audit: the search needs a key");
  }
  store::AuditQuery query{StoreKey(search.by), search.key, search.from, search.to};
  const std::int64_t after =
      search.after_index ? static_cast<std::int64_t>(*search.after_index) : -1;
  std::vector<store::AuditRecord> records;
  Status status = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.FindAuditEntries(query, after, search.limit);
        if (!found) return std::unexpected(found.error());
        records = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!status) return std::unexpected(status.error());
  std::vector<Entry> entries;
  entries.reserve(records.size());
  for (const store::AuditRecord& record : records) {
    auto entry = ParseEntry(record.encoded);
    if (!entry) return std::unexpected(entry.error());
    if (entry->index != static_cast<std::uint64_t>(record.index)) {
      return Fail(ErrorCode::kDataLoss, "audit: a stored entry is not at its index");
    }
    entries.push_back(std::move(*entry));
  }
  return entries;
}

Result<std::vector<Entry>> AuditLog::EntriesOfPatient(const std::string& patient_id, Timestamp from,
                                                      Timestamp to,
                                                      std::optional<std::uint64_t> after,
                                                      std::size_t limit) {
  return Find({Search::By::kPatient, patient_id, from, to, after, limit});
}

Result<std::vector<Hash>> AuditLog::InclusionProof(std::uint64_t index, std::uint64_t size) {
  std::vector<Hash> proof;
  Status status = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto head = tx.GetAuditHead();
        if (!head) return std::unexpected(head.error());
        if (size > static_cast<std::uint64_t>(head->size) || index >= size) {
          return Fail(ErrorCode::kInvalidArgument, "audit: no such entry in a tree of that size");
        }
        auto path = audit::InclusionProof(index, size, StoredNodes(tx));
        if (!path) return std::unexpected(path.error());
        proof = std::move(*path);
        return {};
      },
      store::Access::kReadOnly);
  if (!status) return std::unexpected(status.error());
  return proof;
}

Result<std::vector<Hash>> AuditLog::ConsistencyProof(std::uint64_t old_size,
                                                     std::uint64_t new_size) {
  std::vector<Hash> proof;
  Status status = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto head = tx.GetAuditHead();
        if (!head) return std::unexpected(head.error());
        if (new_size > static_cast<std::uint64_t>(head->size)) {
          return Fail(ErrorCode::kInvalidArgument, "audit: the log is not that large");
        }
        auto path = audit::ConsistencyProof(old_size, new_size, StoredNodes(tx));
        if (!path) return std::unexpected(path.error());
        proof = std::move(*path);
        return {};
      },
      store::Access::kReadOnly);
  if (!status) return std::unexpected(status.error());
  return proof;
}

}  // namespace medvault::audit
