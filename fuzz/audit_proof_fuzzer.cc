// libFuzzer target for the audit parsers that read outside input: entries read back from the
// store (ParseEntry), checkpoint bodies, signed notes and verifier keys (files an operator or a
// witness hands to `medvault audit verify`), and Merkle proofs. The first byte picks the
// parser. Invariants: an accepted entry, checkpoint or verifier key re-encodes to exactly the
// input; nothing crashes, hangs or reads out of bounds. A broken invariant aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/entry.h"
#include "audit/merkle.h"

namespace {

using namespace medvault::audit;

std::uint64_t ReadU64(std::span<const std::uint8_t>& bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8 && !bytes.empty(); ++i) {
    value = (value << 8) | bytes.front();
    bytes = bytes.subspan(1);
  }
  return value;
}

// [u64 a][u64 b][32-byte hash x][32-byte hash y][32-byte proof hashes...]
void FuzzProofs(std::span<const std::uint8_t> bytes) {
  const std::uint64_t a = ReadU64(bytes) % (1u << 20);
  const std::uint64_t b = ReadU64(bytes) % (1u << 20);
  auto take = [&](std::size_t n) {
    const std::size_t count = std::min(n, bytes.size());
    std::vector<std::uint8_t> out(bytes.begin(), bytes.begin() + count);
    bytes = bytes.subspan(count);
    return out;
  };
  const auto x = take(kHashBytes);
  const auto y = take(kHashBytes);
  std::vector<std::vector<std::uint8_t>> proof;
  while (!bytes.empty() && proof.size() < 80) proof.push_back(take(kHashBytes));
  (void)VerifyInclusion(x, a, b, proof, y);
  (void)VerifyConsistency(a, b, proof, x, y);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0] % 5;
  std::span<const std::uint8_t> bytes(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  switch (selector) {
    case 0: {
      auto entry = ParseEntry(bytes);
      if (entry) {
        auto again = EncodeEntry(*entry);
        if (!again || *again != std::vector<std::uint8_t>(bytes.begin(), bytes.end())) std::abort();
      }
      break;
    }
    case 1: {
      auto checkpoint = ParseCheckpointText(text);
      if (checkpoint) {
        auto again = CheckpointText(*checkpoint);
        if (!again || *again != text) std::abort();
      }
      break;
    }
    case 2: {
      NoteVerifier verifier;
      verifier.name = "medvault/audit/fuzz";
      (void)OpenNote(text, verifier);
      (void)OpenCheckpoint(text, verifier);
      break;
    }
    case 3: {
      auto key = ParseVerifierKey(text);
      if (key && VerifierKeyText(*key) != text.substr(0, text.find_first_of("\r\n"))) {
        std::abort();
      }
      break;
    }
    default:
      FuzzProofs(bytes);
      break;
  }
  return 0;
}
