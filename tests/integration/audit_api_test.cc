// The audit API (/audit) and the readable AuditEvents through the real `medvault` binary: a
// patient sees who opened their record by name and role and checks an inclusion proof of one
// entry against the signed checkpoint (RFC 6962 recomputed here with OpenSSL's SHA-256, the
// note's Ed25519 signature checked with the published verifier key); an auditor exports the
// log as CSV and gets an account's breach scope (403 once the second factor is stale); a
// clinician gets 403 on all of /audit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Bytes = std::vector<std::uint8_t>;

constexpr std::string_view kFhirJson = "application/fhir+json";

std::string PatientJson(std::string_view family) {
  return R"({"resourceType":"Patient","name":[{"family":")" + std::string(family) +
         R"(","given":["Hélène"]}],"gender":"female","birthDate":"1980-04-12"})";
}

std::string ObservationJson(std::string_view patient_id) {
  return R"({"resourceType":"Observation","status":"final",)"
         R"("code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},)"
         R"("subject":{"reference":"Patient/)" +
         std::string(patient_id) +
         R"("},"effectiveDateTime":"2026-11-02T08:30:00Z","valueQuantity":{"value":5.4,)"
         R"("unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})";
}

Bytes Base64(std::string_view text) {
  Bytes out(text.size());
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return {};
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

Bytes NodeHash(const Bytes& left, const Bytes& right) {
  Bytes input{0x01};
  input.insert(input.end(), left.begin(), left.end());
  input.insert(input.end(), right.begin(), right.end());
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(input.data(), input.size(), out.data());
  return out;
}

// RFC 9162 §2.1.3.2: the root an audit path gives for a leaf, or empty when the path does not
// fit the index and size.
Bytes RootFromPath(std::uint64_t index, std::uint64_t size, Bytes leaf,
                   const std::vector<Bytes>& path) {
  if (index >= size) return {};
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Bytes r = std::move(leaf);
  for (const Bytes& p : path) {
    if (sn == 0) return {};
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 ? r : Bytes{};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Checks the C2SP signed note against the verifier key "<name>+<hash>+<base64(0x01||key)>":
// the last line is "— <name> <base64(key hash || signature)>" over the text before the blank
// line.
bool NoteSignedBy(const std::string& note, const std::string& verifier_key) {
  const auto split = note.find("\n\n");
  if (split == std::string::npos) return false;
  const std::string text = note.substr(0, split + 1);
  // The name has no '+'; the base64 after the key hash may.
  const auto first_plus = verifier_key.find('+');
  const auto plus =
      first_plus == std::string::npos ? first_plus : verifier_key.find('+', first_plus + 1);
  if (plus == std::string::npos) return false;
  std::string key_text = verifier_key.substr(plus + 1);
  while (!key_text.empty() && (key_text.back() == '\n' || key_text.back() == ' ')) {
    key_text.pop_back();
  }
  const Bytes key = Base64(key_text);
  if (key.size() != 33 || key[0] != 0x01) return false;
  const auto signature_line = Lines(note.substr(split + 2));
  for (const std::string& line : signature_line) {
    const auto last_space = line.rfind(' ');
    if (last_space == std::string::npos) continue;
    const Bytes blob = Base64(line.substr(last_space + 1));
    if (blob.size() != 4 + 64) continue;
    EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data() + 1, 32);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok =
        pkey != nullptr && ctx != nullptr &&
        EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
        EVP_DigestVerify(ctx, blob.data() + 4, 64,
                         reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    if (ok) return true;
  }
  return false;
}

class AuditApi : public ::testing::Test {
 protected:
  void Start() {
    ASSERT_EQ(RunMedvault({"init", "--dir", vault_.path().string()}).exit_code, 0);
    Env env;
    env.emplace("MEDVAULT_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "1");
    server_ = ServerProcess::Start(vault_.path(), WithRelaxedAuth(env));
    ASSERT_NE(server_, nullptr);
    clinician_ = EnrollWithTotp(port(), AddStaff(vault_.path(), "c.martin", "clinician"));
    ASSERT_FALSE(clinician_.session.csrf.empty()) << "the clinician could not enroll";
    ASSERT_TRUE(LinkClinician(port(), vault_.path(), clinician_.session, "c.martin", kPractitioner));
    admin_ = EnrollCareAdministrator(port(), vault_.path());
    ASSERT_FALSE(admin_.session.csrf.empty()) << "the administrator could not enroll";
  }

  static constexpr const char* kPractitioner = "pr-c-martin";

  unsigned short port() const { return server_->port(); }

  Http As(const WebSession& session, std::string_view method, std::string_view target,
          std::string_view body = "") {
    std::vector<std::string> headers{"Cookie: " + session.cookie};
    if (method != "GET") headers.push_back("X-CSRF-Token: " + session.csrf);
    return Send(port(), method, target, body, headers, kFhirJson);
  }

  std::string Create(std::string_view type, const std::string& body) {
    auto created = As(clinician_.session, "POST", "/fhir/" + std::string(type), body);
    EXPECT_EQ(created.status, 201u) << created.body;
    // A patient the clinician registers is then taken into their care by the administrator.
    if (type == "Patient") {
      EXPECT_NE(TakeIntoCare(port(), admin_.session, kPractitioner, Str(created.json, "id")), "");
    }
    return Str(created.json, "id");
  }

  // The proof of entry `index`, retried while no checkpoint covers it yet.
  Http ProofOf(const WebSession& session, const std::string& index) {
    Http answer;
    for (int attempt = 0; attempt < 40; ++attempt) {
      answer = As(session, "GET", "/audit/proof/" + index);
      if (answer.status != 404 || answer.body.find("checkpoint") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return answer;
  }

  TempDir vault_;
  std::unique_ptr<ServerProcess> server_;
  Enrolled clinician_;
  Enrolled admin_;  // keeps the care teams
};

// The agent of an AuditEvent: display, role code, identifier value.
struct Agent {
  std::string display;
  std::string role;
  std::string account;
};

Agent RequestorOf(const json::object& event) {
  Agent agent;
  for (const auto& value : event.at("agent").as_array()) {
    const auto& a = value.as_object();
    if (!a.at("requestor").as_bool()) continue;
    const auto& who = a.at("who").as_object();
    agent.display = Str(who, "display");
    agent.account = Str(who.at("identifier").as_object(), "value");
    agent.role =
        Str(a.at("role").as_array()[0].as_object().at("coding").as_array()[0].as_object(), "code");
  }
  return agent;
}

TEST_F(AuditApi, APatientSeesWhoOpenedTheirRecordAndChecksAProofOfOneEntry) {
  Start();
  const std::string mine = Create("Patient", PatientJson("Petit"));
  const std::string theirs = Create("Patient", PatientJson("Roux"));
  const std::string result = Create("Observation", ObservationJson(mine));
  ASSERT_EQ(As(clinician_.session, "GET", "/fhir/Observation/" + result).status, 200u);
  Enrolled patient = ActivatePatient(port(), vault_.path(), mine, "j.petit");
  ASSERT_FALSE(patient.session.csrf.empty());
  Enrolled other = ActivatePatient(port(), vault_.path(), theirs, "m.roux");
  ASSERT_FALSE(other.session.csrf.empty());

  auto events = As(patient.session, "GET", "/fhir/AuditEvent?_count=100");
  ASSERT_EQ(events.status, 200u) << events.body;
  std::string read_index;
  for (const auto& entry : events.json.at("entry").as_array()) {
    const auto& event = entry.as_object().at("resource").as_object();
    const std::string text = json::serialize(event);
    if (Str(event, "action") != "R" || text.find("Observation/" + result) == std::string::npos) {
      continue;
    }
    const Agent agent = RequestorOf(event);
    EXPECT_EQ(agent.display, "Camille Martin") << text;
    EXPECT_EQ(agent.role, "clinician") << text;
    EXPECT_FALSE(agent.account.empty());
    read_index = Str(event, "id");
  }
  ASSERT_FALSE(read_index.empty()) << "the clinician's read is not among the patient's events";

  auto proof = ProofOf(patient.session, read_index);
  ASSERT_EQ(proof.status, 200u) << proof.body;
  const std::uint64_t index = proof.json.at("leaf_index").to_number<std::uint64_t>();
  const std::uint64_t size = proof.json.at("tree_size").to_number<std::uint64_t>();
  EXPECT_EQ(std::to_string(index), read_index);
  ASSERT_GT(size, index);
  std::vector<Bytes> path;
  for (const auto& hash : proof.json.at("audit_path").as_array()) {
    path.push_back(Base64(std::string(hash.as_string())));
    ASSERT_EQ(path.back().size(), 32u);
  }
  const Bytes leaf = Base64(Str(proof.json, "leaf_hash"));
  ASSERT_EQ(leaf.size(), 32u);
  const std::string note = Str(proof.json, "checkpoint");
  const auto lines = Lines(note);
  ASSERT_GE(lines.size(), 3u) << note;
  EXPECT_EQ(lines[1], std::to_string(size)) << note;
  const Bytes root = Base64(lines[2]);
  ASSERT_EQ(root.size(), 32u);
  EXPECT_EQ(RootFromPath(index, size, leaf, path), root) << "the audit path does not give the "
                                                            "checkpoint's root";
  // A changed leaf does not verify.
  Bytes forged = leaf;
  forged[0] ^= 1;
  EXPECT_NE(RootFromPath(index, size, forged, path), root);
  // The note is signed by the key the server publishes next to its checkpoints.
  std::ifstream key_file(vault_.path() / "checkpoints" / "medvault.pub");
  std::string verifier_key((std::istreambuf_iterator<char>(key_file)),
                           std::istreambuf_iterator<char>());
  ASSERT_FALSE(verifier_key.empty());
  EXPECT_TRUE(NoteSignedBy(note, verifier_key)) << note;

  // Another patient's proof looks like no entry at all.
  auto refused = As(other.session, "GET", "/audit/proof/" + read_index);
  EXPECT_EQ(refused.status, 404u) << refused.body;
  auto missing = As(other.session, "GET", "/audit/proof/99999999");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(refused.body, missing.body);
  EXPECT_EQ(As(patient.session, "GET", "/audit/proof/not-a-number").status, 404u);
  EXPECT_EQ(Send(port(), "GET", "/audit/proof/" + read_index, "").status, 401u);

  // The proof requests are audited: the patient's own history now shows a read of that
  // AuditEvent by the patient.
  auto after = As(patient.session, "GET", "/fhir/AuditEvent");
  ASSERT_EQ(after.status, 200u);
  EXPECT_THAT(after.body, HasSubstr("AuditEvent/" + read_index));
}

TEST_F(AuditApi, AnAuditorExportsTheLogAndGetsTheBreachScope) {
  Start();
  const std::string first = Create("Patient", PatientJson("Petit"));
  const std::string second = Create("Patient", PatientJson("Roux"));
  const std::string a = Create("Observation", ObservationJson(first));
  const std::string b = Create("Observation", ObservationJson(first));
  const std::string c = Create("Observation", ObservationJson(second));
  for (const std::string& id : {a, b, c}) {
    ASSERT_EQ(As(clinician_.session, "GET", "/fhir/Observation/" + id).status, 200u);
  }
  auto me = As(clinician_.session, "GET", "/auth/me");
  ASSERT_EQ(me.status, 200u) << me.body;
  std::string clinician_id = Str(me.json, "account_id");
  if (clinician_id.empty()) clinician_id = Str(me.json, "id");
  ASSERT_FALSE(clinician_id.empty()) << me.body;

  // A clinician gets 403 everywhere under /audit.
  for (const std::string& target :
       {std::string("/audit/entries.csv"),
        "/audit/scope?account=" + clinician_id + "&from=2020-01-01&to=2100-01-01",
        std::string("/audit/proof/1")}) {
    auto refused = As(clinician_.session, "GET", target);
    EXPECT_EQ(refused.status, 403u) << target << ": " << refused.body;
    EXPECT_THAT(refused.body, Not(HasSubstr(first)));
  }

  // So does an API client, even one whose scopes read AuditEvents.
  const std::string token = ApiClientToken(port(), vault_.path(), "siem-1", "system/AuditEvent.rs");
  ASSERT_FALSE(token.empty());
  for (const std::string& target :
       {std::string("/audit/entries.csv"), std::string("/audit/proof/1"),
        "/audit/scope?account=" + clinician_id + "&from=2020-01-01&to=2100-01-01"}) {
    auto refused = Send(port(), "GET", target, "", {"Authorization: Bearer " + token});
    EXPECT_EQ(refused.status, 403u) << target << ": " << refused.body;
  }

  Enrolled auditor = EnrollWithTotp(port(), AddStaff(vault_.path(), "a.audit", "auditor"));
  ASSERT_FALSE(auditor.session.csrf.empty());

  auto csv = As(auditor.session, "GET",
                "/audit/entries.csv?account=" + clinician_id + "&action=read&from=2020-01-01");
  ASSERT_EQ(csv.status, 200u) << csv.body;
  EXPECT_THAT(csv.Header("Content-Type"), HasSubstr("text/csv"));
  const auto rows = Lines(csv.body);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0],
            "index,time,account,role,client,source,action,resource_type,resource_ids,"
            "patient_ids,purpose,reason,outcome");
  int reads = 0;
  int denied = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_THAT(rows[i], HasSubstr("," + clinician_id + ",clinician,portal,"));
    EXPECT_THAT(rows[i], HasSubstr(",read,"));
    if (rows[i].find("," + a + "," + first + ",care_relation,none,success") != std::string::npos)
      ++reads;
    if (rows[i].find("," + c + "," + second + ",care_relation,none,success") != std::string::npos)
      ++reads;
    // The clinician's refused proof request is in the log too.
    if (rows[i].find(",read,AuditEvent,1,,care_relation,none,denied") != std::string::npos)
      ++denied;
  }
  EXPECT_EQ(reads, 2) << csv.body;
  EXPECT_EQ(denied, 1) << csv.body;
  EXPECT_EQ(rows.size(), 5u) << csv.body;  // header, the three reads, the refused proof
  auto bad = As(auditor.session, "GET", "/audit/entries.csv?action=peek");
  EXPECT_EQ(bad.status, 400u);
  auto unknown = As(auditor.session, "GET", "/audit/entries.csv?nope=1");
  EXPECT_EQ(unknown.status, 400u);

  // The export itself is in the log, as an export by the auditor.
  auto exports = As(auditor.session, "GET", "/audit/entries.csv?action=export");
  ASSERT_EQ(exports.status, 200u);
  EXPECT_THAT(exports.body, HasSubstr(",auditor,portal,"));
  EXPECT_GE(Lines(exports.body).size(), 3u) << exports.body;

  // An auditor gets the proof of any entry.
  auto proof = ProofOf(auditor.session, "1");
  ASSERT_EQ(proof.status, 200u) << proof.body;
  EXPECT_EQ(proof.json.at("leaf_index").to_number<int>(), 1);
  EXPECT_GT(proof.json.at("tree_size").to_number<int>(), 1);

  const std::string scope_query =
      "/audit/scope?account=" + clinician_id + "&from=2020-01-01&to=2100-01-01";
  auto scope = As(auditor.session, "GET", scope_query);
  ASSERT_EQ(scope.status, 200u) << scope.body;
  const auto& patients = scope.json.at("patients").as_array();
  ASSERT_EQ(patients.size(), 2u) << scope.body;
  std::map<std::string, json::object> by_patient;
  for (const auto& p : patients) {
    by_patient[Str(p.as_object(), "patient_id")] = p.as_object().at("by_type").as_object();
  }
  ASSERT_TRUE(by_patient.contains(first) && by_patient.contains(second)) << scope.body;
  // Created and read: two Observations of the first patient, each twice.
  EXPECT_EQ(by_patient[first].at("Observation").to_number<int>(), 4) << scope.body;
  EXPECT_EQ(by_patient[second].at("Observation").to_number<int>(), 2) << scope.body;
  EXPECT_THAT(json::serialize(scope.json.at("categories")), HasSubstr("Observation"));
  EXPECT_GT(scope.json.at("entries").to_number<int>(), 0);

  auto scope_csv = As(auditor.session, "GET", scope_query + "&format=csv");
  ASSERT_EQ(scope_csv.status, 200u) << scope_csv.body;
  EXPECT_THAT(scope_csv.body, HasSubstr("patient_id,resource_type,count\n"));
  EXPECT_THAT(scope_csv.body, HasSubstr(first + ",Observation,4\n"));
  EXPECT_THAT(scope_csv.body, HasSubstr(second + ",Observation,2\n"));

  // The CLI computes the same scope (one computation, audit/scope.h).
  auto cli = RunMedvault({"audit", "scope", "--dir", vault_.path().string(), "--account",
                          clinician_id, "--from", "2020-01-01", "--to", "2100-01-01"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  // (The care teams are the administrator's writes, not in the clinician's scope.)
  EXPECT_THAT(cli.out, HasSubstr("patient " + first + ": Observation x4 Patient x1"));

  // The auditor's second factor grows stale: the scope (a list of patients) is refused, the
  // CSV export is not.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((vault_.path() / "data" / "medvault.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE sessions SET second_factor_at = second_factor_at - 3600000000 "
                         "WHERE account_id IN (SELECT id FROM accounts WHERE kind = 'auditor')",
                         nullptr, nullptr, &error),
            SQLITE_OK)
      << (error ? error : "");
  sqlite3_close(db);
  auto stale = As(auditor.session, "GET", scope_query);
  EXPECT_EQ(stale.status, 403u) << stale.body;
  EXPECT_THAT(stale.body, HasSubstr("step up"));
  EXPECT_THAT(stale.body, Not(HasSubstr(first)));
  EXPECT_EQ(As(auditor.session, "GET", "/audit/entries.csv?action=read").status, 200u);

  // The FHIR Bundle export pages to the end: following next links reaches every entry.
  std::string target = "/fhir/AuditEvent?_count=5";
  std::size_t seen = 0;
  for (int pages = 0; pages < 200 && !target.empty(); ++pages) {
    auto page = As(auditor.session, "GET", target);
    ASSERT_EQ(page.status, 200u) << page.body;
    if (const auto* entries = page.json.if_contains("entry")) seen += entries->as_array().size();
    target.clear();
    for (const auto& link : page.json.at("link").as_array()) {
      if (Str(link.as_object(), "relation") == "next") {
        const std::string url = Str(link.as_object(), "url");
        target = url.substr(url.find("/fhir/"));
      }
    }
  }
  EXPECT_TRUE(target.empty()) << "the paging did not end";
  auto all = As(auditor.session, "GET", "/audit/entries.csv");
  ASSERT_EQ(all.status, 200u);
  // Every entry up to the last page was listed (the CSV read after, so it may hold more).
  EXPECT_GE(Lines(all.body).size() - 1, seen);
  EXPECT_GT(seen, 10u);
}

}  // namespace
}  // namespace medvault::testing
