// A lab technician's own lab (issue 8): a lab technician acts for the lab (Organization) their
// account is linked to (`medvault user link`, store::AccountLink), and sees of the record only
// what that lab does:
//   DiagnosticReport, Observation  those whose performer names their lab;
//   DocumentReference              the lab's reports (PDF), whose custodian is their lab;
//   Binary                         the content of such a DocumentReference (its
//                                  securityContext; records/ follow it);
//   Patient and the rest           patients with at least one report or result of their lab:
//                                  the lab's relation to them (policy/care_relations.h, party
//                                  LabParty), decided by the Decider before anything opens.
// The performer and the custodian are inside the encrypted resource: the records layer checks
// them after decrypting, as it does release (policy/release.h) and sensitive categories
// (policy/sensitive.h), answers what the lab technician may not see as absent, and records it
// as withheld. A lab technician with no lab linked sees no patient's data. An integration client
// registered for an organization is held to that organization's patients (policy/decider.h)
// and records only its own lab work.
//
// Pure functions of the principal and the resource: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "policy/decider.h"

namespace medvault::policy {

// Whether the principal acts for one organization and sees only its patients and its work: a
// lab technician linked to their lab, an integration client registered for an organization.
bool ActsForOrganization(const Principal& principal);

// Whether the principal records only its lab's reports and results (MayWriteAsLab): lab
// technicians (one linked to no lab records none) and the clients of one organization. Lab
// technicians also see only their lab's (MayViewAsLab); a client of one organization sees
// every record of its organization's patients that its scopes allow.
bool RecordsOnlyItsLabWork(const Principal& principal);

// The care-relation party of a lab: "Organization/<id>". A Practitioner's party is its bare
// id, so a lab and a practitioner never share one.
std::string LabParty(std::string_view organization_id);
bool IsLabParty(std::string_view party);

// DiagnosticReport and Observation: the work a lab performs and signs as performer.
bool IsLabWork(std::string_view resource_type);

// The Organization ids that performed `resource` (DiagnosticReport, Observation: its
// performer[]) or keep it (DocumentReference: its custodian); none for other types.
std::vector<std::string> LabsOf(const boost::json::object& resource);

// The Organization id of a Patient's managingOrganization, or "".
std::string ManagingOrganizationOf(const boost::json::object& patient);

// Whether the principal may see `resource` as far as its lab goes: true for every principal but
// a lab technician, and for types no lab owns (Patient, directory, Binary: records/ check its
// document); for a lab technician, whether LabsOf names their lab.
bool MayViewAsLab(const Principal& principal, const boost::json::object& resource);

// Whether the principal may write `resource` as far as its lab goes: one that
// RecordsOnlyItsLabWork writes DiagnosticReport, Observation and DocumentReference only under its own
// organization's name (kPermissionDenied says so otherwise; also when no lab is linked).
// Others: allowed.
Status MayWriteAsLab(const Principal& principal, const boost::json::object& resource);

}  // namespace medvault::policy
