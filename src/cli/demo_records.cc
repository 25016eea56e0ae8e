#include "cli/demo_records.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <span>
#include <utility>

#include "core/base64.h"
#include "core/french_ids.h"

namespace medvault::cli {

double DemoSequence::Normal() {
  // Box-Muller; 1 - Uniform() is in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
  return radius * std::cos(2.0 * std::numbers::pi * Uniform());
}

std::string DemoSequence::Uuid() {
  const std::uint64_t high = (Next() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t low = (Next() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                     high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

std::string DemoNir(const DemoPerson& person) {
  std::string body =
      fmt::format("{}{:02}{:02}{}{:03}{:03}", person.sex, person.year % 100, person.month,
                  person.department, 100 + person.serial % 900, 1 + person.serial % 999);
  return body + fmt::format("{:02}", NirKey(body).value_or(0));
}

namespace {

namespace chr = std::chrono;
using Day = chr::sys_days;

// ---- JSON text, built from pieces. Strings are escaped by Boost.JSON; decimals are written
// with the precision a lab reports them with (Boost.JSON would print 1.32E1 for 13.2).

std::string Str(std::string_view text) { return boost::json::serialize(boost::json::string(text)); }
std::string Num(double value, int decimals) {
  if (decimals == 0) return fmt::format("{}", static_cast<long long>(std::lround(value)));
  return fmt::format("{:.{}f}", value, decimals);
}
std::string Int(long long value) { return fmt::format("{}", value); }

using Field = std::pair<std::string_view, std::string>;
// An object of the fields whose value is not empty (FHIR has no empty elements).
std::string Obj(std::initializer_list<Field> fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    out += value;
  }
  out += '}';
  return out;
}
// An array of the non-empty items; empty when there are none (so the field is left out).
std::string Arr(std::span<const std::string> items) {
  std::string out;
  for (const std::string& item : items) {
    if (item.empty()) continue;
    out += out.empty() ? "[" : ",";
    out += item;
  }
  if (!out.empty()) out += ']';
  return out;
}
std::string Arr(std::initializer_list<std::string> items) {
  return Arr(std::span<const std::string>(items.begin(), items.size()));
}

std::string Ref(std::string_view type, std::string_view id) {
  return Obj({{"reference", Str(fmt::format("{}/{}", type, id))}});
}
std::string Coding(std::string_view system, std::string_view code, std::string_view display) {
  return Obj({{"system", Str(system)},
              {"code", Str(code)},
              {"display", display.empty() ? "" : Str(display)}});
}
std::string Concept(std::string coding, std::string_view text = {}) {
  return Obj({{"coding", Arr({std::move(coding)})}, {"text", text.empty() ? "" : Str(text)}});
}
std::string TextConcept(std::string_view text) { return Obj({{"text", Str(text)}}); }

constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kAtc = "http://www.whocc.no/atc";
constexpr std::string_view kIcd10 = "http://hl7.org/fhir/sid/icd-10";
constexpr std::string_view kSnomed = "http://snomed.info/sct";
constexpr std::string_view kFrIdentifierType =
    "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
// ANS: national identifiers of health professionals (idNatPS, "8" + RPPS) and of structures
// (idNatStruct, "1" + FINESS or "3" + SIRET).
constexpr std::string_view kSystemIdNatPs = "urn:oid:1.2.250.1.71.4.2.1";
constexpr std::string_view kSystemIdNatStruct = "urn:oid:1.2.250.1.71.4.2.2";
constexpr std::string_view kSystemAccession = "https://lbm-quais.example.org/accession";

std::string Quantity(double value, int decimals, std::string_view unit, std::string_view code) {
  return Obj({{"value", Num(value, decimals)},
              {"unit", Str(unit)},
              {"system", Str(kUcum)},
              {"code", Str(code)}});
}

// ---- Dates.

Day ParseDay(std::string_view iso) {
  auto number = [&](std::size_t at, std::size_t length) {
    int value = 0;
    for (char c : iso.substr(at, length)) value = value * 10 + (c - '0');
    return value;
  };
  return Day(chr::year(number(0, 4)) / chr::month(static_cast<unsigned>(number(5, 2))) /
             chr::day(static_cast<unsigned>(number(8, 2))));
}
std::string DateText(Day day) {
  const chr::year_month_day date(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}
// A dateTime or instant at `minutes` after midnight UTC.
std::string TimeText(Day day, int minutes) {
  day += chr::days(minutes / (24 * 60));
  minutes %= 24 * 60;
  return fmt::format("{}T{:02}:{:02}:00Z", DateText(day), minutes / 60, minutes % 60);
}
double YearsBetween(Day from, Day to) { return (to - from).count() / 365.25; }

// Luhn check digit, as FINESS, SIRET and RPPS numbers carry.
char LuhnDigit(std::string_view digits) {
  int sum = 0;
  bool twice = true;  // the rightmost digit of the body is doubled
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int digit = *it - '0';
    if (twice) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}
std::string WithLuhn(std::string body) {
  body.push_back(LuhnDigit(body));
  return body;
}

// ---- A one-page PDF of text lines (PDF 1.4, Helvetica in WinAnsiEncoding): the lab's report
// as the patient would download it.

// A PDF string literal of UTF-8 text: Latin-1 letters and a few WinAnsi ones as octal
// escapes, anything else as '?'.
std::string PdfString(std::string_view text) {
  std::string out = "(";
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::uint32_t point = c;
    std::size_t length = 1;
    if (c >= 0xf0) {
      length = 4;
    } else if (c >= 0xe0) {
      point = c & 0x0f;
      length = 3;
    } else if (c >= 0xc0) {
      point = c & 0x1f;
      length = 2;
    }
    if (length > 1) {
      for (std::size_t k = 1; k < length && i + k < text.size(); ++k) {
        point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
      }
      if (length == 4) point = '?';
    }
    i += length;
    if (point == 0x2014) point = 0x97;  // em dash
    if (point == 0x2019) point = 0x92;  // right single quotation mark
    if (point == 0x0153) point = 0x9c;  // oe ligature
    if (point == '(' || point == ')' || point == '\\') {
      out += '\\';
      out += static_cast<char>(point);
    } else if (point >= 0x20 && point < 0x7f) {
      out += static_cast<char>(point);
    } else if (point >= 0x80 && point < 0x100) {
      out += fmt::format("\\{:03o}", point);
    } else {
      out += '?';
    }
  }
  return out + ")";
}

std::string PdfOfLines(std::span<const std::string> lines) {
  std::string content = "BT /F1 10 Tf 50 800 Td 14 TL\n";
  for (const std::string& line : lines) content += PdfString(line) + " Tj T*\n";
  content += "ET\n";
  const std::array<std::string, 5> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R "
      ">> >> /Contents 5 0 R >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
      fmt::format("<< /Length {} >>\nstream\n{}endstream", content.size(), content),
  };
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += fmt::format("{} 0 obj\n{}\nendobj\n", i + 1, objects[i]);
  }
  const std::size_t xref = pdf.size();
  pdf += fmt::format("xref\n0 {}\n0000000000 65535 f \n", objects.size() + 1);
  for (std::size_t offset : offsets) pdf += fmt::format("{:010} 00000 n \n", offset);
  pdf += fmt::format("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
                     objects.size() + 1, xref);
  return pdf;
}

std::string Sha1Base64(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha1(), nullptr);
  return EncodeBase64(std::span<const std::uint8_t>(digest, size), Base64Alphabet::kStandard);
}

// ---- The directory.

struct Staff {
  std::string_view family;
  std::string_view given;
  std::string_view gender;
  std::string_view rpps_body;  // 10 digits; the 11th is the check digit
  std::string_view role_code;  // http://terminology.hl7.org/CodeSystem/practitioner-role
  std::string_view role_text;
  std::string_view qualification;
  std::string_view login;  // of the work e-mail address
  bool at_lab;
};

constexpr std::array kStaff = {
    Staff{"Martin", "Camille", "female", "1000301234", "doctor", "Médecin généraliste",
          "Docteur en médecine, médecine générale", "c.martin", false},
    Staff{"Moreau", "Julien", "male", "1000415678", "doctor", "Médecin généraliste",
          "Docteur en médecine, médecine générale", "j.moreau", false},
    Staff{"Garnier", "Sophie", "female", "1000529012", "doctor", "Médecin généraliste",
          "Docteur en médecine, médecine générale", "s.garnier", false},
    Staff{"Benali", "Karim", "male", "1000633456", "doctor", "Médecin généraliste",
          "Docteur en médecine, médecine générale", "k.benali", false},
    Staff{"Faure", "Élodie", "female", "1000747890", "nurse", "Infirmière diplômée d'État",
          "Diplôme d'État d'infirmier", "e.faure", false},
    Staff{"Rousseau", "Nathalie", "female", "1000851234", "pharmacist", "Biologiste médicale",
          "Docteur en pharmacie, DES de biologie médicale", "n.rousseau", true},
    Staff{"Lefort", "Marc", "male", "1000965678", "doctor", "Biologiste médical",
          "Docteur en médecine, DES de biologie médicale", "m.lefort", true},
    Staff{"Bernard", "Léa", "female", "1001079012", "", "Technicienne de laboratoire médical",
          "Diplôme de technicien de laboratoire médical", "l.bernard", true},
};
constexpr std::size_t kGeneralPractitioners = 4;
constexpr std::size_t kNurse = 4;
constexpr std::size_t kFirstBiologist = 5;
constexpr std::size_t kBiologists = 2;

std::string Address(std::string_view line, std::string_view city, std::string_view postal) {
  return Obj({{"use", Str("work")},
              {"type", Str("both")},
              {"line", Arr({Str(line)})},
              {"city", Str(city)},
              {"postalCode", Str(postal)},
              {"country", Str("FR")}});
}
std::string Telecom(std::string_view system, std::string_view value, std::string_view use) {
  return Obj({{"system", Str(system)}, {"value", Str(value)}, {"use", Str(use)}});
}
std::string TypedIdentifier(std::string_view type, std::string_view type_display,
                            std::string_view system, std::string_view value) {
  return Obj({{"use", Str("official")},
              {"type", Concept(Coding(kFrIdentifierType, type, type_display))},
              {"system", Str(system)},
              {"value", Str(value)}});
}

}  // namespace

