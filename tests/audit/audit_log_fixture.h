// A fresh store for the audit tests: a SQLite file in a temporary directory, or a new database
// on the PostgreSQL test cluster of the ctest fixture "pg".
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "audit/entry.h"
#include "store/store.h"
#include "store/test_cluster.h"

namespace medvault::audit::testing {

class StoreBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string pattern = (std::filesystem::temp_directory_path() / "medvault-audit-XXXXXX");
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      url_ = "sqlite:" + (dir_ / "store.db").string();
    } else {
      auto url = store::CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      url_ = *url;
    }
    auto opened = store::Store::Open(url_);
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<store::Store> store_;
};

inline Entry ReadBy(std::string account, std::vector<std::string> patients,
                    Action action = Action::kRead) {
  Entry e;
  e.account = std::move(account);
  e.role = Role::kClinician;
  e.client = "portal";
  e.source_address = "192.0.2.10";
  e.action = action;
  e.resource_type = "Observation";
  for (const auto& p : patients) e.resource_ids.push_back("obs-" + p);
  e.patient_ids = std::move(patients);
  e.purpose = Purpose::kCareRelation;
  return e;
}

}  // namespace medvault::audit::testing
