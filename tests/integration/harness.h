// Drives the real `medvault` binary: temporary vaults, the process with its output, and
// an HTTPS client whose TLS versions and suites the test chooses.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
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
  std::string tls12_ciphers;  // empty: OpenSSL's defaults
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

}  // namespace medvault::testing
