#include "crypto/envelope.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromText;

std::unique_ptr<Keyring> KeyringWith(std::initializer_list<std::uint32_t> versions) {
  std::vector<std::unique_ptr<Kek>> keks;
  for (std::uint32_t version : versions) {
    // Each version's bytes depend only on the version, as if read from the same key file.
    auto key = Secret::CopyOf(std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(version)));
    keks.push_back(std::move(*LocalKek::Create(version, std::move(*key))));
  }
  return std::move(*Keyring::FromKeks(std::move(keks)));
}

Secret NewDek() { return std::move(*Envelope::NewDek()); }

AssociatedData Row(std::string patient = "pat-1") {
  return AssociatedData{.resource_type = "Observation",
                        .resource_id = "obs-1",
                        .version = 1,
                        .patient_id = std::move(patient),
                        .key_id = 1};
}

TEST(Envelope, WrappedDekUnwrapsForItsPatient) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {});
  Secret dek = NewDek();
  auto wrapped = envelope.WrapDek("pat-1", dek);
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->kek_version, 1u);
  EXPECT_EQ(wrapped->bytes.size(), kDekBytes + kAeadOverheadBytes);
  auto unwrapped = envelope.UnwrapDek("pat-1", *wrapped);
  ASSERT_TRUE(unwrapped) << unwrapped.error().message();
  EXPECT_TRUE(unwrapped->Equals(dek));
}

TEST(Envelope, WrapPresentedForAnotherPatientIsRefused) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {});
  auto wrapped = envelope.WrapDek("pat-1", NewDek());
  ASSERT_TRUE(wrapped);
  auto unwrapped = envelope.UnwrapDek("pat-2", *wrapped);
  ASSERT_FALSE(unwrapped);
  EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
}

TEST(Envelope, AlteredWrapIsRefused) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {});
  auto wrapped = envelope.WrapDek("pat-1", NewDek());
  ASSERT_TRUE(wrapped);
  for (std::size_t i = 0; i < wrapped->bytes.size(); ++i) {
    WrappedKey altered = *wrapped;
    altered.bytes[i] ^= 0x40;
    auto unwrapped = envelope.UnwrapDek("pat-1", altered);
    ASSERT_FALSE(unwrapped) << "byte " << i;
    EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
  }
}

TEST(Envelope, WrapRelabelledWithAnotherKekVersionIsRefused) {
  auto keyring = KeyringWith({1, 2});
  Envelope envelope(*keyring, {});
  auto wrapped = envelope.WrapDek("pat-1", NewDek());
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->kek_version, 2u);
  WrappedKey relabelled = *wrapped;
  relabelled.kek_version = 1;
  auto unwrapped = envelope.UnwrapDek("pat-1", relabelled);
  ASSERT_FALSE(unwrapped);
  EXPECT_EQ(unwrapped.error().code(), ErrorCode::kDataLoss);
  relabelled.kek_version = 7;
  auto unknown = envelope.UnwrapDek("pat-1", relabelled);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
}

TEST(Envelope, RefusesEmptyPatientAndDekOfWrongSize) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {});
  EXPECT_FALSE(envelope.WrapDek("", NewDek()));
  EXPECT_FALSE(envelope.WrapDek("pat-1", std::move(*Secret::Random(16))));
}

TEST(Envelope, RewrapMovesToTheActiveVersionAndStillUnwraps) {
  Secret dek = NewDek();
  auto old_keyring = KeyringWith({1});
  auto wrapped_v1 = Envelope(*old_keyring, {}).WrapDek("pat-1", dek);
  ASSERT_TRUE(wrapped_v1);

  // Rotation: version 2 is added to the key file; version 1 stays until every wrap moved.
  auto rotating = KeyringWith({1, 2});
  Envelope envelope(*rotating, {});
  auto still_old = envelope.UnwrapDek("pat-1", *wrapped_v1);
  ASSERT_TRUE(still_old);
  EXPECT_TRUE(still_old->Equals(dek));

  auto wrapped_v2 = envelope.Rewrap("pat-1", *wrapped_v1);
  ASSERT_TRUE(wrapped_v2) << wrapped_v2.error().message();
  EXPECT_EQ(wrapped_v2->kek_version, 2u);
  auto again = envelope.Rewrap("pat-1", *wrapped_v2);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *wrapped_v2);  // resuming a rotation changes nothing already moved

  // Version 1 retired: only the moved wrap opens.
  auto retired = KeyringWith({2});
  Envelope after(*retired, {});
  auto unwrapped = after.UnwrapDek("pat-1", *wrapped_v2);
  ASSERT_TRUE(unwrapped);
  EXPECT_TRUE(unwrapped->Equals(dek));
  auto stale = after.UnwrapDek("pat-1", *wrapped_v1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ErrorCode::kNotFound);
}

TEST(Envelope, RewrapRefusesAWrapForAnotherPatient) {
  auto keyring = KeyringWith({1, 2});
  Envelope envelope(*keyring, {});
  auto old_keyring = KeyringWith({1});
  auto wrapped = Envelope(*old_keyring, {}).WrapDek("pat-1", NewDek());
  ASSERT_TRUE(wrapped);
  EXPECT_FALSE(envelope.Rewrap("pat-2", *wrapped));
  auto active = envelope.WrapDek("pat-1", NewDek());
  ASSERT_TRUE(active);
  EXPECT_FALSE(envelope.Rewrap("pat-2", *active));
}

