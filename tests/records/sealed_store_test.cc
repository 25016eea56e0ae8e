// The encrypted record store on SQLite and on a real PostgreSQL 15 cluster.
#include "records/sealed_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "sealed_store_fixture.h"

namespace medvault::records {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kHelene = R"({"resourceType":"Patient","id":"p1",
  "name":[{"family":"Dupont-Hélène","given":["Hélène","Marie"]}],"birthDate":"1984-12-03",
  "identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"184127645108946"},
                {"system":"urn:lab","value":"LAB 77"}],
  "telecom":[{"system":"phone","value":"06 12 34 56 78"},
             {"system":"email","value":"Helene.Dupont@Example.FR"}]})";
constexpr std::string_view kDupond = R"({"resourceType":"Patient","id":"p2",
  "name":[{"family":"Dupond","given":["Jean"]}],"birthDate":"1990-01-15"})";
constexpr std::string_view kLy = R"({"resourceType":"Patient","id":"p3",
  "name":[{"family":"Ly","given":["Anh"]}],"birthDate":"1971-07-04"})";

std::vector<std::string> Ids(const std::vector<Resource>& resources) {
  std::vector<std::string> ids;
  for (const auto& resource : resources) ids.push_back(resource.id);
  return ids;
}

bool Contains(const store::Bytes& bytes, std::string_view text) {
  return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

TEST_P(SealedStoreTest, PutThenGetReturnsThePlaintextAndStoresOnlyCiphertext) {
  ASSERT_EQ(PutPatient("p1", kHelene).value(), 1);
  auto read = sealed_->Get(access_, "Patient", "p1");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->json.view(), kHelene);
  EXPECT_EQ(read->version, 1);
  EXPECT_EQ(read->patient_id, "p1");

  auto raw = store_->Get("Patient", "p1");
  ASSERT_TRUE(raw);
  EXPECT_FALSE(Contains(raw->payload, "Dupont"));
  EXPECT_FALSE(Contains(raw->payload, "184127645108946"));
  EXPECT_EQ(raw->payload.size(), kHelene.size() + crypto::kAeadOverheadBytes);
}

TEST_P(SealedStoreTest, SearchesNamesByAccentAndCaseInsensitivePrefix) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  auto both = sealed_->Search(access_, "Patient", "patient.family.prefix", "dupon", 10);
  ASSERT_TRUE(both) << both.error().message();
  EXPECT_THAT(Ids(*both), ElementsAre("p1", "p2"));
  auto one = sealed_->Search(access_, "Patient", "patient.family.prefix", "DUPONT HEL", 10);
  ASSERT_TRUE(one);
  EXPECT_THAT(Ids(*one), ElementsAre("p1"));
  auto given = sealed_->Search(access_, "Patient", "patient.given.prefix", "hele", 10);
  ASSERT_TRUE(given);
  EXPECT_THAT(Ids(*given), ElementsAre("p1"));
  auto none = sealed_->Search(access_, "Patient", "patient.family.prefix", "Durand", 10);
  ASSERT_TRUE(none);
  EXPECT_THAT(*none, IsEmpty());
  auto limited = sealed_->Search(access_, "Patient", "patient.family.prefix", "dup", 1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);
}

TEST_P(SealedStoreTest, ASearchNeedsOnlyAsManyCandidatesAsItTakesToFindItsLimit) {
  for (std::string id : {"p1", "p2", "p3"}) ASSERT_TRUE(PutPatient(id, kDupond));
  SealedStore::Options options;
  options.max_search_candidates = 2;
  auto capped = SealedStore::Open(*store_, *source_, options);
  ASSERT_TRUE(capped);
  auto two = (*capped)->Search(access_, "Patient", "patient.family.prefix", "dupond", 2);
  ASSERT_TRUE(two) << two.error().message();
  EXPECT_THAT(Ids(*two), ElementsAre("p1", "p2"));
  // Asked for more than the examined candidates can give, with some left unexamined: refused
  // rather than silently incomplete.
  auto all = (*capped)->Search(access_, "Patient", "patient.family.prefix", "dupond", 10);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code(), ErrorCode::kUnavailable);
  auto uncapped = sealed_->Search(access_, "Patient", "patient.family.prefix", "dupond", 10);
  ASSERT_TRUE(uncapped);
  EXPECT_EQ(uncapped->size(), 3u);
}

