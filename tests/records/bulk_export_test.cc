// The bulk export job's state machine, its canary watermark and tracing a leaked file back to
// its job (on SQLite and on the PostgreSQL cluster of the fixture "pg").
#include "records/bulk_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "core/french_ids.h"
#include "test_cluster.h"

namespace medvault::records {
namespace {

namespace json = boost::json;

Timestamp At(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

std::string_view After(std::string_view state, ExportEvent event) {
  auto next = NextExportState(state, event);
  return next ? *next : std::string_view("conflict");
}

TEST(ExportJobState, AJobRunsOnlyAfterAnApproval) {
  EXPECT_EQ(After(kExportRequested, ExportEvent::kApprove), kExportApproved);
  EXPECT_EQ(After(kExportApproved, ExportEvent::kStart), kExportRunning);
  EXPECT_EQ(After(kExportRunning, ExportEvent::kFinish), kExportReady);
  EXPECT_EQ(After(kExportRunning, ExportEvent::kFail), kExportFailed);
  EXPECT_EQ(After(kExportRequested, ExportEvent::kStart), "conflict");
  EXPECT_EQ(After(kExportRequested, ExportEvent::kFinish), "conflict");
  EXPECT_EQ(After(kExportRefused, ExportEvent::kStart), "conflict");
}

TEST(ExportJobState, ADecisionIsTakenOnce) {
  EXPECT_EQ(After(kExportRequested, ExportEvent::kRefuse), kExportRefused);
  for (std::string_view decided : {kExportRefused, kExportApproved, kExportRunning, kExportReady,
                                   kExportFailed, kExportExpired}) {
    EXPECT_EQ(After(decided, ExportEvent::kApprove), "conflict") << decided;
    EXPECT_EQ(After(decided, ExportEvent::kRefuse), "conflict") << decided;
  }
  auto refused = NextExportState(kExportReady, ExportEvent::kApprove);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConflict);
  EXPECT_THAT(refused.error().message(), ::testing::HasSubstr("ready"));
}

TEST(ExportJobState, RequestsAndFilesExpireWhenTheirTimePasses) {
  EXPECT_EQ(After(kExportRequested, ExportEvent::kExpire), kExportExpired);
  EXPECT_EQ(After(kExportReady, ExportEvent::kExpire), kExportExpired);
  EXPECT_EQ(After(kExportExpired, ExportEvent::kExpire), "conflict");
  store::ExportJobRecord job;
  job.expires_at = At(1000);
  for (std::string_view state : {kExportRequested, kExportReady}) {
    job.state = std::string(state);
    EXPECT_FALSE(ExportLapsed(job, At(999))) << state;
    EXPECT_TRUE(ExportLapsed(job, At(1000))) << state;
  }
  for (std::string_view state : {kExportApproved, kExportRunning, kExportRefused, kExportExpired}) {
    job.state = std::string(state);
    EXPECT_FALSE(ExportLapsed(job, At(5000))) << state << " has no deadline";
  }
}

TEST(ExportCanaries, LookLikePatientsAndAreUniquePerExport) {
  const std::vector<Canary> canaries = MakeCanaries(5);
  ASSERT_EQ(canaries.size(), 5u);
  std::set<std::string> ids;
  std::set<std::string> identifiers;
  for (const Canary& canary : canaries) {
    ids.insert(canary.id);
    identifiers.insert(canary.identifier);
    EXPECT_EQ(canary.resource.at("resourceType").as_string(), "Patient");
    EXPECT_EQ(canary.resource.at("id").as_string(), canary.id);
    EXPECT_TRUE(CanonicalNir(canary.identifier).has_value())
        << canary.identifier << " carries a valid NIR key";
    EXPECT_TRUE(canary.resource.contains("birthDate"));
    EXPECT_TRUE(canary.resource.contains("name"));
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(identifiers.size(), 5u);
  EXPECT_EQ(MakeCanaries(0).size(), 1u) << "never an export without a watermark";
}

class ExportTrace : public store::StoreBackendTest {
 protected:
  std::string Job(const std::vector<Canary>& canaries) {
    store::ExportJobRecord job;
    job.id = "job-" + canaries.front().id;
    job.state = std::string(kExportReady);
    job.requested_by = "registry";
    job.requester_role = "integration";
    job.types = "Patient";
    job.recipient_key.assign(32, 7);
    job.requested_at = At(100);
    job.expires_at = At(200);
    job.decided_by = "admin-1";
    job.watermark = WatermarkOf(canaries);
    EXPECT_TRUE(store_->Transact([&](store::Transaction& tx) { return tx.InsertExportJob(job); }));
    return job.id;
  }
};

TEST_P(ExportTrace, ALeakedLineNamesItsJobByIdOrByIdentifier) {
  const std::vector<Canary> first = MakeCanaries(3);
  const std::vector<Canary> second = MakeCanaries(3);
  const std::string first_job = Job(first);
  Job(second);
  const std::string real = R"({"resourceType":"Patient","id":"p-1","name":[{"family":"Dupont"}]})";
  std::string leaked = real + "\n" + json::serialize(first[1].resource) + "\n";
  auto traced = TraceExport(*store_, leaked);
  ASSERT_TRUE(traced.has_value()) << traced.error().message();
  ASSERT_EQ(traced->size(), 1u);
  EXPECT_EQ(traced->front().job.id, first_job);
  EXPECT_EQ(traced->front().canaries_found, 1u);

  json::object stripped = first[2].resource;
  stripped["id"] = "renumbered";
  auto by_identifier = TraceExport(*store_, json::serialize(stripped));
  ASSERT_TRUE(by_identifier.has_value());
  ASSERT_EQ(by_identifier->size(), 1u) << "the id was changed, the identifier still tells";
  EXPECT_EQ(by_identifier->front().job.id, first_job);

  auto nothing = TraceExport(*store_, real + "\nnot json\n");
  ASSERT_TRUE(nothing.has_value());
  EXPECT_TRUE(nothing->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ExportTrace, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::records
