#include "records/emergency_access.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <optional>
#include <utility>

#include "core/ids.h"
#include "core/log.h"
#include "crypto/aead.h"
#include "fhir/search.h"
#include "policy/break_glass.h"
#include "records/clinical_internal.h"

namespace medvault::records {
namespace {

using fhir::Failure;
using fhir::IssueType;

// The sealing key's purpose (crypto::DerivedKeys::SecretKey) and the parts of a grant sealed.
constexpr std::string_view kTextKeyPurpose = "policy.break-glass";
constexpr std::uint64_t kReasonPart = 1;
constexpr std::uint64_t kNotePart = 2;
// Most patients one identifier lookup opens.
constexpr std::size_t kMaxIdentified = 8;

std::unexpected<fhir::Outcome> NoSuchPatient() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      "no Patient is known by this id or identifier");
}

std::unexpected<fhir::Outcome> Denied(const Error& error) {
  return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", error.message());
}

std::unexpected<fhir::Outcome> Unavailable() {
  return fhir::Refuse(Failure::kUnavailable, IssueType::kTransient, "",
                      "the audit log or the store cannot record this now: try again later");
}

audit::Entry EntryOf(const policy::Principal& principal, audit::Action action,
                     std::string_view resource_type, std::vector<std::string> resource_ids,
                     std::vector<std::string> patient_ids, audit::Purpose purpose,
                     audit::Outcome outcome) {
  audit::Entry entry;
  entry.account = principal.account_id;
  entry.role = principal.role;
  entry.client = principal.client;
  entry.source_address = principal.source_address;
  entry.action = action;
  entry.resource_type = std::string(resource_type);
  entry.resource_ids = std::move(resource_ids);
  std::erase(patient_ids, std::string());
  entry.patient_ids = std::move(patient_ids);
  entry.purpose = purpose;
  entry.outcome = outcome;
  return entry;
}

std::vector<std::string> IdsOf(std::string_view id) {
  if (id.empty()) return {};
  return {std::string(id)};
}

}  // namespace

EmergencyAccess::EmergencyAccess(SealedStore& sealed, store::Store& store, audit::AuditLog& log,
                                 policy::Decider& decider, const Clock& clock, Options options)
    : sealed_(sealed),
      store_(store),
      log_(log),
      decider_(decider),
      clock_(clock),
      options_(std::move(options)) {}

fhir::FhirStatus EmergencyAccess::Record(audit::Entry entry) {
  entry.time = clock_.Now();
  if (auto valid = audit::ValidateEntry(entry); !valid) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "",
                        "the request names an id that cannot be recorded");
  }
  if (auto appended = log_.Append(std::move(entry)); !appended) return Unavailable();
  return {};
}

Result<std::vector<std::uint8_t>> EmergencyAccess::SealText(std::string_view grant_id,
                                                            std::string_view patient_id,
                                                            std::uint64_t part,
                                                            std::string_view text) const {
  auto key = sealed_.derived_keys().SecretKey(kTextKeyPurpose);
  if (!key) return std::unexpected(key.error());
  const crypto::AssociatedData bound{"BreakGlass", std::string(grant_id), part,
                                     std::string(patient_id), 0};
  return crypto::AeadSeal(
      *key, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
      bound.Encode());
}

Result<std::string> EmergencyAccess::OpenText(std::string_view grant_id,
                                              std::string_view patient_id, std::uint64_t part,
                                              std::span<const std::uint8_t> sealed) const {
  auto key = sealed_.derived_keys().SecretKey(kTextKeyPurpose);
  if (!key) return std::unexpected(key.error());
  const crypto::AssociatedData bound{"BreakGlass", std::string(grant_id), part,
                                     std::string(patient_id), 0};
  auto opened = crypto::AeadOpen(*key, sealed, bound.Encode());
  if (!opened) return std::unexpected(opened.error());
  return std::string(opened->begin(), opened->end());
}

fhir::FhirResult<audit::BreakGlassReason> EmergencyAccess::Admit(
    const policy::Principal& principal, SecondFactor second_factor, std::string_view patient_id,
    std::string_view reason, std::string_view text) {
  const auto category = policy::BreakGlassReasonOf(reason);
  if (!category) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kCodeInvalid, "Parameters.parameter.reason",
                        "reason is one of emergency, continuity_of_care, patient_request, other");
  }
  if (auto checked = policy::CheckBreakGlassText(text); !checked) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "Parameters.parameter.text",
                        std::string(checked.error().message()));
  }
  if (auto allowed = policy::MayBreakGlass(principal); !allowed) {
    audit::Entry denied =
        EntryOf(principal, audit::Action::kBreakTheGlass, "Patient", IdsOf(patient_id),
                IdsOf(patient_id), audit::Purpose::kBreakTheGlass, audit::Outcome::kDenied);
    denied.reason = *category;
    if (auto recorded = Record(std::move(denied)); !recorded) {
      return std::unexpected(recorded.error());
    }
    return Denied(allowed.error());
  }
  if (second_factor != SecondFactor::kFresh) {
    return fhir::Refuse(Failure::kUnauthenticated, IssueType::kLogin, "",
                        "breaking the glass needs a fresh second factor: step up (POST "
                        "/auth/step-up/totp or /auth/step-up/passkey), then retry.");
  }
  return *category;
}

