#include "lab/ack.h"

#include <gtest/gtest.h>

#include <chrono>

#include "lab/lab_messages.h"

namespace medvault::lab {
namespace {

using testing::ReadMessageFile;

// 2026-12-03T08:15:30Z
const Timestamp kAt{std::chrono::seconds(1'796'285'730)};

MessageHeader CbcHeader() {
  auto message = Message::Parse(ReadMessageFile("oru_cbc.hl7"));
  EXPECT_TRUE(message);
  return HeaderOf(*message);
}

TEST(LabAck, AcceptsWithTheOriginalControlIdAndSwappedParties) {
  const std::string ack = BuildAck(CbcHeader(), AckCode::kAccept, nullptr, "ACK-1", kAt);
  EXPECT_EQ(ack,
            "MSH|^~\\&|MEDVAULT|CLINIQUE|GLIMS|LBM-QUAIS|20261203081530+0000||ACK^R01^ACK|ACK-1|P|"
            "2.5\rMSA|AA|MSG-CBC-0001\r");
  auto parsed = Message::Parse(ack);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->segments()[1].Value(1), "AA");
}

TEST(LabAck, AnErrorNamesTheFieldAndTheCondition) {
  const Hl7Error error{Condition::kRequiredFieldMissing,
                       {"PID", 1, 3, 0},
                       "PID-3: the patient identifier is missing"};
  const std::string ack = BuildAck(CbcHeader(), AckCodeFor(error), &error, "ACK-2", kAt);
  auto parsed = Message::Parse(ack);
  ASSERT_TRUE(parsed) << parsed.error().text;
  ASSERT_EQ(parsed->segments().size(), 3u);
  const Segment& msa = parsed->segments()[1];
  EXPECT_EQ(msa.Value(1), "AE");
  const Segment& err = parsed->segments()[2];
  EXPECT_EQ(err.id(), "ERR");
  EXPECT_EQ(err.Value(2, 1), "PID");
  EXPECT_EQ(err.Value(2, 2), "1");
  EXPECT_EQ(err.Value(2, 3), "3");
  EXPECT_EQ(err.Value(3, 1), "101");
  EXPECT_EQ(err.Value(3, 3), "HL70357");
  EXPECT_EQ(err.Value(4), "E");
  EXPECT_EQ(err.Value(7), "PID-3: the patient identifier is missing");
  EXPECT_EQ(err.Value(8), "PID-3: the patient identifier is missing");
}

TEST(LabAck, UnsupportedMessagesAndUnreadableHeadersAreRejected) {
  EXPECT_EQ(AckCodeFor({Condition::kUnsupportedMessageType, {"MSH", 1, 9, 0}, "x"}),
            AckCode::kReject);
  EXPECT_EQ(AckCodeFor({Condition::kUnsupportedVersion, {"MSH", 1, 12, 0}, "x"}), AckCode::kReject);
  EXPECT_EQ(AckCodeFor({Condition::kDataType, {"MSH", 1, 2, 0}, "x"}), AckCode::kReject);
  EXPECT_EQ(AckCodeFor({Condition::kDataType, {"OBX", 2, 5, 0}, "x"}), AckCode::kError);
  const Hl7Error error{
      Condition::kRequiredFieldMissing, {"MSH", 1, 0, 0}, "the message does not start with MSH"};
  const std::string ack = BuildAck({}, AckCode::kReject, &error, "ACK-3", kAt);
  auto parsed = Message::Parse(ack);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->segments()[1].Value(1), "AR");
  EXPECT_EQ(parsed->segments()[1].Value(2), "");
  EXPECT_EQ(parsed->header().Value(3), "MEDVAULT");
}

TEST(LabAck, EscapesWhatItEchoes) {
  MessageHeader header;
  header.control_id = "A|B^C";
  header.sending_application = "APP&1";
  const std::string ack = BuildAck(header, AckCode::kAccept, nullptr, "ACK-4", kAt);
  auto parsed = Message::Parse(ack);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->segments()[1].Value(2), "A|B^C");
  EXPECT_EQ(parsed->header().Value(5), "APP&1");
}

}  // namespace
}  // namespace medvault::lab
