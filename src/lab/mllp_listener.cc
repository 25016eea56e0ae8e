#include "lab/mllp_listener.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "core/log.h"

namespace medvault::lab {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string MllpFrame(std::string_view message) {
  std::string frame;
  frame.reserve(message.size() + 3);
  frame.push_back(kMllpStart);
  frame.append(message);
  frame.push_back(kMllpEnd);
  frame.push_back(kMllpCarriageReturn);
  return frame;
}

// Sessions point to it; it outlives them: its io_context, destroyed before everything they
// use, destroys the sessions still waiting in it.
struct MllpListener::Impl {
  Impl(const Options& opts, std::unique_ptr<asio::ssl::context> context, Handler h)
      : options(opts),
        tls(std::move(context)),
        handler(std::move(h)),
        acceptor(io),
        workers(std::max<std::size_t>(1, opts.worker_threads)) {}

  void Accept();

  Options options;
  std::unique_ptr<asio::ssl::context> tls;
  Handler handler;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::thread_pool workers;
  std::vector<std::thread> threads;
};

namespace {

// One connection over a plain or a TLS stream: read a frame, hand it to the workers, write
// the acknowledgement, read the next.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(MllpListener::Impl* listener, Stream stream, std::string peer)
      : listener_(listener),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        peer_(std::move(peer)) {}

  ~Session() { --listener_->connections; }

  void Start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      Read();
    } else {
      Arm();
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                if (ec) return self->Close();
                                self->Read();
                              });
    }
  }

 private:
  tcp::socket& Socket() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      return stream_;
    } else {
      return stream_.next_layer();
    }
  }

  // (Re)starts the idle timer: a peer silent for idle_timeout is disconnected.
  void Arm() {
    timer_.expires_after(listener_->options.idle_timeout);
    timer_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Close();
    });
  }

  void Close() {
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close(ignored);
  }

  // A complete frame in the buffer: its message, removed from the buffer. Sets bad_ when
  // the buffer cannot become a frame.
  std::optional<std::string> TakeFrame() {
    std::size_t start = 0;
    while (start < buffer_.size() && buffer_[start] != kMllpStart) {
      // Between frames a peer may send line ends; anything else is not MLLP.
      if (buffer_[start] != '\r' && buffer_[start] != '\n') {
        bad_ = true;
        return std::nullopt;
      }
      ++start;
    }
    if (start == buffer_.size()) {
      buffer_.clear();
      return std::nullopt;
    }
    const auto end = buffer_.find(kMllpEnd, start + 1);
    if (end == std::string::npos || end + 1 >= buffer_.size()) {
      if (buffer_.size() - start > listener_->options.max_message_bytes + 3) bad_ = true;
      return std::nullopt;
    }
    if (buffer_[end + 1] != kMllpCarriageReturn ||
        end - start - 1 > listener_->options.max_message_bytes) {
      bad_ = true;
      return std::nullopt;
    }
    std::string message = buffer_.substr(start + 1, end - start - 1);
    buffer_.erase(0, end + 2);
    return message;
  }

  void Read() {
    if (closed_ || listener_->stopping) return Close();
    if (auto message = TakeFrame()) return Handle(std::move(*message));
    if (bad_) {
      log::Warning("mllp_frame_refused", {{"peer", std::string_view(peer_)}});
      return Close();
    }
    Arm();
    chunk_.resize(64 * 1024);
    stream_.async_read_some(asio::buffer(chunk_), [self = this->shared_from_this()](
                                                      boost::system::error_code ec, std::size_t n) {
      if (ec) return self->Close();
      self->buffer_.append(self->chunk_.data(), n);
      self->Read();
    });
  }

  void Handle(std::string message) {
    timer_.cancel();
    asio::post(listener_->workers,
               [self = this->shared_from_this(), message = std::move(message)]() mutable {
                 std::string ack;
                 try {
                   ack = self->listener_->handler(message, self->peer_);
                 } catch (const std::exception&) {
                   log::Error("mllp_handler_failed", {});
                 }
                 asio::post(self->stream_.get_executor(), [self, ack = std::move(ack)]() mutable {
                   self->Write(std::move(ack));
                 });
               });
  }

  void Write(std::string ack) {
    if (closed_) return;
    if (ack.empty()) return Close();
    out_ = MllpFrame(ack);
    Arm();
    asio::async_write(stream_, asio::buffer(out_),
                      [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->Close();
                        self->Read();
                      });
  }

  MllpListener::Impl* listener_;
  Stream stream_;
  asio::steady_timer timer_;
  std::string peer_;
  std::string buffer_;
  std::string chunk_;
  std::string out_;
  bool bad_ = false;
  bool closed_ = false;
};

}  // namespace

void MllpListener::Impl::Accept() {
  acceptor.async_accept(
      asio::make_strand(io), [self = this](boost::system::error_code ec, tcp::socket socket) {
        if (ec || self->stopping) {
          if (!self->stopping && ec != asio::error::operation_aborted) self->Accept();
          return;
        }
        boost::system::error_code peer_ec;
        const auto remote = socket.remote_endpoint(peer_ec);
        const std::string peer = peer_ec ? std::string() : remote.address().to_string();
        if (++self->connections > self->options.max_connections) {
          --self->connections;
          log::Warning("mllp_connection_refused", {{"reason", "max_connections"}});
          boost::system::error_code ignored;
          socket.close(ignored);
        } else if (self->tls) {
          std::make_shared<Session<asio::ssl::stream<tcp::socket>>>(
              self, asio::ssl::stream<tcp::socket>(std::move(socket), *self->tls), peer)
              ->Start();
        } else {
          std::make_shared<Session<tcp::socket>>(self, std::move(socket), peer)->Start();
        }
        self->Accept();
      });
}

Result<std::unique_ptr<MllpListener>> MllpListener::Open(const Options& options,
                                                         std::unique_ptr<asio::ssl::context> tls,
                                                         Handler handler) {
  const std::string where = fmt::format("{}", options.endpoint.address().to_string());
  if (!tls && !options.endpoint.address().is_loopback()) {
    return Fail(ErrorCode::kInvalidArgument,
                "lab.mllp_tls = false is allowed only on a loopback address");
  }
  auto impl = std::make_unique<Impl>(options, std::move(tls), std::move(handler));
  boost::system::error_code ec;
  impl->acceptor.open(options.endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(options.endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("lab.mllp_listen: cannot listen on {} port {}: {}", where,
                            options.endpoint.port(), ec.message()));
  }
  impl->Accept();
  for (int i = 0; i < 2; ++i) {
    impl->threads.emplace_back([impl = impl.get()] { impl->io.run(); });
  }
  return std::unique_ptr<MllpListener>(new MllpListener(std::move(impl)));
}

MllpListener::MllpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MllpListener::~MllpListener() {
  impl_->stopping = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->workers.join();  // messages being handled finish; their acknowledgements are posted
  impl_->io.stop();
  for (std::thread& thread : impl_->threads) thread.join();
}

std::string MllpListener::local_address() const {
  boost::system::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  if (ec) return {};
  const auto address = endpoint.address();
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                         : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace medvault::lab
