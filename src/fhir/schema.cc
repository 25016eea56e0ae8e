#include "fhir/schema.h"

namespace medvault::fhir::schema {

namespace {

// --- Required value sets ----------------------------------------------------------------

constexpr std::string_view kGenderCodes[] = {"male", "female", "other", "unknown"};
constexpr ValueSet kGender{"administrative-gender", "", kGenderCodes};

constexpr std::string_view kIdentifierUseCodes[] = {"usual", "official", "temp", "secondary",
                                                    "old"};
constexpr ValueSet kIdentifierUse{"identifier-use", "", kIdentifierUseCodes};

constexpr std::string_view kNameUseCodes[] = {"usual",     "official", "temp",  "nickname",
                                              "anonymous", "old",      "maiden"};
constexpr ValueSet kNameUse{"name-use", "", kNameUseCodes};

constexpr std::string_view kContactPointSystemCodes[] = {"phone", "fax", "email", "pager",
                                                         "url",   "sms", "other"};
constexpr ValueSet kContactPointSystem{"contact-point-system", "", kContactPointSystemCodes};

constexpr std::string_view kContactPointUseCodes[] = {"home", "work", "temp", "old", "mobile"};
constexpr ValueSet kContactPointUse{"contact-point-use", "", kContactPointUseCodes};

constexpr std::string_view kAddressUseCodes[] = {"home", "work", "temp", "old", "billing"};
constexpr ValueSet kAddressUse{"address-use", "", kAddressUseCodes};

constexpr std::string_view kAddressTypeCodes[] = {"postal", "physical", "both"};
constexpr ValueSet kAddressType{"address-type", "", kAddressTypeCodes};

constexpr std::string_view kComparatorCodes[] = {"<", "<=", ">=", ">"};
constexpr ValueSet kComparator{"quantity-comparator", "", kComparatorCodes};

constexpr std::string_view kNarrativeStatusCodes[] = {"generated", "extensions", "additional",
                                                      "empty"};
constexpr ValueSet kNarrativeStatus{"narrative-status", "", kNarrativeStatusCodes};

constexpr std::string_view kUnitsOfTimeCodes[] = {"s", "min", "h", "d", "wk", "mo", "a"};
constexpr ValueSet kUnitsOfTime{"units-of-time", "", kUnitsOfTimeCodes};

constexpr std::string_view kDaysOfWeekCodes[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr ValueSet kDaysOfWeek{"days-of-week", "", kDaysOfWeekCodes};

constexpr std::string_view kEventTimingCodes[] = {
    "MORN", "MORN.early", "MORN.late", "NOON",  "AFT", "AFT.early", "AFT.late",
    "EVE",  "EVE.early",  "EVE.late",  "NIGHT", "PHS", "HS",        "WAKE",
    "C",    "CM",         "CD",        "CV",    "AC",  "ACM",       "ACD",
    "ACV",  "PC",         "PCM",       "PCD",   "PCV"};
constexpr ValueSet kEventTiming{"event-timing", "", kEventTimingCodes};

constexpr std::string_view kLinkTypeCodes[] = {"replaced-by", "replaces", "refer", "seealso"};
constexpr ValueSet kLinkType{"link-type", "", kLinkTypeCodes};

constexpr std::string_view kObservationStatusCodes[] = {
    "registered", "preliminary",      "final",  "amended", "corrected",
    "cancelled",  "entered-in-error", "unknown"};
constexpr ValueSet kObservationStatus{"observation-status", "", kObservationStatusCodes};

constexpr std::string_view kReportStatusCodes[] = {
    "registered", "partial",   "preliminary",      "final",  "amended", "corrected",
    "appended",   "cancelled", "entered-in-error", "unknown"};
constexpr ValueSet kReportStatus{"diagnostic-report-status", "", kReportStatusCodes};

constexpr std::string_view kEncounterStatusCodes[] = {"planned",     "arrived",          "triaged",
                                                      "in-progress", "onleave",          "finished",
                                                      "cancelled",   "entered-in-error", "unknown"};
constexpr ValueSet kEncounterStatus{"encounter-status", "", kEncounterStatusCodes};

constexpr std::string_view kEncounterLocationStatusCodes[] = {"planned", "active", "reserved",
                                                              "completed"};
constexpr ValueSet kEncounterLocationStatus{"encounter-location-status", "",
                                            kEncounterLocationStatusCodes};

constexpr std::string_view kMedicationRequestStatusCodes[] = {
    "active",           "on-hold", "cancelled", "completed",
    "entered-in-error", "stopped", "draft",     "unknown"};
constexpr ValueSet kMedicationRequestStatus{"medicationrequest-status", "",
                                            kMedicationRequestStatusCodes};

constexpr std::string_view kMedicationRequestIntentCodes[] = {
    "proposal",     "plan",         "order",          "original-order",
    "reflex-order", "filler-order", "instance-order", "option"};
constexpr ValueSet kMedicationRequestIntent{"medicationrequest-intent", "",
                                            kMedicationRequestIntentCodes};

constexpr std::string_view kRequestPriorityCodes[] = {"routine", "urgent", "asap", "stat"};
constexpr ValueSet kRequestPriority{"request-priority", "", kRequestPriorityCodes};

constexpr std::string_view kConditionClinicalCodes[] = {"active",   "recurrence", "relapse",
                                                        "inactive", "remission",  "resolved"};
constexpr ValueSet kConditionClinical{"condition-clinical",
                                      "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                      kConditionClinicalCodes};

constexpr std::string_view kConditionVerificationCodes[] = {
    "unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"};
constexpr ValueSet kConditionVerification{
    "condition-ver-status", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
    kConditionVerificationCodes};

constexpr std::string_view kAllergyClinicalCodes[] = {"active", "inactive", "resolved"};
constexpr ValueSet kAllergyClinical{
    "allergyintolerance-clinical",
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", kAllergyClinicalCodes};

constexpr std::string_view kAllergyVerificationCodes[] = {"unconfirmed", "confirmed", "refuted",
                                                          "entered-in-error"};
constexpr ValueSet kAllergyVerification{
    "allergyintolerance-verification",
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
    kAllergyVerificationCodes};

constexpr std::string_view kAllergyTypeCodes[] = {"allergy", "intolerance"};
constexpr ValueSet kAllergyType{"allergy-intolerance-type", "", kAllergyTypeCodes};

constexpr std::string_view kAllergyCategoryCodes[] = {"food", "medication", "environment",
                                                      "biologic"};
constexpr ValueSet kAllergyCategory{"allergy-intolerance-category", "", kAllergyCategoryCodes};

constexpr std::string_view kAllergyCriticalityCodes[] = {"low", "high", "unable-to-assess"};
constexpr ValueSet kAllergyCriticality{"allergy-intolerance-criticality", "",
                                       kAllergyCriticalityCodes};

constexpr std::string_view kReactionSeverityCodes[] = {"mild", "moderate", "severe"};
constexpr ValueSet kReactionSeverity{"reaction-event-severity", "", kReactionSeverityCodes};

constexpr std::string_view kDocumentReferenceStatusCodes[] = {"current", "superseded",
                                                              "entered-in-error"};
constexpr ValueSet kDocumentReferenceStatus{"document-reference-status", "",
                                            kDocumentReferenceStatusCodes};

constexpr std::string_view kCompositionStatusCodes[] = {"preliminary", "final", "amended",
                                                        "entered-in-error"};
constexpr ValueSet kCompositionStatus{"composition-status", "", kCompositionStatusCodes};

constexpr std::string_view kDocumentRelationshipCodes[] = {"replaces", "transforms", "signs",
                                                           "appends"};
constexpr ValueSet kDocumentRelationship{"document-relationship-type", "",
                                         kDocumentRelationshipCodes};

constexpr std::string_view kCareTeamStatusCodes[] = {"proposed", "active", "suspended", "inactive",
                                                     "entered-in-error"};
constexpr ValueSet kCareTeamStatus{"care-team-status", "", kCareTeamStatusCodes};

constexpr std::string_view kAuditActionCodes[] = {"C", "R", "U", "D", "E"};
constexpr ValueSet kAuditAction{"audit-event-action", "", kAuditActionCodes};

constexpr std::string_view kAuditOutcomeCodes[] = {"0", "4", "8", "12"};
constexpr ValueSet kAuditOutcome{"audit-event-outcome", "", kAuditOutcomeCodes};

constexpr std::string_view kNetworkTypeCodes[] = {"1", "2", "3", "4", "5"};
constexpr ValueSet kNetworkType{"network-type", "", kNetworkTypeCodes};

// --- Complex datatypes ------------------------------------------------------------------

constexpr Element kCoding[] = {
    {"system", "uri"},     {"version", "string"},       {"code", "code"},
    {"display", "string"}, {"userSelected", "boolean"},
};

constexpr Element kCodeableConcept[] = {
    {"coding", "Coding", 0, kMany},
    {"text", "string"},
};

constexpr Element kPeriod[] = {
    {"start", "dateTime"},
    {"end", "dateTime"},
};

constexpr Element kReference[] = {
    {"reference", "string"},
    {"type", "uri"},
    {"identifier", "Identifier"},
    {"display", "string"},
};

constexpr Element kIdentifier[] = {
    {"use", "code", 0, 1, &kIdentifierUse},
    {"type", "CodeableConcept"},
    {"system", "uri"},
    {"value", "string"},
    {"period", "Period"},
    {"assigner", "Reference", 0, 1, nullptr, "Organization"},
};

constexpr Element kHumanName[] = {
    {"use", "code", 0, 1, &kNameUse},
    {"text", "string"},
    {"family", "string"},
    {"given", "string", 0, kMany},
    {"prefix", "string", 0, kMany},
    {"suffix", "string", 0, kMany},
    {"period", "Period"},
};

constexpr Element kContactPoint[] = {
    {"system", "code", 0, 1, &kContactPointSystem},
    {"value", "string"},
    {"use", "code", 0, 1, &kContactPointUse},
    {"rank", "positiveInt"},
    {"period", "Period"},
};

constexpr Element kAddress[] = {
    {"use", "code", 0, 1, &kAddressUse},
    {"type", "code", 0, 1, &kAddressType},
    {"text", "string"},
    {"line", "string", 0, kMany},
    {"city", "string"},
    {"district", "string"},
    {"state", "string"},
    {"postalCode", "string"},
    {"country", "string"},
    {"period", "Period"},
};

// Quantity, and its profiles Age, Count, Distance and Duration (same elements).
constexpr Element kQuantity[] = {
    {"value", "decimal"}, {"comparator", "code", 0, 1, &kComparator},
    {"unit", "string"},   {"system", "uri"},
    {"code", "code"},
};

// SimpleQuantity: a Quantity without a comparator.
constexpr Element kSimpleQuantity[] = {
    {"value", "decimal"},
    {"unit", "string"},
    {"system", "uri"},
    {"code", "code"},
};

constexpr Element kRange[] = {
    {"low", "SimpleQuantity"},
    {"high", "SimpleQuantity"},
};

constexpr Element kRatio[] = {
    {"numerator", "Quantity"},
    {"denominator", "Quantity"},
};

constexpr Element kSampledData[] = {
    {"origin", "SimpleQuantity", 1, 1},
    {"period", "decimal", 1, 1},
    {"factor", "decimal"},
    {"lowerLimit", "decimal"},
    {"upperLimit", "decimal"},
    {"dimensions", "positiveInt", 1, 1},
    {"data", "string"},
};

constexpr Element kAttachment[] = {
    {"contentType", "code"},  // a MIME type, checked by the validator
    {"language", "code"},     {"data", "base64Binary"}, {"url", "url"},
    {"size", "unsignedInt"},  {"hash", "base64Binary"}, {"title", "string"},
    {"creation", "dateTime"},
};

constexpr Element kAnnotation[] = {
    {"author[x]", "Reference|string", 0, 1, nullptr,
     "Practitioner|Patient|RelatedPerson|Organization"},
    {"time", "dateTime"},
    {"text", "markdown", 1, 1},
};

constexpr Element kMeta[] = {
    {"versionId", "id"},
    {"lastUpdated", "instant"},
    {"source", "uri"},
    {"profile", "canonical", 0, kMany},
    {"security", "Coding", 0, kMany},
    {"tag", "Coding", 0, kMany},
};

constexpr Element kNarrative[] = {
    {"status", "code", 1, 1, &kNarrativeStatus},
    {"div", "xhtml", 1, 1},
};

constexpr Element kTimingRepeat[] = {
    {"bounds[x]", "Duration|Range|Period"},
    {"count", "positiveInt"},
    {"countMax", "positiveInt"},
    {"duration", "decimal"},
    {"durationMax", "decimal"},
    {"durationUnit", "code", 0, 1, &kUnitsOfTime},
    {"frequency", "positiveInt"},
    {"frequencyMax", "positiveInt"},
    {"period", "decimal"},
    {"periodMax", "decimal"},
    {"periodUnit", "code", 0, 1, &kUnitsOfTime},
    {"dayOfWeek", "code", 0, kMany, &kDaysOfWeek},
    {"timeOfDay", "time", 0, kMany},
    {"when", "code", 0, kMany, &kEventTiming},
    {"offset", "unsignedInt"},
};

constexpr Element kTiming[] = {
    {"event", "dateTime", 0, kMany},
    {"repeat", "", 0, 1, nullptr, {}, kTimingRepeat},
    {"code", "CodeableConcept"},
};

constexpr Element kDoseAndRate[] = {
    {"type", "CodeableConcept"},
    {"dose[x]", "Range|SimpleQuantity"},
    {"rate[x]", "Ratio|Range|SimpleQuantity"},
};

constexpr Element kDosage[] = {
    {"sequence", "integer"},
    {"text", "string"},
    {"additionalInstruction", "CodeableConcept", 0, kMany},
    {"patientInstruction", "string"},
    {"timing", "Timing"},
    {"asNeeded[x]", "boolean|CodeableConcept"},
    {"site", "CodeableConcept"},
    {"route", "CodeableConcept"},
    {"method", "CodeableConcept"},
    {"doseAndRate", "", 0, kMany, nullptr, {}, kDoseAndRate},
    {"maxDosePerPeriod", "Ratio"},
    {"maxDosePerAdministration", "SimpleQuantity"},
    {"maxDosePerLifetime", "SimpleQuantity"},
};

constexpr TypeDefinition kDatatypes[] = {
    {"Address", kAddress},
    {"Age", kQuantity},
    {"Annotation", kAnnotation},
    {"Attachment", kAttachment},
    {"CodeableConcept", kCodeableConcept},
    {"Coding", kCoding},
    {"ContactPoint", kContactPoint},
    {"Count", kQuantity},
    {"Distance", kQuantity},
    {"Dosage", kDosage},
    {"Duration", kQuantity},
    {"HumanName", kHumanName},
    {"Identifier", kIdentifier},
    {"Meta", kMeta},
    {"Narrative", kNarrative},
    {"Period", kPeriod},
    {"Quantity", kQuantity},
    {"Range", kRange},
    {"Ratio", kRatio},
    {"Reference", kReference},
    {"SampledData", kSampledData},
    {"SimpleQuantity", kSimpleQuantity},
    {"Timing", kTiming},
};

constexpr std::string_view kExtensionValueTypes[] = {
    "base64Binary", "boolean",      "canonical", "code",        "date",       "dateTime",
    "decimal",      "id",           "instant",   "integer",     "markdown",   "oid",
    "positiveInt",  "string",       "time",      "unsignedInt", "uri",        "url",
    "uuid",         "Address",      "Age",       "Annotation",  "Attachment", "CodeableConcept",
    "Coding",       "ContactPoint", "Count",     "Distance",    "Duration",   "HumanName",
    "Identifier",   "Period",       "Quantity",  "Range",       "Ratio",      "Reference",
    "SampledData",  "Timing",       "Dosage",    "Meta"};

// --- Resources ----------------------------------------------------------------------------
// Every resource starts with the elements of Resource; DomainResource adds text (contained
// resources are not accepted: medvault stores each resource on its own).

#define MEDVAULT_RESOURCE_ELEMENTS \
  {"id", "id"}, {"meta", "Meta"}, {"implicitRules", "uri"}, { "language", "code" }
#define MEDVAULT_DOMAIN_RESOURCE_ELEMENTS \
  MEDVAULT_RESOURCE_ELEMENTS, { "text", "Narrative" }

constexpr std::string_view kPerformers = "Practitioner|PractitionerRole|Organization|CareTeam";

// Patient
constexpr Element kPatientContact[] = {
    {"relationship", "CodeableConcept", 0, kMany},
    {"name", "HumanName"},
    {"telecom", "ContactPoint", 0, kMany},
    {"address", "Address"},
    {"gender", "code", 0, 1, &kGender},
    {"organization", "Reference", 0, 1, nullptr, "Organization"},
    {"period", "Period"},
};
constexpr Element kPatientCommunication[] = {
    {"language", "CodeableConcept", 1, 1},
    {"preferred", "boolean"},
};
constexpr Element kPatientLink[] = {
    {"other", "Reference", 1, 1, nullptr, "Patient|RelatedPerson"},
    {"type", "code", 1, 1, &kLinkType},
};
constexpr Element kPatient[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"active", "boolean"},
    {"name", "HumanName", 0, kMany},
    {"telecom", "ContactPoint", 0, kMany},
    {"gender", "code", 0, 1, &kGender},
    {"birthDate", "date"},
    {"deceased[x]", "boolean|dateTime"},
    {"address", "Address", 0, kMany},
    {"maritalStatus", "CodeableConcept"},
    {"multipleBirth[x]", "boolean|integer"},
    {"photo", "Attachment", 0, kMany},
    {"contact", "", 0, kMany, nullptr, {}, kPatientContact},
    {"communication", "", 0, kMany, nullptr, {}, kPatientCommunication},
    {"generalPractitioner", "Reference", 0, kMany, nullptr,
     "Organization|Practitioner|PractitionerRole"},
    {"managingOrganization", "Reference", 0, 1, nullptr, "Organization"},
    {"link", "", 0, kMany, nullptr, {}, kPatientLink},
};

// Observation
constexpr std::string_view kObservationValueTypes =
    "Quantity|CodeableConcept|string|boolean|integer|Range|Ratio|SampledData|time|dateTime|"
    "Period";
constexpr Element kObservationReferenceRange[] = {
    {"low", "SimpleQuantity"},
    {"high", "SimpleQuantity"},
    {"type", "CodeableConcept"},
    {"appliesTo", "CodeableConcept", 0, kMany},
    {"age", "Range"},
    {"text", "string"},
};
constexpr Element kObservationComponent[] = {
    {"code", "CodeableConcept", 1, 1},
    {"value[x]", kObservationValueTypes},
    {"dataAbsentReason", "CodeableConcept"},
    {"interpretation", "CodeableConcept", 0, kMany},
    {"referenceRange", "", 0, kMany, nullptr, {}, kObservationReferenceRange},
};
constexpr Element kObservation[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"basedOn", "Reference", 0, kMany, nullptr,
     "CarePlan|DeviceRequest|ImmunizationRecommendation|MedicationRequest|NutritionOrder|"
     "ServiceRequest"},
    {"partOf", "Reference", 0, kMany, nullptr,
     "MedicationAdministration|MedicationDispense|MedicationStatement|Procedure|Immunization|"
     "ImagingStudy"},
    {"status", "code", 1, 1, &kObservationStatus},
    {"category", "CodeableConcept", 0, kMany},
    {"code", "CodeableConcept", 1, 1},
    {"subject", "Reference", 0, 1, nullptr, "Patient|Group|Device|Location"},
    {"focus", "Reference", 0, kMany, nullptr, "Any"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"effective[x]", "dateTime|Period|Timing|instant"},
    {"issued", "instant"},
    {"performer", "Reference", 0, kMany, nullptr,
     "Practitioner|PractitionerRole|Organization|CareTeam|Patient|RelatedPerson"},
    {"value[x]", kObservationValueTypes},
    {"dataAbsentReason", "CodeableConcept"},
    {"interpretation", "CodeableConcept", 0, kMany},
    {"note", "Annotation", 0, kMany},
    {"bodySite", "CodeableConcept"},
    {"method", "CodeableConcept"},
    {"specimen", "Reference", 0, 1, nullptr, "Specimen"},
    {"device", "Reference", 0, 1, nullptr, "Device|DeviceMetric"},
    {"referenceRange", "", 0, kMany, nullptr, {}, kObservationReferenceRange},
    {"hasMember", "Reference", 0, kMany, nullptr,
     "Observation|QuestionnaireResponse|MolecularSequence"},
    {"derivedFrom", "Reference", 0, kMany, nullptr,
     "DocumentReference|ImagingStudy|Media|QuestionnaireResponse|Observation|"
     "MolecularSequence"},
    {"component", "", 0, kMany, nullptr, {}, kObservationComponent},
};

// DiagnosticReport
constexpr Element kDiagnosticReportMedia[] = {
    {"comment", "string"},
    {"link", "Reference", 1, 1, nullptr, "Media"},
};
constexpr Element kDiagnosticReport[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"basedOn", "Reference", 0, kMany, nullptr,
     "CarePlan|ImmunizationRecommendation|MedicationRequest|NutritionOrder|ServiceRequest"},
    {"status", "code", 1, 1, &kReportStatus},
    {"category", "CodeableConcept", 0, kMany},
    {"code", "CodeableConcept", 1, 1},
    {"subject", "Reference", 0, 1, nullptr, "Patient|Group|Device|Location"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"effective[x]", "dateTime|Period"},
    {"issued", "instant"},
    {"performer", "Reference", 0, kMany, nullptr, kPerformers},
    {"resultsInterpreter", "Reference", 0, kMany, nullptr, kPerformers},
    {"specimen", "Reference", 0, kMany, nullptr, "Specimen"},
    {"result", "Reference", 0, kMany, nullptr, "Observation"},
    {"imagingStudy", "Reference", 0, kMany, nullptr, "ImagingStudy"},
    {"media", "", 0, kMany, nullptr, {}, kDiagnosticReportMedia},
    {"conclusion", "string"},
    {"conclusionCode", "CodeableConcept", 0, kMany},
    {"presentedForm", "Attachment", 0, kMany},
};

// Encounter
constexpr Element kEncounterStatusHistory[] = {
    {"status", "code", 1, 1, &kEncounterStatus},
    {"period", "Period", 1, 1},
};
constexpr Element kEncounterClassHistory[] = {
    {"class", "Coding", 1, 1},
    {"period", "Period", 1, 1},
};
constexpr Element kEncounterParticipant[] = {
    {"type", "CodeableConcept", 0, kMany},
    {"period", "Period"},
    {"individual", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole|RelatedPerson"},
};
constexpr Element kEncounterDiagnosis[] = {
    {"condition", "Reference", 1, 1, nullptr, "Condition|Procedure"},
    {"use", "CodeableConcept"},
    {"rank", "positiveInt"},
};
constexpr Element kEncounterHospitalization[] = {
    {"preAdmissionIdentifier", "Identifier"},
    {"origin", "Reference", 0, 1, nullptr, "Location|Organization"},
    {"admitSource", "CodeableConcept"},
    {"reAdmission", "CodeableConcept"},
    {"dietPreference", "CodeableConcept", 0, kMany},
    {"specialCourtesy", "CodeableConcept", 0, kMany},
    {"specialArrangement", "CodeableConcept", 0, kMany},
    {"destination", "Reference", 0, 1, nullptr, "Location|Organization"},
    {"dischargeDisposition", "CodeableConcept"},
};
constexpr Element kEncounterLocation[] = {
    {"location", "Reference", 1, 1, nullptr, "Location"},
    {"status", "code", 0, 1, &kEncounterLocationStatus},
    {"physicalType", "CodeableConcept"},
    {"period", "Period"},
};
constexpr Element kEncounter[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"status", "code", 1, 1, &kEncounterStatus},
    {"statusHistory", "", 0, kMany, nullptr, {}, kEncounterStatusHistory},
    {"class", "Coding", 1, 1},
    {"classHistory", "", 0, kMany, nullptr, {}, kEncounterClassHistory},
    {"type", "CodeableConcept", 0, kMany},
    {"serviceType", "CodeableConcept"},
    {"priority", "CodeableConcept"},
    {"subject", "Reference", 0, 1, nullptr, "Patient|Group"},
    {"episodeOfCare", "Reference", 0, kMany, nullptr, "EpisodeOfCare"},
    {"basedOn", "Reference", 0, kMany, nullptr, "ServiceRequest"},
    {"participant", "", 0, kMany, nullptr, {}, kEncounterParticipant},
    {"appointment", "Reference", 0, kMany, nullptr, "Appointment"},
    {"period", "Period"},
    {"length", "Duration"},
    {"reasonCode", "CodeableConcept", 0, kMany},
    {"reasonReference", "Reference", 0, kMany, nullptr,
     "Condition|Procedure|Observation|ImmunizationRecommendation"},
    {"diagnosis", "", 0, kMany, nullptr, {}, kEncounterDiagnosis},
    {"account", "Reference", 0, kMany, nullptr, "Account"},
    {"hospitalization", "", 0, 1, nullptr, {}, kEncounterHospitalization},
    {"location", "", 0, kMany, nullptr, {}, kEncounterLocation},
    {"serviceProvider", "Reference", 0, 1, nullptr, "Organization"},
    {"partOf", "Reference", 0, 1, nullptr, "Encounter"},
};

// MedicationRequest
constexpr Element kDispenseInitialFill[] = {
    {"quantity", "SimpleQuantity"},
    {"duration", "Duration"},
};
constexpr Element kDispenseRequest[] = {
    {"initialFill", "", 0, 1, nullptr, {}, kDispenseInitialFill},
    {"dispenseInterval", "Duration"},
    {"validityPeriod", "Period"},
    {"numberOfRepeatsAllowed", "unsignedInt"},
    {"quantity", "SimpleQuantity"},
    {"expectedSupplyDuration", "Duration"},
    {"performer", "Reference", 0, 1, nullptr, "Organization"},
};
constexpr Element kSubstitution[] = {
    {"allowed[x]", "boolean|CodeableConcept", 1, 1},
    {"reason", "CodeableConcept"},
};
constexpr Element kMedicationRequest[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"status", "code", 1, 1, &kMedicationRequestStatus},
    {"statusReason", "CodeableConcept"},
    {"intent", "code", 1, 1, &kMedicationRequestIntent},
    {"category", "CodeableConcept", 0, kMany},
    {"priority", "code", 0, 1, &kRequestPriority},
    {"doNotPerform", "boolean"},
    {"reported[x]", "boolean|Reference", 0, 1, nullptr,
     "Patient|Practitioner|PractitionerRole|RelatedPerson|Organization"},
    {"medication[x]", "CodeableConcept|Reference", 1, 1, nullptr, "Medication"},
    {"subject", "Reference", 1, 1, nullptr, "Patient|Group"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"supportingInformation", "Reference", 0, kMany, nullptr, "Any"},
    {"authoredOn", "dateTime"},
    {"requester", "Reference", 0, 1, nullptr,
     "Practitioner|PractitionerRole|Organization|Patient|RelatedPerson|Device"},
    {"performer", "Reference", 0, 1, nullptr,
     "Practitioner|PractitionerRole|Organization|Patient|Device|RelatedPerson|CareTeam"},
    {"performerType", "CodeableConcept"},
    {"recorder", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole"},
    {"reasonCode", "CodeableConcept", 0, kMany},
    {"reasonReference", "Reference", 0, kMany, nullptr, "Condition|Observation"},
    {"instantiatesCanonical", "canonical", 0, kMany},
    {"instantiatesUri", "uri", 0, kMany},
    {"basedOn", "Reference", 0, kMany, nullptr,
     "CarePlan|MedicationRequest|ServiceRequest|ImmunizationRecommendation"},
    {"groupIdentifier", "Identifier"},
    {"courseOfTherapyType", "CodeableConcept"},
    {"insurance", "Reference", 0, kMany, nullptr, "Coverage|ClaimResponse"},
    {"note", "Annotation", 0, kMany},
    {"dosageInstruction", "Dosage", 0, kMany},
    {"dispenseRequest", "", 0, 1, nullptr, {}, kDispenseRequest},
    {"substitution", "", 0, 1, nullptr, {}, kSubstitution},
    {"priorPrescription", "Reference", 0, 1, nullptr, "MedicationRequest"},
    {"detectedIssue", "Reference", 0, kMany, nullptr, "DetectedIssue"},
    {"eventHistory", "Reference", 0, kMany, nullptr, "Provenance"},
};

// Condition
constexpr std::string_view kOnsetTypes = "dateTime|Age|Period|Range|string";
constexpr Element kConditionStage[] = {
    {"summary", "CodeableConcept"},
    {"assessment", "Reference", 0, kMany, nullptr,
     "ClinicalImpression|DiagnosticReport|Observation"},
    {"type", "CodeableConcept"},
};
constexpr Element kConditionEvidence[] = {
    {"code", "CodeableConcept", 0, kMany},
    {"detail", "Reference", 0, kMany, nullptr, "Any"},
};
constexpr Element kCondition[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"clinicalStatus", "CodeableConcept", 0, 1, &kConditionClinical},
    {"verificationStatus", "CodeableConcept", 0, 1, &kConditionVerification},
    {"category", "CodeableConcept", 0, kMany},
    {"severity", "CodeableConcept"},
    {"code", "CodeableConcept"},
    {"bodySite", "CodeableConcept", 0, kMany},
    {"subject", "Reference", 1, 1, nullptr, "Patient|Group"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"onset[x]", kOnsetTypes},
    {"abatement[x]", kOnsetTypes},
    {"recordedDate", "dateTime"},
    {"recorder", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole|Patient|RelatedPerson"},
    {"asserter", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole|Patient|RelatedPerson"},
    {"stage", "", 0, kMany, nullptr, {}, kConditionStage},
    {"evidence", "", 0, kMany, nullptr, {}, kConditionEvidence},
    {"note", "Annotation", 0, kMany},
};

// AllergyIntolerance
constexpr Element kAllergyReaction[] = {
    {"substance", "CodeableConcept"},
    {"manifestation", "CodeableConcept", 1, kMany},
    {"description", "string"},
    {"onset", "dateTime"},
    {"severity", "code", 0, 1, &kReactionSeverity},
    {"exposureRoute", "CodeableConcept"},
    {"note", "Annotation", 0, kMany},
};
constexpr Element kAllergyIntolerance[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"clinicalStatus", "CodeableConcept", 0, 1, &kAllergyClinical},
    {"verificationStatus", "CodeableConcept", 0, 1, &kAllergyVerification},
    {"type", "code", 0, 1, &kAllergyType},
    {"category", "code", 0, kMany, &kAllergyCategory},
    {"criticality", "code", 0, 1, &kAllergyCriticality},
    {"code", "CodeableConcept"},
    {"patient", "Reference", 1, 1, nullptr, "Patient"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"onset[x]", kOnsetTypes},
    {"recordedDate", "dateTime"},
    {"recorder", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole|Patient|RelatedPerson"},
    {"asserter", "Reference", 0, 1, nullptr, "Patient|RelatedPerson|Practitioner|PractitionerRole"},
    {"lastOccurrence", "dateTime"},
    {"note", "Annotation", 0, kMany},
    {"reaction", "", 0, kMany, nullptr, {}, kAllergyReaction},
};

// DocumentReference
constexpr Element kDocumentRelatesTo[] = {
    {"code", "code", 1, 1, &kDocumentRelationship},
    {"target", "Reference", 1, 1, nullptr, "DocumentReference"},
};
constexpr Element kDocumentContent[] = {
    {"attachment", "Attachment", 1, 1},
    {"format", "Coding"},
};
constexpr Element kDocumentContext[] = {
    {"encounter", "Reference", 0, kMany, nullptr, "Encounter|EpisodeOfCare"},
    {"event", "CodeableConcept", 0, kMany},
    {"period", "Period"},
    {"facilityType", "CodeableConcept"},
    {"practiceSetting", "CodeableConcept"},
    {"sourcePatientInfo", "Reference", 0, 1, nullptr, "Patient"},
    {"related", "Reference", 0, kMany, nullptr, "Any"},
};
constexpr Element kDocumentReference[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"masterIdentifier", "Identifier"},
    {"identifier", "Identifier", 0, kMany},
    {"status", "code", 1, 1, &kDocumentReferenceStatus},
    {"docStatus", "code", 0, 1, &kCompositionStatus},
    {"type", "CodeableConcept"},
    {"category", "CodeableConcept", 0, kMany},
    {"subject", "Reference", 0, 1, nullptr, "Patient|Practitioner|Group|Device"},
    {"date", "instant"},
    {"author", "Reference", 0, kMany, nullptr,
     "Practitioner|PractitionerRole|Organization|Device|Patient|RelatedPerson"},
    {"authenticator", "Reference", 0, 1, nullptr, "Practitioner|PractitionerRole|Organization"},
    {"custodian", "Reference", 0, 1, nullptr, "Organization"},
    {"relatesTo", "", 0, kMany, nullptr, {}, kDocumentRelatesTo},
    {"description", "string"},
    {"securityLabel", "CodeableConcept", 0, kMany},
    {"content", "", 1, kMany, nullptr, {}, kDocumentContent},
    {"context", "", 0, 1, nullptr, {}, kDocumentContext},
};

// CareTeam
constexpr Element kCareTeamParticipant[] = {
    {"role", "CodeableConcept", 0, kMany},
    {"member", "Reference", 0, 1, nullptr,
     "Practitioner|PractitionerRole|RelatedPerson|Patient|Organization|CareTeam"},
    {"onBehalfOf", "Reference", 0, 1, nullptr, "Organization"},
    {"period", "Period"},
};
constexpr Element kCareTeam[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"status", "code", 0, 1, &kCareTeamStatus},
    {"category", "CodeableConcept", 0, kMany},
    {"name", "string"},
    {"subject", "Reference", 0, 1, nullptr, "Patient|Group"},
    {"encounter", "Reference", 0, 1, nullptr, "Encounter"},
    {"period", "Period"},
    {"participant", "", 0, kMany, nullptr, {}, kCareTeamParticipant},
    {"reasonCode", "CodeableConcept", 0, kMany},
    {"reasonReference", "Reference", 0, kMany, nullptr, "Condition"},
    {"managingOrganization", "Reference", 0, kMany, nullptr, "Organization"},
    {"telecom", "ContactPoint", 0, kMany},
    {"note", "Annotation", 0, kMany},
};

// Organization
constexpr Element kOrganizationContact[] = {
    {"purpose", "CodeableConcept"},
    {"name", "HumanName"},
    {"telecom", "ContactPoint", 0, kMany},
    {"address", "Address"},
};
constexpr Element kOrganization[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"active", "boolean"},
    {"type", "CodeableConcept", 0, kMany},
    {"name", "string"},
    {"alias", "string", 0, kMany},
    {"telecom", "ContactPoint", 0, kMany},
    {"address", "Address", 0, kMany},
    {"partOf", "Reference", 0, 1, nullptr, "Organization"},
    {"contact", "", 0, kMany, nullptr, {}, kOrganizationContact},
    {"endpoint", "Reference", 0, kMany, nullptr, "Endpoint"},
};

