// Blind indexes: searchable tokens for encrypted fields. A token is
// HMAC-SHA256(field key, kind || 0 || normalized value) truncated to a few bits, the
// construction of CipherSweet; the field key comes from DerivedKeys (one per field name).
// Exact kinds (dates, phones, emails, NIR/INS, accession numbers, identifiers) get one token
// per value; names get one token per prefix of 3..12 characters, so that a search for
// "hel" or "Hélè" finds "Hélène" (a whole-name token for names of 1 or 2 letters), padded
// to the same number of tokens for every name.
//
// Security property:
// - Without the field key nobody can compute a token, so a copy of the database does not
//   let a thief test a guessed name, date or NIR.
// - A token reveals only that two rows of the same field may hold the same normalized value.
//   Tokens of different fields (and of different kinds) are unrelated, because each field
//   has its own key and the kind is hashed in: the same birth date under "patient.birthdate"
//   and under "practitioner.birthdate" gives unrelated tokens.
// - Tokens are truncated on purpose (TokenBits): every token is shared by a handful of rows
//   holding other values, so equal tokens never prove equal values, and frequencies blur.
//   The consequence for callers: a lookup returns *candidates*. The caller must decrypt each
//   one, normalize its stored value with crypto/normalize.h and keep only real matches
//   (equal values; for names, stored names that start with the normalized query).
// docs/blind-indexes.md gives the lengths, the expected coincidences and what still leaks.
//
// Field names follow DerivedKeys' rule (1..64 characters of [a-z0-9._-]); by convention
// "<resource>.<element>" for exact fields ("patient.birthdate") and
// "<resource>.<element>.prefix" for name prefixes ("patient.family.prefix").
//
// Failures: kInvalidArgument for a value the kind's normalization refuses (invalid UTF-8, a
// NIR with a wrong key, an impossible date...), for a name query of fewer than 3 letters or
// digits and for a bad field name; messages never quote the value. Thread-safe: immutable after
// Open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "crypto/derived_keys.h"
#include "crypto/normalize.h"

namespace medvault::crypto {

// Name prefixes indexed: lengths kMinNamePrefix..kMaxNamePrefix, in characters of the
// normalized name (Unicode code points; ASCII letters for French names).
inline constexpr std::size_t kMinNamePrefix = 3;
inline constexpr std::size_t kMaxNamePrefix = 12;
// Tokens stored per name, whatever its length: the prefix tokens, padded with unrelated
// tokens, so that the number of rows does not reveal how long the name is.
inline constexpr std::size_t kNameTokensPerValue = kMaxNamePrefix - kMinNamePrefix + 1;

// Length of a kind's tokens in bits, chosen so that at 1,000,000 patients each token is
// shared by a handful of rows with other values (docs/blind-indexes.md):
// coincidences per token ~= rows in the field / 2^bits.
constexpr unsigned TokenBits(ValueKind kind) {
  switch (kind) {
    case ValueKind::kName:
      return 21;  // 10M prefix rows per name field (10 per name): ~5
    case ValueKind::kDate:
      return 16;  // 1M rows: ~15 (plus ~27 true same-day births)
    case ValueKind::kPhone:
      return 18;  // 1M rows: ~4
    case ValueKind::kEmail:
      return 18;  // 1M rows: ~4
    case ValueKind::kNir:
      return 18;  // 1M rows: ~4
    case ValueKind::kAccession:
      return 20;  // ~10M results: ~10
    case ValueKind::kIdentifier:
      return 18;  // 1M rows: ~4
  }
  return 16;
}

// Bytes of a stored token: TokenBits rounded up; the unused low bits of the last byte are 0.
constexpr std::size_t TokenBytes(ValueKind kind) { return (TokenBits(kind) + 7) / 8; }

// One blind-index row's content: the field it belongs to and the token.
struct BlindIndexToken {
  std::string field;
  std::vector<std::uint8_t> bytes;

  friend bool operator==(const BlindIndexToken&, const BlindIndexToken&) = default;
};

// The blind index of one field. Move-only (it holds the field key in guarded memory).
class BlindIndex {
 public:
  // The index of `field` holding values of `kind`, with the field key from `keys`.
  static Result<BlindIndex> Open(const DerivedKeys& keys, std::string_view field, ValueKind kind);

  // The rows to store for `value`: one token for exact kinds. For names, one per prefix of
  // the normalized name of at most kMaxNamePrefix characters (a space between words counts)
  // that holds at least kMinNamePrefix letters or digits and does not end in a space (a query
  // never could); a name with fewer letters or digits than that ("Ly", "J P") gets one
  // token for the whole name instead (see ShortNameQueryToken). Name tokens are then padded
  // to exactly kNameTokensPerValue and sorted, so neither their number nor their order says
  // how long the name is.
  Result<std::vector<BlindIndexToken>> TokensFor(std::string_view value) const;

  // The token to look up for `value`. For names, `value` is a prefix with at least
  // kMinNamePrefix letters or digits once normalized (else kInvalidArgument); a longer one
  // is cut to kMaxNamePrefix characters, the caller's filter checks the rest.
  Result<BlindIndexToken> QueryToken(std::string_view value) const;

  // For names only: the token of a whole name with fewer than kMinNamePrefix letters or
  // digits ("Ly", "Wu"), which a prefix query refuses. It matches rows whose whole name is
  // that name. Longer names fail with kInvalidArgument: search them by prefix.
  Result<BlindIndexToken> ShortNameQueryToken(std::string_view name) const;

  const std::string& field() const { return field_; }
  ValueKind kind() const { return kind_; }

 private:
  BlindIndex(Secret key, std::string field, ValueKind kind)
      : key_(std::move(key)), field_(std::move(field)), kind_(kind) {}

  // The truncated token of an already normalized value, in the kind's hash domain.
  Result<BlindIndexToken> Token(std::string_view normalized) const;
  // The truncated HMAC of domain || 0 || data.
  Result<BlindIndexToken> Token(std::string_view domain, std::string_view data) const;

  Secret key_;
  std::string field_;
  ValueKind kind_;
};

}  // namespace medvault::crypto
