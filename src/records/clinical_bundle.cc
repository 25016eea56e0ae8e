// Process: a batch runs each entry as its own request; a transaction prepares and checks
// every entry (urn:uuid references resolved to the ids assigned here), authorizes them, and
// writes them all in one store transaction, or nothing.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <map>
#include <set>

#include "core/ids.h"
#include "fhir/bundle.h"
#include "fhir/resource.h"
#include "records/clinical_internal.h"
#include "records/clinical_records.h"

namespace medvault::records {
namespace internal {
namespace {

using fhir::EntryMethod;
using fhir::Failure;
using fhir::IssueType;

// request.url of an entry: "Type", "Type/id", "Type/id/_history/n", "Type?query".
struct EntryUrl {
  std::string type;
  std::string id;
  std::int64_t version = 0;  // 0: none
  bool history = false;
  std::optional<std::string> query;
};

std::optional<EntryUrl> ParseEntryUrl(std::string_view url) {
  EntryUrl out;
  if (const auto mark = url.find('?'); mark != std::string_view::npos) {
    out.query = std::string(url.substr(mark + 1));
    url = url.substr(0, mark);
  }
  std::vector<std::string_view> parts;
  while (!url.empty()) {
    const auto slash = url.find('/');
    parts.push_back(url.substr(0, slash));
    if (slash == std::string_view::npos) break;
    url = url.substr(slash + 1);
  }
  if (parts.empty() || !fhir::IsServedType(parts[0])) return std::nullopt;
  out.type = std::string(parts[0]);
  if (parts.size() >= 2) out.id = std::string(parts[1]);
  if (parts.size() >= 3) {
    if (parts[2] != "_history") return std::nullopt;
    out.history = true;
  }
  if (parts.size() == 4) {
    auto [end, ec] =
        std::from_chars(parts[3].data(), parts[3].data() + parts[3].size(), out.version);
    if (ec != std::errc() || end != parts[3].data() + parts[3].size() || out.version <= 0) {
      return std::nullopt;
    }
  }
  if (parts.size() > 4 || (out.query && !out.id.empty()) || (parts.size() >= 2 && out.id.empty())) {
    return std::nullopt;
  }
  return out;
}

// W/"3" or "3" -> 3.
std::optional<std::int64_t> ParseIfMatch(std::string_view text) {
  if (text.starts_with("W/")) text.remove_prefix(2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  std::int64_t version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version <= 0) return std::nullopt;
  return version;
}

// The expressions of an entry's failure, placed in the Bundle: "Observation.subject" becomes
// "Bundle.entry[3].resource.subject".
fhir::Outcome InEntry(fhir::Outcome outcome, std::size_t index, std::string_view resource_type) {
  const std::string entry = fmt::format("Bundle.entry[{}]", index);
  for (fhir::Issue& issue : outcome.issues) {
    if (issue.expression.empty()) {
      issue.expression = entry;
    } else if (!resource_type.empty() &&
               (issue.expression == resource_type ||
                issue.expression.starts_with(std::string(resource_type) + ".") ||
                issue.expression.starts_with(std::string(resource_type) + "["))) {
      issue.expression = entry + ".resource" + issue.expression.substr(resource_type.size());
    } else if (issue.expression == "resourceType") {
      issue.expression = entry + ".resource.resourceType";
    } else {
      issue.expression = entry + "." + issue.expression;
    }
  }
  return outcome;
}

std::unexpected<fhir::Outcome> EntryFailure(std::size_t index, Failure failure, IssueType code,
                                            std::string where, std::string diagnostics) {
  fhir::Outcome outcome{
      .failure = failure,
      .issues = {
          {.code = code, .expression = std::move(where), .diagnostics = std::move(diagnostics)}}};
  return std::unexpected(InEntry(std::move(outcome), index, ""));
}

std::string TypeOf(const boost::json::object& resource) {
  const auto* type = resource.if_contains("resourceType");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : std::string();
}

int WrittenStatus(const Written& written) { return written.created ? 201 : 200; }

EntryResult Answered(int status, StoredResource stored) {
  EntryResult result;
  result.status = status;
  result.stored = std::move(stored);
  return result;
}

EntryResult FailedEntry(fhir::Outcome outcome) {
  EntryResult result;
  result.status = fhir::HttpStatusOf(outcome.failure);
  result.outcome = std::move(outcome);
  return result;
}

// A GET of a batch or transaction: a read, a vread or a search (whose searchset Bundle is the
// entry's resource; its fullUrls are relative, the API makes them absolute).
EntryResult RunGet(ClinicalRecords& records, const policy::Principal& principal,
                   const EntryUrl& url, std::size_t index, std::string_view timestamp) {
  if (url.history && url.version == 0) {
    return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kNotSupported,
                                    "request.url",
                                    "history inside a Bundle is not served: ask for it alone")
                           .error());
  }
  if (!url.id.empty()) {
    auto read = url.version > 0 ? records.VRead(principal, url.type, url.id, url.version)
                                : records.Read(principal, url.type, url.id);
    if (!read) return FailedEntry(InEntry(std::move(read.error()), index, url.type));
    return Answered(200, std::move(*read));
  }
  auto request = fhir::ParseSearch(url.type, url.query.value_or(""));
  if (!request) return FailedEntry(InEntry(std::move(request.error()), index, url.type));
  auto page = records.Search(principal, *request);
  if (!page) return FailedEntry(InEntry(std::move(page.error()), index, url.type));
  std::vector<fhir::OutgoingEntry> entries;
  for (auto* list : {&page->matches, &page->included}) {
    for (StoredResource& stored : *list) {
      fhir::OutgoingEntry out;
      out.full_url = stored.resource_type + "/" + stored.id;
      out.resource = std::move(stored.resource);
      out.search_mode = list == &page->matches ? fhir::OutgoingEntry::Mode::kMatch
                                               : fhir::OutgoingEntry::Mode::kInclude;
      entries.push_back(std::move(out));
    }
  }
  StoredResource bundle;
  bundle.resource_type = "Bundle";
  bundle.resource = fhir::AnswerBundle("searchset", page->total, {}, std::move(entries), timestamp);
  return Answered(200, std::move(bundle));
}

EntryResult RunBatchEntry(ClinicalRecords& records, const policy::Principal& principal,
                          const fhir::IncomingEntry& entry, std::size_t index,
                          std::string_view timestamp) {
  auto url = ParseEntryUrl(entry.url);
  if (!url) {
    return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kValue, "request.url",
                                    "request.url must be Type, Type/id or Type?query")
                           .error());
  }
  switch (entry.method) {
    case EntryMethod::kGet:
      return RunGet(records, principal, *url, index, timestamp);
    case EntryMethod::kPost: {
      if (!entry.resource || !url->id.empty() || url->query ||
          TypeOf(*entry.resource) != url->type) {
        return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kValue, "request.url",
                                        "a POST names the resource's type alone")
                               .error());
      }
      auto written = records.Create(principal, *entry.resource, entry.if_none_exist);
      if (!written) return FailedEntry(InEntry(std::move(written.error()), index, url->type));
      return Answered(WrittenStatus(*written), std::move(written->stored));
    }
    case EntryMethod::kPut: {
      if (!entry.resource || url->id.empty() || url->history || url->query) {
        return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kValue, "request.url",
                                        "a PUT names Type/id")
                               .error());
      }
      std::optional<std::int64_t> if_match;
      if (!entry.if_match.empty()) {
        if_match = ParseIfMatch(entry.if_match);
        if (!if_match) {
          return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kValue,
                                          "request.ifMatch", "ifMatch must be W/\"<version>\"")
                                 .error());
        }
      }
      auto written = records.Update(principal, url->type, url->id, *entry.resource, if_match);
      if (!written) return FailedEntry(InEntry(std::move(written.error()), index, url->type));
      return Answered(WrittenStatus(*written), std::move(written->stored));
    }
    case EntryMethod::kDelete: {
      if (url->id.empty() || url->history || url->query) {
        return FailedEntry(EntryFailure(index, Failure::kInvalid, IssueType::kValue, "request.url",
                                        "a DELETE names Type/id")
                               .error());
      }
      auto deleted = records.Delete(principal, url->type, url->id);
      if (!deleted) return FailedEntry(InEntry(std::move(deleted.error()), index, url->type));
      return Answered(204, std::move(*deleted));
    }
  }
  return FailedEntry(
      EntryFailure(index, Failure::kInvalid, IssueType::kValue, "request.method", "unknown method")
          .error());
}

