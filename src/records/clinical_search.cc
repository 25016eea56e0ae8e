// Search, Count and TypeHistory: within one patient (decrypt that patient's resources of the
// type, keep what Matches accepts), across patients (blind-index candidates, only those the
// caller may see), resources of no patient, and AuditEvent from the audit log.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>

#include "core/base64.h"
#include "fhir/resource.h"
#include "policy/lab_scope.h"
#include "records/audit_events.h"
#include "records/clinical_internal.h"
#include "records/clinical_records.h"

namespace medvault::records {
namespace internal {
namespace {

using fhir::Failure;
using fhir::IssueType;

constexpr std::size_t kScanPage = 500;

std::unexpected<fhir::Outcome> TooCostly() {
  return fhir::Refuse(Failure::kInvalid, IssueType::kTooCostly, "",
                      "the search would examine too many resources: narrow it (a more selective "
                      "parameter, or patient=)");
}

std::unexpected<fhir::Outcome> BadCursor() {
  return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "_page",
                      "the _page cursor is not one this server wrote: start again from the "
                      "first page and follow its next link");
}

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string EncodeCursor(std::string_view text) {
  return EncodeBase64(AsBytes(text), Base64Alphabet::kUrlSafe);
}

std::optional<std::string> DecodeCursor(std::string_view cursor) {
  auto bytes = DecodeBase64(cursor, Base64Alphabet::kUrlSafe);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

template <typename Integer>
bool ParseInteger(std::string_view text, Integer& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The offset of a search page: "o<offset>".
fhir::FhirResult<std::size_t> OffsetOf(std::string_view page) {
  if (page.empty()) return 0;
  auto text = DecodeCursor(page);
  std::size_t offset = 0;
  if (!text || !text->starts_with('o') ||
      !ParseInteger(std::string_view(*text).substr(1), offset)) {
    return BadCursor();
  }
  return offset;
}

// The candidate a windowed search page starts after: "a<id>"; "" for the first page.
fhir::FhirResult<std::string> AfterOf(std::string_view page) {
  if (page.empty()) return std::string();
  auto text = DecodeCursor(page);
  if (!text || !text->starts_with('a') || text->size() < 2) return BadCursor();
  return text->substr(1);
}

void AddDistinct(std::vector<std::string>& list, std::string_view value) {
  if (value.empty()) return;
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
}

// Keeps a decrypted row when the request matches it.
struct Collector {
  const policy::Principal& principal;
  const fhir::SearchRequest& request;
  SearchResult& result;

  fhir::FhirStatus Add(const policy::PhiAccess& access, SealedStore& sealed,
                       const store::VersionWithKey& row) {
    auto opened = sealed.Open(access, row.version, row.key);
    if (!opened) {
      // Erased since it was listed: not a match. A record that does not open (reported as an
      // integrity failure by the store) is skipped and counted, so that the answer says some
      // of what may match could not be read, and the other records are still served.
      if (opened.error().code() == ErrorCode::kNotFound) return {};
      if (opened.error().code() == ErrorCode::kDataLoss) {
        ++result.unreadable;
        return {};
      }
      return Failed(opened.error());
    }
    if (opened->state == store::VersionState::kDeleted) return {};
    auto stored = ToStored(*opened);
    if (!stored) return std::unexpected(stored.error());
    if (!fhir::Matches(request, *stored->resource)) return {};
    if (Withheld(principal, *stored)) {
      result.withheld.push_back(stored->id);
      AddDistinct(result.withheld_patients, row.version.patient_id);
      return {};
    }
    if (!Visible(principal, *stored)) return {};
    result.matches.push_back(std::move(*stored));
    result.match_patients.push_back({row.version.patient_id});
    return {};
  }
};

// Every current resource of the type of one patient ("" = of no patient) that matches.
fhir::FhirStatus ScanCompartment(const Context& context, const policy::Principal& principal,
                                 const policy::PhiAccess& access,
                                 const fhir::SearchRequest& request, std::string_view patient,
                                 SearchResult& result) {
  Collector collector{principal, request, result};
  std::string after;
  std::size_t scanned = 0;
  for (;;) {
    auto rows = context.sealed.FetchCompartment(request.resource_type, patient, after, kScanPage);
    if (!rows) return Failed(rows.error());
    for (const store::VersionWithKey& row : *rows) {
      if (++scanned > context.options.max_compartment_scan) return TooCostly();
      if (auto added = collector.Add(access, context.sealed, row); !added) return added;
    }
    if (rows->size() < kScanPage) return {};
    after = rows->back().version.id;
  }
}

// Candidates a search across patients takes from the index at a time, per lookup.
constexpr std::size_t kCandidateBatch = 200;

// The next candidates of `lookups` after `after`, in id order: the union of each lookup's next
// batch, up to the smallest last id of the batches that were full (beyond it a full lookup may
// hold ids not fetched yet). `done` when every lookup ran out.
fhir::FhirResult<std::vector<std::string>> NextCandidates(
    const Context& context, std::string_view resource_type,
    std::span<const fhir::BlindIndexLookup> lookups, std::string_view after, bool& done) {
  std::set<std::string> ids;
  std::optional<std::string> bound;
  for (const fhir::BlindIndexLookup& lookup : lookups) {
    auto candidates = context.sealed.Candidates(resource_type, lookup.field, lookup.value, after,
                                                kCandidateBatch);
    if (!candidates) {
      // A value the index cannot hold (a malformed phone number) matches nothing.
      if (candidates.error().code() == ErrorCode::kInvalidArgument) continue;
      return Failed(candidates.error());
    }
    if (candidates->size() == kCandidateBatch && (!bound || candidates->back() < *bound)) {
      bound = candidates->back();
    }
    ids.insert(candidates->begin(), candidates->end());
  }
  done = !bound;
  if (bound) ids.erase(ids.upper_bound(*bound), ids.end());
  return std::vector<std::string>(ids.begin(), ids.end());
}

// A search across patients: the candidates of the most selective blind-indexed criterion
// (the first one), in id order from `window.after`, the ones the caller may see, decrypted
// and checked against every criterion, until `window.want` match. It examines at most
// max_compartment_scan candidates past the window's start.
fhir::FhirStatus SearchAcrossPatients(const Context& context, const policy::Principal& principal,
                                      const fhir::SearchRequest& request,
                                      const SearchWindow& window, SearchResult& result) {
  std::optional<std::vector<fhir::BlindIndexLookup>> lookups;
  for (const fhir::SearchCriterion& criterion : request.criteria) {
    lookups = fhir::BlindIndexLookupsOf(criterion);
    if (lookups) break;
  }
  if (!lookups) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kTooCostly, "patient",
                        "this search needs a patient: narrow it to a patient with patient=");
  }
  Collector collector{principal, request, result};
  auto scope = ScopeOf(context, principal);
  if (!scope) return std::unexpected(scope.error());
  std::string after = window.after;
  std::size_t examined = 0;
  for (bool done = false; !done && result.matches.size() < window.want;) {
    auto ids = NextCandidates(context, request.resource_type, *lookups, after, done);
    if (!ids) return std::unexpected(ids.error());
    if (ids->empty()) break;
    after = ids->back();
    examined += ids->size();
    if (examined > context.options.max_compartment_scan) return TooCostly();
    // Only what the caller may see is touched; the others are skipped without a trace that
    // would tell them apart from resources that do not exist.
    std::vector<store::VersionWithKey> rows;
    std::vector<std::string> patients;
    for (const std::string& id : *ids) {
      auto row = context.sealed.Fetch(request.resource_type, id);
      if (!row) {
        if (row.error().code() == ErrorCode::kNotFound) continue;
        return Failed(row.error());
      }
      if (row->version.state == store::VersionState::kDeleted) continue;
      if (!MayRead(principal, *scope, request.resource_type, id, row->version.patient_id)) {
        continue;
      }
      AddDistinct(patients, row->version.patient_id);
      rows.push_back(std::move(*row));
    }
    if (rows.empty()) continue;
    auto access = Authorize(context, principal, policy::Operation::kSearch, request.resource_type,
                            {}, patients, Denial::kForbidden);
    if (!access) return std::unexpected(access.error());
    for (const store::VersionWithKey& row : rows) {
      if (result.matches.size() >= window.want) break;
      if (auto added = collector.Add(*access, context.sealed, row); !added) return added;
    }
  }
  return {};
}

// What a principal is shown of an audit entry. A patient sees the events of their own record,
// but not who else a search returned: an entry that also names other patients keeps only the
// patient's own entity.
// The agent is named by display name and role (`names`, one per request).
std::optional<boost::json::object> AuditEventFor(const policy::Principal& principal,
                                                 const audit::Entry& entry, AgentNames& names) {
  boost::json::object event = AuditEventOf(entry, &names);
  if (principal.role == audit::Role::kPatient) {
    const auto& patients = entry.patient_ids;
    if (std::find(patients.begin(), patients.end(), principal.patient_id) == patients.end()) {
      return std::nullopt;
    }
    if (patients.size() > 1) {
      const std::string own = "Patient/" + principal.patient_id;
      boost::json::array kept;
      if (auto* entities = event.if_contains("entity"); entities && entities->is_array()) {
        for (const boost::json::value& entity : entities->as_array()) {
          const auto* what = entity.is_object() ? entity.as_object().if_contains("what") : nullptr;
          const auto* reference =
              what && what->is_object() ? what->as_object().if_contains("reference") : nullptr;
          if (reference && reference->is_string() && reference->as_string() == own) {
            kept.push_back(entity);
          }
        }
      }
      event["entity"] = std::move(kept);
    }
  }
  boost::json::value& meta = event["meta"];
  if (!meta.is_object()) meta = boost::json::object();
  meta.as_object()["versionId"] = "1";
  meta.as_object()["lastUpdated"] = FormatInstant(entry.time);
  return event;
}

// The id an agent= value names: "Practitioner/clin-1" or "clin-1" (an account id).
std::string AgentOf(const fhir::SearchValue& value) {
  const auto slash = value.code.rfind('/');
  return slash == std::string::npos ? value.code : value.code.substr(slash + 1);
}

constexpr std::size_t kMaxAuditEvents = 1000;

// The AuditEvent search: the log's entries as AuditEvents. Patients see their own record's.
fhir::FhirStatus SearchAuditEvents(const Context& context, const policy::Principal& principal,
                                   const fhir::SearchRequest& request, SearchResult& result) {
  AuditEventQuery query;
  query.patient_id = request.patient_id;
  query.limit = kMaxAuditEvents + 1;
  if (principal.role == audit::Role::kPatient) {
    if (request.patient_id && *request.patient_id != principal.patient_id) {
      return fhir::Refuse(fhir::Failure::kForbidden, IssueType::kForbidden, "patient",
                          "a patient may see only the audit events of their own record");
    }
    query.patient_id = principal.patient_id;
  }
  // The log answers patient and agent itself; Matches checks the other criteria on each event.
  fhir::SearchRequest rest = request;
  rest.patient_id.reset();
  std::erase_if(rest.criteria, [&](const fhir::SearchCriterion& criterion) {
    const std::string_view name = criterion.param->name;
    if (name == "agent" && criterion.any_of.size() == 1 && criterion.modifier.empty()) {
      query.account = AgentOf(criterion.any_of.front());
      return true;
    }
    return name == "patient";
  });
  std::vector<std::string> patients;
  if (query.patient_id) patients.push_back(*query.patient_id);
  auto access = Authorize(context, principal, policy::Operation::kSearch, "AuditEvent", {},
                          patients, Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  auto entries = FindAuditEvents(context.log, query);
  if (!entries) return Failed(entries.error());
  if (entries->size() > kMaxAuditEvents) return TooCostly();
  AgentNames names(context.store);
  for (const audit::Entry& entry : *entries) {
    auto event = AuditEventFor(principal, entry, names);
    if (!event || !fhir::Matches(rest, *event)) continue;
    StoredResource stored =
        MakeStored("AuditEvent", std::to_string(entry.index), 1, entry.time, false);
    stored.resource = std::move(*event);
    result.matches.push_back(std::move(stored));
    if (principal.role == audit::Role::kPatient) {
      result.match_patients.push_back({principal.patient_id});
    } else {
      result.match_patients.push_back(entry.patient_ids);
    }
  }
  return {};
}

// A clinical date as a key that sorts in time order: a dateTime with an offset is moved to
// UTC ("2026-03-05T08:30:00+01:00" -> "2026-03-05T07:30:00.000000Z"); a date, or a partial one,
// stays as written (it sorts as the start of its period).
std::string SortKey(const std::string& date) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(date.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return date;
  }
  std::string_view rest = std::string_view(date).substr(static_cast<std::size_t>(consumed));
  std::int64_t micros = 0;
  if (rest.starts_with('.')) {
    std::size_t digits = 1;
    std::string fraction;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      if (fraction.size() < 6) fraction += rest[digits];
      ++digits;
    }
    fraction.resize(6, '0');
    micros = std::stoll(fraction);
    rest.remove_prefix(digits);
  }
  std::chrono::minutes offset{0};
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2) {
      return date;
    }
    offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    if (rest[0] == '-') offset = -offset;
  } else if (rest != "Z") {
    return date;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return date;
  const Timestamp at = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                       std::chrono::minutes(minute) + std::chrono::seconds(second) +
                       std::chrono::microseconds(micros) - offset;
  return FormatInstant(at);
}

