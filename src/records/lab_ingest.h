// The lab feed's use case: one HL7 v2.5 ORU^R01 message from a lab's system, as raw bytes, in
// the name of that lab's integration client. The message is parsed and mapped
// (lab/oru.h), then written by ClinicalRecords::Process as one FHIR transaction (the patient
// matched by identifier or created, the reports and their observations, the lab and the
// ordering practitioner), authorized and audited like any write of that client.
//
// Duplicates. The (sending facility, control id) of every message taken is recorded in the
// store transaction that writes its results (both are stored or neither); the same pair
// again, even sent twice at once, is answered with the same AA and writes nothing. The report
// and its observations have ids derived from the lab and the order (lab/oru.h), so a message
// resent under a new control id writes the same resources again as new versions, never a
// second copy.
//
// Conditional creates. The lab, the ordering practitioner and the patient are matched by
// identifier (ifNoneExist); two messages naming the same new one at once would both create
// it. So a message that names one this process has not yet seen stored is written under a
// lock that such messages share; once all it names are known, messages run concurrently, and
// their references name the known resources directly (no search). A known resource that is
// gone makes the write fail: it is forgotten and the message written again with its searches.
// (Several processes on one PostgreSQL store do not share that lock.)
//
// Quarantine. A message that is not taken (unparseable, unsupported, unmappable, refused by
// validation or policy) is never dropped: it is kept in lab_quarantine, its text sealed with
// XChaCha20-Poly1305 under a key derived for the quarantine (DerivedKeys::SecretKey
// ("lab.quarantine")) and bound to its row and version, so the store never holds it in clear.
// The error kept beside it names the field and the problem, never a value. Lab technicians
// (linked to a lab: policy/lab_scope.h) list the quarantine, read a message (audited), fix it
// and replay it.
//
// Thread-safe; everything passed to the constructor must outlive it.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/secret.h"
#include "lab/ack.h"
#include "policy/decider.h"
#include "records/clinical_records.h"
#include "records/sealed_store.h"
#include "store/store.h"

namespace medvault::records {

// What the listener sends back.
struct LabAnswer {
  lab::AckCode code = lab::AckCode::kReject;
  std::string ack;            // the ACK message, CR-separated segments
  bool duplicate = false;     // the control id was taken before: nothing written
  std::string quarantine_id;  // set when the message was quarantined
};

// One row of the quarantine list: what a technician needs to pick a message, no health data.
struct QuarantineSummary {
  std::string id;
  Timestamp received_at;
  Timestamp updated_at;
  std::string state;  // "held" or "replayed"
  int condition = 0;  // HL7 table 0357
  std::string error;
  std::int64_t version = 0;
};

struct QuarantinePage {
  std::vector<QuarantineSummary> messages;
  std::string next_page;  // cursor of the next page, empty at the end
};

inline constexpr std::size_t kMaxQuarantinePage = 200;

class LabIngest {
 public:
  // Derives the quarantine key from the vault's derivation root.
  static Result<std::unique_ptr<LabIngest>> Create(ClinicalRecords& records, SealedStore& sealed,
                                                   store::Store& store, audit::AuditLog& log,
                                                   const Clock& clock);

  // The integration client's principal, from its registration (its scopes and organization):
  // kNotFound when the client is not registered.
  static Result<policy::Principal> IntegrationPrincipal(store::Store& store,
                                                        std::string_view client_id,
                                                        std::string_view source_address);

  // Takes one message. Always answers: a failure to store even the quarantine is an AE with
  // condition 207 (the lab system will send again).
  LabAnswer Ingest(const policy::Principal& client, std::string_view message);

  // Lab technicians only (kPermissionDenied otherwise, audited as a denial).
  Result<QuarantinePage> ListQuarantine(const policy::Principal& technician, std::string_view page,
                                        std::size_t count);
  // The message text, decrypted; every read is audited. kNotFound.
  Result<std::string> ReadQuarantined(const policy::Principal& technician, std::string_view id,
                                      QuarantineSummary* summary = nullptr);
  // Replaces the text (a fix), as the next version; kConflict when `expected_version` is not
  // current, kNotFound. Returns the new version.
  Result<std::int64_t> FixQuarantined(const policy::Principal& technician, std::string_view id,
                                      std::string_view text, std::int64_t expected_version);
  // Ingests the current text again as `client`: taken, the entry becomes "replayed"; refused,
  // its error is updated. The answer is the ACK the lab would have had.
  Result<LabAnswer> Replay(const policy::Principal& technician, std::string_view id,
                           const policy::Principal& client);

 private:
  LabIngest(ClinicalRecords& records, SealedStore& sealed, store::Store& store,
            audit::AuditLog& log, const Clock& clock, Secret key)
      : records_(records),
        sealed_(sealed),
        store_(store),
        log_(log),
        clock_(clock),
        key_(std::move(key)) {}

  // Parse, map and write; nullopt error on success.
  struct Attempt {
    std::optional<lab::Hl7Error> error;
    lab::MessageHeader header;
    bool duplicate = false;
  };
  Attempt Take(const policy::Principal& client, std::string_view message);
  LabAnswer Answer(const Attempt& attempt);
  Result<std::string> Quarantine(const policy::Principal& client, std::string_view message,
                                 const lab::Hl7Error& error);
  Result<std::vector<std::uint8_t>> Seal(std::string_view id, std::int64_t version,
                                         std::string_view text) const;
  Result<std::string> Open(const store::QuarantinedMessage& row) const;
  Status Record(const policy::Principal& principal, audit::Action action, std::string_view id,
                audit::Outcome outcome);
  Status RequireTechnician(const policy::Principal& principal, audit::Action action,
                           std::string_view id);

  // The transaction of one mapped message, under the creation lock unless every conditional
  // create it holds is known to match; `along` stored in the same store transaction.
  fhir::FhirResult<std::vector<EntryResult>> Write(const policy::Principal& client,
                                                   const fhir::IncomingBundle& bundle,
                                                   const AlongWith& along);

  ClinicalRecords& records_;
  SealedStore& sealed_;
  store::Store& store_;
  audit::AuditLog& log_;
  const Clock& clock_;
  Secret key_;
  std::mutex creating_;  // held while a message may create a matched resource
  std::mutex known_mutex_;
  // "Type?ifNoneExist" -> "Type/id" of the resource it matched, guarded by known_mutex_.
  std::map<std::string, std::string> known_;
};

}  // namespace medvault::records
