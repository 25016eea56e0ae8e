#include "policy/lab_scope.h"

#include <fmt/format.h>

#include <algorithm>

namespace medvault::policy {
namespace {

namespace json = boost::json;

constexpr std::string_view kOrganization = "Organization/";

std::string_view TypeOf(const json::object& resource) {
  const json::value* type = resource.if_contains("resourceType");
  return type != nullptr && type->is_string() ? std::string_view(type->as_string())
                                              : std::string_view();
}

// The Organization id of a Reference object, or "".
std::string_view OrganizationOf(const json::value& reference) {
  const json::object* fields = reference.if_object();
  const json::value* text = fields != nullptr ? fields->if_contains("reference") : nullptr;
  if (text == nullptr || !text->is_string()) return {};
  const std::string_view value = text->as_string();
  if (!value.starts_with(kOrganization) || value.size() == kOrganization.size()) return {};
  const std::string_view id = value.substr(kOrganization.size());
  return id.find('/') == std::string_view::npos ? id : std::string_view();
}

}  // namespace

std::string LabParty(std::string_view organization_id) {
  return fmt::format("{}{}", kOrganization, organization_id);
}

std::string ManagingOrganizationOf(const json::object& patient) {
  const json::value* managing = patient.if_contains("managingOrganization");
  return managing != nullptr ? std::string(OrganizationOf(*managing)) : std::string();
}

bool ActsForOrganization(const Principal& principal) {
  return (principal.role == audit::Role::kLabTechnician ||
          principal.role == audit::Role::kIntegration) &&
         !principal.organization.empty();
}

bool IsLabParty(std::string_view party) { return party.starts_with(kOrganization); }

bool IsLabWork(std::string_view resource_type) {
  return resource_type == "DiagnosticReport" || resource_type == "Observation";
}

std::vector<std::string> LabsOf(const json::object& resource) {
  std::vector<std::string> labs;
  const std::string_view type = TypeOf(resource);
  if (IsLabWork(type)) {
    const json::value* performers = resource.if_contains("performer");
    if (performers == nullptr || !performers->is_array()) return labs;
    for (const json::value& performer : performers->as_array()) {
      const std::string_view id = OrganizationOf(performer);
      if (!id.empty() && std::ranges::find(labs, id) == labs.end()) labs.emplace_back(id);
    }
  } else if (type == "DocumentReference") {
    if (const json::value* custodian = resource.if_contains("custodian")) {
      const std::string_view id = OrganizationOf(*custodian);
      if (!id.empty()) labs.emplace_back(id);
    }
  }
  return labs;
}

bool RecordsOnlyItsLabWork(const Principal& principal) {
  return principal.role == audit::Role::kLabTechnician || ActsForOrganization(principal);
}

bool MayViewAsLab(const Principal& principal, const json::object& resource) {
  if (principal.role != audit::Role::kLabTechnician) return true;
  const std::string_view type = TypeOf(resource);
  if (!IsLabWork(type) && type != "DocumentReference") return true;
  if (principal.organization.empty()) return false;
  const std::vector<std::string> labs = LabsOf(resource);
  return std::ranges::find(labs, principal.organization) != labs.end();
}

Status MayWriteAsLab(const Principal& principal, const json::object& resource) {
  if (!RecordsOnlyItsLabWork(principal)) return {};
  const std::string_view type = TypeOf(resource);
  if (!IsLabWork(type) && type != "DocumentReference") return {};
  if (principal.organization.empty()) {
    return Fail(ErrorCode::kPermissionDenied,
                "policy: this lab technician account is linked to no lab: an administrator "
                "links it to its lab's Organization first");
  }
  const std::vector<std::string> labs = LabsOf(resource);
  if (std::ranges::find(labs, principal.organization) != labs.end()) return {};
  return Fail(ErrorCode::kPermissionDenied,
              fmt::format("policy: {} records only its own organization's work: the {} "
                          "must name Organization/{} as its {}",
                          principal.role == audit::Role::kLabTechnician ? "a lab technician"
                                                                        : "this client",
                          type, principal.organization,
                          type == "DocumentReference" ? "custodian" : "performer"));
}

}  // namespace medvault::policy
