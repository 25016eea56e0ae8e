// The store conformance suite: every test runs on SQLite and on a real PostgreSQL 15 cluster
// (started by the ctest fixture "pg", see pg_cluster.sh). Each test gets a fresh database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "test_cluster.h"

namespace medvault::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }

Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

ResourceWrite Write(std::string type, std::string id, std::int64_t expected,
                    std::string_view payload, std::string patient = "patient-1") {
  ResourceWrite write;
  write.resource_type = std::move(type);
  write.id = std::move(id);
  write.expected_version = expected;
  write.patient_id = std::move(patient);
  write.key_id = "dek-1";
  write.payload = B(payload);
  write.recorded_at = At(1'700'000'000'000'000 + expected);
  return write;
}

ResourceDelete Removal(std::string type, std::string id, std::int64_t expected) {
  return ResourceDelete{std::move(type), std::move(id), expected, At(1'800'000'000'000'000)};
}

std::string Text(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

class StoreConformance : public StoreBackendTest {
 protected:
  std::unique_ptr<Store> OpenAgain() {
    auto store = Store::Open(url_);
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }
};

TEST_P(StoreConformance, PutCreatesVersionOneAndGetReturnsIt) {
  ResourceWrite write = Write("Patient", "a", 0, "ciphertext-1");
  ASSERT_EQ(store_->Put(write).value(), 1);

  auto got = store_->Get("Patient", "a");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->resource_type, "Patient");
  EXPECT_EQ(got->id, "a");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->state, VersionState::kLive);
  EXPECT_EQ(got->patient_id, "patient-1");
  EXPECT_EQ(got->key_id, "dek-1");
  EXPECT_EQ(Text(got->payload), "ciphertext-1");
  EXPECT_EQ(got->recorded_at, write.recorded_at);
}

TEST_P(StoreConformance, EveryWriteAddsAVersionAndMovesTheCurrentPointer) {
  ASSERT_EQ(store_->Put(Write("Observation", "o", 0, "v1")).value(), 1);
  ASSERT_EQ(store_->Put(Write("Observation", "o", 1, "v2")).value(), 2);
  ASSERT_EQ(store_->Put(Write("Observation", "o", 2, "v3")).value(), 3);

  auto current = store_->Get("Observation", "o");
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->version, 3);
  EXPECT_EQ(Text(current->payload), "v3");

  auto history = store_->History("Observation", "o");
  ASSERT_TRUE(history.has_value()) << history.error().message();
  ASSERT_EQ(history->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*history)[i].version, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(Text((*history)[i].payload), "v" + std::to_string(i + 1));
    EXPECT_EQ((*history)[i].state, VersionState::kLive);
  }
}

TEST_P(StoreConformance, GetVersionReadsOldVersionsAndRejectsUnknownOnes) {
  ASSERT_TRUE(store_->Put(Write("Observation", "o", 0, "first")));
  ASSERT_TRUE(store_->Put(Write("Observation", "o", 1, "second")));

  auto first = store_->GetVersion("Observation", "o", 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(Text(first->payload), "first");
  EXPECT_EQ(first->version, 1);

  EXPECT_EQ(store_->GetVersion("Observation", "o", 3).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetVersion("Observation", "o", 0).error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, UnknownResourceIsNotFound) {
  EXPECT_EQ(store_->Get("Patient", "nobody").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetVersion("Patient", "nobody", 1).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->History("Patient", "nobody").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Delete(Removal("Patient", "nobody", 1)).error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, DeleteLeavesAMarkerAndKeepsHistory) {
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "alive", "patient-a")));
  auto marker = store_->Delete(Removal("Patient", "a", 1));
  ASSERT_TRUE(marker.has_value()) << marker.error().message();
  EXPECT_EQ(*marker, 2);

  auto current = store_->Get("Patient", "a");
  ASSERT_TRUE(current.has_value()) << "a deleted resource reads as gone, not as unknown";
  EXPECT_EQ(current->state, VersionState::kDeleted);
  EXPECT_EQ(current->version, 2);
  EXPECT_THAT(current->payload, IsEmpty());
  EXPECT_EQ(current->patient_id, "patient-a");
  EXPECT_EQ(current->recorded_at, At(1'800'000'000'000'000));

  auto history = store_->History("Patient", "a");
  ASSERT_TRUE(history.has_value());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].state, VersionState::kLive);
  EXPECT_EQ(Text((*history)[0].payload), "alive");
  EXPECT_EQ((*history)[1].state, VersionState::kDeleted);
  EXPECT_EQ(Text(store_->GetVersion("Patient", "a", 1)->payload), "alive");
}

TEST_P(StoreConformance, DeletingADeletedResourceIsNotFound) {
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "alive")));
  ASSERT_TRUE(store_->Delete(Removal("Patient", "a", 1)));
  EXPECT_EQ(store_->Delete(Removal("Patient", "a", 2)).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->History("Patient", "a")->size(), 2u);
}

TEST_P(StoreConformance, WriteAfterDeleteRevivesTheResource) {
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "v1")));
  ASSERT_TRUE(store_->Delete(Removal("Patient", "a", 1)));
  EXPECT_EQ(store_->Put(Write("Patient", "a", 0, "again")).error().code(), ErrorCode::kConflict)
      << "a deleted resource still exists: expected version 0 must not reuse its id";
  ASSERT_EQ(store_->Put(Write("Patient", "a", 2, "v3")).value(), 3);
  auto current = store_->Get("Patient", "a");
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->state, VersionState::kLive);
  EXPECT_EQ(Text(current->payload), "v3");
}

