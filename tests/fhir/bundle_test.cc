#include "fhir/bundle.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "fhir/resource.h"
#include "fhir_test_util.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;
using testing::Example;

constexpr std::string_view kPatientUuid = "urn:uuid:8f1e2c3a-9b7d-4e21-a0c4-1d2e3f405a6b";
constexpr std::string_view kObservationUuid = "urn:uuid:0c3b7a52-5d8e-4f1a-9e2b-3c4d5e6f7a8b";

// A lab's transaction: a new patient and an observation that references it by urn:uuid, an
// update, a conditional create, a read and a delete.
json::object LabTransaction() {
  json::object patient = Example("patient");
  patient.erase("id");
  json::object observation = Example("observation");
  observation.erase("id");
  observation["subject"] = json::object{{"reference", kPatientUuid}};
  json::object condition = Example("condition");
  json::array entries;
  entries.push_back(
      json::object{{"fullUrl", kPatientUuid},
                   {"resource", patient},
                   {"request", json::object{{"method", "POST"}, {"url", "Patient"}}}});
  entries.push_back(json::object{
      {"fullUrl", kObservationUuid},
      {"resource", observation},
      {"request", json::object{{"method", "POST"},
                               {"url", "Observation"},
                               {"ifNoneExist", "identifier=urn:oid:1.2.250.1.999.1.2|X"}}}});
  entries.push_back(json::object{
      {"fullUrl", "https://medvault.example/fhir/Condition/cond-diabete"},
      {"resource", condition},
      {"request",
       json::object{
           {"method", "PUT"}, {"url", "Condition/cond-diabete"}, {"ifMatch", "W/\"3\""}}}});
  entries.push_back(
      json::object{{"request", json::object{{"method", "GET"}, {"url", "Patient/pat-dupont"}}}});
  entries.push_back(json::object{
      {"request",
       json::object{{"method", "GET"}, {"url", "Observation?patient=pat-dupont&code=2345-7"}}}});
  entries.push_back(
      json::object{{"request", json::object{{"method", "DELETE"},
                                            {"url", "AllergyIntolerance/allergie-penicilline"}}}});
  return json::object{{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", entries}};
}

std::string FirstExpression(const FhirResult<IncomingBundle>& bundle) {
  return bundle ? std::string("<parsed>") : bundle.error().issues.at(0).expression;
}

TEST(FhirBundle, ReadsATransactionEntryByEntry) {
  auto bundle = ParseBundle(LabTransaction());
  ASSERT_TRUE(bundle.has_value()) << bundle.error().issues.at(0).expression << ": "
                                  << bundle.error().issues.at(0).diagnostics;
  EXPECT_EQ(bundle->kind, BundleKind::kTransaction);
  ASSERT_EQ(bundle->entries.size(), 6u);
  const auto& post = bundle->entries[0];
  EXPECT_EQ(post.method, EntryMethod::kPost);
  EXPECT_EQ(post.url, "Patient");
  EXPECT_EQ(post.full_url, kPatientUuid);
  ASSERT_TRUE(post.resource.has_value());
  EXPECT_EQ(post.resource->at("resourceType").as_string(), "Patient");
  EXPECT_EQ(bundle->entries[1].if_none_exist, "identifier=urn:oid:1.2.250.1.999.1.2|X");
  EXPECT_EQ(bundle->entries[2].method, EntryMethod::kPut);
  EXPECT_EQ(bundle->entries[2].if_match, "W/\"3\"");
  EXPECT_EQ(bundle->entries[3].method, EntryMethod::kGet);
  EXPECT_FALSE(bundle->entries[3].resource.has_value());
  EXPECT_EQ(bundle->entries[4].url, "Observation?patient=pat-dupont&code=2345-7");
  EXPECT_EQ(bundle->entries[5].method, EntryMethod::kDelete);

  // The resources are valid with urn:uuid allowed, as the records layer will check them.
  EXPECT_TRUE(Validate(*bundle->entries[1].resource, {.allow_urn_uuid_references = true}).empty());
}

// A Bundle given up by its caller has its resources moved out rather than copied: the same
// entries as read from a Bundle that stays.
TEST(FhirBundle, ABundleGivenUpGivesTheSameEntriesAsOneKept) {
  const json::object kept = LabTransaction();
  json::object given = LabTransaction();
  auto from_kept = ParseBundle(kept);
  auto from_given = ParseBundle(std::move(given));
  ASSERT_TRUE(from_kept.has_value());
  ASSERT_TRUE(from_given.has_value());
  ASSERT_EQ(from_given->entries.size(), from_kept->entries.size());
  for (std::size_t i = 0; i < from_kept->entries.size(); ++i) {
    EXPECT_EQ(from_given->entries[i].resource, from_kept->entries[i].resource) << i;
    EXPECT_EQ(from_given->entries[i].url, from_kept->entries[i].url) << i;
  }
  EXPECT_EQ(kept, LabTransaction());  // the kept one is left as it was
}

TEST(FhirBundle, ReadsABatch) {
  json::object bundle = LabTransaction();
  bundle["type"] = "batch";
  auto parsed = ParseBundle(bundle);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, BundleKind::kBatch);
  auto empty = ParseBundle(json::object{{"resourceType", "Bundle"}, {"type", "batch"}});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->entries.empty());
}