DemoDirectory MakeDemoDirectory() {
  DemoSequence ids(0x6d65647661756c74ULL);  // "medvault"
  DemoDirectory directory;
  directory.lab_id = ids.Uuid();
  directory.clinic_id = ids.Uuid();

  const std::string lab_siret = WithLuhn("7620145870001");
  const std::string lab_finess = WithLuhn("76003175");
  directory.resources.push_back(
      {"Organization", directory.lab_id, "",
       Obj({{"resourceType", Str("Organization")},
            {"id", Str(directory.lab_id)},
            {"identifier",
             Arr({TypedIdentifier("FINEG", "FINESS d'entité géographique", kSystemIdNatStruct,
                                  "1" + lab_finess),
                  TypedIdentifier("SIRET", "Identification de l'organisation au SIRET",
                                  kSystemIdNatStruct, "3" + lab_siret),
                  // How the lab's own HL7 feed names it (MSH-4, src/lab/oru.cc), with and
                  // without its OID: the feed's reports name this Organization as performer,
                  // so that the lab's technicians (lab.bernard) see them.
                  Obj({{"system", Str("urn:ietf:rfc:3986")},
                       {"value", Str("urn:oid:1.2.250.1.71.4.2.2.750001234")}}),
                  Obj({{"system", Str("urn:medvault:hl7v2:LBM-QUAIS")},
                       {"value", Str("LBM-QUAIS")}})})},
            {"active", "true"},
            {"type", Arr({Concept(Coding("http://terminology.hl7.org/CodeSystem/organization-type",
                                         "prov", "Healthcare Provider"),
                                  "Laboratoire de biologie médicale")})},
            {"name", Str("Laboratoire de biologie médicale des Quais")},
            {"alias", Arr({Str("LBM des Quais")})},
            {"telecom", Arr({Telecom("phone", "02 35 71 40 00", "work"),
                             Telecom("email", "contact@lbm-quais.example.org", "work")})},
            {"address", Arr({Address("14 quai du Havre", "Rouen", "76000")})}})});
  const std::string clinic_siret = WithLuhn("8153620940001");
  directory.resources.push_back(
      {"Organization", directory.clinic_id, "",
       Obj({{"resourceType", Str("Organization")},
            {"id", Str(directory.clinic_id)},
            {"identifier",
             Arr({TypedIdentifier("SIRET", "Identification de l'organisation au SIRET",
                                  kSystemIdNatStruct, "3" + clinic_siret)})},
            {"active", "true"},
            {"type", Arr({Concept(Coding("http://terminology.hl7.org/CodeSystem/organization-type",
                                         "prov", "Healthcare Provider"),
                                  "Maison de santé pluriprofessionnelle")})},
            {"name", Str("Maison de santé du Mont-Riboudet")},
            {"telecom", Arr({Telecom("phone", "02 35 98 12 30", "work")})},
            {"address", Arr({Address("3 avenue du Mont-Riboudet", "Rouen", "76000")})}})});

  for (std::size_t i = 0; i < kStaff.size(); ++i) {
    const Staff& staff = kStaff[i];
    const std::string practitioner_id = ids.Uuid();
    const std::string role_id = ids.Uuid();
    const std::string organization = staff.at_lab ? directory.lab_id : directory.clinic_id;
    const std::string domain = staff.at_lab ? "lbm-quais.example.org" : "msp-riboudet.example.org";
    const std::string login(staff.login);
    const bool doctor = staff.role_code == "doctor" || staff.role_code == "pharmacist";
    directory.resources.push_back(
        {"Practitioner", practitioner_id, "",
         Obj({{"resourceType", Str("Practitioner")},
              {"id", Str(practitioner_id)},
              {"identifier", Arr({TypedIdentifier(
                                 "IDNPS", "Identifiant National de Professionnel de Santé",
                                 kSystemIdNatPs, "8" + WithLuhn(std::string(staff.rpps_body)))})},
              {"active", "true"},
              {"name", Arr({Obj({{"use", Str("official")},
                                 {"family", Str(staff.family)},
                                 {"given", Arr({Str(staff.given)})},
                                 {"prefix", doctor ? Arr({Str("Dr")}) : ""}})})},
              {"telecom", Arr({Telecom("email", login + "@" + domain, "work")})},
              {"gender", Str(staff.gender)},
              {"qualification", Arr({Obj({{"code", TextConcept(staff.qualification)}})})}})});
    directory.resources.push_back(
        {"PractitionerRole", role_id, "",
         Obj({{"resourceType", Str("PractitionerRole")},
              {"id", Str(role_id)},
              {"active", "true"},
              {"practitioner", Ref("Practitioner", practitioner_id)},
              {"organization", Ref("Organization", organization)},
              {"code",
               Arr({staff.role_code.empty()
                        ? TextConcept(staff.role_text)
                        : Concept(Coding("http://terminology.hl7.org/CodeSystem/practitioner-role",
                                         staff.role_code, ""),
                                  staff.role_text)})},
              {"telecom", Arr({Telecom("email", login + "@" + domain, "work")})}})});
    if (i < kGeneralPractitioners) directory.general_practitioner_ids.push_back(practitioner_id);
    if (i == kNurse) directory.nurse_id = practitioner_id;
    if (i >= kFirstBiologist && i < kFirstBiologist + kBiologists) {
      directory.biologist_ids.push_back(practitioner_id);
      directory.biologist_role_ids.push_back(role_id);
    }
  }
  return directory;
}

