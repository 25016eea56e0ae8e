#include "lab/oru.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/nil_generator.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <vector>

namespace medvault::lab {
namespace {

namespace json = boost::json;

constexpr std::string_view kSystemLoinc = "http://loinc.org";
constexpr std::string_view kSystemSnomed = "http://snomed.info/sct";
constexpr std::string_view kSystemUcum = "http://unitsofmeasure.org";
constexpr std::string_view kSystemInterpretation =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
constexpr std::string_view kSystemV2Section = "http://terminology.hl7.org/CodeSystem/v2-0074";
// Identifiers and codes that carry no URI of their own are named under this prefix.
constexpr std::string_view kLocalSystem = "urn:medvault:hl7v2:";

std::unexpected<Hl7Error> Refuse(Condition condition, Location where, std::string text) {
  return std::unexpected(Hl7Error{condition, std::move(where), std::move(text)});
}

std::unexpected<Hl7Error> Missing(const Segment& segment, std::size_t field,
                                  std::string_view what) {
  return Refuse(Condition::kRequiredFieldMissing, segment.At(field),
                fmt::format("{}-{}: {} is missing", segment.id(), field, what));
}

std::unexpected<Hl7Error> BadValue(const Segment& segment, std::size_t field,
                                   std::string_view problem) {
  return Refuse(Condition::kDataType, segment.At(field),
                fmt::format("{}-{}: {}", segment.id(), field, problem));
}

// application/x-www-form-urlencoded, for ifNoneExist queries.
std::string QueryEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// A name usable inside a URN: letters, digits and . - _ only.
bool UrnSafe(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (unsigned char c : text) {
    if (std::isalnum(c) == 0 && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsOid(std::string_view text) {
  if (text.empty() || text.size() > 64 || text.front() == '.' || text.back() == '.') return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return text.find("..") == std::string_view::npos;
}

// An identifier's system from an HD (assigning authority): the whole field (component 0) or
// the subcomponents of one component. urn:oid:<universal id> for an ISO id, the local prefix
// plus the namespace, or the fallback; nullopt when neither is usable.
std::optional<std::string> SystemOf(const Segment& segment, std::size_t field,
                                    std::size_t component, std::size_t repetition,
                                    std::string_view fallback) {
  const auto part = [&](std::size_t n) {
    return component == 0 ? segment.Value(field, n, 1, repetition)
                          : segment.Value(field, component, n, repetition);
  };
  const std::string namespace_id = part(1);
  const std::string universal_id = part(2);
  const std::string type = part(3);
  if (!universal_id.empty() && type == "ISO") {
    if (!IsOid(universal_id)) return std::nullopt;
    return "urn:oid:" + universal_id;
  }
  if (!namespace_id.empty()) {
    if (!UrnSafe(namespace_id)) return std::nullopt;
    return std::string(kLocalSystem) + namespace_id;
  }
  return std::string(fallback);
}

// A coding system name of HL7 table 0396 as a FHIR system URI.
std::string CodingSystem(std::string_view name) {
  if (name == "LN") return std::string(kSystemLoinc);
  if (name == "SCT" || name == "SNM") return std::string(kSystemSnomed);
  if (name == "UCUM") return std::string(kSystemUcum);
  if (UrnSafe(name)) return fmt::format("{}codesystem:{}", kLocalSystem, name);
  return fmt::format("{}codesystem:local", kLocalSystem);
}

// CE/CWE: identifier ^ text ^ coding system ^ alternate identifier ^ alternate text ^
// alternate system.
std::optional<json::object> CodeableConcept(const Segment& segment, std::size_t field,
                                            std::size_t repetition = 0) {
  json::array codings;
  for (std::size_t first : {1u, 4u}) {
    const std::string code = segment.Value(field, first, 1, repetition);
    if (code.empty()) continue;
    json::object coding;
    coding["system"] = CodingSystem(segment.Value(field, first + 2, 1, repetition));
    coding["code"] = code;
    if (std::string display = segment.Value(field, first + 1, 1, repetition); !display.empty()) {
      coding["display"] = display;
    }
    codings.push_back(std::move(coding));
  }
  const std::string text = segment.Value(field, 2, 1, repetition);
  if (codings.empty() && text.empty()) return std::nullopt;
  json::object concept_;
  if (!codings.empty()) concept_["coding"] = std::move(codings);
  if (!text.empty()) concept_["text"] = text;
  return concept_;
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) as a FHIR date or dateTime; a time
// without an offset keeps its date only. nullopt when malformed.
std::optional<std::string> DateTimeOf(std::string_view ts) {
  std::string_view offset;
  if (const auto sign = ts.find_first_of("+-"); sign != std::string_view::npos) {
    offset = ts.substr(sign);
    ts = ts.substr(0, sign);
    if (offset.size() != 5 || !AllDigits(offset.substr(1))) return std::nullopt;
  }
  std::string_view fraction;
  if (const auto dot = ts.find('.'); dot != std::string_view::npos) {
    fraction = ts.substr(dot + 1);
    ts = ts.substr(0, dot);
    if (fraction.empty() || fraction.size() > 4 || !AllDigits(fraction)) return std::nullopt;
  }
  if (!AllDigits(ts) || (ts.size() != 4 && ts.size() != 6 && ts.size() != 8 && ts.size() != 10 &&
                         ts.size() != 12 && ts.size() != 14)) {
    return std::nullopt;
  }
  const auto number = [&](std::size_t at, std::size_t n) {
    int value = 0;
    std::from_chars(ts.data() + at, ts.data() + at + n, value);
    return value;
  };
  if (ts.size() >= 6 && (number(4, 2) < 1 || number(4, 2) > 12)) return std::nullopt;
  if (ts.size() >= 8 && (number(6, 2) < 1 || number(6, 2) > 31)) return std::nullopt;
  if (ts.size() >= 10 && number(8, 2) > 23) return std::nullopt;
  if (ts.size() >= 12 && number(10, 2) > 59) return std::nullopt;
  if (ts.size() >= 14 && number(12, 2) > 59) return std::nullopt;
  std::string out(ts.substr(0, 4));
  if (ts.size() >= 6) out += fmt::format("-{}", ts.substr(4, 2));
  if (ts.size() >= 8) out += fmt::format("-{}", ts.substr(6, 2));
  if (ts.size() <= 8 || offset.empty()) return out;
  out += fmt::format("T{}:{}:{}", ts.substr(8, 2), ts.size() >= 12 ? ts.substr(10, 2) : "00",
                     ts.size() >= 14 ? ts.substr(12, 2) : "00");
  if (!fraction.empty()) out += fmt::format(".{}", fraction);
  out += fmt::format("{}:{}", offset.substr(0, 3), offset.substr(3, 2));
  return out;
}

// A decimal as HL7 NM writes it: [+|-]digits[.digits].
std::optional<double> NumberOf(std::string_view text) {
  if (text.starts_with('+')) text.remove_prefix(1);
  if (text.empty() || text.size() > 32) return std::nullopt;
  std::size_t digits = 0;
  bool dot = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '-' && i == 0) continue;
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// OBX-6 units (CE): a Quantity's unit, system and code.
void AddUnits(json::object& quantity, const Segment& obx) {
  const std::string code = obx.Value(6, 1);
  const std::string text = obx.Value(6, 2);
  if (code.empty() && text.empty()) return;
  quantity["unit"] = text.empty() ? code : text;
  if (!code.empty() && obx.Value(6, 3) == "UCUM") {
    quantity["system"] = kSystemUcum;
    quantity["code"] = code;
  }
}

json::object Quantity(double value, const Segment& obx) {
  json::object quantity;
  quantity["value"] = value;
  AddUnits(quantity, obx);
  return quantity;
}

// OBX-7: "3.5-5.0", "<5", "<=5", ">10", ">=10", or text.
json::object ReferenceRange(std::string_view text, const Segment& obx) {
  json::object range;
  const auto bound = [&](std::string_view number) -> std::optional<json::object> {
    auto value = NumberOf(number);
    if (!value) return std::nullopt;
    return Quantity(*value, obx);
  };
  if (text.starts_with('<') || text.starts_with('>')) {
    const bool below = text.front() == '<';
    std::string_view number = text.substr(text.size() > 1 && text[1] == '=' ? 2 : 1);
    if (auto quantity = bound(number)) {
      range[below ? "high" : "low"] = std::move(*quantity);
      return range;
    }
  } else if (const auto dash = text.find('-', 1); dash != std::string_view::npos) {
    auto low = bound(text.substr(0, dash));
    auto high = bound(text.substr(dash + 1));
    if (low && high) {
      range["low"] = std::move(*low);
      range["high"] = std::move(*high);
      return range;
    }
  }
  range["text"] = std::string(text);
  return range;
}

// HL7 table 0078 flags that v3 ObservationInterpretation has under the same code.
constexpr std::string_view kInterpretationCodes[] = {
    "L", "H", "LL", "HH", "<",  ">",   "N",   "A",   "AA",  "U",  "D",  "B", "W",
    "S", "R", "I",  "MS", "VS", "POS", "NEG", "IND", "DET", "ND", "HU", "LU"};

std::optional<std::string> ObservationStatus(std::string_view code) {
  if (code == "F") return "final";
  if (code == "P" || code == "R" || code == "S") return "preliminary";
  if (code == "C") return "corrected";
  if (code == "X") return "cancelled";
  if (code == "D" || code == "W") return "entered-in-error";
  if (code == "I" || code == "O") return "registered";
  if (code == "U") return "final";
  return std::nullopt;
}

std::optional<std::string> ReportStatus(std::string_view code) {
  if (code.empty() || code == "P") return "preliminary";
  if (code == "F") return "final";
  if (code == "C") return "corrected";
  if (code == "A" || code == "R") return "partial";
  if (code == "X") return "cancelled";
  if (code == "I" || code == "O" || code == "S") return "registered";
  return std::nullopt;
}

std::string NoteText(const Segment& nte) {
  std::string text;
  for (std::size_t r = 0; r < nte.RepetitionCount(3); ++r) {
    if (!text.empty()) text.push_back('\n');
    text += nte.Value(3, 1, 1, r);
  }
  return text;
}

// The fullUrls of a bundle's new resources: "urn:uuid:" and a counter in UUID form.
std::string LocalUrl(std::size_t n) {
  return fmt::format("urn:uuid:00000000-0000-4000-8000-{:012x}", n);
}

// A stable resource id for what a lab sends about one order: the same lab and order give the
// same id, so a correction is the next version of the same resource.
std::string StableId(std::string_view kind, std::string_view facility, std::string_view key) {
  static const boost::uuids::uuid kNamespace =
      boost::uuids::string_generator()("3b0f6d52-5a8e-4c1e-9a55-7f1c2d9e4b10");
  boost::uuids::name_generator_sha1 generate(kNamespace);
  return boost::uuids::to_string(
      generate(fmt::format("{}:{}:{}|{}:{}", kind, facility.size(), facility, key.size(), key)));
}

json::object Entry(std::string full_url, json::object resource, std::string_view method,
                   std::string url, std::string if_none_exist = {}) {
  json::object request;
  request["method"] = method;
  request["url"] = std::move(url);
  if (!if_none_exist.empty()) request["ifNoneExist"] = std::move(if_none_exist);
  json::object entry;
  if (!full_url.empty()) entry["fullUrl"] = std::move(full_url);
  entry["resource"] = std::move(resource);
  entry["request"] = std::move(request);
  return entry;
}

json::object Identifier(std::string system, std::string value) {
  json::object identifier;
  identifier["system"] = std::move(system);
  identifier["value"] = std::move(value);
  return identifier;
}

std::string IdentifierQuery(const json::object& identifier) {
  return fmt::format("identifier={}|{}", QueryEncode(identifier.at("system").as_string()),
                     QueryEncode(identifier.at("value").as_string()));
}

json::object Reference(std::string reference) {
  json::object out;
  out["reference"] = std::move(reference);
  return out;
}

class OruMapper {
 public:
  OruMapper(const Message& message, const MessageHeader& header)
      : message_(message), header_(header) {}

  Hl7Result<json::object> Map() {
    const auto& segments = message_.segments();
    std::size_t at = 1;
    while (at < segments.size() && (segments[at].id() == "SFT")) ++at;
    if (at == segments.size() || segments[at].id() != "PID") {
      return Refuse(Condition::kSegmentSequence, {"PID", 1, 0, 0},
                    "PID: an ORU^R01 names its patient in a PID segment after MSH");
    }
    if (auto lab = MapLab(); !lab) return std::unexpected(lab.error());
    if (auto patient = MapPatient(segments[at]); !patient) return std::unexpected(patient.error());
    ++at;
    // The rest of the PATIENT group: PD1, NTE, NK1, PV1, PV2 (not mapped).
    while (at < segments.size() &&
           IsOneOf(segments[at].id(), {"PD1", "NTE", "NK1", "PV1", "PV2"})) {
      ++at;
    }
    std::size_t reports = 0;
    const Segment* orc = nullptr;
    while (at < segments.size()) {
      const Segment& segment = segments[at];
      if (segment.id() == "ORC") {
        orc = &segment;
        ++at;
        continue;
      }
      if (segment.id() == "PID") {
        return Refuse(Condition::kSegmentSequence, segment.At(0),
                      "PID: one patient per message: send each patient's results apart");
      }
      if (segment.id() == "DSC") break;
      if (segment.id() != "OBR") {
        return Refuse(Condition::kSegmentSequence, segment.At(0),
                      fmt::format("{}: an ORC or OBR was expected here", segment.id()));
      }
      auto next = MapOrder(orc, at);
      if (!next) return std::unexpected(next.error());
      at = *next;
      orc = nullptr;
      ++reports;
    }
    if (reports == 0) {
      return Refuse(Condition::kSegmentSequence, {"OBR", 1, 0, 0},
                    "OBR: the message holds no order with results");
    }
    json::object bundle;
    bundle["resourceType"] = "Bundle";
    bundle["type"] = "transaction";
    bundle["entry"] = std::move(entries_);
    return bundle;
  }

 private:
  static bool IsOneOf(std::string_view id, std::initializer_list<std::string_view> ids) {
    for (std::string_view one : ids) {
      if (id == one) return true;
    }
    return false;
  }

  Hl7Result<void> MapLab() {
    const Segment& msh = message_.header();
    auto system = SystemOf(msh, 4, 0, 0, fmt::format("{}facility", kLocalSystem));
    if (!system) return BadValue(msh, 4, "the sending facility's id is not a usable name or OID");
    // An OID names the lab as a URI (urn:ietf:rfc:3986); a namespace id under its own system.
    json::object identifier = system->starts_with("urn:oid:")
                                  ? Identifier("urn:ietf:rfc:3986", *system)
                                  : Identifier(*system, header_.sending_facility);
    json::object organization;
    organization["resourceType"] = "Organization";
    organization["identifier"] = json::array{identifier};
    organization["name"] = msh.Value(4, 1).empty() ? header_.sending_facility : msh.Value(4, 1);
    lab_url_ = NextUrl();
    entries_.push_back(Entry(lab_url_, std::move(organization), "POST", "Organization",
                             IdentifierQuery(identifier)));
    return {};
  }

  Hl7Result<void> MapPatient(const Segment& pid) {
    std::size_t repetition = 0;
    while (repetition < pid.RepetitionCount(3) && pid.Value(3, 1, 1, repetition).empty()) {
      ++repetition;
    }
    const std::string id = pid.Value(3, 1, 1, repetition);
    if (id.empty()) return Missing(pid, 3, "the patient identifier");
    auto system = SystemOf(
        pid, 3, 4, repetition,
        fmt::format("{}{}:patient", kLocalSystem,
                    UrnSafe(header_.sending_facility) ? header_.sending_facility : "facility"));
    if (!system) return BadValue(pid, 3, "the assigning authority is not a usable name or OID");
    json::object identifier = Identifier(*system, id);
    json::object patient;
    patient["resourceType"] = "Patient";
    patient["identifier"] = json::array{identifier};
    json::array names;
    for (std::size_t r = 0; r < pid.RepetitionCount(5); ++r) {
      json::object name;
      if (std::string family = pid.Value(5, 1, 1, r); !family.empty()) name["family"] = family;
      json::array given;
      for (std::size_t c : {2u, 3u}) {
        if (std::string part = pid.Value(5, c, 1, r); !part.empty())
          given.push_back(json::value(part));
      }
      if (!given.empty()) name["given"] = std::move(given);
      if (std::string prefix = pid.Value(5, 5, 1, r); !prefix.empty()) {
        name["prefix"] = json::array{json::value(prefix)};
      }
      const std::string type = pid.Value(5, 7, 1, r);
      if (type == "L") name["use"] = "official";
      if (type == "M") name["use"] = "maiden";
      if (type == "N") name["use"] = "nickname";
      if (!name.empty()) names.push_back(std::move(name));
    }
    if (!names.empty()) patient["name"] = std::move(names);
    if (pid.Has(7)) {
      auto date = DateTimeOf(pid.Value(7));
      if (!date) return BadValue(pid, 7, "the birth date is not an HL7 date");
      patient["birthDate"] = date->substr(0, std::min<std::size_t>(date->size(), 10));
    }
    if (pid.Has(8)) {
      const std::string sex = pid.Value(8);
      if (sex == "M")
        patient["gender"] = "male";
      else if (sex == "F")
        patient["gender"] = "female";
      else if (sex == "O" || sex == "A" || sex == "N")
        patient["gender"] = "other";
      else if (sex == "U")
        patient["gender"] = "unknown";
      else {
        return Refuse(Condition::kTableValueNotFound, pid.At(8),
                      "PID-8: the administrative sex is not one of F, M, O, U, A, N");
      }
    }
    json::array addresses;
    for (std::size_t r = 0; r < pid.RepetitionCount(11); ++r) {
      json::object address;
      json::array lines;
      for (std::size_t c : {1u, 2u}) {
        if (std::string line = pid.Value(11, c, 1, r); !line.empty())
          lines.push_back(json::value(line));
      }
      if (!lines.empty()) address["line"] = std::move(lines);
      const std::pair<std::size_t, const char*> parts[] = {
          {3, "city"}, {4, "state"}, {5, "postalCode"}, {6, "country"}};
      for (const auto& [component, key] : parts) {
        if (std::string value = pid.Value(11, component, 1, r); !value.empty())
          address[key] = value;
      }
      if (!address.empty()) addresses.push_back(std::move(address));
    }
    if (!addresses.empty()) patient["address"] = std::move(addresses);
    json::array telecom;
    for (std::size_t r = 0; r < pid.RepetitionCount(13); ++r) {
      json::object point;
      const std::string equipment = pid.Value(13, 3, 1, r);
      if (equipment == "Internet" || equipment == "X.400") {
        const std::string email = pid.Value(13, 4, 1, r);
        if (email.empty()) continue;
        point["system"] = "email";
        point["value"] = email;
      } else {
        std::string number = pid.Value(13, 1, 1, r);
        if (number.empty()) number = pid.Value(13, 12, 1, r);
        if (number.empty()) continue;
        point["system"] = "phone";
        point["value"] = number;
        if (equipment == "CP") point["use"] = "mobile";
      }
      if (pid.Value(13, 2, 1, r) == "WPN") point["use"] = "work";
      if (pid.Value(13, 2, 1, r) == "PRN" && !point.contains("use")) point["use"] = "home";
      telecom.push_back(std::move(point));
    }
    if (!telecom.empty()) patient["telecom"] = std::move(telecom);
    patient_url_ = NextUrl();
    entries_.push_back(
        Entry(patient_url_, std::move(patient), "POST", "Patient", IdentifierQuery(identifier)));
    return {};
  }

  // An XCN practitioner (ORC-12, OBR-16): its fullUrl, or empty when it has no id.
  Hl7Result<std::string> MapPractitioner(const Segment& segment, std::size_t field) {
    const std::string id = segment.Value(field, 1);
    if (id.empty()) return std::string();
    auto system = SystemOf(
        segment, field, 9, 0,
        fmt::format("{}{}:practitioner", kLocalSystem,
                    UrnSafe(header_.sending_facility) ? header_.sending_facility : "facility"));
    if (!system)
      return BadValue(segment, field, "the assigning authority is not a usable name or OID");
    const std::string key = *system + "|" + id;
    if (auto known = practitioners_.find(key); known != practitioners_.end()) return known->second;
    json::object identifier = Identifier(*system, id);
    json::object practitioner;
    practitioner["resourceType"] = "Practitioner";
    practitioner["identifier"] = json::array{identifier};
    json::object name;
    if (std::string family = segment.Value(field, 2); !family.empty()) name["family"] = family;
    if (std::string given = segment.Value(field, 3); !given.empty()) {
      name["given"] = json::array{json::value(given)};
    }
    if (std::string prefix = segment.Value(field, 6); !prefix.empty()) {
      name["prefix"] = json::array{json::value(prefix)};
    }
    if (!name.empty()) practitioner["name"] = json::array{name};
    std::string url = NextUrl();
    entries_.push_back(
        Entry(url, std::move(practitioner), "POST", "Practitioner", IdentifierQuery(identifier)));
    practitioners_.emplace(key, url);
    return url;
  }

  // One ORDER_OBSERVATION group from its OBR at `at`: returns the index after it.
  Hl7Result<std::size_t> MapOrder(const Segment* orc, std::size_t at) {
    const auto& segments = message_.segments();
    const Segment& obr = segments[at];
    ++at;
    if (!obr.Has(4)) return Missing(obr, 4, "the universal service identifier");
    auto code = CodeableConcept(obr, 4);
    if (!code) return Missing(obr, 4, "the universal service identifier");
    std::string order = obr.Value(3, 1);
    std::string order_kind = "filler";
    if (order.empty()) {
      order = obr.Value(2, 1);
      order_kind = "placer";
    }
    if (order.empty() && orc != nullptr) {
      order = orc->Value(3, 1);
      order_kind = "filler";
    }
    std::string key = order.empty() ? fmt::format("{}#{}", header_.control_id, obr.sequence())
                                    : order_kind + ":" + order;
    const std::string report_id = StableId("DiagnosticReport", header_.sending_facility, key);
    auto status = ReportStatus(obr.Value(25));
    if (!status) {
      return Refuse(Condition::kTableValueNotFound, obr.At(25),
                    "OBR-25: the result status is not one of P, F, C, A, R, X, I, O, S");
    }
    json::object report;
    report["resourceType"] = "DiagnosticReport";
    report["id"] = report_id;
    if (!order.empty()) {
      report["identifier"] = json::array{Identifier(
          fmt::format("{}{}:{}-order", kLocalSystem,
                      UrnSafe(header_.sending_facility) ? header_.sending_facility : "facility",
                      order_kind),
          order)};
    }
    report["status"] = *status;
    json::object section;
    section["system"] = kSystemV2Section;
    section["code"] = "LAB";
    section["display"] = "Laboratory";
    report["category"] = json::array{json::object{{"coding", json::array{section}}}};
    report["code"] = std::move(*code);
    report["subject"] = Reference(patient_url_);
    if (obr.Has(7)) {
      auto when = DateTimeOf(obr.Value(7));
      if (!when) return BadValue(obr, 7, "the observation date/time is not an HL7 date/time");
      report["effectiveDateTime"] = *when;
    }
    json::array performers{Reference(lab_url_)};
    std::string orderer;
    if (orc != nullptr) {
      auto url = MapPractitioner(*orc, 12);
      if (!url) return std::unexpected(url.error());
      orderer = *url;
    }
    if (orderer.empty()) {
      auto url = MapPractitioner(obr, 16);
      if (!url) return std::unexpected(url.error());
      orderer = *url;
    }
    if (!orderer.empty()) performers.push_back(Reference(orderer));
    report["performer"] = std::move(performers);

    std::string conclusion;
    while (at < segments.size() && segments[at].id() == "NTE") {
      if (!conclusion.empty()) conclusion.push_back('\n');
      conclusion += NoteText(segments[at]);
      ++at;
    }
    if (!conclusion.empty()) report["conclusion"] = conclusion;
    // TQ1, TQ2, CTD: timing and contact details, not mapped.
    while (at < segments.size() && IsOneOf(segments[at].id(), {"TQ1", "TQ2", "CTD"})) ++at;

    json::array results;
    std::size_t position = 0;
    while (at < segments.size() && segments[at].id() == "OBX") {
      const Segment& obx = segments[at];
      ++at;
      ++position;
      auto observation = MapObservation(obx, *status);
      if (!observation) return std::unexpected(observation.error());
      json::array notes;
      while (at < segments.size() && segments[at].id() == "NTE") {
        notes.push_back(json::object{{"text", NoteText(segments[at])}});
        ++at;
      }
      if (!notes.empty()) (*observation)["note"] = std::move(notes);
      const std::string id = StableId("Observation", report_id, std::to_string(position));
      (*observation)["id"] = id;
      if (report.contains("effectiveDateTime") && !observation->contains("effectiveDateTime")) {
        (*observation)["effectiveDateTime"] = report.at("effectiveDateTime");
      }
      // The lab performed every result, whoever ordered it: its technicians see the result by
      // that (policy/lab_scope.h).
      (*observation)["performer"] = json::array{Reference(lab_url_)};
      results.push_back(Reference("Observation/" + id));
      entries_.push_back(Entry({}, std::move(*observation), "PUT", "Observation/" + id));
    }
    // FT1, CTI, SPM and its OBX: not mapped.
    while (at < segments.size() && IsOneOf(segments[at].id(), {"FT1", "CTI", "SPM"})) {
      ++at;
      while (at < segments.size() && IsOneOf(segments[at].id(), {"OBX", "NTE"})) ++at;
    }
    if (!results.empty()) report["result"] = std::move(results);
    entries_.push_back(Entry({}, std::move(report), "PUT", "DiagnosticReport/" + report_id));
    return at;
  }

  Hl7Result<json::object> MapObservation(const Segment& obx, std::string_view report_status) {
    json::object observation;
    observation["resourceType"] = "Observation";
    const std::string status_code = obx.Value(11);
    if (status_code.empty()) return Missing(obx, 11, "the observation result status");
    auto status = ObservationStatus(status_code);
    if (!status) {
      return Refuse(Condition::kTableValueNotFound, obx.At(11),
                    "OBX-11: the result status is not one of F, P, C, R, S, X, D, W, I, O, U");
    }
    (void)report_status;
    observation["status"] = *status;
    json::object section;
    section["system"] = "http://terminology.hl7.org/CodeSystem/observation-category";
    section["code"] = "laboratory";
    observation["category"] = json::array{json::object{{"coding", json::array{section}}}};
    auto code = CodeableConcept(obx, 3);
    if (!code) return Missing(obx, 3, "the observation identifier");
    observation["code"] = std::move(*code);
    observation["subject"] = Reference(patient_url_);

    const std::string type = obx.Value(2);
    const bool has_value = obx.Has(5);
    if (type.empty() && has_value) return Missing(obx, 2, "the value type");
    if (has_value && *status != "cancelled") {
      if (type == "NM") {
        if (obx.RepetitionCount(5) > 1) return BadValue(obx, 5, "a numeric value does not repeat");
        auto value = NumberOf(obx.Value(5));
        if (!value) return BadValue(obx, 5, "the value is not a number (NM)");
        observation["valueQuantity"] = Quantity(*value, obx);
      } else if (type == "SN") {
        // comparator ^ number ^ separator/suffix ^ number: "<^5", "^5", ">=^10".
        const std::string comparator = obx.Value(5, 1);
        if (!obx.Value(5, 3).empty() || !obx.Value(5, 4).empty()) {
          return BadValue(obx, 5, "a structured numeric range or ratio is not supported");
        }
        auto value = NumberOf(obx.Value(5, 2));
        if (!value) return BadValue(obx, 5, "the value is not a structured numeric (SN)");
        json::object quantity = Quantity(*value, obx);
        if (!comparator.empty() && comparator != "=") {
          if (comparator != "<" && comparator != ">" && comparator != "<=" && comparator != ">=") {
            return BadValue(obx, 5, "the comparator is not one of <, >, <=, >=, =");
          }
          quantity["comparator"] = comparator;
        }
        observation["valueQuantity"] = std::move(quantity);
      } else if (type == "CE" || type == "CWE") {
        auto value = CodeableConcept(obx, 5);
        if (!value) return BadValue(obx, 5, "the coded value has no code and no text");
        observation["valueCodeableConcept"] = std::move(*value);
      } else if (type == "ST" || type == "TX" || type == "FT") {
        std::string text;
        for (std::size_t r = 0; r < obx.RepetitionCount(5); ++r) {
          if (r > 0) text.push_back('\n');
          text += obx.Value(5, 1, 1, r);
        }
        observation["valueString"] = text;
      } else {
        return Refuse(Condition::kDataType, obx.At(2),
                      "OBX-2: the value type is not one of NM, SN, CE, CWE, ST, TX, FT");
      }
    }
    if (obx.Has(7)) {
      observation["referenceRange"] = json::array{ReferenceRange(obx.Value(7), obx)};
    }
    json::array interpretations;
    for (std::size_t r = 0; r < obx.RepetitionCount(8); ++r) {
      const std::string flag = obx.Value(8, 1, 1, r);
      if (flag.empty()) continue;
      json::object concept_;
      if (std::find(std::begin(kInterpretationCodes), std::end(kInterpretationCodes), flag) !=
          std::end(kInterpretationCodes)) {
        json::object coding;
        coding["system"] = kSystemInterpretation;
        coding["code"] = flag;
        concept_["coding"] = json::array{coding};
      } else {
        concept_["text"] = flag;
      }
      interpretations.push_back(std::move(concept_));
    }
    if (!interpretations.empty()) observation["interpretation"] = std::move(interpretations);
    if (obx.Has(14)) {
      auto when = DateTimeOf(obx.Value(14));
      if (!when) return BadValue(obx, 14, "the observation date/time is not an HL7 date/time");
      observation["effectiveDateTime"] = *when;
    }
    return observation;
  }

  std::string NextUrl() { return LocalUrl(++urls_); }

  const Message& message_;
  const MessageHeader& header_;
  json::array entries_;
  std::string lab_url_;
  std::string patient_url_;
  std::map<std::string, std::string> practitioners_;
  std::size_t urls_ = 0;
};

}  // namespace

MessageHeader HeaderOf(const Message& message) {
  const Segment& msh = message.header();
  MessageHeader header;
  header.sending_application = msh.Value(3, 1);
  header.sending_facility = msh.Value(4, 1);
  if (header.sending_facility.empty()) header.sending_facility = msh.Value(4, 2);
  header.receiving_application = msh.Value(5, 1);
  header.receiving_facility = msh.Value(6, 1);
  header.control_id = msh.Value(10);
  header.processing_id = msh.Value(11, 1);
  header.version = msh.Value(12, 1);
  header.message_code = msh.Value(9, 1);
  header.trigger_event = msh.Value(9, 2);
  return header;
}

Hl7Result<MessageHeader> ReadHeader(const Message& message) {
  const Segment& msh = message.header();
  MessageHeader header = HeaderOf(message);
  if (header.message_code.empty()) return Missing(msh, 9, "the message type");
  if (header.control_id.empty()) return Missing(msh, 10, "the message control id");
  if (header.control_id.size() > kMaxControlIdBytes) {
    return BadValue(msh, 10, "the message control id is longer than 199 characters");
  }
  if (header.version.empty()) return Missing(msh, 12, "the version id");
  if (header.sending_facility.empty()) return Missing(msh, 4, "the sending facility");
  if (header.sending_facility.size() > 64) {
    return BadValue(msh, 4, "the sending facility is longer than 64 characters");
  }
  if (header.version != "2.5" && !header.version.starts_with("2.5.")) {
    return Refuse(Condition::kUnsupportedVersion, msh.At(12),
                  "MSH-12: only HL7 version 2.5 is accepted");
  }
  if (header.message_code != "ORU") {
    return Refuse(Condition::kUnsupportedMessageType, msh.At(9, 1),
                  "MSH-9: only ORU messages are accepted");
  }
  if (header.trigger_event != "R01") {
    return Refuse(Condition::kUnsupportedEventCode, msh.At(9, 2),
                  "MSH-9: only the R01 event is accepted");
  }
  if (header.processing_id.empty()) return Missing(msh, 11, "the processing id");
  if (header.processing_id != "P" && header.processing_id != "T" && header.processing_id != "D") {
    return Refuse(Condition::kUnsupportedProcessingId, msh.At(11),
                  "MSH-11: the processing id is not one of P, T, D");
  }
  return header;
}

Hl7Result<json::object> MapOru(const Message& message, const MessageHeader& header) {
  return OruMapper(message, header).Map();
}

}  // namespace medvault::lab
