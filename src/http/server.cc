#include "http/server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"

namespace medvault::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Bytes read ahead beyond the header limit; bounds what a pipelining client can queue.
constexpr std::size_t kReadAheadBytes = 16 * 1024;
constexpr std::size_t kReadChunkBytes = 4096;
constexpr auto kCloseTimeout = std::chrono::seconds(2);
constexpr auto kDrainPollInterval = std::chrono::milliseconds(10);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

class Connection;

// True when the parser, not the network, rejected what the client sent.
bool IsMalformedRequest(const boost::system::error_code& ec) {
  static const auto& http_category =
      beast_http::make_error_code(beast_http::error::bad_target).category();
  return ec && ec.category() == http_category && ec != beast_http::error::end_of_stream &&
         ec != beast_http::error::partial_message;
}

// State the listener and every connection share.
struct Shared {
  Shared(const ServerConfig& server_config, std::shared_ptr<const Dispatcher> request_dispatcher)
      : config(server_config), dispatcher(std::move(request_dispatcher)) {}

  const ServerConfig config;
  const std::shared_ptr<const Dispatcher> dispatcher;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;
};

// One client connection; all its handlers run on its loop's one thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() = default;
  virtual void Start() = 0;
  // Called from any thread when the server drains: an idle connection closes now, a busy
  // one after its response.
  virtual void Drain() = 0;
};

template <bool kTls>
class Session final : public Connection {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  // `tls` is kept alive by the session: its streams refer to it until they are destroyed.
  Session(tcp::socket&& socket, std::shared_ptr<asio::ssl::context> tls,
          std::shared_ptr<Shared> shared)
      : tls_(std::move(tls)),
        stream_(MakeStream(std::move(socket), tls_.get())),
        buffer_(shared->config.max_header_bytes + kReadAheadBytes),
        shared_(std::move(shared)) {
    boost::system::error_code ec;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  }

  ~Session() override {
    std::lock_guard lock(shared_->mutex);
    shared_->connections.erase(id_);
    shared_->open_connections.fetch_sub(1);
  }

