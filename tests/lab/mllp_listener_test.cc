#include "lab/mllp_listener.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>

#include "http/tls.h"

namespace medvault::lab {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

MllpListener::Options Loopback() {
  MllpListener::Options options;
  options.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  options.max_message_bytes = 1000;
  options.idle_timeout = std::chrono::milliseconds(500);
  options.worker_threads = 4;
  return options;
}

// Answers "ACK <n>" for the n-th message, with its size.
MllpListener::Handler Counting(std::atomic<int>& count) {
  return [&count](std::string_view message, std::string_view peer) {
    EXPECT_EQ(peer, "127.0.0.1");
    return "ACK " + std::to_string(++count) + " " + std::to_string(message.size());
  };
}

tcp::endpoint EndpointOf(const MllpListener& listener) {
  const std::string address = listener.local_address();
  const auto colon = address.rfind(':');
  return {asio::ip::make_address(address.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))};
}

// Reads one frame's message, or "" when the server closed the connection.
template <typename Stream>
std::string ReadFrame(Stream& stream, std::string& pending) {
  for (;;) {
    const auto end = pending.find(std::string{kMllpEnd, kMllpCarriageReturn});
    if (end != std::string::npos) {
      EXPECT_EQ(pending.front(), kMllpStart);
      std::string message = pending.substr(1, end - 1);
      pending.erase(0, end + 2);
      return message;
    }
    char chunk[4096];
    boost::system::error_code ec;
    const std::size_t n = stream.read_some(asio::buffer(chunk), ec);
    if (ec) return "";
    pending.append(chunk, n);
  }
}

TEST(MllpListener, AcknowledgesEachFrameInOrderEvenWhenPipelined) {
  std::atomic<int> count{0};
  auto listener = MllpListener::Open(Loopback(), nullptr, Counting(count));
  ASSERT_TRUE(listener) << listener.error().message();
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(EndpointOf(**listener));
  const std::string two = MllpFrame("MSH|first") + MllpFrame("MSH|second!");
  asio::write(socket, asio::buffer(two));
  std::string pending;
  EXPECT_EQ(ReadFrame(socket, pending), "ACK 1 9");
  EXPECT_EQ(ReadFrame(socket, pending), "ACK 2 11");
  // A frame split across writes.
  const std::string frame = MllpFrame("MSH|third");
  asio::write(socket, asio::buffer(frame.substr(0, 4)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  asio::write(socket, asio::buffer(frame.substr(4)));
  EXPECT_EQ(ReadFrame(socket, pending), "ACK 3 9");
}

TEST(MllpListener, ClosesOnOversizedFramesAndBytesOutsideFrames) {
  std::atomic<int> count{0};
  auto listener = MllpListener::Open(Loopback(), nullptr, Counting(count));
  ASSERT_TRUE(listener);
  asio::io_context io;
  for (const std::string& bad : {MllpFrame(std::string(1001, 'x')),
                                 std::string("GET / HTTP/1.1\r\n"), std::string("\x0BMSH|\x1CX")}) {
    tcp::socket socket(io);
    socket.connect(EndpointOf(**listener));
    asio::write(socket, asio::buffer(bad));
    std::string pending;
    EXPECT_EQ(ReadFrame(socket, pending), "");
  }
  EXPECT_EQ(count, 0);
}

TEST(MllpListener, ClosesAnIdleConnection) {
  std::atomic<int> count{0};
  auto listener = MllpListener::Open(Loopback(), nullptr, Counting(count));
  ASSERT_TRUE(listener);
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(EndpointOf(**listener));
  const auto start = std::chrono::steady_clock::now();
  std::string pending;
  EXPECT_EQ(ReadFrame(socket, pending), "");
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(400));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST(MllpListener, RefusesPlainMllpOffLoopback) {
  MllpListener::Options options = Loopback();
  options.endpoint = tcp::endpoint(asio::ip::make_address("0.0.0.0"), 0);
  std::atomic<int> count{0};
  auto listener = MllpListener::Open(options, nullptr, Counting(count));
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().code(), ErrorCode::kInvalidArgument);
}

TEST(MllpListener, SpeaksTls) {
  std::string pattern = (std::filesystem::temp_directory_path() / "medvault-mllp-XXXXXX");
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  ASSERT_TRUE(http::CreateSelfSignedCertificate(dir / "cert.pem", dir / "key.pem",
                                                {"localhost", "127.0.0.1"}, 1));
  auto context = http::MakeServerTlsContext(dir / "cert.pem", dir / "key.pem");
  ASSERT_TRUE(context);
  std::atomic<int> count{0};
  auto listener = MllpListener::Open(Loopback(), std::move(*context), Counting(count));
  ASSERT_TRUE(listener);
  asio::io_context io;
  asio::ssl::context client(asio::ssl::context::tls_client);
  client.load_verify_file((dir / "cert.pem").string());
  client.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> stream(io, client);
  stream.next_layer().connect(EndpointOf(**listener));
  stream.handshake(asio::ssl::stream_base::client);
  asio::write(stream, asio::buffer(MllpFrame("MSH|over tls")));
  std::string pending;
  EXPECT_EQ(ReadFrame(stream, pending), "ACK 1 12");
  // Plain MLLP to the TLS listener gets no acknowledgement.
  tcp::socket plain(io);
  plain.connect(EndpointOf(**listener));
  asio::write(plain, asio::buffer(MllpFrame("MSH|plain")));
  std::string nothing;
  EXPECT_EQ(ReadFrame(plain, nothing), "");
  EXPECT_EQ(count, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medvault::lab
