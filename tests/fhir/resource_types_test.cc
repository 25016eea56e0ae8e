// Validation of each served type: its example is valid, and its own required bindings,
// cardinalities and datatypes are enforced, each issue naming its element.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <set>
#include <string>

#include "fhir/resource.h"
#include "fhir_test_util.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using testing::Check;
using testing::Describe;
using testing::Example;
using testing::HasIssue;
using testing::With;

// The example of each served type, by file name.
constexpr std::pair<std::string_view, std::string_view> kExamples[] = {
    {"AllergyIntolerance", "allergy_intolerance"},
    {"AuditEvent", "audit_event"},
    {"Binary", "binary"},
    {"CareTeam", "care_team"},
    {"Condition", "condition"},
    {"DiagnosticReport", "diagnostic_report"},
    {"DocumentReference", "document_reference"},
    {"Encounter", "encounter"},
    {"MedicationRequest", "medication_request"},
    {"Observation", "observation"},
    {"Organization", "organization"},
    {"Patient", "patient"},
    {"Practitioner", "practitioner"},
    {"PractitionerRole", "practitioner_role"},
};

TEST(FhirResourceTypes, EveryServedTypeHasAValidExample) {
  std::set<std::string_view> covered;
  for (const auto& [type, file] : kExamples) {
    const json::object resource = Example(file);
    EXPECT_EQ(resource.at("resourceType").as_string(), type) << file;
    const auto issues = Check(resource);
    EXPECT_TRUE(issues.empty()) << file << "\n" << Describe(issues);
    EXPECT_TRUE(Check(resource, ValidateOptions{.require_id = true}).empty()) << file;
    covered.insert(type);
  }
  for (std::string_view type : ServedResourceTypes()) EXPECT_TRUE(covered.contains(type)) << type;
}

// The example of `file` with the element at `key` (top level) set to `value`: exactly one
// issue, at `expression`, of `code`.
void ExpectOneIssue(std::string_view file, const json::object& resource,
                    std::string_view expression, IssueType code) {
  const auto issues = Check(resource);
  ASSERT_EQ(issues.size(), 1u) << file << "\n" << Describe(issues);
  EXPECT_EQ(issues[0].expression, expression) << file;
  EXPECT_EQ(issues[0].code, code) << file << ": " << issues[0].diagnostics;
}

json::object SetTop(std::string_view file, std::string_view key, json::value value) {
  return With(Example(file), [&](json::object& r) { r[key] = std::move(value); });
}

