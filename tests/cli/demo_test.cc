// `medvault demo`'s content: the generator's output checked resource by resource, and a demo
// written into a real vault (SQLite) and read back through the sealed store.
#include "cli/demo.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "cli/demo_records.h"
#include "cli/vault.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/french_ids.h"
#include "fhir/resource.h"
#include "policy/sensitive.h"
#include "records/phi_access_for_testing.h"

namespace medvault::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The directory and `patients` generated patients, as AddDemoPatients makes them.
std::vector<DemoResource> Generate(std::size_t patients) {
  DemoDirectory directory = MakeDemoDirectory();
  std::vector<DemoResource> all = directory.resources;
  for (std::size_t i = 0; i < patients; ++i) {
    DemoPerson person{"Dupont",
                      "Hélène",
                      1 + static_cast<int>(i % 2),
                      1930 + static_cast<int>(i * 7 % 90),
                      1 + static_cast<int>(i % 12),
                      1 + static_cast<int>(i % 28),
                      "76",
                      static_cast<int>(i)};
    auto record = MakeDemoPatientRecord(directory, person, DemoSequence(~i).Uuid(), i % 4,
                                        0x64656d6f00000000ULL + i);
    all.insert(all.end(), record.begin(), record.end());
  }
  return all;
}

json::object Parse(const DemoResource& resource) {
  json::value value = json::parse(resource.json);
  return value.as_object();
}

// Every "reference" string anywhere in `value`.
void CollectReferences(const json::value& value, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.as_object()) {
      if (key == "reference" && item.is_string()) out.emplace_back(item.as_string());
      CollectReferences(item, out);
    }
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) CollectReferences(item, out);
  }
}

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    int digit = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 == 0;
}

double Number(const json::value& value) { return value.to_number<double>(); }

// fhir::Validate's issues, one line each, for a failure message.
std::string IssuesOf(std::string_view json_text) {
  auto parsed = fhir::ParseResource(json_text);
  if (!parsed) return "does not parse: " + parsed.error().issues.at(0).diagnostics;
  std::string out;
  for (const fhir::Issue& issue : fhir::Validate(*parsed, {})) {
    out += issue.expression + ": " + issue.diagnostics + "\n";
  }
  return out;
}

TEST(DemoRecords, EveryGeneratedResourceIsValidFhir) {
  std::map<std::string, std::size_t> types;
  for (const auto& resource : Generate(40)) {
    ++types[resource.resource_type];
    EXPECT_EQ(IssuesOf(resource.json), "") << resource.resource_type << " " << resource.json;
  }
  // Every type the demo makes was checked.
  EXPECT_EQ(types.size(), 13u);
}

TEST(DemoRecords, TheSameSeedGivesTheSameRecord) {
  auto first = Generate(3);
  auto second = Generate(3);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].id, second[i].id);
    EXPECT_EQ(first[i].json, second[i].json);
  }
}

TEST(DemoRecords, EveryIdIsUniqueAndEveryReferencePointsToADemoResource) {
  auto all = Generate(25);
  std::set<std::string> known;
  for (const auto& resource : all) {
    EXPECT_TRUE(known.insert(resource.resource_type + "/" + resource.id).second) << resource.id;
  }
  std::size_t references = 0;
  for (const auto& resource : all) {
    json::object object = Parse(resource);
    EXPECT_EQ(object.at("resourceType").as_string(), resource.resource_type);
    EXPECT_EQ(object.at("id").as_string(), resource.id);
    std::vector<std::string> found;
    CollectReferences(object, found);
    for (const std::string& reference : found) {
      ++references;
      EXPECT_TRUE(known.contains(reference)) << resource.resource_type << " -> " << reference;
    }
    if (resource.patient_id.empty()) continue;
    // A patient's resources reference that patient and no other.
    for (const std::string& reference : found) {
      if (reference.starts_with("Patient/")) {
        EXPECT_EQ(reference, "Patient/" + resource.patient_id);
      }
    }
  }
  EXPECT_GT(references, all.size());
}