TEST_P(StoreConformance, StaleExpectedVersionIsConflictAndChangesNothing) {
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "v1")));
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 1, "v2")));

  EXPECT_EQ(store_->Put(Write("Patient", "a", 0, "x")).error().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Put(Write("Patient", "a", 1, "x")).error().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Put(Write("Patient", "a", 5, "x")).error().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Put(Write("Patient", "missing", 1, "x")).error().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Delete(Removal("Patient", "a", 1)).error().code(), ErrorCode::kConflict);

  auto history = store_->History("Patient", "a");
  ASSERT_TRUE(history.has_value());
  EXPECT_EQ(history->size(), 2u);
  EXPECT_EQ(Text(store_->Get("Patient", "a")->payload), "v2");
  EXPECT_EQ(store_->Get("Patient", "missing").error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ResourcesAreKeyedByTypeAndId) {
  ASSERT_TRUE(store_->Put(Write("Patient", "same", 0, "patient")));
  ASSERT_TRUE(store_->Put(Write("Observation", "same", 0, "observation")));
  EXPECT_EQ(Text(store_->Get("Patient", "same")->payload), "patient");
  EXPECT_EQ(Text(store_->Get("Observation", "same")->payload), "observation");
  EXPECT_EQ(store_->Get("Encounter", "same").error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, PayloadBytesRoundTripExactly) {
  ResourceWrite every_byte = Write("Binary", "bytes", 0, "");
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) every_byte.payload.push_back(static_cast<std::uint8_t>(b));
  }
  ResourceWrite large = Write("Binary", "large", 0, "");
  large.payload.resize(std::size_t{1} << 20);
  for (std::size_t i = 0; i < large.payload.size(); ++i) {
    large.payload[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  }
  ResourceWrite empty = Write("Binary", "empty", 0, "");
  empty.patient_id.clear();  // a resource of no patient

  for (const ResourceWrite* write : {&every_byte, &large, &empty}) {
    ASSERT_TRUE(store_->Put(*write)) << write->id;
    auto got = store_->Get("Binary", write->id);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(got->payload, write->payload) << write->id;
    EXPECT_EQ(got->patient_id, write->patient_id);
  }
}

