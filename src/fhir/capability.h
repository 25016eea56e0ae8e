// GET /fhir/metadata: the CapabilityStatement, generated from the same tables the server runs
// on (ServedResourceTypes, SearchParams, the interactions of each type), so it cannot
// drift from what the server does.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace medvault::fhir {

// fhirVersion 4.0.1, format json, kind instance, software medvault `version`, implementation
// url `base_url`; rest.mode server with the SMART security service, each served type with its
// interactions (read, vread, update, delete, history-instance, history-type, create,
// search-type; AuditEvent read and search-type only; Binary read and create), conditional
// create, versioning "versioned-update", readHistory, searchParam entries from SearchParams()
// and the result parameters, searchInclude; system interactions batch and transaction.
boost::json::object CapabilityStatement(std::string_view base_url, std::string_view version,
                                        std::string_view release_date);

}  // namespace medvault::fhir
