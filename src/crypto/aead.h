// Authenticated encryption for everything medvault stores: XChaCha20-Poly1305 (IETF) with a
// fresh random 24-byte nonce per message. A sealed message is nonce || ciphertext || tag.
//
// Security property: a sealed message opens only under the same key and the same associated
// data; any change to the nonce, ciphertext, tag or associated data makes Open fail with
// kDataLoss. Random 192-bit nonces make collisions negligible, so one key may seal any number
// of messages. Thread-safe: every function is stateless.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/wiped_text.h"

namespace medvault::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadNonceBytes = 24;  // XChaCha20
inline constexpr std::size_t kAeadTagBytes = 16;
// Bytes a sealed message has beyond its plaintext.
inline constexpr std::size_t kAeadOverheadBytes = kAeadNonceBytes + kAeadTagBytes;

// What a ciphertext is bound to. Encode() is injective (every field is length-prefixed or
// fixed-width), so two rows that differ in any field never share associated data, and a
// ciphertext copied to another row fails to open.
struct AssociatedData {
  std::string resource_type;  // e.g. "Patient", "Observation"
  std::string resource_id;
  std::uint64_t version = 0;  // resource version
  std::string patient_id;
  std::uint32_t key_id = 0;  // version of the key that sealed it

  std::vector<std::uint8_t> Encode() const;
};

// Seals `plaintext` under `key` (kAeadKeyBytes) with a random nonce.
// Fails with kInvalidArgument on a key of the wrong size.
Result<std::vector<std::uint8_t>> AeadSeal(const Secret& key,
                                           std::span<const std::uint8_t> plaintext,
                                           std::span<const std::uint8_t> associated_data);

// Opens what AeadSeal produced. Fails with kDataLoss when the message is too short, altered,
// or sealed under another key or other associated data; nothing of the plaintext is returned
// then.
Result<std::vector<std::uint8_t>> AeadOpen(const Secret& key, std::span<const std::uint8_t> sealed,
                                           std::span<const std::uint8_t> associated_data);

// As AeadOpen, but the plaintext is itself key material and lands in guarded memory.
Result<Secret> AeadOpenSecret(const Secret& key, std::span<const std::uint8_t> sealed,
                              std::span<const std::uint8_t> associated_data);
// As AeadOpen, but the plaintext (a decrypted record) is written straight into text that is
// wiped when it goes, with no intermediate copy to wipe.
Result<WipedText> AeadOpenText(const Secret& key, std::span<const std::uint8_t> sealed,
                               std::span<const std::uint8_t> associated_data);

// The primitives under AeadSeal/AeadOpen with the nonce given explicitly. They exist so that
// published test vectors (Wycheproof) run through the same code path as production; never
// call them with a nonce you chose yourself outside tests. Output and input are
// ciphertext || tag. Wrong key or nonce sizes fail with kInvalidArgument, a failed
// authentication with kDataLoss.
namespace raw {

inline constexpr std::size_t kChaChaIetfNonceBytes = 12;

Result<std::vector<std::uint8_t>> XChaChaSeal(const Secret& key,
                                              std::span<const std::uint8_t> nonce,
                                              std::span<const std::uint8_t> plaintext,
                                              std::span<const std::uint8_t> associated_data);
Result<std::vector<std::uint8_t>> XChaChaOpen(const Secret& key,
                                              std::span<const std::uint8_t> nonce,
                                              std::span<const std::uint8_t> ciphertext_and_tag,
                                              std::span<const std::uint8_t> associated_data);

// ChaCha20-Poly1305 (IETF, RFC 8439) with a 12-byte nonce. Not used to store data: random
// 96-bit nonces are too short for that.
Result<std::vector<std::uint8_t>> ChaChaIetfSeal(const Secret& key,
                                                 std::span<const std::uint8_t> nonce,
                                                 std::span<const std::uint8_t> plaintext,
                                                 std::span<const std::uint8_t> associated_data);
Result<std::vector<std::uint8_t>> ChaChaIetfOpen(const Secret& key,
                                                 std::span<const std::uint8_t> nonce,
                                                 std::span<const std::uint8_t> ciphertext_and_tag,
                                                 std::span<const std::uint8_t> associated_data);

}  // namespace raw
}  // namespace medvault::crypto
