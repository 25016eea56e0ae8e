// Drives the real `medvault` binary: temporary vaults, the process with its output, and
// an HTTPS client whose TLS versions and suites the test chooses.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace medvault::testing {

// A directory removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

using Env = std::map<std::string, std::string>;

// Runs `medvault ARGS...` to completion (killed after `timeout`).
CommandResult RunMedvault(const std::vector<std::string>& args, const Env& env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// `medvault serve` on a free loopback port, its stdout and stderr collected as it runs.
class ServerProcess {
 public:
  // Starts the server on `vault` and waits for its "listening" log line.
  static std::unique_ptr<ServerProcess> Start(const std::filesystem::path& vault,
                                              const Env& env = {});
  ~ServerProcess();

  unsigned short port() const { return port_; }
  void Signal(int signal) const;
  // The exit code, or nullopt if the process is still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Output() const;

 private:
  ServerProcess() = default;
  void Drain(int fd);

  int pid_ = -1;
  unsigned short port_ = 0;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::string output_;
  std::vector<std::thread> readers_;
};

// TLS client options: the versions it offers and, optionally, the only suites it accepts.
struct TlsOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string tls12_ciphers;          // empty: OpenSSL's defaults
  bool lower_security_level = false;  // lets the client offer TLS 1.0/1.1 so the server refuses
  std::filesystem::path trust;        // certificate to verify the server against
};

// One blocking connection to the server, plain or TLS.
class Client {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  // Connects and, when `tls` is set, completes the handshake. Fails with the reason.
  static std::unique_ptr<Client> Connect(unsigned short port, const std::optional<TlsOptions>& tls,
                                         std::string* error = nullptr);

  // Sends raw bytes as they are.
  bool Send(std::string_view bytes);
  // Reads one response; nullopt when the connection closed or failed first.
  std::optional<Response> Read(std::chrono::seconds timeout = std::chrono::seconds(15));
  // Sends a GET for `target` and reads the answer.
  std::optional<Response> Get(std::string_view target);
  // True when the server closed the connection (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::seconds timeout);

  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }

 private:
  Client() = default;

  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ssl::context> context_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  std::unique_ptr<boost::beast::tcp_stream> plain_;
  boost::beast::flat_buffer buffer_;
};

// The vault's own certificate, for clients that verify the server.
std::filesystem::path VaultCertificate(const std::filesystem::path& vault);

// One HTTPS request on a fresh connection (the server's certificate is not checked): what
// came back, with the body parsed when it is a JSON object.
struct Http {
  unsigned status = 0;  // 0 when the connection or the exchange failed
  std::string body;
  std::string set_cookie;
  std::string retry_after;
  boost::beast::http::fields headers;
  boost::json::object json;
  std::string Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
};

// `headers` are whole lines ("Cookie: ..."); Content-Type is sent with a body or a POST.
Http Send(unsigned short port, std::string_view method, std::string_view target,
          std::string_view body, const std::vector<std::string>& headers = {},
          std::string_view content_type = "application/json");

// A JSON object's string member, or "".
std::string Str(const boost::json::object& object, std::string_view key);
// The ids of the resources of a Bundle's entries, in order.
std::vector<std::string> ResourceIds(const boost::json::object& bundle);
// `text` as a JSON string literal.
std::string Quoted(std::string_view text);

// Runs a fixed command line (no shell metacharacters may come from outside) and returns its
// stdout without the final newline.
std::string RunTool(const std::string& command);
// The TOTP code oathtool computes for a base32 `secret` at now + offset.
std::string Oathtool(const std::string& secret,
                     std::chrono::seconds offset = std::chrono::seconds(0));

// Accounts through the real binary and the auth API.
inline constexpr std::string_view kTestPassword = "violet tram ledger quietly orbits 7";

struct WebSession {
  std::string cookie;  // "__Host-medvault_session=..."
  std::string csrf;
};

struct Enrolled {
  std::string secret;  // TOTP secret, base32
  WebSession session;
  std::vector<std::string> recovery_codes;
  std::string confirm_set_cookie;
};

// The cookie value of a Set-Cookie header.
std::string CookieValue(const std::string& set_cookie);
// The session a login or enrollment answer set.
WebSession SessionOf(const Http& response);

// The media type of FHIR requests and answers.
inline constexpr std::string_view kFhirJson = "application/fhir+json";

