// A QR code as an SVG image, for TOTP enrollment (the otpauth URI, identity/totp.h), drawn by
// libqrencode at error-correction level M in byte mode.
//
// The SVG holds only an <svg> root, one white <rect> (the background with a 4-module quiet
// zone) and one <path> whose subpaths are the runs of dark modules, one module per user unit
// (viewBox "0 0 W W", W = modules + 8): no script, no text, no external reference, so it can
// be inlined in a page under a strict Content-Security-Policy. The image encodes a secret,
// so it is returned in wiping memory and the module matrix is wiped before it is freed.
//
// Failures: kInvalidArgument for an empty text or one longer than kQrMaxTextBytes,
// kInternal if libqrencode fails. Thread-safe (libqrencode keeps no shared state).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/error.h"
#include "crypto/wiped_text.h"

namespace medvault::identity {

// Far more than an otpauth URI needs, and small enough for a code that phones read at once.
inline constexpr std::size_t kQrMaxTextBytes = 1024;
inline constexpr int kQrQuietZoneModules = 4;

Result<crypto::WipedText> QrCodeSvg(std::string_view text);

}  // namespace medvault::identity
