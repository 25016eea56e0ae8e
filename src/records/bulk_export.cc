#include "records/bulk_export.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "core/french_ids.h"
#include "core/ids.h"
#include "crypto/sealed_file.h"
#include "identity/smart_scopes.h"
#include "policy/lab_scope.h"

namespace medvault::records {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using fhir::Failure;
using fhir::IssueType;

constexpr std::size_t kMaxTypes = 32;
constexpr std::size_t kJobsPerPage = 500;
// Patient ids per kExport audit entry: an entry stays far below the log's 4 MiB.
constexpr std::size_t kPatientsPerEntry = 20'000;
// The n-th canary follows at most this many real patients, so canaries sit among them.
constexpr std::uint32_t kCanarySpread = 40;
constexpr std::string_view kExportResource = "ExportJob";

std::unexpected<fhir::Outcome> Forbidden(std::string why) {
  return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", std::move(why));
}

std::unexpected<fhir::Outcome> Invalid(std::string expression, std::string why) {
  return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, std::move(expression),
                      std::move(why));
}

std::unexpected<fhir::Outcome> NoSuchJob() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      "No export job with this id.");
}

std::vector<std::string> SplitTypes(std::string_view text) {
  std::vector<std::string> types;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (space != 0) types.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return types;
}

// The id that the Reference in `field` names as `type`/ID; empty for none.
std::string ReferencedId(const json::object& resource, std::string_view field,
                         std::string_view type) {
  const json::value* value = resource.if_contains(field);
  if (value == nullptr || !value->is_object()) return {};
  const json::value* reference = value->as_object().if_contains("reference");
  if (reference == nullptr || !reference->is_string()) return {};
  std::string_view text = reference->as_string();
  if (text.size() <= type.size() + 1 || !text.starts_with(type) || text[type.size()] != '/') {
    return {};
  }
  return std::string(text.substr(type.size() + 1));
}

// The patient a resource belongs to, from its id (Patient) or its subject or patient
// reference; empty for none.
std::string PatientOf(std::string_view type, std::string_view id, const json::object& resource) {
  if (type == "Patient") return std::string(id);
  for (const char* field : {"subject", "patient"}) {
    if (std::string patient = ReferencedId(resource, field, "Patient"); !patient.empty()) {
      return patient;
    }
  }
  return {};
}

std::uint32_t Uniform(std::uint32_t bound) { return randombytes_uniform(bound); }