namespace {

// ---- Lab analytes: LOINC code, name, UCUM unit, reference ranges by sex (negative: no
// bound), the precision they are reported with and how much they vary between two draws.

enum class Key {
  kLeukocytes,
  kErythrocytes,
  kHemoglobin,
  kHematocrit,
  kMcv,
  kPlatelets,
  kGlucose,
  kCreatinine,
  kEgfr,
  kSodium,
  kPotassium,
  kHba1c,
  kCholesterol,
  kHdl,
  kLdl,
  kTriglycerides,
  kTsh,
  kFerritin,
  kCrp,
  kAlt,
  kAst,
  kGgt,
};

struct Analyte {
  Key key;
  std::string_view label;  // as a French report or note names it
  std::string_view loinc;
  std::string_view name;
  std::string_view unit;  // as printed
  std::string_view ucum;
  double low_male, high_male, low_female, high_female;
  int decimals;
  double variation;  // coefficient of variation between draws
};

constexpr std::array kAnalytes = {
    Analyte{Key::kLeukocytes, "Leucocytes", "6690-2",
            "Leukocytes [#/volume] in Blood by Automated count", "G/L", "10*9/L", 4.0, 10.0, 4.0,
            10.0, 1, 0.10},
    Analyte{Key::kErythrocytes, "Hématies", "789-8",
            "Erythrocytes [#/volume] in Blood by Automated count", "T/L", "10*12/L", 4.5, 5.9, 3.9,
            5.2, 2, 0.0},
    Analyte{Key::kHemoglobin, "Hémoglobine", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL",
            "g/dL", 13.0, 17.0, 12.0, 16.0, 1, 0.03},
    Analyte{Key::kHematocrit, "Hématocrite", "4544-3",
            "Hematocrit [Volume Fraction] of Blood by Automated count", "%", "%", 40.0, 52.0, 36.0,
            47.0, 1, 0.0},
    Analyte{Key::kMcv, "VGM", "787-2", "MCV [Entitic volume] by Automated count", "fL", "fL", 80.0,
            100.0, 80.0, 100.0, 0, 0.015},
    Analyte{Key::kPlatelets, "Plaquettes", "777-3",
            "Platelets [#/volume] in Blood by Automated count", "G/L", "10*9/L", 150.0, 400.0,
            150.0, 400.0, 0, 0.08},
    Analyte{Key::kGlucose, "Glycémie", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "g/L",
            "g/L", 0.70, 1.10, 0.70, 1.10, 2, 0.05},
    Analyte{Key::kCreatinine, "Créatinine", "14682-9",
            "Creatinine [Moles/volume] in Serum or Plasma", "µmol/L", "umol/L", 62.0, 106.0, 44.0,
            80.0, 0, 0.06},
    Analyte{Key::kEgfr, "DFG (CKD-EPI)", "62238-1",
            "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma "
            "or Blood by Creatinine-based formula (CKD-EPI)",
            "mL/min/1,73 m²", "mL/min/{1.73_m2}", 60.0, -1.0, 60.0, -1.0, 0, 0.0},
    Analyte{Key::kSodium, "Sodium", "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L",
            "mmol/L", 136.0, 145.0, 136.0, 145.0, 0, 0.008},
    Analyte{Key::kPotassium, "Potassium", "2823-3", "Potassium [Moles/volume] in Serum or Plasma",
            "mmol/L", "mmol/L", 3.5, 5.1, 3.5, 5.1, 1, 0.05},
    Analyte{Key::kHba1c, "HbA1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%",
            4.0, 6.0, 4.0, 6.0, 1, 0.03},
    Analyte{Key::kCholesterol, "Cholestérol total", "2093-3",
            "Cholesterol [Mass/volume] in Serum or Plasma", "g/L", "g/L", -1.0, 2.00, -1.0, 2.00, 2,
            0.05},
    Analyte{Key::kHdl, "HDL-cholestérol", "2085-9",
            "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "g/L", "g/L", 0.40, -1.0, 0.40,
            -1.0, 2, 0.06},
    Analyte{Key::kLdl, "LDL-cholestérol", "13457-7",
            "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation", "g/L", "g/L",
            -1.0, 1.60, -1.0, 1.60, 2, 0.0},
    Analyte{Key::kTriglycerides, "Triglycérides", "2571-8",
            "Triglyceride [Mass/volume] in Serum or Plasma", "g/L", "g/L", -1.0, 1.50, -1.0, 1.50,
            2, 0.15},
    Analyte{Key::kTsh, "TSH", "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "mUI/L",
            "m[IU]/L", 0.27, 4.20, 0.27, 4.20, 2, 0.20},
    Analyte{Key::kFerritin, "Ferritine", "2276-4", "Ferritin [Mass/volume] in Serum or Plasma",
            "µg/L", "ug/L", 30.0, 400.0, 15.0, 150.0, 0, 0.12},
    Analyte{Key::kCrp, "CRP", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma",
            "mg/L", "mg/L", -1.0, 5.0, -1.0, 5.0, 1, 0.30},
    Analyte{Key::kAlt, "ALAT", "1742-6",
            "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "U/L",
            -1.0, 45.0, -1.0, 35.0, 0, 0.15},
    Analyte{Key::kAst, "ASAT", "1920-8",
            "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L",
            "U/L", -1.0, 35.0, -1.0, 35.0, 0, 0.12},
    Analyte{Key::kGgt, "GGT", "2324-2",
            "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma", "U/L",
            "U/L", -1.0, 60.0, -1.0, 40.0, 0, 0.15},
};

static_assert(
    [] {
      for (std::size_t i = 0; i < kAnalytes.size(); ++i) {
        if (static_cast<std::size_t>(kAnalytes[i].key) != i) return false;
      }
      return true;
    }(),
    "kAnalytes is in the order of Key");

const Analyte& AnalyteOf(Key key) { return kAnalytes[static_cast<std::size_t>(key)]; }

struct Panel {
  std::string_view loinc;
  std::string_view name;
  std::string_view title;  // as the French report heads it
  std::initializer_list<Key> keys;
};

enum class PanelId { kCbc, kMetabolic, kLipids, kHba1c, kTsh, kFerritin, kCrp, kHepatic };

const std::array<Panel, 8>& Panels() {
  static const std::array<Panel, 8> panels = {
      Panel{"58410-2",
            "CBC panel - Blood by Automated count",
            "Hémogramme (NFS)",
            {Key::kLeukocytes, Key::kErythrocytes, Key::kHemoglobin, Key::kHematocrit, Key::kMcv,
             Key::kPlatelets}},
      Panel{"24321-2",
            "Basic metabolic 2000 panel - Serum or Plasma",
            "Bilan métabolique",
            {Key::kGlucose, Key::kCreatinine, Key::kEgfr, Key::kSodium, Key::kPotassium}},
      Panel{"24331-1",
            "Lipid 1996 panel - Serum or Plasma",
            "Bilan lipidique",
            {Key::kCholesterol, Key::kHdl, Key::kLdl, Key::kTriglycerides}},
      Panel{"4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            "Hémoglobine glyquée (HbA1c)",
            {Key::kHba1c}},
      Panel{"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH", {Key::kTsh}},
      Panel{"2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "Ferritine", {Key::kFerritin}},
      Panel{"1988-5",
            "C reactive protein [Mass/volume] in Serum or Plasma",
            "Protéine C réactive (CRP)",
            {Key::kCrp}},
      Panel{"24325-3",
            "Hepatic function 2000 panel - Serum or Plasma",
            "Bilan hépatique",
            {Key::kAlt, Key::kAst, Key::kGgt}},
  };
  return panels;
}

// ---- Conditions, with what treats them.

enum class Disease {
  kDiabetes,
  kDyslipidemia,
  kHypertension,
  kHypothyroidism,
  kIronDeficiency,
  kCkd
};
constexpr std::size_t kDiseases = 6;

struct Medication {
  std::string_view atc;
  std::string_view atc_name;
  std::string_view text;
  std::string_view dosage;
  int dose;  // tablets per intake
  int per_day;
};

struct DiseaseInfo {
  std::string_view icd10;
  std::string_view icd10_name;
  std::string_view text;
  Medication treatment;  // atc empty: none
  bool resolves;         // an episode that is treated and over (clinicalStatus resolved)
};

constexpr std::array<DiseaseInfo, kDiseases> kDiseaseInfo = {
    DiseaseInfo{"E11.9",
                "Type 2 diabetes mellitus without complications",
                "Diabète de type 2",
                {"A10BA02", "metformin", "Metformine 1000 mg, comprimé pelliculé",
                 "1 comprimé matin et soir, au cours des repas", 1, 2},
                false},
    DiseaseInfo{"E78.0",
                "Pure hypercholesterolaemia",
                "Hypercholestérolémie",
                {"C10AA05", "atorvastatin", "Atorvastatine 20 mg, comprimé pelliculé",
                 "1 comprimé le soir", 1, 1},
                false},
    DiseaseInfo{"I10",
                "Essential (primary) hypertension",
                "Hypertension artérielle essentielle",
                {"C09AA05", "ramipril", "Ramipril 5 mg, gélule", "1 gélule le matin", 1, 1},
                false},
    DiseaseInfo{"E03.9",
                "Hypothyroidism, unspecified",
                "Hypothyroïdie",
                {"H03AA01", "levothyroxine sodium", "Lévothyroxine sodique 75 µg, comprimé",
                 "1 comprimé le matin à jeun", 1, 1},
                false},
    DiseaseInfo{"D50.9",
                "Iron deficiency anaemia, unspecified",
                "Anémie par carence martiale",
                {"B03AA07", "ferrous sulfate", "Sulfate ferreux 80 mg, comprimé",
                 "1 comprimé par jour pendant 3 mois", 1, 1},
                true},
    DiseaseInfo{"N18.3",
                "Chronic kidney disease, stage 3",
                "Maladie rénale chronique stade 3",
                {"", "", "", "", 0, 0},
                false},
};

struct Allergy {
  std::string_view snomed;
  std::string_view snomed_name;
  std::string_view text;
  std::string_view category;
  std::string_view criticality;
  std::string_view reaction;
  std::string_view severity;
};
constexpr std::array kAllergies = {
    Allergy{"764146007", "Penicillin", "Pénicillines", "medication", "high",
            "Urticaire généralisée", "moderate"},
    Allergy{"387458008", "Aspirin", "Acide acétylsalicylique", "medication", "low", "Bronchospasme",
            "moderate"},
    Allergy{"762952008", "Peanut", "Arachide", "food", "high", "Œdème de Quincke", "severe"},
    Allergy{"256259004", "Pollen", "Pollens de graminées", "environment", "low",
            "Rhinite allergique", "mild"},
    Allergy{"111088007", "Latex", "Latex", "environment", "low", "Eczéma de contact", "mild"},
};

constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTowns = {{
    {"Rouen", "76000"},
    {"Mont-Saint-Aignan", "76130"},
    {"Bois-Guillaume", "76230"},
    {"Sotteville-lès-Rouen", "76300"},
    {"Le Grand-Quevilly", "76120"},
    {"Le Petit-Quevilly", "76140"},
    {"Déville-lès-Rouen", "76250"},
    {"Darnétal", "76160"},
    {"Canteleu", "76380"},
    {"Bihorel", "76420"},
}};
constexpr std::array kStreets = {"rue des Tilleuls",       "rue Jeanne-d'Arc", "allée des Érables",
                                 "rue du Général-Leclerc", "chemin des Prés",  "rue Saint-Romain",
                                 "boulevard de l'Yser",    "impasse des Lilas"};

constexpr Day kNever = Day::max();

// One patient's physiology and history, drawn once from the seed.
struct Body {
  bool male = true;
  Day birth;
  // Baselines of the analytes that are not derived from others.
  double leukocytes, hemoglobin, mcv, platelets, glucose, creatinine, sodium, potassium, hba1c,
      cholesterol, hdl, triglycerides, tsh, ferritin, alt, ast, ggt;
  std::array<Day, kDiseases> onset;      // kNever: does not have it
  std::array<Day, kDiseases> treatment;  // when treatment started; kNever: untreated
};

double Ramp(Day day, Day from, Day to) {
  if (day <= from) return 0.0;
  if (day >= to) return 1.0;
  return static_cast<double>((day - from).count()) / static_cast<double>((to - from).count());
}

// What an analyte's true value is on `day`, before the noise of a draw.
double TrueValue(const Body& body, Key key, Day day, double inflammation) {
  const auto& onset = body.onset;
  const auto& treated = body.treatment;
  auto has = [&](Disease disease) { return onset[static_cast<std::size_t>(disease)] != kNever; };
  auto since = [&](Disease disease) {
    return std::max(0.0, YearsBetween(onset[static_cast<std::size_t>(disease)], day));
  };
  auto on_treatment = [&](Disease disease) {
    Day start = treated[static_cast<std::size_t>(disease)];
    return start == kNever ? 0.0 : Ramp(day, start, start + chr::days(90));
  };
  const double age = YearsBetween(body.birth, day);
  const double iron = [&] {
    if (!has(Disease::kIronDeficiency)) return 0.0;
    Day start = onset[static_cast<std::size_t>(Disease::kIronDeficiency)];
    // Sets in over four months, then recovers over the five months of treatment.
    return Ramp(day, start - chr::days(120), start) *
           (1.0 - Ramp(day, start + chr::days(30), start + chr::days(180)));
  }();
  switch (key) {
    case Key::kLeukocytes:
      return body.leukocytes + 4.5 * inflammation;
    case Key::kHemoglobin:
      return body.hemoglobin - 3.0 * iron;
    case Key::kMcv:
      return body.mcv - 12.0 * iron;
    case Key::kPlatelets:
      return body.platelets * (1.0 + 0.25 * iron + 0.2 * inflammation);
    case Key::kFerritin:
      return body.ferritin * (1.0 - 0.9 * iron) * (1.0 + 1.5 * inflammation);
    case Key::kGlucose: {
      double value = body.glucose;
      if (has(Disease::kDiabetes)) {
        Day start = onset[static_cast<std::size_t>(Disease::kDiabetes)];
        value += 0.35 * Ramp(day, start - chr::days(730), start) + 0.05 * since(Disease::kDiabetes);
        value -= 0.25 * on_treatment(Disease::kDiabetes);
      }
      return value;
    }
    case Key::kHba1c: {
      double value = body.hba1c;
      if (has(Disease::kDiabetes)) {
        Day start = onset[static_cast<std::size_t>(Disease::kDiabetes)];
        value += 2.0 * Ramp(day, start - chr::days(730), start) + 0.15 * since(Disease::kDiabetes);
        value -= 1.2 * on_treatment(Disease::kDiabetes);
      }
      return value;
    }
    case Key::kCreatinine: {
      double value = body.creatinine * (1.0 + 0.004 * std::max(0.0, age - 40.0));
      if (has(Disease::kCkd)) value += 45.0 + 9.0 * since(Disease::kCkd);
      return value;
    }
    case Key::kSodium:
      return body.sodium;
    case Key::kPotassium:
      return body.potassium + 0.3 * on_treatment(Disease::kHypertension) +
             (has(Disease::kCkd) ? 0.4 : 0.0);
    case Key::kCholesterol: {
      double value = body.cholesterol + 0.01 * std::max(0.0, age - 30.0);
      if (has(Disease::kDyslipidemia)) {
        Day start = onset[static_cast<std::size_t>(Disease::kDyslipidemia)];
        value += 0.7 * Ramp(day, start - chr::days(1095), start);
        value -= 0.75 * on_treatment(Disease::kDyslipidemia);
      }
      if (has(Disease::kHypothyroidism)) {
        value +=
            0.3 *
            Ramp(day, onset[static_cast<std::size_t>(Disease::kHypothyroidism)] - chr::days(365),
                 onset[static_cast<std::size_t>(Disease::kHypothyroidism)]) *
            (1.0 - on_treatment(Disease::kHypothyroidism));
      }
      return value;
    }
    case Key::kHdl:
      return body.hdl - (has(Disease::kDiabetes) ? 0.06 : 0.0);
    case Key::kTriglycerides:
      return body.triglycerides * (has(Disease::kDiabetes) ? 1.5 : 1.0) *
             (1.0 - 0.2 * on_treatment(Disease::kDyslipidemia));
    case Key::kTsh: {
      double value = body.tsh;
      if (has(Disease::kHypothyroidism)) {
        Day start = onset[static_cast<std::size_t>(Disease::kHypothyroidism)];
        value *= 1.0 + 4.0 * Ramp(day, start - chr::days(365), start) *
                           (1.0 - on_treatment(Disease::kHypothyroidism));
      }
      return value;
    }
    case Key::kCrp:
      return 1.2 + 60.0 * inflammation;
    case Key::kAlt:
      return body.alt * (has(Disease::kDiabetes) ? 1.4 : 1.0);
    case Key::kAst:
      return body.ast;
    case Key::kGgt:
      return body.ggt * (has(Disease::kDiabetes) ? 1.3 : 1.0);
    case Key::kErythrocytes:
    case Key::kHematocrit:
    case Key::kEgfr:
    case Key::kLdl:
      break;  // derived from the others when a panel is drawn
  }
  return 0.0;
}

// CKD-EPI 2009, from creatinine in µmol/L.
double Egfr(double creatinine, double age, bool male) {
  const double scr = creatinine / 88.4;
  const double kappa = male ? 0.9 : 0.7;
  const double alpha = male ? -0.411 : -0.329;
  return 141.0 * std::pow(std::min(scr / kappa, 1.0), alpha) *
         std::pow(std::max(scr / kappa, 1.0), -1.209) * std::pow(0.993, age) * (male ? 1.0 : 1.018);
}

double Round(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// The record of one patient, built in order.
class RecordBuilder {
 public:
  RecordBuilder(const DemoDirectory& directory, const DemoPerson& person, std::string patient_id,
                std::size_t general_practitioner, std::uint64_t seed)
      : directory_(directory),
        person_(person),
        patient_id_(std::move(patient_id)),
        gp_id_(directory.general_practitioner_ids[general_practitioner %
                                                  directory.general_practitioner_ids.size()]),
        random_(seed),
        ids_(seed ^ 0x5eed1d5ULL) {}

  std::vector<DemoResource> Build();

 private:
  void DrawBody();
  void AddPatient();
  void AddConditions();
  void AddAllergies();
  void AddCareTeam();
  void AddLabVisit(Day day, std::size_t visit);
  void AddConsultation(Day day, std::size_t consultation);
  // Adds a resource (`json` without resourceType and id) under `id`, or a new id.
  std::string Add(std::string_view type, std::string json, std::string id = {});
  bool Has(Disease disease) const {
    return body_.onset[static_cast<std::size_t>(disease)] != kNever;
  }
  std::string PatientRef() const { return Ref("Patient", patient_id_); }
  std::string ObservationJson(const Analyte& analyte, double value, const std::string& encounter,
                              const std::string& effective, const std::string& issued);

  const DemoDirectory& directory_;
  const DemoPerson& person_;
  const std::string patient_id_;
  const std::string gp_id_;
  DemoSequence random_;
  DemoSequence ids_;
  Body body_{};
  Day start_;
  Day end_;
  std::array<std::string, kDiseases> condition_ids_;
  std::vector<std::size_t> allergies_;
  std::vector<DemoResource> out_;
  // Prescriptions of chronic treatments: the day each was last renewed.
  std::array<Day, kDiseases> renewed_{};
  std::vector<std::string> recent_findings_;  // out-of-range results since the last consultation
};

std::string RecordBuilder::Add(std::string_view type, std::string json, std::string id) {
  if (id.empty()) id = ids_.Uuid();
  // `json` is an object's text: "{...}". Put resourceType and id first, as FHIR writes them.
  std::string text = fmt::format(R"({{"resourceType":{},"id":{})", Str(type), Str(id));
  if (json.size() > 2)
    text += "," + json.substr(1);
  else
    text += "}";
  out_.push_back({std::string(type), id, patient_id_, std::move(text)});
  return id;
}

void RecordBuilder::DrawBody() {
  body_.male = person_.sex == 1;
  body_.birth = Day(chr::year(person_.year) / chr::month(static_cast<unsigned>(person_.month)) /
                    chr::day(static_cast<unsigned>(person_.day)));
  const bool male = body_.male;
  auto draw = [&](double mean, double deviation, double floor) {
    return std::max(floor, mean + deviation * random_.Normal());
  };
  body_.leukocytes = draw(6.5, 1.3, 3.2);
  body_.hemoglobin = draw(male ? 14.9 : 13.4, 0.8, 11.0);
  body_.mcv = draw(89.0, 3.5, 78.0);
  body_.platelets = draw(250.0, 45.0, 130.0);
  body_.glucose = draw(0.90, 0.07, 0.68);
  body_.creatinine = draw(male ? 82.0 : 64.0, 9.0, 45.0);
  body_.sodium = draw(140.0, 1.5, 135.0);
  body_.potassium = draw(4.2, 0.25, 3.5);
  body_.hba1c = draw(5.4, 0.25, 4.5);
  body_.cholesterol = draw(1.85, 0.22, 1.3);
  body_.hdl = draw(male ? 0.50 : 0.62, 0.10, 0.32);
  body_.triglycerides = draw(1.0, 0.3, 0.4);
  body_.tsh = draw(1.8, 0.6, 0.5);
  body_.ferritin = draw(male ? 150.0 : 75.0, male ? 50.0 : 25.0, 20.0);
  body_.alt = draw(22.0, 6.0, 8.0);
  body_.ast = draw(23.0, 5.0, 10.0);
  body_.ggt = draw(male ? 28.0 : 20.0, 8.0, 8.0);

  end_ = ParseDay(kDemoRecordEnd);
  const int years = 3 + static_cast<int>(random_.Below(3));
  start_ = end_ - chr::days(365 * years);
  if (start_ < body_.birth + chr::days(365)) start_ = body_.birth + chr::days(365);
  const double age = YearsBetween(body_.birth, end_);
  const std::array<double, kDiseases> chance = {
      age > 45 ? 0.18 : 0.02,                       // type 2 diabetes
      age > 40 ? 0.25 : 0.03,                       // hypercholesterolaemia
      age > 50 ? 0.35 : 0.03,                       // hypertension
      male ? 0.03 : 0.10,                           // hypothyroidism
      !male && age > 15 && age < 55 ? 0.18 : 0.03,  // iron deficiency
      age > 65 ? 0.15 : 0.0,                        // chronic kidney disease
  };
  for (std::size_t d = 0; d < kDiseases; ++d) {
    body_.onset[d] = kNever;
    body_.treatment[d] = kNever;
    if (!random_.Chance(chance[d])) continue;
    // Some began before the record starts, most during it.
    const auto span = (end_ - start_).count();
    Day onset = start_ + chr::days(static_cast<long>(random_.Below(span + 1)) - 500);
    if (onset > end_ - chr::days(60)) onset = end_ - chr::days(60);
    if (onset < body_.birth + chr::days(365 * 12)) continue;
    body_.onset[d] = onset;
    if (!kDiseaseInfo[d].treatment.atc.empty()) body_.treatment[d] = onset + chr::days(21);
  }
  if (person_.showcase) {
    constexpr auto kThyroid = static_cast<std::size_t>(Disease::kHypothyroidism);
    body_.onset[kThyroid] = start_ + chr::days(400);
    body_.treatment[kThyroid] = body_.onset[kThyroid] + chr::days(21);
  }
}

void RecordBuilder::AddPatient() {
  std::string ascii_family;
  for (char c : person_.family) {
    if (c >= 'A' && c <= 'Z') ascii_family.push_back(static_cast<char>(c - 'A' + 'a'));
    if (c >= 'a' && c <= 'z') ascii_family.push_back(c);
  }
  const int serial = person_.serial;
  const auto& town = kTowns[random_.Below(kTowns.size())];
  const std::string line =
      fmt::format("{} {}", 1 + random_.Below(120), kStreets[random_.Below(kStreets.size())]);
  std::string json = Obj({
      {"resourceType", Str("Patient")},
      {"id", Str(patient_id_)},
      {"identifier",
       Arr({Obj(
           {{"use", Str("official")},
            {"type", Concept(Coding("https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203",
                                    "INS-NIR", "NIR définitif"))},
            {"system", Str(kInsNirSystem)},
            {"value", Str(DemoNir(person_))}})})},
      {"active", "true"},
      {"name", Arr({Obj({{"use", Str("official")},
                         {"family", Str(person_.family)},
                         {"given", Arr({Str(person_.given)})}})})},
      {"telecom",
       Arr({Obj({{"system", Str("phone")},
                 {"value",
                  Str(fmt::format("06 {:02} {:02} {:02} {:02}", serial % 100, (serial / 100) % 100,
                                  (serial / 10000) % 100, person_.day))}}),
            Obj({{"system", Str("email")},
                 {"value", Str(fmt::format("{}.{}@example.org", ascii_family, serial))}})})},
      {"gender", Str(person_.sex == 1 ? "male" : "female")},
      {"birthDate",
       Str(fmt::format("{:04}-{:02}-{:02}", person_.year, person_.month, person_.day))},
      {"address", Arr({Obj({{"use", Str("home")},
                            {"line", Arr({Str(line)})},
                            {"city", Str(town.first)},
                            {"postalCode", Str(town.second)},
                            {"country", Str("FR")}})})},
      {"generalPractitioner", Arr({Ref("Practitioner", gp_id_)})},
      {"managingOrganization", Ref("Organization", directory_.clinic_id)},
  });
  out_.push_back({"Patient", patient_id_, patient_id_, std::move(json)});
}

void RecordBuilder::AddConditions() {
  for (std::size_t d = 0; d < kDiseases; ++d) {
    if (body_.onset[d] == kNever) continue;
    const DiseaseInfo& info = kDiseaseInfo[d];
    const Day onset = body_.onset[d];
    const Day recorded = std::max(onset, start_);
    const bool resolved = info.resolves && onset + chr::days(200) < end_;
    condition_ids_[d] = Add(
        "Condition",
        Obj({{"clinicalStatus",
              Concept(Coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                             resolved ? "resolved" : "active", resolved ? "Resolved" : "Active"))},
             {"verificationStatus",
              Concept(Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                             "confirmed", "Confirmed"))},
             {"category",
              Arr({Concept(Coding("http://terminology.hl7.org/CodeSystem/condition-category",
                                  "problem-list-item", "Problem List Item"))})},
             {"code", Concept(Coding(kIcd10, info.icd10, info.icd10_name), info.text)},
             {"subject", PatientRef()},
             {"onsetDateTime", Str(DateText(onset))},
             {"abatementDateTime", resolved ? Str(DateText(onset + chr::days(200))) : ""},
             {"recordedDate", Str(DateText(recorded))},
             {"recorder", Ref("Practitioner", gp_id_)}}));
  }
}

void RecordBuilder::AddAllergies() {
  std::size_t count = random_.Chance(0.25) ? (random_.Chance(0.2) ? 2 : 1) : 0;
  if (person_.showcase) count = std::max<std::size_t>(count, 1);
  for (std::size_t i = 0; i < count; ++i) {
    // The showcase patient is allergic to penicillin (which changes their antibiotic).
    std::size_t which = person_.showcase && i == 0 ? 0 : random_.Below(kAllergies.size());
    if (std::find(allergies_.begin(), allergies_.end(), which) != allergies_.end()) continue;
    allergies_.push_back(which);
    const Allergy& allergy = kAllergies[which];
    Add("AllergyIntolerance",
        Obj({{"clinicalStatus",
              Concept(Coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                             "active", "Active"))},
             {"verificationStatus",
              Concept(
                  Coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                         "confirmed", "Confirmed"))},
             {"type", Str("allergy")},
             {"category", Arr({Str(allergy.category)})},
             {"criticality", Str(allergy.criticality)},
             {"code", Concept(Coding(kSnomed, allergy.snomed, allergy.snomed_name), allergy.text)},
             {"patient", PatientRef()},
             {"recordedDate", Str(DateText(start_ + chr::days(random_.Below(60))))},
             {"recorder", Ref("Practitioner", gp_id_)},
             {"reaction", Arr({Obj({{"manifestation", Arr({TextConcept(allergy.reaction)})},
                                    {"severity", Str(allergy.severity)}})})}}));
  }
}

