// The FHIR R4 REST API under /fhir (docs/api.md): read, vread, create, update, delete,
// history, search (GET and POST _search), batch and transaction Bundles, Binary, metadata,
// and the operations $release (DiagnosticReport) and $break-glass (Patient).
// Requests authenticate with the portal's session cookie (plus X-CSRF-Token on writes) or an
// OAuth bearer token of an API client; every answer is application/fhir+json (a Binary's
// own bytes excepted), every failure an OperationOutcome with its status. Store and audit
// work runs on a bounded worker pool, never on a network thread; a full queue answers 503.
// Nothing of a request's query, body or ids is logged (the router logs route templates).
//
// Thread-safe once added; the services must outlive the router, whose destruction waits for
// the requests still on the pool.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "http/router.h"
#include "identity/api_clients.h"
#include "identity/sessions.h"
#include "records/clinical_records.h"
#include "records/emergency_access.h"
#include "store/store.h"

namespace medvault::api {

struct FhirServices {
  records::ClinicalRecords& records;
  identity::Sessions& sessions;
  identity::ApiClients& clients;
  store::Store& store;  // the API clients' records (their Organization)
  // Break-the-glass ($break-glass on Patient); nullptr: not served (404).
  records::EmergencyAccess* emergency_access = nullptr;
};

struct FhirApiOptions {
  // The absolute base URL ("https://127.0.0.1:8443/fhir") for fullUrl and links; read per
  // request, so the server may fill it in once it knows its port.
  std::shared_ptr<const std::string> base_url;
  std::size_t worker_threads = 4;  // the pool; at most 256 requests per thread wait in line
};

medvault::Status AddFhirRoutes(http::Router& router, FhirServices services, FhirApiOptions options);

}  // namespace medvault::api
