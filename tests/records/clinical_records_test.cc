// The clinical record's use cases on both backends, with the real audit log and Decider.
#include "records/clinical_records.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "clinical_records_fixture.h"
#include "fhir/resource.h"
#include "identity/smart_scopes.h"

namespace medvault::records {
namespace {

using fhir::Failure;

std::string Reference(const boost::json::object& resource, std::string_view element) {
  return std::string(resource.at(element).as_object().at("reference").as_string());
}

bool Logged(const std::vector<audit::Entry>& entries, audit::Action action, audit::Outcome outcome,
            std::string_view type) {
  return std::any_of(entries.begin(), entries.end(), [&](const audit::Entry& entry) {
    return entry.action == action && entry.outcome == outcome && entry.resource_type == type;
  });
}

// --- Read, VRead, History ---

TEST_P(ClinicalRecordsTest, CreateThenReadSetsVersionAndLastUpdated) {
  const std::string patient = NewPatient("Dupont");
  auto written =
      records_->Create(clinician_,
                       Json(R"({"resourceType":"Observation","status":"final",)"
                            R"("meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z"},)"
                            R"("code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},)"
                            R"("subject":{"reference":"Patient/)" +
                            patient + R"("}})"),
                       "");
  ASSERT_TRUE(written) << written.error().issues.front().diagnostics;
  EXPECT_TRUE(written->created);
  EXPECT_EQ(written->stored.version, 1);

  auto read = records_->Read(clinician_, "Observation", written->stored.id);
  ASSERT_TRUE(read) << read.error().issues.front().diagnostics;
  EXPECT_EQ(read->version, 1);
  EXPECT_EQ(read->id, written->stored.id);
  const auto& meta = read->resource->at("meta").as_object();
  EXPECT_EQ(meta.at("versionId").as_string(), "1");  // the client's "7" was not kept
  EXPECT_EQ(meta.at("lastUpdated").as_string(), "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(read->resource->at("id").as_string(), written->stored.id);
  EXPECT_EQ(Reference(*read->resource, "subject"), "Patient/" + patient);
  EXPECT_TRUE(
      Logged(EntriesOf("clin-1"), audit::Action::kRead, audit::Outcome::kSuccess, "Observation"));
}

TEST_P(ClinicalRecordsTest, PatientCannotReadAnotherPatientsObservationAndLearnsNothing) {
  const std::string alice = NewPatient("Martin", "Alice");
  const std::string bob = NewPatient("Bernard", "Bob");
  const std::string alices = NewObservation(alice);
  const std::string bobs = NewObservation(bob);
  const policy::Principal alice_login = PatientPrincipal(alice, "acc-alice");

  auto own = records_->Read(alice_login, "Observation", alices);
  ASSERT_TRUE(own) << own.error().issues.front().diagnostics;

  auto other = records_->Read(alice_login, "Observation", bobs);
  auto missing = records_->Read(alice_login, "Observation", "0b0e5c0e-1111-4111-8111-111111111111");
  ASSERT_FALSE(other);
  ASSERT_FALSE(missing);
  EXPECT_EQ(other.error().failure, Failure::kNotFound);
  EXPECT_EQ(missing.error().failure, Failure::kNotFound);
  ASSERT_EQ(other.error().issues.size(), missing.error().issues.size());
  EXPECT_EQ(other.error().issues.front().diagnostics, missing.error().issues.front().diagnostics);
  EXPECT_EQ(other.error().issues.front().expression, missing.error().issues.front().expression);
  EXPECT_EQ(other.error().issues.front().code, missing.error().issues.front().code);

  // The same for one version and for the history.
  auto version = records_->VRead(alice_login, "Observation", bobs, 1);
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().failure, Failure::kNotFound);
  auto history = records_->History(alice_login, "Observation", bobs);
  ASSERT_FALSE(history);
  EXPECT_EQ(history.error().failure, Failure::kNotFound);

  // The denial is in the log, with Bob's patient id and the Observation's.
  const auto entries = EntriesOf("acc-alice");
  const auto denied = std::find_if(entries.begin(), entries.end(), [](const audit::Entry& e) {
    return e.outcome == audit::Outcome::kDenied && e.resource_type == "Observation";
  });
  ASSERT_NE(denied, entries.end());
  EXPECT_EQ(denied->resource_ids, std::vector<std::string>{bobs});
  EXPECT_EQ(denied->patient_ids, std::vector<std::string>{bob});
}

TEST_P(ClinicalRecordsTest, VReadAndHistoryNewestFirst) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  auto first = records_->Read(clinician_, "Observation", id);
  ASSERT_TRUE(first);
  clock_.Advance(std::chrono::seconds(60));
  boost::json::object changed = *first->resource;
  changed["status"] = "amended";
  auto second = records_->Update(clinician_, "Observation", id, changed, 1);
  ASSERT_TRUE(second) << second.error().issues.front().diagnostics;
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->stored.version, 2);

  auto v1 = records_->VRead(clinician_, "Observation", id, 1);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->resource->at("status").as_string(), "final");
  auto v3 = records_->VRead(clinician_, "Observation", id, 3);
  ASSERT_FALSE(v3);
  EXPECT_EQ(v3.error().failure, Failure::kNotFound);

  auto history = records_->History(clinician_, "Observation", id);
  ASSERT_TRUE(history) << history.error().issues.front().diagnostics;
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_EQ(history->versions[0].version, 2);
  EXPECT_EQ(history->versions[0].resource->at("status").as_string(), "amended");
  EXPECT_EQ(history->versions[1].version, 1);
  EXPECT_LT(history->versions[1].last_updated, history->versions[0].last_updated);
}

// --- Create and Update ---

TEST_P(ClinicalRecordsTest, InvalidResourceIsRefusedWithItsIssues) {
  const std::string patient = NewPatient("Dupont");
  auto written =
      records_->Create(clinician_,
                       Json(R"({"resourceType":"Observation","status":"finalised","colour":"blue",)"
                            R"("code":{"text":"glucose"},"subject":{"reference":"Patient/)" +
                            patient + R"("}})"),
                       "");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().failure, Failure::kInvalid);
  EXPECT_GE(written.error().issues.size(), 2u);  // every issue, not only the first
}