// One page of what `list` reads (a store paging call), in its own read-only transaction.
template <typename T, typename List>
Result<std::vector<T>> ReadPage(store::Store& store, List list) {
  std::vector<T> page;
  Status s = store.Transact(
      [&](store::Transaction& tx) -> Status {
        auto listed = list(tx);
        if (!listed) return std::unexpected(listed.error());
        page = std::move(*listed);
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return page;
}

// Every export job, by id (they are few: each needs an administrator).
Result<std::vector<store::ExportJobRecord>> AllJobs(store::Store& store) {
  std::vector<store::ExportJobRecord> all;
  std::string after;
  for (;;) {
    auto listed = ReadPage<store::ExportJobRecord>(
        store, [&](store::Transaction& tx) { return tx.ListExportJobs(after, kJobsPerPage); });
    if (!listed) return std::unexpected(listed.error());
    std::vector<store::ExportJobRecord>& page = *listed;
    const bool last = page.size() < kJobsPerPage;
    if (!page.empty()) after = page.back().id;
    std::ranges::move(page, std::back_inserter(all));
    if (last) return all;
  }
}

}  // namespace

Result<std::string_view> NextExportState(std::string_view state, ExportEvent event) {
  struct Transition {
    std::string_view from;
    ExportEvent event;
    std::string_view to;
  };
  static constexpr Transition kTransitions[] = {
      {kExportRequested, ExportEvent::kApprove, kExportApproved},
      {kExportRequested, ExportEvent::kRefuse, kExportRefused},
      {kExportRequested, ExportEvent::kExpire, kExportExpired},
      {kExportApproved, ExportEvent::kStart, kExportRunning},
      {kExportRunning, ExportEvent::kFinish, kExportReady},
      {kExportRunning, ExportEvent::kFail, kExportFailed},
      {kExportReady, ExportEvent::kExpire, kExportExpired},
  };
  for (const Transition& t : kTransitions) {
    if (t.from == state && t.event == event) return t.to;
  }
  return Fail(ErrorCode::kConflict, "the export job is " + std::string(state));
}

bool ExportLapsed(const store::ExportJobRecord& job, Timestamp now) {
  return (job.state == kExportRequested || job.state == kExportReady) && now >= job.expires_at;
}

std::vector<Canary> MakeCanaries(std::size_t count) {
  static constexpr std::string_view kFamilies[] = {"Martin",  "Bernard", "Thomas", "Petit",
                                                   "Robert",  "Richard", "Durand", "Dubois",
                                                   "Moreau",  "Laurent", "Simon",  "Michel",
                                                   "Lefebvre", "Leroy",  "Roux",   "Fournier"};
  static constexpr std::string_view kGivenFemale[] = {"Camille", "Léa",   "Manon", "Chloé",
                                                      "Inès",    "Jeanne", "Élise", "Sarah"};
  static constexpr std::string_view kGivenMale[] = {"Lucas", "Hugo",  "Louis",  "Jules",
                                                    "Gabriel", "Arthur", "Nathan", "Théo"};
  std::vector<Canary> canaries;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, count); ++i) {
    const bool female = Uniform(2) == 0;
    const int year = 1940 + static_cast<int>(Uniform(65));
    const int month = 1 + static_cast<int>(Uniform(12));
    const int day = 1 + static_cast<int>(Uniform(28));
    // A NIR body: sex, year, month, department, commune, order; then its key.
    std::string body = fmt::format("{}{:02}{:02}{:02}{:03}{:03}", female ? 2 : 1, year % 100,
                                   month, 1 + Uniform(95), 1 + Uniform(990), 1 + Uniform(998));
    auto key = NirKey(body);
    Canary canary;
    canary.id = NewResourceId();
    canary.identifier = body + fmt::format("{:02}", key ? *key : 97);
    json::object resource;
    resource["resourceType"] = "Patient";
    resource["id"] = canary.id;
    resource["identifier"] = json::array{json::object{
        {"system", InsSystem(InsKind::kNir)}, {"value", canary.identifier}}};
    resource["name"] = json::array{json::object{
        {"family", kFamilies[Uniform(std::size(kFamilies))]},
        {"given", json::array{female ? kGivenFemale[Uniform(std::size(kGivenFemale))]
                                     : kGivenMale[Uniform(std::size(kGivenMale))]}}}};
    resource["gender"] = female ? "female" : "male";
    resource["birthDate"] = fmt::format("{:04}-{:02}-{:02}", year, month, day);
    canary.resource = std::move(resource);
    canaries.push_back(std::move(canary));
  }
  return canaries;
}

std::string WatermarkOf(const std::vector<Canary>& canaries) {
  json::array ids;
  json::array identifiers;
  for (const Canary& canary : canaries) {
    ids.emplace_back(canary.id);
    identifiers.emplace_back(canary.identifier);
  }
  return json::serialize(json::object{{"ids", ids}, {"identifiers", identifiers}});
}

Result<std::vector<Traced>> TraceExport(store::Store& store, std::string_view text) {
  std::set<std::string, std::less<>> seen;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    boost::system::error_code error;
    json::value value = json::parse(line, error);
    if (error || !value.is_object()) continue;
    const json::object& resource = value.as_object();
    const json::value* type = resource.if_contains("resourceType");
    if (type == nullptr || !type->is_string() || type->as_string() != "Patient") continue;
    if (const json::value* id = resource.if_contains("id"); id != nullptr && id->is_string()) {
      seen.emplace(id->as_string());
    }
    const json::value* identifiers = resource.if_contains("identifier");
    if (identifiers == nullptr || !identifiers->is_array()) continue;
    for (const json::value& identifier : identifiers->as_array()) {
      if (!identifier.is_object()) continue;
      const json::value* v = identifier.as_object().if_contains("value");
      if (v != nullptr && v->is_string()) seen.emplace(v->as_string());
    }
  }
  std::vector<Traced> traced;
  auto jobs = AllJobs(store);
  if (!jobs) return std::unexpected(jobs.error());
  for (store::ExportJobRecord& job : *jobs) {
    boost::system::error_code error;
    json::value watermark = json::parse(job.watermark, error);
    if (error || !watermark.is_object()) continue;
    // A canary counts once, found by its id or (the id stripped) by its identifier.
    std::size_t found = 0;
    for (const char* field : {"ids", "identifiers"}) {
      const json::value* list = watermark.as_object().if_contains(field);
      if (list == nullptr || !list->is_array()) continue;
      std::size_t marks = 0;
      for (const json::value& mark : list->as_array()) {
        if (mark.is_string() && seen.contains(std::string_view(mark.as_string()))) ++marks;
      }
      found = std::max(found, marks);
    }
    if (found > 0) traced.push_back({std::move(job), found});
  }
  return traced;
}