TEST_P(SealedStoreTest, ASearchReadsMoreCandidatesWhileTheFirstOnesDoNotMatch) {
  // A query longer than the index's prefix is looked up by its first kMaxNamePrefix letters:
  // the eight "Montgolfieronade" candidates before the one "Montgolfieronus" all fail the filter,
  // more than one batch of candidates for a limit of 1.
  auto patient = [](std::string_view family) {
    return std::string(R"({"resourceType":"Patient","name":[{"family":")") + std::string(family) +
           R"("}]})";
  };
  for (std::string id : {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"}) {
    ASSERT_TRUE(PutPatient(id, patient("Montgolfieronade")));
  }
  ASSERT_TRUE(PutPatient("p9", patient("Montgolfieronus")));
  auto found = sealed_->Search(access_, "Patient", "patient.family.prefix", "montgolfieronu", 1);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_THAT(Ids(*found), ElementsAre("p9"));
  // With a budget smaller than the candidates before it: refused, not an empty answer.
  SealedStore::Options options;
  options.max_search_candidates = 5;
  auto capped = SealedStore::Open(*store_, *source_, options);
  ASSERT_TRUE(capped);
  auto refused = (*capped)->Search(access_, "Patient", "patient.family.prefix", "montgolfieronu", 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
}

TEST_P(SealedStoreTest, SearchesShortNamesWhole) {
  ASSERT_TRUE(PutPatient("p3", kLy));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  auto found = sealed_->Search(access_, "Patient", "patient.family.prefix", "LY", 10);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_THAT(Ids(*found), ElementsAre("p3"));
}

TEST_P(SealedStoreTest, SearchesIdentifiersDatesPhonesAndEmailsExactly) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  struct Case {
    std::string_view field, query;
  };
  for (Case c :
       {Case{"patient.birthdate", "03/12/1984"}, Case{"patient.birthdate", "19841203"},
        Case{"patient.nir", "1 84 12 76 451 089 46"}, Case{"patient.phone", "+33 6 12 34 56 78"},
        Case{"patient.email", "helene.dupont@example.fr"}, Case{"patient.identifier", "LAB77"}}) {
    auto found = sealed_->Search(access_, "Patient", c.field, c.query, 10);
    ASSERT_TRUE(found) << c.field << ": " << found.error().message();
    EXPECT_THAT(Ids(*found), ElementsAre("p1")) << c.field;
  }
  auto other_day = sealed_->Search(access_, "Patient", "patient.birthdate", "1984-12-04", 10);
  ASSERT_TRUE(other_day);
  EXPECT_THAT(*other_day, IsEmpty());
}

TEST_P(SealedStoreTest, RefusesInvalidSearchableValuesAndUnknownFields) {
  auto bad_nir = PutPatient("p9", R"({"resourceType":"Patient","identifier":[
      {"system":"urn:oid:1.2.250.1.213.1.4.8","value":"184127645108947"}]})");
  ASSERT_FALSE(bad_nir);
  EXPECT_EQ(bad_nir.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad_nir.error().message(), HasSubstr("patient.nir"));
  EXPECT_THAT(bad_nir.error().message(), ::testing::Not(HasSubstr("184127645108947")));
  EXPECT_FALSE(store_->Get("Patient", "p9"));

  auto unknown = sealed_->Search(access_, "Patient", "patient.address", "Paris", 10);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  auto too_short = sealed_->Search(access_, "Patient", "patient.family.prefix", "Dupo", 10);
  EXPECT_TRUE(too_short);
}