// Practitioner
constexpr Element kPractitionerQualification[] = {
    {"identifier", "Identifier", 0, kMany},
    {"code", "CodeableConcept", 1, 1},
    {"period", "Period"},
    {"issuer", "Reference", 0, 1, nullptr, "Organization"},
};
constexpr Element kPractitioner[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"active", "boolean"},
    {"name", "HumanName", 0, kMany},
    {"telecom", "ContactPoint", 0, kMany},
    {"address", "Address", 0, kMany},
    {"gender", "code", 0, 1, &kGender},
    {"birthDate", "date"},
    {"photo", "Attachment", 0, kMany},
    {"qualification", "", 0, kMany, nullptr, {}, kPractitionerQualification},
    {"communication", "CodeableConcept", 0, kMany},
};

// PractitionerRole
constexpr Element kAvailableTime[] = {
    {"daysOfWeek", "code", 0, kMany, &kDaysOfWeek},
    {"allDay", "boolean"},
    {"availableStartTime", "time"},
    {"availableEndTime", "time"},
};
constexpr Element kNotAvailable[] = {
    {"description", "string", 1, 1},
    {"during", "Period"},
};
constexpr Element kPractitionerRole[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"identifier", "Identifier", 0, kMany},
    {"active", "boolean"},
    {"period", "Period"},
    {"practitioner", "Reference", 0, 1, nullptr, "Practitioner"},
    {"organization", "Reference", 0, 1, nullptr, "Organization"},
    {"code", "CodeableConcept", 0, kMany},
    {"specialty", "CodeableConcept", 0, kMany},
    {"location", "Reference", 0, kMany, nullptr, "Location"},
    {"healthcareService", "Reference", 0, kMany, nullptr, "HealthcareService"},
    {"telecom", "ContactPoint", 0, kMany},
    {"availableTime", "", 0, kMany, nullptr, {}, kAvailableTime},
    {"notAvailable", "", 0, kMany, nullptr, {}, kNotAvailable},
    {"availabilityExceptions", "string"},
    {"endpoint", "Reference", 0, kMany, nullptr, "Endpoint"},
};

