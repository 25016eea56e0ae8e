#include "fhir/resource.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/french_ids.h"
#include "fhir/code_syntax.h"
#include "fhir/primitives.h"
#include "fhir/schema.h"

namespace medvault::fhir {

namespace json = boost::json;
using schema::Element;

namespace {

constexpr std::array<std::string_view, 14> kServedTypes = {
    "AllergyIntolerance", "AuditEvent",        "Binary",       "CareTeam",          "Condition",
    "DiagnosticReport",   "DocumentReference", "Encounter",    "MedicationRequest", "Observation",
    "Organization",       "Patient",           "Practitioner", "PractitionerRole"};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A JSON key that may be written in an expression (element names are short identifiers).
bool IsElementName(std::string_view key) {
  return !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), IsNameChar);
}

bool ListContains(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const std::size_t bar = list.find('|');
    if (list.substr(0, bar) == item) return true;
    if (bar == std::string_view::npos) break;
    list.remove_prefix(bar + 1);
  }
  return false;
}

// The type of a choice element matching the suffix of a JSON name: "Quantity" for
// "valueQuantity" against "Quantity|string"; empty when none matches.
std::string_view ChoiceType(std::string_view types, std::string_view suffix) {
  if (suffix.empty() || suffix[0] < 'A' || suffix[0] > 'Z') return {};
  while (!types.empty()) {
    const std::size_t bar = types.find('|');
    const std::string_view type = types.substr(0, bar);
    // SimpleQuantity is a profile of Quantity: its JSON name is that of Quantity.
    if (type == "SimpleQuantity" && suffix == "Quantity") return type;
    if (type.size() == suffix.size() && type.substr(1) == suffix.substr(1) &&
        (type[0] == suffix[0] || type[0] == suffix[0] - 'A' + 'a')) {
      return type;
    }
    if (bar == std::string_view::npos) break;
    types.remove_prefix(bar + 1);
  }
  return {};
}

// Whether `value` is the JSON string `text`.
bool IsText(const json::value* value, std::string_view text) {
  return value != nullptr && value->is_string() && value->get_string() == text;
}

bool IsQuantityType(std::string_view type) {
  return type == "Quantity" || type == "SimpleQuantity" || type == "Age" || type == "Duration" ||
         type == "Count" || type == "Distance";
}

std::string Join(std::string_view list) {
  std::string out(list);
  std::replace(out.begin(), out.end(), '|', ',');
  std::string spaced;
  for (char c : out) {
    spaced += c;
    if (c == ',') spaced += ' ';
  }
  return spaced;
}

// A relative literal reference "Type/id" or "Type/id/_history/vid".
struct LiteralReference {
  std::string_view type;
  std::string_view id;
};
std::optional<LiteralReference> SplitReference(std::string_view reference) {
  const std::size_t slash = reference.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  LiteralReference out{reference.substr(0, slash), reference.substr(slash + 1)};
  if (const std::size_t history = out.id.find("/_history/"); history != std::string_view::npos) {
    if (!primitives::IsId(out.id.substr(history + 10))) return std::nullopt;
    out.id = out.id.substr(0, history);
  }
  if (!primitives::IsId(out.id)) return std::nullopt;
  if (!std::all_of(out.type.begin(), out.type.end(), IsNameChar)) return std::nullopt;
  return out;
}

class Validator {
 public:
  Validator(const ValidateOptions& options, std::vector<Issue>& issues)
      : options_(options), issues_(issues) {}

  void Resource(const json::object& resource) {
    const json::value* type_value = resource.if_contains("resourceType");
    if (type_value == nullptr || !type_value->is_string() ||
        !IsServedType(type_value->get_string())) {
      Add(IssueType::kNotSupported, "resourceType",
          "the resource has no resourceType that medvault serves");
      return;
    }
    resource_type_ = std::string(type_value->get_string());
    const schema::TypeDefinition* type = schema::FindResourceType(resource_type_);
    Object(resource, type->elements, resource_type_, /*root=*/true);
    if (options_.require_id && !resource.contains("id")) {
      Add(IssueType::kRequired, resource_type_ + ".id",
          "an update must give the resource id in the body, equal to the id in the URL");
    }
    ResourceInvariants(resource);
  }

 private:
  void Add(IssueType code, std::string expression, std::string diagnostics) {
    issues_.push_back(Issue{.severity = Severity::kError,
                            .code = code,
                            .expression = std::move(expression),
                            .diagnostics = std::move(diagnostics)});
  }

