// HL7 v2.5 messages: the delimiters from MSH-1 and MSH-2, segments, fields, repetitions (~),
// components (^), subcomponents (&) and escape sequences (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \.br\).
// Segments end with CR; LF and CR LF are tolerated, empty lines skipped.
//
// Failures are Hl7Error values that name the segment, its sequence, the field and the problem
// (an HL7 table 0357 condition), never a value from the message: they go into ACK ERR
// segments, logs and the quarantine list.
//
// Thread-safe: a Message is immutable once parsed; parsing is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace medvault::lab {

// HL7 table 0357, message error condition codes (the ones medvault answers with).
enum class Condition : int {
  kSegmentSequence = 100,
  kRequiredFieldMissing = 101,
  kDataType = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersion = 203,
  kApplicationError = 207,
};

// Where a problem is: segment id, its 1-based occurrence in the message, field, component
// (0: the whole segment, field or component).
struct Location {
  std::string segment;
  std::size_t sequence = 0;
  std::size_t field = 0;
  std::size_t component = 0;
};

struct Hl7Error {
  Condition condition = Condition::kApplicationError;
  Location where;
  std::string text;  // "PID-3: the patient identifier is missing"; never a value
};

template <typename T>
using Hl7Result = std::expected<T, Hl7Error>;

inline constexpr std::size_t kMaxSegments = 10'000;

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// One segment. Field numbers are HL7's: PID-3 is Field(3); in MSH, Field(1) is the field
// separator and Field(2) the encoding characters, as the standard counts them.
class Segment {
 public:
  Segment(std::string id, std::vector<std::string> fields, const Delimiters& delimiters,
          std::size_t sequence)
      : id_(std::move(id)),
        fields_(std::move(fields)),
        delimiters_(delimiters),
        sequence_(sequence) {}

  const std::string& id() const { return id_; }
  // Its 1-based occurrence among the message's segments of the same id.
  std::size_t sequence() const { return sequence_; }
  // The highest field number present (0 for a segment with no field).
  std::size_t FieldCount() const { return fields_.empty() ? 0 : fields_.size() - 1; }

  // The field as sent, escapes and delimiters included; empty when absent.
  std::string_view Raw(std::size_t field) const;
  // How many repetitions the field has (0 when empty).
  std::size_t RepetitionCount(std::size_t field) const;
  // The unescaped text of one repetition's component's subcomponent (all 1-based but the
  // repetition, 0-based); empty when absent. MSH-1 and MSH-2 are returned as sent.
  std::string Value(std::size_t field, std::size_t component = 1, std::size_t subcomponent = 1,
                    std::size_t repetition = 0) const;
  // Whether the field has any non-empty content.
  bool Has(std::size_t field) const { return !Raw(field).empty(); }

  Location At(std::size_t field, std::size_t component = 0) const {
    return {id_, sequence_, field, component};
  }

 private:
  std::string id_;
  std::vector<std::string> fields_;  // [0] is the id; MSH: [1] is MSH-1
  Delimiters delimiters_;
  std::size_t sequence_;
};

class Message {
 public:
  // Parses a message that starts with MSH. Refuses: no MSH first (kRequiredFieldMissing on
  // MSH), bad delimiters, a segment id that is not three upper-case letters or digits, an
  // escape sequence that does not end or is unknown, more than kMaxSegments segments.
  static Hl7Result<Message> Parse(std::string_view text);

  const Delimiters& delimiters() const { return delimiters_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const Segment& header() const { return segments_.front(); }

 private:
  Message(Delimiters delimiters, std::vector<Segment> segments)
      : delimiters_(delimiters), segments_(std::move(segments)) {}
  Delimiters delimiters_;
  std::vector<Segment> segments_;
};

// Unescapes HL7 text: \F\ \S\ \T\ \R\ \E\ become the delimiters, \Xhh..\ the bytes, \.br\ a
// line break; other formatting commands (\H\ \N\ \.sp\ ...) are dropped. Text with a bad
// escape is returned with the bad part as sent (Parse refuses such text beforehand).
std::string Unescape(std::string_view text, const Delimiters& delimiters);
// The reverse, for text medvault writes into a message (an ACK's ERR text).
std::string Escape(std::string_view text, const Delimiters& delimiters);

}  // namespace medvault::lab
