#include "fhir/search_params.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>

#include "fhir/resource.h"

namespace medvault::fhir::search_internal {
namespace {

namespace json = boost::json;

// One row of the table. `targets` is a space-separated list of served types.
struct Entry {
  std::string_view type;
  std::string_view name;
  ParamType param_type;
  std::string_view expression;
  std::string_view blind_index_field = {};
  std::string_view documentation = {};
  std::string_view targets = {};
  bool code_only = false;
  Fold fold = Fold::kNone;
};

using enum ParamType;

// `targets` of a reference that may name any served type.
constexpr std::string_view kAnyServedType = "*";

// The blind-index fields of records/indexed_fields.h.
constexpr std::string_view kFamily = "patient.family.prefix";
constexpr std::string_view kGiven = "patient.given.prefix";

// clang-format off
constexpr std::array kEntries = {
  // Patient
  Entry{"Patient", "_id", kToken, "Patient.id", {}, "The logical id of the patient.", {}, true},
  Entry{"Patient", "_lastUpdated", kDate, "Patient.meta.lastUpdated", {}, "When the patient record last changed."},
  Entry{"Patient", "identifier", kToken, "Patient.identifier", "patient.identifier",
        "A patient identifier (INS-NIR or INS-NIA with their urn:oid systems, or a local number).",
        {}, false, Fold::kPatientIdentifier},
  Entry{"Patient", "family", kString, "Patient.name.family", kFamily,
        "The start of a family name, ignoring case and accents (a 1- or 2-letter value matches that whole name).",
        {}, false, Fold::kName},
  Entry{"Patient", "given", kString, "Patient.name.given", kGiven,
        "The start of a given name, ignoring case and accents (a 1- or 2-letter value matches that whole name).",
        {}, false, Fold::kName},
  Entry{"Patient", "name", kString, "Patient.name.family | Patient.name.given", kFamily,
        "The start of a family or given name, ignoring case and accents.", {}, false, Fold::kName},
  Entry{"Patient", "birthdate", kDate, "Patient.birthDate", "patient.birthdate",
        "The date of birth; across patients a full date (YYYY-MM-DD) without prefix."},
  Entry{"Patient", "gender", kToken, "Patient.gender", {},
        "The administrative gender; only within one patient (_id).", {}, true},
  Entry{"Patient", "phone", kToken, "Patient.telecom.where(system='phone')", "patient.phone",
        "A telephone number, in any usual French or international spelling.", {}, true, Fold::kPhone},
  Entry{"Patient", "email", kToken, "Patient.telecom.where(system='email')", "patient.email",
        "An email address, ignoring case.", {}, true, Fold::kEmail},

  // Observation
  Entry{"Observation", "_id", kToken, "Observation.id", {}, "The logical id of the observation.", {}, true},
  Entry{"Observation", "_lastUpdated", kDate, "Observation.meta.lastUpdated", {}, "When the observation last changed."},
  Entry{"Observation", "patient", kReference, "Observation.subject.where(resolve() is Patient)", {},
        "The patient the observation is about.", "Patient"},
  Entry{"Observation", "subject", kReference, "Observation.subject", {},
        "The subject of the observation.", "Patient"},
  Entry{"Observation", "code", kToken, "Observation.code", {}, "The code of the observation (LOINC)."},
  Entry{"Observation", "category", kToken, "Observation.category", {}, "The category of the observation."},
  Entry{"Observation", "date", kDate, "Observation.effective", {},
        "When the observation was made (effective[x]), as a range with its precision."},
  Entry{"Observation", "status", kToken, "Observation.status", {}, "The status of the observation.", {}, true},
  Entry{"Observation", "based-on", kReference, "Observation.basedOn", {},
        "The request the observation fulfils.", "MedicationRequest"},

  // DiagnosticReport
  Entry{"DiagnosticReport", "_id", kToken, "DiagnosticReport.id", {}, "The logical id of the report.", {}, true},
  Entry{"DiagnosticReport", "_lastUpdated", kDate, "DiagnosticReport.meta.lastUpdated", {}, "When the report last changed."},
  Entry{"DiagnosticReport", "patient", kReference, "DiagnosticReport.subject.where(resolve() is Patient)", {},
        "The patient the report is about.", "Patient"},
  Entry{"DiagnosticReport", "subject", kReference, "DiagnosticReport.subject", {},
        "The subject of the report.", "Patient"},
  Entry{"DiagnosticReport", "code", kToken, "DiagnosticReport.code", {}, "The code of the report."},
  Entry{"DiagnosticReport", "category", kToken, "DiagnosticReport.category", {}, "The category of the report."},
  Entry{"DiagnosticReport", "date", kDate, "DiagnosticReport.effective", {},
        "The clinically relevant time of the report (effective[x])."},
  Entry{"DiagnosticReport", "status", kToken, "DiagnosticReport.status", "report.status",
        "The status of the report (usable across patients: the lab's worklist).", {}, true},
  Entry{"DiagnosticReport", "based-on", kReference, "DiagnosticReport.basedOn", {},
        "The request the report fulfils.", "MedicationRequest"},
  Entry{"DiagnosticReport", "identifier", kToken, "DiagnosticReport.identifier", "report.accession",
        "The lab's accession number of the report (usable across patients).", {}, false, Fold::kAccession},
  Entry{"DiagnosticReport", "result", kReference, "DiagnosticReport.result", {},
        "An observation the report includes.", "Observation"},
  Entry{"DiagnosticReport", "issued", kDate, "DiagnosticReport.issued", {}, "When the report was issued."},

  // Encounter
  Entry{"Encounter", "_id", kToken, "Encounter.id", {}, "The logical id of the encounter.", {}, true},
  Entry{"Encounter", "_lastUpdated", kDate, "Encounter.meta.lastUpdated", {}, "When the encounter last changed."},
  Entry{"Encounter", "patient", kReference, "Encounter.subject.where(resolve() is Patient)", {},
        "The patient of the encounter.", "Patient"},
  Entry{"Encounter", "subject", kReference, "Encounter.subject", {}, "The subject of the encounter.", "Patient"},
  Entry{"Encounter", "status", kToken, "Encounter.status", {}, "The status of the encounter.", {}, true},
  Entry{"Encounter", "date", kDate, "Encounter.period", {}, "When the encounter took place (its period)."},
  Entry{"Encounter", "class", kToken, "Encounter.class", {}, "The class of the encounter (ambulatory, inpatient...)."},
  Entry{"Encounter", "type", kToken, "Encounter.type", {}, "The type of the encounter."},

  // Condition
  Entry{"Condition", "_id", kToken, "Condition.id", {}, "The logical id of the condition.", {}, true},
  Entry{"Condition", "_lastUpdated", kDate, "Condition.meta.lastUpdated", {}, "When the condition last changed."},
  Entry{"Condition", "patient", kReference, "Condition.subject.where(resolve() is Patient)", {},
        "The patient who has the condition.", "Patient"},
  Entry{"Condition", "subject", kReference, "Condition.subject", {}, "The subject of the condition.", "Patient"},
  Entry{"Condition", "code", kToken, "Condition.code", {}, "The code of the condition."},
  Entry{"Condition", "clinical-status", kToken, "Condition.clinicalStatus", {},
        "The clinical status (active, resolved...)."},
  Entry{"Condition", "category", kToken, "Condition.category", {}, "The category of the condition."},
  Entry{"Condition", "onset-date", kDate, "Condition.onset.as(dateTime) | Condition.onset.as(Period)", {},
        "When the condition began (onsetDateTime or onsetPeriod)."},
  Entry{"Condition", "recorded-date", kDate, "Condition.recordedDate", {}, "When the condition was recorded."},

  // AllergyIntolerance
  Entry{"AllergyIntolerance", "_id", kToken, "AllergyIntolerance.id", {}, "The logical id of the allergy.", {}, true},
  Entry{"AllergyIntolerance", "_lastUpdated", kDate, "AllergyIntolerance.meta.lastUpdated", {}, "When the allergy last changed."},
  Entry{"AllergyIntolerance", "patient", kReference, "AllergyIntolerance.patient", {},
        "The patient who has the allergy.", "Patient"},
  Entry{"AllergyIntolerance", "code", kToken, "AllergyIntolerance.code | AllergyIntolerance.reaction.substance", {},
        "The substance of the allergy or of one of its reactions."},
  Entry{"AllergyIntolerance", "clinical-status", kToken, "AllergyIntolerance.clinicalStatus", {},
        "The clinical status (active, inactive, resolved)."},
  Entry{"AllergyIntolerance", "criticality", kToken, "AllergyIntolerance.criticality", {},
        "The criticality (low, high, unable-to-assess).", {}, true},
  Entry{"AllergyIntolerance", "date", kDate, "AllergyIntolerance.recordedDate", {}, "When the allergy was recorded."},

  // MedicationRequest
  Entry{"MedicationRequest", "_id", kToken, "MedicationRequest.id", {}, "The logical id of the prescription.", {}, true},
  Entry{"MedicationRequest", "_lastUpdated", kDate, "MedicationRequest.meta.lastUpdated", {}, "When the prescription last changed."},
  Entry{"MedicationRequest", "patient", kReference, "MedicationRequest.subject.where(resolve() is Patient)", {},
        "The patient the prescription is for.", "Patient"},
  Entry{"MedicationRequest", "subject", kReference, "MedicationRequest.subject", {},
        "The subject of the prescription.", "Patient"},
  Entry{"MedicationRequest", "status", kToken, "MedicationRequest.status", {}, "The status of the prescription.", {}, true},
  Entry{"MedicationRequest", "intent", kToken, "MedicationRequest.intent", {}, "The intent of the prescription.", {}, true},
  Entry{"MedicationRequest", "authoredon", kDate, "MedicationRequest.authoredOn", {}, "When the prescription was written."},
  Entry{"MedicationRequest", "code", kToken, "MedicationRequest.medication.as(CodeableConcept)", {},
        "The code of the medication (medicationCodeableConcept)."},

  // DocumentReference
  Entry{"DocumentReference", "_id", kToken, "DocumentReference.id", {}, "The logical id of the document.", {}, true},
  Entry{"DocumentReference", "_lastUpdated", kDate, "DocumentReference.meta.lastUpdated", {}, "When the document last changed."},
  Entry{"DocumentReference", "patient", kReference, "DocumentReference.subject.where(resolve() is Patient)", {},
        "The patient the document is about.", "Patient"},
  Entry{"DocumentReference", "subject", kReference, "DocumentReference.subject", {},
        "The subject of the document.", "Patient Practitioner"},
  Entry{"DocumentReference", "type", kToken, "DocumentReference.type", {}, "The kind of document."},
  Entry{"DocumentReference", "category", kToken, "DocumentReference.category", {}, "The category of the document."},
  Entry{"DocumentReference", "date", kDate, "DocumentReference.date", {}, "When the document reference was created."},
  Entry{"DocumentReference", "status", kToken, "DocumentReference.status", {}, "The status of the document reference.", {}, true},

  // CareTeam
  Entry{"CareTeam", "_id", kToken, "CareTeam.id", {}, "The logical id of the care team.", {}, true},
  Entry{"CareTeam", "_lastUpdated", kDate, "CareTeam.meta.lastUpdated", {}, "When the care team last changed."},
  Entry{"CareTeam", "patient", kReference, "CareTeam.subject.where(resolve() is Patient)", {},
        "The patient the care team looks after.", "Patient"},
  Entry{"CareTeam", "subject", kReference, "CareTeam.subject", {}, "The subject of the care team.", "Patient"},
  Entry{"CareTeam", "status", kToken, "CareTeam.status", {}, "The status of the care team.", {}, true},
  Entry{"CareTeam", "participant", kReference, "CareTeam.participant.member", {},
        "A member of the care team.", "Practitioner PractitionerRole Patient Organization CareTeam"},

  // Practitioner
  Entry{"Practitioner", "_id", kToken, "Practitioner.id", {}, "The logical id of the practitioner.", {}, true},
  Entry{"Practitioner", "_lastUpdated", kDate, "Practitioner.meta.lastUpdated", {}, "When the practitioner last changed."},
  Entry{"Practitioner", "identifier", kToken, "Practitioner.identifier", {}, "A practitioner identifier (RPPS...)."},
  Entry{"Practitioner", "family", kString, "Practitioner.name.family", {},
        "The start of a family name, ignoring case and accents.", {}, false, Fold::kName},
  Entry{"Practitioner", "given", kString, "Practitioner.name.given", {},
        "The start of a given name, ignoring case and accents.", {}, false, Fold::kName},
  Entry{"Practitioner", "name", kString, "Practitioner.name.family | Practitioner.name.given", {},
        "The start of a family or given name, ignoring case and accents.", {}, false, Fold::kName},

  // PractitionerRole
  Entry{"PractitionerRole", "_id", kToken, "PractitionerRole.id", {}, "The logical id of the role.", {}, true},
  Entry{"PractitionerRole", "_lastUpdated", kDate, "PractitionerRole.meta.lastUpdated", {}, "When the role last changed."},
  Entry{"PractitionerRole", "practitioner", kReference, "PractitionerRole.practitioner", {},
        "The practitioner who holds the role.", "Practitioner"},
  Entry{"PractitionerRole", "organization", kReference, "PractitionerRole.organization", {},
        "The organization where the role is held.", "Organization"},
  Entry{"PractitionerRole", "role", kToken, "PractitionerRole.code", {}, "The role held."},

  // Organization
  Entry{"Organization", "_id", kToken, "Organization.id", {}, "The logical id of the organization.", {}, true},
  Entry{"Organization", "_lastUpdated", kDate, "Organization.meta.lastUpdated", {}, "When the organization last changed."},
  Entry{"Organization", "identifier", kToken, "Organization.identifier", {}, "An organization identifier (FINESS, SIRET...)."},
  Entry{"Organization", "name", kString, "Organization.name | Organization.alias", {},
        "The start of the name or an alias, ignoring case and accents.", {}, false, Fold::kName},
  Entry{"Organization", "type", kToken, "Organization.type", {}, "The kind of organization."},

  // AuditEvent (served from the audit log: the records layer runs these)
  Entry{"AuditEvent", "_id", kToken, "AuditEvent.id", {}, "The logical id of the audit event.", {}, true},
  Entry{"AuditEvent", "_lastUpdated", kDate, "AuditEvent.meta.lastUpdated", {}, "When the audit event was written."},
  Entry{"AuditEvent", "patient", kReference,
        "AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)", {},
        "The patient whose record was accessed.", "Patient"},
  Entry{"AuditEvent", "agent", kReference, "AuditEvent.agent.who", {},
        "Who accessed the record.", "Practitioner PractitionerRole Organization Patient"},
  Entry{"AuditEvent", "date", kDate, "AuditEvent.recorded", {}, "When the event was recorded."},
  Entry{"AuditEvent", "action", kToken, "AuditEvent.action", {}, "The action (C, R, U, D, E).", {}, true},
  Entry{"AuditEvent", "type", kToken, "AuditEvent.type", {}, "The type of event (rest, user authentication)."},
  Entry{"AuditEvent", "entity", kReference, "AuditEvent.entity.what", {}, "A resource the event is about.",
        kAnyServedType},
};
// clang-format on

std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    std::string_view word = text.substr(0, space);
    if (!word.empty()) words.push_back(word);
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return words;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Compiles one path of the subset ("Observation.subject.where(resolve() is Patient)"). The
// table is ours, so a malformed expression is a programming error caught by the tests
// (every parameter is evaluated there); it compiles to a path that selects nothing.
Path CompilePath(std::string_view text) {
  Path path;
  std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return path;
  text.remove_prefix(dot + 1);  // the resource type
  while (!text.empty()) {
    std::string_view step;
    if (text.starts_with("where(") || text.starts_with("as(")) {
      std::size_t close = text.find(')', text.starts_with("where(resolve()") ? 15 : 0);
      step = text.substr(0, close + 1);
      text.remove_prefix(std::min(text.size(), close + 1));
    } else {
      dot = text.find('.');
      step = text.substr(0, dot);
      text.remove_prefix(dot == std::string_view::npos ? text.size() : dot);
    }
    if (!text.empty() && text.front() == '.') text.remove_prefix(1);
    if (step.starts_with("where(resolve() is ")) {
      std::string_view type = step.substr(19, step.size() - 20);
      path.push_back({Step::Kind::kWhereResolveIs, std::string(type), {}, false});
    } else if (step.starts_with("where(")) {
      std::string_view inner = step.substr(6, step.size() - 7);  // system='phone'
      std::size_t equals = inner.find('=');
      std::string_view field = inner.substr(0, equals);
      std::string_view literal = inner.substr(equals + 2, inner.size() - equals - 3);
      path.push_back({Step::Kind::kWhereEquals, std::string(field), std::string(literal), false});
    } else if (step.starts_with("as(") && !path.empty()) {
      std::string type(step.substr(3, step.size() - 4));
      type[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(type[0])));
      path.back().name += type;
      path.back().exact = true;
    } else {
      path.push_back({Step::Kind::kChild, std::string(step), {}, false});
    }
  }
  return path;
}

std::vector<ParamRule> BuildRules() {
  std::vector<ParamRule> rules;
  rules.reserve(kEntries.size());
  for (const Entry& entry : kEntries) {
    ParamRule rule;
    rule.param = SearchParam{
        entry.type,         entry.name, entry.param_type, entry.expression, entry.blind_index_field,
        entry.documentation};
    std::string_view rest = entry.expression;
    while (!rest.empty()) {
      std::size_t bar = rest.find('|');
      rule.paths.push_back(CompilePath(Trim(rest.substr(0, bar))));
      rest.remove_prefix(bar == std::string_view::npos ? rest.size() : bar + 1);
    }
    if (entry.targets == kAnyServedType) {
      rule.targets.assign(ServedResourceTypes().begin(), ServedResourceTypes().end());
    } else {
      rule.targets = SplitWords(entry.targets);
    }
    rule.code_only = entry.code_only;
    rule.fold = entry.fold;
    rules.push_back(std::move(rule));
  }
  return rules;
}

const std::vector<ParamRule>& Table() {
  static const std::vector<ParamRule> rules = BuildRules();
  return rules;
}

// The same parameters as one contiguous array, for SearchParams(): index i is Table()[i].
const std::vector<SearchParam>& Params() {
  static const std::vector<SearchParam> params = [] {
    std::vector<SearchParam> all;
    for (const ParamRule& rule : Table()) all.push_back(rule.param);
    return all;
  }();
  return params;
}

// The datatypes a FHIR R4 choice element [x] can take, as they end its JSON name.
constexpr std::array<std::string_view, 50> kChoiceTypes = {"Address",
                                                           "Age",
                                                           "Annotation",
                                                           "Attachment",
                                                           "Base64Binary",
                                                           "Boolean",
                                                           "Canonical",
                                                           "Code",
                                                           "CodeableConcept",
                                                           "Coding",
                                                           "ContactDetail",
                                                           "ContactPoint",
                                                           "Contributor",
                                                           "Count",
                                                           "DataRequirement",
                                                           "Date",
                                                           "DateTime",
                                                           "Decimal",
                                                           "Distance",
                                                           "Dosage",
                                                           "Duration",
                                                           "Expression",
                                                           "HumanName",
                                                           "Id",
                                                           "Identifier",
                                                           "Instant",
                                                           "Integer",
                                                           "Markdown",
                                                           "Meta",
                                                           "Money",
                                                           "Oid",
                                                           "ParameterDefinition",
                                                           "Period",
                                                           "PositiveInt",
                                                           "Quantity",
                                                           "Range",
                                                           "Ratio",
                                                           "Reference",
                                                           "RelatedArtifact",
                                                           "SampledData",
                                                           "Signature",
                                                           "String",
                                                           "Time",
                                                           "Timing",
                                                           "TriggerDefinition",
                                                           "UnsignedInt",
                                                           "Uri",
                                                           "Url",
                                                           "UsageContext",
                                                           "Uuid"};

}  // namespace