BulkExports::BulkExports(ClinicalRecords& clinical, store::Store& store, audit::AuditLog& log,
                         const Clock& clock, Options options)
    : clinical_(clinical), store_(store), log_(log), clock_(clock), options_(std::move(options)) {}

Result<std::uint64_t> BulkExports::Record(const policy::Principal& principal,
                                          audit::Action action, std::string_view job_id,
                                          std::vector<std::string> patient_ids,
                                          audit::Outcome outcome) {
  audit::Entry entry;
  entry.time = clock_.Now();
  entry.account = principal.account_id;
  entry.role = principal.role;
  entry.client = principal.client;
  entry.source_address = principal.source_address;
  entry.action = action;
  entry.resource_type = std::string(kExportResource);
  entry.resource_ids = {std::string(job_id)};
  entry.patient_ids = std::move(patient_ids);
  entry.purpose = principal.role == audit::Role::kAdministrator ? audit::Purpose::kAdministration
                                                                : audit::Purpose::kIntegration;
  entry.outcome = outcome;
  if (auto valid = audit::ValidateEntry(entry); !valid) {
    return Fail(ErrorCode::kInvalidArgument, "export: the step cannot be audited");
  }
  auto appended = log_.Append(std::move(entry));
  if (!appended) {
    return Fail(ErrorCode::kUnavailable, "export: the audit log refused the step: try again");
  }
  return *appended;
}

fhir::FhirResult<store::ExportJobRecord> BulkExports::Request(
    const policy::Principal& principal, std::vector<std::string> types,
    std::span<const std::uint8_t> recipient_key) {
  if (principal.role != audit::Role::kIntegration) {
    return Forbidden(
        "Bulk export is for integration clients with SMART system/ read scopes, as an approved "
        "job; a person asks an administrator.");
  }
  if (recipient_key.size() != crypto::kRecipientKeyBytes) {
    return Invalid("recipient", "The recipient key must be an X25519 public key (32 bytes).");
  }
  const auto may_search = [&](std::string_view type) {
    return static_cast<bool>(
        policy::Decider::Decide(principal, {policy::Operation::kSearch, type, {}, {}}));
  };
  if (types.empty()) {
    for (std::string_view type : identity::kSmartResourceTypes) {
      // Binary content travels with its DocumentReference; the audit log is the auditors'.
      if (type != "AuditEvent" && type != "Binary" && may_search(type)) types.emplace_back(type);
    }
    if (types.empty()) return Forbidden("The client's scopes let it search no resource type.");
  }
  // Patients come first and always: each other type is read patient by patient.
  std::erase(types, "Patient");
  types.insert(types.begin(), "Patient");
  if (types.size() > kMaxTypes) return Invalid("_type", "Too many resource types.");
  std::string joined;
  for (const std::string& type : types) {
    if (std::ranges::find(identity::kSmartResourceTypes, type) ==
            std::end(identity::kSmartResourceTypes) ||
        type == "AuditEvent") {
      return Invalid("_type", "Not a resource type this server exports.");
    }
    if (!may_search(type)) return Forbidden("The client's scopes do not allow searching " + type);
    if (!joined.empty()) joined += ' ';
    joined += type;
  }
  const Timestamp now = clock_.Now();
  store::ExportJobRecord job;
  job.id = NewResourceId();
  job.state = std::string(kExportRequested);
  job.requested_by = principal.account_id;
  job.requester_role = std::string(audit::RoleName(principal.role));
  job.types = std::move(joined);
  job.recipient_key.assign(recipient_key.begin(), recipient_key.end());
  job.requested_at = now;
  job.expires_at = now + options_.request_ttl;
  if (auto recorded =
          Record(principal, audit::Action::kApprovalRequest, job.id, {}, audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(fhir::OutcomeOf(recorded.error()));
  }
  if (auto s = store_.Transact([&](store::Transaction& tx) { return tx.InsertExportJob(job); });
      !s) {
    return std::unexpected(fhir::OutcomeOf(s.error()));
  }
  return job;
}

Result<store::ExportJobRecord> BulkExports::Approve(std::string_view job_id,
                                                    const policy::Principal& approver) {
  return Decide(job_id, approver, ExportEvent::kApprove);
}

Result<store::ExportJobRecord> BulkExports::Refuse(std::string_view job_id,
                                                   const policy::Principal& refuser) {
  return Decide(job_id, refuser, ExportEvent::kRefuse);
}

Result<store::ExportJobRecord> BulkExports::Decide(std::string_view job_id,
                                                   const policy::Principal& decider,
                                                   ExportEvent event) {
  const audit::Action action =
      event == ExportEvent::kApprove ? audit::Action::kApprove : audit::Action::kRefuse;
  store::ExportJobRecord job;
  Status read = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetExportJob(job_id);
        if (!found) return std::unexpected(found.error());
        job = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) {
    if (read.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no export job has this id");
    }
    return std::unexpected(read.error());
  }
  if (decider.role != audit::Role::kAdministrator || decider.account_id == job.requested_by) {
    if (auto r = Record(decider, action, job.id, {}, audit::Outcome::kDenied); !r) {
      return std::unexpected(r.error());
    }
    return Fail(ErrorCode::kPermissionDenied,
                "four eyes: an administrator other than the requester decides an export");
  }
  if (ExportLapsed(job, clock_.Now())) {
    if (auto s = Expire(job); !s) return std::unexpected(s.error());
    return Fail(ErrorCode::kConflict, "the export request lapsed before anyone approved it");
  }
  auto next = NextExportState(job.state, event);
  if (!next) return std::unexpected(next.error());
  if (auto r = Record(decider, action, job.id, {}, audit::Outcome::kSuccess); !r) {
    return std::unexpected(r.error());
  }
  const std::string expected = job.state;
  job.state = std::string(*next);
  job.decided_by = decider.account_id;
  job.decided_at = clock_.Now();
  if (auto s = store_.Transact(
          [&](store::Transaction& tx) { return tx.UpdateExportJob(job, expected); });
      !s) {
    return std::unexpected(s.error());
  }
  return job;
}

