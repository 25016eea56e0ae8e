#include "records/indexed_fields.h"

#include <fmt/format.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/french_ids.h"

namespace medvault::records {
namespace {

namespace json = boost::json;
using crypto::ValueKind;

constexpr std::string_view kFamily = "patient.family.prefix";
constexpr std::string_view kGiven = "patient.given.prefix";
constexpr std::string_view kBirthdate = "patient.birthdate";
constexpr std::string_view kNir = "patient.nir";
constexpr std::string_view kIdentifier = "patient.identifier";
constexpr std::string_view kPhone = "patient.phone";
constexpr std::string_view kEmail = "patient.email";
constexpr std::string_view kAccession = "report.accession";
constexpr std::string_view kStatus = "report.status";

constexpr std::array kFields = {
    IndexedField{"Patient", kFamily, ValueKind::kName},
    IndexedField{"Patient", kGiven, ValueKind::kName},
    IndexedField{"Patient", kBirthdate, ValueKind::kDate},
    IndexedField{"Patient", kNir, ValueKind::kNir},
    IndexedField{"Patient", kIdentifier, ValueKind::kIdentifier},
    IndexedField{"Patient", kPhone, ValueKind::kPhone},
    IndexedField{"Patient", kEmail, ValueKind::kEmail},
    IndexedField{"DiagnosticReport", kAccession, ValueKind::kAccession},
    IndexedField{"DiagnosticReport", kStatus, ValueKind::kIdentifier},
};

// The string at `key` of an object, or empty when absent or not a string.
std::string_view StringAt(const json::object& object, std::string_view key) {
  const json::value* found = object.if_contains(key);
  if (found == nullptr || !found->is_string()) return {};
  return found->get_string();
}

// The elements of the array at `key`, or none.
const json::array* ArrayAt(const json::object& object, std::string_view key) {
  const json::value* found = object.if_contains(key);
  return found != nullptr && found->is_array() ? &found->get_array() : nullptr;
}

class Collector {
 public:
  void Add(std::string_view field, ValueKind kind, std::string_view value) {
    if (!value.empty()) values_.push_back({field, kind, std::string(value)});
  }
  std::vector<IndexedValue> Take() { return std::move(values_); }

 private:
  std::vector<IndexedValue> values_;
};

void CollectPatient(const json::object& patient, Collector& out) {
  if (const auto* names = ArrayAt(patient, "name")) {
    for (const auto& name : *names) {
      if (!name.is_object()) continue;
      out.Add(kFamily, ValueKind::kName, StringAt(name.get_object(), "family"));
      if (const auto* given = ArrayAt(name.get_object(), "given")) {
        for (const auto& part : *given) {
          if (part.is_string()) out.Add(kGiven, ValueKind::kName, part.get_string());
        }
      }
    }
  }
  out.Add(kBirthdate, ValueKind::kDate, StringAt(patient, "birthDate"));
  if (const auto* identifiers = ArrayAt(patient, "identifier")) {
    for (const auto& identifier : *identifiers) {
      if (!identifier.is_object()) continue;
      std::string_view system = StringAt(identifier.get_object(), "system");
      std::string_view value = StringAt(identifier.get_object(), "value");
      bool ins = system == kInsNirSystem || system == kInsNiaSystem;
      out.Add(ins ? kNir : kIdentifier, ins ? ValueKind::kNir : ValueKind::kIdentifier, value);
    }
  }
  if (const auto* telecoms = ArrayAt(patient, "telecom")) {
    for (const auto& telecom : *telecoms) {
      if (!telecom.is_object()) continue;
      std::string_view system = StringAt(telecom.get_object(), "system");
      std::string_view value = StringAt(telecom.get_object(), "value");
      if (system == "phone") out.Add(kPhone, ValueKind::kPhone, value);
      if (system == "email") out.Add(kEmail, ValueKind::kEmail, value);
    }
  }
}

void CollectReport(const json::object& report, Collector& out) {
  if (const auto* identifiers = ArrayAt(report, "identifier")) {
    for (const auto& identifier : *identifiers) {
      if (identifier.is_object()) {
        out.Add(kAccession, ValueKind::kAccession, StringAt(identifier.get_object(), "value"));
      }
    }
  }
  out.Add(kStatus, ValueKind::kIdentifier, StringAt(report, "status"));
}

}  // namespace

std::span<const IndexedField> IndexedFields() { return kFields; }

Result<IndexedField> FindIndexedField(std::string_view resource_type, std::string_view field) {
  for (const IndexedField& known : kFields) {
    if (known.resource_type == resource_type && known.field == field) return known;
  }
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("{} has no searchable field '{}'", resource_type, field));
}

Result<std::vector<IndexedValue>> ExtractIndexedValues(std::string_view resource_type,
                                                       std::string_view text) {
  if (resource_type != "Patient" && resource_type != "DiagnosticReport") {
    return std::vector<IndexedValue>{};
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is not a JSON object", resource_type));
  }
  Collector collector;
  if (resource_type == "Patient") {
    CollectPatient(parsed.get_object(), collector);
  } else {
    CollectReport(parsed.get_object(), collector);
  }
  return collector.Take();
}

}  // namespace medvault::records
