#include "audit/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "audit/entry.h"
#include "core/base64.h"

namespace medvault::audit {
namespace {

constexpr std::size_t kPage = 8192;

struct Expected {
  std::uint64_t size;
  Hash root;
  std::string label;
};

bool SameHash(const Hash& hash, const store::Bytes& bytes) {
  return bytes.size() == kHashBytes && std::equal(hash.begin(), hash.end(), bytes.begin());
}

// Reads stored checkpoints page by page.
Result<std::vector<store::AuditCheckpoint>> StoredCheckpoints(store::Store& store) {
  std::vector<store::AuditCheckpoint> all;
  Status status = store.Transact(
      [&](store::Transaction& tx) -> Status {
        all.clear();
        std::int64_t after = -1;
        for (;;) {
          auto page = tx.ListAuditCheckpoints(after, 1000);
          if (!page) return std::unexpected(page.error());
          if (page->empty()) return {};
          after = page->back().size;
          for (auto& checkpoint : *page) all.push_back(std::move(checkpoint));
        }
      },
      store::Access::kReadOnly);
  if (!status) return std::unexpected(status.error());
  return all;
}

// The stored tree nodes a page's entries close (their leaves, and the complete subtrees they
// end), by level from 0 (the leaves).
using PageNodeRows = std::vector<std::vector<store::AuditNode>>;

Result<PageNodeRows> ReadPageNodes(store::Store& store, std::uint64_t from, std::uint64_t count) {
  PageNodeRows nodes;
  Status read = store.Transact(
      [&](store::Transaction& tx) -> Status {
        nodes.clear();
        // Leaf `end - 1` closes the subtrees of every level whose index changes at `end`.
        const std::uint64_t end = from + count;
        for (int level = 0; level < 64 && (end >> level) > (from >> level); ++level) {
          const std::uint64_t first = from >> level;
          auto rows = tx.ListAuditNodes(level, static_cast<std::int64_t>(first),
                                        (end >> level) - first);
          if (!rows) return std::unexpected(rows.error());
          nodes.push_back(std::move(*rows));
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return nodes;
}

// One page of entries from `from` on and the log head, read together; the nodes they close are
// read by another thread in a transaction that starts once this one has ended, so it sees at
// least what this one saw (every node a listed entry closes), while the next page's entries are
// read beside it.
struct Page {
  store::AuditHead head;
  std::vector<store::AuditRecord> records;
  std::future<Result<PageNodeRows>> nodes;
};

Result<Page> ReadPage(store::Store& store, std::uint64_t from) {
  Page page;
  Status read = store.Transact(
      [&](store::Transaction& tx) -> Status {
        auto head = tx.GetAuditHead();
        if (!head) return std::unexpected(head.error());
        page.head = std::move(*head);
        auto records = tx.ListAuditEntries(static_cast<std::int64_t>(from), kPage);
        if (!records) return std::unexpected(records.error());
        page.records = std::move(*records);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  page.nodes = std::async(std::launch::async, ReadPageNodes, std::ref(store), from,
                          static_cast<std::uint64_t>(page.records.size()));
  return page;
}

// Finds the stored nodes a page's entries close, level by level in index order.
class PageNodes {
 public:
  explicit PageNodes(const PageNodeRows& nodes)
      : nodes_(nodes), next_(nodes.size(), 0) {}

  // Whether the stored node at (level, index) exists and holds `hash`.
  bool Matches(const TreeBuilder::Node& node) {
    const auto level = static_cast<std::size_t>(node.level);
    if (level >= nodes_.size()) return false;
    const std::vector<store::AuditNode>& stored = nodes_[level];
    std::size_t& at = next_[level];
    const auto index = static_cast<std::int64_t>(node.index);
    while (at < stored.size() && stored[at].index < index) ++at;
    return at < stored.size() && stored[at].index == index && SameHash(node.hash, stored[at].hash);
  }

 private:
  const PageNodeRows& nodes_;
  std::vector<std::size_t> next_;
};

class Verification {
 public:
  explicit Verification(VerifyReport& report) : report_(report) {}

  void Bad(std::optional<std::uint64_t> index, std::string problem) {
    if (!report_.problem.empty()) return;  // the first problem is the one reported
    report_.first_bad_index = index;
    report_.problem = std::move(problem);
  }
  bool failed() const { return !report_.problem.empty(); }

 private:
  VerifyReport& report_;
};

}  // namespace

Result<VerifyReport> VerifyLog(store::Store& store, const NoteVerifier& verifier,
                               std::span<const CheckpointSource> extra_checkpoints) {
  VerifyReport report;
  Verification check(report);

  // Every checkpoint must carry the vault key's signature; they are then checked by size.
  std::multimap<std::uint64_t, Expected> expected;
  auto stored = StoredCheckpoints(store);
  if (!stored) return std::unexpected(stored.error());
  auto admit = [&](const std::string& label, const std::string& note) {
    auto checkpoint = OpenCheckpoint(note, verifier);
    if (!checkpoint) {
      check.Bad(std::nullopt, fmt::format("checkpoint {} is not validly signed by the vault key "
                                          "({})",
                                          label, checkpoint.error().message()));
      return;
    }
    expected.emplace(checkpoint->size, Expected{checkpoint->size, checkpoint->root, label});
  };
  for (const auto& checkpoint : *stored) {
    admit(fmt::format("stored at size {}", checkpoint.size), checkpoint.note);
    if (!check.failed() &&
        expected.rbegin()->first != static_cast<std::uint64_t>(checkpoint.size)) {
      check.Bad(std::nullopt, fmt::format("the checkpoint stored at size {} signs another size",
                                          checkpoint.size));
    }
  }
  for (const auto& source : extra_checkpoints) admit(source.label, source.note);
  if (!expected.empty()) report.largest_checkpoint = expected.rbegin()->first;

  store::AuditHead head;
  TreeBuilder builder;
  std::uint64_t last_matched_checkpoint = 0;
  auto next_checkpoint = expected.begin();
  // Checks the checkpoints of size `size` against the tree built so far.
  auto check_checkpoints_at = [&](std::uint64_t size) {
    for (; next_checkpoint != expected.end() && next_checkpoint->first == size; ++next_checkpoint) {
      ++report.checkpoints;
      if (builder.Root() != next_checkpoint->second.root) {
        check.Bad(
            last_matched_checkpoint,
            fmt::format("the first {} entries do not match the checkpoint {} (entries and "
                        "stored tree were rewritten together); the first bad entry is at "
                        "index {} or after it, up to {}",
                        size, next_checkpoint->second.label, last_matched_checkpoint, size - 1));
        return;
      }
      last_matched_checkpoint = size;
    }
  };
  if (!check.failed()) check_checkpoints_at(0);

  // Pages are read one ahead, on another thread, while this one checks the current page. A
  // prefetch still in flight when the check stops is waited for by the future's destructor.
  auto fetch = [&store](std::uint64_t from) { return ReadPage(store, from); };
  std::future<Result<Page>> next = std::async(std::launch::async, fetch, 0);
  // The interior of the stored tree, which inclusion and consistency proofs are built from:
  // every complete subtree must be the one the entries make. The first wrong node at the
  // lowest level is reported once every entry has checked out.
  std::optional<TreeBuilder::Node> bad_node;
  std::vector<TreeBuilder::Node> closed;
  std::vector<std::string> sorted_patients;
  std::uint64_t index = 0;
  while (!check.failed()) {
    auto page = next.get();
    if (!page) return std::unexpected(page.error());
    if (page->records.empty()) break;
    head = std::move(page->head);
    next = std::async(std::launch::async, fetch, index + page->records.size());
    const std::vector<store::AuditRecord>& records = page->records;
    auto page_nodes = page->nodes.get();
    if (!page_nodes) return std::unexpected(page_nodes.error());
    PageNodes stored_nodes(*page_nodes);

    for (const store::AuditRecord& record : records) {
      const auto position = static_cast<std::uint64_t>(record.index);
      if (position != index) {
        check.Bad(index, fmt::format("entry {} is missing (deleted)", index));
        break;
      }
      if (head.size >= 0 && index >= static_cast<std::uint64_t>(head.size)) {
        check.Bad(index, fmt::format("entry {} is beyond the log head of {} entries (inserted)",
                                     index, head.size));
        break;
      }
      auto entry = ParseEntry(record.encoded);
      if (!entry) {
        check.Bad(index, fmt::format("entry {} does not parse (edited)", index));
        break;
      }
      if (entry->index != index) {
        check.Bad(index, fmt::format("entry {} holds the entry recorded at index {} (moved or "
                                     "reordered)",
                                     index, entry->index));
        break;
      }
      // The patient index holds each patient once, in id order.
      const std::vector<std::string>* patients = &entry->patient_ids;
      if (patients->size() > 1) {
        sorted_patients = *patients;
        std::ranges::sort(sorted_patients);
        sorted_patients.erase(std::unique(sorted_patients.begin(), sorted_patients.end()),
                              sorted_patients.end());
        patients = &sorted_patients;
      }
      if (record.recorded_at != entry->time || record.account != entry->account ||
          record.action != ActionName(entry->action) || record.patient_ids != *patients) {
        check.Bad(index, fmt::format("entry {}: its search columns do not match the entry "
                                     "(edited)",
                                     index));
        break;
      }
      const Hash leaf_hash = LeafHash(record.encoded);
      if (!stored_nodes.Matches({0, index, leaf_hash})) {
        check.Bad(index, fmt::format("entry {} differs from the entry appended at that index "
                                     "(edited)",
                                     index));
        break;
      }
      closed.clear();
      builder.Append(leaf_hash, &closed);
      for (std::size_t i = 1; i < closed.size(); ++i) {  // closed[0] is the leaf
        if (bad_node && bad_node->level <= closed[i].level) continue;
        if (!stored_nodes.Matches(closed[i])) bad_node = closed[i];
      }
      ++index;
      ++report.entries;
      check_checkpoints_at(index);
      if (check.failed()) break;
    }
  }
  report.root = builder.Root();
  if (check.failed()) return report;

  const std::uint64_t count = index;
  if (static_cast<std::uint64_t>(head.size) > count) {
    check.Bad(count, fmt::format("entry {} is missing: the log head records {} entries "
                                 "(truncated)",
                                 count, head.size));
    return report;
  }
  if (next_checkpoint != expected.end()) {
    check.Bad(count,
              fmt::format("entry {} is missing: checkpoint {} covers {} entries and the "
                          "log has {} (truncated or rolled back)",
                          count, next_checkpoint->second.label, next_checkpoint->first, count));
    return report;
  }
  auto frontier = DecodeFrontier(head.frontier);
  if (!frontier || *frontier != builder.Frontier()) {
    check.Bad(std::nullopt, "the log head does not match its entries");
    return report;
  }
  if (const auto& bad = bad_node) {
    const std::uint64_t start = bad->index << bad->level;
    check.Bad(start, fmt::format("the stored tree node over entries {} to {} is missing or "
                                 "wrong: proofs for them would not verify",
                                 start, ((bad->index + 1) << bad->level) - 1));
  }
  return report;
}

Result<std::vector<CheckpointSource>> CheckpointFiles(
    const std::filesystem::path& checkpoint_dir,
    const std::optional<std::filesystem::path>& extra_file) {
  const auto read = [](const std::filesystem::path& path) -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + path.string());
    std::string text(kMaxNoteBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxNoteBytes) {
      return Fail(ErrorCode::kInvalidArgument, path.string() + " is too large for a checkpoint");
    }
    return text;
  };
  std::vector<CheckpointSource> sources;
  const std::filesystem::path latest = checkpoint_dir / "checkpoint";
  std::error_code error;
  if (std::filesystem::exists(latest, error)) {
    auto note = read(latest);
    if (!note) return std::unexpected(note.error());
    sources.push_back({latest.string(), std::move(*note)});
  }
  if (extra_file) {
    auto note = read(*extra_file);
    if (!note) return std::unexpected(note.error());
    sources.push_back({extra_file->string(), std::move(*note)});
  }
  return sources;
}

std::string VerifySummary(const VerifyReport& report, const NoteVerifier& verifier) {
  if (!report.intact()) {
    if (report.first_bad_index) {
      return fmt::format("audit log NOT intact: first bad entry {}: {}", *report.first_bad_index,
                         report.problem);
    }
    return fmt::format("audit log NOT intact: {}", report.problem);
  }
  return fmt::format(
      "audit log intact: {} entries, root {}, checked against {} checkpoints (largest {}); "
      "verifier key {}",
      report.entries, EncodeBase64(report.root, Base64Alphabet::kStandard), report.checkpoints,
      report.largest_checkpoint.value_or(0), VerifierKeyText(verifier));
}

}  // namespace medvault::audit