void SortByDate(const fhir::SearchRequest& request, SearchResult& result) {
  std::vector<std::size_t> order(result.matches.size());
  std::vector<std::optional<std::string>> dates(result.matches.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
    dates[i] = fhir::ClinicalDateOf(*result.matches[i].resource);
    if (dates[i]) dates[i] = SortKey(*dates[i]);
  }
  // Resources without a clinical date come last either way.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (!dates[a] || !dates[b]) return dates[a].has_value() && !dates[b].has_value();
    return request.sort_descending ? *dates[a] > *dates[b] : *dates[a] < *dates[b];
  });
  SearchResult sorted;
  for (std::size_t i : order) {
    sorted.matches.push_back(std::move(result.matches[i]));
    sorted.match_patients.push_back(std::move(result.match_patients[i]));
  }
  result.matches = std::move(sorted.matches);
  result.match_patients = std::move(sorted.match_patients);
}

// The references of `resource` that an _include names ("DiagnosticReport:result").
std::vector<std::string> IncludedReferences(const boost::json::object& resource,
                                            const std::string& include) {
  std::vector<std::string> out;
  const auto colon = include.find(':');
  if (colon == std::string::npos) return out;
  const std::string source = include.substr(0, colon);
  std::string param = include.substr(colon + 1);
  if (param == "patient") param = "subject";
  const std::string prefix = source + "." + param;
  for (const fhir::ReferenceAt& at : fhir::References(resource)) {
    if (at.expression == prefix || at.expression.starts_with(prefix + "[") ||
        at.expression.starts_with(prefix + ".")) {
      out.push_back(at.reference);
    }
  }
  return out;
}

