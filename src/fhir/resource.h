// The FHIR R4 resources medvault serves: reading them from JSON, validating them before they
// are stored, and the facts about them the records layer needs (which patient a resource
// belongs to, which references it holds, its clinical date).
//
// Validation is structural and strict, so nothing invalid is ever stored: every element must
// be one the resource type defines (unknown elements are refused, `extension` and
// `modifierExtension` arrays of {url, value[x]} are accepted anywhere), with its datatype,
// cardinality (min, max) and, for required bindings, a code of its value set (status,
// gender, intent...). Primitive formats follow the FHIR R4 regexes (id, date, dateTime,
// instant, uri, code, decimal, base64Binary, positiveInt...). References are "Type/id" with a
// served type and a valid id, or "urn:uuid:<uuid>" when the caller allows it (inside a
// transaction). Domain checks: a NIR or INS on Patient.identifier (systems below) has a valid
// check key; a Coding of system http://loinc.org has a valid LOINC code (its mod-10 check
// digit); a Quantity of system http://unitsofmeasure.org has a syntactically valid UCUM code.
// Every issue found is returned (not only the first), each naming its element by FHIRPath
// with indexes ("Observation.code.coding[0].code"); a choice element is named by its JSON
// name ("Observation.valueQuantity.code"), or as "Observation.value[x]" when missing or given
// twice. Contained resources are refused (each resource is stored on its own).
//
// Thread-safe: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/outcome.h"

namespace medvault::fhir {

// The resource types of the REST API, in alphabetical order: AllergyIntolerance, AuditEvent,
// Binary, CareTeam, Condition, DiagnosticReport, DocumentReference, Encounter,
// MedicationRequest, Observation, Organization, Patient, Practitioner, PractitionerRole.
std::span<const std::string_view> ServedResourceTypes();
bool IsServedType(std::string_view resource_type);
// Types clients may write (every served type but AuditEvent, which comes from the audit log).
bool IsWritableType(std::string_view resource_type);
// Types whose resources belong to a patient (all but Organization, Practitioner,
// PractitionerRole; AuditEvent is the audit log's).
bool IsPatientCompartmentType(std::string_view resource_type);

// Identifier systems of French national identifiers (ANS, "Référentiel INS").
inline constexpr std::string_view kSystemInsNir = "urn:oid:1.2.250.1.213.1.4.8";   // NIR as INS
inline constexpr std::string_view kSystemInsNia = "urn:oid:1.2.250.1.213.1.4.9";   // NIA
inline constexpr std::string_view kSystemLoinc = "http://loinc.org";
inline constexpr std::string_view kSystemUcum = "http://unitsofmeasure.org";

// Limits of the JSON reader.
inline constexpr std::size_t kMaxJsonDepth = 32;
inline constexpr std::size_t kMaxResourceBytes = 16 * 1024 * 1024;

// Parses a body as JSON (UTF-8, no duplicate keys, at most kMaxJsonDepth nested levels and
// kMaxResourceBytes): kInvalid with an issue saying where (line/offset) it is malformed;
// kTooLarge beyond the size.
FhirResult<boost::json::value> ParseJson(std::string_view body);
// ParseJson, then: an object whose resourceType is a served type (kInvalid otherwise, naming
// resourceType).
FhirResult<boost::json::object> ParseResource(std::string_view body);

struct ValidateOptions {
  bool allow_urn_uuid_references = false;  // inside a transaction Bundle
  bool require_id = false;                 // an update names its id in the body
};
// Every issue of `resource` (an object with a served resourceType); empty when valid.
// Bundle is validated with ParseBundle (fhir/bundle.h), not here.
std::vector<Issue> Validate(const boost::json::object& resource, const ValidateOptions& options);

// A reference a resource holds, with where it is.
struct ReferenceAt {
  std::string expression;  // "Observation.subject"
  std::string reference;   // "Patient/123" or "urn:uuid:..."
};
// Every Reference.reference string in the resource, in document order.
std::vector<ReferenceAt> References(const boost::json::object& resource);
// Replaces every Reference.reference for which `rewrite` returns a value.
void RewriteReferences(
    boost::json::object& resource,
    const std::function<std::optional<std::string>(std::string_view reference)>& rewrite);

// The id of the patient a resource belongs to: a Patient's own id; for the other compartment
// types the Patient its subject or patient element references ("Patient/<id>"); empty for
// types outside the patient compartment. kInvalid (naming the element) when a compartment
// resource references no patient; a Binary's patient is its securityContext's (a Patient, or
// a DocumentReference whose patient the caller resolves: then this returns the reference).
// An AuditEvent's patient is the Patient of its entity.what (or agent.who), empty when it
// names none. A "urn:uuid:..." subject (inside a transaction) is returned as written, for the
// caller to resolve.
FhirResult<std::string> PatientReferenceOf(const boost::json::object& resource);

// The clinical date of a resource, for _sort=date and date searches, as written (a FHIR date,
// dateTime or instant): Observation effective[x] (start of a Period) or issued; DiagnosticReport
// effective[x] or issued; Encounter period.start; MedicationRequest authoredOn; Condition
// recordedDate or onsetDateTime; AllergyIntolerance recordedDate; DocumentReference date;
// nullopt when the resource has none.
std::optional<std::string> ClinicalDateOf(const boost::json::object& resource);

}  // namespace medvault::fhir
