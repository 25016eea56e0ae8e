// The writes of the crash test, shared by the writer that gets killed (crash_writer.cc) and
// the test that checks what survived (crash_test.cc), so both derive the same bytes from a
// sequence number.
//
// Sequence n is one transaction of three writes: a DiagnosticReport and an Observation that
// are new (expected version 0) and the ledger, a long-lived resource moved from version n - 1
// to n. The ledger's version is therefore the last committed sequence, which is where a
// restarted writer resumes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace medvault::store::crash {

inline constexpr std::string_view kReportType = "DiagnosticReport";
inline constexpr std::string_view kObservationType = "Observation";
inline constexpr std::string_view kLedgerType = "List";
inline constexpr std::string_view kLedgerId = "crash-ledger";
inline constexpr std::string_view kPatientId = "crash-patient";
inline constexpr std::string_view kKeyId = "crash-dek";
// The blind-index field whose token names the sequence of the pair, or the ledger's last one.
inline constexpr std::string_view kSequenceField = "sequence";

// Which resource of a sequence a payload belongs to: each gets different bytes, so a payload
// read back under the wrong resource does not pass for the right one.
enum class Part : std::uint64_t { kReport = 1, kObservation = 2, kLedger = 3 };

// Zero-padded so ids sort in sequence order.
inline std::string ResourceId(Part part, std::int64_t sequence) {
  std::string number = std::to_string(sequence);
  if (number.size() < 8) number.insert(0, 8 - number.size(), '0');
  return (part == Part::kReport ? "report-" : "observation-") + number;
}

// Between 200 and 499 bytes that depend on every bit of (part, sequence): splitmix64, which
// needs no state beyond its counter.
inline Bytes Payload(Part part, std::int64_t sequence) {
  std::uint64_t state =
      (static_cast<std::uint64_t>(sequence) << 2) | static_cast<std::uint64_t>(part);
  const std::size_t size =
      200 +
      (static_cast<std::uint64_t>(sequence) * 37 + static_cast<std::uint64_t>(part) * 11) % 300;
  Bytes bytes;
  bytes.reserve(size);
  while (bytes.size() < size) {
    state += 0x9e3779b97f4a7c15u;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    for (int i = 0; i < 8 && bytes.size() < size; ++i) {
      bytes.push_back(static_cast<std::uint8_t>(z >> (8 * i)));
    }
  }
  return bytes;
}

inline Bytes SequenceToken(std::int64_t sequence) {
  const std::string text = "seq:" + std::to_string(sequence);
  return Bytes(text.begin(), text.end());
}

inline Timestamp RecordedAt(std::int64_t sequence) {
  return Timestamp(std::chrono::microseconds(1'700'000'000'000'000 + sequence));
}

// One write of sequence n: a new report or observation, or the ledger's move to version n.
inline ResourceWrite WriteOf(Part part, std::int64_t sequence) {
  ResourceWrite write;
  write.resource_type = part == Part::kReport        ? kReportType
                        : part == Part::kObservation ? kObservationType
                                                     : kLedgerType;
  write.id = part == Part::kLedger ? std::string(kLedgerId) : ResourceId(part, sequence);
  write.expected_version = part == Part::kLedger ? sequence - 1 : 0;
  write.patient_id = kPatientId;
  write.key_id = kKeyId;
  write.payload = Payload(part, sequence);
  write.index = {{std::string(kSequenceField), SequenceToken(sequence)}};
  write.recorded_at = RecordedAt(sequence);
  return write;
}

// The three writes of sequence n, in the order the writer applies them.
inline std::vector<ResourceWrite> WritesOfSequence(std::int64_t sequence) {
  return {WriteOf(Part::kReport, sequence), WriteOf(Part::kObservation, sequence),
          WriteOf(Part::kLedger, sequence)};
}

}  // namespace medvault::store::crash
