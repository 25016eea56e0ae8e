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

using StoreBackend = store::StoreBackendTest;

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
