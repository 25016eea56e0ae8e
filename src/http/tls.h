// TLS for the server: a context that only speaks TLS 1.2 and 1.3 with forward-secret AEAD
// suites, no compression and no renegotiation; and the self-signed certificate that
// `medvault init` makes for a new vault.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace medvault::http {

// Builds the server context from PEM files. Errors name the file that could not be used.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::filesystem::path& certificate, const std::filesystem::path& private_key);

// Writes an ECDSA P-256 key (mode 0600) and a self-signed certificate valid for
// `hostnames` (DNS names or IP addresses) for `days`. Refuses to overwrite either file.
Status CreateSelfSignedCertificate(const std::filesystem::path& certificate,
                                   const std::filesystem::path& private_key,
                                   const std::vector<std::string>& hostnames, int days);

}  // namespace medvault::http