  // The element of `elements` a JSON name stands for, and its type for that name.
  struct Match {
    std::size_t index = 0;
    std::string_view type;
  };
  static std::optional<Match> Find(std::span<const Element> elements, std::string_view key) {
    for (std::size_t i = 0; i < elements.size(); ++i) {
      const Element& element = elements[i];
      if (element.name.back() == ']') {  // a choice, "value[x]"
        const std::string_view prefix = element.name.substr(0, element.name.size() - 3);
        if (key.size() > prefix.size() && key.starts_with(prefix)) {
          const std::string_view type = ChoiceType(element.types, key.substr(prefix.size()));
          if (!type.empty()) return Match{i, type};
        }
      } else if (element.name == key) {
        return Match{i, element.types};
      }
    }
    return std::nullopt;
  }

  static std::string ElementPath(const std::string& path, std::string_view name) {
    std::string out = path;
    out += '.';
    out += name;
    return out;
  }

  void Object(const json::object& object, std::span<const Element> elements,
              const std::string& path, bool root) {
    if (object.empty()) {
      Add(IssueType::kStructure, path, "an empty object is not allowed; omit the element");
      return;
    }
    // The type given for each element; for a choice, only one type may appear.
    std::vector<std::string_view> seen(elements.size());
    for (const auto& member : object) {
      const std::string_view key = member.key();
      const json::value& value = member.value();
      if (root && key == "resourceType") continue;
      if (!IsElementName(key)) {
        Add(IssueType::kStructure, path, "an element name is not a FHIR element name");
        continue;
      }
      if (key == "extension" || key == "modifierExtension") {
        Extensions(value, ElementPath(path, key));
        continue;
      }
      if (key == "contained") {
        Add(IssueType::kNotSupported, ElementPath(path, key),
            "contained resources are not supported: send each resource on its own (a "
            "transaction Bundle can create them together)");
        continue;
      }
      if (key == "id" && !root) {
        Primitive(value, "string", nullptr, ElementPath(path, key));
        continue;
      }
      if (key.starts_with('_')) {
        PrimitiveExtension(object, elements, key, value, path, seen);
        continue;
      }
      const std::optional<Match> match = Find(elements, key);
      if (!match) {
        Add(IssueType::kStructure, ElementPath(path, key),
            "unknown element: the resource type or datatype does not define it");
        continue;
      }
      const Element& element = elements[match->index];
      if (!MarkSeen(seen, *match, element, path)) continue;
      Member(object, element, match->type, key, value, path);
    }
    for (std::size_t i = 0; i < elements.size(); ++i) {
      if (elements[i].min > 0 && seen[i].empty()) {
        Add(IssueType::kRequired, ElementPath(path, elements[i].name),
            "this element is required (minimum cardinality " + std::to_string(elements[i].min) +
                ")");
      }
    }
  }

  // Records that `match` was given; false (with an issue) when another type of the same
  // choice element was given already.
  bool MarkSeen(std::vector<std::string_view>& seen, const Match& match, const Element& element,
                const std::string& path) {
    std::string_view& given = seen[match.index];
    if (!given.empty() && given != match.type) {
      Add(IssueType::kStructure, ElementPath(path, element.name),
          "only one type of this choice element may be given");
      return false;
    }
    given = match.type.empty() ? std::string_view("BackboneElement") : match.type;
    return true;
  }

