// Break-the-glass, the use cases (policy/break_glass.h has the rules): a clinician outside a
// patient's care relations opens the record in an emergency, and auditors review each such
// access.
//
// Open makes a grant limited to one patient for Options::duration. In one store transaction
// it writes the grant (its free text sealed under a key derived from the vault's root, bound
// to the grant and its patient) and a "break_the_glass" alert (ids, the reason category and
// the expiry; never the text), after the access is durably in the audit log
// (Action::kBreakTheGlass, Purpose::kBreakTheGlass with the reason category). The alert then
// goes to Options::on_alert (the log and the webhook). From then on the Decider lets the
// clinician read and search that patient's compartment, and marks each access with the
// purpose break-the-glass and the reason: the patient's access history shows it.
//
// ToReview lists the grants not reviewed yet, oldest first, their text opened (and that
// reading audited); Review records the auditor's note (sealed), after which the grant leaves
// the queue.
//
// Failures are fhir::Outcome values: kInvalid (a bad reason, text or note), kForbidden (the
// role), kUnauthenticated (no fresh second factor: the step-up challenge), kNotFound (an
// unknown patient, identifier or grant: the same answer as a patient one may not see),
// kConflict (already reviewed), kUnavailable (the store or the audit log).
//
// Thread-safe; everything passed to the constructor must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "fhir/outcome.h"
#include "policy/decider.h"
#include "records/sealed_store.h"

namespace medvault::records {

// A grant as the clinician is told of it.
struct EmergencyGrant {
  std::string id;
  std::string patient_id;
  audit::BreakGlassReason reason = audit::BreakGlassReason::kNone;
  Timestamp granted_at;
  Timestamp expires_at;
};

// A grant in the auditors' queue, its text opened.
struct GrantToReview {
  EmergencyGrant grant;
  std::string account_id;
  std::string text;
};

struct ReviewPage {
  std::vector<GrantToReview> grants;
  std::string next;  // the `after` of the next page, empty at the end
};

class EmergencyAccess {
 public:
  struct Options {
    std::chrono::seconds duration = std::chrono::hours(4);
    // Called with each alert once it is stored (the log and the webhook); may be empty.
    std::function<void(const store::Alert&)> on_alert;
  };
  // Whether the session's second factor is within its step-up window (identity/sessions.h).
  enum class SecondFactor { kFresh, kStale };

  EmergencyAccess(SealedStore& sealed, store::Store& store, audit::AuditLog& log,
                  policy::Decider& decider, const Clock& clock, Options options);

  // A grant for the Patient `patient_id`.
  fhir::FhirResult<EmergencyGrant> Open(const policy::Principal& principal,
                                        SecondFactor second_factor, std::string_view patient_id,
                                        std::string_view reason, std::string_view text);
  // The same for the one Patient that carries the identifier (system, value), for a clinician
  // who cannot search the patient (search leaves out the patients outside their care).
  // kBusinessRule when several patients carry it.
  fhir::FhirResult<EmergencyGrant> OpenByIdentifier(const policy::Principal& principal,
                                                    SecondFactor second_factor,
                                                    std::string_view system,
                                                    std::string_view value,
                                                    std::string_view reason,
                                                    std::string_view text);

  // Auditors: at most `count` grants not reviewed yet, after the grant `after` ("" from the
  // first), oldest first.
  fhir::FhirResult<ReviewPage> ToReview(const policy::Principal& principal, std::string_view after,
                                        std::size_t count);
  // Auditors: the review of grant `id`, with the reviewer's note.
  fhir::FhirStatus Review(const policy::Principal& principal, std::string_view id,
                          std::string_view note);

 private:
  // The checks both Open calls share, before any patient is looked at.
  fhir::FhirResult<audit::BreakGlassReason> Admit(const policy::Principal& principal,
                                                  SecondFactor second_factor,
                                                  std::string_view patient_id,
                                                  std::string_view reason, std::string_view text);
  fhir::FhirResult<EmergencyGrant> Grant(const policy::Principal& principal,
                                         std::string_view patient_id,
                                         audit::BreakGlassReason reason, std::string_view text);
  // Appends `entry` and waits until it is durable (kUnavailable otherwise).
  fhir::FhirStatus Record(audit::Entry entry);
  Result<std::vector<std::uint8_t>> SealText(std::string_view grant_id,
                                             std::string_view patient_id, std::uint64_t part,
                                             std::string_view text) const;
  Result<std::string> OpenText(std::string_view grant_id, std::string_view patient_id,
                               std::uint64_t part, std::span<const std::uint8_t> sealed) const;

  SealedStore& sealed_;
  store::Store& store_;
  audit::AuditLog& log_;
  policy::Decider& decider_;
  const Clock& clock_;
  Options options_;
};

}  // namespace medvault::records
