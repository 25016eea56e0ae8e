#include "policy/care_relations.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "policy/lab_scope.h"

namespace medvault::policy {
namespace {

using boost::json::object;
using boost::json::value;

const object* ObjectAt(const object& parent, std::string_view key) {
  const value* found = parent.if_contains(key);
  return found != nullptr && found->is_object() ? &found->as_object() : nullptr;
}

std::string_view StringAt(const object& parent, std::string_view key) {
  const value* found = parent.if_contains(key);
  return found != nullptr && found->is_string() ? std::string_view(found->as_string())
                                                : std::string_view();
}

// "Practitioner/<id>" in parent.key.reference: the id; "" for anything else.
std::string_view PractitionerAt(const object& parent, std::string_view key) {
  const object* reference = ObjectAt(parent, key);
  if (reference == nullptr) return {};
  constexpr std::string_view kPrefix = "Practitioner/";
  const std::string_view text = StringAt(*reference, "reference");
  if (!text.starts_with(kPrefix) || text.size() == kPrefix.size()) return {};
  const std::string_view id = text.substr(kPrefix.size());
  return id.find('/') == std::string_view::npos ? id : std::string_view();
}

// When a FHIR date or dateTime is over: the end of a date's day (month, year), or the
// instant of a dateTime (offsets moved to UTC). nullopt when it does not read.
std::optional<Timestamp> EndOf(std::string_view text) {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, consumed = 0;
  const std::string copy(text);
  using std::chrono::days;
  using std::chrono::sys_days;
  const auto date = [&] {
    return std::chrono::year_month_day(std::chrono::year(year),
                                       std::chrono::month(static_cast<unsigned>(month)),
                                       std::chrono::day(static_cast<unsigned>(day)));
  };
  if (text.size() == 4 && std::sscanf(copy.c_str(), "%4d", &year) == 1) {
    return sys_days(std::chrono::year_month_day(std::chrono::year(year + 1),
                                                std::chrono::January, std::chrono::day(1)));
  }
  if (text.size() == 7 && std::sscanf(copy.c_str(), "%4d-%2d", &year, &month) == 2) {
    if (!date().ok()) return std::nullopt;
    return sys_days(date().year() / date().month() / std::chrono::last) + days(1);
  }
  if (text.size() == 10 && std::sscanf(copy.c_str(), "%4d-%2d-%2d", &year, &month, &day) == 3) {
    if (!date().ok()) return std::nullopt;
    return sys_days(date()) + days(1);
  }
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      !date().ok()) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  std::chrono::minutes offset{0};
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2) {
      return std::nullopt;
    }
    offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    if (rest[0] == '-') offset = -offset;
  } else if (rest != "Z") {
    return std::nullopt;
  }
  return sys_days(date()) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) - offset;
}

// The end of period.end at parent.key, if it has one that reads.
std::optional<Timestamp> PeriodEnd(const object& parent, std::string_view key) {
  const object* period = ObjectAt(parent, key);
  if (period == nullptr) return std::nullopt;
  const std::string_view end = StringAt(*period, "end");
  if (end.empty()) return std::nullopt;
  return EndOf(end);
}