TEST(FhirBundle, RefusesOtherBundleTypes) {
  for (std::string_view type : {"document", "collection", "searchset", "history", "message"}) {
    json::object bundle = LabTransaction();
    bundle["type"] = type;
    auto parsed = ParseBundle(bundle);
    ASSERT_FALSE(parsed.has_value()) << type;
    EXPECT_EQ(parsed.error().failure, Failure::kInvalid);
    EXPECT_EQ(parsed.error().issues.at(0).expression, "Bundle.type");
  }
  json::object untyped = LabTransaction();
  untyped.erase("type");
  EXPECT_EQ(FirstExpression(ParseBundle(untyped)), "Bundle.type");
  EXPECT_EQ(FirstExpression(ParseBundle(Example("patient"))), "resourceType");
}

// The transaction with entry `index` changed by `change`.
template <typename Change>
FhirResult<IncomingBundle> ParseChanged(std::size_t index, Change change) {
  json::object bundle = LabTransaction();
  change(bundle["entry"].as_array()[index].as_object());
  return ParseBundle(bundle);
}

TEST(FhirBundle, NamesTheEntryWhoseRequestIsMalformed) {
  EXPECT_EQ(FirstExpression(ParseChanged(3, [](json::object& e) { e.erase("request"); })),
            "Bundle.entry[3].request");
  EXPECT_EQ(FirstExpression(
                ParseChanged(3, [](json::object& e) { e["request"].as_object().erase("url"); })),
            "Bundle.entry[3].request.url");
  EXPECT_EQ(FirstExpression(
                ParseChanged(3, [](json::object& e) { e["request"].as_object().erase("method"); })),
            "Bundle.entry[3].request.method");
  EXPECT_EQ(FirstExpression(ParseChanged(
                3, [](json::object& e) { e["request"].as_object()["method"] = "FETCH"; })),
            "Bundle.entry[3].request.method");
  EXPECT_EQ(FirstExpression(ParseChanged(
                3, [](json::object& e) { e["request"].as_object()["method"] = "PATCH"; })),
            "Bundle.entry[3].request.method");
  for (std::string_view bad :
       {"Specimen/1", "/Patient/1", "Patient//1", "https://other.example/fhir/Patient/1",
        "Patient/1?x=1", "Patient/a b", "Patient/1/history/2", "Patient/1#x", ""}) {
    EXPECT_EQ(FirstExpression(
                  ParseChanged(3, [&](json::object& e) { e["request"].as_object()["url"] = bad; })),
              "Bundle.entry[3].request.url")
        << bad;
  }
  EXPECT_TRUE(ParseChanged(3, [](json::object& e) {
                e["request"].as_object()["url"] = "Patient/pat-dupont/_history/2";
              }).has_value());
}

TEST(FhirBundle, EachMethodHasItsUrlShape) {
  EXPECT_EQ(FirstExpression(ParseChanged(
                0, [](json::object& e) { e["request"].as_object()["url"] = "Patient/p1"; })),
            "Bundle.entry[0].request.url");
  EXPECT_EQ(
      FirstExpression(ParseChanged(
          2, [](json::object& e) { e["request"].as_object()["url"] = "Condition?code=E11.9"; })),
      "Bundle.entry[2].request.url");
  EXPECT_EQ(
      FirstExpression(ParseChanged(
          5, [](json::object& e) { e["request"].as_object()["url"] = "AllergyIntolerance"; })),
      "Bundle.entry[5].request.url");
  // AuditEvent comes from the audit log: it may be read, not written.
  EXPECT_EQ(FirstExpression(ParseChanged(
                5, [](json::object& e) { e["request"].as_object()["url"] = "AuditEvent/ae-1"; })),
            "Bundle.entry[5].request.url");
  EXPECT_TRUE(ParseChanged(3, [](json::object& e) {
                e["request"].as_object()["url"] = "AuditEvent?patient=pat-dupont";
              }).has_value());
}

