#include "api/fhir_response.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace medvault::api {
namespace {

using namespace std::chrono;

Timestamp At() {
  return Timestamp(sys_days{year{2026} / 12 / 2}.time_since_epoch() + hours(13) + minutes(5) +
                   seconds(9) + microseconds(123));
}

records::StoredResource Stored(boost::json::object resource) {
  records::StoredResource stored;
  stored.resource_type = std::string(resource.at("resourceType").as_string());
  stored.id = "abc";
  stored.version = 4;
  stored.last_updated = At();
  stored.resource = std::move(resource);
  return stored;
}

TEST(FhirResponse, TimesAreWrittenAsHttpDatesAndFhirInstants) {
  EXPECT_EQ(HttpDate(At()), "Wed, 02 Dec 2026 13:05:09 GMT");
  EXPECT_EQ(Instant(At()), "2026-12-02T13:05:09.000123Z");
}

TEST(FhirResponse, ACreatedResourceCarriesItsVersionHeadersAndLocation) {
  auto stored = Stored({{"resourceType", "Observation"}, {"id", "abc"}, {"status", "final"}});
  auto created = ResourceResponse(http::Status::created, stored, "https://h:1/fhir",
                                  ReturnPreference::kRepresentation, 11);
  EXPECT_EQ(created.result_int(), 201u);
  EXPECT_EQ(created[http::beast_http::field::etag], "W/\"4\"");
  EXPECT_EQ(created[http::beast_http::field::location],
            "https://h:1/fhir/Observation/abc/_history/4");
  EXPECT_EQ(created[http::beast_http::field::content_location],
            "https://h:1/fhir/Observation/abc/_history/4");
  EXPECT_EQ(created[http::beast_http::field::last_modified], "Wed, 02 Dec 2026 13:05:09 GMT");
  EXPECT_EQ(boost::json::parse(created.body()).at("status").as_string(), "final");

  auto minimal = ResourceResponse(http::Status::ok, stored, "https://h:1/fhir",
                                  ReturnPreference::kMinimal, 11);
  EXPECT_TRUE(minimal.body().empty());
  EXPECT_EQ(minimal[http::beast_http::field::location], "");
  EXPECT_EQ(minimal[http::beast_http::field::etag], "W/\"4\"");
}

TEST(FhirResponse, ABinaryIsSentAsItsBytesAndPdfsAsAttachments) {
  // "%PDF-" and a byte of each high value, base64.
  auto pdf = Stored(
      {{"resourceType", "Binary"}, {"contentType", "application/pdf"}, {"data", "JVBERi0A/4A="}});
  auto answer = BinaryResponse(pdf, 11);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->body(), std::string("%PDF-\0\xff\x80", 8));
  EXPECT_EQ((*answer)[http::beast_http::field::content_type], "application/pdf");
  EXPECT_EQ((*answer)[http::beast_http::field::content_disposition],
            "attachment; filename=\"abc.pdf\"");

  auto text = Stored({{"resourceType", "Binary"}, {"contentType", "text/plain"}, {"data", "aGk="}});
  EXPECT_EQ((*BinaryResponse(text, 11))[http::beast_http::field::content_disposition], "");
  auto html = Stored({{"resourceType", "Binary"}, {"contentType", "text/html"}, {"data", "PGI+"}});
  EXPECT_EQ((*BinaryResponse(html, 11))[http::beast_http::field::content_disposition],
            "attachment; filename=\"abc\"");
  auto injected = Stored({{"resourceType", "Binary"},
                          {"contentType", "text/plain\r\nSet-Cookie: x=y"},
                          {"data", "aGk="}});
  EXPECT_EQ((*BinaryResponse(injected, 11))[http::beast_http::field::content_type],
            "application/octet-stream");
  auto broken = Stored({{"resourceType", "Binary"}, {"contentType", "text/plain"}, {"data", "*"}});
  ASSERT_FALSE(BinaryResponse(broken, 11));
  EXPECT_EQ(BinaryResponse(broken, 11).error().failure, fhir::Failure::kInternal);
}

}  // namespace
}  // namespace medvault::api
