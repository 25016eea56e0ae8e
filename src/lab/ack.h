// HL7 v2.5 general acknowledgements (ACK) for the messages a lab sends: MSA-1 AA when the
// message was taken, AE when its content could not be (with an ERR segment naming the field
// and the problem: ERR-2 segment^sequence^field, ERR-3 the HL7 table 0357 condition, ERR-7
// and ERR-8 the text, never a value), AR when it was rejected as a whole (unparseable MSH,
// unsupported message type, event, version or processing id).
//
// Thread-safe: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "lab/hl7.h"
#include "lab/oru.h"

namespace medvault::lab {

enum class AckCode { kAccept, kError, kReject };

// "AA", "AE", "AR".
std::string_view AckCodeName(AckCode code);
// AR for a failure of the message as a whole, AE for one of its content.
AckCode AckCodeFor(const Hl7Error& error);

// The ACK of `original` (empty fields when its MSH could not be read): MSH with the
// applications and facilities swapped, `control_id` as the ACK's own MSH-10, `at` as MSH-7;
// MSA with the original control id; an ERR when `error` is given. Segments end with CR.
std::string BuildAck(const MessageHeader& original, AckCode code, const Hl7Error* error,
                     std::string_view control_id, Timestamp at);

}  // namespace medvault::lab