  // One member of an object: its cardinality, then each value.
  void Member(const json::object& object, const Element& element, std::string_view type,
              std::string_view key, const json::value& value, const std::string& path) {
    const std::string here = ElementPath(path, key);
    if (value.is_null()) {
      Add(IssueType::kStructure, here, "null is not allowed; omit the element");
      return;
    }
    if (element.max == 1) {
      if (value.is_array()) {
        Add(IssueType::kStructure, here,
            "too many values: this element takes at most one value, not an array");
        return;
      }
      Value(value, type, element, here);
      return;
    }
    if (!value.is_array()) {
      Add(IssueType::kStructure, here, "this element repeats: give it as a JSON array");
      return;
    }
    const json::array& items = value.get_array();
    if (items.empty()) {
      Add(IssueType::kStructure, here, "an empty array is not allowed; omit the element");
      return;
    }
    if (items.size() > element.max) {
      Add(IssueType::kStructure, here,
          "too many values: at most " + std::to_string(element.max) + " allowed");
    }
    if (items.size() < element.min) {
      Add(IssueType::kRequired, here,
          "too few values: at least " + std::to_string(element.min) + " required");
    }
    const bool has_extensions = object.contains("_" + std::string(key));
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string item_path = here + "[" + std::to_string(i) + "]";
      if (items[i].is_null()) {
        if (!has_extensions || !primitives::IsPrimitive(type)) {
          Add(IssueType::kStructure, item_path, "null is not allowed in this array");
        }
        continue;
      }
      Value(items[i], type, element, item_path);
    }
  }

  void Value(const json::value& value, std::string_view type, const Element& element,
             const std::string& path) {
    if (type.empty()) {  // a backbone element
      if (!value.is_object()) {
        Add(IssueType::kStructure, path, "must be a JSON object");
        return;
      }
      Object(value.get_object(), element.children, path, false);
      return;
    }
    if (primitives::IsPrimitive(type)) {
      Primitive(value, type, element.binding, path);
      if (type == "code" && element.name == "contentType" && value.is_string() &&
          !value.get_string().empty() && !IsMimeType(value.get_string())) {
        Add(IssueType::kValue, path, "is not a MIME type (type/subtype, e.g. application/pdf)");
      }
      return;
    }
    if (!value.is_object()) {
      Add(IssueType::kStructure, path, "must be a JSON object (a " + std::string(type) + ")");
      return;
    }
    Complex(value.get_object(), type, element, path);
  }

  void Primitive(const json::value& value, std::string_view type, const schema::ValueSet* binding,
                 const std::string& path) {
    if (auto problem = primitives::CheckPrimitive(type, value)) {
      Add(IssueType::kValue, path, "the value " + std::string(*problem));
      return;
    }
    if (binding != nullptr && value.is_string()) {
      const std::string_view code = value.get_string();
      if (std::find(binding->codes.begin(), binding->codes.end(), code) == binding->codes.end()) {
        Add(IssueType::kCodeInvalid, path,
            "the code is not in the required value set " + std::string(binding->name));
      }
    }
  }

  void Complex(const json::object& object, std::string_view type, const Element& element,
               const std::string& path) {
    const schema::TypeDefinition* definition = schema::FindDatatype(type);
    if (definition == nullptr) {
      Add(IssueType::kException, path, "medvault cannot validate this datatype");
      return;
    }
    const std::size_t issues_before = issues_.size();
    Object(object, definition->elements, path, false);
    const bool clean = issues_.size() == issues_before;
    if (type == "Reference") {
      ReferenceChecks(object, element.targets, path);
    } else if (type == "Coding") {
      CodingChecks(object, path);
    } else if (type == "CodeableConcept") {
      if (element.binding != nullptr && clean) ConceptBinding(object, *element.binding, path);
    } else if (IsQuantityType(type)) {
      QuantityChecks(object, path);
    } else if (type == "Identifier") {
      IdentifierChecks(object, path);
    } else if (type == "Attachment") {
      if (object.contains("data") && !object.contains("contentType")) {
        Add(IssueType::kInvariant, path + ".contentType",
            "an attachment with data must give its contentType (att-1)");
      }
    } else if (type == "Extension") {
      Extension(object, path);
    } else if (type == "ContactPoint") {
      if (object.contains("value") && !object.contains("system")) {
        Add(IssueType::kInvariant, path + ".system",
            "a contact point with a value must give its system (cpt-2)");
      }
    } else if (type == "Range") {
      const std::optional<double> low = NumberAt(object, "low", "value");
      const std::optional<double> high = NumberAt(object, "high", "value");
      if (low && high && *low > *high) {
        Add(IssueType::kInvariant, path, "the low value is above the high value (rng-2)");
      }
    } else if (type == "Period") {
      const json::value* start = object.if_contains("start");
      const json::value* end = object.if_contains("end");
      if (clean && start != nullptr && end != nullptr) {
        const auto order = primitives::CompareDateTimes(start->get_string(), end->get_string());
        if (order && *order > 0) {
          Add(IssueType::kInvariant, path, "the period ends before it starts (per-1)");
        }
      }
    } else if (type == "Ratio") {
      if (object.contains("numerator") != object.contains("denominator")) {
        Add(IssueType::kInvariant, path,
            "a ratio gives both its numerator and its denominator, or neither (rat-1)");
      }
    } else if (type == "Timing") {
      if (const json::value* repeat = object.if_contains("repeat");
          repeat != nullptr && repeat->is_object() && clean) {
        TimingRepeatInvariants(repeat->get_object(), path + ".repeat");
      }
    }
  }

  // The invariants tim-1 to tim-10 of Timing.repeat.
  void TimingRepeatInvariants(const json::object& repeat, const std::string& path) {
    const auto requires_element = [&](std::string_view given, std::string_view needed,
                                      std::string_view rule) {
      if (repeat.contains(given) && !repeat.contains(needed)) {
        Add(IssueType::kInvariant, path + "." + std::string(needed),
            "required when " + std::string(given) + " is given (" + std::string(rule) + ")");
      }
    };
    requires_element("duration", "durationUnit", "tim-1");
    requires_element("period", "periodUnit", "tim-2");
    requires_element("periodMax", "period", "tim-6");
    requires_element("durationMax", "duration", "tim-7");
    requires_element("countMax", "count", "tim-8");
    for (const auto& [key, rule] :
         {std::pair<std::string_view, std::string_view>{"duration", "tim-4"},
          {"period", "tim-5"}}) {
      const json::value* value = repeat.if_contains(key);
      if (value != nullptr && value->is_number() && value->to_number<double>() < 0) {
        Add(IssueType::kInvariant, path + "." + std::string(key),
            "must not be negative (" + std::string(rule) + ")");
      }
    }
    if (repeat.contains("offset")) {
      bool relative = false;
      if (const json::value* when = repeat.if_contains("when");
          when != nullptr && when->is_array()) {
        relative = true;
        for (const json::value& code : when->get_array()) {
          if (IsText(&code, "C") || IsText(&code, "CM") || IsText(&code, "CD") ||
              IsText(&code, "CV")) {
            relative = false;
          }
        }
      }
      if (!relative) {
        Add(IssueType::kInvariant, path + ".offset",
            "an offset needs a when that is not a meal itself (C, CM, CD, CV) (tim-9)");
      }
    }
    if (repeat.contains("timeOfDay") && repeat.contains("when")) {
      Add(IssueType::kInvariant, path, "give timeOfDay or when, not both (tim-10)");
    }
  }

  void ReferenceChecks(const json::object& object, std::string_view targets,
                       const std::string& path) {
    const json::value* reference = object.if_contains("reference");
    if (reference == nullptr || !reference->is_string() || reference->get_string().empty()) {
      return;
    }
    const std::string_view text = reference->get_string();
    const std::string here = path + ".reference";
    if (text.starts_with("urn:uuid:")) {
      if (!primitives::IsUuid(text.substr(9))) {
        Add(IssueType::kValue, here, "is not a valid urn:uuid (lower-case 8-4-4-4-12 hex)");
      } else if (!options_.allow_urn_uuid_references) {
        Add(IssueType::kValue, here,
            "urn:uuid references are allowed only inside a transaction Bundle; use Type/id");
      }
      return;
    }
    const std::optional<LiteralReference> literal = SplitReference(text);
    if (!literal) {
      Add(IssueType::kValue, here,
          "must be a relative reference Type/id to a resource of this server (absolute URLs "
          "and #contained references are not supported)");
      return;
    }
    if (!IsServedType(literal->type)) {
      Add(IssueType::kValue, here, "references a resource type medvault does not serve");
      return;
    }
    if (targets != "Any" && !ListContains(targets, literal->type)) {
      Add(IssueType::kValue, here,
          "this element may not reference this resource type (allowed: " + Join(targets) + ")");
    }
    const json::value* type = object.if_contains("type");
    if (type != nullptr && type->is_string() && type->get_string() != literal->type) {
      Add(IssueType::kValue, path + ".type", "disagrees with the type of the reference");
    }
  }

  void CodingChecks(const json::object& object, const std::string& path) {
    const json::value* system = object.if_contains("system");
    const json::value* code = object.if_contains("code");
    if (system == nullptr || code == nullptr || !system->is_string() || !code->is_string()) return;
    if (system->get_string() == kSystemLoinc && !IsLoincCode(code->get_string())) {
      Add(IssueType::kCodeInvalid, path + ".code",
          "is not a valid LOINC code (NNNNN-C with a matching mod-10 check digit)");
    }
  }

  void ConceptBinding(const json::object& object, const schema::ValueSet& binding,
                      const std::string& path) {
    bool found = false;
    if (const json::value* codings = object.if_contains("coding");
        codings != nullptr && codings->is_array()) {
      const json::array& items = codings->get_array();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_object()) continue;
        const json::object& coding = items[i].get_object();
        const json::value* system = coding.if_contains("system");
        const json::value* code = coding.if_contains("code");
        if (system == nullptr || !system->is_string() || system->get_string() != binding.system) {
          continue;
        }
        const std::string coding_path = path + ".coding[" + std::to_string(i) + "]";
        if (code == nullptr || !code->is_string()) {
          Add(IssueType::kRequired, coding_path + ".code", "the coding must give a code");
          found = true;
          continue;
        }
        found = true;
        if (std::find(binding.codes.begin(), binding.codes.end(), code->get_string()) ==
            binding.codes.end()) {
          Add(IssueType::kCodeInvalid, coding_path + ".code",
              "the code is not in the required value set " + std::string(binding.name));
        }
      }
    }
    if (!found) {
      Add(IssueType::kCodeInvalid, path + ".coding",
          "a coding of system " + std::string(binding.system) + " is required (value set " +
              std::string(binding.name) + ")");
    }
  }

  void QuantityChecks(const json::object& object, const std::string& path) {
    const json::value* system = object.if_contains("system");
    const json::value* code = object.if_contains("code");
    if (code != nullptr && system == nullptr) {
      Add(IssueType::kInvariant, path + ".system",
          "a quantity with a coded unit must give the unit's system (qty-3)");
      return;
    }
    if (system == nullptr || code == nullptr || !system->is_string() || !code->is_string()) return;
    if (system->get_string() == kSystemUcum && !IsUcumCode(code->get_string())) {
      Add(IssueType::kCodeInvalid, path + ".code", "is not a valid UCUM unit expression");
    }
  }

  void IdentifierChecks(const json::object& object, const std::string& path) {
    const json::value* system = object.if_contains("system");
    if (system == nullptr || !system->is_string()) return;
    const std::string_view text = system->get_string();
    if (text != kSystemInsNir && text != kSystemInsNia) return;
    const json::value* value = object.if_contains("value");
    if (value == nullptr || !value->is_string()) {
      Add(IssueType::kRequired, path + ".value", "an INS identifier must give its number");
      return;
    }
    if (auto ins = ParseIns(text, value->get_string()); !ins) {
      Add(IssueType::kValue, path + ".value", ins.error().message());
    }
  }

  void Extensions(const json::value& value, const std::string& path) {
    if (!value.is_array() || value.get_array().empty()) {
      Add(IssueType::kStructure, path, "extensions must be a non-empty JSON array");
      return;
    }
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!items[i].is_object()) {
        Add(IssueType::kStructure, item_path, "an extension must be a JSON object");
        continue;
      }
      Extension(items[i].get_object(), item_path);
    }
  }

  void Extension(const json::object& object, const std::string& path) {
    bool has_value = false;
    bool has_extensions = false;
    bool has_url = false;
    for (const auto& member : object) {
      const std::string_view key = member.key();
      if (!IsElementName(key)) {
        Add(IssueType::kStructure, path, "an element name is not a FHIR element name");
        continue;
      }
      const std::string here = ElementPath(path, key);
      if (key == "url") {
        has_url = true;
        Primitive(member.value(), "uri", nullptr, here);
      } else if (key == "id") {
        Primitive(member.value(), "string", nullptr, here);
      } else if (key == "extension") {
        has_extensions = true;
        Extensions(member.value(), here);
      } else if (key.starts_with("value")) {
        const std::string_view suffix = key.substr(5);
        std::string_view type;
        for (std::string_view candidate : schema::ExtensionValueTypes()) {
          if (!ChoiceType(candidate, suffix).empty()) type = candidate;
        }
        if (type.empty()) {
          Add(IssueType::kStructure, here, "unknown element: not a value[x] type of Extension");
          continue;
        }
        if (has_value) {
          Add(IssueType::kStructure, path + ".value[x]", "an extension has at most one value");
          continue;
        }
        has_value = true;
        static constexpr Element kExtensionValue{"value[x]", "", 0, 1, nullptr, "Any"};
        if (member.value().is_null()) {
          Add(IssueType::kStructure, here, "null is not allowed; omit the element");
        } else if (member.value().is_array()) {
          Add(IssueType::kStructure, here, "too many values: an extension has one value");
        } else {
          Value(member.value(), type, kExtensionValue, here);
        }
      } else {
        Add(IssueType::kStructure, here, "unknown element: Extension does not define it");
      }
    }
    if (!has_url) Add(IssueType::kRequired, path + ".url", "an extension must give its url");
    if (has_value == has_extensions) {
      Add(IssueType::kInvariant, path,
          "an extension has either a value[x] or nested extensions, not both nor neither "
          "(ext-1)");
    }
  }

  // "_birthDate": {"extension": [...]}, or for a repeating element an array of such objects
  // and nulls, aligned with the values.
  void PrimitiveExtension(const json::object& object, std::span<const Element> elements,
                          std::string_view key, const json::value& value, const std::string& path,
                          std::vector<std::string_view>& seen) {
    const std::string_view name = key.substr(1);
    const std::optional<Match> match = Find(elements, name);
    if (!match || match->type.empty() || !primitives::IsPrimitive(match->type)) {
      Add(IssueType::kStructure, ElementPath(path, key),
          "unknown element: no primitive element of this name to extend");
      return;
    }
    const Element& element = elements[match->index];
    if (!MarkSeen(seen, *match, element, path)) return;
    const std::string here = ElementPath(path, name);
    const auto check_one = [&](const json::value& item, const std::string& item_path) {
      if (!item.is_object() || item.get_object().empty()) {
        Add(IssueType::kStructure, item_path, "primitive extensions must be a JSON object");
        return;
      }
      for (const auto& member : item.get_object()) {
        if (member.key() == "id") {
          Primitive(member.value(), "string", nullptr, item_path + ".id");
        } else if (member.key() == "extension") {
          Extensions(member.value(), item_path + ".extension");
        } else {
          Add(IssueType::kStructure, item_path,
              "a primitive's extension object holds only id and extension");
        }
      }
    };
    if (element.max == 1) {
      check_one(value, here);
      return;
    }
    const json::value* values = object.if_contains(name);
    if (!value.is_array() ||
        (values != nullptr &&
         (!values->is_array() || values->get_array().size() != value.get_array().size()))) {
      Add(IssueType::kStructure, here,
          "the extensions of a repeating primitive must be an array aligned with its values");
      return;
    }
    const json::array& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].is_null()) continue;
      check_one(items[i], here + "[" + std::to_string(i) + "]");
    }
  }

  // Invariants of R4 that span elements of a resource.
  void ResourceInvariants(const json::object& resource) {
    const auto has_prefix = [&](std::string_view prefix) {
      for (const auto& member : resource) {
        if (member.key().starts_with(prefix) && member.key().size() > prefix.size() &&
            member.key()[prefix.size()] >= 'A' && member.key()[prefix.size()] <= 'Z') {
          return true;
        }
      }
      return false;
    };
    if (resource_type_ == "Observation" && resource.contains("dataAbsentReason") &&
        has_prefix("value")) {
      Add(IssueType::kInvariant, "Observation.dataAbsentReason",
          "dataAbsentReason is only given when there is no value[x] (obs-6)");
    }
    if (resource_type_ == "Patient") {
      ForEachObject(resource, "contact", [&](const json::object& contact, const std::string& at) {
        if (!contact.contains("name") && !contact.contains("telecom") &&
            !contact.contains("address") && !contact.contains("organization")) {
          Add(IssueType::kInvariant, "Patient." + at,
              "a contact gives a name, telecom, address or organization (pat-1)");
        }
      });
    }
    if (resource_type_ == "Organization") {
      if (!resource.contains("name") && !resource.contains("identifier")) {
        Add(IssueType::kInvariant, "Organization",
            "an organization has a name or an identifier (org-1)");
      }
      for (const auto& entry : {std::pair<std::string_view, std::string_view>{"address", "org-2"},
                                {"telecom", "org-3"}}) {
        const std::string_view list = entry.first;  // named, so that the lambda can capture it
        const std::string_view rule = entry.second;
        ForEachObject(resource, list, [&](const json::object& item, const std::string& at) {
          if (const json::value* use = item.if_contains("use"); IsText(use, "home")) {
            Add(IssueType::kInvariant, "Organization." + at + ".use",
                "an organization's " + std::string(list) + " cannot be of use home (" +
                    std::string(rule) + ")");
          }
        });
      }
    }
    if (resource_type_ == "Condition") {
      constexpr std::string_view kVerification =
          "http://terminology.hl7.org/CodeSystem/condition-ver-status";
      constexpr std::string_view kClinical =
          "http://terminology.hl7.org/CodeSystem/condition-clinical";
      if (HasCoding(resource, "verificationStatus", kVerification, "entered-in-error") &&
          resource.contains("clinicalStatus")) {
        Add(IssueType::kInvariant, "Condition.clinicalStatus",
            "a condition entered in error has no clinicalStatus (con-5)");
      } else if (has_prefix("abatement") && resource.contains("clinicalStatus") &&
                 !HasCoding(resource, "clinicalStatus", kClinical, "inactive") &&
                 !HasCoding(resource, "clinicalStatus", kClinical, "resolved") &&
                 !HasCoding(resource, "clinicalStatus", kClinical, "remission")) {
        Add(IssueType::kInvariant, "Condition.clinicalStatus",
            "an abated condition is inactive, resolved or in remission (con-4)");
      }
    }
    if (resource_type_ == "AllergyIntolerance") {
      const bool in_error =
          HasCoding(resource, "verificationStatus",
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "entered-in-error");
      if (in_error && resource.contains("clinicalStatus")) {
        Add(IssueType::kInvariant, "AllergyIntolerance.clinicalStatus",
            "an allergy entered in error has no clinicalStatus (ait-2)");
      } else if (!in_error && !resource.contains("clinicalStatus")) {
        Add(IssueType::kInvariant, "AllergyIntolerance.clinicalStatus",
            "required unless the allergy was entered in error (ait-1)");
      }
    }
    if (resource_type_ == "CareTeam") {
      ForEachObject(resource, "participant", [&](const json::object& item, const std::string& at) {
        if (!item.contains("onBehalfOf")) return;
        const json::value* member = item.if_contains("member");
        const json::value* reference = member != nullptr && member->is_object()
                                           ? member->get_object().if_contains("reference")
                                           : nullptr;
        if (reference == nullptr || !reference->is_string()) return;
        const auto literal = SplitReference(reference->get_string());
        if (literal && literal->type != "Practitioner") {
          Add(IssueType::kInvariant, "CareTeam." + at + ".onBehalfOf",
              "onBehalfOf is only for a member who is a Practitioner (ctm-1)");
        }
      });
    }
    if (resource_type_ == "AuditEvent") {
      ForEachObject(resource, "entity", [&](const json::object& item, const std::string& at) {
        if (item.contains("name") && item.contains("query")) {
          Add(IssueType::kInvariant, "AuditEvent." + at,
              "an entity has a name or a query, not both (sev-1)");
        }
      });
    }
  }

  template <typename Visit>
  static void ForEachObject(const json::object& object, std::string_view key, Visit visit) {
    const json::value* items = object.if_contains(key);
    if (items == nullptr || !items->is_array()) return;
    for (std::size_t i = 0; i < items->get_array().size(); ++i) {
      const json::value& item = items->get_array()[i];
      if (item.is_object())
        visit(item.get_object(), std::string(key) + "[" + std::to_string(i) + "]");
    }
  }

  // Whether object[key] is a CodeableConcept with a coding of `system` and `code`.
  static bool HasCoding(const json::object& object, std::string_view key, std::string_view system,
                        std::string_view code) {
    const json::value* concept_value = object.if_contains(key);
    if (concept_value == nullptr || !concept_value->is_object()) return false;
    bool found = false;
    ForEachObject(concept_value->get_object(), "coding",
                  [&](const json::object& coding, const std::string&) {
                    const json::value* s = coding.if_contains("system");
                    const json::value* c = coding.if_contains("code");
                    if (IsText(s, system) && IsText(c, code)) found = true;
                  });
    return found;
  }

  // object[outer][inner] as a number.
  static std::optional<double> NumberAt(const json::object& object, std::string_view outer,
                                        std::string_view inner) {
    const json::value* value = object.if_contains(outer);
    if (value == nullptr || !value->is_object()) return std::nullopt;
    const json::value* number = value->get_object().if_contains(inner);
    if (number == nullptr || !number->is_number()) return std::nullopt;
    return number->to_number<double>();
  }

  const ValidateOptions& options_;
  std::vector<Issue>& issues_;
  std::string resource_type_;
};

