// A SealedStore on a fresh SQLite file or a fresh database of the PostgreSQL test cluster
// (the ctest fixture "pg"), with a master-key file of its own, for tests that run on both.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "crypto/kek.h"
#include "crypto/keyring.h"
#include "crypto/master_key_file.h"
#include "phi_access_for_testing.h"
#include "records/sealed_store.h"
#include "store/store.h"
#include "test_cluster.h"

namespace medvault::records {

inline store::Timestamp At(std::int64_t micros) {
  return store::Timestamp(std::chrono::microseconds(micros));
}

class SealedStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "medvault-records-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    if (GetParam() == "sqlite") {
      url_ = "sqlite:" + (dir_ / "store.db").string();
    } else {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      url_ = *url;
    }
    auto opened = store::Store::Open(url_);
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    store_ = std::move(*opened);
    key_file_ = dir_ / "master.key";
    ASSERT_TRUE(crypto::CreateMasterKeyFile(key_file_));
    source_ = std::make_unique<crypto::KeyFileKekSource>(key_file_);
    sealed_ = OpenSealed(*source_);
    ASSERT_NE(sealed_, nullptr);
  }

  void TearDown() override {
    sealed_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<SealedStore> OpenSealed(const crypto::KekSource& source) {
    SealedStore::Options options;
    options.on_integrity_failure = [this](const IntegrityFailure& failure) {
      integrity_failures_.push_back(std::string(failure.what) + " " +
                                    std::string(failure.resource_type) + "/" +
                                    std::string(failure.resource_id));
    };
    auto sealed = SealedStore::Open(*store_, source, options);
    EXPECT_TRUE(sealed) << sealed.error().message();
    return sealed ? std::move(*sealed) : nullptr;
  }

  Result<std::int64_t> PutPatient(std::string id, std::string_view json,
                                  std::int64_t expected = 0) {
    return sealed_->Put({.resource_type = "Patient",
                         .id = id,
                         .expected_version = expected,
                         .patient_id = id,
                         .json = json,
                         .recorded_at = At(1'700'000'000'000'000 + expected)});
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
  std::filesystem::path key_file_;
  std::unique_ptr<crypto::KeyFileKekSource> source_;
  std::unique_ptr<SealedStore> sealed_;
  std::vector<std::string> integrity_failures_;
  policy::PhiAccess access_ = policy::PhiAccessForTesting::Grant();
};

}  // namespace medvault::records