TEST_P(SealedStoreTest, HistoryKeepsEveryVersionAndDeletedResourcesLeaveTheSearch) {
  ASSERT_TRUE(PutPatient("p2", kDupond));
  std::string renamed(kDupond);
  renamed.replace(renamed.find("Dupond"), 6, "Durand");
  ASSERT_EQ(PutPatient("p2", renamed, 1).value(), 2);
  auto stale = PutPatient("p2", renamed, 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);

  auto history = sealed_->History(access_, "Patient", "p2");
  ASSERT_TRUE(history) << history.error().message();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].json.view(), kDupond);
  EXPECT_EQ((*history)[1].json.view(), renamed);
  auto first = sealed_->GetVersion(access_, "Patient", "p2", 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->json.view(), kDupond);

  auto old_name = sealed_->Search(access_, "Patient", "patient.family.prefix", "Dupond", 10);
  ASSERT_TRUE(old_name);
  EXPECT_THAT(*old_name, IsEmpty());

  ASSERT_EQ(sealed_->Delete("Patient", "p2", 2, At(1'800'000'000'000'000)).value(), 3);
  auto deleted = sealed_->Get(access_, "Patient", "p2");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->state, store::VersionState::kDeleted);
  auto gone = sealed_->Search(access_, "Patient", "patient.family.prefix", "Durand", 10);
  ASSERT_TRUE(gone);
  EXPECT_THAT(*gone, IsEmpty());
}

TEST_P(SealedStoreTest, PutAllWritesEverythingOrNothing) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  const std::string report =
      R"({"resourceType":"DiagnosticReport","identifier":[{"value":"acc-1"}]})";
  const std::string observation = R"({"resourceType":"Observation","valueQuantity":{"value":5}})";
  std::vector<SealedWrite> writes = {
      {"DiagnosticReport", "r1", 0, "p1", report, At(1)},
      {"Observation", "o1", 0, "p1", observation, At(1)},
  };
  ASSERT_TRUE(sealed_->PutAll(writes));
  writes[0].id = "r2";
  writes.push_back({"Patient", "p9", 0, "p9", kDupond, At(1)});
  // o1 exists already: the whole batch fails, r2 is not written, and the new patient p9
  // gets neither a record nor a key.
  auto again = sealed_->PutAll(writes);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_FALSE(store_->Get("DiagnosticReport", "r2"));
  EXPECT_FALSE(store_->Get("Patient", "p9"));
  EXPECT_EQ(store_->GetWrappedKey("p9").error().code(), ErrorCode::kNotFound);
  auto by_accession = sealed_->Search(access_, "DiagnosticReport", "report.accession", "ACC-1", 5);
  ASSERT_TRUE(by_accession);
  EXPECT_THAT(Ids(*by_accession), ElementsAre("r1"));
}

TEST_P(SealedStoreTest, ResourcesOfNoPatientAreSealedUnderTheSharedKey) {
  const std::string practitioner =
      R"({"resourceType":"Practitioner","name":[{"family":"Martin"}]})";
  ASSERT_TRUE(sealed_->Put({"Practitioner", "dr1", 0, "", practitioner, At(1)}));
  auto raw = store_->Get("Practitioner", "dr1");
  ASSERT_TRUE(raw);
  EXPECT_FALSE(Contains(raw->payload, "Martin"));
  auto read = sealed_->Get(access_, "Practitioner", "dr1");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->json.view(), practitioner);
  EXPECT_TRUE(store_->GetWrappedKey(kSharedKeyOwner));
}