TEST(DemoRecords, EachPatientHasYearsOfReportsAndEveryKindOfRecord) {
  DemoDirectory directory = MakeDemoDirectory();
  EXPECT_EQ(directory.general_practitioner_ids.size(), 4u);
  EXPECT_EQ(directory.biologist_ids.size(), 2u);
  std::map<std::string, std::size_t> types_overall;
  for (std::size_t i = 0; i < 20; ++i) {
    DemoPerson person{"Martin", "Louis", 1, 1950, 3, 4, "76", static_cast<int>(i)};
    auto record = MakeDemoPatientRecord(directory, person, "p" + std::to_string(i), 0,
                                        0x64656d6f00000000ULL + i);
    ASSERT_FALSE(record.empty());
    EXPECT_EQ(record.front().resource_type, "Patient");
    std::map<std::string, std::size_t> types;
    std::string first_issued = "9999";
    std::string last_issued;
    for (const auto& resource : record) {
      ++types[resource.resource_type];
      ++types_overall[resource.resource_type];
      EXPECT_EQ(resource.patient_id, "p" + std::to_string(i));
      if (resource.resource_type != "DiagnosticReport") continue;
      json::object report = Parse(resource);
      std::string issued(report.at("issued").as_string());
      first_issued = std::min(first_issued, issued);
      last_issued = std::max(last_issued, issued);
      EXPECT_EQ(report.at("status").as_string(), "final");
      EXPECT_EQ(report.at("category").at(0).at("coding").at(0).at("code").as_string(), "LAB");
      EXPECT_EQ(report.at("code").at("coding").at(0).at("system").as_string(), "http://loinc.org");
      const json::object& accession = report.at("identifier").at(0).as_object();
      EXPECT_EQ(accession.at("type").at("coding").at(0).at("code").as_string(), "ACSN");
      std::string value(accession.at("value").as_string());
      EXPECT_EQ(CanonicalAccessionNumber(value).value_or(""), value);
      EXPECT_FALSE(report.at("result").as_array().empty());
    }
    for (std::string_view type :
         {"DiagnosticReport", "Observation", "Encounter", "DocumentReference", "CareTeam"}) {
      EXPECT_GT(types[std::string(type)], 0u) << type << " for patient " << i;
    }
    EXPECT_EQ(types["CareTeam"], 1u);
    // Between three and five years of results, up to the end of the demo record.
    const int first_year = std::stoi(first_issued.substr(0, 4));
    const int last_year = std::stoi(last_issued.substr(0, 4));
    EXPECT_GE(last_year - first_year, 2) << i;
    EXPECT_LE(last_year - first_year, 5) << i;
    EXPECT_LE(last_issued.substr(0, 10), std::string(kDemoRecordEnd));
  }
  for (std::string_view type : {"MedicationRequest", "Condition", "AllergyIntolerance"}) {
    EXPECT_GT(types_overall[std::string(type)], 0u) << type;
  }
}

TEST(DemoRecords, ResultsHaveLoincUcumAReferenceRangeAndAFlagExactlyWhenOutOfRange) {
  std::size_t high = 0;
  std::size_t low = 0;
  std::size_t observations = 0;
  for (const auto& resource : Generate(30)) {
    if (resource.resource_type != "Observation") continue;
    ++observations;
    json::object observation = Parse(resource);
    EXPECT_EQ(observation.at("code").at("coding").at(0).at("system").as_string(),
              "http://loinc.org");
    const json::object& quantity = observation.at("valueQuantity").as_object();
    EXPECT_EQ(quantity.at("system").as_string(), "http://unitsofmeasure.org");
    EXPECT_FALSE(quantity.at("code").as_string().empty());
    const double value = Number(quantity.at("value"));
    EXPECT_GE(value, 0.0);
    const json::object& range = observation.at("referenceRange").at(0).as_object();
    std::string expected;
    if (range.contains("low") && value < Number(range.at("low").at("value"))) expected = "L";
    if (range.contains("high") && value > Number(range.at("high").at("value"))) expected = "H";
    std::string flag;
    if (observation.contains("interpretation")) {
      flag = observation.at("interpretation").at(0).at("coding").at(0).at("code").as_string();
    }
    EXPECT_EQ(flag, expected) << resource.json;
    high += flag == "H";
    low += flag == "L";
  }
  EXPECT_GT(observations, 1000u);
  // Some results are out of range both ways, most are not.
  EXPECT_GT(high, 0u);
  EXPECT_GT(low, 0u);
  EXPECT_LT(high + low, observations / 3);
}

