// Rows of the lab feed's tables (migration 006_lab): the messages taken, for the duplicate
// check, and the quarantine of messages that could not be taken. No health data in clear: a
// quarantined message is sealed by the records layer before it reaches the store; the error
// text names a field and a problem, never a value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"

namespace medvault::store {

// A message taken: its sending facility (MSH-4) and control id (MSH-10), and its answer.
struct LabMessageRecord {
  std::string sending_facility;
  std::string control_id;
  std::string ack_code;  // "AA"
  Timestamp received_at;
};

struct QuarantinedMessage {
  std::string id;
  Timestamp received_at;
  Timestamp updated_at;
  std::string state;                 // "held", "replayed"
  std::int64_t condition = 0;        // HL7 table 0357 code of the last failure
  std::string error;                 // the last failure, safe to show and log
  std::int64_t version = 1;          // 1 at arrival; each fix or replay adds one
  std::vector<std::uint8_t> sealed;  // the message text, AEAD-sealed to this row and version
};

}  // namespace medvault::store