TEST_P(SealedStoreTest, CiphertextMovedToAnotherRowDoesNotOpenAndOthersStillServe) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  auto p1 = store_->Get("Patient", "p1");
  ASSERT_TRUE(p1);
  // An attacker with write access to the database moves p1's record into p2's next version.
  store::ResourceWrite moved{.resource_type = "Patient",
                             .id = "p2",
                             .expected_version = 1,
                             .patient_id = "p2",
                             .key_id = p1->key_id,
                             .payload = p1->payload,
                             .index = {},
                             .recorded_at = At(5)};
  ASSERT_TRUE(store_->Put(moved));
  auto read = sealed_->Get(access_, "Patient", "p2");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(integrity_failures_, ElementsAre("record Patient/p2"));
  EXPECT_TRUE(sealed_->Get(access_, "Patient", "p1"));

  // By default the failure becomes an alert in the store, with ids only.
  auto defaults = SealedStore::Open(*store_, *source_, {});
  ASSERT_TRUE(defaults);
  EXPECT_FALSE((*defaults)->Get(access_, "Patient", "p2"));
  auto alerts = store_->ListAlerts(0, 10);
  ASSERT_TRUE(alerts);
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->front().kind, "integrity_failure");
  EXPECT_EQ(alerts->front().subject, "Patient/p2/_history/2");
  EXPECT_THAT(alerts->front().detail, HasSubstr("does not open"));
  EXPECT_TRUE(sealed_->GetVersion(access_, "Patient", "p2", 1));
}

TEST_P(SealedStoreTest, AlteredWrappedKeyFailsForThatPatientOnly) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  auto key = store_->GetWrappedKey("p1");
  ASSERT_TRUE(key);
  store::WrappedKey altered = *key;
  altered.wrapped[30] ^= 0x01;
  ASSERT_TRUE(store_->ReplaceWrappedKey(altered, key->key_id));
  // A fresh process: nothing cached.
  auto reopened = OpenSealed(*source_);
  auto read = reopened->Get(access_, "Patient", "p1");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(integrity_failures_.empty());
  EXPECT_TRUE(reopened->Get(access_, "Patient", "p2"));

  // A key row deleted on disk (not an erasure, which leaves a marker) is an integrity failure.
  ASSERT_TRUE(store_->DeleteWrappedKey("p2"));
  auto keyless = OpenSealed(*source_)->Get(access_, "Patient", "p2");
  ASSERT_FALSE(keyless);
  EXPECT_EQ(keyless.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(integrity_failures_.back(), "data key Patient/p2");
}

TEST_P(SealedStoreTest, ErasingAPatientMakesEveryVersionUnreadableForGood) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p1", kHelene, 1));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  const store::Bytes wrapped_before = store_->GetWrappedKey("p1")->wrapped;
  ASSERT_TRUE(sealed_->ErasePatient("p1"));

  auto another_process = OpenSealed(*source_);
  for (SealedStore* store : {sealed_.get(), another_process.get()}) {
    auto read = store->Get(access_, "Patient", "p1");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code(), ErrorCode::kNotFound);
    EXPECT_FALSE(store->GetVersion(access_, "Patient", "p1", 1));
    auto search = store->Search(access_, "Patient", "patient.family.prefix", "dupon", 10);
    ASSERT_TRUE(search);
    EXPECT_THAT(Ids(*search), ElementsAre("p2"));
  }
  auto recorded = store_->ListAlerts(0, 10);
  ASSERT_TRUE(recorded);
  ASSERT_EQ(recorded->size(), 1u);
  EXPECT_EQ(recorded->front().kind, "patient_erased");
  EXPECT_EQ(recorded->front().subject, "Patient/p1");
  auto marker = store_->GetWrappedKey("p1");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->key_id, kErasedKeyId);
  EXPECT_TRUE(marker->wrapped.empty());

  // On SQLite the destroyed key's bytes are gone from the files too (secure_delete and a WAL
  // checkpoint). PostgreSQL keeps dead rows until VACUUM: there, as for backups, retiring
  // the master key by a rotation is what makes the old wrap useless.
  if (GetParam() == "sqlite") {
    std::string files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(entry.path(), std::ios::binary);
      files.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    EXPECT_EQ(files.find(std::string(wrapped_before.begin(), wrapped_before.end())),
              std::string::npos);
  }

  auto rewrite = PutPatient("p1", kHelene, 2);
  ASSERT_FALSE(rewrite);
  EXPECT_EQ(rewrite.error().code(), ErrorCode::kNotFound);
  auto twice = sealed_->ErasePatient("p1");
  EXPECT_FALSE(twice);
  EXPECT_FALSE(sealed_->ErasePatient(kDerivationRootOwner));
  EXPECT_TRUE(sealed_->Get(access_, "Patient", "p2"));
}

