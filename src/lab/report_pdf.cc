#include "lab/report_pdf.h"

#include <fmt/format.h>
#include <hpdf.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace medvault::lab {
namespace {

namespace json = boost::json;

// --- Reading the resources ---

std::string_view StringAt(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->as_string())
                                                : std::string_view();
}

const json::object* ObjectAt(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

const json::array* ArrayAt(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? &value->as_array() : nullptr;
}

const json::object* FirstObject(const json::object& object, std::string_view key) {
  const json::array* array = ArrayAt(object, key);
  if (array == nullptr || array->empty() || !array->front().is_object()) return nullptr;
  return &array->front().as_object();
}

std::string Number(const json::value& value) {
  if (value.is_int64()) return fmt::format("{}", value.as_int64());
  if (value.is_uint64()) return fmt::format("{}", value.as_uint64());
  if (value.is_double()) return fmt::format("{}", value.as_double());
  return {};
}

std::optional<double> NumberOf(const json::object* object, std::string_view key) {
  if (object == nullptr) return std::nullopt;
  const auto* value = object->if_contains(key);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->to_number<double>();
}

// A CodeableConcept as words: its text, else its first coding's display, else its code.
std::string ConceptText(const json::object* codeable) {
  if (codeable == nullptr) return {};
  if (auto text = StringAt(*codeable, "text"); !text.empty()) return std::string(text);
  if (const json::object* coding = FirstObject(*codeable, "coding")) {
    if (auto display = StringAt(*coding, "display"); !display.empty()) return std::string(display);
    return std::string(StringAt(*coding, "code"));
  }
  return {};
}

// "system|code" of the first coding: what makes two Observations the same analyte.
std::string CodeKey(const json::object& observation) {
  const json::object* code = ObjectAt(observation, "code");
  const json::object* coding = code ? FirstObject(*code, "coding") : nullptr;
  if (coding == nullptr) return {};
  return fmt::format("{}|{}", StringAt(*coding, "system"), StringAt(*coding, "code"));
}

std::string_view EffectiveOf(const json::object& resource) {
  if (auto at = StringAt(resource, "effectiveDateTime"); !at.empty()) return at;
  if (const json::object* period = ObjectAt(resource, "effectivePeriod")) {
    return StringAt(*period, "start");
  }
  return {};
}

// "2026-11-02T08:30:00+01:00" -> "2026-11-02 08:30"; a date stays as it is.
std::string ShownDate(std::string_view date) {
  if (date.size() >= 16 && date[10] == 'T') {
    return fmt::format("{} {}", date.substr(0, 10), date.substr(11, 5));
  }
  return std::string(date);
}

struct Value {
  std::string text;
  std::string unit;
  std::optional<double> number;
};

Value ValueOf(const json::object& observation) {
  Value value;
  if (const json::object* quantity = ObjectAt(observation, "valueQuantity")) {
    const std::string_view comparator = StringAt(*quantity, "comparator");
    if (const auto* number = quantity->if_contains("value")) {
      value.text = fmt::format("{}{}", comparator, Number(*number));
      if (number->is_number()) value.number = number->to_number<double>();
    }
    value.unit = StringAt(*quantity, "unit");
    if (value.unit.empty()) value.unit = StringAt(*quantity, "code");
  } else if (const json::object* codeable = ObjectAt(observation, "valueCodeableConcept")) {
    value.text = ConceptText(codeable);
  } else if (auto text = StringAt(observation, "valueString"); !text.empty()) {
    value.text = text;
  } else if (const auto* integer = observation.if_contains("valueInteger")) {
    value.text = Number(*integer);
  } else if (const auto* boolean = observation.if_contains("valueBoolean");
             boolean != nullptr && boolean->is_bool()) {
    value.text = boolean->as_bool() ? "positive" : "negative";
  } else if (const json::object* absent = ObjectAt(observation, "dataAbsentReason")) {
    value.text = ConceptText(absent);
  }
  return value;
}

struct Range {
  std::string text;
  std::optional<double> low;
  std::optional<double> high;
};

Range RangeOf(const json::object& observation) {
  Range range;
  const json::object* first = FirstObject(observation, "referenceRange");
  if (first == nullptr) return range;
  range.low = NumberOf(ObjectAt(*first, "low"), "value");
  range.high = NumberOf(ObjectAt(*first, "high"), "value");
  if (auto text = StringAt(*first, "text"); !text.empty()) {
    range.text = text;
  } else if (range.low && range.high) {
    range.text = fmt::format("{} – {}", *range.low, *range.high);
  } else if (range.high) {
    range.text = fmt::format("< {}", *range.high);
  } else if (range.low) {
    range.text = fmt::format("> {}", *range.low);
  }
  return range;
}

// The abnormal flag: the Observation's interpretation (H, L, HH, LL, A...), else the value
// outside its reference range. Empty for a normal value.
std::string AbnormalFlag(const json::object& observation, const Value& value, const Range& range) {
  static constexpr std::string_view kAbnormal[] = {"H", "HH", "HU", "L", "LL", "LU", "A", "AA"};
  if (const json::object* interpretation = FirstObject(observation, "interpretation")) {
    if (const json::object* coding = FirstObject(*interpretation, "coding")) {
      const std::string_view code = StringAt(*coding, "code");
      if (std::ranges::find(kAbnormal, code) != std::end(kAbnormal)) return std::string(code);
      if (!code.empty()) return {};  // N and the like: interpreted as normal
    }
  }
  if (value.number && range.high && *value.number > *range.high) return "H";
  if (value.number && range.low && *value.number < *range.low) return "L";
  return {};
}

std::vector<std::string> LabLines(const json::object* organization) {
  std::vector<std::string> lines;
  if (organization == nullptr) return lines;
  if (const json::object* address = FirstObject(*organization, "address")) {
    if (const json::array* parts = ArrayAt(*address, "line")) {
      for (const json::value& part : *parts) {
        if (part.is_string()) lines.emplace_back(part.as_string());
      }
    }
    const std::string city =
        fmt::format("{} {}", StringAt(*address, "postalCode"), StringAt(*address, "city"));
    if (city.size() > 1) lines.push_back(city);
  }
  std::string contact;
  if (const json::array* telecom = ArrayAt(*organization, "telecom")) {
    for (const json::value& point : *telecom) {
      if (!point.is_object()) continue;
      const std::string_view value = StringAt(point.as_object(), "value");
      if (value.empty()) continue;
      if (!contact.empty()) contact += "  ·  ";
      contact += value;
    }
  }
  if (!contact.empty()) lines.push_back(std::move(contact));
  return lines;
}

// --- Text for libharu ---

// Valid UTF-8 without control characters: each invalid byte becomes '?', a control a space.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xE  ? 3
                         : (byte >> 3) == 0x1E ? 4
                                               : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      out += '?';
      ++i;
      continue;
    }
    if (length == 1 && (byte < 0x20 || byte == 0x7F)) {
      out += ' ';
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

// Splits `text` into lines of at most `width` code points, at spaces where it can.
std::vector<std::string> Wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t line_points = 0;
  auto points = [](std::string_view word) {
    return static_cast<std::size_t>(std::ranges::count_if(
        word, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    const std::size_t word_points = points(word);
    if (line_points > 0 && line_points + 1 + word_points > width) {
      lines.push_back(std::move(line));
      line.clear();
      line_points = 0;
    }
    if (line_points > 0) {
      line += ' ';
      ++line_points;
    }
    line.append(word);
    line_points += word_points;
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// --- Layout ---

constexpr float kPageWidth = 595.276F;  // A4
constexpr float kPageHeight = 841.89F;
constexpr float kMargin = 40.0F;
constexpr float kRowHeight = 13.0F;
constexpr float kBottom = 60.0F;          // the footer lives below
constexpr float kFirstTableTop = 610.0F;  // page 1 has the patient's block above the table
constexpr float kNextTableTop = 690.0F;   // below the lab's block (at most kLabLines)
constexpr std::size_t kLabLines = 4;
constexpr std::size_t kCommentWidth = 100;  // code points a comment line holds at 9 pt
constexpr float kColumns[] = {kMargin, 215.0F, 290.0F, 365.0F, 460.0F, kPageWidth - kMargin};

struct Row {
  enum class Kind { kResult, kHeading, kText, kGap } kind = Kind::kText;
  std::string cells[5];  // a result: analyte, value (+ flag), unit, range, previous
  bool abnormal = false;
};

struct Document {
  HPDF_Doc pdf = nullptr;
  HPDF_Font regular = nullptr;
  HPDF_Font bold = nullptr;
};

struct Errors {
  HPDF_STATUS first = HPDF_OK;
  HPDF_STATUS detail = 0;
};

void OnError(HPDF_STATUS error, HPDF_STATUS detail, void* data) {
  auto* errors = static_cast<Errors*>(data);
  if (errors->first == HPDF_OK) {
    errors->first = error;
    errors->detail = detail;
  }
}

void Text(HPDF_Page page, HPDF_Font font, float size, float x, float y, const std::string& text) {
  HPDF_Page_BeginText(page);
  HPDF_Page_SetFontAndSize(page, font, size);
  HPDF_Page_TextOut(page, x, y, text.c_str());
  HPDF_Page_EndText(page);
}

// `text` cut (with an ellipsis) to fit `width` points at the page's current font.
std::string Fit(HPDF_Page page, HPDF_Font font, float size, std::string text, float width) {
  HPDF_Page_SetFontAndSize(page, font, size);
  if (HPDF_Page_TextWidth(page, text.c_str()) <= width) return text;
  while (!text.empty()) {
    do {
      text.pop_back();
    } while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80);
    if (!text.empty()) text.pop_back();  // the lead byte of the last code point
    const std::string candidate = text + "…";
    if (HPDF_Page_TextWidth(page, candidate.c_str()) <= width) return candidate;
  }
  return text;
}

void RightText(HPDF_Page page, HPDF_Font font, float size, float right, float y,
               const std::string& text) {
  HPDF_Page_SetFontAndSize(page, font, size);
  Text(page, font, size, right - HPDF_Page_TextWidth(page, text.c_str()), y, text);
}

void Rule(HPDF_Page page, float y) {
  HPDF_Page_SetLineWidth(page, 0.5F);
  HPDF_Page_MoveTo(page, kMargin, y);
  HPDF_Page_LineTo(page, kPageWidth - kMargin, y);
  HPDF_Page_Stroke(page);
}

struct Header {
  std::string lab_name;
  std::vector<std::string> lab_lines;
  std::string patient_name;
  std::vector<std::pair<std::string, std::string>> patient_fields;  // label, value
  std::vector<std::pair<std::string, std::string>> report_fields;
};

// The lab's block on every page; the patient's block on the first page, their name alone on
// the others. Returns where the table starts.
float DrawHeader(const Document& doc, HPDF_Page page, const Header& header, std::size_t number) {
  float y = kPageHeight - kMargin - 14.0F;
  Text(page, doc.bold, 14.0F, kMargin, y, Fit(page, doc.bold, 14.0F, header.lab_name, 380.0F));
  for (const std::string& line : header.lab_lines) {
    y -= 11.0F;
    Text(page, doc.regular, 9.0F, kMargin, y, Fit(page, doc.regular, 9.0F, line, 380.0F));
  }
  y -= 10.0F;
  Rule(page, y);
  if (number > 1) {
    y -= 16.0F;
    Text(page, doc.bold, 10.0F, kMargin, y,
         Fit(page, doc.bold, 10.0F, "Patient: " + header.patient_name, 500.0F));
    return std::min(y - 24.0F, kNextTableTop);
  }
  y -= 20.0F;
  Text(page, doc.bold, 12.0F, kMargin, y, Fit(page, doc.bold, 12.0F, header.patient_name, 500.0F));
  const float top = y;
  for (const auto& [label, value] : header.patient_fields) {
    y -= 13.0F;
    Text(page, doc.regular, 9.0F, kMargin, y,
         Fit(page, doc.regular, 9.0F, label + ": " + value, 250.0F));
  }
  float right_y = top;
  for (const auto& [label, value] : header.report_fields) {
    right_y -= 13.0F;
    Text(page, doc.regular, 9.0F, 310.0F, right_y,
         Fit(page, doc.regular, 9.0F, label + ": " + value, kPageWidth - kMargin - 310.0F));
  }
  y = std::min(y, right_y) - 12.0F;
  Rule(page, y);
  return std::min(y - 20.0F, kFirstTableTop);
}

// "Page 1/2" at the top right, and the lab, the patient and "1/2" in the footer.
void DrawPageNumber(const Document& doc, HPDF_Page page, const Header& header, std::size_t number,
                    std::size_t pages) {
  RightText(page, doc.regular, 9.0F, kPageWidth - kMargin, kPageHeight - kMargin - 14.0F,
            fmt::format("Page {}/{}", number, pages));
  Rule(page, kBottom - 10.0F);
  const std::string footer =
      fmt::format("{} · {} · {}/{}", header.lab_name, header.patient_name, number, pages);
  Text(page, doc.regular, 8.0F, kMargin, kBottom - 24.0F,
       Fit(page, doc.regular, 8.0F, footer, kPageWidth - 2 * kMargin));
}

void DrawTableHead(const Document& doc, HPDF_Page page, float y) {
  static const std::string kTitles[] = {"Analyte", "Result", "Unit", "Reference range",
                                        "Previous (date)"};
  for (std::size_t i = 0; i < 5; ++i) Text(page, doc.bold, 9.0F, kColumns[i], y, kTitles[i]);
  Rule(page, y - 4.0F);
}

void DrawRow(const Document& doc, HPDF_Page page, const Row& row, float y) {
  switch (row.kind) {
    case Row::Kind::kGap:
      return;
    case Row::Kind::kHeading:
      Text(page, doc.bold, 10.0F, kMargin, y, row.cells[0]);
      return;
    case Row::Kind::kText:
      Text(page, doc.regular, 9.0F, kMargin, y, row.cells[0]);
      return;
    case Row::Kind::kResult:
      for (std::size_t i = 0; i < 5; ++i) {
        HPDF_Font font = row.abnormal && i <= 1 ? doc.bold : doc.regular;
        const float width = kColumns[i + 1] - kColumns[i] - 6.0F;
        Text(page, font, 9.0F, kColumns[i], y, Fit(page, font, 9.0F, row.cells[i], width));
      }
      return;
  }
}

std::vector<Row> RowsOf(const ReportContent& content) {
  std::vector<Row> rows;
  std::vector<std::string> notes;
  for (const json::object& observation : content.observations) {
    const Value value = ValueOf(observation);
    const Range range = RangeOf(observation);
    const std::string flag = AbnormalFlag(observation, value, range);
    Row row;
    row.kind = Row::Kind::kResult;
    const std::string analyte = ConceptText(ObjectAt(observation, "code"));
    row.cells[0] = Printable(analyte);
    row.cells[1] = Printable(flag.empty() ? value.text : fmt::format("{} {} *", value.text, flag));
    row.cells[2] = Printable(value.unit);
    row.cells[3] = Printable(range.text);
    row.abnormal = !flag.empty();
    // The previous value: the newest earlier Observation of the same analyte.
    const std::string key = CodeKey(observation);
    const std::string_view when = EffectiveOf(observation);
    const json::object* previous = nullptr;
    for (const json::object& candidate : content.previous) {
      const std::string_view at = EffectiveOf(candidate);
      if (key.empty() || CodeKey(candidate) != key || at.empty() || (!when.empty() && at >= when)) {
        continue;
      }
      if (previous == nullptr || at > EffectiveOf(*previous)) previous = &candidate;
    }
    if (previous != nullptr) {
      const Value earlier = ValueOf(*previous);
      row.cells[4] =
          Printable(fmt::format("{} ({})", earlier.text, EffectiveOf(*previous).substr(0, 10)));
    }
    rows.push_back(std::move(row));
    if (const json::array* note = ArrayAt(observation, "note")) {
      for (const json::value& annotation : *note) {
        if (!annotation.is_object()) continue;
        const std::string_view text = StringAt(annotation.as_object(), "text");
        if (!text.empty()) notes.push_back(fmt::format("{}: {}", analyte, text));
      }
    }
  }
  if (auto conclusion = StringAt(content.report, "conclusion"); !conclusion.empty()) {
    notes.insert(notes.begin(), std::string(conclusion));
  }
  rows.push_back({.kind = Row::Kind::kGap, .cells = {}, .abnormal = false});
  if (!notes.empty()) {
    rows.push_back({.kind = Row::Kind::kHeading, .cells = {"Comments"}, .abnormal = false});
    for (const std::string& note : notes) {
      for (std::string& line : Wrap(Printable(note), kCommentWidth)) {
        rows.push_back({.kind = Row::Kind::kText, .cells = {std::move(line)}, .abnormal = false});
      }
    }
    rows.push_back({.kind = Row::Kind::kGap, .cells = {}, .abnormal = false});
  }
  rows.push_back({.kind = Row::Kind::kText,
                  .cells = {"Values marked * are outside the reference range."},
                  .abnormal = false});
  return rows;
}

Header HeaderOf(const ReportContent& content) {
  Header header;
  header.lab_name = content.organization != nullptr
                        ? Printable(StringAt(*content.organization, "name"))
                        : std::string();
  if (header.lab_name.empty()) header.lab_name = "Medical laboratory";
  for (const std::string& line : LabLines(content.organization)) {
    if (header.lab_lines.size() == kLabLines) break;  // the pages' layout has room for these
    header.lab_lines.push_back(Printable(line));
  }
  header.patient_name = Printable(PatientName(content.patient));
  if (auto birth = StringAt(content.patient, "birthDate"); !birth.empty()) {
    header.patient_fields.emplace_back("Born", Printable(birth));
  }
  if (auto gender = StringAt(content.patient, "gender"); !gender.empty()) {
    header.patient_fields.emplace_back("Sex", Printable(gender));
  }
  if (const json::object* identifier = FirstObject(content.patient, "identifier")) {
    header.patient_fields.emplace_back("Identifier", Printable(StringAt(*identifier, "value")));
  }
  header.report_fields.emplace_back("Report",
                                    Printable(ConceptText(ObjectAt(content.report, "code"))));
  std::string_view collected = EffectiveOf(content.report);
  if (collected.empty() && !content.observations.empty()) {
    collected = EffectiveOf(content.observations.front());
  }
  if (!collected.empty()) {
    header.report_fields.emplace_back("Sample collected", Printable(ShownDate(collected)));
  }
  if (auto issued = StringAt(content.report, "issued"); !issued.empty()) {
    header.report_fields.emplace_back("Validated", Printable(ShownDate(issued)));
  }
  std::string validators;
  if (const json::array* interpreters = ArrayAt(content.report, "resultsInterpreter")) {
    for (const json::value& interpreter : *interpreters) {
      if (!interpreter.is_object()) continue;
      const std::string_view name = StringAt(interpreter.as_object(), "display");
      if (name.empty()) continue;
      if (!validators.empty()) validators += ", ";
      validators += name;
    }
  }
  if (!validators.empty()) header.report_fields.emplace_back("Validated by", Printable(validators));
  header.report_fields.emplace_back("Status", Printable(StringAt(content.report, "status")));
  return header;
}

// Pages of rows: the first holds fewer (the patient's block is above the table).
std::vector<std::pair<std::size_t, std::size_t>> Paginate(std::size_t rows, float first_top) {
  std::vector<std::pair<std::size_t, std::size_t>> pages;
  const auto capacity = [](float top) {
    return static_cast<std::size_t>((top - 18.0F - kBottom) / kRowHeight);
  };
  std::size_t begin = 0;
  float top = first_top;
  do {
    const std::size_t end = std::min(rows, begin + std::max<std::size_t>(1, capacity(top)));
    pages.emplace_back(begin, end);
    begin = end;
    top = kNextTableTop;
  } while (begin < rows);
  return pages;
}

}  // namespace

std::string AbnormalFlagOf(const json::object& observation) {
  return AbnormalFlag(observation, ValueOf(observation), RangeOf(observation));
}

std::string PatientName(const json::object& patient) {
  const json::object* name = FirstObject(patient, "name");
  if (name == nullptr) return {};
  if (auto text = StringAt(*name, "text"); !text.empty()) return std::string(text);
  std::string out;
  if (const json::array* given = ArrayAt(*name, "given")) {
    for (const json::value& part : *given) {
      if (!part.is_string()) continue;
      if (!out.empty()) out += ' ';
      out += part.as_string();
    }
  }
  if (auto family = StringAt(*name, "family"); !family.empty()) {
    if (!out.empty()) out += ' ';
    out += family;
  }
  return out;
}

Result<std::vector<std::uint8_t>> RenderReportPdf(const ReportContent& content,
                                                  const ReportFonts& fonts) {
  for (const auto& font : {fonts.regular, fonts.bold}) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(font, error)) {
      return Fail(ErrorCode::kUnavailable, "report pdf: a font file of the report is missing");
    }
  }
  Errors errors;
  std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, decltype(&HPDF_Free)> pdf(
      HPDF_New(&OnError, &errors), &HPDF_Free);
  if (!pdf) return Fail(ErrorCode::kInternal, "report pdf: libharu could not start a document");
  Document doc{.pdf = pdf.get()};
  HPDF_SetCompressionMode(doc.pdf, HPDF_COMP_ALL);
  HPDF_UseUTFEncodings(doc.pdf);
  const char* regular = HPDF_LoadTTFontFromFile(doc.pdf, fonts.regular.c_str(), HPDF_TRUE);
  const char* bold = HPDF_LoadTTFontFromFile(doc.pdf, fonts.bold.c_str(), HPDF_TRUE);
  if (regular == nullptr || bold == nullptr) {
    return Fail(ErrorCode::kUnavailable, "report pdf: a font of the report does not load");
  }
  doc.regular = HPDF_GetFont(doc.pdf, regular, "UTF-8");
  doc.bold = HPDF_GetFont(doc.pdf, bold, "UTF-8");
  HPDF_SetInfoAttr(doc.pdf, HPDF_INFO_TITLE, "Laboratory report");
  HPDF_SetInfoAttr(doc.pdf, HPDF_INFO_CREATOR, "medvault");

  const Header header = HeaderOf(content);
  const std::vector<Row> rows = RowsOf(content);
  std::vector<HPDF_Page> pages;
  std::vector<float> tops;
  auto add_page = [&] {
    HPDF_Page page = HPDF_AddPage(doc.pdf);
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    pages.push_back(page);
    tops.push_back(DrawHeader(doc, page, header, pages.size()));
  };
  add_page();
  const auto spans = Paginate(rows.size(), tops.front());
  while (pages.size() < spans.size()) add_page();
  for (std::size_t i = 0; i < pages.size(); ++i) {
    float y = tops[i];
    DrawTableHead(doc, pages[i], y);
    y -= 18.0F;
    for (std::size_t row = spans[i].first; row < spans[i].second; ++row) {
      DrawRow(doc, pages[i], rows[row], y);
      y -= kRowHeight;
    }
    DrawPageNumber(doc, pages[i], header, i + 1, pages.size());
  }
  if (errors.first != HPDF_OK) {
    return Fail(ErrorCode::kInternal,
                fmt::format("report pdf: libharu error {:#x} ({})", errors.first, errors.detail));
  }

  HPDF_SaveToStream(doc.pdf);
  const HPDF_UINT32 size = HPDF_GetStreamSize(doc.pdf);
  std::vector<std::uint8_t> bytes(size);
  HPDF_UINT32 read = size;
  HPDF_ResetStream(doc.pdf);
  HPDF_ReadFromStream(doc.pdf, bytes.data(), &read);
  if (errors.first != HPDF_OK && errors.first != HPDF_STREAM_EOF) {
    return Fail(ErrorCode::kInternal,
                fmt::format("report pdf: libharu error {:#x} ({})", errors.first, errors.detail));
  }
  bytes.resize(read);
  return bytes;
}

}  // namespace medvault::lab
