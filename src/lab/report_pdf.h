// The lab's PDF report of a DiagnosticReport, made with libharu: the lab's name and address,
// the patient's identity, the sample's collection and the validation dates, a results table
// (analyte, value, unit, reference range, abnormal values marked, the previous value and its
// date), comments, the validator, and "page/pages" on every page. Text is UTF-8 in an
// embedded TrueType font (DejaVu), so names keep their accents.
//
// The PDF holds health data: it exists only in memory here (never a temporary file) and is
// sealed by the caller like every resource of the patient. Nothing of it is logged.
//
// Thread-safe: every call builds its own document.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault::lab {

// What the report is made of; the caller reads the resources (with the access they need).
struct ReportContent {
  const boost::json::object& report;                  // the DiagnosticReport
  std::span<const boost::json::object> observations;  // its results, in its order
  const boost::json::object& patient;                 // the Patient
  const boost::json::object* organization = nullptr;  // the performer lab, when known
  // Earlier Observations of the patient; for each result, the newest of them with the same
  // code (first coding) and an earlier date is shown as its previous value.
  std::span<const boost::json::object> previous = {};
};

// An Observation's abnormal flag as the report prints it: its interpretation (H, L, HH, LL,
// A...), else "H" or "L" for a value outside its reference range; "" for a normal value.
std::string AbnormalFlagOf(const boost::json::object& observation);

// A Patient's name as the report prints it: name[0].text, else the given names and family.
std::string PatientName(const boost::json::object& patient);

struct ReportFonts {
  std::filesystem::path regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  std::filesystem::path bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
};

// The PDF's bytes. kUnavailable when a font cannot be loaded; kInternal when libharu fails
// (its error number in the message, no content).
Result<std::vector<std::uint8_t>> RenderReportPdf(const ReportContent& content,
                                                  const ReportFonts& fonts = {});

}  // namespace medvault::lab