TEST_P(SealedStoreTest, ErasingAPatientDropsTheirBlindIndexRows) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  // A resource of p1's compartment other than the Patient, with index rows of its own.
  ASSERT_TRUE(sealed_->Put({.resource_type = "DiagnosticReport",
                            .id = "r1",
                            .patient_id = "p1",
                            .json = R"({"resourceType":"DiagnosticReport","id":"r1",
                                "identifier":[{"value":"ACC-1"}]})",
                            .recorded_at = At(1)}));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "dupon", "", 10).value(),
              ElementsAre("p1", "p2"));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.birthdate", "1984-12-03", "", 10).value(),
              ::testing::Contains("p1"));
  EXPECT_THAT(sealed_->Candidates("DiagnosticReport", "report.accession", "ACC-1", "", 10).value(),
              ElementsAre("r1"));

  ASSERT_TRUE(sealed_->ErasePatient("p1"));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "dupon", "", 10).value(),
              ElementsAre("p2"));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.birthdate", "1984-12-03", "", 10).value(),
              IsEmpty());
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.nir", "184127645108946", "", 10).value(),
              IsEmpty());
  EXPECT_THAT(sealed_->Candidates("DiagnosticReport", "report.accession", "ACC-1", "", 10).value(),
              IsEmpty());
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "dupond", "", 10).value(),
              ElementsAre("p2"));
}

SealedWrite ObservationOf(std::string id, std::string patient, std::string_view json,
                          std::int64_t expected = 0, std::int64_t at = 1) {
  return {.resource_type = "Observation",
          .id = std::move(id),
          .expected_version = expected,
          .patient_id = std::move(patient),
          .json = json,
          .recorded_at = At(at)};
}

constexpr std::string_view kGlucose = R"({"resourceType":"Observation","code":{"text":"glucose"}})";
constexpr std::string_view kGlucose2 = R"({"resourceType":"Observation","code":{"text":"glyc"}})";

