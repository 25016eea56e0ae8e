// The lab feed of `medvault serve`: the use case (records/lab_ingest.h) and, when
// lab.mllp_listen is set, the MLLP listener that hands it each message in the name of the
// integration client lab.client_id.
#pragma once

#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/config.h"
#include "lab/mllp_listener.h"
#include "records/clinical_records.h"
#include "records/lab_ingest.h"

namespace medvault::cli {

class LabFeed {
 public:
  // Fails with kInvalidArgument (a configuration the server refuses) when the listener is
  // configured without a registered client, on a bad address, or plain off loopback.
  static Result<std::unique_ptr<LabFeed>> Start(const Config& config,
                                                records::ClinicalRecords& clinical,
                                                records::SealedStore& sealed, store::Store& store,
                                                audit::AuditLog& log, const Clock& clock);

  records::LabIngest& ingest() { return *ingest_; }
  // The client the feed writes as (a replay from the quarantine too); none while off.
  const std::optional<policy::Principal>& client() const { return client_; }

 private:
  std::unique_ptr<records::LabIngest> ingest_;
  std::optional<policy::Principal> client_;
  std::unique_ptr<lab::MllpListener> listener_;  // destroyed first: it calls ingest_
};

}  // namespace medvault::cli