Status BulkExports::Expire(store::ExportJobRecord& job) {
  auto next = NextExportState(job.state, ExportEvent::kExpire);
  if (!next) return std::unexpected(next.error());
  if (!job.file.empty()) {
    std::error_code ignored;
    fs::remove(options_.directory / job.file, ignored);
  }
  const std::string expected = job.state;
  job.state = std::string(*next);
  job.file.clear();
  job.file_bytes = 0;
  Status s = store_.Transact([&](store::Transaction& tx) { return tx.UpdateExportJob(job, expected); });
  if (!s && s.error().code() == ErrorCode::kConflict) return {};  // another poll expired it
  return s;
}

fhir::FhirResult<store::ExportJobRecord> BulkExports::Poll(const policy::Principal& principal,
                                                           std::string_view job_id) {
  store::ExportJobRecord job;
  Status read = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetExportJob(job_id);
        if (!found) return std::unexpected(found.error());
        job = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) {
    if (read.error().code() == ErrorCode::kNotFound ||
        read.error().code() == ErrorCode::kInvalidArgument) {
      return NoSuchJob();
    }
    return std::unexpected(fhir::OutcomeOf(read.error()));
  }
  if (job.requested_by != principal.account_id) return NoSuchJob();
  if (ExportLapsed(job, clock_.Now())) {
    if (auto s = Expire(job); !s) return std::unexpected(fhir::OutcomeOf(s.error()));
    return job;
  }
  if (job.state == kExportApproved) {
    // The run reads as the requester, marked as the approved export in every audit entry (and
    // for the exfiltration guard, which may tell it from a scrape by this front end).
    policy::Principal runner = principal;
    runner.client = std::string(kExportClient);
    return Run(runner, std::move(job));
  }
  return job;
}