TEST_P(ClinicalRecordsTest, ReferenceToMissingOrHiddenResourceDoesNotResolve) {
  const std::string patient = NewPatient("Dupont");
  const std::string encounter = Create(
      R"({"resourceType":"Encounter","status":"finished",)"
      R"("class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},)"
      R"("subject":{"reference":"Patient/)" +
      patient + R"("}})");
  ASSERT_FALSE(encounter.empty());
  const auto observation_with_encounter = [&](const std::string& encounter_id) {
    boost::json::object observation = Json(ObservationJson(patient, "2345-7", "2026-03-05"));
    observation["encounter"] = boost::json::object{{"reference", "Encounter/" + encounter_id}};
    return observation;
  };
  // The lab may not read Encounters: an existing one answers as a missing one does.
  auto hidden = records_->Create(lab_, observation_with_encounter(encounter), "");
  auto missing = records_->Create(
      lab_, observation_with_encounter("0b0e5c0e-2222-4222-8222-222222222222"), "");
  ASSERT_FALSE(hidden);
  ASSERT_FALSE(missing);
  EXPECT_EQ(hidden.error().failure, Failure::kInvalid);
  EXPECT_EQ(hidden.error().issues.front().expression, "Observation.encounter");
  EXPECT_EQ(hidden.error().issues.front().diagnostics, "Observation.encounter does not resolve");
  EXPECT_EQ(missing.error().issues.front().diagnostics, hidden.error().issues.front().diagnostics);
  // The clinician may: the same resource resolves.
  EXPECT_TRUE(records_->Create(clinician_, observation_with_encounter(encounter), ""));

  // A patient who does not exist is refused to a clinician as a stranger is: the Decider's
  // 403, the same words, so that a write does not tell whether the patient exists.
  auto no_patient = records_->Create(
      clinician_, Json(ObservationJson("0b0e5c0e-3333-4333-8333-333333333333", "2345-7", "2026")),
      "");
  auto stranger = records_->Create(
      clinician_, Json(ObservationJson(NewUnrelatedPatient("Roux"), "2345-7", "2026")), "");
  ASSERT_FALSE(no_patient);
  ASSERT_FALSE(stranger);
  EXPECT_EQ(no_patient.error().failure, Failure::kForbidden);
  EXPECT_EQ(no_patient.error().issues.front().diagnostics,
            stranger.error().issues.front().diagnostics);
  // For the lab, which has no care relations, it simply does not resolve.
  auto lab_no_patient = records_->Create(
      lab_, Json(ObservationJson("0b0e5c0e-3333-4333-8333-333333333333", "2345-7", "2026")), "");
  ASSERT_FALSE(lab_no_patient);
  EXPECT_EQ(lab_no_patient.error().issues.front().diagnostics,
            "Observation.subject does not resolve");
}

TEST_P(ClinicalRecordsTest, ReferenceToDeletedResourceDoesNotResolve) {
  const std::string patient = NewPatient("Dupont");
  ASSERT_TRUE(records_->Delete(clinician_, "Patient", patient));
  auto written = records_->Create(clinician_, Json(ObservationJson(patient, "2345-7", "2026")), "");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().issues.front().diagnostics, "Observation.subject does not resolve");
}

TEST_P(ClinicalRecordsTest, UpdateWithStaleIfMatchIsPreconditionFailed) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  auto current = records_->Read(clinician_, "Observation", id);
  ASSERT_TRUE(current);
  ASSERT_TRUE(records_->Update(clinician_, "Observation", id, *current->resource, 1));
  auto stale = records_->Update(clinician_, "Observation", id, *current->resource, 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().failure, Failure::kPreconditionFailed);
  EXPECT_EQ(fhir::HttpStatusOf(stale.error().failure), 412);
  auto unconditional = records_->Update(clinician_, "Observation", id, *current->resource, {});
  ASSERT_TRUE(unconditional);
  EXPECT_EQ(unconditional->stored.version, 3);
}

TEST_P(ClinicalRecordsTest, UpdateCannotMoveAResourceToAnotherPatient) {
  const std::string alice = NewPatient("Martin", "Alice");
  const std::string bob = NewPatient("Bernard", "Bob");
  const std::string id = NewObservation(alice);
  auto current = records_->Read(clinician_, "Observation", id);
  ASSERT_TRUE(current);
  boost::json::object moved = *current->resource;
  moved["subject"] = boost::json::object{{"reference", "Patient/" + bob}};
  auto refused = records_->Update(clinician_, "Observation", id, moved, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kBusinessRule);
  EXPECT_EQ(fhir::HttpStatusOf(refused.error().failure), 422);
}

TEST_P(ClinicalRecordsTest, UpdateOfAnUnknownIdCreatesIt) {
  const std::string patient = NewPatient("Dupont");
  boost::json::object observation = Json(ObservationJson(patient, "2345-7", "2026-03-05"));
  observation["id"] = "lab-result-1";
  auto written = records_->Update(clinician_, "Observation", "lab-result-1", observation, {});
  ASSERT_TRUE(written) << written.error().issues.front().diagnostics;
  EXPECT_TRUE(written->created);
  EXPECT_EQ(written->stored.version, 1);
  auto mismatch = records_->Update(clinician_, "Observation", "another-id", observation, {});
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().failure, Failure::kInvalid);
}

TEST_P(ClinicalRecordsTest, PatientMayNotWriteAndAuditEventIsNotWritable) {
  const std::string patient = NewPatient("Dupont");
  auto refused = records_->Create(PatientPrincipal(patient),
                                  Json(ObservationJson(patient, "2345-7", "2026")), "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kForbidden);
  auto audit_event = records_->Create(clinician_, Json(R"({"resourceType":"AuditEvent"})"), "");
  ASSERT_FALSE(audit_event);
  EXPECT_EQ(audit_event.error().failure, Failure::kMethodNotAllowed);
}

TEST_P(ClinicalRecordsTest, ConditionalCreateDoesNotDuplicate) {
  const std::string body =
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"IPP-778899"}],)"
      R"("name":[{"family":"Lefebvre","given":["Paul"]}],"birthDate":"1975-02-01"})";
  auto first = records_->Create(clinician_, Json(body), "identifier=IPP-778899");
  ASSERT_TRUE(first) << first.error().issues.front().diagnostics;
  EXPECT_TRUE(first->created);
  Relate(first->stored.id);  // registering a patient relates no one
  auto second = records_->Create(clinician_, Json(body), "identifier=IPP-778899");
  ASSERT_TRUE(second) << second.error().issues.front().diagnostics;
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->stored.id, first->stored.id);
  auto found = records_->Search(clinician_, Query("Patient", "family=Lefebvre"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->matches.size(), 1u);

  // Two matches: the client must be more selective.
  const std::string body2 =
      R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"IPP-778899"}],)"
      R"("name":[{"family":"Lefebvre","given":["Marie"]}]})";
  auto marie = records_->Create(clinician_, Json(body2), "");
  ASSERT_TRUE(marie);
  Relate(marie->stored.id);
  auto third = records_->Create(clinician_, Json(body), "identifier=IPP-778899");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().failure, Failure::kPreconditionFailed);
}

