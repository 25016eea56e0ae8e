// Care relations: which practitioners look after which patients, read off the record itself.
// A clinician may open a patient's data only while a relation (or a break-the-glass grant)
// holds (policy/decider.h). The sources, and when each relation ends:
//   CareTeam           every participant.member that is a Practitioner, while the team is
//                      active; it ends at the earliest period.end of the team or of the
//                      participant, or when the team stops being active (suspended,
//                      inactive: at that write), plus RelationTerms::after_end.
//   Encounter          every participant.individual that is a Practitioner. An open
//                      encounter (planned, arrived, triaged, in-progress, onleave) holds
//                      until its participant's period.end, if any; a finished one ended at
//                      its period.end (or at the write that finished it), plus
//                      RelationTerms::after_encounter.
//   MedicationRequest  its requester when a Practitioner. An active, on-hold or draft order
//                      holds until dispenseRequest.validityPeriod.end, if any; a completed or
//                      stopped one ended then, or at authoredOn, plus RelationTerms::after_end.
//   DiagnosticReport,  a lab, not a practitioner: every performer that is an Organization
//   Observation        (policy/lab_scope.h), its party LabParty(id) ("Organization/<id>"),
//                      for as long as the report or result stands (cancelled or entered in
//                      error: none). A lab technician's scope is their lab's patients.
//   Patient            its managingOrganization, party LabParty(id), while the record is
//                      active: the patients of an organization's integration clients are
//                      those it manages or performed work for.
// Cancelled and entered-in-error sources give no relation; registering a patient gives none.
// ServiceRequest (an order or a referral) is not a served type yet: when it is, its requester
// and performer relate the same way as a MedicationRequest's requester.
//
// A relation row holds ids and an expiry only (store/policy_records.h), never a code or a
// note. The records layer writes a source's relations in the store transaction that writes
// the source (records/sealed_store.h).
//
// Pure functions and a store-backed lookup; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "policy/decider.h"
#include "store/store.h"

namespace medvault::policy {

// How long a relation outlasts the end of its source.
struct RelationTerms {
  std::chrono::seconds after_end = std::chrono::days(30);      // CareTeam, orders
  std::chrono::seconds after_encounter = std::chrono::days(3);  // a closed Encounter
};

// The expiry of a relation whose source has not ended.
inline constexpr Timestamp kNoEnd = Timestamp::max();

// Whether resources of the type may give care relations (and so must have theirs written).
bool IsCareRelationSource(std::string_view resource_type);

// The relations `resource` (of `patient_id`, stored as `resource_type`/`id`) gives, as of its
// write at `written_at`: one per practitioner, the latest expiry when a practitioner is named
// twice; none that would have expired by `written_at`.
std::vector<store::CareRelation> CareRelationsOf(const boost::json::object& resource,
                                                 std::string_view resource_type,
                                                 std::string_view id, std::string_view patient_id,
                                                 Timestamp written_at, const RelationTerms& terms);

// The practitioner ids `resource` relates to its patient (what CareRelationsOf would give, at
// `written_at`), for a write that takes a patient into its author's care.
std::vector<std::string> RelatedPractitioners(const boost::json::object& resource,
                                              std::string_view resource_type,
                                              Timestamp written_at, const RelationTerms& terms);

// The store's relations and break-the-glass grants: a clinician's scope is the patients of
// their Practitioner's relations that hold, and of their account's grants in force (one
// snapshot per call); the scope of an account acting for an organization (policy/lab_scope.h:
// ActsForOrganization), the patients of its organization's relations, looked up one patient
// at a time. A clinician without a Practitioner link, a lab technician without a lab, relate
// to nobody.
class StoreCareRelations final : public CareRelations {
 public:
  explicit StoreCareRelations(store::Store& store) : store_(store) {}
  Result<PatientScope> ScopeOf(const Principal& principal, Timestamp now) override;

 private:
  Result<PatientScope> OrganizationScopeOf(const Principal& principal, Timestamp now);

  store::Store& store_;
};

}  // namespace medvault::policy