  void Start() override {
    {
      std::lock_guard lock(shared_->mutex);
      id_ = shared_->next_id++;
      shared_->connections.emplace(id_, weak_from_this());
    }
    // Run on the connection's loop from here on.
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void Drain() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kIdle) {
        beast::get_lowest_layer(self->stream_).cancel();
      }
    });
  }

 private:
  enum class Phase { kHandshake, kIdle, kHeader, kBody, kHandling, kResponding, kClosing };

  static Stream MakeStream(tcp::socket&& socket, asio::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  const ServerConfig& config() const { return shared_->config; }
  void Expire(Clock::duration timeout) { beast::get_lowest_layer(stream_).expires_after(timeout); }

  void Begin() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      Expire(config().header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = Self()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  // Waits for the first byte of the next request: the idle timeout between requests, the
  // header timeout before the first one.
  void WaitForRequest() {
    if (shared_->draining.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();
    phase_ = Phase::kIdle;
    Expire(requests_served_ == 0 ? config().header_timeout : config().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            [self = Self()](beast::error_code ec, std::size_t bytes) {
                              if (ec) return self->Close();
                              self->buffer_.commit(bytes);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kHeader;
    started_ = Clock::now();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(config().max_header_bytes));
    parser_->body_limit(config().max_body_bytes);
    Expire(config().header_timeout);
    beast_http::async_read_header(
        stream_, buffer_, *parser_,
        [self = Self()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // After a failed read: answers what the client got wrong, or just closes when the network
  // failed (timeout, reset, the client went away). False when there was no error.
  bool ReadFailed(beast::error_code ec) {
    if (!ec) return false;
    if (ec == beast_http::error::header_limit || ec == beast_http::error::buffer_overflow) {
      Refuse(Status::request_header_fields_too_large, "request header fields too large");
    } else if (ec == beast_http::error::body_limit) {
      // Also raised while parsing the header when a declared Content-Length is too large.
      Refuse(Status::payload_too_large, "request body too large");
    } else if (IsMalformedRequest(ec)) {
      Refuse(Status::bad_request, "malformed HTTP request");
    } else {
      Close();
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ReadFailed(ec)) return;
    const auto& header = parser_->get();
    if (parser_->is_done()) return Handle();
    if (beast::iequals(header[beast_http::field::expect], "100-continue")) {
      auto interim = std::make_shared<beast_http::response<beast_http::empty_body>>(
          Status::continue_, header.version());
      Expire(config().body_timeout);
      return beast_http::async_write(stream_, *interim,
                                     [self = Self(), interim](beast::error_code ec, std::size_t) {
                                       if (ec) return self->Close();
                                       self->ReadBody();
                                     });
    }
    ReadBody();
  }

  void ReadBody() {
    phase_ = Phase::kBody;
    Expire(config().body_timeout);
    beast_http::async_read(stream_, buffer_, *parser_,
                           [self = Self()](beast::error_code ec, std::size_t) {
                             if (!self->ReadFailed(ec)) self->Handle();
                           });
  }

  // The dispatcher may answer at once or later from another thread; the answer is sent from
  // this connection's loop either way. No read is pending meanwhile, so a drain waits for it.
  void Handle() {
    phase_ = Phase::kHandling;
    Request request = parser_->release();
    const bool keep_alive = request.keep_alive();
    shared_->dispatcher->HandleAsync(
        std::move(request), peer_, started_, [self = Self(), keep_alive](Response response) {
          asio::dispatch(self->stream_.get_executor(),
                         [self, keep_alive, response = std::move(response)]() mutable {
                           response.keep_alive(keep_alive && !self->shared_->draining.load());
                           self->Send(std::move(response));
                         });
        });
  }

  // Answers a request that could not be read; the connection closes after it.
  void Refuse(Status status, std::string_view reason) {
    unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    Send(shared_->dispatcher->Reject(status, reason, version, started_));
  }

  void Send(Response&& response) {
    phase_ = Phase::kResponding;
    response_ = std::move(response);
    Expire(config().body_timeout);
    beast_http::async_write(stream_, response_, [self = Self()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->Close();
      ++self->requests_served_;
      self->response_ = {};
      self->WaitForRequest();
    });
  }

  void Close() {
    if (phase_ == Phase::kClosing) return;
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      Expire(kCloseTimeout);
      stream_.async_shutdown([self = Self()](beast::error_code) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      boost::system::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  std::shared_ptr<asio::ssl::context> tls_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<Shared> shared_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  Response response_;
  std::string peer_;
  std::uint64_t id_ = 0;
  std::uint64_t requests_served_ = 0;
  Phase phase_ = Phase::kHandshake;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

Result<std::pair<std::string, unsigned short>> ParseListenAddress(const std::string& listen) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("listen address '{}' is not HOST:PORT", listen));
  };
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return bad();
  std::string host = listen.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad();
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  std::string_view port_text = std::string_view(listen).substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return bad();
  return std::pair{host, static_cast<unsigned short>(port)};
}

struct Server::Impl {
  Impl(const ServerConfig& config, std::unique_ptr<asio::ssl::context> tls_context,
       std::shared_ptr<const Dispatcher> dispatcher)
      : loops(MakeLoops(Threads(config))),
        acceptor(main_loop()),
        signals(main_loop(), SIGINT, SIGTERM),
        drain_timer(main_loop()),
        accept_retry_timer(main_loop()),
        tls(std::move(tls_context)),
        shared(std::make_shared<Shared>(config, std::move(dispatcher))) {}

  // One event loop per thread, each run by exactly one thread: a connection lives on one
  // loop, so its handlers never run concurrently and no loop's scheduler is contended. On a
  // small machine that shares its cores with clients this is markedly faster than one loop
  // run by several threads.
  struct Loop {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  };

  static std::size_t Threads(const ServerConfig& config) {
    if (config.threads != 0) return config.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  static std::vector<std::unique_ptr<Loop>> MakeLoops(std::size_t count) {
    std::vector<std::unique_ptr<Loop>> made;
    for (std::size_t i = 0; i < count; ++i) made.push_back(std::make_unique<Loop>());
    return made;
  }

  // The loop of the acceptor, the signals and the drain timer.
  asio::io_context& main_loop() { return loops.front()->io; }

  asio::io_context& NextLoop() { return loops[next_loop++ % loops.size()]->io; }

  void StopAll() {
    for (auto& loop : loops) loop->io.stop();
  }

  void Accept() {
    acceptor.async_accept(NextLoop(), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors and the like: back off instead of spinning.
        log::Warning("accept_failed", {{"error", ec.message()}});
        accept_retry_timer.expires_after(kAcceptRetryDelay);
        accept_retry_timer.async_wait([this](beast::error_code wait_error) {
          if (!wait_error) Accept();
        });
        return;
      }
      if (shared->open_connections.load() >= shared->config.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        shared->open_connections.fetch_add(1);
        std::shared_ptr<Connection> connection;
        if (tls) {
          connection = std::make_shared<Session<true>>(std::move(socket), tls, shared);
        } else {
          connection = std::make_shared<Session<false>>(std::move(socket), nullptr, shared);
        }
        connection->Start();
      }
      Accept();
    });
  }

  void WaitForSignal() {
    signals.async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      if (shared->draining.load()) {
        log::Warning("shutdown_forced", {{"signal", static_cast<std::int64_t>(signal)}});
        StopAll();
        return;
      }
      log::Info("shutdown_requested", {{"signal", static_cast<std::int64_t>(signal)}});
      BeginDrain();
      WaitForSignal();
    });
  }

  // Runs on the main loop.
  void BeginDrain() {
    if (shared->draining.exchange(true)) return;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    accept_retry_timer.cancel();
    std::vector<std::shared_ptr<Connection>> live;
    {
      std::lock_guard lock(shared->mutex);
      for (auto& [id, weak] : shared->connections) {
        if (auto connection = weak.lock()) live.push_back(std::move(connection));
      }
    }
    for (auto& connection : live) connection->Drain();
    drain_deadline = Clock::now() + shared->config.shutdown_grace;
    PollDrain();
  }

  void PollDrain() {
    if (shared->open_connections.load() == 0) {
      log::Info("shutdown_complete");
      StopAll();
      return;
    }
    if (Clock::now() >= drain_deadline) {
      log::Warning(
          "shutdown_grace_expired",
          {{"open_connections", static_cast<std::int64_t>(shared->open_connections.load())}});
      StopAll();
      return;
    }
    drain_timer.expires_after(kDrainPollInterval);
    drain_timer.async_wait([this](beast::error_code ec) {
      if (!ec) PollDrain();
    });
  }

  std::vector<std::unique_ptr<Loop>> loops;
  std::size_t next_loop = 0;  // used on the main loop only
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  asio::steady_timer accept_retry_timer;
  std::shared_ptr<asio::ssl::context> tls;
  std::shared_ptr<Shared> shared;
  Clock::time_point drain_deadline;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Open(const ServerConfig& config,
                                             std::unique_ptr<asio::ssl::context> tls,
                                             std::shared_ptr<const Dispatcher> dispatcher) {
  auto listen = ParseListenAddress(config.listen);
  if (!listen) return std::unexpected(listen.error());
  boost::system::error_code ec;
  auto address = asio::ip::make_address(listen->first, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("listen address '{}' is not an IP address", config.listen));
  }
  if (!config.tls && !address.is_loopback()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("server.tls = false is allowed only on a loopback address, not '{}'",
                            config.listen));
  }
  if (config.tls && !tls) return Fail(ErrorCode::kInternal, "TLS is on but no TLS context given");
  if (!config.tls) tls.reset();

  auto impl = std::make_unique<Impl>(config, std::move(tls), std::move(dispatcher));
  tcp::endpoint endpoint(address, listen->second);
  auto& acceptor = impl->acceptor;
  auto fail = [&](std::string_view what) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen on {}: {}", config.listen, what));
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail(ec.message());
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return fail(ec.message());
  }
  if (acceptor.bind(endpoint, ec); ec) {
    return fail(ec == asio::error::address_in_use ? "address already in use" : ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail(ec.message());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::local_address() const {
  boost::system::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  if (ec) return "";
  if (endpoint.address().is_v6()) {
    return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
  }
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

void Server::Run() {
  std::signal(SIGPIPE, SIG_IGN);
  impl_->Accept();
  impl_->WaitForSignal();
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < impl_->loops.size(); ++i) {
    workers.emplace_back([this, i] { impl_->loops[i]->io.run(); });
  }
  impl_->main_loop().run();
  for (auto& worker : workers) worker.join();
}

void Server::RequestShutdown() {
  asio::post(impl_->main_loop(), [this] { impl_->BeginDrain(); });
}

}  // namespace medvault::http