// A server environment for tests that log in many times: the auth throttles out of the way
// (and TOTP accepted as an auditor's and an administrator's second factor); what `env` sets
// is kept.
Env WithRelaxedAuth(Env env);
// A request in `session`: its cookie, and its CSRF token on anything but a GET.
Http SendAs(unsigned short port, const WebSession& session, std::string_view method,
            std::string_view target, std::string_view body = "",
            std::vector<std::string> headers = {}, std::string_view content_type = kFhirJson);

// The administrator who keeps the care teams in tests (nobody takes a patient into their own
// care). Once an administrator is active every new staff role needs a second one's approval:
// AddStaff gives it as this one.
inline constexpr const char* kCareAdministrator = "care.admin";

// `medvault user add`: a staff account; returns its enrollment code. When the role waits for
// a second administrator, kCareAdministrator approves it.
std::string AddStaff(const std::filesystem::path& vault, const std::string& login,
                     const std::string& kind = "clinician", const Env& env = {});
// kCareAdministrator, enrolled with TOTP (the server needs WithRelaxedAuth's second factors).
Enrolled EnrollCareAdministrator(unsigned short port, const std::filesystem::path& vault,
                                 const Env& env = {});
// Care relations (a clinician opens only the patients in their care): writes the Practitioner
// `practitioner_id` through the API in `session` and links the clinician `login` to it with
// `medvault user link`. False (and why on stderr) when either fails.
bool LinkClinician(unsigned short port, const std::filesystem::path& vault,
                   const WebSession& session, const std::string& login,
                   const std::string& practitioner_id, const Env& env = {});
// A lab technician's lab (they see only its work, policy/lab_scope.h): writes the Organization
// `organization_id` through the API in `session` and links the lab technician `login` to it
// with `medvault user link`. False (and why on stderr) when either fails.
bool LinkLab(unsigned short port, const std::filesystem::path& vault, const WebSession& session,
             const std::string& login, const std::string& organization_id, const Env& env = {});
// Takes `patient_id` into the care of `practitioner_id`: an active CareTeam naming them, POSTed
// in `session` (an administrator's, EnrollCareAdministrator, or an integration client's; a
// clinician's own is refused). Returns its id, or "" (and why on stderr).
std::string TakeIntoCare(unsigned short port, const WebSession& session,
                         const std::string& practitioner_id, const std::string& patient_id);

// The password and a TOTP second factor computed by oathtool, from an enrollment code: the
// session the confirmation opened.
Enrolled EnrollWithTotp(unsigned short port, const std::string& enrollment_code);
// A patient account activated with `medvault user activation-code`, with a TOTP factor.
Enrolled ActivatePatient(unsigned short port, const std::filesystem::path& vault,
                         const std::string& patient_id, const std::string& login,
                         const Env& env = {});

// SMART Backend Services: Node's crypto makes a P-384 key, writes its JWKS to DIR/jwks.json
// and prints an ES384 client assertion for (client id, aud, jti).
inline constexpr const char* kNodeSigner = R"js(
const crypto = require('crypto');
const fs = require('fs');
const [dir, clientId, aud, jti] = process.argv.slice(2);
const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const jwk = Object.assign(publicKey.export({ format: 'jwk' }), { kid: 'k1', alg: 'ES384', use: 'sig' });
fs.writeFileSync(dir + '/jwks.json', JSON.stringify({ keys: [jwk] }));
const b64 = (text) => Buffer.from(text).toString('base64url');
const exp = Math.floor(Date.now() / 1000) + 240;
const input = b64(JSON.stringify({ alg: 'ES384', kid: 'k1', typ: 'JWT' })) + '.' +
  b64(JSON.stringify({ iss: clientId, sub: clientId, aud, exp, jti }));
const sig = crypto.sign('sha384', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
process.stdout.write(input + '.' + sig.toString('base64url'));
)js";

// Signs an assertion with kNodeSigner in `dir` (which then holds jwks.json); "" on failure.
std::string SignClientAssertion(const std::filesystem::path& dir, const std::string& client_id,
                                const std::string& audience, const std::string& jti);
// Registers an API client with `medvault client add` (of `organization`, when given) and gets
// an access token for `scopes` at /auth/token; "" on failure (the test's expectations say why).
std::string ApiClientToken(unsigned short port, const std::filesystem::path& vault,
                           const std::string& client_id, const std::string& scopes,
                           const Env& env = {}, const std::string& organization = "");

}  // namespace medvault::testing
