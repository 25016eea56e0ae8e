// The lab feed's use case on both backends, with a real audit log, Decider and sealed store:
// example ORU^R01 messages (tests/lab/messages) become one transaction each, duplicates are
// taken once, and what cannot be taken is kept sealed in the quarantine.
#include "records/lab_ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "clinical_records_fixture.h"
#include "identity/smart_scopes.h"
#include "lab/hl7.h"
#include "lab/lab_messages.h"

namespace medvault::records {
namespace {

using lab::testing::ReadMessageFile;

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// MSA-1 and, when there is one, ERR-3.1 of an acknowledgement.
struct ParsedAck {
  std::string code;
  std::string control_id;
  std::string condition;
  std::string location;
};

ParsedAck ReadAck(std::string_view ack) {
  auto message = lab::Message::Parse(ack);
  EXPECT_TRUE(message);
  if (!message) return {};
  ParsedAck out;
  for (const lab::Segment& segment : message->segments()) {
    if (segment.id() == "MSA") {
      out.code = segment.Value(1);
      out.control_id = segment.Value(2);
    }
    if (segment.id() == "ERR") {
      out.condition = segment.Value(3, 1);
      out.location = std::string(segment.Raw(2));
    }
  }
  return out;
}

class LabIngestTest : public ClinicalRecordsTest {
 protected:
  void SetUp() override {
    ClinicalRecordsTest::SetUp();
    if (HasFatalFailure()) return;
    auto ingest = LabIngest::Create(*records_, *sealed_, *store_, *log_, clock_);
    ASSERT_TRUE(ingest) << ingest.error().message();
    ingest_ = std::move(*ingest);
    client_.account_id = "lab-feed";
    client_.role = audit::Role::kIntegration;
    client_.client = "lab-feed";
    client_.source_address = "127.0.0.1";
    auto scopes = identity::ParseSmartScopes(
        "system/Patient.crs system/Organization.crs system/Practitioner.crs "
        "system/DiagnosticReport.cruds system/Observation.cruds");
    ASSERT_TRUE(scopes);
    client_.scopes = *scopes;
  }
  void TearDown() override {
    ingest_.reset();
    ClinicalRecordsTest::TearDown();
  }

  // What the feed wrote, as its client reads it (a clinician sees only the patients in their
  // care, a lab technician only their lab's).
  std::vector<StoredResource> Find(std::string_view type, std::string_view query) {
    auto page = records_->Search(client_, Query(type, query));
    EXPECT_TRUE(page) << (page ? "" : page.error().issues.front().diagnostics);
    return page ? page->matches : std::vector<StoredResource>{};
  }

  std::vector<StoredResource> ReportsOfOrder(std::string_view order) {
    return Find("DiagnosticReport",
                fmt::format("identifier=urn:medvault:hl7v2:LBM-QUAIS:filler-order|{}", order));
  }

  // The hemoglobin results of the message's patient.
  std::vector<StoredResource> Hemoglobin() {
    const auto patients = Find("Patient", "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB123456");
    EXPECT_EQ(patients.size(), 1u);
    if (patients.empty()) return {};
    return Find("Observation", "patient=" + patients[0].id + "&code=http://loinc.org|718-7");
  }