TEST_P(ClinicalRecordsTest, DocumentReferenceAttachmentIsStoredAsBinary) {
  const std::string patient = NewPatient("Dupont");
  auto written = records_->Create(
      clinician_,
      Json(
          R"({"resourceType":"DocumentReference","status":"current",)"
          R"("subject":{"reference":"Patient/)" +
          patient +
          R"("},"date":"2026-03-05T10:00:00Z",)"
          R"("content":[{"attachment":{"contentType":"application/pdf","data":"YWJj","title":"report"}}]})"),
      "");
  ASSERT_TRUE(written) << written.error().issues.front().diagnostics;
  auto document = records_->Read(clinician_, "DocumentReference", written->stored.id);
  ASSERT_TRUE(document);
  const auto& attachment =
      document->resource->at("content").as_array()[0].as_object().at("attachment").as_object();
  EXPECT_FALSE(attachment.contains("data"));
  EXPECT_EQ(attachment.at("size").to_number<std::int64_t>(), 3);
  EXPECT_EQ(attachment.at("hash").as_string(), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");  // SHA-1("abc")
  const std::string url(attachment.at("url").as_string());
  ASSERT_TRUE(url.starts_with("Binary/"));

  auto binary = records_->Read(clinician_, "Binary", url.substr(7));
  ASSERT_TRUE(binary) << binary.error().issues.front().diagnostics;
  EXPECT_EQ(binary->resource->at("data").as_string(), "YWJj");
  EXPECT_EQ(binary->resource->at("contentType").as_string(), "application/pdf");
  EXPECT_EQ(Reference(*binary->resource, "securityContext"),
            "DocumentReference/" + written->stored.id);
  // The Binary is the patient's: they may read it, another patient may not.
  EXPECT_TRUE(records_->Read(PatientPrincipal(patient), "Binary", url.substr(7)));
  const std::string other = NewPatient("Bernard", "Bob");
  auto hidden = records_->Read(PatientPrincipal(other, "acc-bob"), "Binary", url.substr(7));
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().failure, Failure::kNotFound);
}

// --- Delete ---

TEST_P(ClinicalRecordsTest, DeletedIsGoneAndDeletingAgainAnswersTheMarker) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  auto deleted = records_->Delete(clinician_, "Observation", id);
  ASSERT_TRUE(deleted) << deleted.error().issues.front().diagnostics;
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->version, 2);
  auto read = records_->Read(clinician_, "Observation", id);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().failure, Failure::kGone);
  EXPECT_EQ(fhir::HttpStatusOf(read.error().failure), 410);
  auto again = records_->Delete(clinician_, "Observation", id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version, 2);
  auto missing =
      records_->Delete(clinician_, "Observation", "0b0e5c0e-4444-4444-8444-444444444444");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().failure, Failure::kNotFound);
  // A patient does not learn a deleted resource of another exists.
  const std::string other = NewPatient("Bernard");
  auto hidden = records_->Read(PatientPrincipal(other), "Observation", id);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().failure, Failure::kNotFound);
}

// --- Search ---

TEST_P(ClinicalRecordsTest, CompartmentSearchWithDateCodeSortAndPaging) {
  const std::string patient = NewPatient("Dupont");
  const std::string other = NewPatient("Bernard");
  NewObservation(patient, "2345-7", "2026-01-10T08:00:00Z");
  const std::string feb = NewObservation(patient, "2345-7", "2026-02-10T08:00:00Z");
  const std::string mar = NewObservation(patient, "2345-7", "2026-03-10T08:00:00Z");
  const std::string apr = NewObservation(patient, "2345-7", "2026-04-10T08:00:00Z");
  NewObservation(patient, "718-7", "2026-03-11T08:00:00Z");  // another code
  NewObservation(other, "2345-7", "2026-03-12T08:00:00Z");   // another patient

  fhir::SearchRequest request = Query(
      "Observation", "patient=" + patient +
                         "&code=http://loinc.org|2345-7&date=ge2026-02-01&_sort=-date&_count=2");
  auto first = records_->Search(clinician_, request);
  ASSERT_TRUE(first) << first.error().issues.front().diagnostics;
  ASSERT_EQ(first->total, 3);
  ASSERT_EQ(first->matches.size(), 2u);
  EXPECT_EQ(first->matches[0].id, apr);
  EXPECT_EQ(first->matches[1].id, mar);
  ASSERT_FALSE(first->next_page.empty());
  EXPECT_EQ(first->next_page.find(patient), std::string::npos);  // opaque

  request.page = first->next_page;
  auto second = records_->Search(clinician_, request);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->matches.size(), 1u);
  EXPECT_EQ(second->matches[0].id, feb);
  EXPECT_TRUE(second->next_page.empty());

  request.page = "not-a-cursor!";
  auto bad = records_->Search(clinician_, request);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().failure, Failure::kInvalid);

  // Offsets count: on April 11th, 09:00+02:00 (07:00Z) comes before 08:00Z.
  const std::string early = NewObservation(patient, "2345-7", "2026-04-11T09:00:00+02:00");
  const std::string late = NewObservation(patient, "2345-7", "2026-04-11T08:00:00Z");
  auto by_instant = records_->Search(
      clinician_, Query("Observation", "patient=" + patient + "&date=ge2026-04-11&_sort=date"));
  ASSERT_TRUE(by_instant) << by_instant.error().issues.front().diagnostics;
  std::vector<std::string> order;
  for (const auto& match : by_instant->matches) order.push_back(match.id);
  const auto early_at = std::find(order.begin(), order.end(), early);
  const auto late_at = std::find(order.begin(), order.end(), late);
  ASSERT_NE(early_at, order.end());
  ASSERT_NE(late_at, order.end());
  EXPECT_LT(early_at, late_at);

  // A closed range, ascending.
  auto range = records_->Search(
      clinician_,
      Query("Observation",
            "patient=" + patient + "&code=2345-7&date=ge2026-02-01&date=lt2026-04&_sort=date"));
  ASSERT_TRUE(range) << range.error().issues.front().diagnostics;
  ASSERT_EQ(range->matches.size(), 2u);
  EXPECT_EQ(range->matches[0].id, feb);
  EXPECT_EQ(range->matches[1].id, mar);

  auto count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 7);
}