int MethodRank(EntryMethod method) {
  switch (method) {
    case EntryMethod::kDelete:
      return 0;
    case EntryMethod::kPost:
      return 1;
    case EntryMethod::kPut:
      return 2;
    case EntryMethod::kGet:
      return 3;
  }
  return 4;
}

// One entry of a transaction as it is prepared.
struct Planned {
  std::size_t index = 0;  // in the Bundle
  EntryMethod method = EntryMethod::kGet;
  EntryUrl url;
  std::string type;
  std::string id;
  boost::json::object resource;
  bool write = false;                        // POST or PUT that writes
  bool matched = false;                      // a conditional create that found its resource
  std::optional<StoredResource> existing;    // what a matched conditional create returns
  std::optional<store::VersionWithKey> row;  // PUT and DELETE: the current row, if any
  std::string patient_id;
  std::size_t first_write = 0;  // index of its PreparedWrite
  std::int64_t delete_version = 0;
  bool already_deleted = false;
};

}  // namespace

fhir::FhirResult<std::vector<EntryResult>> RunTransaction(const Context& context,
                                                          ClinicalRecords& records,
                                                          const policy::Principal& principal,
                                                          fhir::IncomingBundle& bundle,
                                                          const AlongWith& along) {
  std::vector<Planned> plan(bundle.entries.size());
  std::vector<std::size_t> order(bundle.entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return MethodRank(bundle.entries[a].method) < MethodRank(bundle.entries[b].method);
  });

  // 1. What each entry is, and the ids the new resources get.
  std::map<std::string, std::string, std::less<>> assigned;  // urn:uuid -> "Type/id"
  std::set<std::string> deleted_here;                        // "Type/id"
  for (std::size_t i : order) {
    fhir::IncomingEntry& entry = bundle.entries[i];
    Planned& planned = plan[i];
    planned.index = i;
    planned.method = entry.method;
    auto url = ParseEntryUrl(entry.url);
    if (!url) {
      return EntryFailure(i, Failure::kInvalid, IssueType::kValue, "request.url",
                          "request.url must be Type, Type/id or Type?query");
    }
    planned.url = *url;
    planned.type = url->type;
    if (entry.method == EntryMethod::kPost || entry.method == EntryMethod::kPut) {
      if (!entry.resource || TypeOf(*entry.resource) != url->type || url->history ||
          (entry.method == EntryMethod::kPost && (!url->id.empty() || url->query)) ||
          (entry.method == EntryMethod::kPut && (url->id.empty() || url->query))) {
        return EntryFailure(i, Failure::kInvalid, IssueType::kValue, "request.url",
                            "a POST names the resource's type, a PUT Type/id, of the entry's "
                            "resource");
      }
      if (!fhir::IsWritableType(url->type)) {
        return EntryFailure(i, Failure::kMethodNotAllowed, IssueType::kNotSupported,
                            "resource.resourceType",
                            "resources of this type are not written through the API");
      }
      planned.resource = std::move(*entry.resource);  // the entry's own copy, not read again
      if (auto allowed =
              CheckTypeAllowed(context, principal,
                               entry.method == EntryMethod::kPost ? policy::Operation::kCreate
                                                                  : policy::Operation::kUpdate,
                               url->type);
          !allowed) {
        return std::unexpected(InEntry(std::move(allowed.error()), i, url->type));
      }
      if (auto valid = CheckValid(planned.resource, true, entry.method == EntryMethod::kPut);
          !valid) {
        return std::unexpected(InEntry(std::move(valid.error()), i, url->type));
      }
      StripServerMeta(planned.resource);
      planned.write = true;
      if (entry.method == EntryMethod::kPost) {
        if (!entry.if_none_exist.empty()) {
          auto request = fhir::ParseSearch(url->type, entry.if_none_exist);
          if (!request) {
            return std::unexpected(InEntry(std::move(request.error()), i, url->type));
          }
          auto found = MatchIfNoneExist(context, principal, *request);
          if (!found) return std::unexpected(InEntry(std::move(found.error()), i, url->type));
          if (found->matches.size() > 1) {
            return EntryFailure(i, Failure::kPreconditionFailed, IssueType::kDuplicate,
                                "request.ifNoneExist",
                                "ifNoneExist matches several resources: make it selective");
          }
          if (found->matches.size() == 1) {
            if (auto recorded = RecordReturned(context, principal, url->type, found->matches,
                                               PatientsOf(*found, 0, found->matches.size()));
                !recorded) {
              return std::unexpected(recorded.error());
            }
            planned.write = false;
            planned.matched = true;
            planned.id = found->matches.front().id;
            planned.existing = std::move(found->matches.front());
          }
        }
        if (!planned.matched) {
          planned.id = NewResourceId();
          planned.resource["id"] = planned.id;
        }
      } else {
        planned.id = url->id;
        const auto* id = planned.resource.if_contains("id");
        if (id == nullptr || !id->is_string() || id->as_string() != url->id) {
          return EntryFailure(i, Failure::kInvalid, IssueType::kInvalid, "resource.id",
                              "the resource's id must be the id in request.url");
        }
      }
      if (entry.full_url.starts_with("urn:uuid:")) {
        assigned[entry.full_url] = planned.type + "/" + planned.id;
      }
    } else if (entry.method == EntryMethod::kDelete) {
      if (url->id.empty() || url->history || url->query) {
        return EntryFailure(i, Failure::kInvalid, IssueType::kValue, "request.url",
                            "a DELETE names Type/id");
      }
      if (!fhir::IsWritableType(url->type)) {
        return EntryFailure(i, Failure::kMethodNotAllowed, IssueType::kNotSupported, "request.url",
                            "resources of this type are not deleted through the API");
      }
      if (auto allowed =
              CheckTypeAllowed(context, principal, policy::Operation::kDelete, url->type);
          !allowed) {
        return std::unexpected(InEntry(std::move(allowed.error()), i, url->type));
      }
      planned.id = url->id;
      deleted_here.insert(planned.type + "/" + planned.id);
    }
  }

  // 2. References to new resources name their ids; every patient is known.
  std::map<std::string, std::string, std::less<>> local_patients;  // "Type/id" -> patient
  const auto rewrite = [&](std::string_view reference) -> std::optional<std::string> {
    auto found = assigned.find(reference);
    if (found == assigned.end()) return std::nullopt;
    return found->second;
  };
  for (std::size_t i : order) {
    Planned& planned = plan[i];
    if (!planned.write) continue;
    fhir::RewriteReferences(planned.resource, rewrite);
    // What the entry's own checks will find; a Binary's document is looked up below.
    auto reference = fhir::PatientReferenceOf(planned.resource);
    const std::string key = planned.type + "/" + planned.id;
    if (planned.type == "Patient") {
      local_patients[key] = planned.id;
    } else if (reference && reference->find('/') == std::string::npos &&
               !reference->starts_with("urn:")) {
      local_patients[key] = *reference;  // a patient's id, or "" for a resource of no patient
    }
  }
  for (std::size_t i : order) {  // Binaries of a new DocumentReference
    Planned& planned = plan[i];
    if (!planned.write || planned.type != "Binary") continue;
    auto reference = fhir::PatientReferenceOf(planned.resource);
    if (!reference) continue;
    if (auto found = local_patients.find(*reference); found != local_patients.end()) {
      local_patients[planned.type + "/" + planned.id] = found->second;
    }
  }
  std::map<std::string, std::optional<Target>, std::less<>> resolved;  // cache
  const Resolver from_store = StoreResolver(context, principal);
  const Resolver resolve = [&](std::string_view type,
                               std::string_view id) -> fhir::FhirResult<std::optional<Target>> {
    const std::string key = std::string(type) + "/" + std::string(id);
    if (deleted_here.contains(key)) return std::nullopt;
    if (auto local = local_patients.find(key); local != local_patients.end()) {
      return Target{local->second};
    }
    if (auto cached = resolved.find(key); cached != resolved.end()) return cached->second;
    auto target = from_store(type, id);
    if (!target) return target;
    resolved.emplace(key, *target);
    return target;
  };

  // 3. Each entry checked against the store; the writes and their authorizations.
  std::vector<PreparedWrite> writes;
  std::vector<AccessGroup> groups;
  std::vector<AccessGroup> delete_groups;
  std::vector<store::ResourceDelete> deletes;
  std::vector<std::string> new_patients;  // the Patients the bundle creates
  for (std::size_t i : order) {
    Planned& planned = plan[i];
    const fhir::IncomingEntry& entry = bundle.entries[i];
    if (planned.method == EntryMethod::kDelete) {
      auto row = context.sealed.Fetch(planned.type, planned.id);
      if (!row) {
        if (row.error().code() == ErrorCode::kNotFound ||
            row.error().code() == ErrorCode::kInvalidArgument) {
          return std::unexpected(InEntry(NotFound(planned.type).error(), i, planned.type));
        }
        return std::unexpected(InEntry(Failed(row.error()).error(), i, planned.type));
      }
      AddToGroups(delete_groups, policy::Operation::kDelete, planned.type, planned.id,
                  row->version.patient_id, i);
      planned.delete_version = row->version.version;
      planned.already_deleted = row->version.state == store::VersionState::kDeleted;
      planned.row = std::move(*row);
      if (!planned.already_deleted) {
        deletes.push_back({planned.type, planned.id, planned.delete_version, Timestamp()});
      }
      continue;
    }
    if (!planned.write) continue;
    std::int64_t expected = 0;
    if (planned.method == EntryMethod::kPut) {
      auto row = context.sealed.Fetch(planned.type, planned.id);
      if (!row && row.error().code() != ErrorCode::kNotFound &&
          row.error().code() != ErrorCode::kInvalidArgument) {
        return std::unexpected(InEntry(Failed(row.error()).error(), i, planned.type));
      }
      if (row) {
        expected = row->version.version;
        planned.row = std::move(*row);
      }
      if (!entry.if_match.empty()) {
        auto if_match = ParseIfMatch(entry.if_match);
        if (!if_match) {
          return EntryFailure(i, Failure::kInvalid, IssueType::kValue, "request.ifMatch",
                              "ifMatch must be W/\"<version>\"");
        }
        if (*if_match != expected) {
          return EntryFailure(i, Failure::kPreconditionFailed, IssueType::kConflict,
                              "request.ifMatch",
                              "ifMatch does not name the current version: read it again");
        }
      }
    }
    auto of_lab = CheckLabWrite(context, principal, planned.type, planned.resource,
                                planned.row ? &*planned.row : nullptr);
    if (!of_lab) return std::unexpected(InEntry(std::move(of_lab.error()), i, planned.type));
    auto patient = ResolveWrite(planned.resource, resolve);
    if (!patient) return std::unexpected(InEntry(std::move(patient.error()), i, planned.type));
    if (planned.row && planned.row->version.patient_id != *patient) {
      return EntryFailure(i, Failure::kBusinessRule, IssueType::kBusinessRule, "resource",
                          "a resource cannot move to another patient: create a new one for them");
    }
    planned.patient_id = *patient;
    std::vector<boost::json::object> binaries;
    if (planned.type == "DocumentReference") {
      auto split = SplitAttachments(planned.resource);
      if (!split) return std::unexpected(InEntry(std::move(split.error()), i, planned.type));
      binaries = std::move(*split);
    }
    const bool creates = !planned.row;
    if (auto held = CheckLabelsHeld(
            context, principal, creates ? policy::Operation::kCreate : policy::Operation::kUpdate,
            planned.resource, *patient);
        !held) {
      return std::unexpected(InEntry(std::move(held.error()), i, planned.type));
    }
    if (creates && planned.type == "Patient") new_patients.push_back(planned.id);
    const std::string taken_into_care =
        TakenIntoCare(context, principal, planned.resource, planned.type);
    AddToGroups(groups, creates ? policy::Operation::kCreate : policy::Operation::kUpdate,
                planned.type, planned.id, *patient, i,
                !taken_into_care.empty() && taken_into_care == *patient);
    planned.first_write = writes.size();
    writes.push_back(
        MakeWrite(planned.type, planned.id, expected, *patient, std::move(planned.resource),
                  creates || planned.row->version.state == store::VersionState::kDeleted));
    for (boost::json::object& binary : binaries) {
      const std::string binary_id(binary.at("id").as_string());
      AddToGroups(groups, policy::Operation::kCreate, "Binary", binary_id, *patient, i);
      writes.push_back(MakeWrite("Binary", binary_id, 0, *patient, std::move(binary)));
    }
    // Every lab-work entry of a lab technician names their lab (CheckLabWrite refused others),
    // and a document's Binaries go with it.
    if (*of_lab) {
      for (AccessGroup& group : groups) {
        if (group.resource_type == planned.type ||
            (planned.type == "DocumentReference" && group.resource_type == "Binary")) {
          group.own_lab_work = true;
        }
      }
    }
  }

  // 4. Authorized before anything is written; one audit entry per operation and type.
  for (const auto& [of, denial] :
       {std::pair{&delete_groups, Denial::kNotFound}, std::pair{&groups, Denial::kForbidden}}) {
    for (const AccessGroup& group : *of) {
      policy::AccessRequest request = group.Request();
      request.new_patients = new_patients;
      auto access = Authorize(context, principal, request, denial);
      if (!access) {
        return std::unexpected(
            InEntry(std::move(access.error()), group.first_entry, group.resource_type));
      }
    }
  }
  // What changes or goes must be what the caller may see; a released result is corrected.
  for (std::size_t i : order) {
    Planned& planned = plan[i];
    if (!planned.row || (planned.method != EntryMethod::kDelete && !planned.write)) continue;
    const bool deleting = planned.method == EntryMethod::kDelete;
    auto current = OpenForChange(
        context, principal, deleting ? policy::Operation::kDelete : policy::Operation::kUpdate,
        *planned.row);
    if (!current) return std::unexpected(InEntry(std::move(current.error()), i, planned.type));
    if (deleting) continue;
    if (auto marked = MarkCorrection(*current, writes[planned.first_write].resource); !marked) {
      return std::unexpected(InEntry(std::move(marked.error()), i, planned.type));
    }
  }

  // 5. All of it in one store transaction.
  const Timestamp now = context.clock.Now();
  for (store::ResourceDelete& removal : deletes) removal.recorded_at = now;
  if (!writes.empty() || !deletes.empty() || along) {
    if (auto written = WriteAll(context, writes, now, deletes, along); !written) {
      return std::unexpected(written.error());
    }
  }
  const std::vector<StoredResource> stored = StoredOf(writes, now);

  // 6. The answers, in the Bundle's order; GETs see what was written.
  std::vector<EntryResult> results(bundle.entries.size());
  for (std::size_t i : order) {
    Planned& planned = plan[i];
    switch (planned.method) {
      case EntryMethod::kDelete: {
        StoredResource marker = MakeStored(
            planned.type, planned.id,
            planned.already_deleted ? planned.delete_version : planned.delete_version + 1,
            planned.already_deleted ? planned.row->version.recorded_at : now, true);
        results[i] = Answered(204, std::move(marker));
        break;
      }
      case EntryMethod::kPost:
      case EntryMethod::kPut:
        if (planned.matched) {
          results[i] = Answered(200, std::move(*planned.existing));
        } else {
          results[i] = Answered(writes[planned.first_write].created ? 201 : 200,
                                stored[planned.first_write]);
        }
        break;
      case EntryMethod::kGet:
        results[i] = RunGet(records, principal, planned.url, i, FormatInstant(now));
        break;
    }
  }
  return results;
}

}  // namespace internal

fhir::FhirResult<std::vector<EntryResult>> ClinicalRecords::Process(
    const policy::Principal& principal, fhir::IncomingBundle bundle, const AlongWith& along) {
  const internal::Context context{sealed_, store_, log_, decider_, clock_, options_};
  if (bundle.entries.size() > fhir::kMaxBundleEntries) {
    return fhir::Refuse(fhir::Failure::kTooLarge, fhir::IssueType::kTooCostly, "Bundle.entry",
                        "a Bundle holds at most 1000 entries: send several");
  }
  if (bundle.kind == fhir::BundleKind::kTransaction) {
    return internal::RunTransaction(context, *this, principal, bundle, along);
  }
  std::vector<EntryResult> results;
  results.reserve(bundle.entries.size());
  const std::string now = internal::FormatInstant(clock_.Now());
  for (std::size_t i = 0; i < bundle.entries.size(); ++i) {
    results.push_back(internal::RunBatchEntry(*this, principal, bundle.entries[i], i, now));
  }
  return results;
}

}  // namespace medvault::records
