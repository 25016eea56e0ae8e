#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "fhir/resource.h"

namespace medvault::fhir {
namespace {

std::string RoundTrip(std::string_view text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? SerializeJson(*parsed) : "";
}

TEST(FhirSerializeJson, DecimalsAreWrittenInPlainNotation) {
  EXPECT_EQ(RoundTrip(R"({"value":5.4})"), R"({"value":5.4})");
  EXPECT_EQ(RoundTrip(R"({"value":0.25,"low":-3.75})"), R"({"value":0.25,"low":-3.75})");
  EXPECT_EQ(RoundTrip(R"({"value":1.2E2})"), R"({"value":120})");
  EXPECT_EQ(RoundTrip(R"({"value":0.000123})"), R"({"value":0.000123})");
  EXPECT_EQ(RoundTrip(R"({"value":1e-9})"), R"({"value":1e-09})");
  EXPECT_EQ(RoundTrip(R"({"value":2.5e20})"), R"({"value":2.5e+20})");
}

TEST(FhirSerializeJson, EverythingElseIsWrittenAsBoostWritesIt) {
  const std::string text =
      R"({"resourceType":"Observation","id":"o1","n":[1,-2,18446744073709551615],)"
      R"("ok":true,"none":null,"s":"é \"q\" \n","o":{}})";
  auto parsed = ParseJson(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(SerializeJson(*parsed), boost::json::serialize(*parsed));
}

TEST(FhirSerializeJson, WhatItWritesReadsBackToTheSameNumbers) {
  for (double value : {5.4, 0.1, 1.0 / 3.0, 123456.789, 7.0, -0.5, 1e-7, 98765432109876.5}) {
    const std::string text = SerializeJson(boost::json::value(value));
    EXPECT_EQ(boost::json::parse(text).to_number<double>(), value) << text;
    EXPECT_EQ(text.find('E'), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace medvault::fhir