TEST_P(StoreConformance, TimestampsRoundTripToTheMicrosecond) {
  ResourceWrite write = Write("Patient", "a", 0, "x");
  write.recorded_at = At(1'712'345'678'901'234);
  ASSERT_TRUE(store_->Put(write));
  EXPECT_EQ(store_->Get("Patient", "a")->recorded_at, At(1'712'345'678'901'234));

  write = Write("Patient", "old", 0, "x");
  write.recorded_at = At(-86'400'000'001);  // before 1970
  ASSERT_TRUE(store_->Put(write));
  EXPECT_EQ(store_->Get("Patient", "old")->recorded_at, At(-86'400'000'001));
}

TEST_P(StoreConformance, MalformedInputIsInvalidArgument) {
  EXPECT_EQ(store_->Put(Write("", "a", 0, "x")).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Put(Write("Patient", "", 0, "x")).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      store_->Put(Write("Patient", std::string(kMaxNameBytes + 1, 'i'), 0, "x")).error().code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Put(Write("Patient", "a", -1, "x")).error().code(),
            ErrorCode::kInvalidArgument);
  ResourceWrite no_key = Write("Patient", "a", 0, "x");
  no_key.key_id.clear();
  EXPECT_EQ(store_->Put(no_key).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Delete(Removal("Patient", "a", 0)).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Lookup("Patient", "name", B("t"), "", 0).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("Patient", "a").error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, FailedBodyRollsBackEveryWrite) {
  ASSERT_TRUE(store_->Put(Write("Patient", "existing", 0, "v1")));
  Status status = store_->Transact([](Transaction& tx) -> Status {
    if (auto put = tx.Put(Write("Patient", "new", 0, "n1")); !put) {
      return std::unexpected(put.error());
    }
    if (auto put = tx.Put(Write("Patient", "existing", 1, "v2")); !put) {
      return std::unexpected(put.error());
    }
    if (auto s = tx.InsertWrappedKey({"patient-1", "kek-1", B("wrapped")}); !s) return s;
    return Fail(ErrorCode::kInternal, "the caller changed its mind");
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message(), "the caller changed its mind");

  EXPECT_EQ(store_->Get("Patient", "new").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Get("Patient", "existing")->version, 1);
  EXPECT_EQ(store_->GetWrappedKey("patient-1").error().code(), ErrorCode::kNotFound);
}

// Concurrent writing transactions (SQLite commits them in groups, PostgreSQL side by side)
// each succeed or fail on their own: a failing body takes none of the others' writes with it,
// and two that write the same resource at the same expected version conflict, one winning.
TEST_P(StoreConformance, ConcurrentTransactionsSucceedOrFailOnTheirOwn) {
  constexpr int kWriters = 24;
  std::latch start(kWriters);
  std::vector<Status> statuses(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      statuses[i] = store_->Transact([i](Transaction& tx) -> Status {
        const std::string id = "w" + std::to_string(i);
        if (auto put = tx.Put(Write("Patient", id, 0, id)); !put) {
          return std::unexpected(put.error());
        }
        // Every writer also races for one shared resource at version 0.
        if (auto put = tx.Put(Write("Patient", "shared", 0, id)); !put) {
          return std::unexpected(put.error());
        }
        if (i % 3 == 0) return Fail(ErrorCode::kInternal, "writer changed its mind");
        return {};
      });
    });
  }
  for (std::thread& thread : threads) thread.join();
  int committed = 0;
  for (int i = 0; i < kWriters; ++i) {
    const std::string id = "w" + std::to_string(i);
    if (statuses[i]) {
      ++committed;
      EXPECT_NE(i % 3, 0);
      EXPECT_EQ(Text(store_->Get("Patient", id)->payload), id);
      EXPECT_EQ(Text(store_->Get("Patient", "shared")->payload), id);
    } else {
      // Refused by its own body, or beaten to the shared resource: nothing of it was written.
      const ErrorCode code = statuses[i].error().code();
      EXPECT_TRUE(code == ErrorCode::kInternal || code == ErrorCode::kConflict)
          << statuses[i].error().message();
      EXPECT_EQ(store_->Get("Patient", id).error().code(), ErrorCode::kNotFound) << id;
    }
  }
  EXPECT_EQ(committed, 1) << "exactly one writer creates the shared resource";
}

TEST_P(StoreConformance, ConflictInsideTransactionRollsBackEarlierWrites) {
  ASSERT_TRUE(store_->Put(Write("Patient", "b", 0, "b1")));
  Status status = store_->Transact([](Transaction& tx) -> Status {
    if (auto put = tx.Put(Write("Patient", "a", 0, "a1")); !put) {
      return std::unexpected(put.error());
    }
    if (auto put = tx.Put(Write("Patient", "b", 0, "stale")); !put) {
      return std::unexpected(put.error());
    }
    return {};
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->Get("Patient", "a").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Text(store_->Get("Patient", "b")->payload), "b1");
}

TEST_P(StoreConformance, TransactionCommitsSeveralResourcesAtomically) {
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  Status status = store_->Transact([](Transaction& tx) -> Status {
    for (const char* id : {"a", "b", "c"}) {
      ResourceWrite write = Write("Observation", id, 0, id);
      write.index = {{"code", B("glucose")}};
      if (auto put = tx.Put(write); !put) return std::unexpected(put.error());
    }
    // The transaction sees its own writes.
    auto own = tx.Get("Observation", "b");
    if (!own) return std::unexpected(own.error());
    auto found = tx.Lookup("Observation", "code", B("glucose"), "", 10);
    if (!found || found->size() != 3) return Fail(ErrorCode::kInternal, "own index not visible");
    ResourceWrite again = Write("Observation", "a", 1, "a2");
    again.index = {{"code", B("glucose")}};
    auto put = tx.Put(again);
    if (!put) return std::unexpected(put.error());
    return {};
  });
  ASSERT_TRUE(status.has_value()) << status.error().message();

  EXPECT_EQ(Text(other->Get("Observation", "a")->payload), "a2");
  EXPECT_EQ(other->Get("Observation", "a")->version, 2);
  EXPECT_EQ(Text(other->Get("Observation", "b")->payload), "b");
  EXPECT_EQ(Text(other->Get("Observation", "c")->payload), "c");
  EXPECT_THAT(other->Lookup("Observation", "code", B("glucose"), "", 10).value(),
              ElementsAre("a", "b", "c"));
}

TEST_P(StoreConformance, ReadOnlyTransactionRefusesWrites) {
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "v1")));
  std::optional<ErrorCode> put_code;
  Status status = store_->Transact(
      [&](Transaction& tx) -> Status {
        auto read = tx.Get("Patient", "a");
        if (!read) return std::unexpected(read.error());
        auto put = tx.Put(Write("Patient", "a", 1, "v2"));
        if (!put) put_code = put.error().code();
        if (auto s = tx.DeleteWrappedKey("patient-1"); s) return Fail(ErrorCode::kInternal, "");
        return {};
      },
      Access::kReadOnly);
  ASSERT_TRUE(status.has_value()) << status.error().message();
  EXPECT_EQ(put_code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("Patient", "a")->version, 1);
}

TEST_P(StoreConformance, TransactionInsideABodyIsRefused) {
  Status inner;
  Status outer = store_->Transact([&](Transaction&) -> Status {
    inner = store_->Transact([](Transaction&) -> Status { return {}; });
    return {};
  });
  ASSERT_TRUE(outer.has_value());
  ASSERT_FALSE(inner.has_value());
  EXPECT_EQ(inner.error().code(), ErrorCode::kInternal);
}

TEST_P(StoreConformance, BlindIndexFindsCurrentResourcesOnly) {
  ResourceWrite alice = Write("Patient", "p-alice", 0, "a");
  alice.index = {{"family", B("tok-martin")}, {"birthdate", B("tok-1980")}};
  ResourceWrite bob = Write("Patient", "p-bob", 0, "b");
  bob.index = {{"family", B("tok-martin")}, {"birthdate", B("tok-1975")}};
  ASSERT_TRUE(store_->Put(alice));
  ASSERT_TRUE(store_->Put(bob));

  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-martin"), "", 10).value(),
              ElementsAre("p-alice", "p-bob"));
  EXPECT_THAT(store_->Lookup("Patient", "birthdate", B("tok-1980"), "", 10).value(),
              ElementsAre("p-alice"));

  // A write replaces every index row of the resource.
  ResourceWrite renamed = Write("Patient", "p-alice", 1, "a2");
  renamed.index = {{"family", B("tok-durand")}};
  ASSERT_TRUE(store_->Put(renamed));
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-martin"), "", 10).value(),
              ElementsAre("p-bob"));
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-durand"), "", 10).value(),
              ElementsAre("p-alice"));
  EXPECT_THAT(store_->Lookup("Patient", "birthdate", B("tok-1980"), "", 10).value(), IsEmpty());

  // A deleted resource is found no more.
  ASSERT_TRUE(store_->Delete(Removal("Patient", "p-bob", 1)));
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-martin"), "", 10).value(), IsEmpty());
  EXPECT_THAT(store_->Lookup("Patient", "birthdate", B("tok-1975"), "", 10).value(), IsEmpty());
}

TEST_P(StoreConformance, BlindIndexSeparatesTypesAndFieldsAndHonorsTheLimit) {
  for (const char* id : {"c", "a", "d", "b"}) {
    ResourceWrite write = Write("Patient", id, 0, id);
    // Several tokens for one field, one of them repeated: prefixes of a name.
    write.index = {{"given", B("tok-ma")}, {"given", B("tok-mar")}, {"given", B("tok-mar")}};
    ASSERT_TRUE(store_->Put(write));
  }
  ResourceWrite practitioner = Write("Practitioner", "a", 0, "x", "");
  practitioner.index = {{"given", B("tok-ma")}};
  ASSERT_TRUE(store_->Put(practitioner));
  const Bytes binary_token = {0x00, 0xff, 0x00, 0x80};
  ResourceWrite binary = Write("Patient", "z", 0, "z");
  binary.index = {{"nir", binary_token}};
  ASSERT_TRUE(store_->Put(binary));

  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-mar"), "", 10).value(),
              ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-ma"), "", 2).value(), ElementsAre("a", "b"));
  // Pages follow on from the last id of the previous one.
  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-ma"), "b", 2).value(), ElementsAre("c", "d"));
  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-ma"), "bb", 10).value(),
              ElementsAre("c", "d"));
  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-ma"), "d", 10).value(), IsEmpty());
  EXPECT_THAT(store_->Lookup("Practitioner", "given", B("tok-ma"), "", 10).value(), ElementsAre("a"));
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-ma"), "", 10).value(), IsEmpty());
  EXPECT_THAT(store_->Lookup("Patient", "nir", binary_token, "", 10).value(), ElementsAre("z"));
  const Bytes truncated = {0x00, 0xff, 0x00};
  EXPECT_THAT(store_->Lookup("Patient", "nir", truncated, "", 10).value(), IsEmpty());
}

