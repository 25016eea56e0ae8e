// Files sealed for one recipient's X25519 public key (bulk export, issue 8). Only the holder of
// the matching secret key opens them; the server that wrote one cannot. Each file has its own
// random file key, sealed with crypto_box_seal (ephemeral X25519 + XSalsa20-Poly1305), and
// its contents are a libsodium secretstream (XChaCha20-Poly1305) of records, so a record
// moved, dropped, altered or a file cut short fails to open.
//
// Layout: "MVSEALED" | version 1 | crypto_box_seal(file key) (80 bytes) | secretstream header
// (24 bytes) | frames: 4-byte big-endian length, ciphertext. The last record carries the
// stream's final tag; reading stops there.
//
// Nothing here writes plaintext anywhere: the writer encrypts each record before it touches
// the stream it is given. Not thread-safe (one writer or reader per file).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"

namespace medvault::crypto {

inline constexpr std::size_t kRecipientKeyBytes = 32;
// The largest record a sealed file holds (one NDJSON line of a resource, a Binary included).
inline constexpr std::size_t kMaxSealedRecordBytes = 64 * 1024 * 1024;

struct RecipientKeyPair {
  std::array<std::uint8_t, kRecipientKeyBytes> public_key{};
  Secret secret_key;  // 32 bytes, guarded memory
};
Result<RecipientKeyPair> NewRecipientKeyPair();
// The public half of a recipient's secret key (kInvalidArgument unless 32 bytes).
Result<std::array<std::uint8_t, kRecipientKeyBytes>> RecipientPublicKeyOf(const Secret& secret_key);

// A public key as people pass it around: base64url without padding (43 characters).
std::string RecipientKeyText(std::span<const std::uint8_t> public_key);
// kInvalidArgument unless it is 32 bytes of base64url (padding and standard alphabet taken).
Result<std::array<std::uint8_t, kRecipientKeyBytes>> ParseRecipientKey(std::string_view text);

class SealedFileWriter {
 public:
  // Starts a file for `recipient` on `out` (kInvalidArgument for a bad key).
  static Result<std::unique_ptr<SealedFileWriter>> Start(
      std::span<const std::uint8_t> recipient, std::ostream& out);
  ~SealedFileWriter();
  SealedFileWriter(const SealedFileWriter&) = delete;
  SealedFileWriter& operator=(const SealedFileWriter&) = delete;

  // One record; kUnavailable when the stream refuses the bytes, kInvalidArgument beyond
  // kMaxSealedRecordBytes.
  Status Add(std::span<const std::uint8_t> record);
  Status Add(std::string_view record);
  // The final record: without it the file does not open.
  Status Finish(std::string_view record);

 private:
  struct State;
  SealedFileWriter(std::unique_ptr<State> state, std::ostream& out);
  Status Push(std::span<const std::uint8_t> record, bool final);

  std::unique_ptr<State> state_;
  std::ostream& out_;
  bool finished_ = false;
};

class SealedFileReader {
 public:
  // kPermissionDenied when the file was not sealed for this key pair; kDataLoss when it is no
  // sealed file or its header was altered.
  static Result<std::unique_ptr<SealedFileReader>> Open(std::span<const std::uint8_t> public_key,
                                                       const Secret& secret_key, std::istream& in);
  ~SealedFileReader();
  SealedFileReader(const SealedFileReader&) = delete;
  SealedFileReader& operator=(const SealedFileReader&) = delete;

  // The next record, in guarded memory; nullopt after the final one. kDataLoss when a record
  // was altered, moved or dropped, or the file ends before its final record.
  Result<std::optional<Secret>> Next();

 private:
  struct State;
  SealedFileReader(std::unique_ptr<State> state, std::istream& in);

  std::unique_ptr<State> state_;
  std::istream& in_;
  bool done_ = false;
};

}  // namespace medvault::crypto
