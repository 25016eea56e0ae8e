#include "records/lab_ingest.h"

#include <fmt/format.h>

#include <charconv>

#include "core/ids.h"
#include "core/log.h"
#include "crypto/aead.h"
#include "fhir/bundle.h"
#include "fhir/resource.h"
#include "lab/hl7.h"
#include "lab/oru.h"

namespace medvault::records {
namespace {

using lab::Condition;
using lab::Hl7Error;

// The audit log's resource type of a quarantined message (letters only).
constexpr std::string_view kQuarantineType = "LabQuarantine";
constexpr std::string_view kStateHeld = "held";
constexpr std::string_view kStateReplayed = "replayed";
constexpr std::string_view kQuarantineKeyPurpose = "lab.quarantine";

Hl7Error ApplicationError(std::string text) {
  return Hl7Error{Condition::kApplicationError, {}, std::move(text)};
}

// A failure of the FHIR write as an HL7 error: the first issue's place and problem (the
// records layer never quotes a value in them).
Hl7Error ErrorOf(const fhir::Outcome& outcome) {
  std::string text = "the results were not stored";
  if (!outcome.issues.empty()) {
    const fhir::Issue& issue = outcome.issues.front();
    if (!issue.expression.empty()) text += fmt::format(" ({})", issue.expression);
    if (!issue.diagnostics.empty()) text += fmt::format(": {}", issue.diagnostics);
  }
  return ApplicationError(text.substr(0, 512));
}

crypto::AssociatedData QuarantineData(std::string_view id, std::int64_t version) {
  return {.resource_type = std::string(kQuarantineType),
          .resource_id = std::string(id),
          .version = static_cast<std::uint64_t>(version),
          .patient_id = {},
          .key_id = 1};
}

QuarantineSummary SummaryOf(const store::QuarantinedMessage& row) {
  return {.id = row.id,
          .received_at = row.received_at,
          .updated_at = row.updated_at,
          .state = row.state,
          .condition = static_cast<int>(row.condition),
          .error = row.error,
          .version = row.version};
}

// "<received_at micros>.<id>" <-> cursor.
std::string PageCursor(const store::QuarantinedMessage& row) {
  return fmt::format("{}.{}", row.received_at.time_since_epoch().count(), row.id);
}

bool ParseCursor(std::string_view page, Timestamp& at, std::string& id) {
  if (page.empty()) return true;
  const auto dot = page.find('.');
  if (dot == std::string_view::npos) return false;
  std::int64_t micros = 0;
  auto [end, ec] = std::from_chars(page.data(), page.data() + dot, micros);
  if (ec != std::errc() || end != page.data() + dot) return false;
  at = Timestamp(std::chrono::microseconds(micros));
  id = std::string(page.substr(dot + 1));
  return !id.empty() && id.size() <= store::kMaxNameBytes;
}

}  // namespace

Result<std::unique_ptr<LabIngest>> LabIngest::Create(ClinicalRecords& records, SealedStore& sealed,
                                                     store::Store& store, audit::AuditLog& log,
                                                     const Clock& clock) {
  auto key = sealed.derived_keys().SecretKey(kQuarantineKeyPurpose);
  if (!key) return std::unexpected(key.error());
  return std::unique_ptr<LabIngest>(
      new LabIngest(records, sealed, store, log, clock, std::move(*key)));
}

Result<policy::Principal> LabIngest::IntegrationPrincipal(store::Store& store,
                                                          std::string_view client_id,
                                                          std::string_view source_address) {
  std::optional<store::ApiClient> client;
  auto read = store.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetApiClient(client_id);
        if (!found) return std::unexpected(found.error());
        client = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  auto scopes = identity::ParseSmartScopes(client->allowed_scopes);
  if (!scopes) return std::unexpected(scopes.error());
  policy::Principal principal;
  principal.account_id = client->client_id;
  principal.role = audit::Role::kIntegration;
  principal.client = client->client_id;
  principal.source_address = std::string(source_address);
  principal.scopes = std::move(*scopes);
  principal.organization = client->organization;
  return principal;
}

LabIngest::Attempt LabIngest::Take(const policy::Principal& client, std::string_view message) {
  Attempt attempt;
  auto parsed = lab::Message::Parse(message);
  if (!parsed) {
    attempt.error = std::move(parsed.error());
    return attempt;
  }
  attempt.header = lab::HeaderOf(*parsed);
  auto header = lab::ReadHeader(*parsed);
  if (!header) {
    attempt.error = std::move(header.error());
    return attempt;
  }
  attempt.header = *header;
  std::optional<store::LabMessageRecord> taken;
  auto looked = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetLabMessage(header->sending_facility, header->control_id);
        if (found) taken = std::move(*found);
        if (!found && found.error().code() != ErrorCode::kNotFound) {
          return std::unexpected(found.error());
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!looked) {
    attempt.error = ApplicationError("the store cannot be used now: send the message again");
    return attempt;
  }
  if (taken) {
    attempt.duplicate = true;
    return attempt;
  }
  auto bundle = lab::MapOru(*parsed, *header);
  if (!bundle) {
    attempt.error = std::move(bundle.error());
    return attempt;
  }
  auto incoming = fhir::ParseBundle(std::move(*bundle));
  if (!incoming) {
    attempt.error = ErrorOf(incoming.error());
    return attempt;
  }
  // The duplicate row goes in the results' own store transaction: both are stored or neither.
  // The same message taken meanwhile (sent twice at once) rolls this one back: it is a
  // duplicate, and writes nothing.
  const store::LabMessageRecord record{header->sending_facility, header->control_id, "AA",
                                       clock_.Now()};
  bool taken_meanwhile = false;
  const AlongWith record_taken = [&](store::Transaction& tx) -> Status {
    taken_meanwhile = false;
    auto inserted = tx.InsertLabMessage(record);
    if (!inserted && inserted.error().code() == ErrorCode::kAlreadyExists) {
      taken_meanwhile = true;
    }
    return inserted;
  };
  // A concurrent message about the same order collides on the report's id: the second try
  // sees the first one's work.
  fhir::FhirResult<std::vector<EntryResult>> written = Write(client, *incoming, record_taken);
  if (!written && !taken_meanwhile && written.error().failure == fhir::Failure::kConflict) {
    written = Write(client, *incoming, record_taken);
  }
  if (taken_meanwhile) {
    attempt.duplicate = true;
    return attempt;
  }
  if (!written) attempt.error = ErrorOf(written.error());
  return attempt;
}

fhir::FhirResult<std::vector<EntryResult>> LabIngest::Write(const policy::Principal& client,
                                                            const fhir::IncomingBundle& bundle,
                                                            const AlongWith& along) {
  const auto key_of = [](const fhir::IncomingEntry& entry) {
    return entry.url + "?" + entry.if_none_exist;
  };
  // The conditional creates of the message, and what each is known to match.
  std::map<std::string, std::string> matched;  // fullUrl -> "Type/id"
  bool known = true;
  {
    std::lock_guard lock(known_mutex_);
    for (const fhir::IncomingEntry& entry : bundle.entries) {
      if (entry.if_none_exist.empty()) continue;
      auto found = known_.find(key_of(entry));
      if (found == known_.end()) {
        known = false;
        break;
      }
      matched[entry.full_url] = found->second;
    }
  }
  if (known) {
    fhir::IncomingBundle direct;
    direct.kind = bundle.kind;
    for (const fhir::IncomingEntry& entry : bundle.entries) {
      if (!entry.if_none_exist.empty()) continue;
      fhir::IncomingEntry copy = entry;
      if (copy.resource) {
        fhir::RewriteReferences(*copy.resource,
                                [&](std::string_view reference) -> std::optional<std::string> {
                                  auto found = matched.find(std::string(reference));
                                  if (found == matched.end()) return std::nullopt;
                                  return found->second;
                                });
      }
      direct.entries.push_back(std::move(copy));
    }
    auto written = records_.Process(client, std::move(direct), along);
    if (written || written.error().failure != fhir::Failure::kInvalid) return written;
    std::lock_guard lock(known_mutex_);  // a known resource is gone: search again
    known_.clear();
  }
  std::lock_guard creating(creating_);
  auto written = records_.Process(client, bundle, along);
  if (written) {
    std::lock_guard lock(known_mutex_);
    // Bounded: past 100,000 keys the map starts again (a cache, not a record).
    if (known_.size() > 100'000) known_.clear();
    for (std::size_t i = 0; i < bundle.entries.size() && i < written->size(); ++i) {
      const auto& stored = (*written)[i].stored;
      if (bundle.entries[i].if_none_exist.empty() || !stored) continue;
      known_[key_of(bundle.entries[i])] = stored->resource_type + "/" + stored->id;
    }
  }
  return written;
}

LabAnswer LabIngest::Answer(const Attempt& attempt) {
  LabAnswer answer;
  answer.duplicate = attempt.duplicate;
  answer.code = attempt.error ? lab::AckCodeFor(*attempt.error) : lab::AckCode::kAccept;
  answer.ack = lab::BuildAck(attempt.header, answer.code, attempt.error ? &*attempt.error : nullptr,
                             NewResourceId(), clock_.Now());
  return answer;
}

LabAnswer LabIngest::Ingest(const policy::Principal& client, std::string_view message) {
  Attempt attempt = Take(client, message);
  if (!attempt.error) return Answer(attempt);
  auto quarantined = Quarantine(client, message, *attempt.error);
  if (!quarantined) {
    log::Warning("lab_quarantine_failed", {{"error", quarantined.error().message()}});
    attempt.error = ApplicationError("the message could not be kept: send it again");
    return Answer(attempt);
  }
  LabAnswer answer = Answer(attempt);
  answer.quarantine_id = std::move(*quarantined);
  log::Info("lab_message_quarantined",
            {{"quarantine_id", answer.quarantine_id},
             {"condition", std::int64_t{static_cast<int>(attempt.error->condition)}}});
  return answer;
}

Result<std::vector<std::uint8_t>> LabIngest::Seal(std::string_view id, std::int64_t version,
                                                  std::string_view text) const {
  const auto data = QuarantineData(id, version).Encode();
  return crypto::AeadSeal(
      key_, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), data);
}

Result<std::string> LabIngest::Open(const store::QuarantinedMessage& row) const {
  const auto data = QuarantineData(row.id, row.version).Encode();
  auto opened = crypto::AeadOpen(key_, row.sealed, data);
  if (!opened) return std::unexpected(opened.error());
  std::string text(opened->begin(), opened->end());
  std::fill(opened->begin(), opened->end(), std::uint8_t{0});
  return text;
}

Result<std::string> LabIngest::Quarantine(const policy::Principal& client, std::string_view message,
                                          const Hl7Error& error) {
  store::QuarantinedMessage row;
  row.id = NewResourceId();
  row.received_at = clock_.Now();
  row.updated_at = row.received_at;
  row.state = std::string(kStateHeld);
  row.condition = static_cast<int>(error.condition);
  row.error = error.text.substr(0, 1024);
  row.version = 1;
  auto sealed = Seal(row.id, row.version, message);
  if (!sealed) return std::unexpected(sealed.error());
  row.sealed = std::move(*sealed);
  if (auto recorded = Record(client, audit::Action::kCreate, row.id, audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  auto stored =
      store_.Transact([&](store::Transaction& tx) -> Status { return tx.InsertQuarantined(row); });
  if (!stored) return std::unexpected(stored.error());
  return row.id;
}

Status LabIngest::Record(const policy::Principal& principal, audit::Action action,
                         std::string_view id, audit::Outcome outcome) {
  audit::Entry entry;
  entry.account = principal.account_id;
  entry.role = principal.role;
  entry.client = principal.client;
  entry.source_address = principal.source_address;
  entry.action = action;
  entry.resource_type = std::string(kQuarantineType);
  if (!id.empty()) entry.resource_ids.emplace_back(id);
  entry.purpose = principal.role == audit::Role::kIntegration ? audit::Purpose::kIntegration
                                                              : audit::Purpose::kCareRelation;
  entry.outcome = outcome;
  auto appended = log_.Append(std::move(entry));
  if (!appended) {
    return Fail(ErrorCode::kUnavailable, "lab: the audit log cannot record the access");
  }
  return {};
}

Status LabIngest::RequireTechnician(const policy::Principal& principal, audit::Action action,
                                    std::string_view id) {
  // A lab technician of a lab: with none linked, they see nothing (policy/lab_scope.h).
  const bool technician = principal.role == audit::Role::kLabTechnician;
  if (technician && !principal.organization.empty()) return {};
  if (auto recorded = Record(principal, action, id, audit::Outcome::kDenied); !recorded) {
    return recorded;
  }
  if (technician) {
    return Fail(ErrorCode::kPermissionDenied,
                "the lab quarantine is for lab technicians of a lab: this account is linked to "
                "no lab");
  }
  return Fail(ErrorCode::kPermissionDenied, "the lab quarantine is for lab technicians only");
}

Result<QuarantinePage> LabIngest::ListQuarantine(const policy::Principal& technician,
                                                 std::string_view page, std::size_t count) {
  if (auto allowed = RequireTechnician(technician, audit::Action::kSearch, ""); !allowed) {
    return std::unexpected(allowed.error());
  }
  Timestamp after;
  std::string after_id;
  if (!ParseCursor(page, after, after_id)) {
    return Fail(ErrorCode::kInvalidArgument, "the page cursor is not one this server gave");
  }
  count = std::clamp<std::size_t>(count, 1, kMaxQuarantinePage);
  std::vector<store::QuarantinedMessage> rows;
  auto listed = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.ListQuarantined(after, after_id, count + 1);
        if (!found) return std::unexpected(found.error());
        rows = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!listed) return std::unexpected(listed.error());
  QuarantinePage result;
  if (rows.size() > count) {
    rows.resize(count);
    result.next_page = PageCursor(rows.back());
  }
  for (const store::QuarantinedMessage& row : rows) result.messages.push_back(SummaryOf(row));
  if (auto recorded = Record(technician, audit::Action::kSearch, "", audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return result;
}

Result<std::string> LabIngest::ReadQuarantined(const policy::Principal& technician,
                                               std::string_view id, QuarantineSummary* summary) {
  if (auto allowed = RequireTechnician(technician, audit::Action::kRead, id); !allowed) {
    return std::unexpected(allowed.error());
  }
  std::optional<store::QuarantinedMessage> row;
  auto read = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto found = tx.GetQuarantined(id);
        if (!found) return std::unexpected(found.error());
        row = std::move(*found);
        return {};
      },
      store::Access::kReadOnly);
  if (!read) {
    if (read.error().code() == ErrorCode::kInvalidArgument) {
      return Fail(ErrorCode::kNotFound, "no such quarantined message");
    }
    return std::unexpected(read.error());
  }
  // Recorded before anything is decrypted: nothing leaves unaudited.
  if (auto recorded = Record(technician, audit::Action::kRead, id, audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  auto text = Open(*row);
  if (!text) return std::unexpected(text.error());
  if (summary != nullptr) *summary = SummaryOf(*row);
  return text;
}

Result<std::int64_t> LabIngest::FixQuarantined(const policy::Principal& technician,
                                               std::string_view id, std::string_view text,
                                               std::int64_t expected_version) {
  if (auto allowed = RequireTechnician(technician, audit::Action::kUpdate, id); !allowed) {
    return std::unexpected(allowed.error());
  }
  if (auto recorded = Record(technician, audit::Action::kUpdate, id, audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  std::int64_t version = 0;
  auto updated = store_.Transact([&](store::Transaction& tx) -> Status {
    auto found = tx.GetQuarantined(id);
    if (!found) return std::unexpected(found.error());
    if (found->version != expected_version) {
      return Fail(ErrorCode::kConflict, "the quarantined message changed: read it again");
    }
    store::QuarantinedMessage row = std::move(*found);
    row.version = expected_version + 1;
    row.updated_at = clock_.Now();
    row.state = std::string(kStateHeld);
    auto sealed = Seal(row.id, row.version, text);
    if (!sealed) return std::unexpected(sealed.error());
    row.sealed = std::move(*sealed);
    version = row.version;
    return tx.UpdateQuarantined(row, expected_version);
  });
  if (!updated) {
    if (updated.error().code() == ErrorCode::kInvalidArgument) {
      return Fail(ErrorCode::kNotFound, "no such quarantined message");
    }
    return std::unexpected(updated.error());
  }
  return version;
}

Result<LabAnswer> LabIngest::Replay(const policy::Principal& technician, std::string_view id,
                                    const policy::Principal& client) {
  QuarantineSummary summary;
  auto text = ReadQuarantined(technician, id, &summary);
  if (!text) return std::unexpected(text.error());
  if (auto recorded = Record(technician, audit::Action::kUpdate, id, audit::Outcome::kSuccess);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  Attempt attempt = Take(client, *text);
  auto updated = store_.Transact([&](store::Transaction& tx) -> Status {
    auto found = tx.GetQuarantined(id);
    if (!found) return std::unexpected(found.error());
    store::QuarantinedMessage row = std::move(*found);
    const std::int64_t expected = row.version;
    row.version = expected + 1;
    row.updated_at = clock_.Now();
    row.state = std::string(attempt.error ? kStateHeld : kStateReplayed);
    row.condition = attempt.error ? static_cast<int>(attempt.error->condition) : 0;
    row.error = attempt.error ? attempt.error->text.substr(0, 1024) : std::string();
    auto sealed = Seal(row.id, row.version, *text);
    if (!sealed) return std::unexpected(sealed.error());
    row.sealed = std::move(*sealed);
    return tx.UpdateQuarantined(row, expected);
  });
  if (!updated) return std::unexpected(updated.error());
  LabAnswer answer = Answer(attempt);
  answer.quarantine_id = std::string(id);
  return answer;
}

}  // namespace medvault::records