TEST_P(ClinicalRecordsTest, PatientSearchesOnlyTheirOwnCompartment) {
  const std::string alice = NewPatient("Martin", "Alice");
  const std::string bob = NewPatient("Bernard", "Bob");
  NewObservation(alice);
  NewObservation(bob);
  const policy::Principal alice_login = PatientPrincipal(alice, "acc-alice");
  auto own = records_->Search(alice_login, Query("Observation", "patient=" + alice));
  ASSERT_TRUE(own) << own.error().issues.front().diagnostics;
  EXPECT_EQ(own->matches.size(), 1u);
  auto others = records_->Search(alice_login, Query("Observation", "patient=" + bob));
  ASSERT_FALSE(others);
  EXPECT_EQ(others.error().failure, Failure::kForbidden);
}

TEST_P(ClinicalRecordsTest, CrossPatientSearchByFamilyPrefix) {
  const std::string dupont = NewPatient("Dupont", "Jeanne");
  const std::string dupond = NewPatient("Dupond", "Marc");
  NewPatient("Martin", "Alice");
  auto found = records_->Search(clinician_, Query("Patient", "family=dup"));
  ASSERT_TRUE(found) << found.error().issues.front().diagnostics;
  std::set<std::string> ids;
  for (const auto& match : found->matches) ids.insert(match.id);
  EXPECT_EQ(ids, (std::set<std::string>{dupont, dupond}));

  // Every criterion applies to the candidates, not only the indexed one.
  auto narrowed = records_->Search(clinician_, Query("Patient", "family=dup&given=marc"));
  ASSERT_TRUE(narrowed);
  ASSERT_EQ(narrowed->matches.size(), 1u);
  EXPECT_EQ(narrowed->matches[0].id, dupond);

  // A patient finds only themselves, silently.
  auto as_patient = records_->Search(PatientPrincipal(dupont), Query("Patient", "family=dup"));
  ASSERT_TRUE(as_patient) << as_patient.error().issues.front().diagnostics;
  ASSERT_EQ(as_patient->matches.size(), 1u);
  EXPECT_EQ(as_patient->matches[0].id, dupont);
}

// A broad search across patients pages through its candidates in id order, however many
// there are: each page costs what it returns, and following the next links yields every match
// once. Two family names make two index lookups whose batches interleave.
TEST_P(ClinicalRecordsTest, CrossPatientSearchPagesThroughEveryCandidate) {
  std::set<std::string> expected;
  for (int i = 0; i < 230; ++i) expected.insert(NewPatient("Martin", fmt::format("P{}", i)));
  for (int i = 0; i < 40; ++i) expected.insert(NewPatient("Bernard", fmt::format("B{}", i)));
  NewPatient("Durand");

  fhir::SearchRequest request = Query("Patient", "family=martin,bernard&_count=100");
  std::vector<std::string> seen;
  std::size_t pages = 0;
  for (;;) {
    auto page = records_->Search(clinician_, request);
    ASSERT_TRUE(page) << page.error().issues.front().diagnostics;
    ++pages;
    EXPECT_FALSE(page->total) << "a windowed search does not know its total";
    for (const auto& match : page->matches) seen.push_back(match.id);
    if (page->next_page.empty()) break;
    EXPECT_EQ(page->matches.size(), 100u);
    request.page = page->next_page;
  }
  EXPECT_EQ(pages, 3u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
  EXPECT_EQ(seen.size(), expected.size());

  // One match among more candidates than one batch holds is found; a lone page knows its total.
  auto one = records_->Search(clinician_, Query("Patient", "family=martin&given=p229"));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->matches.size(), 1u);
  EXPECT_EQ(one->total, 1);

  // A cursor this server did not write is refused, not guessed at.
  request.page = "bm90LWEtY3Vyc29y";
  auto forged = records_->Search(clinician_, request);
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().failure, Failure::kInvalid);

  // Beyond max_compartment_scan candidates examined for one page, the search is too costly.
  ClinicalRecords narrow(*sealed_, *store_, *log_, *decider_, clock_,
                         ClinicalRecords::Options{.max_compartment_scan = 150});
  auto refused = narrow.Search(clinician_, Query("Patient", "family=martin&given=p229"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().issues.front().code, fhir::IssueType::kTooCostly);
}

TEST_P(ClinicalRecordsTest, IncludeAndEveryReturnedPatientIsAudited) {
  const std::string patient = NewPatient("Dupont");
  const std::string glucose = NewObservation(patient, "2345-7");
  const std::string hemoglobin = NewObservation(patient, "718-7");
  const std::string report =
      Create(R"({"resourceType":"DiagnosticReport","status":"final",)"
             R"("code":{"coding":[{"system":"http://loinc.org","code":"24323-8"}]},)"
             R"("subject":{"reference":"Patient/)" +
             patient +
             R"("},"effectiveDateTime":"2026-03-05T08:30:00Z",)"
             R"("result":[{"reference":"Observation/)" +
             glucose + R"("},{"reference":"Observation/)" + hemoglobin + R"("}]})");
  ASSERT_FALSE(report.empty());

  auto page = records_->Search(
      clinician_,
      Query("DiagnosticReport", "patient=" + patient + "&_include=DiagnosticReport:result"));
  ASSERT_TRUE(page) << page.error().issues.front().diagnostics;
  ASSERT_EQ(page->matches.size(), 1u);
  EXPECT_EQ(page->matches[0].id, report);
  std::set<std::string> included;
  for (const auto& resource : page->included) included.insert(resource.id);
  EXPECT_EQ(included, (std::set<std::string>{glucose, hemoglobin}));

  // The search-results entry names the report and the patient.
  const auto entries = EntriesOf("clin-1");
  const auto results = std::find_if(entries.rbegin(), entries.rend(), [](const audit::Entry& e) {
    return e.action == audit::Action::kSearch && e.resource_type == "DiagnosticReport" &&
           !e.resource_ids.empty();
  });
  ASSERT_NE(results, entries.rend());
  EXPECT_EQ(results->resource_ids, std::vector<std::string>{report});
  EXPECT_EQ(results->patient_ids, std::vector<std::string>{patient});

  // Across patients, every patient returned is in the entry.
  const std::string dupond = NewPatient("Dupond");
  auto across = records_->Search(clinician_, Query("Patient", "family=dup"));
  ASSERT_TRUE(across);
  const auto after = EntriesOf("clin-1");
  const auto last = std::find_if(after.rbegin(), after.rend(), [](const audit::Entry& e) {
    return e.action == audit::Action::kSearch && e.resource_type == "Patient" &&
           !e.resource_ids.empty();
  });
  ASSERT_NE(last, after.rend());
  EXPECT_EQ(std::set<std::string>(last->patient_ids.begin(), last->patient_ids.end()),
            (std::set<std::string>{patient, dupond}));
}

