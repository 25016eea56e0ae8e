// The dump test (THREATS.md cases 1, 2 and 4): a thief who copies the whole data directory,
// its WAL and journal, the temp directory, the logs, or a pg_dump, finds none of a patient's
// values. Patients whose every field is a unique marker are written, read, searched and
// updated through the sealed store; then every byte of those places is searched for every
// marker, as written and in its normalized forms. To prove the scanner sees what is there,
// one marker is first planted in plaintext on purpose and must be found.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/french_ids.h"
#include "crypto/normalize.h"
#include "sealed_store_fixture.h"

namespace medvault::records {
namespace {

namespace fs = std::filesystem;
using ::testing::IsEmpty;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where each needle occurs: "needle in place".
std::vector<std::string> Find(const std::vector<std::string>& needles, std::string_view haystack,
                              const std::string& place) {
  std::vector<std::string> hits;
  for (const auto& needle : needles) {
    if (haystack.find(needle) != std::string_view::npos) hits.push_back(needle + " in " + place);
  }
  return hits;
}

std::vector<std::string> FindInTree(const std::vector<std::string>& needles, const fs::path& dir) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto found = Find(needles, ReadFile(it->path()), it->path().string());
    hits.insert(hits.end(), found.begin(), found.end());
  }
  return hits;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// The patient's values: every one unique to this test.
constexpr std::string_view kFamily = "Zéphyrine-Marqueurfam";
constexpr std::string_view kGiven = "Anaïs-Marqueurgiv";
constexpr std::string_view kAddress = "17 rue du Marqueur-Adresse";
constexpr std::string_view kNewAddress = "3 impasse Marqueur-Nouvelle";
constexpr std::string_view kPhone = "06 98 76 54 31";
constexpr std::string_view kEmail = "zephyrine.marqueur@example.net";
constexpr std::string_view kNote = "Marqueur: sérologie VIH positive, grossesse 12 SA";
constexpr std::string_view kPdfText = "Compte rendu Marqueur-PDF hémoglobine 9.1 g/dL";
constexpr std::string_view kPlanted = "Marqueur-Planted-Cleartext";

class DumpTest : public SealedStoreTest {
 protected:
  // A valid NIR of its own (check key computed), so no other test shares it.
  static std::string ValidNir() {
    std::string body = "2841276451089";
    return body + fmt::format("{:02}", NirKey(body).value());
  }

  std::vector<std::string> Needles() const {
    std::vector<std::string> needles = {std::string(kFamily),
                                        std::string(kGiven),
                                        std::string(kAddress),
                                        std::string(kNewAddress),
                                        std::string(kPhone),
                                        std::string(kEmail),
                                        std::string(kNote),
                                        std::string(kPdfText),
                                        nir_,
                                        "Marqueurfam",
                                        "Marqueurgiv",
                                        "Marqueur-Adresse",
                                        "Marqueur-Nouvelle",
                                        "zephyrine.marqueur",
                                        pdf_base64_,
                                        pdf_base64_.substr(8, 24)};
    // The normalized forms the blind indexes are computed from.
    for (auto [kind, value] : {std::pair{crypto::ValueKind::kName, kFamily},
                               {crypto::ValueKind::kName, kGiven},
                               {crypto::ValueKind::kPhone, kPhone},
                               {crypto::ValueKind::kEmail, kEmail}}) {
      needles.push_back(crypto::Normalize(kind, value).value());
    }
    needles.push_back("+33698765431");
    needles.push_back("ZEPHYRINE");
    return needles;
  }

