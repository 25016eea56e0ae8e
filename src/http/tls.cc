#include "http/tls.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace medvault::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only (GCM, ChaCha20-Poly1305).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* kTls13Suites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

std::string OpenSslReason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown error";
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

// Opens `path` for writing with O_EXCL and `mode`, as a stdio stream.
Result<FILE*> CreateExclusive(const std::filesystem::path& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Fail(errno == EEXIST ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable,
                fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  FILE* file = ::fdopen(fd, "w");
  if (file == nullptr) {
    ::close(fd);
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot open {}", path.string()));
  }
  return file;
}

Status CloseSynced(FILE* file, const std::filesystem::path& path, bool written) {
  bool ok = written && std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  ok = (std::fclose(file) == 0) && ok;
  if (!ok) return Fail(ErrorCode::kUnavailable, fmt::format("cannot write {}", path.string()));
  return {};
}

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeServerTlsContext(
    const std::filesystem::path& certificate, const std::filesystem::path& private_key) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    return Fail(ErrorCode::kInternal, "the TLS library refused medvault's cipher configuration");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.c_str()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot use TLS certificate {}: {}",
                                                         certificate.string(), OpenSslReason()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot use TLS private key {}: {}",
                                                         private_key.string(), OpenSslReason()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("TLS private key {} does not match certificate {}",
                            private_key.string(), certificate.string()));
  }
  return context;
}

Status CreateSelfSignedCertificate(const std::filesystem::path& certificate,
                                   const std::filesystem::path& private_key,
                                   const std::vector<std::string>& hostnames, int days) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return Fail(ErrorCode::kInternal, "cannot generate a TLS key");

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) {
    return Fail(ErrorCode::kInternal, "cannot draw a certificate serial number");
  }
  serial[0] &= 0x7f;  // positive
  BIGNUM* serial_number = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* serial_field = X509_get_serialNumber(cert.get());
  bool ok = serial_number != nullptr && BN_to_ASN1_INTEGER(serial_number, serial_field) != nullptr;
  BN_free(serial_number);

  ok = ok && X509_set_version(cert.get(), 2) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * days) != nullptr;
  ok = ok && X509_set_pubkey(cert.get(), key.get()) == 1;
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("medvault"), -1, -1,
                                        0) == 1;
  const std::string common_name = hostnames.empty() ? "localhost" : hostnames.front();
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                        -1, -1, 0) == 1;
  ok = ok && X509_set_issuer_name(cert.get(), name) == 1;

  std::string alt_names;
  for (const auto& host : hostnames) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (!alt_names.empty()) alt_names += ",";
    alt_names += (ec ? "DNS:" : "IP:") + host;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, alt_names},
                            {NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, "serverAuth"}}) {
    if (!ok || value.empty()) continue;
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    ok = extension != nullptr && X509_add_ext(cert.get(), extension, -1) == 1;
    X509_EXTENSION_free(extension);
  }
  ok = ok && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return Fail(ErrorCode::kInternal, "cannot build the self-signed certificate");

  auto key_file = CreateExclusive(private_key, 0600);
  if (!key_file) return std::unexpected(key_file.error());
  bool written =
      PEM_write_PrivateKey(*key_file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (auto closed = CloseSynced(*key_file, private_key, written); !closed) return closed;

  auto cert_file = CreateExclusive(certificate, 0644);
  if (!cert_file) return std::unexpected(cert_file.error());
  written = PEM_write_X509(*cert_file, cert.get()) == 1;
  return CloseSynced(*cert_file, certificate, written);
}

}  // namespace medvault::http