bool IsChoiceOf(std::string_view key, std::string_view base) {
  return key.size() > base.size() && key.starts_with(base) &&
         std::ranges::find(kChoiceTypes, key.substr(base.size())) != kChoiceTypes.end();
}

namespace {

void PushFlat(const json::value& value, std::vector<const json::value*>& out) {
  if (value.is_array()) {
    for (const json::value& element : value.get_array()) out.push_back(&element);
  } else {
    out.push_back(&value);
  }
}

}  // namespace

std::span<const ParamRule> Rules() { return Table(); }
std::span<const SearchParam> AllParams() { return Params(); }

const ParamRule& RuleOf(const SearchParam& param) {
  const auto& params = Params();
  return Table()[static_cast<std::size_t>(&param - params.data())];
}

std::vector<const json::value*> EvaluatePaths(const std::vector<Path>& paths,
                                              const json::object& resource) {
  std::vector<const json::value*> all;
  for (const Path& path : paths) {
    std::vector<const json::value*> current;
    bool at_root = true;
    for (const Step& step : path) {
      std::vector<const json::value*> next;
      auto visit = [&](const json::object& object) {
        switch (step.kind) {
          case Step::Kind::kChild:
            if (const json::value* found = object.if_contains(step.name)) {
              PushFlat(*found, next);
            } else if (!step.exact) {
              for (const auto& member : object) {
                if (IsChoiceOf(member.key(), step.name)) PushFlat(member.value(), next);
              }
            }
            break;
          default:
            break;
        }
      };
      if (at_root) {
        visit(resource);
        at_root = false;
      } else if (step.kind == Step::Kind::kChild) {
        for (const json::value* value : current) {
          if (value->is_object()) visit(value->get_object());
        }
      } else {
        for (const json::value* value : current) {
          if (!value->is_object()) continue;
          const json::object& object = value->get_object();
          const std::string_view field =
              step.kind == Step::Kind::kWhereResolveIs ? std::string_view("reference") : step.name;
          const json::value* found = object.if_contains(field);
          if (found == nullptr || !found->is_string()) continue;
          std::string_view text = found->get_string();
          bool keep = step.kind == Step::Kind::kWhereEquals
                          ? text == step.literal
                          : text.starts_with(step.name) && text.size() > step.name.size() &&
                                text[step.name.size()] == '/';
          if (keep) next.push_back(value);
        }
      }
      current = std::move(next);
    }
    all.insert(all.end(), current.begin(), current.end());
  }
  return all;
}

bool HasClinicalDate(std::string_view resource_type) {
  static constexpr std::array<std::string_view, 7> kTypes = {
      "AllergyIntolerance", "Condition",         "DiagnosticReport", "DocumentReference",
      "Encounter",          "MedicationRequest", "Observation"};
  return std::ranges::find(kTypes, resource_type) != kTypes.end();
}

bool IsCompartmentType(std::string_view resource_type) {
  return IsPatientCompartmentType(resource_type) && resource_type != "AuditEvent";
}

std::vector<std::string_view> IncludesOf(std::string_view resource_type) {
  if (resource_type == "DiagnosticReport") {
    return {"DiagnosticReport:result", "DiagnosticReport:subject", "DiagnosticReport:patient"};
  }
  if (resource_type == "Observation") return {"Observation:subject", "Observation:patient"};
  return {};
}

}  // namespace medvault::fhir::search_internal