fhir::FhirResult<EmergencyGrant> EmergencyAccess::Open(const policy::Principal& principal,
                                                       SecondFactor second_factor,
                                                       std::string_view patient_id,
                                                       std::string_view reason,
                                                       std::string_view text) {
  auto category = Admit(principal, second_factor, patient_id, reason, text);
  if (!category) return std::unexpected(category.error());
  auto row = sealed_.Fetch("Patient", patient_id);
  if (!row) {
    if (internal::IsMissing(row.error())) return NoSuchPatient();
    return internal::Failed(row.error());
  }
  if (row->version.state == store::VersionState::kDeleted) return NoSuchPatient();
  return Grant(principal, patient_id, *category, text);
}

fhir::FhirResult<EmergencyGrant> EmergencyAccess::OpenByIdentifier(
    const policy::Principal& principal, SecondFactor second_factor, std::string_view system,
    std::string_view value, std::string_view reason, std::string_view text) {
  auto category = Admit(principal, second_factor, {}, reason, text);
  if (!category) return std::unexpected(category.error());
  if (value.empty()) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kRequired, "Parameters.parameter.identifier",
                        "identifier is system|value, with a value");
  }
  // The identifier search of Patient, run here without the caller's scope: the patient is
  // outside it by definition. Only the id of the one match leaves.
  fhir::SearchRequest request;
  request.resource_type = "Patient";
  for (const fhir::SearchParam* param : fhir::SearchParamsOf("Patient")) {
    if (param->name != "identifier") continue;
    request.criteria.push_back(
        {param, "", {{std::string(system), !system.empty(), std::string(value)}}});
  }
  if (request.criteria.empty()) return NoSuchPatient();
  const auto lookups = fhir::BlindIndexLookupsOf(request.criteria.front());
  if (!lookups) return NoSuchPatient();
  auto access = internal::Authorize(
      {sealed_, store_, log_, decider_, clock_, ClinicalRecords::Options{}}, principal,
      policy::Operation::kSearch, "Patient", {}, {}, internal::Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  std::vector<std::string> found;
  for (const fhir::BlindIndexLookup& lookup : *lookups) {
    auto matches = sealed_.Search(*access, "Patient", lookup.field, lookup.value, kMaxIdentified);
    if (!matches) {
      if (matches.error().code() == ErrorCode::kInvalidArgument) continue;  // matches nothing
      return internal::Failed(matches.error());
    }
    for (const Resource& match : *matches) {
      boost::system::error_code error;
      boost::json::value parsed = boost::json::parse(match.json.view(), error);
      if (error || !parsed.is_object() || !fhir::Matches(request, parsed.as_object())) continue;
      if (std::ranges::find(found, match.id) == found.end()) found.push_back(match.id);
    }
  }
  if (found.empty()) return NoSuchPatient();
  if (found.size() > 1) {
    return fhir::Refuse(Failure::kBusinessRule, IssueType::kBusinessRule, "",
                        "several patients carry this identifier: name the patient by id");
  }
  return Grant(principal, found.front(), *category, text);
}

fhir::FhirResult<EmergencyGrant> EmergencyAccess::Grant(const policy::Principal& principal,
                                                        std::string_view patient_id,
                                                        audit::BreakGlassReason reason,
                                                        std::string_view text) {
  const Timestamp now = clock_.Now();
  store::BreakGlassGrant grant;
  grant.id = NewResourceId();
  grant.account_id = principal.account_id;
  grant.patient_id = std::string(patient_id);
  grant.reason = static_cast<std::int64_t>(reason);
  grant.granted_at = now;
  grant.expires_at = now + options_.duration;
  auto sealed = SealText(grant.id, grant.patient_id, kReasonPart, text);
  if (!sealed) return internal::Failed(sealed.error());
  grant.sealed_reason = std::move(*sealed);

  // Durable in the log before the grant exists: nothing is opened unrecorded.
  audit::Entry entry = EntryOf(principal, audit::Action::kBreakTheGlass, "Patient",
                               IdsOf(patient_id), IdsOf(patient_id),
                               audit::Purpose::kBreakTheGlass, audit::Outcome::kSuccess);
  entry.reason = reason;
  if (auto recorded = Record(std::move(entry)); !recorded) {
    return std::unexpected(recorded.error());
  }
  store::Alert alert{0, now, "break_the_glass", "account/" + principal.account_id,
                     fmt::format("emergency access to Patient/{} until {} (reason {}, grant {}): "
                                 "waiting in the auditors' review queue",
                                 patient_id, internal::FormatInstant(grant.expires_at),
                                 audit::ReasonName(reason), grant.id)};
  Status written = store_.Transact([&](store::Transaction& tx) -> Status {
    if (auto inserted = tx.InsertBreakGlass(grant); !inserted) return inserted;
    auto id = tx.InsertAlert(alert);
    if (!id) return std::unexpected(id.error());
    alert.id = *id;
    return {};
  });
  if (!written) return Unavailable();
  log::Warning(alert.kind, {{"account", std::string_view(principal.account_id)},
                            {"alert_id", alert.id},
                            {"grant", std::string_view(grant.id)}});
  if (options_.on_alert) options_.on_alert(alert);
  return EmergencyGrant{.id = grant.id,
                        .patient_id = grant.patient_id,
                        .reason = reason,
                        .granted_at = grant.granted_at,
                        .expires_at = grant.expires_at};
}