TEST_P(StoreConformance, WrappedKeyIsCreatedOnceRewrappedWithExpectedKeyIdAndDeleted) {
  ASSERT_TRUE(store_->InsertWrappedKey({"patient-1", "kek-1", B("wrapped-under-1")}));
  EXPECT_EQ(store_->InsertWrappedKey({"patient-1", "kek-1", B("other")}).error().code(),
            ErrorCode::kAlreadyExists);
  auto key = store_->GetWrappedKey("patient-1");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->patient_id, "patient-1");
  EXPECT_EQ(key->key_id, "kek-1");
  EXPECT_EQ(Text(key->wrapped), "wrapped-under-1");

  EXPECT_EQ(store_->ReplaceWrappedKey({"patient-1", "kek-2", B("x")}, "kek-0").error().code(),
            ErrorCode::kConflict);
  ASSERT_TRUE(store_->ReplaceWrappedKey({"patient-1", "kek-2", B("wrapped-under-2")}, "kek-1"));
  EXPECT_EQ(store_->GetWrappedKey("patient-1")->key_id, "kek-2");
  EXPECT_EQ(Text(store_->GetWrappedKey("patient-1")->wrapped), "wrapped-under-2");
  EXPECT_EQ(store_->ReplaceWrappedKey({"patient-9", "kek-2", B("x")}, "kek-1").error().code(),
            ErrorCode::kNotFound);

  ASSERT_TRUE(store_->DeleteWrappedKey("patient-1"));
  EXPECT_EQ(store_->GetWrappedKey("patient-1").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteWrappedKey("patient-1").error().code(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ListWrappedKeysPagesInPatientIdOrder) {
  for (const char* patient : {"p3", "p1", "P2", "p10", "p2"}) {
    ASSERT_TRUE(store_->InsertWrappedKey({patient, "kek-1", B(patient)}));
  }
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = store_->ListWrappedKeys(after, 2);
    ASSERT_TRUE(page.has_value()) << page.error().message();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const WrappedKey& key : *page) {
      EXPECT_EQ(Text(key.wrapped), key.patient_id);
      seen.push_back(key.patient_id);
    }
    after = page->back().patient_id;
  }
  // Byte order on both backends.
  EXPECT_THAT(seen, ElementsAre("P2", "p1", "p10", "p2", "p3"));
}

TEST_P(StoreConformance, GetWithKeyReadsTheCurrentVersionAndItsOwnersKeyTogether) {
  ASSERT_TRUE(store_->InsertWrappedKey({"patient-1", "kek-1", B("patient key")}));
  ASSERT_TRUE(store_->InsertWrappedKey({"shared", "kek-1", B("shared key")}));
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "v1")));
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 1, "v2")));
  ASSERT_TRUE(store_->Put(Write("Practitioner", "d", 0, "doctor", "")));
  ASSERT_TRUE(store_->Put(Write("Observation", "o", 0, "orphan", "patient-9")));

  auto patient = store_->GetWithKey("Patient", "a", "shared");
  ASSERT_TRUE(patient.has_value()) << patient.error().message();
  EXPECT_EQ(patient->version.version, 2);
  EXPECT_EQ(Text(patient->version.payload), "v2");
  ASSERT_TRUE(patient->key.has_value());
  EXPECT_EQ(patient->key->patient_id, "patient-1");
  EXPECT_EQ(patient->key->key_id, "kek-1");
  EXPECT_EQ(Text(patient->key->wrapped), "patient key");

  auto practitioner = store_->GetWithKey("Practitioner", "d", "shared");
  ASSERT_TRUE(practitioner.has_value());
  ASSERT_TRUE(practitioner->key.has_value());
  EXPECT_EQ(practitioner->key->patient_id, "shared");
  EXPECT_EQ(Text(practitioner->key->wrapped), "shared key");

  auto keyless = store_->GetWithKey("Observation", "o", "shared");
  ASSERT_TRUE(keyless.has_value());
  EXPECT_FALSE(keyless->key.has_value());
  EXPECT_EQ(Text(keyless->version.payload), "orphan");

  EXPECT_EQ(store_->GetWithKey("Patient", "missing", "shared").error().code(),
            ErrorCode::kNotFound);
}

std::vector<std::string> IdsOf(const std::vector<VersionWithKey>& found) {
  std::vector<std::string> ids;
  for (const auto& one : found) ids.push_back(one.version.id);
  return ids;
}