  std::unique_ptr<LabIngest> ingest_;
  policy::Principal client_;
};

TEST_P(LabIngestTest, AnOruBecomesThePatientTheReportAndItsObservations) {
  const LabAnswer answer = ingest_->Ingest(client_, ReadMessageFile("oru_cbc.hl7"));
  const ParsedAck ack = ReadAck(answer.ack);
  ASSERT_EQ(ack.code, "AA") << answer.ack;
  EXPECT_EQ(ack.control_id, "MSG-CBC-0001");
  EXPECT_TRUE(answer.quarantine_id.empty());

  const auto patients = Find("Patient", "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB123456");
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_EQ(patients[0].resource->at("name").at(0).at("family").as_string(), "Dupont");
  const auto reports = ReportsOfOrder("FIL-55012");
  ASSERT_EQ(reports.size(), 1u);
  const boost::json::object& report = *reports[0].resource;
  EXPECT_EQ(report.at("status").as_string(), "preliminary");
  EXPECT_EQ(report.at("subject").at("reference").as_string(), "Patient/" + patients[0].id);
  ASSERT_EQ(report.at("result").as_array().size(), 5u);
  ASSERT_EQ(report.at("performer").as_array().size(), 2u);
  const auto labs =
      Find("Organization", "identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.71.4.2.2.750001234");
  ASSERT_EQ(labs.size(), 1u);
  EXPECT_EQ(report.at("performer").at(0).at("reference").as_string(), "Organization/" + labs[0].id);
  const auto doctors = Find("Practitioner", "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789");
  ASSERT_EQ(doctors.size(), 1u);
  EXPECT_EQ(report.at("performer").at(1).at("reference").as_string(),
            "Practitioner/" + doctors[0].id);
  const auto observations = Find("Observation", "patient=" + patients[0].id);
  EXPECT_EQ(observations.size(), 5u);
}

TEST_P(LabIngestTest, TheSameControlIdTwiceIsStoredOnceAndAcknowledgedTheSame) {
  const std::string message = ReadMessageFile("oru_cbc.hl7");
  const LabAnswer first = ingest_->Ingest(client_, message);
  const LabAnswer second = ingest_->Ingest(client_, message);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(ReadAck(second.ack).code, "AA");
  EXPECT_EQ(ReadAck(second.ack).control_id, ReadAck(first.ack).control_id);
  const auto reports = ReportsOfOrder("FIL-55012");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].version, 1);
  EXPECT_EQ(Hemoglobin().size(), 1u);
}

// The duplicate row is written in the results' own transaction: of the same message sent on
// several connections at once, one is taken and the others write nothing (no next version).
TEST_P(LabIngestTest, TheSameMessageSentSeveralTimesAtOnceIsStoredOnce) {
  const std::string message = ReadMessageFile("oru_cbc.hl7");
  ASSERT_EQ(
      ReadAck(ingest_->Ingest(client_, Replace(message, "MSG-CBC-0001", "MSG-WARM")).ack).code,
      "AA");  // the patient, lab and practitioner known: the messages run at once
  const std::string again =
      Replace(Replace(message, "|FIL-55012|", "|FIL-77001|"), "|FIL-55012|", "|FIL-77001|");
  constexpr int kCopies = 6;
  std::vector<LabAnswer> answers(kCopies);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] { answers[i] = ingest_->Ingest(client_, again); });
  }
  for (std::thread& thread : threads) thread.join();
  int taken = 0;
  for (const LabAnswer& answer : answers) {
    EXPECT_EQ(ReadAck(answer.ack).code, "AA") << answer.ack;
    if (!answer.duplicate) ++taken;
  }
  EXPECT_EQ(taken, 1);
  const auto reports = ReportsOfOrder("FIL-77001");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].version, 1);
}

TEST_P(LabIngestTest, AKnownPatientIsMatchedAndACorrectionIsTheReportsNextVersion) {
  ASSERT_EQ(ReadAck(ingest_->Ingest(client_, ReadMessageFile("oru_cbc.hl7")).ack).code, "AA");
  ASSERT_EQ(ReadAck(ingest_->Ingest(client_, ReadMessageFile("oru_two_orders.hl7")).ack).code,
            "AA");
  EXPECT_EQ(Find("Patient", "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB123456").size(), 1u);
  EXPECT_EQ(Find("Practitioner", "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789").size(), 1u);
  std::string corrected = Replace(ReadMessageFile("oru_cbc.hl7"), "MSG-CBC-0001", "MSG-CBC-0002");
  corrected = Replace(corrected, "|||P\rNTE|1|L|Pr", "|||C\rNTE|1|L|Pr");
  corrected = Replace(corrected, "||11.8|", "||12.1|");
  ASSERT_EQ(ReadAck(ingest_->Ingest(client_, corrected).ack).code, "AA");
  const auto reports = ReportsOfOrder("FIL-55012");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].version, 2);
  EXPECT_EQ(reports[0].resource->at("status").as_string(), "corrected");
  const auto hemoglobin = Hemoglobin();
  ASSERT_EQ(hemoglobin.size(), 1u);
  EXPECT_DOUBLE_EQ(hemoglobin[0].resource->at("valueQuantity").at("value").to_number<double>(),
                   12.1);
}