// The _include targets of a page, once each, each read through the Decider.
fhir::FhirStatus Include(const Context& context, const policy::Principal& principal,
                         const fhir::SearchRequest& request, std::span<const StoredResource> page,
                         SearchResult& result) {
  std::set<std::string> seen;
  for (const StoredResource& match : page) seen.insert(match.resource_type + "/" + match.id);
  auto scope = ScopeOf(context, principal);
  if (!scope) return std::unexpected(scope.error());
  // By type: the rows the caller may see.
  std::map<std::string, std::vector<store::VersionWithKey>> rows;
  for (const StoredResource& match : page) {
    for (const std::string& include : request.include) {
      if (!include.starts_with(request.resource_type + ":")) continue;
      for (const std::string& reference : IncludedReferences(*match.resource, include)) {
        if (!seen.insert(reference).second) continue;
        auto split = SplitReference(reference);
        if (!split) continue;
        auto row = context.sealed.Fetch(split->first, split->second);
        if (!row) {
          if (row.error().code() == ErrorCode::kNotFound) continue;
          return Failed(row.error());
        }
        if (row->version.state == store::VersionState::kDeleted) continue;
        if (!MayRead(principal, *scope, split->first, split->second, row->version.patient_id)) {
          continue;
        }
        rows[split->first].push_back(std::move(*row));
      }
    }
  }
  for (const auto& [type, of_type] : rows) {
    std::vector<std::string> ids;
    std::vector<std::string> patients;
    for (const auto& row : of_type) {
      ids.push_back(row.version.id);
      AddDistinct(patients, row.version.patient_id);
    }
    auto access = Authorize(context, principal, policy::Operation::kRead, type, ids, patients,
                            Denial::kNotFound);
    if (!access) {
      if (access.error().failure == Failure::kNotFound) continue;
      return std::unexpected(access.error());
    }
    for (const auto& row : of_type) {
      auto opened = context.sealed.Open(*access, row.version, row.key);
      if (!opened) {
        if (opened.error().code() == ErrorCode::kNotFound) continue;
        if (opened.error().code() == ErrorCode::kDataLoss) {
          ++result.unreadable;  // reported by the store; skipped like a broken match
          continue;
        }
        return Failed(opened.error());
      }
      auto stored = ToStored(*opened);
      if (!stored) return std::unexpected(stored.error());
      if (!Visible(principal, *stored)) continue;
      result.included.push_back(std::move(*stored));
      result.included_patients.push_back(row.version.patient_id);
    }
  }
  return {};
}

}  // namespace