TEST_P(StoreConformance, ListCurrentPagesAPatientsLiveResourcesOfOneTypeWithTheirKeys) {
  ASSERT_TRUE(store_->InsertWrappedKey({"patient-1", "kek-1", B("key one")}));
  ASSERT_TRUE(store_->InsertWrappedKey({"shared", "kek-1", B("shared key")}));
  for (const char* id : {"o3", "o1", "o5", "o2", "o4"}) {
    ASSERT_TRUE(store_->Put(Write("Observation", id, 0, std::string("v1-") + id)));
  }
  ASSERT_TRUE(store_->Put(Write("Observation", "o1", 1, "v2-o1")));  // the current version
  ASSERT_TRUE(store_->Delete(Removal("Observation", "o4", 1)));      // gone from the list
  ASSERT_TRUE(store_->Put(Write("Observation", "other", 0, "x", "patient-2")));
  ASSERT_TRUE(store_->Put(Write("Condition", "c1", 0, "x")));  // another type
  // A resource that moved to another patient counts under its current one.
  ASSERT_TRUE(store_->Put(Write("Observation", "moved", 0, "x", "patient-2")));
  ASSERT_TRUE(store_->Put(Write("Observation", "moved", 1, "x", "patient-1")));
  ASSERT_TRUE(store_->Put(Write("Practitioner", "d2", 0, "doc2", "")));
  ASSERT_TRUE(store_->Put(Write("Practitioner", "d1", 0, "doc1", "")));

  auto all = store_->ListCurrent("Observation", "patient-1", "", 100, "shared");
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_THAT(IdsOf(*all), ElementsAre("moved", "o1", "o2", "o3", "o5"));
  const VersionWithKey& o1 = (*all)[1];
  EXPECT_EQ(o1.version.resource_type, "Observation");
  EXPECT_EQ(o1.version.version, 2);
  EXPECT_EQ(o1.version.state, VersionState::kLive);
  EXPECT_EQ(o1.version.patient_id, "patient-1");
  EXPECT_EQ(Text(o1.version.payload), "v2-o1");
  ASSERT_TRUE(o1.key.has_value());
  EXPECT_EQ(o1.key->patient_id, "patient-1");
  EXPECT_EQ(o1.key->key_id, "kek-1");
  EXPECT_EQ(Text(o1.key->wrapped), "key one");
  EXPECT_EQ(Text((*all)[3].version.payload), "v1-o3");

  // Pages: after the last id of the previous one, at most `limit`.
  auto first = store_->ListCurrent("Observation", "patient-1", "", 2, "shared");
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(IdsOf(*first), ElementsAre("moved", "o1"));
  auto second = store_->ListCurrent("Observation", "patient-1", "o1", 2, "shared");
  ASSERT_TRUE(second.has_value());
  EXPECT_THAT(IdsOf(*second), ElementsAre("o2", "o3"));
  auto last = store_->ListCurrent("Observation", "patient-1", "o3", 2, "shared");
  ASSERT_TRUE(last.has_value());
  EXPECT_THAT(IdsOf(*last), ElementsAre("o5"));
  EXPECT_THAT(store_->ListCurrent("Observation", "patient-1", "o5", 2, "shared").value(),
              IsEmpty());

  // Another patient, who has no key row: their resources come without a key.
  auto theirs = store_->ListCurrent("Observation", "patient-2", "", 10, "shared");
  ASSERT_TRUE(theirs.has_value());
  EXPECT_THAT(IdsOf(*theirs), ElementsAre("other"));
  EXPECT_FALSE(theirs->front().key.has_value());

  // Resources of no patient come with the key of `owner_without_patient`.
  auto shared = store_->ListCurrent("Practitioner", "", "", 10, "shared");
  ASSERT_TRUE(shared.has_value());
  EXPECT_THAT(IdsOf(*shared), ElementsAre("d1", "d2"));
  ASSERT_TRUE(shared->front().key.has_value());
  EXPECT_EQ(shared->front().key->patient_id, "shared");
  EXPECT_EQ(Text(shared->front().key->wrapped), "shared key");
  EXPECT_THAT(store_->ListCurrent("Observation", "", "", 10, "shared").value(), IsEmpty());
  EXPECT_THAT(store_->ListCurrent("Patient", "patient-1", "", 10, "shared").value(), IsEmpty());

  EXPECT_EQ(store_->ListCurrent("Observation", "patient-1", "", 0, "shared").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->ListCurrent("", "patient-1", "", 10, "shared").error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->ListCurrent("Observation", "patient-1", "", 10, "").error().code(),
            ErrorCode::kInvalidArgument);
}

std::string Label(const ResourceVersion& v) {
  return v.id + "/" + std::to_string(v.version) + (v.state == VersionState::kDeleted ? "x" : "");
}

