// Break-the-glass (issue 8, case 3 of THREATS.md): a clinician outside a patient's care
// relations opens the record in an emergency. The rules of who may, and what a request must
// say; the records layer (records/emergency_access.h) makes the grant, and the Decider honours
// it (PatientScope::break_glass) until it expires.
//
//   who        clinicians only, with a second factor given within the session's step-up
//              window (the records layer is told whether it is fresh).
//   what       one patient, for PolicyConfig::break_glass_hours.
//   why        a reason category (audit::BreakGlassReason, by its name: "emergency",
//              "continuity_of_care", "patient_request", "other") and a free text of 1 to
//              kMaxBreakGlassTextBytes bytes, kept sealed for the auditors' review and never
//              written to the log, an alert or an error.
//   review     auditors only: the queue of grants not reviewed yet, and the review itself.
// A grant does not open the sensitive categories (policy/sensitive.h): those still need the
// clinician's own permission.
//
// Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "audit/entry.h"
#include "core/error.h"
#include "policy/decider.h"

namespace medvault::policy {

inline constexpr std::size_t kMaxBreakGlassTextBytes = 2000;

// The category named `code` (audit::ReasonName's names, kNone excepted); nullopt otherwise.
std::optional<audit::BreakGlassReason> BreakGlassReasonOf(std::string_view code);

// kInvalidArgument saying what is wrong (never quoting it) unless `text` has something besides
// white space and is at most kMaxBreakGlassTextBytes long. Used for the reason and for the
// reviewer's note.
Status CheckBreakGlassText(std::string_view text);

// Whether the principal may break the glass: clinicians only (kPermissionDenied says why).
Status MayBreakGlass(const Principal& principal);

// Whether the principal may read and review the break-the-glass queue: auditors only.
Status MayReviewBreakGlass(const Principal& principal);

}  // namespace medvault::policy