fhir::FhirResult<store::ExportJobRecord> BulkExports::Run(const policy::Principal& principal,
                                                          store::ExportJobRecord job) {
  // Only one poll runs the job: the others see it running.
  job.state = std::string(kExportRunning);
  if (auto s = store_.Transact(
          [&](store::Transaction& tx) { return tx.UpdateExportJob(job, kExportApproved); });
      !s) {
    if (s.error().code() == ErrorCode::kConflict) {
      job.state = std::string(kExportRunning);
      return job;
    }
    return std::unexpected(fhir::OutcomeOf(s.error()));
  }
  const auto fail = [&](fhir::Outcome outcome) -> fhir::FhirResult<store::ExportJobRecord> {
    std::error_code ignored;
    fs::remove(options_.directory / (job.id + ".mvx"), ignored);
    store::ExportJobRecord failed = job;
    failed.state = std::string(kExportFailed);
    (void)store_.Transact(
        [&](store::Transaction& tx) { return tx.UpdateExportJob(failed, kExportRunning); });
    return std::unexpected(std::move(outcome));
  };

  std::error_code made;
  fs::create_directories(options_.directory, made);
  fs::permissions(options_.directory, fs::perms::owner_all, made);
  const std::string file = job.id + ".mvx";
  const fs::path path = options_.directory / file;
  // Created by this call only, readable by the service user only; it holds ciphertext only.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(fhir::OutcomeOf(Error(ErrorCode::kUnavailable, "export: cannot create the file")));
  }
  ::close(fd);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  auto writer = crypto::SealedFileWriter::Start(job.recipient_key, out);
  if (!writer) return fail(fhir::OutcomeOf(writer.error()));

  std::vector<Canary> canaries = MakeCanaries(options_.canaries);
  std::set<std::string> patients;
  const std::string header = fmt::format("medvault-export 1 {}", job.id);
  if (auto s = (*writer)->Add(header); !s) return fail(fhir::OutcomeOf(s.error()));
  std::size_t lines = 0;
  // Patients first: they are the compartments every other type is then read in (a search
  // across patients needs a patient for the clinical types).
  std::vector<std::string> types = SplitTypes(job.types);
  std::vector<std::string> compartments;
  for (const std::string& type : types) {
    if (auto s = (*writer)->Add("file " + type + ".ndjson"); !s) {
      return fail(fhir::OutcomeOf(s.error()));
    }
    std::size_t next_canary = 0;
    std::uint32_t until_canary = Uniform(kCanarySpread);
    const auto add_canary = [&]() -> Status {
      auto s = (*writer)->Add(json::serialize(canaries[next_canary++].resource));
      until_canary = Uniform(kCanarySpread);
      return s;
    };
    const auto write_all = [&](fhir::SearchRequest request) -> fhir::FhirStatus {
      request.count = fhir::kMaxCount;
      for (;;) {
        auto page = clinical_.Search(principal, request);
        if (!page) return std::unexpected(page.error());
        for (const StoredResource& match : page->matches) {
          if (!match.resource) continue;
          if (std::string patient = PatientOf(type, match.id, *match.resource); !patient.empty()) {
            patients.insert(std::move(patient));
          }
          if (auto s = (*writer)->Add(json::serialize(*match.resource)); !s) {
            return std::unexpected(fhir::OutcomeOf(s.error()));
          }
          ++lines;
        }
        if (page->next_page.empty()) return {};
        request.page = page->next_page;
      }
    };
    if (type == "Patient") {
      // The compartments, by id from the store; each Patient then read (authorized and
      // audited) as the requester.
      std::string after;
      for (;;) {
        auto listed = ReadPage<std::string>(
            store_, [&](store::Transaction& tx) { return tx.ListPatientIds(after, kJobsPerPage); });
        if (!listed) return fail(fhir::OutcomeOf(listed.error()));
        const std::vector<std::string>& ids = *listed;
        for (const std::string& id : ids) {
          // A client of one organization exports the patients it manages only, and so only
          // their compartments: the others (not its patients at all) are not even read.
          if (!principal.organization.empty()) {
            bool related = false;
            auto looked = store_.Transact(
                [&](store::Transaction& tx) -> Status {
                  auto has = tx.HasCareRelation(policy::LabParty(principal.organization), id,
                                                clock_.Now());
                  if (!has) return std::unexpected(has.error());
                  related = *has;
                  return {};
                },
                store::Access::kReadOnly);
            if (!looked) return fail(fhir::OutcomeOf(looked.error()));
            if (!related) continue;
          }
          auto read = clinical_.Read(principal, "Patient", id);
          if (!read) return fail(read.error());
          if (!read->resource) continue;
          if (!principal.organization.empty() &&
              ReferencedId(*read->resource, "managingOrganization", "Organization") !=
                  principal.organization) {
            continue;
          }
          compartments.push_back(id);
          patients.insert(id);
          if (auto s = (*writer)->Add(json::serialize(*read->resource)); !s) {
            return fail(fhir::OutcomeOf(s.error()));
          }
          ++lines;
          if (next_canary < canaries.size() && until_canary-- == 0) {
            if (auto s = add_canary(); !s) return fail(fhir::OutcomeOf(s.error()));
          }
        }
        if (ids.size() < kJobsPerPage) break;
        after = ids.back();
      }
      while (next_canary < canaries.size()) {
        if (auto s = add_canary(); !s) return fail(fhir::OutcomeOf(s.error()));
      }
      continue;
    }
    if (!fhir::ParseSearch(type, "patient=probe")) {
      // A type of no patient (the directory): read across.
      fhir::SearchRequest request;
      request.resource_type = type;
      if (auto s = write_all(std::move(request)); !s) return fail(s.error());
      continue;
    }
    for (const std::string& patient : compartments) {
      auto request = fhir::ParseSearch(type, "patient=" + patient);
      if (!request) return fail(request.error());
      if (auto s = write_all(std::move(*request)); !s) return fail(s.error());
    }
  }
  if (auto s = (*writer)->Finish(fmt::format("end {}", lines)); !s) {
    return fail(fhir::OutcomeOf(s.error()));
  }
  out.close();
  if (!out) return fail(fhir::OutcomeOf(Error(ErrorCode::kUnavailable, "export: write failed")));

  // The run, with every patient included, recorded before the file can be fetched.
  std::vector<std::string> ids(patients.begin(), patients.end());
  for (std::size_t from = 0; from == 0 || from < ids.size(); from += kPatientsPerEntry) {
    const std::size_t to = std::min(ids.size(), from + kPatientsPerEntry);
    std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                   ids.begin() + static_cast<std::ptrdiff_t>(to));
    if (auto r = Record(principal, audit::Action::kExport, job.id, std::move(chunk),
                        audit::Outcome::kSuccess);
        !r) {
      return fail(fhir::OutcomeOf(r.error()));
    }
    if (to == ids.size()) break;
  }
  std::error_code size_error;
  const auto bytes = fs::file_size(path, size_error);
  job.state = std::string(kExportReady);
  job.file = file;
  job.file_bytes = size_error ? 0 : static_cast<std::int64_t>(bytes);
  job.patients = static_cast<std::int64_t>(ids.size());
  job.watermark = WatermarkOf(canaries);
  job.expires_at = clock_.Now() + options_.file_ttl;
  if (auto s = store_.Transact(
          [&](store::Transaction& tx) { return tx.UpdateExportJob(job, kExportRunning); });
      !s) {
    return fail(fhir::OutcomeOf(s.error()));
  }
  return job;
}