// Calls `visit` on every object holding a "reference" string, with its path, in document
// order. Reference is the only datatype with an element of that name in the served types.
template <typename Object, typename Visit>
void WalkReferences(Object& object, const std::string& path, int depth, Visit& visit) {
  if (depth > static_cast<int>(kMaxJsonDepth) + 2) return;
  if (auto* reference = object.if_contains("reference");
      reference != nullptr && reference->is_string()) {
    visit(object, path);
  }
  for (auto& member : object) {
    const std::string_view key = member.key();
    const std::string name = IsElementName(key) ? std::string(key) : std::string("<key>");
    auto& value = member.value();
    if (value.is_object()) {
      WalkReferences(value.get_object(), path + "." + name, depth + 1, visit);
    } else if (value.is_array()) {
      auto& items = value.get_array();
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].is_object()) {
          WalkReferences(items[i].get_object(), path + "." + name + "[" + std::to_string(i) + "]",
                         depth + 1, visit);
        }
      }
    }
  }
}

std::string RootName(const json::object& resource) {
  const json::value* type = resource.if_contains("resourceType");
  if (type != nullptr && type->is_string() && IsElementName(type->get_string())) {
    return std::string(type->get_string());
  }
  return "Resource";
}

const json::value* Member(const json::object& object, std::string_view key) {
  return object.if_contains(key);
}