TEST_P(StoreConformance, ListVersionsWalksATypesHistoryNewestFirstInPages) {
  auto put = [&](std::string id, std::int64_t expected, std::int64_t at,
                 std::string patient = "patient-1") {
    ResourceWrite write = Write("Observation", std::move(id), expected, "p", std::move(patient));
    write.recorded_at = At(at);
    auto done = store_->Put(write);
    ASSERT_TRUE(done.has_value()) << done.error().message();
  };
  put("b", 0, 100);
  put("a", 0, 100);  // same instant as b/1: id descending breaks the tie
  put("b", 1, 200);
  put("c", 0, 300);
  put("b", 2, 300);  // same instant as c/1
  ASSERT_TRUE(store_->Delete({"Observation", "a", 1, At(400)}));
  put("z", 0, 250, "patient-2");                              // another patient's
  put("y", 0, 250, "");                                       // no patient's
  ASSERT_TRUE(store_->Put(Write("Condition", "k", 0, "x")));  // another type

  auto all = store_->ListVersions("Observation", "patient-1", std::nullopt, 100);
  ASSERT_TRUE(all.has_value()) << all.error().message();
  std::vector<std::string> labels;
  for (const auto& v : *all) labels.push_back(Label(v));
  EXPECT_THAT(labels, ElementsAre("a/2x", "c/1", "b/3", "b/2", "b/1", "a/1"));
  EXPECT_EQ(all->front().resource_type, "Observation");
  EXPECT_EQ(all->front().recorded_at, At(400));
  EXPECT_TRUE(all->front().payload.empty());
  EXPECT_EQ(Text((*all)[1].payload), "p");
  EXPECT_EQ((*all)[1].patient_id, "patient-1");

  // Walking in pages of 2, each from the last version of the one before, gives the same list.
  std::vector<std::string> walked;
  std::optional<VersionCursor> cursor;
  for (int page = 0; page < 10; ++page) {
    auto got = store_->ListVersions("Observation", "patient-1", cursor, 2);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_LE(got->size(), 2u);
    if (got->empty()) break;
    for (const auto& v : *got) walked.push_back(Label(v));
    cursor = VersionCursor{got->back().recorded_at, got->back().id, got->back().version};
  }
  EXPECT_EQ(walked, labels);

  // Strictly before the cursor, on each of its three keys.
  auto before_b3 =
      store_->ListVersions("Observation", "patient-1", VersionCursor{At(300), "b", 3}, 100);
  ASSERT_TRUE(before_b3.has_value());
  ASSERT_FALSE(before_b3->empty());
  EXPECT_EQ(Label(before_b3->front()), "b/2");
  auto before_b_at_300 =
      store_->ListVersions("Observation", "patient-1", VersionCursor{At(300), "b", 99}, 100);
  ASSERT_TRUE(before_b_at_300.has_value());
  EXPECT_EQ(Label(before_b_at_300->front()), "b/3");
  auto before_t150 =
      store_->ListVersions("Observation", "patient-1", VersionCursor{At(150), "", 0}, 100);
  ASSERT_TRUE(before_t150.has_value());
  labels.clear();
  for (const auto& v : *before_t150) labels.push_back(Label(v));
  EXPECT_THAT(labels, ElementsAre("b/1", "a/1"));

  auto others = store_->ListVersions("Observation", "patient-2", std::nullopt, 100);
  ASSERT_TRUE(others.has_value());
  ASSERT_EQ(others->size(), 1u);
  EXPECT_EQ(others->front().id, "z");
  auto nobodys = store_->ListVersions("Observation", "", std::nullopt, 100);
  ASSERT_TRUE(nobodys.has_value());
  ASSERT_EQ(nobodys->size(), 1u);
  EXPECT_EQ(nobodys->front().id, "y");
  EXPECT_EQ(store_->ListVersions("Observation", "patient-1", std::nullopt, 0).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, DeleteIndexOfPatientDropsOnlyThatPatientsIndexRows) {
  ResourceWrite mine = Write("Patient", "p1", 0, "a", "patient-1");
  mine.index = {{"family", B("tok-martin")}, {"given", B("tok-jea")}};
  ResourceWrite my_obs = Write("Observation", "o1", 0, "a", "patient-1");
  my_obs.index = {{"code", B("tok-code")}};
  ResourceWrite theirs = Write("Patient", "p2", 0, "b", "patient-2");
  theirs.index = {{"family", B("tok-martin")}};
  ResourceWrite shared = Write("Practitioner", "d", 0, "c", "");
  shared.index = {{"family", B("tok-martin")}};
  for (const auto* write : {&mine, &my_obs, &theirs, &shared}) ASSERT_TRUE(store_->Put(*write));

  auto removed = store_->DeleteIndexOfPatient("patient-1");
  ASSERT_TRUE(removed.has_value()) << removed.error().message();
  EXPECT_EQ(*removed, 3);
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-martin"), "", 10).value(), ElementsAre("p2"));
  EXPECT_THAT(store_->Lookup("Patient", "given", B("tok-jea"), "", 10).value(), IsEmpty());
  EXPECT_THAT(store_->Lookup("Observation", "code", B("tok-code"), "", 10).value(), IsEmpty());
  EXPECT_THAT(store_->Lookup("Practitioner", "family", B("tok-martin"), "", 10).value(),
              ElementsAre("d"));
  // The resources themselves stay.
  EXPECT_TRUE(store_->Get("Patient", "p1").has_value());
  EXPECT_EQ(store_->DeleteIndexOfPatient("patient-1").value(), 0);

  EXPECT_EQ(store_->DeleteIndexOfPatient("").error().code(), ErrorCode::kInvalidArgument);
  auto read_only = store_->Transact(
      [](Transaction& tx) -> Status {
        auto done = tx.DeleteIndexOfPatient("patient-2");
        if (!done) return std::unexpected(done.error());
        return {};
      },
      Access::kReadOnly);
  EXPECT_FALSE(read_only);
  EXPECT_THAT(store_->Lookup("Patient", "family", B("tok-martin"), "", 10).value(), ElementsAre("p2"));
}

TEST_P(StoreConformance, MigrationFiveIndexesCompartmentsAndTypeHistory) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(*applied, ::testing::Contains(5));
  if (GetParam() == "postgres") {
    auto names = RunPsql(url_,
                         "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
                         "WHERE indexname IN ('resources_by_patient', "
                         "'resource_versions_by_type_patient')");
    ASSERT_TRUE(names.has_value()) << names.error().message();
    EXPECT_EQ(*names, "resource_versions_by_type_patient,resources_by_patient");
  }
}

TEST_P(StoreConformance, AlertsGetIncreasingIdsAndAreListedInOrder) {
  Alert first{0, At(10), "integrity_failure", "Patient/a/_history/1", "record does not open"};
  Alert second{0, At(20), "integrity_failure", "", "data key does not open"};
  auto a = store_->InsertAlert(first);
  auto b = store_->InsertAlert(second);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  ASSERT_TRUE(b.has_value());
  EXPECT_GT(*b, *a);

  auto all = store_->ListAlerts(0, 10);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, *a);
  EXPECT_EQ((*all)[0].raised_at, At(10));
  EXPECT_EQ((*all)[0].kind, "integrity_failure");
  EXPECT_EQ((*all)[0].subject, "Patient/a/_history/1");
  EXPECT_EQ((*all)[1].detail, "data key does not open");
  auto after_first = store_->ListAlerts(*a, 10);
  ASSERT_TRUE(after_first.has_value());
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ(after_first->front().id, *b);

  EXPECT_FALSE(store_->InsertAlert({0, At(1), "", "x", "y"}));
  EXPECT_FALSE(
      store_->InsertAlert({0, At(1), "k", "x", std::string(kMaxAlertDetailBytes + 1, 'd')}));
  EXPECT_FALSE(store_->ListAlerts(0, 0));
  // A failed transaction raises nothing.
  auto rolled_back = store_->Transact([](Transaction& tx) -> Status {
    if (auto id = tx.InsertAlert({0, At(30), "k", "s", "d"}); !id)
      return std::unexpected(id.error());
    return Fail(ErrorCode::kConflict, "changed my mind");
  });
  EXPECT_FALSE(rolled_back);
  EXPECT_EQ(store_->ListAlerts(0, 10)->size(), 2u);
}

TEST_P(StoreConformance, MigrationsAreAppliedOnceAndReopeningIsIdempotent) {
  auto applied = store_->AppliedMigrations();
  ASSERT_TRUE(applied.has_value()) << applied.error().message();
  ASSERT_THAT(*applied, Not(IsEmpty()));
  EXPECT_EQ(applied->front(), 1);
  // Ascending without repeats; a gap is allowed while branches land their numbers apart
  // (identity's 004 may arrive before audit's 003).
  for (std::size_t i = 1; i < applied->size(); ++i) {
    EXPECT_LT((*applied)[i - 1], (*applied)[i]) << "numbered in increasing order";
  }
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "kept")));
  ASSERT_TRUE(store_->InsertWrappedKey({"patient-1", "kek-1", B("w")}));
  store_.reset();

  for (int reopen = 0; reopen < 2; ++reopen) {
    std::unique_ptr<Store> store = OpenAgain();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->AppliedMigrations().value(), *applied);
    EXPECT_EQ(Text(store->Get("Patient", "a")->payload), "kept");
    EXPECT_TRUE(store->GetWrappedKey("patient-1").has_value());
  }
}