TEST(FhirResourceTypes, StatusCodesOfEachTypeAreEnforced) {
  ExpectOneIssue("diagnostic_report", SetTop("diagnostic_report", "status", "done"),
                 "DiagnosticReport.status", IssueType::kCodeInvalid);
  ExpectOneIssue("encounter", SetTop("encounter", "status", "closed"), "Encounter.status",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("medication_request", SetTop("medication_request", "status", "ongoing"),
                 "MedicationRequest.status", IssueType::kCodeInvalid);
  ExpectOneIssue("medication_request", SetTop("medication_request", "intent", "wish"),
                 "MedicationRequest.intent", IssueType::kCodeInvalid);
  ExpectOneIssue("medication_request", SetTop("medication_request", "priority", "soon"),
                 "MedicationRequest.priority", IssueType::kCodeInvalid);
  ExpectOneIssue("document_reference", SetTop("document_reference", "status", "final"),
                 "DocumentReference.status", IssueType::kCodeInvalid);
  ExpectOneIssue("document_reference", SetTop("document_reference", "docStatus", "current"),
                 "DocumentReference.docStatus", IssueType::kCodeInvalid);
  ExpectOneIssue("care_team", SetTop("care_team", "status", "busy"), "CareTeam.status",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("audit_event", SetTop("audit_event", "action", "X"), "AuditEvent.action",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("audit_event", SetTop("audit_event", "outcome", "1"), "AuditEvent.outcome",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("allergy_intolerance", SetTop("allergy_intolerance", "type", "reaction"),
                 "AllergyIntolerance.type", IssueType::kCodeInvalid);
  ExpectOneIssue("allergy_intolerance", SetTop("allergy_intolerance", "criticality", "medium"),
                 "AllergyIntolerance.criticality", IssueType::kCodeInvalid);
  ExpectOneIssue("allergy_intolerance",
                 SetTop("allergy_intolerance", "category", json::array{"medication", "drug"}),
                 "AllergyIntolerance.category[1]", IssueType::kCodeInvalid);
  ExpectOneIssue("practitioner", SetTop("practitioner", "gender", "M"), "Practitioner.gender",
                 IssueType::kCodeInvalid);
}

TEST(FhirResourceTypes, ClinicalAndVerificationStatusCodingsAreEnforced) {
  const auto coding = [](std::string_view system, std::string_view code) {
    return json::object{{"coding", json::array{json::object{{"system", system}, {"code", code}}}}};
  };
  ExpectOneIssue(
      "condition",
      SetTop("condition", "clinicalStatus",
             coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "cured")),
      "Condition.clinicalStatus.coding[0].code", IssueType::kCodeInvalid);
  ExpectOneIssue(
      "condition",
      SetTop("condition", "verificationStatus",
             coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "sure")),
      "Condition.verificationStatus.coding[0].code", IssueType::kCodeInvalid);
  // A coding of another system does not satisfy a required binding.
  ExpectOneIssue(
      "condition",
      SetTop("condition", "clinicalStatus", coding("http://snomed.info/sct", "55561003")),
      "Condition.clinicalStatus.coding", IssueType::kCodeInvalid);
  ExpectOneIssue("allergy_intolerance",
                 SetTop("allergy_intolerance", "clinicalStatus",
                        coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                               "recurrence")),
                 "AllergyIntolerance.clinicalStatus.coding[0].code", IssueType::kCodeInvalid);
  ExpectOneIssue(
      "allergy_intolerance",
      SetTop("allergy_intolerance", "verificationStatus",
             coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "provisional")),
      "AllergyIntolerance.verificationStatus.coding[0].code", IssueType::kCodeInvalid);
}

TEST(FhirResourceTypes, RequiredElementsOfEachType) {
  const auto without = [](std::string_view file, std::string_view key) {
    return With(Example(file), [&](json::object& r) { r.erase(key); });
  };
  ExpectOneIssue("diagnostic_report", without("diagnostic_report", "code"), "DiagnosticReport.code",
                 IssueType::kRequired);
  ExpectOneIssue("encounter", without("encounter", "class"), "Encounter.class",
                 IssueType::kRequired);
  ExpectOneIssue("medication_request", without("medication_request", "medicationCodeableConcept"),
                 "MedicationRequest.medication[x]", IssueType::kRequired);
  ExpectOneIssue("medication_request", without("medication_request", "subject"),
                 "MedicationRequest.subject", IssueType::kRequired);
  ExpectOneIssue("condition", without("condition", "subject"), "Condition.subject",
                 IssueType::kRequired);
  ExpectOneIssue("allergy_intolerance", without("allergy_intolerance", "patient"),
                 "AllergyIntolerance.patient", IssueType::kRequired);
  ExpectOneIssue("document_reference", without("document_reference", "content"),
                 "DocumentReference.content", IssueType::kRequired);
  ExpectOneIssue("binary", without("binary", "contentType"), "Binary.contentType",
                 IssueType::kRequired);
  ExpectOneIssue("audit_event", without("audit_event", "recorded"), "AuditEvent.recorded",
                 IssueType::kRequired);
  ExpectOneIssue("audit_event", without("audit_event", "source"), "AuditEvent.source",
                 IssueType::kRequired);
  auto requestor = With(Example("audit_event"), [](json::object& r) {
    r["agent"].as_array()[0].as_object().erase("requestor");
  });
  ExpectOneIssue("audit_event", requestor, "AuditEvent.agent[0].requestor", IssueType::kRequired);
  auto manifestation = With(Example("allergy_intolerance"), [](json::object& r) {
    r["reaction"].as_array()[0].as_object().erase("manifestation");
  });
  ExpectOneIssue("allergy_intolerance", manifestation,
                 "AllergyIntolerance.reaction[0].manifestation", IssueType::kRequired);
}