std::optional<Timestamp> Earliest(std::optional<Timestamp> a, std::optional<Timestamp> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

Timestamp Plus(std::optional<Timestamp> end, std::chrono::seconds grace) {
  if (!end) return kNoEnd;
  if (*end > kNoEnd - grace) return kNoEnd;
  return *end + grace;
}

template <typename Range, typename Check>
bool AnyOf(const Range& range, Check check) {
  return std::ranges::find_if(range, check) != std::ranges::end(range);
}

// practitioner id -> expiry, for one source.
using Expiries = std::map<std::string, Timestamp, std::less<>>;

void Keep(Expiries& out, std::string_view practitioner, Timestamp expires_at) {
  if (practitioner.empty()) return;
  auto [at, inserted] = out.try_emplace(std::string(practitioner), expires_at);
  if (!inserted) at->second = std::max(at->second, expires_at);
}

void FromCareTeam(const object& team, Timestamp written_at, const RelationTerms& terms,
                  Expiries& out) {
  const std::string_view status = StringAt(team, "status");
  if (status == "proposed" || status == "entered-in-error") return;
  std::optional<Timestamp> team_end = PeriodEnd(team, "period");
  if (!status.empty() && status != "active") team_end = Earliest(team_end, written_at);
  const value* participants = team.if_contains("participant");
  if (participants == nullptr || !participants->is_array()) return;
  for (const value& participant : participants->as_array()) {
    if (!participant.is_object()) continue;
    const object& fields = participant.as_object();
    const auto end = Earliest(team_end, PeriodEnd(fields, "period"));
    Keep(out, PractitionerAt(fields, "member"), Plus(end, terms.after_end));
  }
}

void FromEncounter(const object& encounter, Timestamp written_at, const RelationTerms& terms,
                   Expiries& out) {
  static constexpr std::string_view kOpen[] = {"planned", "arrived", "triaged", "in-progress",
                                               "onleave"};
  const std::string_view status = StringAt(encounter, "status");
  const bool open = AnyOf(kOpen, [&](std::string_view s) { return s == status; });
  if (!open && status != "finished") return;
  std::optional<Timestamp> end;
  if (!open) {
    end = PeriodEnd(encounter, "period");
    if (!end) end = written_at;
  }
  const value* participants = encounter.if_contains("participant");
  if (participants == nullptr || !participants->is_array()) return;
  for (const value& participant : participants->as_array()) {
    if (!participant.is_object()) continue;
    const object& fields = participant.as_object();
    const auto ends = Earliest(end, PeriodEnd(fields, "period"));
    Keep(out, PractitionerAt(fields, "individual"), Plus(ends, terms.after_encounter));
  }
}

void FromMedicationRequest(const object& order, Timestamp written_at, const RelationTerms& terms,
                           Expiries& out) {
  static constexpr std::string_view kRunning[] = {"active", "on-hold", "draft"};
  const std::string_view status = StringAt(order, "status");
  const bool running = AnyOf(kRunning, [&](std::string_view s) { return s == status; });
  if (!running && status != "completed" && status != "stopped") return;
  std::optional<Timestamp> end;
  if (const object* dispense = ObjectAt(order, "dispenseRequest")) {
    end = PeriodEnd(*dispense, "validityPeriod");
  }
  if (!running && !end) {
    const std::string_view authored = StringAt(order, "authoredOn");
    end = authored.empty() ? std::optional<Timestamp>(written_at) : EndOf(authored);
    if (!end) end = written_at;
  }
  Keep(out, PractitionerAt(order, "requester"), Plus(end, terms.after_end));
}

// A report or result relates the labs that performed it (policy/lab_scope.h) to its patient for
// as long as it stands; cancelled or entered in error, it relates no one.
void FromLabWork(const object& work, Expiries& out) {
  const std::string_view status = StringAt(work, "status");
  if (status == "cancelled" || status == "entered-in-error") return;
  for (const std::string& lab : LabsOf(work)) Keep(out, LabParty(lab), kNoEnd);
}

// A patient relates the organization that manages their record (a hospital, a lab) while the
// record is active.
void FromPatient(const object& patient, Expiries& out) {
  if (const value* active = patient.if_contains("active"); active != nullptr &&
                                                            active->is_bool() &&
                                                            !active->as_bool()) {
    return;
  }
  const std::string organization = ManagingOrganizationOf(patient);
  if (!organization.empty()) Keep(out, LabParty(organization), kNoEnd);
}

Expiries ExpiriesOf(const object& resource, std::string_view resource_type, Timestamp written_at,
                    const RelationTerms& terms) {
  Expiries expiries;
  if (IsLabWork(resource_type)) FromLabWork(resource, expiries);
  if (resource_type == "Patient") FromPatient(resource, expiries);
  if (resource_type == "CareTeam") FromCareTeam(resource, written_at, terms, expiries);
  if (resource_type == "Encounter") FromEncounter(resource, written_at, terms, expiries);
  if (resource_type == "MedicationRequest") {
    FromMedicationRequest(resource, written_at, terms, expiries);
  }
  std::erase_if(expiries, [&](const auto& entry) { return entry.second <= written_at; });
  return expiries;
}

}  // namespace