TEST_P(StoreConformance, ConcurrentOpensOfOneDatabaseMigrateOnce) {
  // A second fresh database, opened by four threads at once.
  std::string url;
  if (GetParam() == "sqlite") {
    url = "sqlite:" + (dir_ / "second.db").string();
  } else {
    auto created = CreatePostgresDatabase();
    ASSERT_TRUE(created.has_value()) << created.error().message();
    url = *created;
  }
  constexpr int kOpeners = 4;
  std::latch start(kOpeners);
  std::vector<std::optional<Result<std::unique_ptr<Store>>>> opened(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      opened[i].emplace(Store::Open(url));
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (auto& store : opened) {
    ASSERT_TRUE(store.has_value());
    ASSERT_TRUE(store->has_value()) << (*store).error().message();
  }
  auto applied = (**opened[0])->AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(*applied, store_->AppliedMigrations().value());
}

TEST_P(StoreConformance, TwoStoresOnTheSameDatabaseSeeEachOthersWrites) {
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store_->Put(Write("Patient", "a", 0, "from-first")));
  EXPECT_EQ(Text(other->Get("Patient", "a")->payload), "from-first");
  ASSERT_TRUE(other->Put(Write("Patient", "a", 1, "from-second")));
  EXPECT_EQ(Text(store_->Get("Patient", "a")->payload), "from-second");
  EXPECT_EQ(store_->Put(Write("Patient", "a", 1, "stale")).error().code(), ErrorCode::kConflict);
  ASSERT_TRUE(other->InsertWrappedKey({"patient-1", "kek-1", B("w")}));
  EXPECT_EQ(store_->InsertWrappedKey({"patient-1", "kek-1", B("w2")}).error().code(),
            ErrorCode::kAlreadyExists);
}

// Two writers race on each of `rounds` resources with the same expected version.
void RaceWriters(Store& first, Store& second, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    const std::string id = "race-" + std::to_string(round);
    ASSERT_TRUE(first.Put(Write("Patient", id, 0, "base")));
    std::latch start(2);
    Result<std::int64_t> results[2] = {Fail(ErrorCode::kInternal, "not run"),
                                       Fail(ErrorCode::kInternal, "not run")};
    std::thread a([&] {
      start.arrive_and_wait();
      results[0] = first.Put(Write("Patient", id, 1, "writer-0"));
    });
    std::thread b([&] {
      start.arrive_and_wait();
      results[1] = second.Put(Write("Patient", id, 1, "writer-1"));
    });
    a.join();
    b.join();
    const int winners = results[0].has_value() + results[1].has_value();
    ASSERT_EQ(winners, 1) << "round " << round;
    const int winner = results[0].has_value() ? 0 : 1;
    EXPECT_EQ(*results[winner], 2);
    EXPECT_EQ(results[1 - winner].error().code(), ErrorCode::kConflict)
        << results[1 - winner].error().message();
    auto current = first.Get("Patient", id);
    ASSERT_TRUE(current.has_value());
    EXPECT_EQ(current->version, 2);
    EXPECT_EQ(Text(current->payload), "writer-" + std::to_string(winner));
    EXPECT_EQ(first.History("Patient", id)->size(), 2u);
  }
}

TEST_P(StoreConformance, ConcurrentWritersWithTheSameExpectedVersionOneWins) {
  RaceWriters(*store_, *store_, 20);
}

TEST_P(StoreConformance, ConcurrentWritersOnTwoStoresOneWins) {
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  RaceWriters(*store_, *other, 20);
}

TEST_P(StoreConformance, ConcurrentKeyCreationKeepsExactlyOneKey) {
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  for (int round = 0; round < 10; ++round) {
    const std::string patient = "patient-" + std::to_string(round);
    std::latch start(2);
    Status results[2];
    std::thread a([&] {
      start.arrive_and_wait();
      results[0] = store_->InsertWrappedKey({patient, "kek-1", B("from-0")});
    });
    std::thread b([&] {
      start.arrive_and_wait();
      results[1] = other->InsertWrappedKey({patient, "kek-1", B("from-1")});
    });
    a.join();
    b.join();
    ASSERT_EQ(results[0].has_value() + results[1].has_value(), 1) << "round " << round;
    const int winner = results[0].has_value() ? 0 : 1;
    EXPECT_EQ(results[1 - winner].error().code(), ErrorCode::kAlreadyExists);
    EXPECT_EQ(Text(store_->GetWrappedKey(patient)->wrapped), "from-" + std::to_string(winner));
  }
}

TEST_P(StoreConformance, ErrorMessagesNeverQuoteStoredValues) {
  const std::string marker = "MARKER-7f3a9c";
  ResourceWrite write = Write("Patient", marker, 0, marker, marker);
  write.key_id = marker;
  write.index = {{"family", B(marker)}};
  ASSERT_TRUE(store_->Put(write));
  ASSERT_TRUE(store_->InsertWrappedKey({marker, marker, B(marker)}));

  std::vector<Error> errors;
  errors.push_back(store_->Put(write).error());
  errors.push_back(store_->InsertWrappedKey({marker, marker, B(marker)}).error());
  errors.push_back(store_->ReplaceWrappedKey({marker, marker, B(marker)}, "other").error());
  errors.push_back(store_->Delete(Removal("Patient", marker, 7)).error());
  errors.push_back(store_->GetVersion("Patient", marker, 9).error());
  errors.push_back(store_->Get("Patient", marker + "-missing").error());
  for (const Error& error : errors) {
    EXPECT_THAT(error.message(), Not(HasSubstr("MARKER"))) << error.message();
  }
}