std::optional<std::string> StringAt(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->get_string());
}

std::optional<std::string> StartOf(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_object()) return std::nullopt;
  return StringAt(value->get_object(), "start");
}

// The patient id of a "Patient/<id>" reference held by `object[key]`.
std::optional<std::string> ReferenceString(const json::object& object, std::string_view key) {
  const json::value* value = Member(object, key);
  if (value == nullptr || !value->is_object()) return std::nullopt;
  return StringAt(value->get_object(), "reference");
}

}  // namespace

std::span<const std::string_view> ServedResourceTypes() { return kServedTypes; }

bool IsServedType(std::string_view resource_type) {
  return std::find(kServedTypes.begin(), kServedTypes.end(), resource_type) != kServedTypes.end();
}

bool IsWritableType(std::string_view resource_type) {
  return IsServedType(resource_type) && resource_type != "AuditEvent";
}

bool IsPatientCompartmentType(std::string_view resource_type) {
  return IsServedType(resource_type) && resource_type != "Organization" &&
         resource_type != "Practitioner" && resource_type != "PractitionerRole";
}

std::vector<Issue> Validate(const json::object& resource, const ValidateOptions& options) {
  std::vector<Issue> issues;
  Validator(options, issues).Resource(resource);
  return issues;
}

std::vector<ReferenceAt> References(const json::object& resource) {
  std::vector<ReferenceAt> out;
  auto visit = [&](const json::object& object, const std::string& path) {
    out.push_back(ReferenceAt{path, std::string(object.at("reference").get_string())});
  };
  WalkReferences(resource, RootName(resource), 0, visit);
  return out;
}