TEST_P(ClinicalRecordsTest, TypeHistoryNeedsAPatientAndPages) {
  const std::string patient = NewPatient("Dupont");
  const std::string a = NewObservation(patient);
  clock_.Advance(std::chrono::seconds(1));
  const std::string b = NewObservation(patient);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(records_->Delete(clinician_, "Observation", a));

  auto refused = records_->TypeHistory(clinician_, "Observation", std::nullopt, 10, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kInvalid);

  auto first = records_->TypeHistory(clinician_, "Observation", patient, 2, "");
  ASSERT_TRUE(first) << first.error().issues.front().diagnostics;
  ASSERT_EQ(first->versions.size(), 2u);
  EXPECT_EQ(first->versions[0].id, a);
  EXPECT_TRUE(first->versions[0].deleted);
  EXPECT_EQ(first->versions[1].id, b);
  ASSERT_FALSE(first->next_page.empty());
  auto second = records_->TypeHistory(clinician_, "Observation", patient, 2, first->next_page);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->versions.size(), 1u);
  EXPECT_EQ(second->versions[0].id, a);
  EXPECT_EQ(second->versions[0].version, 1);
  EXPECT_TRUE(second->next_page.empty());
}

TEST_P(ClinicalRecordsTest, DirectorySearchNeedsNoPatient) {
  const std::string durand =
      Create(R"({"resourceType":"Practitioner","name":[{"family":"Durand","given":["Claire"]}]})");
  Create(R"({"resourceType":"Practitioner","name":[{"family":"Moreau","given":["Paul"]}]})");
  auto found = records_->Search(clinician_, Query("Practitioner", "family=dur"));
  ASSERT_TRUE(found) << found.error().issues.front().diagnostics;
  ASSERT_EQ(found->matches.size(), 1u);
  EXPECT_EQ(found->matches[0].id, durand);
  // A patient may look up the directory.
  const std::string patient = NewPatient("Dupont");
  auto as_patient =
      records_->Search(PatientPrincipal(patient), Query("Practitioner", "family=dur"));
  ASSERT_TRUE(as_patient) << as_patient.error().issues.front().diagnostics;
  EXPECT_EQ(as_patient->matches.size(), 1u);
  auto all = records_->Count(clinician_, Query("Practitioner", ""));
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 2);
}

TEST_P(ClinicalRecordsTest, PatientFindsTheirOwnPatientResourceById) {
  const std::string patient = NewPatient("Dupont");
  auto found = records_->Search(PatientPrincipal(patient), Query("Patient", "_id=" + patient));
  ASSERT_TRUE(found) << found.error().issues.front().diagnostics;
  ASSERT_EQ(found->matches.size(), 1u);
  EXPECT_EQ(found->matches[0].id, patient);
}

TEST_P(ClinicalRecordsTest, CompartmentScanBeyondTheLimitIsTooCostly) {
  const std::string patient = NewPatient("Dupont");
  for (int i = 0; i < 4; ++i) NewObservation(patient);
  ClinicalRecords narrow(*sealed_, *store_, *log_, *decider_, clock_,
                         ClinicalRecords::Options{.max_compartment_scan = 3});
  auto refused = narrow.Search(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kInvalid);
  EXPECT_EQ(refused.error().issues.front().code, fhir::IssueType::kTooCostly);
  EXPECT_TRUE(records_->Search(clinician_, Query("Observation", "patient=" + patient)));
}

TEST_P(ClinicalRecordsTest, TypeLevelRefusalsAreForbiddenAndAudited) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  auto lab_delete = records_->Delete(lab_, "Observation", id);
  ASSERT_FALSE(lab_delete);
  EXPECT_EQ(lab_delete.error().failure, Failure::kForbidden);
  EXPECT_TRUE(
      Logged(EntriesOf("lab-1"), audit::Action::kDelete, audit::Outcome::kDenied, "Observation"));
  policy::Principal admin;
  admin.account_id = "admin-1";
  admin.role = audit::Role::kAdministrator;
  admin.client = "portal";
  auto admin_read = records_->Read(admin, "Observation", id);
  ASSERT_FALSE(admin_read);
  EXPECT_EQ(admin_read.error().failure, Failure::kForbidden);
  // The same answer for an id that does not exist: the refusal says nothing about the record.
  auto admin_missing = records_->Read(admin, "Observation", "0b0e5c0e-7777-4777-8777-777777777777");
  ASSERT_FALSE(admin_missing);
  EXPECT_EQ(admin_missing.error().issues.front().diagnostics,
            admin_read.error().issues.front().diagnostics);
  EXPECT_TRUE(
      Logged(EntriesOf("admin-1"), audit::Action::kRead, audit::Outcome::kDenied, "Observation"));
}

TEST_P(ClinicalRecordsTest, VReadOfADeletionIsGone) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  ASSERT_TRUE(records_->Delete(clinician_, "Observation", id));
  auto marker = records_->VRead(clinician_, "Observation", id, 2);
  ASSERT_FALSE(marker);
  EXPECT_EQ(marker.error().failure, Failure::kGone);
  EXPECT_TRUE(records_->VRead(clinician_, "Observation", id, 1));
  auto history = records_->History(clinician_, "Observation", id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->versions.size(), 2u);
  EXPECT_TRUE(history->versions[0].deleted);
  EXPECT_FALSE(history->versions[0].resource);
}

TEST_P(ClinicalRecordsTest, IntegrationClientDoesWhatItsScopesAllow) {
  const std::string patient = NewPatient("Dupont");
  policy::Principal feed;
  feed.account_id = "lab-feed";
  feed.role = audit::Role::kIntegration;
  feed.client = "lab-feed";
  feed.source_address = "203.0.113.5";
  // Organization.rs: the lab its results name as performer resolves.
  auto scopes =
      identity::ParseSmartScopes("system/Observation.crs system/Patient.rs system/Organization.rs");
  ASSERT_TRUE(scopes) << scopes.error().message();
  feed.scopes = *scopes;
  const std::string id = CreateAs(feed, ObservationJson(patient, "2345-7", "2026-03-05"));
  ASSERT_FALSE(id.empty());
  auto found = records_->Search(feed, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(found) << found.error().issues.front().diagnostics;
  EXPECT_EQ(found->matches.size(), 1u);
  auto update = records_->Read(feed, "Observation", id);
  ASSERT_TRUE(update);
  auto refused = records_->Update(feed, "Observation", id, *update->resource, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kForbidden);
  auto condition =
      records_->Create(feed,
                       Json(R"({"resourceType":"Condition","subject":{"reference":"Patient/)" +
                            patient + R"("},"code":{"text":"x"}})"),
                       "");
  ASSERT_FALSE(condition);
  EXPECT_EQ(condition.error().failure, Failure::kForbidden);
}

