// The HTTPS server: Boost.Beast over Asio, one event loop (io_context) per thread and one
// thread per core; each connection stays on one loop. It enforces the limits that keep untrusted
// clients from holding resources (header and body size, header/body/idle timeouts, a cap on open
// connections, one request at a time per connection) and drains gracefully on SIGINT and SIGTERM.
// Everything about a request's meaning lives in the Dispatcher it is given.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "http/dispatcher.h"

namespace medvault::http {

class Server {
 public:
  // Binds and listens, so that a port in use or a bad address is reported before serving.
  // `tls` must be set when config.tls is true; plain HTTP is refused on a non-loopback address.
  static Result<std::unique_ptr<Server>> Open(const ServerConfig& config,
                                              std::unique_ptr<boost::asio::ssl::context> tls,
                                              std::shared_ptr<const Dispatcher> dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound address as "HOST:PORT" (the real port when the configuration asked for 0).
  std::string local_address() const;

  // Serves until SIGINT or SIGTERM (or RequestShutdown), then stops accepting, closes idle
  // connections, lets requests in flight finish within shutdown_grace, and returns.
  void Run();

  // Starts the same drain as a signal. Thread-safe.
  void RequestShutdown();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" or "[V6]:PORT". Errors name the value.
Result<std::pair<std::string, unsigned short>> ParseListenAddress(const std::string& listen);

}  // namespace medvault::http