TEST(DemoRecords, ADiabeticsHbA1cRisesBeforeTheDiagnosisAndFallsOnMetformin) {
  DemoDirectory directory = MakeDemoDirectory();
  std::size_t diabetics = 0;
  for (std::size_t i = 0; i < 200 && diabetics < 3; ++i) {
    DemoPerson person{"Martin", "Louis", 1, 1950, 3, 4, "76", static_cast<int>(i)};
    auto record = MakeDemoPatientRecord(directory, person, "p", 0, 0x64656d6f00000000ULL + i);
    std::string onset;
    std::vector<std::pair<std::string, double>> hba1c;  // (date, value), in record order
    bool metformin = false;
    for (const auto& resource : record) {
      json::object object = Parse(resource);
      if (resource.resource_type == "Condition" &&
          object.at("code").at("coding").at(0).at("code").as_string() == "E11.9") {
        onset = object.at("onsetDateTime").as_string();
      }
      if (resource.resource_type == "MedicationRequest" &&
          object.at("medicationCodeableConcept").at("coding").at(0).at("code").as_string() ==
              "A10BA02") {
        metformin = true;
      }
      if (resource.resource_type == "Observation" &&
          object.at("code").at("coding").at(0).at("code").as_string() == "4548-4") {
        hba1c.emplace_back(object.at("effectiveDateTime").as_string(),
                           Number(object.at("valueQuantity").at("value")));
      }
    }
    if (onset.empty() || onset < "2023" || hba1c.size() < 4) continue;
    ++diabetics;
    EXPECT_TRUE(metformin);
    // The highest value is near the diagnosis, above the 6.5 % threshold; a year of metformin
    // later it is lower.
    auto peak = std::max_element(hba1c.begin(), hba1c.end(),
                                 [](auto& a, auto& b) { return a.second < b.second; });
    EXPECT_GT(peak->second, 6.5);
    const auto& last = hba1c.back();
    if (last.first > peak->first && last.first.substr(0, 4) > onset.substr(0, 4)) {
      EXPECT_LT(last.second, peak->second);
    }
  }
  EXPECT_GT(diabetics, 0u);
}

TEST(DemoRecords, IdentifiersAreValidNirRppsFinessAndSiret) {
  std::size_t patients = 0;
  std::size_t staff = 0;
  for (const auto& resource : Generate(20)) {
    json::object object = Parse(resource);
    if (resource.resource_type == "Patient") {
      ++patients;
      const json::object& identifier = object.at("identifier").at(0).as_object();
      EXPECT_EQ(identifier.at("system").as_string(), kInsNirSystem);
      auto ins = ParseIns(std::string(identifier.at("system").as_string()),
                          std::string(identifier.at("value").as_string()));
      ASSERT_TRUE(ins.has_value()) << ins.error().message();
      EXPECT_EQ(ins->number, identifier.at("value").as_string());
      // The NIR agrees with the birth date and sex.
      std::string birth(object.at("birthDate").as_string());
      EXPECT_EQ(ins->number.substr(1, 2), birth.substr(2, 2));
      EXPECT_EQ(ins->number.substr(3, 2), birth.substr(5, 2));
      EXPECT_EQ(ins->number[0], object.at("gender").as_string() == "male" ? '1' : '2');
    }
    if (resource.resource_type == "Practitioner") {
      ++staff;
      const json::object& identifier = object.at("identifier").at(0).as_object();
      EXPECT_EQ(identifier.at("system").as_string(), "urn:oid:1.2.250.1.71.4.2.1");
      std::string value(identifier.at("value").as_string());
      ASSERT_EQ(value.size(), 12u);  // "8" + the 11-digit RPPS number
      EXPECT_EQ(value[0], '8');
      EXPECT_TRUE(LuhnValid(value.substr(1))) << value;
    }
    if (resource.resource_type == "Organization") {
      for (const auto& identifier : object.at("identifier").as_array()) {
        std::string value(identifier.at("value").as_string());
        // The lab's names in its HL7 feed (MSH-4), by which the feed's reports name it.
        if (identifier.at("system").as_string() != "urn:oid:1.2.250.1.71.4.2.2") {
          EXPECT_TRUE(value == "urn:oid:1.2.250.1.71.4.2.2.750001234" || value == "LBM-QUAIS")
              << value;
          continue;
        }
        // "1" + FINESS (9 digits) or "3" + SIRET (14 digits), each with its Luhn key.
        EXPECT_TRUE((value[0] == '1' && value.size() == 10) ||
                    (value[0] == '3' && value.size() == 15))
            << value;
        EXPECT_TRUE(LuhnValid(value.substr(1))) << value;
      }
    }
  }
  EXPECT_EQ(patients, 20u);
  EXPECT_EQ(staff, 8u);
}