TEST_P(SealedStoreTest, FetchReadsRowsWithoutDecryptingAndOpenDecryptsThem) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p1", kHelene, 1));

  auto fetched = sealed_->Fetch("Patient", "p1");
  ASSERT_TRUE(fetched) << fetched.error().message();
  // What the policy needs is in clear; the record is not.
  EXPECT_EQ(fetched->version.patient_id, "p1");
  EXPECT_EQ(fetched->version.version, 2);
  EXPECT_FALSE(Contains(fetched->version.payload, "Dupont"));
  ASSERT_TRUE(fetched->key.has_value());
  EXPECT_EQ(fetched->key->patient_id, "p1");
  auto opened = sealed_->Open(access_, fetched->version, fetched->key);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->json.view(), kHelene);
  EXPECT_EQ(opened->version, 2);
  EXPECT_EQ(opened->patient_id, "p1");

  auto first = sealed_->FetchVersion("Patient", "p1", 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->version.version, 1);
  ASSERT_TRUE(first->key.has_value());
  EXPECT_EQ(sealed_->Open(access_, first->version, first->key)->json.view(), kHelene);
  EXPECT_EQ(sealed_->FetchVersion("Patient", "p1", 3).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(sealed_->FetchVersion("Patient", "p1", 0).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(sealed_->Fetch("Patient", "nobody").error().code(), ErrorCode::kNotFound);

  // A record opened with another owner's key (or a key moved under it) does not open.
  ASSERT_TRUE(PutPatient("p2", kDupond));
  auto other = sealed_->Fetch("Patient", "p2");
  ASSERT_TRUE(other);
  auto crossed = sealed_->Open(access_, fetched->version, other->key);
  ASSERT_FALSE(crossed);
  EXPECT_EQ(crossed.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(integrity_failures_.empty());
  integrity_failures_.clear();
  // A live record without a key: an integrity failure, reported.
  auto keyless = sealed_->Open(access_, fetched->version, std::nullopt);
  ASSERT_FALSE(keyless);
  EXPECT_EQ(keyless.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(integrity_failures_, ElementsAre("data key Patient/p1"));

  // A deletion marker opens without a key, to no JSON.
  ASSERT_TRUE(sealed_->Delete("Patient", "p2", 1, At(9)));
  auto marker = sealed_->Fetch("Patient", "p2");
  ASSERT_TRUE(marker);
  EXPECT_EQ(marker->version.state, store::VersionState::kDeleted);
  auto opened_marker = sealed_->Open(access_, marker->version, std::nullopt);
  ASSERT_TRUE(opened_marker);
  EXPECT_EQ(opened_marker->state, store::VersionState::kDeleted);
  EXPECT_TRUE(opened_marker->json.view().empty());
}

TEST_P(SealedStoreTest, FetchHistoryGivesEveryVersionWithItsKey) {
  ASSERT_TRUE(sealed_->Put(ObservationOf("o1", "p1", kGlucose)));
  ASSERT_TRUE(sealed_->Put(ObservationOf("o1", "p1", kGlucose2, 1, 2)));
  ASSERT_TRUE(sealed_->Delete("Observation", "o1", 2, At(3)));
  auto history = sealed_->FetchHistory("Observation", "o1");
  ASSERT_TRUE(history) << history.error().message();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].version.version, 1);
  EXPECT_EQ((*history)[2].version.state, store::VersionState::kDeleted);
  ASSERT_TRUE((*history)[0].key.has_value());
  EXPECT_EQ(sealed_->Open(access_, (*history)[0].version, (*history)[0].key)->json.view(),
            kGlucose);
  EXPECT_EQ(sealed_->Open(access_, (*history)[1].version, (*history)[1].key)->json.view(),
            kGlucose2);
  EXPECT_TRUE(sealed_->Open(access_, (*history)[2].version, (*history)[2].key));
  EXPECT_EQ(sealed_->FetchHistory("Observation", "nobody").error().code(), ErrorCode::kNotFound);
  // History (Fetch + Open) agrees.
  auto opened = sealed_->History(access_, "Observation", "o1");
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened->size(), 3u);
  EXPECT_EQ((*opened)[1].json.view(), kGlucose2);
}

