// docs/access-matrix.md is rendered from Decider::Decide, so the document cannot drift from the
// rules: this test renders it again and compares. MEDVAULT_REGENERATE=1 rewrites the file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "identity/smart_scopes.h"
#include "policy/decider.h"

namespace medvault::policy {
namespace {

using audit::Role;

const std::string kPath = std::string(MEDVAULT_SOURCE_DIR) + "/docs/access-matrix.md";

struct Column {
  std::string title;
  Principal principal;
  PatientScope scope;  // the clinician's: the patient "self" related, by the glass, or neither
  std::string patient = "self";  // whose resource the cells are about
};

// The endpoints outside /fhir, who may call them ("yes") and who may not: the rules of
// src/api/audit_api.cc, auth_api.cc, lab_api.cc and the security console, written out. Columns
// in the order of the FHIR table's; tests/integration/access_matrix_http_test.cc checks every
// cell against the real server.
struct EndpointRow {
  std::string_view endpoint;
  std::string_view cells[10];
};
constexpr EndpointRow kEndpoints[] = {
    {"`GET /fhir/metadata`",
     {"yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"}},
    {"`GET /audit/proof/{index}` (an entry about the patient)",
     {"yes", "-", "-", "-", "-", "-", "-", "yes", "-", "-"}},
    {"`GET /audit/entries.csv?patient=`", {"-", "-", "-", "-", "-", "-", "-", "yes", "-", "-"}},
    {"`GET /audit/scope?account=&from=&to=`", {"-", "-", "-", "-", "-", "-", "-", "yes", "-", "-"}},
    {"`GET /security/alerts`", {"-", "-", "-", "-", "-", "-", "yes", "yes", "-", "-"}},
    {"`GET /lab/quarantine`", {"-", "-", "-", "-", "-", "yes", "-", "-", "-", "-"}},
    {"`GET /lab/worklist`", {"-", "-", "-", "-", "-", "yes", "-", "-", "-", "-"}},
    {"`POST /auth/admin/accounts`", {"-", "-", "-", "-", "-", "-", "yes", "-", "-", "-"}},
    {"`GET /auth/admin/accounts`", {"-", "-", "-", "-", "-", "-", "yes", "-", "-", "-"}},
    {"`POST /auth/admin/accounts/disable`",
     {"-", "-", "-", "-", "-", "-", "yes", "-", "-", "-"}},
    {"`POST /auth/admin/accounts/link`", {"-", "-", "-", "-", "-", "-", "yes", "-", "-", "-"}},
    {"`POST /security/alerts/{id}/$acknowledge`",
     {"-", "-", "-", "-", "-", "-", "yes", "yes", "-", "-"}},
    {"`GET /audit/checkpoint`", {"-", "-", "-", "-", "-", "-", "yes", "yes", "-", "-"}},
    {"`GET /audit/verify`", {"-", "-", "-", "-", "-", "-", "-", "yes", "-", "-"}},
    {"`GET /security/keys`", {"-", "-", "-", "-", "-", "-", "yes", "-", "-", "-"}},
};

constexpr std::pair<Operation, char> kOperations[] = {
    {Operation::kRead, 'R'},   {Operation::kSearch, 'S'}, {Operation::kHistory, 'H'},
    {Operation::kCreate, 'C'}, {Operation::kUpdate, 'U'}, {Operation::kDelete, 'D'},
};

// One table: a row per FHIR type, a cell per column with the letters the rules allow.
void RenderTable(std::ostringstream& out, const std::vector<Column>& columns) {
  out << "| type |";
  for (const Column& column : columns) out << " " << column.title << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < columns.size(); ++i) out << "---|";
  out << "\n";
  for (std::string_view type : identity::kSmartResourceTypes) {
    const bool directory =
        type == "Organization" || type == "Practitioner" || type == "PractitionerRole";
    out << "| " << type << " |";
    for (const Column& column : columns) {
      std::string cell;
      for (const auto& [op, letter] : kOperations) {
        const std::vector<std::string> ids = {"res"};
        std::vector<std::string> patients;
        if (!directory) patients.push_back(column.patient);
        AccessRequest request{op, type,
                              op == Operation::kSearch ? std::span<const std::string>{}
                                                       : std::span<const std::string>(ids),
                              patients};
        if (Decider::Decide(column.principal, request, column.scope)) cell += letter;
      }
      out << " " << (cell.empty() ? "-" : cell) << " |";
    }
    out << "\n";
  }
}

// The lab technician beyond their lab's patients: another lab's patient, and no lab linked.
void RenderLabColumns(std::ostringstream& out) {
  Principal linked;
  linked.account_id = "acc";
  linked.role = Role::kLabTechnician;
  linked.organization = "lab";
  Principal alone = linked;
  alone.organization.clear();
  Principal client;
  client.account_id = "client";
  client.role = Role::kIntegration;
  client.organization = "lab";
  client.scopes = identity::ParseSmartScopes("system/*.cruds").value();
  PatientScope related;
  related.related.insert("self");
  const std::vector<Column> columns = {
      {"lab technician (another lab's patient)", linked, {}},
      {"lab technician (no lab linked)", alone, related},
      {"integration of an organization (its patient)", client, related},
      {"integration of an organization (another patient)", client, {}},
  };
  out << "\n## Lab technicians outside their lab; clients of one organization\n\n"
      << "The same rules for a patient with no report or result of the technician's lab (the\n"
      << "answer for one who does not exist; C is registering a Patient and the directory), and\n"
      << "for a lab technician whose account is linked to no lab (the directory only).\n"
      << "An integration client registered for an organization (`medvault client add\n"
      << "--organization`), granted `system/*.cruds`: its scopes, for the organization's\n"
      << "patients only (those it performed a report or result for, or whose\n"
      << "managingOrganization it is), every record of them its scopes allow, and no AuditEvent\n"
      << "(the log names other organizations' patients). It records DiagnosticReport,\n"
      << "Observation and DocumentReference only in its own name, as a lab technician does, and\n"
      << "never over another lab's. Its lab's report or result\n"
      << "may be the first for a patient registered elsewhere: a conditional create of the\n"
      << "Patient by identifier then matches that patient (answered without their content)\n"
      << "instead of registering them twice.\n\n";
  RenderTable(out, columns);
}

std::string Render() {
  auto principal = [](Role role) {
    Principal p;
    p.account_id = "acc";
    p.role = role;
    if (role == Role::kPatient) p.patient_id = "self";
    if (role == Role::kLabTechnician) p.organization = "lab";
    if (role == Role::kIntegration) {
      p.scopes = identity::ParseSmartScopes("system/*.cruds").value();
    }
    return p;
  };
  PatientScope related;
  related.related.insert("self");
  PatientScope glass;
  glass.break_glass.emplace("self", audit::BreakGlassReason::kEmergency);
  const std::vector<Column> columns = {
      {"patient (own record)", principal(Role::kPatient), {}},
      {"patient (another patient)", principal(Role::kPatient), {}, "other"},
      {"clinician (care relation)", principal(Role::kClinician), related},
      {"clinician (break-the-glass)", principal(Role::kClinician), glass},
      {"clinician (no relation)", principal(Role::kClinician), {}},
      {"lab technician", principal(Role::kLabTechnician), related},
      {"administrator", principal(Role::kAdministrator), {}},
      {"auditor", principal(Role::kAuditor), {}},
      {"integration (`system/*.cruds`, every organization)", principal(Role::kIntegration), {}},
      {"anyone else", principal(Role::kNone), {}},
  };
  std::ostringstream out;
  out << "# Access matrix\n\n"
      << "Who may do what to which FHIR resource type, as `policy::Decider::Decide`\n"
      << "(src/policy/decider.cc) rules, for a resource of one patient.\n\n"
      << "Generated by tests/policy/access_matrix_test.cc from the rules themselves; do not edit.\n"
      << "The test fails when the rules and this file disagree. To regenerate:\n"
      << "`MEDVAULT_REGENERATE=1 ctest --test-dir build/asan -R AccessMatrix`.\n\n"
      << "R read (and vread), S search, H history, C create, U update, D delete; - nothing.\n\n"
      << "- patient: only resources whose patient is the account's own patient (another\n"
      << "  patient's, or a search not confined to their own record, is refused); directory\n"
      << "  types (Organization, Practitioner, PractitionerRole) are shared.\n"
      << "- clinician: only patients with whom their Practitioner (`medvault user link`) has a\n"
      << "  care relation that holds (CareTeam membership, an open Encounter, an order they\n"
      << "  placed: src/policy/care_relations.h), or a break-the-glass grant in force; the\n"
      << "  same answer for a patient who does not exist. C under \"no relation\" is creating a\n"
      << "  Patient (registering relates no one) and the directory types. Nobody takes a patient\n"
      << "  into their own care: a CareTeam or Encounter naming their Practitioner is refused\n"
      << "  like any write for a stranger (administrators keep the care teams), and a\n"
      << "  break-the-glass grant never becomes a care relation. A clinician admits a new\n"
      << "  patient with a transaction that registers the Patient with their first Encounter.\n"
      << "  A search across patients returns only the patients they may open.\n"
      << "- lab technician: the column shows a patient of their lab (`medvault user link` to its\n"
      << "  Organization): one with a report or result their lab performed. Of such a patient\n"
      << "  they see DiagnosticReport and Observation only when their lab is the performer,\n"
      << "  DocumentReference (the lab's PDF reports) only when it is the custodian, and Binary\n"
      << "  only as the content of such a document; anything else reads as absent (checked\n"
      << "  after decrypting: src/policy/lab_scope.h). A write naming another lab is refused\n"
      << "  with the reason; their lab's report or result for a new patient relates the lab to\n"
      << "  them. Another lab's patient, and any patient for a lab technician with no lab\n"
      << "  linked: the table below.\n"
      << "- integration: the column shows a client granted `system/*.cruds` and registered for\n"
      << "  every organization (`medvault client add --all-organizations`); a client gets only\n"
      << "  what its SMART system/ scopes allow (instance history with read, type history with\n"
      << "  search), never more than this. A client registered for one organization: the table\n"
      << "  below.\n"
      << "- Every decision, allowed or refused, is in the audit log before any data is opened.\n\n";
  RenderTable(out, columns);
  RenderLabColumns(out);
  out << "\n## Other endpoints\n\n"
      << "yes: allowed; -: refused (401 without credentials, 403 or 404 otherwise). Written out\n"
      << "from the rules of each API (docs/api.md) in tests/policy/access_matrix_test.cc.\n\n";
  out << "| endpoint |";
  for (const Column& column : columns) out << " " << column.title << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < columns.size(); ++i) out << "---|";
  out << "\n";
  static_assert(std::size(kEndpoints[0].cells) == 10);
  for (const EndpointRow& row : kEndpoints) {
    out << "| " << row.endpoint << " |";
    for (std::size_t i = 0; i < columns.size(); ++i) out << " " << row.cells[i] << " |";
    out << "\n";
  }
  return out.str();
}

TEST(AccessMatrix, DocsAccessMatrixIsRenderedFromTheRules) {
  const std::string rendered = Render();
  if (const char* regenerate = std::getenv("MEDVAULT_REGENERATE");
      regenerate != nullptr && std::string(regenerate) == "1") {
    std::ofstream(kPath, std::ios::trunc) << rendered;
  }
  std::ifstream in(kPath);
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_EQ(committed.str(), rendered)
      << kPath << " does not match the rules of policy::Decider::Decide. If the rules changed on "
      << "purpose, regenerate it: MEDVAULT_REGENERATE=1 ctest --test-dir build/asan -R "
         "AccessMatrix";
}

}  // namespace
}  // namespace medvault::policy
