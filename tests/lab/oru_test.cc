#include "lab/oru.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "fhir/bundle.h"
#include "fhir/resource.h"
#include "lab/lab_messages.h"

namespace medvault::lab {
namespace {

namespace json = boost::json;
using testing::ReadMessageFile;

Hl7Result<json::object> MapText(std::string_view text) {
  auto message = Message::Parse(text);
  if (!message) return std::unexpected(message.error());
  auto header = ReadHeader(*message);
  if (!header) return std::unexpected(header.error());
  return MapOru(*message, *header);
}

json::object MapFile(std::string_view name) {
  auto bundle = MapText(ReadMessageFile(name));
  EXPECT_TRUE(bundle) << (bundle ? "" : bundle.error().text);
  return bundle ? *bundle : json::object{};
}

std::vector<json::object> ResourcesOf(const json::object& bundle, std::string_view type) {
  std::vector<json::object> out;
  for (const json::value& entry : bundle.at("entry").as_array()) {
    const json::object& resource = entry.at("resource").as_object();
    if (resource.at("resourceType").as_string() == type) out.push_back(resource);
  }
  return out;
}

const json::object& RequestOf(const json::object& bundle, std::string_view type) {
  for (const json::value& entry : bundle.at("entry").as_array()) {
    if (entry.at("resource").at("resourceType").as_string() == type) {
      return entry.at("request").as_object();
    }
  }
  static const json::object kNone;
  return kNone;
}

TEST(OruMapping, GivesATransactionBundleTheFhirApiAccepts) {
  for (std::string_view name : {"oru_cbc.hl7", "oru_escapes.hl7", "oru_two_orders.hl7"}) {
    const json::object bundle = MapFile(name);
    auto parsed = fhir::ParseBundle(bundle);
    ASSERT_TRUE(parsed) << name;
    EXPECT_EQ(parsed->kind, fhir::BundleKind::kTransaction);
    for (const fhir::IncomingEntry& entry : parsed->entries) {
      ASSERT_TRUE(entry.resource);
      const auto issues =
          fhir::Validate(*entry.resource, {.allow_urn_uuid_references = true,
                                           .require_id = entry.method == fhir::EntryMethod::kPut});
      EXPECT_TRUE(issues.empty()) << name << " " << json::serialize(*entry.resource) << ": "
                                  << (issues.empty() ? ""
                                                     : issues.front().expression + " " +
                                                           issues.front().diagnostics);
    }
  }
}

TEST(OruMapping, MatchesThePatientTheLabAndThePractitionerByIdentifier) {
  const json::object bundle = MapFile("oru_cbc.hl7");
  EXPECT_EQ(std::string(RequestOf(bundle, "Patient").at("method").as_string()), "POST");
  EXPECT_EQ(std::string(RequestOf(bundle, "Patient").at("ifNoneExist").as_string()),
            "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB123456");
  EXPECT_EQ(std::string(RequestOf(bundle, "Practitioner").at("ifNoneExist").as_string()),
            "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789");
  EXPECT_EQ(std::string(RequestOf(bundle, "Organization").at("ifNoneExist").as_string()),
            "identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.71.4.2.2.750001234");
  const json::object patient = ResourcesOf(bundle, "Patient").at(0);
  EXPECT_EQ(patient.at("name").at(0).at("family").as_string(), "Dupont");
  EXPECT_EQ(patient.at("name").at(0).at("given").at(1).as_string(), "Marie");
  EXPECT_EQ(patient.at("name").at(0).at("use").as_string(), "official");
  EXPECT_EQ(patient.at("birthDate").as_string(), "1978-04-12");
  EXPECT_EQ(patient.at("gender").as_string(), "female");
  EXPECT_EQ(patient.at("address").at(0).at("city").as_string(), "Lyon");
  EXPECT_EQ(patient.at("telecom").at(1).at("system").as_string(), "email");
  const json::object practitioner = ResourcesOf(bundle, "Practitioner").at(0);
  EXPECT_EQ(practitioner.at("name").at(0).at("family").as_string(), "Martin");
}

TEST(OruMapping, MapsNumericResultsWithUnitsRangesAndFlags) {
  const json::object bundle = MapFile("oru_cbc.hl7");
  const auto observations = ResourcesOf(bundle, "Observation");
  ASSERT_EQ(observations.size(), 5u);
  const json::object& leukocytes = observations[0];
  EXPECT_EQ(leukocytes.at("code").at("coding").at(0).at("system").as_string(), "http://loinc.org");
  EXPECT_EQ(leukocytes.at("code").at("coding").at(0).at("code").as_string(), "6690-2");
  EXPECT_DOUBLE_EQ(leukocytes.at("valueQuantity").at("value").to_number<double>(), 7.2);
  EXPECT_EQ(leukocytes.at("valueQuantity").at("code").as_string(), "10*9/L");
  EXPECT_EQ(leukocytes.at("valueQuantity").at("system").as_string(), "http://unitsofmeasure.org");
  EXPECT_DOUBLE_EQ(leukocytes.at("referenceRange").at(0).at("low").at("value").to_number<double>(),
                   4.0);
  EXPECT_DOUBLE_EQ(leukocytes.at("referenceRange").at(0).at("high").at("value").to_number<double>(),
                   10.0);
  EXPECT_EQ(leukocytes.at("status").as_string(), "preliminary");
  EXPECT_EQ(leukocytes.at("effectiveDateTime").as_string(), "2026-12-03T07:30:00+01:00");
  EXPECT_EQ(observations[1].at("interpretation").at(0).at("coding").at(0).at("code").as_string(),
            "L");
  EXPECT_EQ(observations[2].at("note").at(0).at("text").as_string(),
            "Contrôle conseillé dans 3 mois.");
  const json::object& glucose = observations[4];
  EXPECT_FALSE(glucose.at("referenceRange").at(0).as_object().contains("low"));
  EXPECT_DOUBLE_EQ(glucose.at("referenceRange").at(0).at("high").at("value").to_number<double>(),
                   1.10);
  EXPECT_EQ(glucose.at("interpretation").as_array().size(), 2u);
}

TEST(OruMapping, TheReportLinksItsResultsTheLabAndTheOrderingPractitioner) {
  const json::object bundle = MapFile("oru_cbc.hl7");
  const json::object report = ResourcesOf(bundle, "DiagnosticReport").at(0);
  EXPECT_EQ(report.at("status").as_string(), "preliminary");
  EXPECT_EQ(report.at("code").at("coding").at(0).at("code").as_string(), "58410-2");
  EXPECT_EQ(report.at("conclusion").as_string(), "Prélèvement à jeun.");
  EXPECT_EQ(report.at("identifier").at(0).at("value").as_string(), "FIL-55012");
  EXPECT_EQ(report.at("result").as_array().size(), 5u);
  const auto observations = ResourcesOf(bundle, "Observation");
  EXPECT_EQ(report.at("result").at(0).at("reference").as_string(),
            "Observation/" + std::string(observations[0].at("id").as_string()));
  ASSERT_EQ(report.at("performer").as_array().size(), 2u);
  std::string lab_url, practitioner_url, patient_url;
  for (const json::value& entry : bundle.at("entry").as_array()) {
    const auto type = entry.at("resource").at("resourceType").as_string();
    if (type == "Organization") lab_url = entry.at("fullUrl").as_string();
    if (type == "Practitioner") practitioner_url = entry.at("fullUrl").as_string();
    if (type == "Patient") patient_url = entry.at("fullUrl").as_string();
  }
  EXPECT_EQ(report.at("performer").at(0).at("reference").as_string(), lab_url);
  EXPECT_EQ(report.at("performer").at(1).at("reference").as_string(), practitioner_url);
  EXPECT_EQ(report.at("subject").at("reference").as_string(), patient_url);
  EXPECT_EQ(std::string(RequestOf(bundle, "DiagnosticReport").at("method").as_string()), "PUT");
}

TEST(OruMapping, MapsCodedTextAndStructuredValuesNotesAndStatuses) {
  const json::object bundle = MapFile("oru_escapes.hl7");
  const auto observations = ResourcesOf(bundle, "Observation");
  ASSERT_EQ(observations.size(), 5u);
  EXPECT_EQ(observations[0].at("valueQuantity").at("comparator").as_string(), "<");
  EXPECT_DOUBLE_EQ(observations[0].at("valueQuantity").at("value").to_number<double>(), 0.5);
  EXPECT_EQ(observations[1].at("valueCodeableConcept").at("coding").at(0).at("code").as_string(),
            "A");
  EXPECT_EQ(observations[1].at("valueCodeableConcept").at("text").as_string(), "Group A");
  EXPECT_EQ(observations[2].at("valueString").as_string(),
            "Résultat contrôlé par le biologiste.\nSeuil | 1^2 \\ fin A.");
  EXPECT_EQ(observations[3].at("valueString").as_string(), "ligne un\nligne deux");
  EXPECT_EQ(observations[3].at("note").at(0).at("text").as_string(), "Note A\nNote B");
  EXPECT_EQ(observations[4].at("status").as_string(), "corrected");
  const json::object report = ResourcesOf(bundle, "DiagnosticReport").at(0);
  EXPECT_EQ(report.at("status").as_string(), "final");
  EXPECT_EQ(report.at("effectiveDateTime").as_string(), "2026-12-03");  // no offset: date only
  const json::object patient = ResourcesOf(bundle, "Patient").at(0);
  EXPECT_EQ(patient.at("name").at(0).at("given").at(0).as_string(), "Anne&Sophie");
  EXPECT_EQ(patient.at("name").at(1).at("use").as_string(), "maiden");
  EXPECT_EQ(patient.at("telecom").at(0).at("use").as_string(), "mobile");
  EXPECT_TRUE(ResourcesOf(bundle, "Practitioner").empty());
}

TEST(OruMapping, OneReportPerOrderAndOnePractitionerPerPerson) {
  const json::object bundle = MapFile("oru_two_orders.hl7");
  const auto reports = ResourcesOf(bundle, "DiagnosticReport");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NE(reports[0].at("id"), reports[1].at("id"));
  EXPECT_EQ(ResourcesOf(bundle, "Practitioner").size(), 1u);
  EXPECT_EQ(reports[0].at("performer").at(1), reports[1].at("performer").at(1));
}

TEST(OruMapping, TheSameOrderFromTheSameLabKeepsItsIds) {
  const json::object first = MapFile("oru_cbc.hl7");
  std::string again = ReadMessageFile("oru_cbc.hl7");
  again.replace(again.find("MSG-CBC-0001"), 12, "MSG-CBC-0099");
  auto second = MapText(again);
  ASSERT_TRUE(second);
  EXPECT_EQ(ResourcesOf(first, "DiagnosticReport").at(0).at("id"),
            ResourcesOf(*second, "DiagnosticReport").at(0).at("id"));
  EXPECT_EQ(ResourcesOf(first, "Observation").at(3).at("id"),
            ResourcesOf(*second, "Observation").at(3).at("id"));
  std::string other_lab = ReadMessageFile("oru_cbc.hl7");
  other_lab.replace(other_lab.find("LBM-QUAIS^1.2"), 9, "LBM-RIVES");
  auto third = MapText(other_lab);
  ASSERT_TRUE(third);
  EXPECT_NE(ResourcesOf(first, "DiagnosticReport").at(0).at("id"),
            ResourcesOf(*third, "DiagnosticReport").at(0).at("id"));
}

struct Unmappable {
  std::string_view file;
  std::string_view from;  // replaced in the file's text by `to`
  std::string_view to;
  Condition condition;
  std::string_view segment;
  std::size_t sequence;
  std::size_t field;
};

class OruMappingRefuses : public ::testing::TestWithParam<Unmappable> {};

TEST_P(OruMappingRefuses, NamingTheFieldAndTheProblem) {
  const Unmappable& c = GetParam();
  std::string text = ReadMessageFile(c.file);
  if (!c.from.empty()) {
    const auto at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
  }
  auto bundle = MapText(text);
  ASSERT_FALSE(bundle);
  EXPECT_EQ(bundle.error().condition, c.condition) << bundle.error().text;
  EXPECT_EQ(bundle.error().where.segment, c.segment) << bundle.error().text;
  EXPECT_EQ(bundle.error().where.sequence, c.sequence) << bundle.error().text;
  EXPECT_EQ(bundle.error().where.field, c.field) << bundle.error().text;
  EXPECT_TRUE(bundle.error().text.starts_with(std::string(c.segment)));
  // No value from the message is quoted.
  for (std::string_view value : {"Dupont", "11.8", "abc", "LAB123456", "2.3", "Z"}) {
    EXPECT_EQ(bundle.error().text.find(value), std::string::npos) << bundle.error().text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Messages, OruMappingRefuses,
    ::testing::Values(
        Unmappable{"oru_missing_pid3.hl7", "", "", Condition::kRequiredFieldMissing, "PID", 1, 3},
        Unmappable{"adt_a01.hl7", "", "", Condition::kUnsupportedMessageType, "MSH", 1, 9},
        Unmappable{"oru_cbc.hl7", "ORU^R01^ORU_R01", "ORU^R03", Condition::kUnsupportedEventCode,
                   "MSH", 1, 9},
        Unmappable{"oru_cbc.hl7", "|P|2.5|", "|P|2.3|", Condition::kUnsupportedVersion, "MSH", 1,
                   12},
        Unmappable{"oru_cbc.hl7", "|MSG-CBC-0001|", "||", Condition::kRequiredFieldMissing, "MSH",
                   1, 10},
        Unmappable{"oru_cbc.hl7", "|P|2.5|", "|Z|2.5|", Condition::kUnsupportedProcessingId, "MSH",
                   1, 11},
        Unmappable{"oru_cbc.hl7", "||11.8|", "||abc|", Condition::kDataType, "OBX", 3, 5},
        Unmappable{"oru_cbc.hl7", "4.2-5.4|L|||P|", "4.2-5.4|L||||",
                   Condition::kRequiredFieldMissing, "OBX", 2, 11},
        Unmappable{"oru_cbc.hl7", "OBX|4|NM|", "OBX|4|ZZ|", Condition::kDataType, "OBX", 4, 2},
        Unmappable{"oru_cbc.hl7", "|19780412|F|", "|19781312|F|", Condition::kDataType, "PID", 1,
                   7},
        Unmappable{"oru_cbc.hl7", "|19780412|F|", "|19780412|Z|", Condition::kTableValueNotFound,
                   "PID", 1, 8},
        Unmappable{"oru_cbc.hl7", "58410-2^CBC panel - Blood by Automated count^LN", "",
                   Condition::kRequiredFieldMissing, "OBR", 1, 4},
        Unmappable{"oru_two_orders.hl7", "ORC|RE||FIL-55021", "PID|2||X^^^Y",
                   Condition::kSegmentSequence, "PID", 2, 0}));

TEST(OruMapping, RefusesAMessageWithoutResults) {
  auto bundle = MapText("MSH|^~\\&|A|LAB|B|C|20261203||ORU^R01|1|P|2.5\rPID|1||X\r");
  ASSERT_FALSE(bundle);
  EXPECT_EQ(bundle.error().where.segment, "OBR");
}

}  // namespace
}  // namespace medvault::lab