TEST_P(LabIngestTest, AMalformedMessageIsQuarantinedSealedAndAnsweredWithAnError) {
  const std::string message = ReadMessageFile("oru_missing_pid3.hl7");
  const LabAnswer answer = ingest_->Ingest(client_, message);
  const ParsedAck ack = ReadAck(answer.ack);
  EXPECT_EQ(ack.code, "AE");
  EXPECT_EQ(ack.condition, "101");
  EXPECT_EQ(ack.location, "PID^1^3");
  ASSERT_FALSE(answer.quarantine_id.empty());
  EXPECT_TRUE(Find("Patient", "family=Dupont").empty());

  auto page = ingest_->ListQuarantine(lab_, "", 10);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].id, answer.quarantine_id);
  EXPECT_EQ(page->messages[0].condition, 101);
  EXPECT_EQ(page->messages[0].state, "held");
  EXPECT_EQ(page->messages[0].error.find("Dupont"), std::string::npos);

  auto text = ingest_->ReadQuarantined(lab_, answer.quarantine_id);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text, message);
  // What the store holds is sealed.
  std::vector<std::uint8_t> sealed;
  ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) -> Status {
    auto row = tx.GetQuarantined(answer.quarantine_id);
    if (!row) return std::unexpected(row.error());
    sealed = row->sealed;
    return {};
  }));
  const std::string stored(sealed.begin(), sealed.end());
  EXPECT_EQ(stored.find("Dupont"), std::string::npos);
  EXPECT_EQ(stored.find("MSH|"), std::string::npos);
  // Every read is audited; a clinician may not look.
  const auto entries = EntriesOf("lab-1");
  EXPECT_TRUE(std::any_of(entries.begin(), entries.end(), [&](const audit::Entry& entry) {
    return entry.action == audit::Action::kRead && entry.resource_type == "LabQuarantine" &&
           entry.resource_ids == std::vector<std::string>{answer.quarantine_id};
  }));
  auto refused = ingest_->ReadQuarantined(clinician_, answer.quarantine_id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(ingest_->ListQuarantine(clinician_, "", 10));
}

TEST_P(LabIngestTest, AFixedMessageIsReplayedFromTheQuarantine) {
  const std::string message = ReadMessageFile("oru_missing_pid3.hl7");
  const LabAnswer answer = ingest_->Ingest(client_, message);
  ASSERT_FALSE(answer.quarantine_id.empty());
  auto stale = ingest_->FixQuarantined(lab_, answer.quarantine_id, "x", 7);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  const std::string fixed = Replace(message, "PID|1||||", "PID|1||LAB999^^^LBM-QUAIS^PI||");
  auto version = ingest_->FixQuarantined(lab_, answer.quarantine_id, fixed, 1);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(*version, 2);
  EXPECT_EQ(ingest_->ReadQuarantined(lab_, answer.quarantine_id).value(), fixed);
  auto replayed = ingest_->Replay(lab_, answer.quarantine_id, client_);
  ASSERT_TRUE(replayed) << replayed.error().message();
  EXPECT_EQ(ReadAck(replayed->ack).code, "AA") << replayed->ack;
  EXPECT_EQ(Find("Patient", "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB999").size(), 1u);
  auto page = ingest_->ListQuarantine(lab_, "", 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].state, "replayed");
  EXPECT_EQ(page->messages[0].version, 3);
  EXPECT_EQ(page->messages[0].error, "");
}