TEST_P(ClinicalRecordsTest, TransactionWritingOneResourceTwiceConflictsAndStoresNothing) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  auto current = records_->Read(clinician_, "Observation", id);
  ASSERT_TRUE(current);
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  for (const char* status : {"amended", "corrected"}) {
    fhir::IncomingEntry put;
    put.method = fhir::EntryMethod::kPut;
    put.url = "Observation/" + id;
    put.resource = *current->resource;
    (*put.resource)["status"] = status;
    bundle.entries.push_back(std::move(put));
  }
  auto processed = records_->Process(clinician_, bundle);
  ASSERT_FALSE(processed);
  EXPECT_EQ(processed.error().failure, Failure::kConflict);
  auto after = records_->Read(clinician_, "Observation", id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->version, 1);
}

TEST_P(ClinicalRecordsTest, ErasedPatientsRecordIsNotFound) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  ASSERT_TRUE(sealed_->ErasePatient(patient));
  auto read = records_->Read(clinician_, "Observation", id);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().failure, Failure::kNotFound);
  auto found = records_->Search(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(found) << found.error().issues.front().diagnostics;
  EXPECT_TRUE(found->matches.empty());
  auto by_name = records_->Search(clinician_, Query("Patient", "family=dupont"));
  ASSERT_TRUE(by_name);
  EXPECT_TRUE(by_name->matches.empty());
  EXPECT_FALSE(records_->Create(clinician_, Json(ObservationJson(patient, "2345-7", "2026")), ""));
}

TEST_P(ClinicalRecordsTest, ConcurrentWritersAndReaders) {
  const std::string patient = NewPatient("Dupont");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto written = records_->Create(
            clinician_, Json(ObservationJson(patient, "2345-7", "2026-03-05", t * 10 + i)), "");
        if (!written) {
          ++failures;
          continue;
        }
        if (!records_->Read(clinician_, "Observation", written->stored.id)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 20);
}

// --- AuditEvent ---

policy::Principal Auditor() {
  policy::Principal auditor;
  auditor.account_id = "audit-1";
  auditor.role = audit::Role::kAuditor;
  auditor.client = "portal";
  auditor.source_address = "192.0.2.20";
  return auditor;
}

TEST_P(ClinicalRecordsTest, AuditorSearchesAPatientsAccessHistory) {
  const std::string alice = NewPatient("Martin", "Alice");
  const std::string bob = NewPatient("Bernard", "Bob");
  const std::string observation = NewObservation(alice);
  NewObservation(bob);
  ASSERT_TRUE(records_->Read(clinician_, "Observation", observation));

  auto events =
      records_->Search(Auditor(), Query("AuditEvent", "patient=" + alice + "&_count=100"));
  ASSERT_TRUE(events) << events.error().issues.front().diagnostics;
  ASSERT_FALSE(events->matches.empty());
  bool read_found = false;
  for (const StoredResource& event : events->matches) {
    const auto issues = fhir::Validate(*event.resource, {});
    EXPECT_TRUE(issues.empty()) << issues.front().expression << ": " << issues.front().diagnostics;
    const std::string text = boost::json::serialize(*event.resource);
    EXPECT_NE(text.find("Patient/" + alice), std::string::npos);
    EXPECT_EQ(text.find("Patient/" + bob), std::string::npos);
    if (text.find("Observation/" + observation) != std::string::npos &&
        text.find("\"read\"") != std::string::npos) {
      read_found = true;
    }
  }
  EXPECT_TRUE(read_found);

  // By agent: only the clinician's entries.
  auto by_agent =
      records_->Search(Auditor(), Query("AuditEvent", "patient=" + alice + "&agent=clin-1"));
  ASSERT_TRUE(by_agent) << by_agent.error().issues.front().diagnostics;
  ASSERT_FALSE(by_agent->matches.empty());
  for (const StoredResource& event : by_agent->matches) {
    EXPECT_NE(boost::json::serialize(*event.resource).find("clin-1"), std::string::npos);
  }

  // One event read by its id, as the auditor.
  auto one = records_->Read(Auditor(), "AuditEvent", events->matches.front().id);
  ASSERT_TRUE(one) << one.error().issues.front().diagnostics;
  EXPECT_EQ(one->id, events->matches.front().id);

  // The clinician may not read the audit log.
  auto refused = records_->Search(clinician_, Query("AuditEvent", "patient=" + alice));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().failure, Failure::kForbidden);
}

TEST_P(ClinicalRecordsTest, PatientSeesOnlyTheAuditEventsOfTheirOwnRecord) {
  const std::string alice = NewPatient("Martin", "Alice");
  const std::string bob = NewPatient("Bernard", "Bob");
  NewObservation(alice);
  NewObservation(bob);
  // A search that returns both patients: Alice must not learn Bob was in it.
  ASSERT_TRUE(records_->Search(clinician_, Query("Patient", "family=martin,bernard")));
  const policy::Principal alice_login = PatientPrincipal(alice, "acc-alice");
  auto own = records_->Search(alice_login, Query("AuditEvent", "_count=100"));
  ASSERT_TRUE(own) << own.error().issues.front().diagnostics;
  ASSERT_FALSE(own->matches.empty());
  for (const StoredResource& event : own->matches) {
    const std::string text = boost::json::serialize(*event.resource);
    EXPECT_NE(text.find("Patient/" + alice), std::string::npos);
    EXPECT_EQ(text.find(bob), std::string::npos);
  }
  auto others = records_->Search(alice_login, Query("AuditEvent", "patient=" + bob));
  ASSERT_FALSE(others);
  EXPECT_EQ(others.error().failure, Failure::kForbidden);

  // Bob's events by id: not found for Alice.
  auto bobs = records_->Search(Auditor(), Query("AuditEvent", "patient=" + bob));
  ASSERT_TRUE(bobs);
  std::string only_bob;
  for (const StoredResource& event : bobs->matches) {
    if (boost::json::serialize(*event.resource).find(alice) == std::string::npos) {
      only_bob = event.id;
    }
  }
  ASSERT_FALSE(only_bob.empty());
  auto hidden = records_->Read(alice_login, "AuditEvent", only_bob);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().failure, Failure::kNotFound);
}

// --- Batch and transaction ---