fhir::FhirResult<StoredResource> ReadAuditEvent(const Context& context,
                                                const policy::Principal& principal,
                                                std::string_view id) {
  if (auto allowed = CheckTypeAllowed(context, principal, policy::Operation::kRead, "AuditEvent");
      !allowed) {
    return std::unexpected(allowed.error());
  }
  std::uint64_t index = 0;
  if (!ParseInteger(id, index)) return NotFound("AuditEvent");
  audit::Search search;
  search.by = audit::Search::By::kTime;
  search.limit = 1;
  if (index > 0) search.after_index = index - 1;
  auto found = context.log.Find(search);
  if (!found) return Failed(found.error());
  if (found->empty() || found->front().index != index) return NotFound("AuditEvent");
  const audit::Entry& entry = found->front();
  const std::string ids[] = {std::string(id)};
  // A patient asks about their own record: the entry must name them, and they are told only
  // about themselves.
  std::vector<std::string> patients = entry.patient_ids;
  if (principal.role == audit::Role::kPatient) {
    const bool theirs =
        std::find(patients.begin(), patients.end(), principal.patient_id) != patients.end();
    patients = theirs ? std::vector<std::string>{principal.patient_id} : std::vector<std::string>{};
  }
  auto access = Authorize(context, principal, policy::Operation::kRead, "AuditEvent", ids, patients,
                          Denial::kNotFound);
  if (!access) return std::unexpected(access.error());
  AgentNames names(context.store);
  auto event = AuditEventFor(principal, entry, names);
  if (!event) return NotFound("AuditEvent");
  StoredResource stored = MakeStored("AuditEvent", std::string(id), 1, entry.time, false);
  stored.resource = std::move(*event);
  return stored;
}