void RecordBuilder::AddCareTeam() {
  bool chronic = false;
  for (std::size_t d = 0; d < kDiseases; ++d) chronic = chronic || body_.onset[d] != kNever;
  std::vector<std::string> participants = {Obj(
      {{"role",
        Arr({Concept(Coding(kSnomed, "62247001", "General practitioner"), "Médecin traitant")})},
       {"member", Ref("Practitioner", gp_id_)},
       {"onBehalfOf", Ref("Organization", directory_.clinic_id)}})};
  if (chronic) {
    participants.push_back(Obj(
        {{"role",
          Arr({Concept(Coding(kSnomed, "224535009", "Registered nurse"), "Infirmière de suivi")})},
         {"member", Ref("Practitioner", directory_.nurse_id)},
         {"onBehalfOf", Ref("Organization", directory_.clinic_id)}}));
  }
  Add("CareTeam",
      Obj({{"status", Str("active")},
           {"name", Str("Équipe de soins primaires")},
           {"subject", PatientRef()},
           {"period", Obj({{"start", Str(DateText(start_))}})},
           {"participant", Arr(participants)},
           {"managingOrganization", Arr({Ref("Organization", directory_.clinic_id)})}}));
}

std::string RecordBuilder::ObservationJson(const Analyte& analyte, double value,
                                           const std::string& encounter,
                                           const std::string& effective,
                                           const std::string& issued) {
  const double low = body_.male ? analyte.low_male : analyte.low_female;
  const double high = body_.male ? analyte.high_male : analyte.high_female;
  std::string interpretation;
  if (low >= 0 && value < low) {
    interpretation = Concept(
        Coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "L", "Low"));
  } else if (high >= 0 && value > high) {
    interpretation = Concept(
        Coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H", "High"));
  }
  if (!interpretation.empty()) {
    recent_findings_.push_back(
        fmt::format("{} {} {}", analyte.label, Num(value, analyte.decimals), analyte.unit));
  }
  return Obj({
      {"status", Str("final")},
      {"category", Arr({Concept(Coding("http://terminology.hl7.org/CodeSystem/observation-category",
                                       "laboratory", "Laboratory"))})},
      {"code", Concept(Coding(kLoinc, analyte.loinc, analyte.name))},
      {"subject", PatientRef()},
      {"encounter", Ref("Encounter", encounter)},
      {"effectiveDateTime", Str(effective)},
      {"issued", Str(issued)},
      {"performer", Arr({Ref("Organization", directory_.lab_id)})},
      {"valueQuantity", Quantity(value, analyte.decimals, analyte.unit, analyte.ucum)},
      {"interpretation", Arr({interpretation})},
      {"referenceRange",
       Arr({Obj(
           {{"low", low >= 0 ? Quantity(low, analyte.decimals, analyte.unit, analyte.ucum) : ""},
            {"high",
             high >= 0 ? Quantity(high, analyte.decimals, analyte.unit, analyte.ucum) : ""}})})},
  });
}

