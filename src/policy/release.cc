#include "policy/release.h"

#include <algorithm>
#include <iterator>

namespace medvault::policy {

bool IsReleaseGoverned(std::string_view resource_type) {
  return resource_type == "DiagnosticReport" || resource_type == "Observation";
}

bool PatientMayView(const boost::json::object& resource) {
  const auto* type = resource.if_contains("resourceType");
  if (type == nullptr || !type->is_string() || !IsReleaseGoverned(type->as_string())) {
    return true;
  }
  static constexpr std::string_view kReleased[] = {"final", "amended", "corrected", "appended"};
  const auto* status = resource.if_contains("status");
  if (status == nullptr || !status->is_string()) return false;
  const std::string_view value = status->as_string();
  return std::ranges::find(kReleased, value) != std::end(kReleased);
}

bool MayViewReleased(const Principal& principal, const boost::json::object& resource) {
  return principal.role != audit::Role::kPatient || PatientMayView(resource);
}

Status MayRelease(const Principal& principal) {
  if (principal.role == audit::Role::kLabTechnician) return {};
  return Fail(ErrorCode::kPermissionDenied,
              "policy: only a lab technician or biologist may validate and release a report");
}

}  // namespace medvault::policy