fhir::IncomingEntry Post(std::string full_url, boost::json::object resource) {
  fhir::IncomingEntry entry;
  entry.full_url = std::move(full_url);
  entry.method = fhir::EntryMethod::kPost;
  entry.url = std::string(resource.at("resourceType").as_string());
  entry.resource = std::move(resource);
  return entry;
}

TEST_P(ClinicalRecordsTest, TransactionOfAReportAndTwentyObservations) {
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  const std::string patient_urn = "urn:uuid:6f1b7a52-0000-4000-8000-000000000000";
  bundle.entries.push_back(
      Post(patient_urn,
           Json(R"({"resourceType":"Patient","name":[{"family":"Petit","given":["Luc"]}]})")));
  boost::json::array results;
  for (int i = 0; i < 20; ++i) {
    const std::string urn = fmt::format("urn:uuid:6f1b7a52-0000-4000-8000-0000000001{:02}", i);
    boost::json::object observation =
        Json(ObservationJson("x", i % 2 ? "2345-7" : "718-7", "2026-03-05T08:30:00Z", i));
    observation["subject"] = boost::json::object{{"reference", patient_urn}};
    bundle.entries.push_back(Post(urn, std::move(observation)));
    results.push_back(boost::json::object{{"reference", urn}});
  }
  boost::json::object report =
      Json(R"({"resourceType":"DiagnosticReport","status":"final",)"
           R"("code":{"coding":[{"system":"http://loinc.org","code":"24323-8"}]},)"
           R"("performer":[{"reference":"Organization/org-lab-1"}]})");
  report["subject"] = boost::json::object{{"reference", patient_urn}};
  report["result"] = results;
  bundle.entries.push_back(Post("urn:uuid:6f1b7a52-0000-4000-8000-000000000999", report));

  const auto started = std::chrono::steady_clock::now();
  auto processed = records_->Process(lab_, bundle);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(processed) << processed.error().issues.front().expression << ": "
                         << processed.error().issues.front().diagnostics;
  EXPECT_LT(took, std::chrono::seconds(5));  // under ASan, on a shared machine
  ASSERT_EQ(processed->size(), 22u);
  for (const EntryResult& entry : *processed) EXPECT_EQ(entry.status, 201);
  const std::string patient = (*processed)[0].stored->id;
  Relate(patient);

  auto stored_report = records_->Read(clinician_, "DiagnosticReport", processed->back().stored->id);
  ASSERT_TRUE(stored_report);
  EXPECT_EQ(Reference(*stored_report->resource, "subject"), "Patient/" + patient);
  const auto& stored_results = stored_report->resource->at("result").as_array();
  ASSERT_EQ(stored_results.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(stored_results[i].as_object().at("reference").as_string(),
              "Observation/" + (*processed)[i + 1].stored->id);
  }
  auto count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 20);
}

TEST_P(ClinicalRecordsTest, TransactionWithOneInvalidEntryStoresNothing) {
  const std::string patient = NewPatient("Dupont");
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  for (int i = 0; i < 3; ++i) {
    bundle.entries.push_back(Post(fmt::format("urn:uuid:7a000000-0000-4000-8000-00000000000{}", i),
                                  Json(ObservationJson(patient, "2345-7", "2026-03-05"))));
  }
  boost::json::object broken = Json(ObservationJson(patient, "2345-7", "2026-03-05"));
  broken["status"] = "not-a-status";
  bundle.entries.push_back(Post("urn:uuid:7a000000-0000-4000-8000-000000000009", broken));

  auto processed = records_->Process(clinician_, bundle);
  ASSERT_FALSE(processed);
  EXPECT_EQ(processed.error().failure, Failure::kInvalid);
  EXPECT_EQ(processed.error().issues.front().expression, "Bundle.entry[3].resource.status");
  auto count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
}

TEST_P(ClinicalRecordsTest, TransactionDeletesAndConditionalCreates) {
  const std::string patient = NewPatient("Dupont");
  const std::string old = NewObservation(patient);
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  fhir::IncomingEntry conditional = Post(
      "urn:uuid:8b000000-0000-4000-8000-000000000001",
      Json(
          R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"IPP-1"}],)"
          R"("name":[{"family":"Roux"}]})"));
  conditional.if_none_exist = "identifier=IPP-1";
  bundle.entries.push_back(conditional);
  boost::json::object observation = Json(ObservationJson("x", "2345-7", "2026-03-05"));
  observation["subject"] =
      boost::json::object{{"reference", "urn:uuid:8b000000-0000-4000-8000-000000000001"}};
  bundle.entries.push_back(Post("urn:uuid:8b000000-0000-4000-8000-000000000002", observation));
  fhir::IncomingEntry removal;
  removal.method = fhir::EntryMethod::kDelete;
  removal.url = "Observation/" + old;
  bundle.entries.push_back(removal);

  // Registered and written by a system client (a clinician's writes need a care relation with
  // the patient, which a new patient has with no one).
  policy::Principal system = clinician_;
  system.account_id = "ehr-feed";
  system.role = audit::Role::kIntegration;
  system.client = "ehr-feed";
  system.scopes = identity::ParseSmartScopes("system/*.cruds").value();
  auto first = records_->Process(system, bundle);
  ASSERT_TRUE(first) << first.error().issues.front().expression << ": "
                     << first.error().issues.front().diagnostics;
  Relate((*first)[0].stored->id);
  EXPECT_EQ((*first)[0].status, 201);
  EXPECT_EQ((*first)[2].status, 204);
  auto gone = records_->Read(clinician_, "Observation", old);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().failure, Failure::kGone);

  // Again: the Patient is found, not created twice; the new Observation names it.
  auto second = records_->Process(system, bundle);
  ASSERT_TRUE(second) << second.error().issues.front().diagnostics;
  EXPECT_EQ((*second)[0].status, 200);
  EXPECT_EQ((*second)[0].stored->id, (*first)[0].stored->id);
  auto new_observation = records_->Read(clinician_, "Observation", (*second)[1].stored->id);
  ASSERT_TRUE(new_observation);
  EXPECT_EQ(Reference(*new_observation->resource, "subject"), "Patient/" + (*first)[0].stored->id);
}