TEST_P(SealedStoreTest, FetchCompartmentAndTypeHistoryPageOnePatientsResources) {
  ASSERT_TRUE(sealed_->Put(ObservationOf("o2", "p1", kGlucose, 0, 10)));
  ASSERT_TRUE(sealed_->Put(ObservationOf("o1", "p1", kGlucose, 0, 20)));
  ASSERT_TRUE(sealed_->Put(ObservationOf("o1", "p1", kGlucose2, 1, 30)));
  ASSERT_TRUE(sealed_->Put(ObservationOf("o3", "p1", kGlucose, 0, 40)));
  ASSERT_TRUE(sealed_->Delete("Observation", "o3", 1, At(50)));
  ASSERT_TRUE(sealed_->Put(ObservationOf("x", "p2", kGlucose, 0, 60)));
  const std::string practitioner =
      R"({"resourceType":"Practitioner","name":[{"family":"Martin"}]})";
  ASSERT_TRUE(sealed_->Put({"Practitioner", "dr1", 0, "", practitioner, At(70)}));

  auto page = sealed_->FetchCompartment("Observation", "p1", "", 10);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].version.id, "o1");
  EXPECT_EQ((*page)[1].version.id, "o2");
  EXPECT_EQ(sealed_->Open(access_, (*page)[0].version, (*page)[0].key)->json.view(), kGlucose2);
  auto next = sealed_->FetchCompartment("Observation", "p1", "o1", 10);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().version.id, "o2");
  auto shared = sealed_->FetchCompartment("Practitioner", "", "", 10);
  ASSERT_TRUE(shared);
  ASSERT_EQ(shared->size(), 1u);
  EXPECT_EQ(sealed_->Open(access_, shared->front().version, shared->front().key)->json.view(),
            practitioner);

  auto history = sealed_->FetchTypeHistory("Observation", "p1", std::nullopt, 3);
  ASSERT_TRUE(history) << history.error().message();
  std::vector<std::string> labels;
  for (const auto& v : *history) {
    labels.push_back(v.version.id + "/" + std::to_string(v.version.version));
  }
  EXPECT_THAT(labels, ElementsAre("o3/2", "o3/1", "o1/2"));
  EXPECT_EQ((*history)[0].version.state, store::VersionState::kDeleted);
  ASSERT_TRUE((*history)[2].key.has_value());
  EXPECT_EQ(sealed_->Open(access_, (*history)[2].version, (*history)[2].key)->json.view(),
            kGlucose2);
  const auto& last = history->back().version;
  auto rest = sealed_->FetchTypeHistory(
      "Observation", "p1", store::VersionCursor{last.recorded_at, last.id, last.version}, 10);
  ASSERT_TRUE(rest);
  labels.clear();
  for (const auto& v : *rest)
    labels.push_back(v.version.id + "/" + std::to_string(v.version.version));
  EXPECT_THAT(labels, ElementsAre("o1/1", "o2/1"));
  EXPECT_EQ(sealed_->Open(access_, rest->front().version, rest->front().key)->json.view(),
            kGlucose);

  // An erased patient's rows are still listed, and do not open.
  ASSERT_TRUE(sealed_->ErasePatient("p1"));
  auto erased = sealed_->FetchCompartment("Observation", "p1", "", 10);
  ASSERT_TRUE(erased);
  ASSERT_EQ(erased->size(), 2u);
  auto sealed_for_good = sealed_->Open(access_, erased->front().version, erased->front().key);
  ASSERT_FALSE(sealed_for_good);
  EXPECT_EQ(sealed_for_good.error().code(), ErrorCode::kNotFound);
}