void RewriteReferences(
    json::object& resource,
    const std::function<std::optional<std::string>(std::string_view reference)>& rewrite) {
  auto visit = [&](json::object& object, const std::string&) {
    json::value& reference = object.at("reference");
    if (auto replacement = rewrite(reference.get_string())) reference = *replacement;
  };
  WalkReferences(resource, RootName(resource), 0, visit);
}

FhirResult<std::string> PatientReferenceOf(const json::object& resource) {
  const std::string type = RootName(resource);
  if (type == "Patient") return StringAt(resource, "id").value_or("");
  if (!IsPatientCompartmentType(type)) return std::string();
  if (type == "AuditEvent") {
    // An event about a patient names it as an entity (or as the agent, when the patient acted).
    for (std::string_view list : {"entity", "agent"}) {
      const json::value* items = resource.if_contains(list);
      if (items == nullptr || !items->is_array()) continue;
      for (const json::value& item : items->get_array()) {
        if (!item.is_object()) continue;
        auto reference = ReferenceString(item.get_object(), list == "entity" ? "what" : "who");
        if (reference && reference->starts_with("Patient/")) return reference->substr(8);
      }
    }
    return std::string();
  }
  const std::string_view element = type == "AllergyIntolerance" ? "patient"
                                   : type == "Binary"           ? "securityContext"
                                                                : "subject";
  const std::string expression = type + "." + std::string(element);
  const std::optional<std::string> reference = ReferenceString(resource, element);
  if (!reference) {
    return Refuse(Failure::kInvalid, IssueType::kRequired, expression + ".reference",
                  "the resource must reference the patient it belongs to (Patient/<id>)");
  }
  if (reference->starts_with("urn:uuid:")) return *reference;  // resolved by the transaction
  const std::optional<LiteralReference> literal = SplitReference(*reference);
  if (literal && literal->type == "Patient") return std::string(literal->id);
  if (literal && type == "Binary" && literal->type == "DocumentReference") {
    return "DocumentReference/" + std::string(literal->id);
  }
  return Refuse(Failure::kInvalid, IssueType::kValue, expression + ".reference",
                type == "Binary"
                    ? "a Binary's securityContext must be a Patient or a DocumentReference"
                    : "medvault keeps only records that belong to a patient: reference a Patient");
}

std::optional<std::string> ClinicalDateOf(const json::object& resource) {
  const std::string type = RootName(resource);
  if (type == "Observation" || type == "DiagnosticReport") {
    if (auto date = StringAt(resource, "effectiveDateTime")) return date;
    if (auto date = StringAt(resource, "effectiveInstant")) return date;
    if (auto date = StartOf(resource, "effectivePeriod")) return date;
    return StringAt(resource, "issued");
  }
  if (type == "Encounter") return StartOf(resource, "period");
  if (type == "MedicationRequest") return StringAt(resource, "authoredOn");
  if (type == "Condition") {
    if (auto date = StringAt(resource, "recordedDate")) return date;
    return StringAt(resource, "onsetDateTime");
  }
  if (type == "AllergyIntolerance") return StringAt(resource, "recordedDate");
  if (type == "DocumentReference") return StringAt(resource, "date");
  return std::nullopt;
}

}  // namespace medvault::fhir
