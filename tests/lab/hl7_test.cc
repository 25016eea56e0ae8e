#include "lab/hl7.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lab/lab_messages.h"

namespace medvault::lab {
namespace {

using testing::ReadMessageFile;

TEST(Hl7Parser, ReadsSegmentsFieldsComponentsAndRepetitions) {
  auto message = Message::Parse(ReadMessageFile("oru_cbc.hl7"));
  ASSERT_TRUE(message) << message.error().text;
  ASSERT_EQ(message->segments().size(), 12u);
  const Segment& msh = message->header();
  EXPECT_EQ(msh.Value(1), "|");
  EXPECT_EQ(msh.Value(2), "^~\\&");
  EXPECT_EQ(msh.Value(9, 1), "ORU");
  EXPECT_EQ(msh.Value(9, 2), "R01");
  EXPECT_EQ(msh.Value(10), "MSG-CBC-0001");
  EXPECT_EQ(msh.Value(4, 2), "1.2.250.1.71.4.2.2.750001234");
  const Segment& pid = message->segments()[1];
  EXPECT_EQ(pid.id(), "PID");
  EXPECT_EQ(pid.Value(5, 1), "Dupont");
  EXPECT_EQ(pid.Value(5, 2), "Hélène");
  ASSERT_EQ(pid.RepetitionCount(13), 2u);
  EXPECT_EQ(pid.Value(13, 4, 1, 1), "helene.dupont@example.org");
  const Segment& orc = message->segments()[3];
  EXPECT_EQ(orc.Value(12, 9, 1), "RPPS");
  EXPECT_EQ(orc.Value(12, 9, 2), "1.2.250.1.71.4.2.1");
  EXPECT_EQ(orc.Value(12, 9, 3), "ISO");
  EXPECT_EQ(message->segments()[8].sequence(), 3u);  // the third OBX
  EXPECT_EQ(message->segments()[8].Value(5), "11.8");
}

TEST(Hl7Parser, AbsentPiecesAreEmpty) {
  auto message = Message::Parse("MSH|^~\\&|A\rPID|1||X^^^Y\r");
  ASSERT_TRUE(message);
  const Segment& pid = message->segments()[1];
  EXPECT_EQ(pid.Value(3, 2), "");
  EXPECT_EQ(pid.Value(3, 4), "Y");
  EXPECT_EQ(pid.Value(3, 4, 2), "");
  EXPECT_EQ(pid.Value(3, 1, 1, 5), "");
  EXPECT_EQ(pid.Value(40), "");
  EXPECT_FALSE(pid.Has(2));
  EXPECT_EQ(pid.RepetitionCount(2), 0u);
}

TEST(Hl7Parser, UnescapesDelimitersHexAndLineBreaks) {
  auto message = Message::Parse(ReadMessageFile("oru_escapes.hl7"));
  ASSERT_TRUE(message) << message.error().text;
  const Segment& pid = message->segments()[1];
  EXPECT_EQ(pid.Value(5, 2), "Anne&Sophie");
  EXPECT_EQ(pid.Value(5, 1, 1, 1), "Lefèvre");
  const Segment& ft = message->segments()[6];
  ASSERT_EQ(ft.id(), "OBX");
  EXPECT_EQ(ft.Value(5), "Résultat contrôlé par le biologiste.\nSeuil | 1^2 \\ fin A.");
}

TEST(Hl7Parser, TakesTheDelimitersFromMsh) {
  auto message = Message::Parse("MSH#:*!@#APP#FAC\rPID#1##ID1:::AUTH*ID2#Dupont:Jean!F!");
  ASSERT_TRUE(message) << message.error().text;
  const Segment& pid = message->segments()[1];
  EXPECT_EQ(pid.RepetitionCount(3), 2u);
  EXPECT_EQ(pid.Value(3, 4), "AUTH");
  EXPECT_EQ(pid.Value(3, 1, 1, 1), "ID2");
  EXPECT_EQ(pid.Value(4, 2), "Jean#");
  EXPECT_EQ(message->header().Value(3), "APP");
}

TEST(Hl7Parser, ToleratesLineFeedsAndCrLf) {
  const std::string cr = ReadMessageFile("oru_cbc.hl7", '\r');
  const std::string lf = ReadMessageFile("oru_cbc.hl7", '\n');
  std::string crlf;
  for (char c : cr) {
    crlf.push_back(c);
    if (c == '\r') crlf.push_back('\n');
  }
  for (const std::string& text : {cr, lf, crlf}) {
    auto message = Message::Parse(text);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->segments().size(), 12u);
    EXPECT_EQ(message->segments().back().Value(5), "1.32");
  }
}

TEST(Hl7Parser, EscapeRoundTrips) {
  const Delimiters delimiters;
  const std::string text = "a|b^c&d~e\\f\ng";
  EXPECT_EQ(Escape(text, delimiters), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g");
  EXPECT_EQ(Unescape(Escape(text, delimiters), delimiters), text);
}

struct Refused {
  std::string_view text;
  Condition condition;
  std::string_view segment;
  std::size_t field;
};

class Hl7ParserRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(Hl7ParserRefuses, NamingWhereAndWhyWithoutTheValue) {
  auto message = Message::Parse(GetParam().text);
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().condition, GetParam().condition);
  EXPECT_EQ(message.error().where.segment, GetParam().segment);
  EXPECT_EQ(message.error().where.field, GetParam().field);
  EXPECT_FALSE(message.error().text.empty());
  EXPECT_EQ(message.error().text.find("SECRET"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, Hl7ParserRefuses,
    ::testing::Values(Refused{"", Condition::kRequiredFieldMissing, "MSH", 0},
                      Refused{"PID|1||SECRET\r", Condition::kRequiredFieldMissing, "MSH", 0},
                      Refused{"MSH|^~\\", Condition::kRequiredFieldMissing, "MSH", 2},
                      Refused{"MSH|^~|A|B\r", Condition::kDataType, "MSH", 2},
                      Refused{"MSH|^^\\&|A|B\r", Condition::kDataType, "MSH", 2},
                      Refused{"MSHA^~\\&|A|B\r", Condition::kDataType, "MSH", 1},
                      Refused{"MSH|^~\\&|A\rPID|1||SECRET\\F\r", Condition::kDataType, "PID", 3},
                      Refused{"MSH|^~\\&|A\rPID|1||SECRET\\Q\\\r", Condition::kDataType, "PID", 3},
                      Refused{"MSH|^~\\&|A\rPID|1||SECRET\\X4\\\r", Condition::kDataType, "PID", 3},
                      Refused{"MSH|^~\\&|A\rpid|1||SECRET\r", Condition::kSegmentSequence, "", 0},
                      Refused{"MSH|^~\\&|A\rPIDX|SECRET\r", Condition::kSegmentSequence, "", 0},
                      Refused{"MSH|^~\\&|A\rMSH|^~\\&|B\r", Condition::kSegmentSequence, "MSH", 0},
                      Refused{std::string_view("MSH|^~\\&|A\0SECRET", 17), Condition::kDataType,
                              "MSH", 0}),
    [](const ::testing::TestParamInfo<Refused>& info) {
      return fmt::format("Case{}", info.index);
    });

TEST(Hl7Parser, RefusesMoreSegmentsThanTheLimit) {
  std::string text = "MSH|^~\\&|A\r";
  for (std::size_t i = 0; i < kMaxSegments; ++i) text += "NTE|1\r";
  auto message = Message::Parse(text);
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().condition, Condition::kSegmentSequence);
}

}  // namespace
}  // namespace medvault::lab