TEST_P(ClinicalRecordsTest, TransactionOfAPatientAndTheirPdfReport) {
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  const std::string patient_urn = "urn:uuid:9c000000-0000-4000-8000-000000000001";
  bundle.entries.push_back(
      Post(patient_urn,
           Json(R"({"resourceType":"Patient","name":[{"family":"Petit","given":["Luc"]}]})")));
  boost::json::object document = Json(
      R"({"resourceType":"DocumentReference","status":"current","date":"2026-03-05T10:00:00Z",)"
      R"("custodian":{"reference":"Organization/org-lab-1"},)"
      R"("content":[{"attachment":{"contentType":"application/pdf","data":"JVBERi0xLjQK"}}]})");
  document["subject"] = boost::json::object{{"reference", patient_urn}};
  bundle.entries.push_back(Post("urn:uuid:9c000000-0000-4000-8000-000000000002", document));
  // A result of the lab: the patient becomes the lab's (policy/lab_scope.h), which the GET finds.
  boost::json::object result = Json(ObservationJson("x", "2345-7", "2026-03-05T08:30:00Z"));
  result["subject"] = boost::json::object{{"reference", patient_urn}};
  bundle.entries.push_back(Post("urn:uuid:9c000000-0000-4000-8000-000000000003", result));
  fhir::IncomingEntry search;
  search.method = fhir::EntryMethod::kGet;
  search.url = "Patient?family=petit";
  bundle.entries.push_back(search);

  auto processed = records_->Process(lab_, bundle);
  ASSERT_TRUE(processed) << processed.error().issues.front().expression << ": "
                         << processed.error().issues.front().diagnostics;
  ASSERT_EQ(processed->size(), 4u);
  const std::string patient = (*processed)[0].stored->id;
  const auto& attachment = (*processed)[1]
                               .stored->resource->at("content")
                               .as_array()[0]
                               .as_object()
                               .at("attachment")
                               .as_object();
  const std::string url(attachment.at("url").as_string());
  ASSERT_TRUE(url.starts_with("Binary/"));
  auto binary = records_->Read(PatientPrincipal(patient), "Binary", url.substr(7));
  ASSERT_TRUE(binary) << binary.error().issues.front().diagnostics;
  EXPECT_EQ(binary->resource->at("data").as_string(), "JVBERi0xLjQK");
  // The GET ran after the writes: it finds the new patient.
  EXPECT_EQ((*processed)[3].status, 200);
  EXPECT_EQ((*processed)[3].stored->resource->at("total").to_number<std::int64_t>(), 1);
}

TEST_P(ClinicalRecordsTest, TransactionEntryTheCallerMayNotWriteFailsItAll) {
  const std::string patient = NewPatient("Dupont");
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kTransaction;
  bundle.entries.push_back(Post("", Json(ObservationJson(patient, "2345-7", "2026-03-05"))));
  bundle.entries.push_back(
      Post("", Json(R"({"resourceType":"Condition","subject":{"reference":"Patient/)" + patient +
                    R"("},"code":{"text":"x"}})")));
  auto processed = records_->Process(lab_, bundle);
  ASSERT_FALSE(processed);
  EXPECT_EQ(processed.error().failure, Failure::kForbidden);
  EXPECT_EQ(processed.error().issues.front().expression, "Bundle.entry[1]");
  auto count = records_->Count(clinician_, Query("Observation", "patient=" + patient));
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
}

TEST_P(ClinicalRecordsTest, BatchEntriesSucceedOrFailOnTheirOwn) {
  const std::string patient = NewPatient("Dupont");
  const std::string id = NewObservation(patient);
  fhir::IncomingBundle bundle;
  bundle.kind = fhir::BundleKind::kBatch;
  bundle.entries.push_back(Post("", Json(ObservationJson(patient, "2345-7", "2026-03-05"))));
  fhir::IncomingEntry read;
  read.method = fhir::EntryMethod::kGet;
  read.url = "Observation/" + id;
  bundle.entries.push_back(read);
  fhir::IncomingEntry missing = read;
  missing.url = "Observation/0b0e5c0e-6666-4666-8666-666666666666";
  bundle.entries.push_back(missing);
  fhir::IncomingEntry search = read;
  search.url = "Observation?patient=" + patient;
  bundle.entries.push_back(search);

  auto processed = records_->Process(clinician_, bundle);
  ASSERT_TRUE(processed);
  ASSERT_EQ(processed->size(), 4u);
  EXPECT_EQ((*processed)[0].status, 201);
  EXPECT_EQ((*processed)[1].status, 200);
  EXPECT_EQ((*processed)[1].stored->id, id);
  EXPECT_EQ((*processed)[2].status, 404);
  ASSERT_TRUE((*processed)[2].outcome);
  EXPECT_EQ((*processed)[2].outcome->issues.front().expression, "Bundle.entry[2]");
  EXPECT_EQ((*processed)[3].status, 200);
  EXPECT_EQ((*processed)[3].stored->resource->at("total").to_number<std::int64_t>(), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, ClinicalRecordsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// Fail-closed: when the audit log cannot write, nothing is returned.
TEST(ClinicalRecordsFailClosed, AuditLogUnavailableReturnsNothing) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-failclosed-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  auto store = store::Store::Open("sqlite:" + (dir / "records.db").string());
  ASSERT_TRUE(store);
  const std::string audit_path = (dir / "audit.db").string();
  auto audit_store =
      store::Store::Open("sqlite:" + audit_path, {.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(audit_store);
  ASSERT_TRUE(crypto::CreateMasterKeyFile(dir / "master.key"));
  crypto::KeyFileKekSource source(dir / "master.key");
  auto sealed = SealedStore::Open(**store, source, {});
  ASSERT_TRUE(sealed);
  ::medvault::testing::ManualClock clock;
  auto log = audit::AuditLog::Open(**audit_store, clock);
  ASSERT_TRUE(log);
  policy::Decider decider(**log, clock);
  ClinicalRecords records(**sealed, **store, **log, decider, clock, {});
  policy::Principal clinician;
  clinician.account_id = "clin-1";
  clinician.role = audit::Role::kClinician;
  clinician.client = "portal";
  auto patient = records.Create(
      clinician, Json(R"({"resourceType":"Patient","name":[{"family":"Dupont"}]})"), "");
  ASSERT_TRUE(patient) << patient.error().issues.front().diagnostics;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(audit_path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto read = records.Read(clinician, "Patient", patient->stored.id);
  auto search = records.Search(clinician, *fhir::ParseSearch("Patient", "family=dup"));
  auto created = records.Create(
      clinician, Json(R"({"resourceType":"Patient","name":[{"family":"Martin"}]})"), "");
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().failure, Failure::kUnavailable);
  ASSERT_FALSE(search);
  EXPECT_EQ(search.error().failure, Failure::kUnavailable);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().failure, Failure::kUnavailable);
  // Nothing was written either.
  auto found = records.Search(clinician, *fhir::ParseSearch("Patient", "family=martin"));
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->matches.empty());

  log->reset();
  sealed->reset();
  audit_store->reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medvault::records