TEST(DemoRecords, NotesAreBase64TextInline) {
  std::size_t notes = 0;
  for (const auto& resource : Generate(5)) {
    if (resource.resource_type != "DocumentReference") continue;
    json::object object = Parse(resource);
    if (object.at("type").at("coding").at(0).at("code").as_string() != "11506-3") continue;
    ++notes;
    const json::object& attachment = object.at("content").at(0).at("attachment").as_object();
    EXPECT_EQ(attachment.at("contentType").as_string(), "text/plain; charset=utf-8");
    auto bytes = DecodeBase64(attachment.at("data").as_string(), Base64Alphabet::kStandard);
    ASSERT_TRUE(bytes.has_value());
    std::string text(bytes->begin(), bytes->end());
    EXPECT_TRUE(text.starts_with("Consultation du ")) << text;
    EXPECT_EQ(Number(attachment.at("size")), static_cast<double>(bytes->size()));
  }
  EXPECT_GT(notes, 0u);
}

TEST(DemoRecords, RecentLabVisitsComeWithAPdfReportAsBinary) {
  std::map<std::string, json::object> binaries;
  std::vector<json::object> documents;
  std::set<std::string> presented;
  for (const auto& resource : Generate(5)) {
    json::object object = Parse(resource);
    if (resource.resource_type == "Binary") binaries.emplace(resource.id, object);
    if (resource.resource_type == "DocumentReference" &&
        object.at("type").at("coding").at(0).at("code").as_string() == "11502-2") {
      documents.push_back(object);
    }
    if (resource.resource_type == "DiagnosticReport" && object.contains("presentedForm")) {
      presented.insert(std::string(object.at("presentedForm").at(0).at("url").as_string()));
    }
  }
  ASSERT_GE(documents.size(), 5u);
  EXPECT_EQ(binaries.size(), documents.size());
  for (const json::object& document : documents) {
    const json::object& attachment = document.at("content").at(0).at("attachment").as_object();
    EXPECT_EQ(attachment.at("contentType").as_string(), "application/pdf");
    std::string url(attachment.at("url").as_string());
    EXPECT_TRUE(presented.contains(url)) << "a report presents " << url;
    auto binary = binaries.find(url.substr(std::string("Binary/").size()));
    ASSERT_NE(binary, binaries.end()) << url;
    EXPECT_EQ(binary->second.at("securityContext").at("reference").as_string(),
              "DocumentReference/" + std::string(document.at("id").as_string()));
    auto bytes = DecodeBase64(binary->second.at("data").as_string(), Base64Alphabet::kStandard);
    ASSERT_TRUE(bytes.has_value());
    std::string pdf(bytes->begin(), bytes->end());
    EXPECT_TRUE(pdf.starts_with("%PDF-1.4\n")) << pdf.substr(0, 20);
    EXPECT_TRUE(pdf.ends_with("%%EOF\n"));
    EXPECT_NE(pdf.find("Compte rendu d'analyses"), std::string::npos);
    EXPECT_EQ(Number(attachment.at("size")), static_cast<double>(bytes->size()));
    // The cross-reference table points at each object.
    const std::size_t xref = std::stoul(pdf.substr(pdf.rfind("startxref\n") + 10));
    EXPECT_EQ(pdf.compare(xref, 4, "xref"), 0);
  }
}