TEST(FhirResourceTypes, ContentTypesAreMimeTypes) {
  ExpectOneIssue("binary", SetTop("binary", "contentType", "pdf"), "Binary.contentType",
                 IssueType::kValue);
  auto attachment = With(Example("document_reference"), [](json::object& r) {
    r["content"].as_array()[0].as_object()["attachment"].as_object()["contentType"] = "PDF file";
  });
  ExpectOneIssue("document_reference", attachment,
                 "DocumentReference.content[0].attachment.contentType", IssueType::kValue);
  auto no_type = With(Example("diagnostic_report"), [](json::object& r) {
    r["presentedForm"].as_array()[0].as_object().erase("contentType");
  });
  ExpectOneIssue("diagnostic_report", no_type, "DiagnosticReport.presentedForm[0].contentType",
                 IssueType::kInvariant);
  ExpectOneIssue("binary", SetTop("binary", "data", "not base64!"), "Binary.data",
                 IssueType::kValue);
}

TEST(FhirResourceTypes, DosageIsValidatedDownToTheTiming) {
  const auto dosage = [](auto change) {
    return With(Example("medication_request"),
                [&](json::object& r) { change(r["dosageInstruction"].as_array()[0].as_object()); });
  };
  ExpectOneIssue("medication_request", dosage([](json::object& d) {
                   d["timing"].as_object()["repeat"].as_object()["periodUnit"] = "day";
                 }),
                 "MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("medication_request", dosage([](json::object& d) {
                   d["timing"].as_object()["repeat"].as_object()["when"] = json::array{"LUNCH"};
                 }),
                 "MedicationRequest.dosageInstruction[0].timing.repeat.when[0]",
                 IssueType::kCodeInvalid);
  ExpectOneIssue("medication_request", dosage([](json::object& d) {
                   d["timing"].as_object()["repeat"].as_object()["frequency"] = 0;
                 }),
                 "MedicationRequest.dosageInstruction[0].timing.repeat.frequency",
                 IssueType::kValue);
  ExpectOneIssue("medication_request", dosage([](json::object& d) {
                   d["doseAndRate"].as_array()[0].as_object()["doseQuantity"].as_object()["code"] =
                       "comprimé";
                 }),
                 "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.code",
                 IssueType::kCodeInvalid);
  ExpectOneIssue(
      "medication_request", dosage([](json::object& d) {
        // A SimpleQuantity has no comparator.
        d["doseAndRate"].as_array()[0].as_object()["doseQuantity"].as_object()["comparator"] = "<";
      }),
      "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.comparator",
      IssueType::kStructure);
  ExpectOneIssue("medication_request", dosage([](json::object& d) { d["dose"] = 1; }),
                 "MedicationRequest.dosageInstruction[0].dose", IssueType::kStructure);
}

TEST(FhirResourceTypes, ReferenceTargetsFollowTheSpecification) {
  ExpectOneIssue("diagnostic_report",
                 With(Example("diagnostic_report"),
                      [](json::object& r) {
                        r["result"].as_array()[1].as_object()["reference"] =
                            "Condition/cond-diabete";
                      }),
                 "DiagnosticReport.result[1].reference", IssueType::kValue);
  ExpectOneIssue("allergy_intolerance",
                 With(Example("allergy_intolerance"),
                      [](json::object& r) {
                        r["patient"].as_object()["reference"] = "Practitioner/prat-martin";
                      }),
                 "AllergyIntolerance.patient.reference", IssueType::kValue);
  ExpectOneIssue("practitioner_role",
                 With(Example("practitioner_role"),
                      [](json::object& r) {
                        r["practitioner"].as_object()["reference"] = "Patient/pat-dupont";
                      }),
                 "PractitionerRole.practitioner.reference", IssueType::kValue);
  // Any served type may be a Binary's security context.
  EXPECT_TRUE(Check(With(Example("binary"), [](json::object& r) {
                r["securityContext"].as_object()["reference"] = "Patient/pat-dupont";
              })).empty());
}

