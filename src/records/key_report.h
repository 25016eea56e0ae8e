// What `medvault keys status` prints and GET /security/keys answers: where the master keys
// live, the versions loaded, and how many data keys each version wraps. Names and counts
// only, never key material. Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "records/sealed_store.h"

namespace medvault::records {

// Where the master-key versions live: "master key file PATH" or "PKCS#11 token LABEL, keys
// LABEL-<n>".
std::string KeyPlaceDescription(const KeysConfig& keys);

// Data keys still wrapped under another version than `active` (erased patients have none): a
// rotation is under way while this is not 0.
std::size_t PendingWraps(const KeyStatus& status, std::uint32_t active);

// The report's lines, without newlines. `status` has at least one loaded version.
std::vector<std::string> KeyStatusLines(const KeyStatus& status, std::string_view place);

}  // namespace medvault::records