bool IsCareRelationSource(std::string_view resource_type) {
  return resource_type == "CareTeam" || resource_type == "Encounter" ||
         resource_type == "MedicationRequest" || resource_type == "Patient" ||
         IsLabWork(resource_type);
}

std::vector<store::CareRelation> CareRelationsOf(const object& resource,
                                                 std::string_view resource_type,
                                                 std::string_view id, std::string_view patient_id,
                                                 Timestamp written_at, const RelationTerms& terms) {
  std::vector<store::CareRelation> relations;
  if (patient_id.empty()) return relations;
  for (const auto& [practitioner, expires_at] :
       ExpiriesOf(resource, resource_type, written_at, terms)) {
    relations.push_back({.practitioner_id = practitioner,
                         .patient_id = std::string(patient_id),
                         .source_type = std::string(resource_type),
                         .source_id = std::string(id),
                         .expires_at = expires_at});
  }
  return relations;
}

std::vector<std::string> RelatedPractitioners(const object& resource,
                                              std::string_view resource_type,
                                              Timestamp written_at, const RelationTerms& terms) {
  std::vector<std::string> practitioners;
  for (const auto& entry : ExpiriesOf(resource, resource_type, written_at, terms)) {
    if (!IsLabParty(entry.first)) practitioners.push_back(entry.first);
  }
  return practitioners;
}

Result<PatientScope> StoreCareRelations::ScopeOf(const Principal& principal, Timestamp now) {
  PatientScope scope;
  if (ActsForOrganization(principal)) return OrganizationScopeOf(principal, now);
  if (principal.role != audit::Role::kClinician) return scope;
  Status read = store_.Transact(
      [&](store::Transaction& transaction) -> Status {
        scope = {};
        if (!principal.practitioner_id.empty()) {
          auto relations = transaction.ListCareRelations(principal.practitioner_id, now);
          if (!relations) return std::unexpected(relations.error());
          for (store::CareRelation& relation : *relations) {
            scope.related.insert(std::move(relation.patient_id));
          }
        }
        auto grants = transaction.ListActiveBreakGlass(principal.account_id, now);
        if (!grants) return std::unexpected(grants.error());
        for (store::BreakGlassGrant& grant : *grants) {
          if (!scope.related.contains(grant.patient_id)) {
            scope.break_glass.emplace(std::move(grant.patient_id),
                                      static_cast<audit::BreakGlassReason>(grant.reason));
          }
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!read) return std::unexpected(read.error());
  return scope;
}

Result<PatientScope> StoreCareRelations::OrganizationScopeOf(const Principal& principal,
                                                             Timestamp now) {
  PatientScope scope;
  if (principal.organization.empty()) return scope;
  // One indexed lookup per patient asked about, each answer kept for the scope's life (one
  // request): a lab has hundreds of thousands of patients, a request names a few.
  struct Answers {
    std::mutex mutex;
    std::map<std::string, bool, std::less<>> known;
  };
  auto answers = std::make_shared<Answers>();
  scope.lookup = [&store = store_, party = LabParty(principal.organization), now,
                  answers](std::string_view patient_id) {
    {
      std::lock_guard lock(answers->mutex);
      if (auto known = answers->known.find(patient_id); known != answers->known.end()) {
        return known->second;
      }
    }
    bool related = false;
    Status read = store.Transact(
        [&](store::Transaction& transaction) -> Status {
          auto has = transaction.HasCareRelation(party, patient_id, now);
          if (!has) return std::unexpected(has.error());
          related = *has;
          return {};
        },
        store::Access::kReadOnly);
    if (!read) return false;  // not known: refused, and asked again next time
    std::lock_guard lock(answers->mutex);
    answers->known.emplace(std::string(patient_id), related);
    return related;
  };
  return scope;
}

}  // namespace medvault::policy