void RecordBuilder::AddLabVisit(Day day, std::size_t visit) {
  std::vector<PanelId> panels = {PanelId::kCbc};
  if (random_.Chance(0.8) || Has(Disease::kDiabetes) || Has(Disease::kCkd) ||
      Has(Disease::kHypertension)) {
    panels.push_back(PanelId::kMetabolic);
  }
  if (Has(Disease::kDyslipidemia) || Has(Disease::kDiabetes) || random_.Chance(0.35)) {
    panels.push_back(PanelId::kLipids);
  }
  if (Has(Disease::kDiabetes) && day > body_.onset[0] - chr::days(730)) {
    panels.push_back(PanelId::kHba1c);
  } else if (random_.Chance(0.1)) {
    panels.push_back(PanelId::kHba1c);
  }
  if (Has(Disease::kHypothyroidism) || random_.Chance(0.25)) panels.push_back(PanelId::kTsh);
  if (Has(Disease::kIronDeficiency) || random_.Chance(0.2)) panels.push_back(PanelId::kFerritin);
  const double inflammation = random_.Chance(0.12) ? 0.3 + 0.7 * random_.Uniform() : 0.0;
  if (inflammation > 0 || random_.Chance(0.25)) panels.push_back(PanelId::kCrp);
  if (Has(Disease::kDiabetes) || random_.Chance(0.25)) panels.push_back(PanelId::kHepatic);

  const int drawn_at = 7 * 60 + 15 + static_cast<int>(random_.Below(200));  // 07:15 to 10:35
  const int issued_at = 14 * 60 + static_cast<int>(random_.Below(300));     // same day, afternoon
  const std::string effective = TimeText(day, drawn_at);
  const std::string issued = TimeText(day, issued_at);
  const std::string encounter = Add(
      "Encounter",
      Obj({{"status", Str("finished")},
           {"class",
            Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")},
           {"type", Arr({TextConcept("Prélèvement sanguin au laboratoire")})},
           {"subject", PatientRef()},
           {"participant",
            Arr({Obj({{"type", Arr({Concept(Coding(
                                   "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                   "PPRF", "primary performer"))})},
                      {"individual", Ref("Practitioner", directory_.biologist_ids[visit % 2])}})})},
           {"period", Obj({{"start", Str(effective)}, {"end", Str(TimeText(day, drawn_at + 10))}})},
           {"serviceProvider", Ref("Organization", directory_.lab_id)}}));

  std::array<double, kAnalytes.size()> values{};
  for (const Analyte& analyte : kAnalytes) {
    const double truth = TrueValue(body_, analyte.key, day, inflammation);
    values[static_cast<std::size_t>(analyte.key)] = Round(
        std::max(0.0, truth * (1.0 + analyte.variation * random_.Normal())), analyte.decimals);
  }
  auto value = [&](Key key) -> double& { return values[static_cast<std::size_t>(key)]; };
  value(Key::kCrp) = std::max(value(Key::kCrp), 0.3);
  value(Key::kHematocrit) = Round(value(Key::kHemoglobin) * 2.95, 1);
  value(Key::kErythrocytes) = Round(value(Key::kHematocrit) * 10.0 / value(Key::kMcv), 2);
  value(Key::kEgfr) = Round(
      std::min(120.0, Egfr(value(Key::kCreatinine), YearsBetween(body_.birth, day), body_.male)),
      0);
  value(Key::kLdl) = Round(
      std::max(0.3, value(Key::kCholesterol) - value(Key::kHdl) - value(Key::kTriglycerides) / 5.0),
      2);

  // The visits of the record's last year come with the lab's PDF report as well, a Binary that
  // a DocumentReference describes and each of the visit's reports presents.
  const bool with_pdf = day > end_ - chr::days(365);
  const std::string document_id = with_pdf ? ids_.Uuid() : "";
  const std::string binary_id = with_pdf ? ids_.Uuid() : "";
  const Staff& biologist = kStaff[kFirstBiologist + visit % 2];
  std::vector<std::string> lines = {
      "Laboratoire de biologie médicale des Quais — 14 quai du Havre, 76000 Rouen",
      "Compte rendu d'analyses de biologie médicale",
      "",
      fmt::format("Patient : {} {} — né(e) le {:04}-{:02}-{:02}", person_.family, person_.given,
                  person_.year, person_.month, person_.day),
      fmt::format("Prélèvement du {} à {} (UTC) — édité le {}", DateText(day),
                  effective.substr(11, 5), issued.substr(0, 10)),
  };
  std::vector<std::string> report_refs;
  const std::string presented =
      with_pdf ? Arr({Obj({{"contentType", Str("application/pdf")},
                           {"language", Str("fr-FR")},
                           {"url", Str("Binary/" + binary_id)},
                           {"title", Str("Compte rendu d'analyses du " + DateText(day))}})})
               : "";

  std::size_t panel_number = 0;
  for (PanelId panel_id : panels) {
    const Panel& panel = Panels()[static_cast<std::size_t>(panel_id)];
    lines.emplace_back();
    lines.emplace_back(panel.title);
    std::vector<std::string> results;
    for (Key key : panel.keys) {
      const Analyte& analyte = AnalyteOf(key);
      const std::string id =
          Add("Observation", ObservationJson(analyte, value(key), encounter, effective, issued));
      results.push_back(Ref("Observation", id));
      const double low = body_.male ? analyte.low_male : analyte.low_female;
      const double high = body_.male ? analyte.high_male : analyte.high_female;
      std::string range = low >= 0 && high >= 0 ? fmt::format("{} - {}", Num(low, analyte.decimals),
                                                              Num(high, analyte.decimals))
                          : low >= 0            ? "> " + Num(low, analyte.decimals)
                                                : "< " + Num(high, analyte.decimals);
      const char* flag = low >= 0 && value(key) < low     ? "  L"
                         : high >= 0 && value(key) > high ? "  H"
                                                          : "";
      lines.push_back(fmt::format("    {:<22} {:>8} {:<16} ({}){}", analyte.label,
                                  Num(value(key), analyte.decimals), analyte.unit, range, flag));
    }
    const std::string accession = fmt::format("QA{}-{:05}-{:02}{}", DateText(day).substr(2, 2),
                                              person_.serial % 100000, visit % 100, ++panel_number);
    Add("DiagnosticReport",
        Obj({{"identifier",
              Arr({Obj({{"use", Str("usual")},
                        {"type", Concept(Coding("http://terminology.hl7.org/CodeSystem/v2-0203",
                                                "ACSN", "Accession ID"))},
                        {"system", Str(kSystemAccession)},
                        {"value", Str(accession)}})})},
             {"status", Str("final")},
             {"category", Arr({Concept(Coding("http://terminology.hl7.org/CodeSystem/v2-0074",
                                              "LAB", "Laboratory"))})},
             {"code", Concept(Coding(kLoinc, panel.loinc, panel.name), panel.title)},
             {"subject", PatientRef()},
             {"encounter", Ref("Encounter", encounter)},
             {"effectiveDateTime", Str(effective)},
             {"issued", Str(issued)},
             {"performer", Arr({Ref("Organization", directory_.lab_id)})},
             {"resultsInterpreter",
              Arr({Ref("PractitionerRole", directory_.biologist_role_ids[visit % 2])})},
             {"result", Arr(results)},
             {"presentedForm", presented}}));
    report_refs.push_back(Ref("DiagnosticReport", out_.back().id));
  }
  if (!with_pdf) return;
  lines.emplace_back();
  lines.push_back(fmt::format("Résultats validés par Dr {} {}, {}.", biologist.given,
                              biologist.family, biologist.role_text));
  const std::string pdf = PdfOfLines(lines);
  const std::vector<std::uint8_t> bytes(pdf.begin(), pdf.end());
  Add("DocumentReference",
      Obj({{"status", Str("current")},
           {"docStatus", Str("final")},
           {"type",
            Concept(Coding(kLoinc, "11502-2", "Laboratory report"), "Compte rendu d'analyses")},
           {"subject", PatientRef()},
           {"date", Str(issued)},
           {"author", Arr({Ref("PractitionerRole", directory_.biologist_role_ids[visit % 2])})},
           {"custodian", Ref("Organization", directory_.lab_id)},
           {"description", Str("Compte rendu d'analyses de biologie médicale")},
           {"content",
            Arr({Obj(
                {{"attachment", Obj({{"contentType", Str("application/pdf")},
                                     {"language", Str("fr-FR")},
                                     {"url", Str("Binary/" + binary_id)},
                                     {"size", Int(static_cast<long long>(bytes.size()))},
                                     {"hash", Str(Sha1Base64(pdf))},
                                     {"title", Str("Compte rendu d'analyses du " + DateText(day))},
                                     {"creation", Str(issued)}})}})})},
           {"context", Obj({{"encounter", Arr({Ref("Encounter", encounter)})},
                            {"related", Arr(report_refs)}})}}),
      document_id);
  Add("Binary",
      Obj({{"contentType", Str("application/pdf")},
           {"securityContext", Ref("DocumentReference", document_id)},
           {"data", Str(EncodeBase64(bytes, Base64Alphabet::kStandard))}}),
      binary_id);
}

void RecordBuilder::AddConsultation(Day day, std::size_t consultation) {
  const int at = 9 * 60 + static_cast<int>(random_.Below(9 * 60));  // 09:00 to 18:00
  const std::string start = TimeText(day, at);
  std::vector<std::string> reasons;
  std::vector<std::string> followed;
  for (std::size_t d = 0; d < kDiseases; ++d) {
    if (body_.onset[d] == kNever || body_.onset[d] > day) continue;
    if (kDiseaseInfo[d].resolves && body_.onset[d] + chr::days(200) < day) continue;
    reasons.push_back(Ref("Condition", condition_ids_[d]));
    followed.emplace_back(kDiseaseInfo[d].text);
  }
  const bool acute = random_.Chance(0.2);
  const std::string encounter =
      Add("Encounter",
          Obj({{"status", Str("finished")},
               {"class",
                Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")},
               {"type", Arr({TextConcept("Consultation de médecine générale")})},
               {"subject", PatientRef()},
               {"participant",
                Arr({Obj({{"type", Arr({Concept(Coding(
                                       "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                       "PPRF", "primary performer"))})},
                          {"individual", Ref("Practitioner", gp_id_)}})})},
               {"period", Obj({{"start", Str(start)}, {"end", Str(TimeText(day, at + 20))}})},
               {"reasonCode", acute ? Arr({TextConcept("Angine")}) : ""},
               {"reasonReference", Arr(reasons)},
               {"serviceProvider", Ref("Organization", directory_.clinic_id)}}));

  std::vector<std::string> prescribed;
  auto prescribe = [&](const Medication& medication, std::string_view reason_condition,
                       std::string_view reason_text, bool chronic, int days, bool as_needed) {
    const bool active = day + chr::days(chronic ? 365 : days) > end_;
    std::string timing =
        Obj({{"repeat", Obj({{"boundsDuration", days > 0 ? Quantity(days, 0, "jours", "d") : ""},
                             {"frequency", Int(medication.per_day)},
                             {"period", "1"},
                             {"periodUnit", Str("d")}})}});
    Add("MedicationRequest",
        Obj({{"status", Str(active ? "active" : "completed")},
             {"intent", Str("order")},
             {"medicationCodeableConcept",
              Concept(Coding(kAtc, medication.atc, medication.atc_name), medication.text)},
             {"subject", PatientRef()},
             {"encounter", Ref("Encounter", encounter)},
             {"authoredOn", Str(start)},
             {"requester", Ref("Practitioner", gp_id_)},
             {"reasonCode", reason_text.empty() ? "" : Arr({TextConcept(reason_text)})},
             {"reasonReference",
              reason_condition.empty() ? "" : Arr({Ref("Condition", reason_condition)})},
             {"dosageInstruction",
              Arr({Obj({{"text", Str(medication.dosage)},
                        {"timing", timing},
                        {"asNeededBoolean", as_needed ? "true" : ""},
                        {"route", Concept(Coding(kSnomed, "26643006", "Oral route"), "Voie orale")},
                        {"doseAndRate",
                         Arr({Obj({{"doseQuantity",
                                    Quantity(medication.dose, 0, "comprimé", "{tbl}")}})})}})})},
             {"dispenseRequest",
              Obj({{"validityPeriod",
                    Obj({{"start", Str(DateText(day))},
                         {"end", Str(DateText(day + chr::days(chronic ? 365 : days)))}})},
                   {"numberOfRepeatsAllowed", chronic ? "11" : ""}})}}));
    prescribed.emplace_back(medication.text);
  };
  for (std::size_t d = 0; d < kDiseases; ++d) {
    const Day started = body_.treatment[d];
    if (started == kNever || started > day) continue;
    const DiseaseInfo& info = kDiseaseInfo[d];
    if (info.resolves) {
      // One course, prescribed at the first consultation once treatment is decided.
      if (renewed_[d] != Day{}) continue;
      renewed_[d] = day;
      prescribe(info.treatment, condition_ids_[d], "", false, 90, false);
    } else if (renewed_[d] == Day{} || day - renewed_[d] >= chr::days(330)) {
      renewed_[d] = day;
      prescribe(info.treatment, condition_ids_[d], "", true, 0, false);
    }
  }
  const bool penicillin_allergy =
      std::find(allergies_.begin(), allergies_.end(), std::size_t{0}) != allergies_.end();
  if (acute) {
    static constexpr Medication kAmoxicillin{"J01CA04",
                                             "amoxicillin",
                                             "Amoxicilline 1 g, comprimé dispersible",
                                             "1 comprimé matin, midi et soir pendant 7 jours",
                                             1,
                                             3};
    static constexpr Medication kPristinamycin{"J01FG01",
                                               "pristinamycin",
                                               "Pristinamycine 500 mg, comprimé pelliculé",
                                               "2 comprimés matin, midi et soir pendant 7 jours",
                                               2,
                                               3};
    static constexpr Medication kParacetamol{"N02BE01",
                                             "paracetamol",
                                             "Paracétamol 1 g, comprimé",
                                             "1 comprimé si douleur ou fièvre, jusqu'à 3 par jour",
                                             1,
                                             3};
    prescribe(penicillin_allergy ? kPristinamycin : kAmoxicillin, "", "Angine", false, 7, false);
    prescribe(kParacetamol, "", "Fièvre", false, 5, true);
  }

  std::string note =
      fmt::format("Consultation du {} (médecine générale, visite n° {} du dossier)\n\n",
                  DateText(day), consultation);
  note += acute ? "Motif : odynophagie fébrile depuis 48 h. Angine, TDR streptocoque positif.\n"
                : "Motif : consultation de suivi.\n";
  if (!followed.empty()) {
    note += "Suivi : ";
    for (std::size_t i = 0; i < followed.size(); ++i) note += (i ? ", " : "") + followed[i];
    note += ".\n";
  }
  note += fmt::format(
      "Examen : TA {}/{} mmHg, FC {} bpm, poids stable. Examen clinique sans "
      "particularité.\n",
      115 + random_.Below(30), 65 + random_.Below(20), 60 + random_.Below(30));
  if (!recent_findings_.empty()) {
    note += "Biologie récente hors normes : ";
    for (std::size_t i = 0; i < recent_findings_.size() && i < 6; ++i) {
      note += (i ? "; " : "") + recent_findings_[i];
    }
    note += ".\n";
    recent_findings_.clear();
  } else {
    note += "Biologie récente sans anomalie notable.\n";
  }
  if (!prescribed.empty()) {
    note += "Ordonnance : ";
    for (std::size_t i = 0; i < prescribed.size(); ++i) note += (i ? "; " : "") + prescribed[i];
    note += ".\n";
  }
  note += "Prochain rendez-vous dans 3 à 6 mois, bilan biologique à faire avant.\n";
  const std::vector<std::uint8_t> bytes(note.begin(), note.end());
  Add("DocumentReference",
      Obj({{"status", Str("current")},
           {"docStatus", Str("final")},
           {"type", Concept(Coding(kLoinc, "11506-3", "Progress note"), "Note de consultation")},
           {"subject", PatientRef()},
           {"date", Str(TimeText(day, at + 25))},
           {"author", Arr({Ref("Practitioner", gp_id_)})},
           {"custodian", Ref("Organization", directory_.clinic_id)},
           {"description", Str("Note de consultation de médecine générale")},
           {"content",
            Arr({Obj(
                {{"attachment", Obj({{"contentType", Str("text/plain; charset=utf-8")},
                                     {"language", Str("fr-FR")},
                                     {"data", Str(EncodeBase64(bytes, Base64Alphabet::kStandard))},
                                     {"size", Int(static_cast<long long>(bytes.size()))},
                                     {"title", Str("Note de consultation")},
                                     {"creation", Str(TimeText(day, at + 25))}})}})})},
           {"context", Obj({{"encounter", Arr({Ref("Encounter", encounter)})},
                            {"period", Obj({{"start", Str(start)},
                                            {"end", Str(TimeText(day, at + 20))}})}})}}));
}

std::vector<DemoResource> RecordBuilder::Build() {
  DrawBody();
  AddPatient();
  AddConditions();
  AddAllergies();
  AddCareTeam();

  // The days of lab visits and consultations: more of both for chronic patients, a lab visit
  // in the weeks before each diagnosis and a consultation when each treatment starts.
  std::size_t chronic = 0;
  for (std::size_t d = 0; d < kDiseases; ++d) chronic += body_.onset[d] != kNever ? 1 : 0;
  const double years = YearsBetween(start_, end_);
  const auto span = static_cast<std::size_t>((end_ - start_).count());
  const std::size_t lab_visits =
      static_cast<std::size_t>(years * (chronic > 0 ? 2.5 : 1.0)) + random_.Below(2) + 1;
  const std::size_t consultations =
      static_cast<std::size_t>(years * (chronic > 0 ? 2.5 : 1.0)) + random_.Below(2) + 1;
  enum class Kind { kLab, kConsultation };
  std::vector<std::pair<Day, Kind>> events;
  for (std::size_t i = 0; i < lab_visits; ++i) {
    events.emplace_back(start_ + chr::days(random_.Below(span + 1)), Kind::kLab);
  }
  for (std::size_t i = 0; i < consultations; ++i) {
    events.emplace_back(start_ + chr::days(random_.Below(span + 1)), Kind::kConsultation);
  }
  for (std::size_t d = 0; d < kDiseases; ++d) {
    if (body_.onset[d] == kNever || body_.onset[d] < start_) continue;
    events.emplace_back(body_.onset[d] - chr::days(10), Kind::kLab);
    events.emplace_back(body_.onset[d], Kind::kConsultation);
    if (body_.treatment[d] != kNever) events.emplace_back(body_.treatment[d], Kind::kConsultation);
  }
  // Treatments that began before the record starts are prescribed at its first consultation;
  // results reach from the start of the record to its end.
  events.emplace_back(start_ + chr::days(random_.Below(30)), Kind::kConsultation);
  events.emplace_back(start_ + chr::days(random_.Below(60)), Kind::kLab);
  events.emplace_back(end_ - chr::days(random_.Below(60)), Kind::kLab);
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  std::size_t visit = 0;
  std::size_t consultation = 0;
  for (const auto& [day, kind] : events) {
    if (day < start_ || day > end_) continue;
    if (kind == Kind::kLab)
      AddLabVisit(day, ++visit);
    else
      AddConsultation(day, ++consultation);
  }
  return std::move(out_);
}

}  // namespace

std::vector<DemoResource> MakeDemoPatientRecord(const DemoDirectory& directory,
                                                const DemoPerson& person,
                                                const std::string& patient_id,
                                                std::size_t general_practitioner,
                                                std::uint64_t seed) {
  return RecordBuilder(directory, person, patient_id, general_practitioner, seed).Build();
}

}  // namespace medvault::cli
