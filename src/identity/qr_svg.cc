#include "identity/qr_svg.h"

#include <fmt/format.h>
#include <qrencode.h>
#include <sodium.h>

#include <memory>

namespace medvault::identity {
namespace {

// Frees a QRcode after wiping its module matrix, which encodes the secret.
struct QrCodeWiper {
  void operator()(QRcode* code) const {
    if (code->data != nullptr) {
      sodium_memzero(code->data, static_cast<std::size_t>(code->width) * code->width);
    }
    QRcode_free(code);
  }
};

}  // namespace

Result<crypto::WipedText> QrCodeSvg(std::string_view text) {
  if (text.empty() || text.size() > kQrMaxTextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "QR code text must be 1 to 1024 bytes");
  }
  std::unique_ptr<QRcode, QrCodeWiper> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) return Fail(ErrorCode::kInternal, "libqrencode could not encode the text");

  const int modules = code->width;
  const int size = modules + 2 * kQrQuietZoneModules;
  crypto::WipedText svg;
  std::string& out = svg.get();
  // A run costs at most ~24 characters; reserving the worst case keeps every byte of the
  // image in the one buffer that WipedText wipes.
  out.reserve(256 + static_cast<std::size_t>(modules) * static_cast<std::size_t>(modules) * 12);
  fmt::format_to(std::back_inserter(out),
                 R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {0}" )"
                 R"(width="{1}" height="{1}" shape-rendering="crispEdges">)"
                 R"(<rect width="{0}" height="{0}" fill="#fff"/><path fill="#000" d=")",
                 size, size * 4);
  for (int y = 0; y < modules; ++y) {
    const unsigned char* row = code->data + static_cast<std::ptrdiff_t>(y) * modules;
    for (int x = 0; x < modules;) {
      // Bit 0 of each byte is the module's colour (1 = dark); the other bits are libqrencode's
      // bookkeeping.
      if ((row[x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < modules && (row[x + run] & 1) != 0) ++run;
      fmt::format_to(std::back_inserter(out), "M{} {}h{}v1h-{}z", x + kQrQuietZoneModules,
                     y + kQrQuietZoneModules, run, run);
      x += run;
    }
  }
  out.append(R"("/></svg>)");
  return svg;
}

}  // namespace medvault::identity
