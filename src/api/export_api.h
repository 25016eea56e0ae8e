// Bulk export as an approved job (records/bulk_export.h), over HTTP (docs/api.md, "Bulk
// export"). Kick-off and polling follow the FHIR Bulk Data pattern; the file is sealed for the
// recipient key named at kick-off, and the job runs only once a second person approved it.
//
//   GET  /fhir/$export, GET /fhir/Patient/$export   kick-off by an integration client (Bearer),
//        `Prefer: respond-async`, query `recipient=KEY` (base64url X25519, required) and
//        `_type=A,B` (optional): 202, Content-Location the status URL.
//   GET  /fhir/$export-status/{id}   the requester polls: 202 (X-Progress, Retry-After) while
//        waiting for approval or running, 200 with the manifest when ready, 403 refused,
//        410 expired, 500 failed.
//   GET  /fhir/$export-file/{id}     the requester downloads the sealed file
//        (application/octet-stream), audited; 403 before approval, 410 after expiry.
//   GET  /admin/exports               administrators: the jobs (no health data).
//   POST /admin/exports/{id}/approve, /admin/exports/{id}/refuse   an administrator other
//        than the requester, with a second factor from the last 5 minutes and X-CSRF-Token.
//
// Thread-safe once added; the services must outlive the router.
#pragma once

#include <memory>
#include <string>

#include "http/router.h"
#include "identity/api_clients.h"
#include "identity/sessions.h"
#include "records/bulk_export.h"
#include "store/store.h"

namespace medvault::api {

struct ExportServices {
  records::BulkExports& exports;
  identity::Sessions& sessions;
  identity::ApiClients& clients;
  store::Store& store;
};

struct ExportOptions {
  // The public base of the FHIR API ("https://host:port/fhir"), set before serving.
  std::shared_ptr<const std::string> base_url;
};

medvault::Status AddExportRoutes(http::Router& router, ExportServices services,
                                 ExportOptions options);

}  // namespace medvault::api