TEST(FhirBundle, ResourcesMatchTheirRequests) {
  EXPECT_EQ(FirstExpression(ParseChanged(0, [](json::object& e) { e.erase("resource"); })),
            "Bundle.entry[0].resource");
  EXPECT_EQ(
      FirstExpression(ParseChanged(3, [](json::object& e) { e["resource"] = Example("patient"); })),
      "Bundle.entry[3].resource");
  EXPECT_EQ(FirstExpression(ParseChanged(
                0, [](json::object& e) { e["request"].as_object()["url"] = "Practitioner"; })),
            "Bundle.entry[0].resource.resourceType");
  EXPECT_EQ(FirstExpression(ParseChanged(
                2, [](json::object& e) { e["resource"].as_object()["id"] = "other"; })),
            "Bundle.entry[2].resource.id");
  EXPECT_EQ(FirstExpression(ParseChanged(
                0,
                [](json::object& e) {
                  e["resource"] = json::object{{"resourceType", "Bundle"}, {"type", "batch"}};
                })),
            "Bundle.entry[0].resource.resourceType");
  EXPECT_EQ(FirstExpression(ParseChanged(0, [](json::object& e) { e["resource"] = "Patient"; })),
            "Bundle.entry[0].resource");
}

TEST(FhirBundle, ConditionalHeadersBelongToTheirMethods) {
  EXPECT_EQ(FirstExpression(ParseChanged(
                3, [](json::object& e) { e["request"].as_object()["ifMatch"] = "W/\"1\""; })),
            "Bundle.entry[3].request.ifMatch");
  EXPECT_EQ(
      FirstExpression(ParseChanged(
          2, [](json::object& e) { e["request"].as_object()["ifNoneExist"] = "identifier=x"; })),
      "Bundle.entry[2].request.ifNoneExist");
  EXPECT_EQ(
      FirstExpression(ParseChanged(
          1, [](json::object& e) { e["request"].as_object()["ifNoneExist"] = "?identifier=x"; })),
      "Bundle.entry[1].request.ifNoneExist");
  EXPECT_EQ(FirstExpression(ParseChanged(
                3, [](json::object& e) { e["request"].as_object()["ifNoneMatch"] = "*"; })),
            "Bundle.entry[3].request.ifNoneMatch");
}

TEST(FhirBundle, FullUrlsAreWellFormedAndUnique) {
  EXPECT_EQ(FirstExpression(ParseChanged(1, [](json::object& e) { e["fullUrl"] = kPatientUuid; })),
            "Bundle.entry[1].fullUrl");
  EXPECT_EQ(
      FirstExpression(ParseChanged(1, [](json::object& e) { e["fullUrl"] = "urn:uuid:123"; })),
      "Bundle.entry[1].fullUrl");
  EXPECT_EQ(
      FirstExpression(ParseChanged(1, [](json::object& e) { e["fullUrl"] = "Observation/1"; })),
      "Bundle.entry[1].fullUrl");
  auto duplicate = ParseChanged(1, [](json::object& e) { e["fullUrl"] = kPatientUuid; });
  EXPECT_EQ(duplicate.error().issues.at(0).code, IssueType::kDuplicate);
}

TEST(FhirBundle, RefusesUnknownAndResponseElements) {
  EXPECT_EQ(FirstExpression(ParseChanged(0,
                                         [](json::object& e) {
                                           e["response"] = json::object{{"status", "201"}};
                                         })),
            "Bundle.entry[0].response");
  EXPECT_EQ(FirstExpression(ParseChanged(0, [](json::object& e) { e["extra"] = 1; })),
            "Bundle.entry[0].extra");
  json::object bundle = LabTransaction();
  bundle["total"] = 6;
  EXPECT_EQ(FirstExpression(ParseBundle(bundle)), "Bundle.total");
  bundle = LabTransaction();
  bundle["colour"] = "red";
  EXPECT_EQ(FirstExpression(ParseBundle(bundle)), "Bundle.colour");
}

TEST(FhirBundle, ReportsEveryBadEntry) {
  json::object bundle = LabTransaction();
  bundle["entry"].as_array()[0].as_object().erase("request");
  bundle["entry"].as_array()[4].as_object()["request"].as_object()["url"] = "Nope";
  auto parsed = ParseBundle(bundle);
  ASSERT_FALSE(parsed.has_value());
  ASSERT_EQ(parsed.error().issues.size(), 2u);
  EXPECT_EQ(parsed.error().issues[0].expression, "Bundle.entry[0].request");
  EXPECT_EQ(parsed.error().issues[1].expression, "Bundle.entry[4].request.url");
}

