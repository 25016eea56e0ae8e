// ClinicalRecords over a real SealedStore, AuditLog and Decider, on SQLite and on the
// PostgreSQL cluster of the "pg" fixture, with principals of each role and helpers that make
// realistic resources.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/manual_clock.h"
#include "crypto/kek.h"
#include "crypto/master_key_file.h"
#include "fhir/search.h"
#include "policy/care_relations.h"
#include "policy/decider.h"
#include "records/clinical_records.h"
#include "records/sealed_store.h"
#include "test_cluster.h"

namespace medvault::records {

inline boost::json::object Json(std::string_view text) {
  return boost::json::parse(text).as_object();
}

class ClinicalRecordsTest : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    store::StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    std::string pattern = (std::filesystem::temp_directory_path() / "medvault-clinical-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    keys_dir_ = pattern;
    ASSERT_TRUE(crypto::CreateMasterKeyFile(keys_dir_ / "master.key"));
    source_ = std::make_unique<crypto::KeyFileKekSource>(keys_dir_ / "master.key");
    auto sealed = SealedStore::Open(*store_, *source_, {});
    ASSERT_TRUE(sealed) << sealed.error().message();
    sealed_ = std::move(*sealed);
    auto log = audit::AuditLog::Open(*store_, clock_);
    ASSERT_TRUE(log) << log.error().message();
    log_ = std::move(*log);
    relations_ = std::make_unique<policy::StoreCareRelations>(*store_);
    decider_ = std::make_unique<policy::Decider>(
        *log_, clock_, policy::Decider::Extensions{.relations = relations_.get()});
    records_ = std::make_unique<ClinicalRecords>(*sealed_, *store_, *log_, *decider_, clock_,
                                                 ClinicalRecords::Options{});
    clinician_.account_id = "clin-1";
    clinician_.role = audit::Role::kClinician;
    clinician_.client = "portal";
    clinician_.source_address = "192.0.2.10";
    clinician_.practitioner_id = "pr-clin-1";
    lab_.account_id = "lab-1";
    lab_.role = audit::Role::kLabTechnician;
    lab_.client = "portal";
    lab_.source_address = "192.0.2.11";
    // The lab technician's lab (policy/lab_scope.h), the performer of every ObservationJson.
    lab_.organization = std::string(kLab);
    auto lab = records_->Update(
        clinician_, "Organization", kLab,
        Json(fmt::format(R"({{"resourceType":"Organization","id":"{}","name":"LBM"}})", kLab)),
        std::nullopt);
    ASSERT_TRUE(lab) << lab.error().issues.front().diagnostics;
  }

  static constexpr std::string_view kLab = "org-lab-1";

  void TearDown() override {
    records_.reset();
    decider_.reset();
    relations_.reset();
    log_.reset();
    sealed_.reset();
    source_.reset();
    if (!keys_dir_.empty()) std::filesystem::remove_all(keys_dir_);
    store::StoreBackendTest::TearDown();
  }

  policy::Principal PatientPrincipal(const std::string& patient_id,
                                     const std::string& account = "acc-patient") {
    policy::Principal principal;
    principal.account_id = account;
    principal.role = audit::Role::kPatient;
    principal.client = "portal";
    principal.source_address = "198.51.100.7";
    principal.patient_id = patient_id;
    return principal;
  }

  // Creates a resource as the clinician; returns its id.
  std::string CreateAs(const policy::Principal& principal, std::string_view json) {
    auto written = records_->Create(principal, Json(json), "");
    EXPECT_TRUE(written) << (written ? "" : written.error().issues.front().diagnostics);
    if (!written) return "";
    EXPECT_TRUE(written->created);
    return written->stored.id;
  }
  std::string Create(std::string_view json) { return CreateAs(clinician_, json); }

  // A care relation of the clinician to `patient` (as a CareTeam naming their Practitioner
  // would write it), without a resource or an audit entry of its own.
  void Relate(const std::string& patient) {
    const std::vector<store::CareRelation> relation = {{clinician_.practitioner_id, patient,
                                                        "CareTeam", "fixture-" + patient,
                                                        policy::kNoEnd}};
    ASSERT_TRUE(store_->Transact([&](store::Transaction& tx) {
      return tx.ReplaceCareRelations("CareTeam", "fixture-" + patient, relation);
    }));
  }

  // A new patient, in the clinician's care.
  std::string NewPatient(std::string_view family, std::string_view given = "Jeanne",
                         std::string_view birth_date = "1980-04-12") {
    std::string id = NewUnrelatedPatient(family, given, birth_date);
    if (!id.empty()) Relate(id);
    return id;
  }
  std::string NewUnrelatedPatient(std::string_view family, std::string_view given = "Jeanne",
                                  std::string_view birth_date = "1980-04-12") {
    return Create(
        fmt::format(R"({{"resourceType":"Patient","name":[{{"family":"{}","given":["{}"]}}],)"
                    R"("gender":"female","birthDate":"{}"}})",
                    family, given, birth_date));
  }

  static std::string ObservationJson(std::string_view patient, std::string_view loinc,
                                     std::string_view when, double value = 5.4) {
    return fmt::format(
        R"({{"resourceType":"Observation","status":"final",)"
        R"("category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],)"
        R"("code":{{"coding":[{{"system":"http://loinc.org","code":"{}"}}]}},)"
        R"("subject":{{"reference":"Patient/{}"}},"effectiveDateTime":"{}",)"
        R"("performer":[{{"reference":"Organization/{}"}}],)"
        R"("valueQuantity":{{"value":{},"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}}})",
        loinc, patient, when, kLab, value);
  }

  std::string NewObservation(std::string_view patient, std::string_view loinc = "2345-7",
                             std::string_view when = "2026-03-05T08:30:00Z") {
    return Create(ObservationJson(patient, loinc, when));
  }

  fhir::SearchRequest Query(std::string_view type, std::string_view query) {
    auto request = fhir::ParseSearch(type, query);
    EXPECT_TRUE(request) << (request ? "" : request.error().issues.front().diagnostics);
    return request ? *request : fhir::SearchRequest{};
  }

  // The audit entries of one account, oldest first.
  std::vector<audit::Entry> EntriesOf(const std::string& account) {
    audit::Search search;
    search.by = audit::Search::By::kAccount;
    search.key = account;
    auto found = log_->Find(search);
    EXPECT_TRUE(found) << (found ? "" : found.error().message());
    return found ? *found : std::vector<audit::Entry>{};
  }

  std::filesystem::path keys_dir_;
  std::unique_ptr<crypto::KeyFileKekSource> source_;
  std::unique_ptr<SealedStore> sealed_;
  ::medvault::testing::ManualClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<policy::StoreCareRelations> relations_;
  std::unique_ptr<policy::Decider> decider_;
  std::unique_ptr<ClinicalRecords> records_;
  policy::Principal clinician_;
  policy::Principal lab_;
};

}  // namespace medvault::records
