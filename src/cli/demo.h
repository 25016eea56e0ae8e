// Demo content for `medvault demo`: made-up patients with French identities (names with
// accents, valid NIR check keys, phones, emails), written through the sealed store like any
// other record. Nothing here is real data.
#pragma once

#include <cstddef>

#include "cli/vault.h"
#include "core/error.h"

namespace medvault::cli {

// Writes the named demo patients and `generated` more, made up from a fixed seed (so two
// demo vaults hold the same people), in batches of one transaction each.
Result<std::size_t> AddDemoPatients(OpenedVault& vault, std::size_t generated);

}  // namespace medvault::cli
