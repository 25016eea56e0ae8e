// A realistic two-page report for the PDF tests and the benchmark: a lab with its address, a
// patient with accents, a report of 60 results (some abnormal, one with a note), and earlier
// values of a few analytes.
#pragma once

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "lab/report_pdf.h"

namespace medvault::lab::testing {

inline boost::json::object Parse(std::string_view text) {
  return boost::json::parse(text).as_object();
}

inline boost::json::object LabResult(int i, double value, std::string_view when) {
  return Parse(fmt::format(
      R"({{"resourceType":"Observation","status":"final",)"
      R"("code":{{"coding":[{{"system":"http://loinc.org","code":"1000-{}","display":"Analyte n° {}"}}]}},)"
      R"("subject":{{"reference":"Patient/p1"}},"effectiveDateTime":"{}",)"
      R"("valueQuantity":{{"value":{},"unit":"mmol/L"}},)"
      R"("referenceRange":[{{"low":{{"value":3.9}},"high":{{"value":5.8}}}}]}})",
      i, i, when, value));
}

struct TwoPageReport {
  boost::json::object report;
  std::vector<boost::json::object> observations;
  boost::json::object patient;
  boost::json::object organization;
  std::vector<boost::json::object> previous;

  TwoPageReport() {
    report = Parse(
        R"({"resourceType":"DiagnosticReport","status":"final",)"
        R"("code":{"text":"Bilan biochimique"},"subject":{"reference":"Patient/p1"},)"
        R"("effectiveDateTime":"2026-11-02T08:30:00+01:00","issued":"2026-11-02T14:05:00.000000Z",)"
        R"("resultsInterpreter":[{"display":"Dr Amélie Lefèvre"}],)"
        R"("conclusion":"Hyperglycémie modérée, à contrôler à jeun."})");
    patient = Parse(
        R"({"resourceType":"Patient","name":[{"family":"Dupont","given":["Hélène","Marie"]}],)"
        R"("birthDate":"1980-04-12","gender":"female",)"
        R"("identifier":[{"system":"https://lab.example.org/mrn","value":"MRN-000417"}]})");
    organization =
        Parse(R"({"resourceType":"Organization","name":"Laboratoire Bio-Santé Lyon Sud",)"
              R"("address":[{"line":["12 rue de l'Hôpital"],"postalCode":"69003","city":"Lyon"}],)"
              R"("telecom":[{"system":"phone","value":"+33 4 72 00 00 00"}]})");
    for (int i = 0; i < 60; ++i) {
      observations.push_back(LabResult(i, i % 7 == 0 ? 7.3 : 4.6, "2026-11-02T08:30:00+01:00"));
    }
    observations[3]["note"] =
        boost::json::array{boost::json::object{{"text", "Échantillon légèrement hémolysé."}}};
    previous.push_back(LabResult(0, 6.1, "2026-05-10T09:00:00+02:00"));
    previous.push_back(LabResult(0, 5.2, "2025-12-01T09:00:00+01:00"));
    previous.push_back(LabResult(1, 4.4, "2026-05-10T09:00:00+02:00"));
  }

  ReportContent Content() const {
    return {.report = report,
            .observations = observations,
            .patient = patient,
            .organization = &organization,
            .previous = previous};
  }
};

}  // namespace medvault::lab::testing