TEST_P(LabIngestTest, UnsupportedAndUnparseableMessagesAreRejectedAndKept) {
  const LabAnswer adt = ingest_->Ingest(client_, ReadMessageFile("adt_a01.hl7"));
  EXPECT_EQ(ReadAck(adt.ack).code, "AR");
  EXPECT_EQ(ReadAck(adt.ack).condition, "200");
  const LabAnswer garbage = ingest_->Ingest(client_, "not an HL7 message");
  EXPECT_EQ(ReadAck(garbage.ack).code, "AR");
  auto page = ingest_->ListQuarantine(lab_, "", 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->messages.size(), 1u);
  ASSERT_FALSE(page->next_page.empty());
  auto rest = ingest_->ListQuarantine(lab_, page->next_page, 10);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->messages.size(), 1u);
  EXPECT_TRUE(rest->next_page.empty());
  EXPECT_NE(page->messages[0].id, rest->messages[0].id);
  EXPECT_EQ(ingest_->ReadQuarantined(lab_, garbage.quarantine_id).value(), "not an HL7 message");
}

TEST_P(LabIngestTest, AClientWithoutTheScopesGetsAnErrorAndTheMessageIsKept) {
  policy::Principal narrow = client_;
  narrow.scopes = identity::ParseSmartScopes("system/Patient.crs").value();
  const LabAnswer answer = ingest_->Ingest(narrow, ReadMessageFile("oru_cbc.hl7"));
  const ParsedAck ack = ReadAck(answer.ack);
  EXPECT_EQ(ack.code, "AE");
  EXPECT_EQ(ack.condition, "207");
  EXPECT_FALSE(answer.quarantine_id.empty());
  EXPECT_TRUE(ReportsOfOrder("FIL-55012").empty());
  // Not recorded as taken: the same message from a client that may write it is taken.
  EXPECT_EQ(ReadAck(ingest_->Ingest(client_, ReadMessageFile("oru_cbc.hl7")).ack).code, "AA");
}

TEST_P(LabIngestTest, AKnownPractitionerThatIsGoneIsSearchedForAgain) {
  ASSERT_EQ(ReadAck(ingest_->Ingest(client_, ReadMessageFile("oru_cbc.hl7")).ack).code, "AA");
  const auto doctors = Find("Practitioner", "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789");
  ASSERT_EQ(doctors.size(), 1u);
  ASSERT_TRUE(records_->Delete(clinician_, "Practitioner", doctors[0].id));
  const LabAnswer answer = ingest_->Ingest(client_, ReadMessageFile("oru_two_orders.hl7"));
  EXPECT_EQ(ReadAck(answer.ack).code, "AA") << answer.ack;
  const auto again = Find("Practitioner", "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].id, doctors[0].id);
}

TEST_P(LabIngestTest, MessagesAtOnceAboutANewPatientCreateItOnce) {
  constexpr int kMessages = 8;
  std::vector<std::string> answers(kMessages);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMessages; ++i) {
    threads.emplace_back([&, i] {
      std::string text =
          Replace(ReadMessageFile("oru_cbc.hl7"), "MSG-CBC-0001", fmt::format("MSG-CONC-{}", i));
      text = Replace(text, "|FIL-55012|", fmt::format("|FIL-9{}|", i));
      text = Replace(text, "|FIL-55012|", fmt::format("|FIL-9{}|", i));
      answers[i] = ReadAck(ingest_->Ingest(client_, text).ack).code;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& answer : answers) EXPECT_EQ(answer, "AA");
  EXPECT_EQ(Find("Patient", "identifier=urn:medvault:hl7v2:LBM-QUAIS|LAB123456").size(), 1u);
  EXPECT_EQ(Find("Practitioner", "identifier=urn:oid:1.2.250.1.71.4.2.1|10003456789").size(), 1u);
  EXPECT_EQ(
      Find("Organization", "identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.71.4.2.2.750001234")
          .size(),
      1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, LabIngestTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::records
