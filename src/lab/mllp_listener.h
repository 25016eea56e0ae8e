// The MLLP listener (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5 appendix C): a lab system
// connects, sends each message framed as 0x0B <message> 0x1C 0x0D and waits for the framed
// acknowledgement. Boost.Asio, optionally over TLS (the server's TLS context).
//
// Limits for untrusted peers: a frame longer than max_message_bytes, bytes outside a frame, or
// a TLS handshake that fails closes the connection (nothing is acknowledged, the lab system
// sends again); a connection idle for idle_timeout is closed; at most max_connections at once.
// Messages are handed to the handler on a worker pool (the handler blocks on the store and the
// audit log); one message per connection at a time, in order, so acknowledgements keep the
// order of the messages. Nothing of a message is logged.
//
// Thread-safe: the handler is called from several worker threads at once.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault::lab {

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd = 0x1C;
inline constexpr char kMllpCarriageReturn = 0x0D;

// 0x0B message 0x1C 0x0D.
std::string MllpFrame(std::string_view message);

class MllpListener {
 public:
  struct Options {
    boost::asio::ip::tcp::endpoint endpoint;
    std::size_t max_message_bytes = 1024 * 1024;
    std::chrono::milliseconds idle_timeout{300'000};
    std::size_t max_connections = 256;
    std::size_t worker_threads = 32;
  };
  // Takes one message (its bytes, the peer's IP address) and returns the acknowledgement.
  using Handler = std::function<std::string(std::string_view message, std::string_view peer)>;

  // Binds and listens (errors name the address). `tls` may be null only for a loopback
  // endpoint. Serving starts at once, on threads of its own.
  static Result<std::unique_ptr<MllpListener>> Open(const Options& options,
                                                    std::unique_ptr<boost::asio::ssl::context> tls,
                                                    Handler handler);
  // Stops accepting, lets the messages being handled finish, closes every connection.
  ~MllpListener();
  MllpListener(const MllpListener&) = delete;
  MllpListener& operator=(const MllpListener&) = delete;

  // "HOST:PORT" as bound (the real port when the endpoint asked for 0).
  std::string local_address() const;

  struct Impl;

 private:
  explicit MllpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medvault::lab