// A demo written into a real vault and read back.
class DemoVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "medvault-demo-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(CreateVault(dir_ / "vault", {}));
    auto vault = OpenVault(dir_ / "vault", {});
    ASSERT_TRUE(vault.has_value()) << vault.error().message();
    vault_ = std::move(*vault);
  }
  void TearDown() override {
    vault_ = {};
    fs::remove_all(dir_);
  }
  fs::path dir_;
  OpenedVault vault_;
};

TEST_F(DemoVaultTest, EveryWrittenResourceReadsBackAsWrittenAndEachPatientBatchIsAudited) {
  auto summary = AddDemoPatients(vault_, 7);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  EXPECT_EQ(summary->patients, 12u);
  EXPECT_GT(summary->written.size(), 12u * 50);

  // The same content as the generator's, read back decrypted.
  auto access = policy::PhiAccessForTesting::Grant("demo test");
  std::set<std::string> patients;
  std::map<std::string, std::size_t> types;
  for (const DemoWritten& written : summary->written) {
    auto resource = vault_.records->Get(access, written.resource_type, written.id);
    ASSERT_TRUE(resource.has_value()) << written.resource_type << "/" << written.id;
    EXPECT_EQ(resource->patient_id, written.patient_id);
    EXPECT_EQ(resource->version, 1);
    json::value value = json::parse(std::string_view(resource->json.view()));
    EXPECT_EQ(value.at("id").as_string(), written.id);
    EXPECT_EQ(IssuesOf(resource->json.view()), "") << written.resource_type << "/" << written.id;
    ++types[written.resource_type];
    if (!written.patient_id.empty()) patients.insert(written.patient_id);
  }
  // The 12 patients and the guard's canaries.
  ASSERT_EQ(summary->canary_ids.size(), 4u);
  EXPECT_EQ(patients.size(), 16u);
  EXPECT_EQ(types["Patient"], 16u);
  EXPECT_EQ(types["Organization"], 2u);
  EXPECT_EQ(types["Practitioner"], 8u);
  EXPECT_EQ(types["PractitionerRole"], 8u);
  EXPECT_TRUE(patients.contains(summary->first_patient_id));

  // The first patient is Hélène Dupont, Dr Martin's patient (the demo clinician), whose file
  // shows every kind of record.
  std::set<std::string> first_types;
  for (const DemoWritten& written : summary->written) {
    if (written.patient_id == summary->first_patient_id) first_types.insert(written.resource_type);
  }
  EXPECT_EQ(first_types.size(), 10u);  // the ten patient compartment types the demo writes
  auto first = vault_.records->Get(access, "Patient", summary->first_patient_id);
  ASSERT_TRUE(first.has_value());
  json::value patient = json::parse(std::string_view(first->json.view()));
  EXPECT_EQ(patient.at("name").at(0).at("family").as_string(), "Dupont");
  std::string gp(patient.at("generalPractitioner").at(0).at("reference").as_string());
  auto practitioner = vault_.records->Get(access, "Practitioner", gp.substr(gp.find('/') + 1));
  ASSERT_TRUE(practitioner.has_value());
  EXPECT_EQ(json::parse(std::string_view(practitioner->json.view()))
                .at("name")
                .at(0)
                .at("family")
                .as_string(),
            "Martin");

  // One create by the operator per patient, naming the patient, plus one for the directory.
  SystemClock clock;
  auto log = audit::AuditLog::Open(*vault_.store, clock);
  ASSERT_TRUE(log.has_value());
  audit::Search search;
  search.by = audit::Search::By::kAction;
  search.key = "create";
  auto entries = (*log)->Find(search);
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 17u);
  std::set<std::string> audited;
  for (const audit::Entry& entry : *entries) {
    EXPECT_EQ(entry.role, audit::Role::kOperator);
    EXPECT_EQ(entry.client, "cli");
    EXPECT_EQ(entry.outcome, audit::Outcome::kSuccess);
    if (entry.patient_ids.empty()) {
      EXPECT_EQ(entry.resource_ids.size(), 18u);  // the directory
      continue;
    }
    ASSERT_EQ(entry.patient_ids.size(), 1u);
    audited.insert(entry.patient_ids[0]);
  }
  EXPECT_EQ(audited, patients);
}

