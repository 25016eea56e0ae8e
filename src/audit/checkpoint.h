// Signed checkpoints of the audit log: the C2SP tlog-checkpoint body (origin line, decimal tree
// size, base64 root hash, optional extension lines) inside a C2SP signed note, signed with the
// vault's Ed25519 audit key. Anyone with the public key (the C2SP verifier key the server
// writes next to its checkpoints, medvault.pub) can check a checkpoint outside the server, and
// `medvault audit verify` checks the stored log against it.
//
// Security property: OpenCheckpoint accepts a note only if it carries a valid Ed25519 signature
// by the given key over the exact note text, and the text is a well-formed checkpoint. Parsers
// are strict and bounded (they face files from outside). Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "core/error.h"
#include "crypto/signing.h"

namespace medvault::audit {

inline constexpr std::size_t kMaxNoteBytes = 16 * 1024;

struct Checkpoint {
  std::string origin;  // identifies the log, e.g. "medvault/audit/3fa9c1d2"
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // e.g. "time 2026-12-01T20:33:10Z"

  bool operator==(const Checkpoint&) const = default;
};

// The checkpoint body: every line ends with a newline.
Result<std::string> CheckpointText(const Checkpoint& checkpoint);
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// A key that signs notes: its name (no spaces, no '+') and Ed25519 public key.
struct NoteVerifier {
  std::string name;
  crypto::Ed25519PublicKey public_key{};
};

// First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian.
std::uint32_t NoteKeyHash(std::string_view name, const crypto::Ed25519PublicKey& public_key);

// C2SP verifier key text "<name>+<8 hex digits key hash>+<base64(0x01 || public key)>".
std::string VerifierKeyText(const NoteVerifier& verifier);
Result<NoteVerifier> ParseVerifierKey(std::string_view text);

// `text` (ending with a newline) followed by a blank line and one signature line
// "\u2014 <name> <base64(key hash || signature)>".
Result<std::string> SignNote(std::string_view text, std::string_view name,
                             const crypto::SigningKey& key);
// The note's text, if one of its signature lines is a valid signature by `verifier`; signature
// lines of other keys are ignored. kDataLoss otherwise.
Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);

// Signs `checkpoint` as a note whose key name is its origin.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, const crypto::SigningKey& key);
// Verifies the note and parses its checkpoint; the origin must equal the key's name.
Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& verifier);

// The origin (and key name) of a vault's log, derived from its public key so that two vaults
// never share one.
std::string OriginFor(const crypto::Ed25519PublicKey& public_key);

// The verifier of the notes `key` signs as a vault's log: named by its origin.
NoteVerifier VerifierOf(const crypto::SigningKey& key);

}  // namespace medvault::audit