TEST(FhirResourceTypes, BackboneCardinalities) {
  ExpectOneIssue("audit_event",
                 SetTop("audit_event", "source",
                        json::array{json::object{{"observer", json::object{{"display", "x"}}}}}),
                 "AuditEvent.source", IssueType::kStructure);
  auto two_values = With(Example("audit_event"), [](json::object& r) {
    r["entity"].as_array()[1].as_object()["detail"].as_array()[0].as_object()["valueBase64Binary"] =
        "QUJD";
  });
  ExpectOneIssue("audit_event", two_values, "AuditEvent.entity[1].detail[0].value[x]",
                 IssueType::kStructure);
  ExpectOneIssue(
      "encounter",
      With(Example("encounter"),
           [](json::object& r) { r["statusHistory"].as_array()[0].as_object().erase("period"); }),
      "Encounter.statusHistory[0].period", IssueType::kRequired);
  ExpectOneIssue("observation",
                 With(Example("observation"),
                      [](json::object& r) {
                        r["dataAbsentReason"] = json::object{{"text", "not measured"}};
                      }),
                 "Observation.dataAbsentReason", IssueType::kInvariant);
}

TEST(FhirResourceTypes, LargeAttachmentsAreAcceptedButNotLargeStrings) {
  // 3 MB of base64 (a scanned letter): only the body limit bounds it.
  const std::string data(3 * 1024 * 1024, 'A');
  EXPECT_TRUE(Check(SetTop("binary", "data", json::string(data))).empty());
  ExpectOneIssue(
      "diagnostic_report",
      SetTop("diagnostic_report", "conclusion", json::string(std::string(1024 * 1024 + 1, 'a'))),
      "DiagnosticReport.conclusion", IssueType::kValue);
}

TEST(FhirResourceTypes, InvariantsOfTheSpecification) {
  const auto coding = [](std::string_view system, std::string_view code) {
    return json::object{{"coding", json::array{json::object{{"system", system}, {"code", code}}}}};
  };
  constexpr std::string_view kConditionVerification =
      "http://terminology.hl7.org/CodeSystem/condition-ver-status";
  constexpr std::string_view kAllergyVerification =
      "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
  ExpectOneIssue(
      "condition",
      SetTop("condition", "verificationStatus", coding(kConditionVerification, "entered-in-error")),
      "Condition.clinicalStatus", IssueType::kInvariant);
  ExpectOneIssue("condition", SetTop("condition", "abatementDateTime", "2023-01-10"),
                 "Condition.clinicalStatus", IssueType::kInvariant);
  EXPECT_TRUE(Check(With(Example("condition"), [&](json::object& r) {
                r["abatementDateTime"] = "2023-01-10";
                r["clinicalStatus"] =
                    coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved");
              })).empty());
  ExpectOneIssue("allergy_intolerance",
                 SetTop("allergy_intolerance", "verificationStatus",
                        coding(kAllergyVerification, "entered-in-error")),
                 "AllergyIntolerance.clinicalStatus", IssueType::kInvariant);
  ExpectOneIssue(
      "allergy_intolerance",
      With(Example("allergy_intolerance"), [](json::object& r) { r.erase("clinicalStatus"); }),
      "AllergyIntolerance.clinicalStatus", IssueType::kInvariant);
  ExpectOneIssue("patient",
                 With(Example("patient"),
                      [](json::object& r) {
                        r["contact"].as_array()[0].as_object().erase("name");
                        r["contact"].as_array()[0].as_object().erase("telecom");
                      }),
                 "Patient.contact[0]", IssueType::kInvariant);
  ExpectOneIssue(
      "patient",
      With(Example("patient"),
           [](json::object& r) { r["telecom"].as_array()[1].as_object().erase("system"); }),
      "Patient.telecom[1].system", IssueType::kInvariant);
  ExpectOneIssue("organization",
                 With(Example("organization"),
                      [](json::object& r) {
                        r.erase("name");
                        r.erase("identifier");
                      }),
                 "Organization", IssueType::kInvariant);
  ExpectOneIssue(
      "organization",
      With(Example("organization"),
           [](json::object& r) { r["address"].as_array()[0].as_object()["use"] = "home"; }),
      "Organization.address[0].use", IssueType::kInvariant);
  ExpectOneIssue("care_team",
                 With(Example("care_team"),
                      [](json::object& r) {
                        r["participant"].as_array()[1].as_object()["onBehalfOf"] =
                            json::object{{"reference", "Organization/org-labo-bio"}};
                      }),
                 "CareTeam.participant[1].onBehalfOf", IssueType::kInvariant);
  ExpectOneIssue("audit_event",
                 With(Example("audit_event"),
                      [](json::object& r) {
                        r["entity"].as_array()[0].as_object()["name"] = "x";
                        r["entity"].as_array()[0].as_object()["query"] = "eA==";
                      }),
                 "AuditEvent.entity[0]", IssueType::kInvariant);
  ExpectOneIssue("observation_hba1c",
                 With(Example("observation_hba1c"),
                      [](json::object& r) {
                        auto& age =
                            r["referenceRange"].as_array()[0].as_object()["age"].as_object();
                        age["high"] = json::object{
                            {"value", 10}, {"system", "http://unitsofmeasure.org"}, {"code", "a"}};
                      }),
                 "Observation.referenceRange[0].age", IssueType::kInvariant);
  ExpectOneIssue(
      "medication_request",
      With(Example("medication_request"),
           [](json::object& r) {
             r["dosageInstruction"].as_array()[0].as_object()["maxDosePerPeriod"].as_object().erase(
                 "denominator");
           }),
      "MedicationRequest.dosageInstruction[0].maxDosePerPeriod", IssueType::kInvariant);
}

