// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 6 digits, 30-second
// steps, the parameters every authenticator app shows by default.
//
// Security property: a code proves possession of the secret at about the current time. One
// step of clock skew is accepted each way, and a code is accepted at most once: VerifyTotp
// refuses any step at or below the last step the account used, so a code seen over a
// shoulder or replayed from a log opens nothing. The caller stores the returned step as the
// new last used step (and keeps the secret encrypted at rest). Codes of the three candidate
// steps are all computed and compared in constant time, so timing tells nothing about which
// step matched or how close a guess was.
//
// Failures: kInvalidArgument for a secret shorter than kTotpMinSecretBytes or a code that is
// not 6 digits (spaces are ignored: "123 456"), kPermissionDenied for a wrong or replayed
// code, kInternal if OpenSSL fails. Messages never contain the code or the secret.
// Thread-safe: stateless.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/secret.h"
#include "crypto/wiped_text.h"

namespace medvault::identity {

inline constexpr std::size_t kTotpSecretBytes = 20;     // 160 bits, RFC 4226's recommendation
inline constexpr std::size_t kTotpMinSecretBytes = 16;  // RFC 4226 section 4: at least 128 bits
inline constexpr int kTotpDigits = 6;
inline constexpr std::int64_t kTotpPeriodSeconds = 30;

// A fresh secret of kTotpSecretBytes random bytes in guarded memory.
Result<Secret> NewTotpSecret();

// The time step of `now`: floor(unix seconds / 30), also before 1970.
std::int64_t TotpStep(Timestamp now);

// The 6-digit code of `step` (zero-padded).
Result<std::string> TotpCode(const Secret& secret, std::int64_t step);

// Accepts the code of step-1, step or step+1 (step = TotpStep(now)) if that step is greater
// than `last_used_step`, and returns that step; the earliest such step when several match.
// Pass a value below any real step (e.g. INT64_MIN) for a secret never used.
Result<std::int64_t> VerifyTotp(const Secret& secret, std::string_view code, Timestamp now,
                                std::int64_t last_used_step);

// The secret in RFC 4648 base32 without padding, as authenticator apps take it when typed in
// by hand (and as the otpauth URI carries it).
crypto::WipedText TotpSecretBase32(const Secret& secret);

// The Key Uri Format URI (github.com/google/google-authenticator/wiki/Key-Uri-Format):
// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30,
// issuer and account percent-encoded (everything but RFC 3986 unreserved characters), so a
// colon, space or '&' in them cannot change the URI's structure.
crypto::WipedText OtpauthUri(std::string_view issuer, std::string_view account,
                             const Secret& secret);

}  // namespace medvault::identity