// Binary (a Resource, not a DomainResource: no text)
constexpr Element kBinary[] = {
    MEDVAULT_RESOURCE_ELEMENTS,
    {"contentType", "code", 1, 1},  // a MIME type, checked by the validator
    {"securityContext", "Reference", 0, 1, nullptr, "Any"},
    {"data", "base64Binary"},
};

// AuditEvent
constexpr std::string_view kAuditAgents =
    "PractitionerRole|Practitioner|Organization|Device|Patient|RelatedPerson";
constexpr Element kAuditNetwork[] = {
    {"address", "string"},
    {"type", "code", 0, 1, &kNetworkType},
};
constexpr Element kAuditAgent[] = {
    {"type", "CodeableConcept"},
    {"role", "CodeableConcept", 0, kMany},
    {"who", "Reference", 0, 1, nullptr, kAuditAgents},
    {"altId", "string"},
    {"name", "string"},
    {"requestor", "boolean", 1, 1},
    {"location", "Reference", 0, 1, nullptr, "Location"},
    {"policy", "uri", 0, kMany},
    {"media", "Coding"},
    {"network", "", 0, 1, nullptr, {}, kAuditNetwork},
    {"purposeOfUse", "CodeableConcept", 0, kMany},
};
constexpr Element kAuditSource[] = {
    {"site", "string"},
    {"observer", "Reference", 1, 1, nullptr, kAuditAgents},
    {"type", "Coding", 0, kMany},
};
constexpr Element kAuditEntityDetail[] = {
    {"type", "string", 1, 1},
    {"value[x]", "string|base64Binary", 1, 1},
};
constexpr Element kAuditEntity[] = {
    {"what", "Reference", 0, 1, nullptr, "Any"},
    {"type", "Coding"},
    {"role", "Coding"},
    {"lifecycle", "Coding"},
    {"securityLabel", "Coding", 0, kMany},
    {"name", "string"},
    {"description", "string"},
    {"query", "base64Binary"},
    {"detail", "", 0, kMany, nullptr, {}, kAuditEntityDetail},
};
constexpr Element kAuditEvent[] = {
    MEDVAULT_DOMAIN_RESOURCE_ELEMENTS,
    {"type", "Coding", 1, 1},
    {"subtype", "Coding", 0, kMany},
    {"action", "code", 0, 1, &kAuditAction},
    {"period", "Period"},
    {"recorded", "instant", 1, 1},
    {"outcome", "code", 0, 1, &kAuditOutcome},
    {"outcomeDesc", "string"},
    {"purposeOfEvent", "CodeableConcept", 0, kMany},
    {"agent", "", 1, kMany, nullptr, {}, kAuditAgent},
    {"source", "", 1, 1, nullptr, {}, kAuditSource},
    {"entity", "", 0, kMany, nullptr, {}, kAuditEntity},
};

#undef MEDVAULT_DOMAIN_RESOURCE_ELEMENTS
#undef MEDVAULT_RESOURCE_ELEMENTS

constexpr TypeDefinition kResources[] = {
    {"AllergyIntolerance", kAllergyIntolerance},
    {"AuditEvent", kAuditEvent},
    {"Binary", kBinary},
    {"CareTeam", kCareTeam},
    {"Condition", kCondition},
    {"DiagnosticReport", kDiagnosticReport},
    {"DocumentReference", kDocumentReference},
    {"Encounter", kEncounter},
    {"MedicationRequest", kMedicationRequest},
    {"Observation", kObservation},
    {"Organization", kOrganization},
    {"Patient", kPatient},
    {"Practitioner", kPractitioner},
    {"PractitionerRole", kPractitionerRole},
};

}  // namespace

const TypeDefinition* FindResourceType(std::string_view name) {
  for (const TypeDefinition& type : kResources) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

const TypeDefinition* FindDatatype(std::string_view name) {
  for (const TypeDefinition& type : kDatatypes) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

std::span<const std::string_view> ExtensionValueTypes() { return kExtensionValueTypes; }

}  // namespace medvault::fhir::schema