TEST(FhirResourceTypes, APeriodDoesNotEndBeforeItStarts) {
  const auto period = [](std::string_view start, std::string_view end) {
    return SetTop("encounter", "period", json::object{{"start", start}, {"end", end}});
  };
  ExpectOneIssue("encounter", period("2024-03-05T08:55:00+01:00", "2024-03-05T08:20:00+01:00"),
                 "Encounter.period", IssueType::kInvariant);
  ExpectOneIssue("encounter", period("2024-03-06", "2024-03-05"), "Encounter.period",
                 IssueType::kInvariant);
  // Compared in UTC: 10:00+02:00 is 08:00Z, before 09:30Z.
  EXPECT_TRUE(Check(period("2024-03-05T10:00:00+02:00", "2024-03-05T09:30:00Z")).empty());
  EXPECT_TRUE(Check(period("2024-03-05T08:00:00.5Z", "2024-03-05T08:00:00.50Z")).empty());
  ExpectOneIssue("encounter", period("2024-03-05T08:00:00.51Z", "2024-03-05T08:00:00.5Z"),
                 "Encounter.period", IssueType::kInvariant);
  // Different precisions cannot be compared (FHIRPath): no issue.
  EXPECT_TRUE(Check(period("2024-03-05T10:00:00Z", "2024-03")).empty());
  auto dispense = With(Example("medication_request"), [](json::object& r) {
    r["dispenseRequest"].as_object()["validityPeriod"] =
        json::object{{"start", "2024-06-05"}, {"end", "2024-03-05"}};
  });
  ExpectOneIssue("medication_request", dispense, "MedicationRequest.dispenseRequest.validityPeriod",
                 IssueType::kInvariant);
}

TEST(FhirResourceTypes, TimingRepeatInvariants) {
  const auto repeat = [](auto change) {
    return With(Example("medication_request"), [&](json::object& r) {
      change(r["dosageInstruction"]
                 .as_array()[0]
                 .as_object()["timing"]
                 .as_object()["repeat"]
                 .as_object());
    });
  };
  const std::string at = "MedicationRequest.dosageInstruction[0].timing.repeat";
  ExpectOneIssue("medication_request", repeat([](json::object& r) { r.erase("periodUnit"); }),
                 at + ".periodUnit", IssueType::kInvariant);
  ExpectOneIssue("medication_request", repeat([](json::object& r) { r["duration"] = 10; }),
                 at + ".durationUnit", IssueType::kInvariant);
  ExpectOneIssue("medication_request", repeat([](json::object& r) { r["period"] = -1; }),
                 at + ".period", IssueType::kInvariant);
  ExpectOneIssue("medication_request", repeat([](json::object& r) { r["countMax"] = 3; }),
                 at + ".count", IssueType::kInvariant);
  ExpectOneIssue("medication_request", repeat([](json::object& r) { r["offset"] = 30; }),
                 at + ".offset", IssueType::kInvariant);
  ExpectOneIssue("medication_request",
                 repeat([](json::object& r) { r["timeOfDay"] = json::array{"08:00:00"}; }), at,
                 IssueType::kInvariant);
  EXPECT_TRUE(Check(repeat([](json::object& r) {
                r["when"] = json::array{"ACM"};
                r["offset"] = 30;
              })).empty());
}

