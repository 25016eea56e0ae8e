// Release: what a patient may see of a lab result before a biologist validates it. Results
// arrive preliminary; only a validated (final) report, and later its corrections, reach the
// patient. DiagnosticReport and Observation are governed by their own status; every other
// type is unaffected. A resource a patient may not see yet is answered like one that does
// not exist (records/), so nothing tells them a result is on its way.
//
// Pure functions of the resource: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "core/error.h"
#include "policy/decider.h"

namespace medvault::policy {

// Whether the type is one whose visibility to the patient depends on its status.
bool IsReleaseGoverned(std::string_view resource_type);

// DiagnosticReport and Observation: status final, amended, corrected or appended (released,
// possibly changed since). Other types: true.
bool PatientMayView(const boost::json::object& resource);

// True for every principal but a patient; for a patient, PatientMayView.
bool MayViewReleased(const Principal& principal, const boost::json::object& resource);

// Who may validate and release a report: lab technicians (biologists hold that role). The
// one place this rule lives; kPermissionDenied says why otherwise.
Status MayRelease(const Principal& principal);

}  // namespace medvault::policy