std::vector<std::string> PatientsOf(const SearchResult& result, std::size_t begin,
                                    std::size_t end) {
  std::vector<std::string> patients;
  for (std::size_t i = begin; i < end && i < result.match_patients.size(); ++i) {
    for (const std::string& patient : result.match_patients[i]) AddDistinct(patients, patient);
  }
  return patients;
}

bool IsWindowed(const fhir::SearchRequest& request) {
  return request.resource_type != "AuditEvent" &&
         fhir::IsPatientCompartmentType(request.resource_type) && !request.patient_id &&
         !request.sort_by_date;
}

namespace {

// A Patient search of an account acting for an organization, by identifier, among every
// patient (policy::AccessRequest::matches_identity): the patients it matches, without their
// content. Only the first batch of candidates is read: an identifier that more patients than
// that share is not one to match on.
fhir::FhirResult<SearchResult> MatchIdentity(const Context& context,
                                             const policy::Principal& principal,
                                             const fhir::SearchRequest& request) {
  SearchResult result;
  std::optional<std::vector<fhir::BlindIndexLookup>> lookups;
  for (const fhir::SearchCriterion& criterion : request.criteria) {
    if (criterion.param != nullptr && criterion.param->name == "identifier") {
      lookups = fhir::BlindIndexLookupsOf(criterion);
    }
  }
  if (!lookups) return result;
  bool done = false;
  auto ids = NextCandidates(context, "Patient", *lookups, "", done);
  if (!ids) return std::unexpected(ids.error());
  if (!done) return TooCostly();
  std::vector<store::VersionWithKey> rows;
  std::vector<std::string> patients;
  for (const std::string& id : *ids) {
    auto row = context.sealed.Fetch("Patient", id);
    if (!row) {
      if (row.error().code() == ErrorCode::kNotFound) continue;
      return Failed(row.error());
    }
    if (row->version.state == store::VersionState::kDeleted) continue;
    AddDistinct(patients, row->version.patient_id);
    rows.push_back(std::move(*row));
  }
  if (rows.empty()) return result;
  auto access = Authorize(context, principal,
                          policy::AccessRequest{.operation = policy::Operation::kSearch,
                                                .resource_type = "Patient",
                                                .resource_ids = {},
                                                .patient_ids = patients,
                                                .matches_identity = true},
                          Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  Collector collector{principal, request, result};
  for (const store::VersionWithKey& row : rows) {
    if (auto added = collector.Add(*access, context.sealed, row); !added) {
      return std::unexpected(added.error());
    }
  }
  for (StoredResource& match : result.matches) match.resource.reset();
  return result;
}

}  // namespace

fhir::FhirResult<SearchResult> MatchIfNoneExist(const Context& context,
                                                const policy::Principal& principal,
                                                const fhir::SearchRequest& request) {
  auto found = RunSearch(context, principal, request);
  if (!found || !found->matches.empty() || request.resource_type != "Patient" ||
      !policy::ActsForOrganization(principal)) {
    return found;
  }
  return MatchIdentity(context, principal, request);
}

fhir::FhirResult<SearchResult> RunSearch(const Context& context, const policy::Principal& principal,
                                         const fhir::SearchRequest& request,
                                         const SearchWindow& window) {
  const std::string& type = request.resource_type;
  if (!fhir::IsServedType(type)) return NotFound(type);
  if (auto allowed = CheckTypeAllowed(context, principal, policy::Operation::kSearch, type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  SearchResult result;
  if (type == "AuditEvent") {
    if (auto found = SearchAuditEvents(context, principal, request, result); !found) {
      return std::unexpected(found.error());
    }
  } else if (!fhir::IsPatientCompartmentType(type)) {
    auto access =
        Authorize(context, principal, policy::Operation::kSearch, type, {}, {}, Denial::kForbidden);
    if (!access) return std::unexpected(access.error());
    if (auto found = ScanCompartment(context, principal, *access, request, "", result); !found) {
      return std::unexpected(found.error());
    }
  } else if (request.patient_id) {
    const std::string patients[] = {*request.patient_id};
    auto access = Authorize(context, principal, policy::Operation::kSearch, type, {}, patients,
                            Denial::kForbidden);
    if (!access) return std::unexpected(access.error());
    if (auto found =
            ScanCompartment(context, principal, *access, request, *request.patient_id, result);
        !found) {
      return std::unexpected(found.error());
    }
  } else {
    const SearchWindow all;
    const SearchWindow& part = IsWindowed(request) ? window : all;
    if (auto found = SearchAcrossPatients(context, principal, request, part, result); !found) {
      return std::unexpected(found.error());
    }
  }
  if (request.sort_by_date) SortByDate(request, result);
  return result;
}

fhir::FhirStatus RecordReturned(const Context& context, const policy::Principal& principal,
                                std::string_view resource_type,
                                std::span<const StoredResource> resources,
                                std::span<const std::string> patients_of_resources) {
  std::vector<std::string> ids;
  std::vector<std::string> patients;
  for (const StoredResource& resource : resources) ids.push_back(resource.id);
  for (const std::string& patient : patients_of_resources) AddDistinct(patients, patient);
  auto recorded = context.decider.RecordResults(principal, resource_type, ids, patients);
  if (!recorded) return Refusal(recorded.error());
  return {};
}

fhir::FhirResult<std::string> HistoryCursor(const store::ResourceVersion& last) {
  return EncodeCursor(
      fmt::format("h{}:{}:{}", last.recorded_at.time_since_epoch().count(), last.version, last.id));
}

}  // namespace internal

using fhir::Failure;
using fhir::IssueType;
using internal::Context;

fhir::FhirResult<SearchPage> ClinicalRecords::Search(const policy::Principal& principal,
                                                     const fhir::SearchRequest& request) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  // A windowed search's pages start after the last match of the previous page ("a<id>");
  // the others' at an offset into all the matches ("o<offset>").
  const bool windowed = internal::IsWindowed(request);
  internal::SearchWindow window;
  std::size_t offset = 0;
  if (windowed) {
    auto after = internal::AfterOf(request.page);
    if (!after) return std::unexpected(after.error());
    window = {.after = std::move(*after), .want = request.count + 1};
  } else {
    auto at = internal::OffsetOf(request.page);
    if (!at) return std::unexpected(at.error());
    offset = *at;
  }
  auto result = internal::RunSearch(context, principal, request, window);
  if (!result) return std::unexpected(result.error());
  const std::size_t total = result->matches.size();
  const std::size_t begin = std::min(offset, total);
  const std::size_t end = std::min(total, begin + request.count);
  SearchPage page;
  // A windowed search knows its total only when its first page holds every match.
  if (!windowed || (request.page.empty() && end == total)) {
    page.total = static_cast<std::int64_t>(total);
  }
  std::vector<std::string> patients;
  for (std::size_t i = begin; i < end; ++i) {
    page.matches.push_back(std::move(result->matches[i]));
    patients.insert(patients.end(), result->match_patients[i].begin(),
                    result->match_patients[i].end());
  }
  internal::SearchResult included;
  if (!request.include.empty()) {
    if (auto done = internal::Include(context, principal, request, page.matches, included); !done) {
      return std::unexpected(done.error());
    }
  }
  for (const std::string& patient : included.included_patients) patients.push_back(patient);
  if (auto recorded = internal::RecordReturned(context, principal, request.resource_type,
                                               page.matches, patients);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  if (auto recorded =
          internal::RecordWithheld(context, principal, policy::Operation::kSearch,
                                   request.resource_type, result->withheld,
                                   result->withheld_patients);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  page.included = std::move(included.included);
  page.unreadable = result->unreadable + included.unreadable;
  if (end < total) {
    page.next_page = windowed ? internal::EncodeCursor("a" + page.matches.back().id)
                              : internal::EncodeCursor(fmt::format("o{}", end));
  }
  return page;
}

fhir::FhirResult<std::int64_t> ClinicalRecords::Count(const policy::Principal& principal,
                                                      const fhir::SearchRequest& request) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  auto result = internal::RunSearch(context, principal, request);
  if (!result) return std::unexpected(result.error());
  if (auto recorded =
          internal::RecordReturned(context, principal, request.resource_type, result->matches,
                                   internal::PatientsOf(*result, 0, result->matches.size()));
      !recorded) {
    return std::unexpected(recorded.error());
  }
  if (auto recorded =
          internal::RecordWithheld(context, principal, policy::Operation::kSearch,
                                   request.resource_type, result->withheld,
                                   result->withheld_patients);
      !recorded) {
    return std::unexpected(recorded.error());
  }
  return static_cast<std::int64_t>(result->matches.size());
}

fhir::FhirResult<HistoryPage> ClinicalRecords::TypeHistory(const policy::Principal& principal,
                                                           std::string_view resource_type,
                                                           std::optional<std::string> patient_id,
                                                           std::size_t count,
                                                           std::string_view page) {
  const Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (!fhir::IsServedType(resource_type) || resource_type == "AuditEvent") {
    return internal::NotFound(resource_type);
  }
  if (auto allowed = internal::CheckTypeAllowed(context, principal, policy::Operation::kHistory,
                                                resource_type);
      !allowed) {
    return std::unexpected(allowed.error());
  }
  const bool compartment = fhir::IsPatientCompartmentType(resource_type);
  if (compartment && (!patient_id || patient_id->empty())) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kTooCostly, "patient",
                        "the history of every resource of this type is not served: narrow it "
                        "to a patient with patient=");
  }
  const std::string patient = compartment ? *patient_id : std::string();
  count = std::clamp<std::size_t>(count == 0 ? fhir::kDefaultCount : count, 1, fhir::kMaxCount);