fhir::FhirResult<std::string> BulkExports::Download(const policy::Principal& principal,
                                                    std::string_view job_id) {
  auto job = Poll(principal, job_id);
  if (!job) return std::unexpected(job.error());
  if (job->state == kExportExpired) {
    return fhir::Refuse(Failure::kGone, IssueType::kDeleted, "",
                        "This export expired: its file was deleted.");
  }
  if (job->state == kExportRequested) {
    return Forbidden("This export waits for a second person's approval.");
  }
  if (job->state == kExportRefused) return Forbidden("This export was refused.");
  if (job->state != kExportReady) {
    return fhir::Refuse(Failure::kConflict, IssueType::kConflict, "",
                        "This export is " + job->state + ": poll its status.");
  }
  std::ifstream in(options_.directory / job->file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return std::unexpected(fhir::OutcomeOf(Error(ErrorCode::kInternal, "export file")));
  if (auto r = Record(principal, audit::Action::kDownload, job->id, {}, audit::Outcome::kSuccess);
      !r) {
    return std::unexpected(fhir::OutcomeOf(r.error()));
  }
  return std::move(bytes).str();
}

Result<std::size_t> BulkExports::ExpireDue() {
  const Timestamp now = clock_.Now();
  std::size_t expired = 0;
  auto jobs = List();
  if (!jobs) return std::unexpected(jobs.error());
  for (store::ExportJobRecord& job : *jobs) {
    if (!ExportLapsed(job, now)) continue;
    if (auto s = Expire(job); !s) return std::unexpected(s.error());
    ++expired;
  }
  return expired;
}

Result<std::vector<store::ExportJobRecord>> BulkExports::List() { return AllJobs(store_); }

}  // namespace medvault::records
