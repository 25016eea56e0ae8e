#include "lab/ack.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace medvault::lab {
namespace {

std::string_view ConditionText(Condition condition) {
  switch (condition) {
    case Condition::kSegmentSequence:
      return "Segment sequence error";
    case Condition::kRequiredFieldMissing:
      return "Required field missing";
    case Condition::kDataType:
      return "Data type error";
    case Condition::kTableValueNotFound:
      return "Table value not found";
    case Condition::kUnsupportedMessageType:
      return "Unsupported message type";
    case Condition::kUnsupportedEventCode:
      return "Unsupported event code";
    case Condition::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case Condition::kUnsupportedVersion:
      return "Unsupported version id";
    case Condition::kApplicationError:
      return "Application internal error";
  }
  return "Application internal error";
}

// HL7 DTM in UTC: YYYYMMDDHHMMSS+0000.
std::string Hl7Time(Timestamp at) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(at);
  return fmt::format("{:%Y%m%d%H%M%S}+0000", seconds);
}

}  // namespace

std::string_view AckCodeName(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

AckCode AckCodeFor(const Hl7Error& error) {
  switch (error.condition) {
    case Condition::kUnsupportedMessageType:
    case Condition::kUnsupportedEventCode:
    case Condition::kUnsupportedProcessingId:
    case Condition::kUnsupportedVersion:
      return AckCode::kReject;
    default:
      // A message whose MSH itself could not be read is rejected whole.
      return error.where.segment == "MSH" ? AckCode::kReject : AckCode::kError;
  }
}

std::string BuildAck(const MessageHeader& original, AckCode code, const Hl7Error* error,
                     std::string_view control_id, Timestamp at) {
  const Delimiters d;
  const auto e = [&](std::string_view text) { return Escape(text.substr(0, 199), d); };
  const std::string processing_id =
      original.processing_id == "T" || original.processing_id == "D" ? original.processing_id : "P";
  std::string ack = fmt::format(
      "MSH|^~\\&|{}|{}|{}|{}|{}||ACK^{}^ACK|{}|{}|2.5\r",
      e(original.receiving_application.empty() ? "MEDVAULT" : original.receiving_application),
      e(original.receiving_facility), e(original.sending_application), e(original.sending_facility),
      Hl7Time(at), original.trigger_event == "R01" ? "R01" : "", e(control_id), processing_id);
  ack += fmt::format("MSA|{}|{}\r", AckCodeName(code), e(original.control_id));
  if (error != nullptr) {
    std::string location;
    if (!error->where.segment.empty()) {
      location = fmt::format("{}^{}", error->where.segment, error->where.sequence);
      if (error->where.field > 0) location += fmt::format("^{}", error->where.field);
      if (error->where.component > 0) location += fmt::format("^^{}", error->where.component);
    }
    ack += fmt::format("ERR||{}|{}^{}^HL70357|E|||{}|{}\r", location,
                       static_cast<int>(error->condition), ConditionText(error->condition),
                       e(error->text), e(error->text));
  }
  return ack;
}

}  // namespace medvault::lab
