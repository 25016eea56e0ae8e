#include "audit/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "audit/entry.h"

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

  std::uint64_t index = 0;
  while (!check.failed()) {
    std::vector<store::AuditRecord> records;
    std::vector<store::AuditNode> leaves;
    Status read = store.Transact(
        [&](store::Transaction& tx) -> Status {
          auto stored_head = tx.GetAuditHead();
          if (!stored_head) return std::unexpected(stored_head.error());
          head = std::move(*stored_head);
          auto page = tx.ListAuditEntries(static_cast<std::int64_t>(index), kPage);
          if (!page) return std::unexpected(page.error());
          records = std::move(*page);
          auto nodes = tx.ListAuditNodes(0, static_cast<std::int64_t>(index), kPage);
          if (!nodes) return std::unexpected(nodes.error());
          leaves = std::move(*nodes);
          return {};
        },
        store::Access::kReadOnly);
    if (!read) return std::unexpected(read.error());
    if (records.empty()) break;

    std::size_t leaf = 0;
    std::vector<std::string> patients;
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
      patients = entry->patient_ids;
      std::ranges::sort(patients);
      patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
      if (record.recorded_at != entry->time || record.account != entry->account ||
          record.action != ActionName(entry->action) || record.patient_ids != patients) {
        check.Bad(index, fmt::format("entry {}: its search columns do not match the entry "
                                     "(edited)",
                                     index));
        break;
      }
      const Hash leaf_hash = LeafHash(record.encoded);
      while (leaf < leaves.size() && leaves[leaf].index < record.index) ++leaf;
      if (leaf >= leaves.size() || leaves[leaf].index != record.index ||
          !SameHash(leaf_hash, leaves[leaf].hash)) {
        check.Bad(index, fmt::format("entry {} differs from the entry appended at that index "
                                     "(edited)",
                                     index));
        break;
      }
      builder.Append(leaf_hash);
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
  // The interior of the stored tree, which inclusion and consistency proofs are built from:
  // level by level, every complete subtree must be the hash of its two children (level 0 was
  // checked against the entries above).
  for (int level = 1; (count >> level) != 0 && !check.failed(); ++level) {
    const std::uint64_t nodes = count >> level;
    for (std::uint64_t first = 0; first < nodes && !check.failed(); first += kPage) {
      std::vector<store::AuditNode> parents;
      std::vector<store::AuditNode> children;
      Status read = store.Transact(
          [&](store::Transaction& tx) -> Status {
            auto upper = tx.ListAuditNodes(level, static_cast<std::int64_t>(first), kPage);
            if (!upper) return std::unexpected(upper.error());
            parents = std::move(*upper);
            auto lower =
                tx.ListAuditNodes(level - 1, static_cast<std::int64_t>(2 * first), 2 * kPage);
            if (!lower) return std::unexpected(lower.error());
            children = std::move(*lower);
            return {};
          },
          store::Access::kReadOnly);
      if (!read) return std::unexpected(read.error());
      const std::uint64_t last = std::min<std::uint64_t>(nodes, first + kPage);
      for (std::uint64_t i = first; i < last; ++i) {
        const std::size_t p = static_cast<std::size_t>(i - first);
        const std::size_t c = static_cast<std::size_t>(2 * (i - first));
        const bool present =
            p < parents.size() && parents[p].index == static_cast<std::int64_t>(i) &&
            c + 1 < children.size() && children[c].index == static_cast<std::int64_t>(2 * i) &&
            children[c + 1].index == static_cast<std::int64_t>(2 * i + 1);
        bool matches = false;
        if (present) {
          auto left = children[c].hash;
          auto right = children[c + 1].hash;
          if (left.size() == kHashBytes && right.size() == kHashBytes) {
            Hash l{}, r{};
            std::copy(left.begin(), left.end(), l.begin());
            std::copy(right.begin(), right.end(), r.begin());
            matches = SameHash(NodeHash(l, r), parents[p].hash);
          }
        }
        if (!matches) {
          const std::uint64_t start = i << level;
          check.Bad(start, fmt::format("the stored tree node over entries {} to {} is missing or "
                                       "wrong: proofs for them would not verify",
                                       start, ((i + 1) << level) - 1));
          break;
        }
      }
    }
  }
  return report;
}

}  // namespace medvault::audit