  std::optional<store::VersionCursor> before;
  if (!page.empty()) {
    auto text = internal::DecodeCursor(page);
    if (!text || !text->starts_with('h')) return internal::BadCursor();
    std::string_view rest = std::string_view(*text).substr(1);
    const auto first = rest.find(':');
    const auto second = first == std::string_view::npos ? first : rest.find(':', first + 1);
    std::int64_t micros = 0;
    std::int64_t version = 0;
    if (second == std::string_view::npos ||
        !internal::ParseInteger(rest.substr(0, first), micros) ||
        !internal::ParseInteger(rest.substr(first + 1, second - first - 1), version)) {
      return internal::BadCursor();
    }
    before = store::VersionCursor{.recorded_at = Timestamp(std::chrono::microseconds(micros)),
                                  .id = std::string(rest.substr(second + 1)),
                                  .version = version};
  }
  const std::vector<std::string> patients =
      patient.empty() ? std::vector<std::string>{} : std::vector<std::string>{patient};
  auto access = internal::Authorize(context, principal, policy::Operation::kHistory, resource_type,
                                    {}, patients, internal::Denial::kForbidden);
  if (!access) return std::unexpected(access.error());
  auto rows = sealed_.FetchTypeHistory(resource_type, patient, before, count + 1);
  if (!rows) return internal::Failed(rows.error());
  HistoryPage history;
  const bool more = rows->size() > count;
  if (more) rows->resize(count);
  for (const store::VersionWithKey& row : *rows) {
    auto opened = sealed_.Open(*access, row.version, row.key);
    if (!opened) {
      if (opened.error().code() == ErrorCode::kNotFound) continue;
      return internal::Failed(opened.error());
    }
    auto stored = internal::ToStored(*opened);
    if (!stored) return std::unexpected(stored.error());
    if (!internal::Visible(principal, *stored)) continue;
    history.versions.push_back(std::move(*stored));
  }
  if (more && !rows->empty()) {
    auto cursor = internal::HistoryCursor(rows->back().version);
    if (cursor) history.next_page = *cursor;
  }
  return history;
}

}  // namespace medvault::records
