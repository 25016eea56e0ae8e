// libFuzzer target for HL7 v2 messages (src/lab): the input is a message as an MLLP frame
// carries it. A broken invariant aborts: a refusal names a condition of HL7 table 0357 and
// says what is wrong (non-empty text, no longer than the ACK can carry); a parsed message
// starts with MSH, every segment id is three upper-case letters or digits, and every field,
// component and subcomponent reads without failing; Escape then Unescape gives back any text;
// an accepted header maps either to an error or to a transaction Bundle that ParseBundle
// accepts; the acknowledgement of any outcome parses again as a message whose MSA-1 is AA,
// AE or AR and whose MSA-2 is the message's control id.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fhir/bundle.h"
#include "lab/ack.h"
#include "lab/hl7.h"
#include "lab/oru.h"

namespace {

using namespace medvault::lab;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void RequireGoodError(const Hl7Error& error) {
  const int code = static_cast<int>(error.condition);
  Require((code >= 100 && code <= 103) || (code >= 200 && code <= 207), "a table 0357 condition");
  Require(!error.text.empty() && error.text.size() < 600, "an error says what is wrong");
}

void CheckAck(const MessageHeader& header, AckCode code, const Hl7Error* error) {
  const medvault::Timestamp at{std::chrono::seconds(1'796'285'730)};
  const std::string ack = BuildAck(header, code, error, "ACK-1", at);
  auto parsed = Message::Parse(ack);
  Require(parsed.has_value(), "an acknowledgement parses");
  const Segment& msa = parsed->segments().at(1);
  Require(msa.id() == "MSA", "MSA follows MSH");
  const std::string answer = msa.Value(1);
  Require(answer == "AA" || answer == "AE" || answer == "AR", "MSA-1 is AA, AE or AR");
  Require(msa.Value(2) == header.control_id.substr(0, 199), "MSA-2 echoes the control id");
  Require((error != nullptr) == (parsed->segments().size() == 3), "an ERR exactly with an error");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Delimiters delimiters;
  Require(Unescape(Escape(text, delimiters), delimiters) ==
              [&] {
                std::string out(text);
                for (char& c : out) {
                  if (c == '\r') c = '\n';
                }
                return out;
              }(),
          "Escape then Unescape gives the text back (line ends as \\n)");

  auto message = Message::Parse(text);
  if (!message) {
    RequireGoodError(message.error());
    CheckAck({}, AckCode::kReject, &message.error());
    return 0;
  }
  Require(!message->segments().empty() && message->header().id() == "MSH", "MSH comes first");
  for (const Segment& segment : message->segments()) {
    Require(segment.id().size() == 3, "segment ids have three characters");
    for (std::size_t f = 1; f <= segment.FieldCount() && f <= 30; ++f) {
      for (std::size_t r = 0; r < segment.RepetitionCount(f) && r < 4; ++r) {
        for (std::size_t c = 1; c <= 6; ++c) {
          (void)segment.Value(f, c, 1, r);
          (void)segment.Value(f, c, 2, r);
        }
      }
    }
  }
  auto header = ReadHeader(*message);
  if (!header) {
    RequireGoodError(header.error());
    CheckAck(HeaderOf(*message), AckCodeFor(header.error()), &header.error());
    return 0;
  }
  auto bundle = MapOru(*message, *header);
  if (!bundle) {
    RequireGoodError(bundle.error());
    CheckAck(*header, AckCodeFor(bundle.error()), &bundle.error());
    return 0;
  }
  Require(medvault::fhir::ParseBundle(*bundle).has_value(), "a mapped Bundle is a transaction");
  CheckAck(*header, AckCode::kAccept, nullptr);
  return 0;
}