TEST(FhirResourceTypes, BinaryIsAResourceWithoutNarrative) {
  ExpectOneIssue(
      "binary",
      SetTop("binary", "text",
             json::object{{"status", "generated"},
                          {"div", "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}),
      "Binary.text", IssueType::kStructure);
}

TEST(FhirResourceTypes, PatientOfEveryCompartmentType) {
  for (const auto& [type, file] : kExamples) {
    auto patient = PatientReferenceOf(Example(file));
    ASSERT_TRUE(patient.has_value()) << file;
    if (type == "Binary") {
      EXPECT_EQ(*patient, "DocumentReference/doc-cr-1");
    } else if (IsPatientCompartmentType(type)) {
      EXPECT_EQ(*patient, "pat-dupont") << file;
    } else {
      EXPECT_EQ(*patient, "") << file;
    }
  }
  auto binary = With(Example("binary"), [](json::object& r) {
    r["securityContext"].as_object()["reference"] = "Patient/pat-dupont";
  });
  EXPECT_EQ(PatientReferenceOf(binary).value(), "pat-dupont");
  auto binary_other = With(Example("binary"), [](json::object& r) {
    r["securityContext"].as_object()["reference"] = "Organization/org-labo-bio";
  });
  auto refused = PatientReferenceOf(binary_other);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().issues.at(0).expression, "Binary.securityContext.reference");
  auto allergy = With(Example("allergy_intolerance"), [](json::object& r) { r.erase("patient"); });
  EXPECT_EQ(PatientReferenceOf(allergy).error().issues.at(0).expression,
            "AllergyIntolerance.patient.reference");
  auto in_transaction = With(Example("condition"), [](json::object& r) {
    r["subject"].as_object()["reference"] = "urn:uuid:8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b";
  });
  EXPECT_EQ(PatientReferenceOf(in_transaction).value(),
            "urn:uuid:8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b");
  auto system_event = With(Example("audit_event"), [](json::object& r) { r.erase("entity"); });
  EXPECT_EQ(PatientReferenceOf(system_event).value(), "");
}

TEST(FhirResourceTypes, ClinicalDateOfEveryDatedType) {
  EXPECT_EQ(ClinicalDateOf(Example("diagnostic_report")), "2024-03-05T08:30:00+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("encounter")), "2024-03-05T08:20:00+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("medication_request")), "2024-03-05T09:00:00+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("condition")), "2019-06-18");
  EXPECT_EQ(
      ClinicalDateOf(With(Example("condition"), [](json::object& r) { r.erase("recordedDate"); })),
      "2019-06");
  EXPECT_EQ(ClinicalDateOf(Example("allergy_intolerance")), "2016-11-02");
  EXPECT_EQ(ClinicalDateOf(Example("document_reference")), "2024-03-05T11:05:00+01:00");
  EXPECT_EQ(ClinicalDateOf(Example("organization")), std::nullopt);
  EXPECT_EQ(ClinicalDateOf(Example("binary")), std::nullopt);
}

TEST(FhirResourceTypes, ReferencesOfADiagnosticReport) {
  const auto references = References(Example("diagnostic_report"));
  std::vector<std::string> expressions;
  for (const auto& reference : references) expressions.push_back(reference.expression);
  EXPECT_EQ(expressions, (std::vector<std::string>{
                             "DiagnosticReport.subject", "DiagnosticReport.encounter",
                             "DiagnosticReport.performer[0]",
                             "DiagnosticReport.resultsInterpreter[0]", "DiagnosticReport.result[0]",
                             "DiagnosticReport.result[1]", "DiagnosticReport.result[2]"}));
  EXPECT_EQ(references[4].reference, "Observation/obs-glucose");
}

}  // namespace
}  // namespace medvault::fhir
