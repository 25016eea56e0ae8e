// The PDF report, read back by poppler (pdftotext) and rendered (pdftoppm): what a patient and
// their doctor read must be in it, accents included, with page numbers.
#include "lab/report_pdf.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "lab/report_pdf_fixture.h"

namespace medvault::lab {
namespace {

namespace fs = std::filesystem;

// The test's own directory, removed at the end: the tools read files.
class ReportPdf : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "medvault-pdf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path Write(const std::vector<std::uint8_t>& bytes) {
    const fs::path path = dir_ / "report.pdf";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // Runs a fixed command; its stdout, and its exit status in `status`.
  static std::string Run(const std::string& command, int& status) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
      status = -1;
      return out;
    }
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    const int raw = ::pclose(pipe);
    status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
  }

  std::string TextOf(const fs::path& pdf) {
    int status = 0;
    std::string text = Run("pdftotext -enc UTF-8 " + pdf.string() + " -", status);
    EXPECT_EQ(status, 0) << "pdftotext failed";
    return text;
  }

  fs::path dir_;
};

TEST_F(ReportPdf, TwoPagesWithNamesValuesPreviousValuesAndPageNumbers) {
  const testing::TwoPageReport fixture;
  auto pdf = RenderReportPdf(fixture.Content());
  ASSERT_TRUE(pdf) << pdf.error().message();
  ASSERT_GT(pdf->size(), 1000u);
  EXPECT_EQ(std::string(pdf->begin(), pdf->begin() + 5), "%PDF-");
  const std::string text = TextOf(Write(*pdf));

  int status = 0;
  const std::string pages =
      Run("pdfinfo " + (dir_ / "report.pdf").string() + " | grep '^Pages:'", status);
  EXPECT_NE(pages.find(" 2"), std::string::npos) << pages;

  for (const char* expected : {"Laboratoire Bio-Santé Lyon Sud",
                               "12 rue de l'Hôpital",
                               "69003 Lyon",
                               "Hélène Marie Dupont",
                               "1980-04-12",
                               "MRN-000417",
                               "Bilan biochimique",
                               "Sample collected: 2026-11-02 08:30",
                               "Validated: 2026-11-02 14:05",
                               "Dr Amélie Lefèvre",
                               "Analyte n° 0",
                               "Analyte n° 59",
                               "Reference range",
                               "3.9 – 5.8",
                               "7.3 H *",
                               "6.1 (2026-05-10)",
                               "4.4 (2026-05-10)",
                               "Hyperglycémie modérée",
                               "Échantillon légèrement hémolysé",
                               "Page 1/2",
                               "Page 2/2",
                               "1/2",
                               "2/2"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected;
  }
  // The older of the two earlier glucose values is not the previous one.
  EXPECT_EQ(text.find("5.2 (2025-12-01)"), std::string::npos);
}

TEST_F(ReportPdf, RendersWithPdftoppm) {
  const testing::TwoPageReport fixture;
  auto pdf = RenderReportPdf(fixture.Content());
  ASSERT_TRUE(pdf) << pdf.error().message();
  const fs::path path = Write(*pdf);
  int status = 0;
  Run("pdftoppm -r 40 -png " + path.string() + " " + (dir_ / "page").string() + " 2>&1", status);
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(fs::exists(dir_ / "page-1.png"));
  EXPECT_TRUE(fs::exists(dir_ / "page-2.png"));
  EXPECT_GT(fs::file_size(dir_ / "page-1.png"), 1000u);
}

TEST_F(ReportPdf, AShortReportIsOnePageAndOddTextIsKeptPrintable) {
  testing::TwoPageReport fixture;
  fixture.observations.resize(3);
  fixture.patient["name"] = boost::json::array{
      boost::json::object{{"family", "N'Diaye\x01\xff"}, {"given", boost::json::array{"Zoé"}}}};
  auto pdf = RenderReportPdf(fixture.Content());
  ASSERT_TRUE(pdf) << pdf.error().message();
  const std::string text = TextOf(Write(*pdf));
  EXPECT_NE(text.find("Page 1/1"), std::string::npos);
  EXPECT_NE(text.find("Zoé N'Diaye"), std::string::npos);
  EXPECT_EQ(text.find("2/2"), std::string::npos);
}

TEST_F(ReportPdf, AMissingFontIsUnavailable) {
  const testing::TwoPageReport fixture;
  auto pdf = RenderReportPdf(fixture.Content(), {.regular = dir_ / "none.ttf"});
  ASSERT_FALSE(pdf);
  EXPECT_EQ(pdf.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace medvault::lab