TEST_P(StoreConformance, PingAnswers) { EXPECT_TRUE(store_->Ping().has_value()); }

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(StoreOpen, RefusesUnknownSchemesWithoutEchoingTheUrl) {
  for (const char* url : {"", "mysql://admin:hunter2@db/medvault", "sqlite", "file:/tmp/x.db",
                          "POSTGRES://admin:hunter2@db/x"}) {
    auto store = Store::Open(url);
    ASSERT_FALSE(store.has_value()) << url;
    EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_THAT(store.error().message(), Not(HasSubstr("hunter2")));
  }
  auto empty_path = Store::Open("sqlite:");
  ASSERT_FALSE(empty_path.has_value());
  EXPECT_EQ(empty_path.error().code(), ErrorCode::kInvalidArgument);
}

TEST(StoreOpen, UnreachablePostgresIsUnavailableWithoutThePassword) {
  auto store = Store::Open("postgresql://medvault:hunter2@127.0.0.1:1/medvault?connect_timeout=2");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message(), Not(HasSubstr("hunter2")));
}

TEST(StoreOpen, SqliteFileIsPrivateToItsOwner) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-store-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path path = std::filesystem::path(pattern) / "store.db";
  {
    auto store = Store::Open("sqlite:" + path.string());
    ASSERT_TRUE(store.has_value()) << store.error().message();
  }
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  std::filesystem::remove_all(pattern);
}

// The page cache and the memory map change how pages are read, never what: a store reading
// through a map (and a large cache) sees every write of a store on the same file that reads
// with neither, and the other way round, across many pages and WAL checkpoints.
TEST(SqliteStore, MappedAndCachedReadsSeeEveryWriteOfAnotherConnection) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-store-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string url = "sqlite:" + (std::filesystem::path(pattern) / "store.db").string();
  // More than the library's map limit: clamped by SQLite, not refused.
  auto mapped = Store::Open(url, {.sqlite_cache_mib = 64, .sqlite_mmap_mib = 1 << 16});
  ASSERT_TRUE(mapped.has_value()) << mapped.error().message();
  auto plain = Store::Open(url, {.sqlite_cache_mib = 0, .sqlite_mmap_mib = 0});
  ASSERT_TRUE(plain.has_value()) << plain.error().message();

  constexpr int kResources = 600;  // payloads of 3 KiB: well over a thousand pages
  auto payload = [](int n, int version) {
    return std::string(3000, static_cast<char>('a' + (n + version) % 26)) + std::to_string(n);
  };
  for (int version = 0; version < 2; ++version) {
    Store& writer = version == 0 ? **plain : **mapped;
    Store& reader = version == 0 ? **mapped : **plain;
    for (int n = 0; n < kResources; ++n) {
      ASSERT_TRUE(
          writer.Put(Write("Patient", "p" + std::to_string(n), version, payload(n, version))));
    }
    for (int n = 0; n < kResources; ++n) {
      auto got = reader.Get("Patient", "p" + std::to_string(n));
      ASSERT_TRUE(got.has_value()) << got.error().message();
      EXPECT_EQ(got->version, version + 1);
      ASSERT_EQ(Text(got->payload), payload(n, version)) << n;
    }
  }
  mapped->reset();
  plain->reset();
  std::filesystem::remove_all(pattern);
}

// The WAL is copied back into the database file beside the writer: while the store stays open
// and no commit checkpoints by itself, the file grows to hold what was written and the WAL
// stops growing once it was copied (the next writer starts it over).
TEST(SqliteStore, TheWalIsCheckpointedInTheBackground) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-store-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path path = std::filesystem::path(pattern) / "store.db";
  auto store = Store::Open("sqlite:" + path.string());
  ASSERT_TRUE(store.has_value()) << store.error().message();
  const auto file_at_start = std::filesystem::file_size(path);

  constexpr int kResources = 1200;  // payloads of 3 KiB: past the checkpoint threshold
  for (int n = 0; n < kResources; ++n) {
    ASSERT_TRUE((*store)->Put(Write("Patient", "p" + std::to_string(n), 0,
                                    std::string(3000, static_cast<char>('a' + n % 26)))));
  }
  // The checkpointer runs on its own thread: give it time, on a loaded machine too.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::filesystem::file_size(path) < file_at_start + kResources * 3000 / 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(std::filesystem::file_size(path), file_at_start + kResources * 3000 / 2);
  // Writing on after a completed checkpoint reuses the WAL instead of growing it for ever.
  const auto wal = std::filesystem::path(path.string() + "-wal");
  for (int n = 0; n < kResources; ++n) {
    ASSERT_TRUE((*store)->Put(Write("Patient", "q" + std::to_string(n), 0,
                                    std::string(3000, static_cast<char>('a' + n % 26)))));
  }
  // The writer starts the WAL over by 4,000 frames (pages of 4 KiB); without that it would hold
  // every frame of both rounds, several per write (over 16,000 here).
  EXPECT_LT(std::filesystem::file_size(wal), std::uintmax_t{6000} * 4096);
  for (int n = 0; n < kResources; n += 97) {
    auto got = (*store)->Get("Patient", "p" + std::to_string(n));
    ASSERT_TRUE(got.has_value()) << got.error().message();
  }
  store->reset();
  std::filesystem::remove_all(pattern);
}

TEST(PostgresStore, ReconnectsAfterTheServerDropsItsConnections) {
  auto url = CreatePostgresDatabase();
  ASSERT_TRUE(url.has_value()) << url.error().message();
  auto store = Store::Open(*url, {.pool_size = 2});
  ASSERT_TRUE(store.has_value()) << store.error().message();
  ASSERT_TRUE((*store)->Put(Write("Patient", "a", 0, "v1")));
  ASSERT_TRUE((*store)->Get("Patient", "a"));

  auto terminated = RunPsql(*url,
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  ASSERT_TRUE(terminated.has_value()) << terminated.error().message();

  auto got = (*store)->Get("Patient", "a");
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(Text(got->payload), "v1");
  EXPECT_TRUE((*store)->Put(Write("Patient", "a", 1, "v2")).has_value());
  EXPECT_TRUE((*store)->Ping().has_value());
}

}  // namespace
}  // namespace medvault::store
