// Resource ids: random UUIDs (version 4, RFC 9562), so an id says nothing about the patient,
// the order of creation or how many records exist, and cannot be guessed. Thread-safe.
#pragma once

#include <string>

namespace medvault {

// A new random id, 36 characters "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", valid as a FHIR id.
std::string NewResourceId();

}  // namespace medvault