TEST(Envelope, SealedRecordOpensWithItsDekAndRow) {
  Secret dek = NewDek();
  const auto record = FromText("{\"resourceType\":\"Observation\",\"value\":5.4}");
  auto sealed = Envelope::SealRecord(dek, Row(), record);
  ASSERT_TRUE(sealed);
  auto opened = Envelope::OpenRecord(dek, Row(), *sealed);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, record);
}

TEST(Envelope, TamperedRecordFailsWithDataLoss) {
  Secret dek = NewDek();
  auto sealed = Envelope::SealRecord(dek, Row(), FromText("record"));
  ASSERT_TRUE(sealed);
  (*sealed)[sealed->size() / 2] ^= 0x01;
  auto opened = Envelope::OpenRecord(dek, Row(), *sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), ErrorCode::kDataLoss);
}

TEST(Envelope, RecordMovedToAnotherRowOrPatientFailsToOpen) {
  Secret dek = NewDek();
  auto sealed = Envelope::SealRecord(dek, Row(), FromText("record"));
  ASSERT_TRUE(sealed);
  AssociatedData next_version = Row();
  next_version.version = 2;
  EXPECT_FALSE(Envelope::OpenRecord(dek, next_version, *sealed));
  EXPECT_FALSE(Envelope::OpenRecord(dek, Row("pat-2"), *sealed));
  EXPECT_FALSE(Envelope::OpenRecord(NewDek(), Row(), *sealed));
}

TEST(EnvelopeCache, ReturnsTheSameKeyUntilEvicted) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {.cache_capacity = 4});
  Secret dek = NewDek();
  auto wrapped = envelope.WrapDek("pat-1", dek);
  ASSERT_TRUE(wrapped);
  auto first = envelope.Dek("pat-1", *wrapped);
  auto second = envelope.Dek("pat-1", *wrapped);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE((*first)->Equals(dek));
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(envelope.cached_count(), 1u);

  envelope.Evict("pat-1");
  EXPECT_EQ(envelope.cached_count(), 0u);
  EXPECT_TRUE((*first)->Equals(dek));  // a user still holding the key is not cut off
  auto third = envelope.Dek("pat-1", *wrapped);
  ASSERT_TRUE(third);
  EXPECT_NE(first->get(), third->get());
}

TEST(EnvelopeCache, IsBoundedAndDropsTheLeastRecentlyUsed) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {.cache_capacity = 2});
  EXPECT_EQ(envelope.cache_capacity(), 2u);
  std::vector<WrappedKey> wraps;
  for (int i = 0; i < 10; ++i) {
    auto wrapped = envelope.WrapDek("pat-" + std::to_string(i), NewDek());
    ASSERT_TRUE(wrapped);
    wraps.push_back(*wrapped);
  }
  auto a = envelope.Dek("pat-0", wraps[0]);
  auto b = envelope.Dek("pat-1", wraps[1]);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(envelope.Dek("pat-0", wraps[0]));  // pat-0 is now the most recent
  ASSERT_TRUE(envelope.Dek("pat-2", wraps[2]));  // drops pat-1
  EXPECT_EQ(envelope.cached_count(), 2u);
  auto a_again = envelope.Dek("pat-0", wraps[0]);
  auto b_again = envelope.Dek("pat-1", wraps[1]);
  ASSERT_TRUE(a_again && b_again);
  EXPECT_EQ(a->get(), a_again->get());
  EXPECT_NE(b->get(), b_again->get());

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(envelope.Dek("pat-" + std::to_string(i), wraps[i]));
  EXPECT_EQ(envelope.cached_count(), 2u);
}

TEST(EnvelopeCache, RefusesAWrapOfAnotherPatientEvenWhenThatPatientIsCached) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {});
  auto mine = envelope.WrapDek("pat-1", NewDek());
  auto theirs = envelope.WrapDek("pat-2", NewDek());
  ASSERT_TRUE(mine && theirs);
  ASSERT_TRUE(envelope.Dek("pat-2", *theirs));
  auto refused = envelope.Dek("pat-1", *theirs);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kDataLoss);
}

TEST(EnvelopeCache, NoticesARewrappedKey) {
  auto keyring = KeyringWith({1, 2});
  auto old_keyring = KeyringWith({1});
  Secret dek = NewDek();
  auto wrapped_v1 = Envelope(*old_keyring, {}).WrapDek("pat-1", dek);
  ASSERT_TRUE(wrapped_v1);
  Envelope envelope(*keyring, {});
  ASSERT_TRUE(envelope.Dek("pat-1", *wrapped_v1));
  auto wrapped_v2 = envelope.Rewrap("pat-1", *wrapped_v1);
  ASSERT_TRUE(wrapped_v2);
  auto cached = envelope.Dek("pat-1", *wrapped_v2);
  ASSERT_TRUE(cached);
  EXPECT_TRUE((*cached)->Equals(dek));
  EXPECT_EQ(envelope.cached_count(), 1u);
}

TEST(EnvelopeCache, SurvivesConcurrentUseAndEviction) {
  auto keyring = KeyringWith({1});
  Envelope envelope(*keyring, {.cache_capacity = 8});
  std::vector<WrappedKey> wraps;
  for (int i = 0; i < 16; ++i) {
    wraps.push_back(*envelope.WrapDek("pat-" + std::to_string(i), NewDek()));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (round * 7 + t) % 16;
        auto dek = envelope.Dek("pat-" + std::to_string(i), wraps[i]);
        if (!dek || (*dek)->size() != kDekBytes) ++failures;
        if (round % 13 == 0) envelope.Evict("pat-" + std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(envelope.cached_count(), 8u);
}

}  // namespace
}  // namespace medvault::crypto
