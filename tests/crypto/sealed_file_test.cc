// Files sealed for a recipient key (bulk export): only the recipient opens them, and any
// change, reordering or truncation is detected.
#include "crypto/sealed_file.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <sstream>
#include <string>
#include <vector>

namespace medvault::crypto {
namespace {

std::string Text(const Secret& secret) {
  return {reinterpret_cast<const char*>(secret.bytes().data()), secret.size()};
}

std::string Seal(const RecipientKeyPair& recipient, const std::vector<std::string>& records,
                 std::string_view last) {
  std::ostringstream out;
  auto writer = SealedFileWriter::Start(recipient.public_key, out);
  EXPECT_TRUE(writer.has_value()) << writer.error().message();
  for (const std::string& record : records) EXPECT_TRUE((*writer)->Add(record));
  EXPECT_TRUE((*writer)->Finish(last));
  return out.str();
}

// Every record of the file, or the first error.
Result<std::vector<std::string>> OpenAll(const RecipientKeyPair& recipient,
                                         const std::string& file) {
  std::istringstream in(file);
  auto reader = SealedFileReader::Open(recipient.public_key, recipient.secret_key, in);
  if (!reader) return std::unexpected(reader.error());
  std::vector<std::string> records;
  for (;;) {
    auto next = (*reader)->Next();
    if (!next) return std::unexpected(next.error());
    if (!next->has_value()) return records;
    records.push_back(Text(**next));
  }
}

TEST(SealedFile, TheRecipientOpensEveryRecordInOrder) {
  auto recipient = NewRecipientKeyPair();
  ASSERT_TRUE(recipient.has_value());
  const std::string file =
      Seal(*recipient, {"F Patient.ndjson", R"({"resourceType":"Patient","id":"p1"})", ""}, "E");
  EXPECT_EQ(file.find("Patient"), std::string::npos) << "nothing in clear";
  auto opened = OpenAll(*recipient, file);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(*opened, (std::vector<std::string>{"F Patient.ndjson",
                                               R"({"resourceType":"Patient","id":"p1"})", "",
                                               "E"}));
}

TEST(SealedFile, AnotherKeyDoesNotOpenIt) {
  auto recipient = NewRecipientKeyPair();
  auto other = NewRecipientKeyPair();
  ASSERT_TRUE(recipient.has_value() && other.has_value());
  auto opened = OpenAll(*other, Seal(*recipient, {"secret"}, "E"));
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), ErrorCode::kPermissionDenied);
}

TEST(SealedFile, EveryFlippedByteIsDetected) {
  auto recipient = NewRecipientKeyPair();
  ASSERT_TRUE(recipient.has_value());
  const std::string file = Seal(*recipient, {"one", "two"}, "E");
  for (std::size_t i = 0; i < file.size(); ++i) {
    std::string altered = file;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_FALSE(OpenAll(*recipient, altered).has_value()) << "byte " << i;
  }
}

TEST(SealedFile, ACutOrReorderedFileDoesNotOpen) {
  auto recipient = NewRecipientKeyPair();
  ASSERT_TRUE(recipient.has_value());
  const std::string file = Seal(*recipient, {"aaaa", "bbbb"}, "E");
  // Header 9 + 80 + 24 = 113 bytes; each frame is 4 + record + 17.
  constexpr std::size_t kHeader = 113;
  constexpr std::size_t kFrame = 4 + 4 + 17;
  auto cut = OpenAll(*recipient, file.substr(0, kHeader + 2 * kFrame));
  ASSERT_FALSE(cut.has_value()) << "the final record is missing";
  EXPECT_EQ(cut.error().code(), ErrorCode::kDataLoss);
  std::string swapped = file.substr(0, kHeader) + file.substr(kHeader + kFrame, kFrame) +
                        file.substr(kHeader, kFrame) + file.substr(kHeader + 2 * kFrame);
  ASSERT_EQ(swapped.size(), file.size());
  auto reordered = OpenAll(*recipient, swapped);
  ASSERT_FALSE(reordered.has_value());
  EXPECT_EQ(reordered.error().code(), ErrorCode::kDataLoss);
}

TEST(SealedFile, RecipientKeysTravelAsBase64url) {
  auto recipient = NewRecipientKeyPair();
  ASSERT_TRUE(recipient.has_value());
  const std::string text = RecipientKeyText(recipient->public_key);
  EXPECT_EQ(text.size(), 43u);
  auto parsed = ParseRecipientKey(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, recipient->public_key);
  EXPECT_FALSE(ParseRecipientKey(text.substr(1)).has_value());
  EXPECT_FALSE(ParseRecipientKey("not a key").has_value());
}

}  // namespace
}  // namespace medvault::crypto