TEST_F(DemoVaultTest, OneGpNoteOfTheFirstPatientIsMentalHealthAndHiddenFromDrMartin) {
  auto summary = AddDemoPatients(vault_, 0);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  ASSERT_FALSE(summary->sensitive_note_id.empty());
  auto access = policy::PhiAccessForTesting::Grant("demo test");
  std::size_t labelled = 0;
  for (const DemoWritten& written : summary->written) {
    if (written.resource_type != "DocumentReference") continue;
    auto resource = vault_.records->Get(access, written.resource_type, written.id);
    ASSERT_TRUE(resource.has_value());
    const json::object document = json::parse(std::string_view(resource->json.view())).as_object();
    if (policy::SensitiveCategoriesOf(document).empty()) continue;
    ++labelled;
    EXPECT_EQ(written.id, summary->sensitive_note_id);
    EXPECT_EQ(written.patient_id, summary->first_patient_id);
    EXPECT_EQ(policy::SensitiveCategoriesOf(document),
              std::vector{policy::SensitiveCategory::kMentalHealth});
    policy::Principal dr_martin;
    dr_martin.role = audit::Role::kClinician;
    EXPECT_FALSE(policy::MayViewSensitive(dr_martin, document));
    policy::Principal patient;
    patient.role = audit::Role::kPatient;
    EXPECT_TRUE(policy::MayViewSensitive(patient, document));
  }
  EXPECT_EQ(labelled, 1u);
}

TEST_F(DemoVaultTest, CanariesHaveCommonNamesIdsSpreadThroughTheIdOrderAndAreConfigured) {
  auto summary = AddDemoPatients(vault_, 3);
  ASSERT_TRUE(summary.has_value()) << summary.error().message();
  ASSERT_EQ(summary->canary_ids.size(), 4u);
  std::set<char> first_characters;
  auto access = policy::PhiAccessForTesting::Grant("demo test");
  for (const std::string& id : summary->canary_ids) {
    first_characters.insert(id[0]);
    auto patient = vault_.records->Get(access, "Patient", id);
    ASSERT_TRUE(patient.has_value()) << id;
    const std::string family(json::parse(std::string_view(patient->json.view()))
                                 .at("name")
                                 .at(0)
                                 .at("family")
                                 .as_string());
    EXPECT_TRUE(family == "Martin" || family == "Bernard" || family == "Dubois" ||
                family == "Thomas")
        << family;
    EXPECT_NE(id, summary->first_patient_id);
  }
  EXPECT_EQ(first_characters.size(), 4u);
  // The vault's configuration names them for the guard.
  auto config = LoadConfig(dir_ / "vault", [](const char*) -> const char* { return nullptr; });
  ASSERT_TRUE(config.has_value()) << config.error().message();
  std::string expected;
  for (const std::string& id : summary->canary_ids) expected += (expected.empty() ? "" : " ") + id;
  EXPECT_EQ(config->guard.canaries, expected);
}

TEST_F(DemoVaultTest, NothingReadableReachesTheStore) {
  ASSERT_TRUE(AddDemoPatients(vault_, 0).has_value());
  vault_ = {};
  std::string stored;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "vault" / "data")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    stored.append(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(stored.size(), 100'000u);
  for (std::string_view plain : {"Laboratoire de biologie", "Rousseau", "Hémogramme", "58410-2",
                                 "http://loinc.org", "Consultation", "A10BA02", "Q29uc3VsdGF0"}) {
    EXPECT_EQ(stored.find(plain), std::string::npos) << plain;
  }
}

}  // namespace
}  // namespace medvault::cli