TEST(FhirBundle, RefusesMoreThanTheEntryLimit) {
  json::array entries;
  for (std::size_t i = 0; i < kMaxBundleEntries + 1; ++i) {
    entries.push_back(
        json::object{{"request", json::object{{"method", "GET"}, {"url", "Patient/p1"}}}});
  }
  auto parsed =
      ParseBundle(json::object{{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", entries}});
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().issues.at(0).expression, "Bundle.entry");
  entries.pop_back();
  EXPECT_TRUE(
      ParseBundle(json::object{{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", entries}})
          .has_value());
}

TEST(FhirBundle, AnswersASearchset) {
  OutgoingEntry match;
  match.full_url = "https://medvault.example/fhir/Observation/obs-glucose";
  match.resource = Example("observation");
  match.search_mode = OutgoingEntry::Mode::kMatch;
  OutgoingEntry include;
  include.full_url = "https://medvault.example/fhir/Patient/pat-dupont";
  include.resource = Example("patient");
  include.search_mode = OutgoingEntry::Mode::kInclude;
  const json::object bundle = AnswerBundle(
      "searchset", 41,
      {{"self", "https://medvault.example/fhir/Observation?patient=pat-dupont"},
       {"next", "https://medvault.example/fhir/Observation?patient=pat-dupont&_page=abc"}},
      {match, include}, "2024-03-05T12:00:00Z");
  EXPECT_EQ(bundle.at("resourceType").as_string(), "Bundle");
  EXPECT_EQ(bundle.at("type").as_string(), "searchset");
  EXPECT_EQ(bundle.at("total").as_int64(), 41);
  EXPECT_EQ(bundle.at("timestamp").as_string(), "2024-03-05T12:00:00Z");
  ASSERT_EQ(bundle.at("link").as_array().size(), 2u);
  EXPECT_EQ(bundle.at("link").as_array()[1].at("relation").as_string(), "next");
  const json::array& entries = bundle.at("entry").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("search").at("mode").as_string(), "match");
  EXPECT_EQ(entries[1].at("search").at("mode").as_string(), "include");
  EXPECT_EQ(entries[0].at("resource").at("id").as_string(), "obs-glucose");
  EXPECT_FALSE(entries[0].as_object().contains("request"));
  EXPECT_FALSE(entries[0].as_object().contains("response"));
}

TEST(FhirBundle, AnswersAHistoryAndATransactionResponse) {
  OutgoingEntry updated;
  updated.full_url = "https://medvault.example/fhir/Patient/pat-dupont";
  updated.resource = Example("patient");
  updated.request_method = "PUT";
  updated.request_url = "Patient/pat-dupont";
  updated.response_status = "200 OK";
  updated.response_etag = "W/\"2\"";
  updated.response_last_modified = "2024-03-05T12:00:00Z";
  OutgoingEntry deleted;
  deleted.request_method = "DELETE";
  deleted.request_url = "Patient/pat-dupont";
  deleted.response_status = "204 No Content";
  const json::object history = AnswerBundle("history", std::nullopt, {}, {updated, deleted}, "");
  EXPECT_FALSE(history.contains("total"));
  EXPECT_FALSE(history.contains("link"));
  EXPECT_FALSE(history.contains("timestamp"));
  const json::array& entries = history.at("entry").as_array();
  EXPECT_EQ(entries[0].at("request").at("method").as_string(), "PUT");
  EXPECT_EQ(entries[0].at("response").at("etag").as_string(), "W/\"2\"");
  EXPECT_EQ(entries[0].at("response").at("lastModified").as_string(), "2024-03-05T12:00:00Z");
  EXPECT_FALSE(entries[1].as_object().contains("resource"));
  EXPECT_EQ(entries[1].at("response").at("status").as_string(), "204 No Content");

  OutgoingEntry created;
  created.full_url = "https://medvault.example/fhir/Observation/o1";
  created.response_status = "201 Created";
  created.response_location = "Observation/o1/_history/1";
  OutgoingEntry failed;
  failed.response_status = "400 Bad Request";
  failed.response_outcome = json::object{{"resourceType", "OperationOutcome"}};
  const json::object response =
      AnswerBundle("batch-response", std::nullopt, {}, {created, failed}, "2024-03-05T12:00:00Z");
  EXPECT_EQ(response.at("type").as_string(), "batch-response");
  const json::array& results = response.at("entry").as_array();
  EXPECT_EQ(results[0].at("response").at("location").as_string(), "Observation/o1/_history/1");
  EXPECT_EQ(results[1].at("response").at("outcome").at("resourceType").as_string(),
            "OperationOutcome");
  EXPECT_FALSE(AnswerBundle("searchset", 0, {}, {}, "").contains("entry"));
}

}  // namespace
}  // namespace medvault::fhir