  std::string nir_ = ValidNir();
  std::string pdf_base64_ =
      Base64("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\nBT /F1 12 Tf 72 712 Td (" +
             std::string(kPdfText) + ") Tj ET\n%%EOF\n");
};

TEST_P(DumpTest, NoValueOfAPatientIsAnywhereInTheStoreItsLogsOrItsTempFiles) {
  const fs::path temp = dir_ / "tmp";
  fs::create_directory(temp);
  ::setenv("TMPDIR", temp.c_str(), 1);
  ::setenv("SQLITE_TMPDIR", temp.c_str(), 1);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();

  // 1. The scanner finds a value that really is there in clear.
  store::ResourceWrite planted{.resource_type = "Planted",
                               .id = "x",
                               .expected_version = 0,
                               .patient_id = "",
                               .key_id = "none",
                               .payload = store::Bytes(kPlanted.begin(), kPlanted.end()),
                               .index = {},
                               .recorded_at = At(1)};
  ASSERT_TRUE(store_->Put(planted));

  // 2. Write, read, search and update the marked patient through the sealed store.
  const std::string patient = fmt::format(
      R"({{"resourceType":"Patient","name":[{{"family":"{}","given":["{}"]}}],)"
      R"("birthDate":"1984-12-03","address":[{{"line":["{}"]}}],)"
      R"("identifier":[{{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"{}"}}],)"
      R"("telecom":[{{"system":"phone","value":"{}"}},{{"system":"email","value":"{}"}}]}})",
      kFamily, kGiven, kAddress, nir_, kPhone, kEmail);
  ASSERT_TRUE(PutPatient("pm", patient));
  const std::string note = fmt::format(
      R"({{"resourceType":"Condition","subject":{{"reference":"Patient/pm"}},"note":[{{"text":"{}"}}]}})",
      kNote);
  const std::string document = fmt::format(
      R"({{"resourceType":"DocumentReference","content":[{{"attachment":{{"contentType":"application/pdf","data":"{}"}}}}]}})",
      pdf_base64_);
  std::vector<SealedWrite> writes = {{"Condition", "c1", 0, "pm", note, At(2)},
                                     {"DocumentReference", "d1", 0, "pm", document, At(2)}};
  ASSERT_TRUE(sealed_->PutAll(writes));
  ASSERT_TRUE(sealed_->Get(access_, "Patient", "pm"));
  for (auto [field, query] : {std::pair{"patient.family.prefix", std::string("zephyr")},
                              {"patient.given.prefix", std::string("ANAIS")},
                              {"patient.nir", nir_},
                              {"patient.phone", std::string(kPhone)},
                              {"patient.email", std::string(kEmail)}}) {
    auto found = sealed_->Search(access_, "Patient", field, query, 5);
    ASSERT_TRUE(found) << field;
    ASSERT_EQ(found->size(), 1u) << field;
  }
  std::string updated = patient;
  updated.replace(updated.find(kAddress), kAddress.size(), kNewAddress);
  ASSERT_TRUE(PutPatient("pm", updated, 1));
  auto history = sealed_->History(access_, "Patient", "pm");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  ASSERT_TRUE(sealed_->Get(access_, "DocumentReference", "d1"));

  // 3. Search every place a thief could copy.
  std::string logs =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  ::unsetenv("TMPDIR");
  ::unsetenv("SQLITE_TMPDIR");
  std::vector<std::string> needles = Needles();
  needles.push_back(std::string(kPlanted));
  std::vector<std::string> hits;
  auto add = [&hits](std::vector<std::string> found) {
    hits.insert(hits.end(), found.begin(), found.end());
  };
  add(Find(needles, logs, "the logs"));
  add(FindInTree(needles, temp));
  if (GetParam() == "sqlite") {
    add(FindInTree(needles, dir_));  // the database, its WAL and shared memory, while open
    store_.reset();
    sealed_.reset();
    add(FindInTree(needles, dir_));  // and after the WAL was checkpointed into the database
  } else {
    auto cluster = store::ReadCluster();
    ASSERT_TRUE(cluster);
    ASSERT_FALSE(cluster->tmp.empty());
    add(FindInTree(needles, fs::path(cluster->tmp) / "data"));  // tables, indexes, pg_wal
    add(Find(needles, ReadFile(fs::path(cluster->tmp) / "server.log"), "server.log"));
    const fs::path dump = dir_ / "dump.sql";
    const std::string command = cluster->bindir + "/pg_dump -d '" + url_ + "' -f " + dump.string();
    ASSERT_EQ(std::system(command.c_str()), 0);
    std::string dumped = ReadFile(dump);
    EXPECT_GT(dumped.size(), 1000u);
    // pg_dump writes bytea columns in hex: look for that form of every value too.
    for (const auto& needle : needles) {
      std::string hex;
      for (unsigned char c : needle) hex += fmt::format("{:02x}", c);
      if (dumped.find(needle) != std::string::npos || dumped.find(hex) != std::string::npos) {
        hits.push_back(needle + " in pg_dump");
      }
    }
  }

  // The planted value is found (in the store's files or the dump), and nothing else is.
  std::vector<std::string> planted_hits, leaks;
  for (auto& hit : hits) {
    (hit.starts_with(kPlanted) ? planted_hits : leaks).push_back(std::move(hit));
  }
  EXPECT_FALSE(planted_hits.empty()) << "the scanner did not find the planted cleartext";
  EXPECT_THAT(leaks, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Backends, DumpTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace medvault::records