TEST_P(SealedStoreTest, CandidatesAreWhatSearchExamines) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  ASSERT_TRUE(PutPatient("p2", kDupond));
  ASSERT_TRUE(PutPatient("p3", kLy));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "DUPON", "", 10).value(),
              ElementsAre("p1", "p2"));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "dupon", "", 1).value(),
              ElementsAre("p1"));
  // A whole short name, as Search looks it up.
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.family.prefix", "ly", "", 10).value(),
              ::testing::Contains("p3"));
  EXPECT_THAT(sealed_->Candidates("Patient", "patient.nir", "1 84 12 76 451 089 46", "", 10).value(),
              ::testing::Contains("p1"));
  // Every match of a search is among its candidates.
  auto matches = sealed_->Search(access_, "Patient", "patient.given.prefix", "jean", 10);
  ASSERT_TRUE(matches);
  auto candidates = sealed_->Candidates("Patient", "patient.given.prefix", "jean", "", 10);
  ASSERT_TRUE(candidates);
  for (const auto& id : Ids(*matches)) EXPECT_THAT(*candidates, ::testing::Contains(id));
  EXPECT_EQ(sealed_->Candidates("Patient", "patient.address", "Paris", "", 10).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(sealed_->Candidates("Patient", "patient.nir", "184127645108947", "", 10).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(SealedStoreTest, RotationRewrapsEveryKeyWhileAnotherProcessKeepsServing) {
  for (int i = 0; i < 7; ++i) {
    std::string id = "p" + std::to_string(i);
    ASSERT_TRUE(PutPatient(id, kDupond));
  }
  ASSERT_TRUE(sealed_->Put({"Practitioner", "dr1", 0, "", R"({"name":"x"})", At(1)}));
  ASSERT_TRUE(sealed_->ErasePatient("p6"));
  const std::filesystem::path backup_of_keys = dir_ / "master.key.backup";
  std::filesystem::copy_file(key_file_, backup_of_keys);

  // `medvault keys rotate`, in its own process.
  ASSERT_EQ(crypto::AddMasterKeyVersion(key_file_).value(), 2u);
  auto rotating = OpenSealed(*source_);
  ASSERT_EQ(rotating->BeginRotation().value(), 2u);
  std::size_t moved = 0;
  for (;;) {
    auto batch = rotating->RewrapBatch(3);
    ASSERT_TRUE(batch) << batch.error().message();
    if (*batch == 0) break;
    EXPECT_LE(*batch, 3u);
    moved += *batch;
    // The serving process, which loaded only version 1, reads rewrapped keys all along.
    auto read = sealed_->Get(access_, "Patient", "p" + std::to_string(moved % 6));
    ASSERT_TRUE(read) << read.error().message();
  }
  // Six patients, the shared key and the derivation root; the erased marker stays.
  EXPECT_EQ(moved, 8u);
  // A patient created by the serving process after the marker moved is wrapped under kek-2.
  ASSERT_TRUE(PutPatient("p7", kDupond));
  EXPECT_EQ(store_->GetWrappedKey("p7")->key_id, "kek-2");

  auto status = rotating->Keys();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->marked_kek_version, 2u);
  EXPECT_EQ(status->loaded_kek_versions, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(status->wraps_by_key_id,
            (std::map<std::string, std::size_t>{{"erased", 1}, {"kek-2", 9}}));

  ASSERT_TRUE(crypto::RetireMasterKeyVersionsBefore(key_file_, 2));
  auto after = OpenSealed(*source_);
  ASSERT_NE(after, nullptr);
  auto read = after->Get(access_, "Patient", "p3");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->json.view(), kDupond);
  auto search = after->Search(access_, "Patient", "patient.family.prefix", "dupond", 10);
  ASSERT_TRUE(search);
  EXPECT_EQ(search->size(), 7u);
  EXPECT_TRUE(after->Get(access_, "Practitioner", "dr1"));

  // Whoever holds only the retired master key (an old backup of the key file) opens nothing
  // of today's vault.
  crypto::KeyFileKekSource old_keys(backup_of_keys);
  auto old = SealedStore::Open(*store_, old_keys, {});
  ASSERT_FALSE(old);
  EXPECT_THAT(old.error().message(), HasSubstr("master key"));
}

TEST_P(SealedStoreTest, AWrongMasterKeyIsRefusedAtOpen) {
  const std::filesystem::path other = dir_ / "other.key";
  ASSERT_TRUE(crypto::CreateMasterKeyFile(other));
  crypto::KeyFileKekSource wrong(other);
  auto sealed = SealedStore::Open(*store_, wrong, {});
  ASSERT_FALSE(sealed);
  EXPECT_EQ(sealed.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(sealed.error().message(), HasSubstr("master key"));
}

TEST_P(SealedStoreTest, TwoProcessesShareTheDerivationRoot) {
  ASSERT_TRUE(PutPatient("p1", kHelene));
  auto other = OpenSealed(*source_);
  auto found = other->Search(access_, "Patient", "patient.nir", "184127645108946", 10);
  ASSERT_TRUE(found);
  EXPECT_THAT(Ids(*found), ElementsAre("p1"));
  EXPECT_EQ(other->derived_keys().signing_key().public_key(),
            sealed_->derived_keys().signing_key().public_key());
}

INSTANTIATE_TEST_SUITE_P(Backends, SealedStoreTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace medvault::records