fhir::FhirResult<ReviewPage> EmergencyAccess::ToReview(const policy::Principal& principal,
                                                       std::string_view after,
                                                       std::size_t count) {
  if (auto allowed = policy::MayReviewBreakGlass(principal); !allowed) {
    auto recorded = Record(EntryOf(principal, audit::Action::kRead, "", {}, {},
                                              audit::Purpose::kAudit, audit::Outcome::kDenied));
    if (!recorded) return std::unexpected(recorded.error());
    return Denied(allowed.error());
  }
  std::vector<store::BreakGlassGrant> rows;
  Status read = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        Timestamp after_granted_at{};
        std::string after_id;
        if (!after.empty()) {
          auto cursor = tx.GetBreakGlass(after);
          if (!cursor) return std::unexpected(cursor.error());
          after_granted_at = cursor->granted_at;
          after_id = cursor->id;
        }
        auto listed = tx.ListBreakGlassToReview(after_granted_at, after_id, count + 1);
        if (!listed) return std::unexpected(listed.error());
        rows = std::move(*listed);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) {
    if (internal::IsMissing(read.error())) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "after",
                          "after is the id of a grant this queue listed");
    }
    return internal::Failed(read.error());
  }
  ReviewPage page;
  if (rows.size() > count) {
    rows.resize(count);
    if (!rows.empty()) page.next = rows.back().id;
  }
  std::vector<std::string> ids, patients;
  for (const store::BreakGlassGrant& row : rows) {
    ids.push_back(row.id);
    if (std::ranges::find(patients, row.patient_id) == patients.end()) {
      patients.push_back(row.patient_id);
    }
  }
  // The texts are opened only once their reading is durable in the log.
  if (auto recorded = Record(EntryOf(principal, audit::Action::kRead, "", ids,
                                                patients, audit::Purpose::kAudit,
                                                audit::Outcome::kSuccess));
      !recorded) {
    return std::unexpected(recorded.error());
  }
  for (store::BreakGlassGrant& row : rows) {
    auto text = OpenText(row.id, row.patient_id, kReasonPart, row.sealed_reason);
    if (!text) return internal::Failed(text.error());
    page.grants.push_back(
        {.grant = {.id = row.id,
                   .patient_id = row.patient_id,
                   .reason = static_cast<audit::BreakGlassReason>(row.reason),
                   .granted_at = row.granted_at,
                   .expires_at = row.expires_at},
         .account_id = std::move(row.account_id),
         .text = std::move(*text)});
  }
  return page;
}

fhir::FhirStatus EmergencyAccess::Review(const policy::Principal& principal, std::string_view id,
                                         std::string_view note) {
  if (auto checked = policy::CheckBreakGlassText(note); !checked) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "note",
                        std::string(checked.error().message()));
  }
  if (auto allowed = policy::MayReviewBreakGlass(principal); !allowed) {
    auto recorded =
        Record(EntryOf(principal, audit::Action::kUpdate, "", IdsOf(id), {},
                                  audit::Purpose::kAudit, audit::Outcome::kDenied));
    if (!recorded) return std::unexpected(recorded.error());
    return Denied(allowed.error());
  }
  std::optional<store::BreakGlassGrant> grant;
  Status read = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetBreakGlass(id);
        if (!found) return std::unexpected(found.error());
        grant = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  const auto no_such_grant = [] {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                        "no break-the-glass grant is known by this id");
  };
  if (!read) {
    if (internal::IsMissing(read.error())) return no_such_grant();
    return internal::Failed(read.error());
  }
  const auto already = [] {
    return fhir::Refuse(Failure::kConflict, IssueType::kConflict, "",
                        "this grant was reviewed already: it has left the queue");
  };
  if (grant->reviewed_at != Timestamp{}) return already();
  auto sealed = SealText(grant->id, grant->patient_id, kNotePart, note);
  if (!sealed) return internal::Failed(sealed.error());
  if (auto recorded = Record(EntryOf(principal, audit::Action::kUpdate, "",
                                                IdsOf(grant->id), IdsOf(grant->patient_id),
                                                audit::Purpose::kAudit, audit::Outcome::kSuccess));
      !recorded) {
    return std::unexpected(recorded.error());
  }
  store::BreakGlassGrant review = std::move(*grant);
  review.reviewed_at = clock_.Now();
  review.reviewer = principal.account_id;
  review.sealed_note = std::move(*sealed);
  Status reviewed = store_.Transact(
      [&](store::Transaction& tx) -> Status { return tx.ReviewBreakGlass(review); });
  if (!reviewed) {
    if (reviewed.error().code() == ErrorCode::kConflict) return already();
    return internal::Failed(reviewed.error());
  }
  return {};
}

}  // namespace medvault::records
