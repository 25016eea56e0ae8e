// The real medvault binary over real sockets: TLS policy, security headers, limits,
// slow clients, connection caps, logs and graceful shutdown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>

#include "tests/integration/harness.h"

namespace medvault::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = RunMedvault({"init", "--dir", vault().string()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  std::filesystem::path vault() const { return dir_.path() / "vault"; }

  void StartServer(Env env = {}) {
    env.emplace("MEDVAULT_SERVER_THREADS", "2");
    server_ = ServerProcess::Start(vault(), env);
  }

  TlsOptions Tls() const {
    TlsOptions options;
    options.trust = VaultCertificate(vault());
    return options;
  }

  std::unique_ptr<Client> Connect() {
    std::string error;
    auto client = Client::Connect(server_->port(), Tls(), &error);
    EXPECT_TRUE(client) << error;
    return client;
  }

  static void ExpectSecurityHeaders(const Client::Response& response) {
    EXPECT_EQ(response["Strict-Transport-Security"], "max-age=63072000; includeSubDomains");
    EXPECT_EQ(response["Content-Security-Policy"], "default-src 'self'; frame-ancestors 'none'");
    EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(response["Referrer-Policy"], "no-referrer");
    EXPECT_EQ(response["Cache-Control"], "no-store");
    EXPECT_EQ(response.find(boost::beast::http::field::server), response.end());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerTest, NegotiatesTls13ByDefaultAndVerifiesAgainstTheVaultCertificate) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  EXPECT_STREQ(SSL_get_version(client->ssl()), "TLSv1.3");
  auto response = client->Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), R"({"status":"ok"})");
}

TEST_F(ServerTest, AcceptsTls12OnlyWithForwardSecretAeadSuites) {
  StartServer();
  TlsOptions tls12 = Tls();
  tls12.max_version = TLS1_2_VERSION;
  std::string error;
  auto client = Client::Connect(server_->port(), tls12, &error);
  ASSERT_TRUE(client) << error;
  EXPECT_STREQ(SSL_get_version(client->ssl()), "TLSv1.2");
  std::string cipher = SSL_get_cipher_name(client->ssl());
  EXPECT_THAT(cipher, HasSubstr("ECDHE"));
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos ||
              cipher.find("CHACHA20") != std::string::npos)
      << cipher;
  EXPECT_EQ(SSL_get_current_compression(client->ssl()), nullptr);

  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-GCM-SHA256",
                           "ECDHE-ECDSA-AES128-SHA256"}) {
    TlsOptions cbc = tls12;
    cbc.tls12_ciphers = weak;
    cbc.lower_security_level = true;
    EXPECT_FALSE(Client::Connect(server_->port(), cbc)) << weak << " was accepted";
  }
}

TEST_F(ServerTest, RefusesTls11AndTls10) {
  StartServer();
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsOptions old = Tls();
    old.min_version = version;
    old.max_version = version;
    old.lower_security_level = true;
    old.tls12_ciphers = "ALL:@SECLEVEL=0";
    std::string error;
    EXPECT_FALSE(Client::Connect(server_->port(), old, &error)) << "TLS version " << version;
  }
  // The server is still fine afterwards.
  auto client = Connect();
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->Get("/healthz"));
}

TEST_F(ServerTest, RefusesTls12Renegotiation) {
  StartServer();
  TlsOptions tls12 = Tls();
  tls12.max_version = TLS1_2_VERSION;
  auto client = Client::Connect(server_->port(), tls12);
  ASSERT_TRUE(client);
  ASSERT_EQ(SSL_renegotiate(client->ssl()), 1);
  int handshake = SSL_do_handshake(client->ssl());
  // Either the renegotiation fails outright or the server's refusal breaks the connection;
  // it never completes a second handshake.
  bool renegotiated = handshake == 1 && client->Get("/healthz").has_value() &&
                      SSL_renegotiate_pending(client->ssl()) == 0;
  EXPECT_FALSE(renegotiated);
}

TEST_F(ServerTest, EveryResponseCarriesTheSecurityHeaders) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  for (const char* target : {"/healthz", "/readyz", "/no/such/path"}) {
    auto response = client->Get(target);
    ASSERT_TRUE(response) << target;
    ExpectSecurityHeaders(*response);
  }
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnectionIncludingPipelined) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client->Read();
  auto second = client->Read();
  auto third = client->Read();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->result_int(), 200u);
  EXPECT_EQ(second->body(), R"({"status":"ready"})");
  EXPECT_EQ(third->result_int(), 404u);
}

TEST_F(ServerTest, OversizedHeaderGets431AndTheConnectionCloses) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        std::string(17 * 1024, 'a') + "\r\n\r\n";
  ASSERT_TRUE(client->Send(request));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 431u);
  ExpectSecurityHeaders(*response);
  EXPECT_TRUE(client->WaitClosed(10s));
}

TEST_F(ServerTest, OversizedBodyGets413BeforeItIsRead) {
  StartServer({{"MEDVAULT_SERVER_MAX_BODY_BYTES", "1024"}});
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413u);
  ExpectSecurityHeaders(*response);
}

TEST_F(ServerTest, OversizedChunkedBodyGets413) {
  StartServer({{"MEDVAULT_SERVER_MAX_BODY_BYTES", "1024"}});
  auto client = Connect();
  ASSERT_TRUE(client);
  std::string chunk(800, 'x');
  ASSERT_TRUE(client->Send("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413u);
}

TEST_F(ServerTest, MalformedRequestGets400) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 400u);
}

TEST_F(ServerTest, SlowlorisClientIsDroppedAfterTheHeaderTimeout) {
  StartServer({{"MEDVAULT_SERVER_HEADER_TIMEOUT_SECONDS", "1"}});
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\n"));
  // Keep dribbling one header byte at a time, never finishing the header block.
  bool dropped = false;
  for (int i = 0; i < 40 && !dropped; ++i) {
    std::this_thread::sleep_for(250ms);
    dropped = !client->Send("X");
  }
  EXPECT_TRUE(dropped || client->WaitClosed(5s)) << "the server kept a slow client for 10 s";
  // Others are still served.
  auto other = Connect();
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->Get("/healthz"));
}

TEST_F(ServerTest, ConnectionsBeyondTheCapAreClosed) {
  StartServer({{"MEDVAULT_SERVER_MAX_CONNECTIONS", "2"}});
  auto first = Connect();
  auto second = Connect();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->Get("/healthz"));
  ASSERT_TRUE(second->Get("/healthz"));
  EXPECT_FALSE(Client::Connect(server_->port(), Tls())) << "a third connection was served";
  first.reset();  // closing one frees a slot
  std::unique_ptr<Client> third;
  for (int i = 0; i < 50 && !third; ++i) {
    std::this_thread::sleep_for(100ms);
    third = Client::Connect(server_->port(), Tls());
  }
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->Get("/healthz"));
}

TEST_F(ServerTest, AccessLogHasRouteTemplatesAndNeverQueryStrings) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Get("/healthz?name=DUPONT-MARKER-7731"));
  ASSERT_TRUE(client->Get("/no/PATH-MARKER-4410"));
  ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: session=COOKIE-MARKER-99\r\n"
                           "Authorization: Bearer TOKEN-MARKER-12\r\n\r\n"));
  ASSERT_TRUE(client->Read());
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->Wait(20s), 0);
  std::string log = server_->Output();
  EXPECT_THAT(log, HasSubstr(R"("method":"GET","route":"/healthz","status":200)"));
  EXPECT_THAT(log, HasSubstr(R"("route":"-","status":404)"));
  for (const char* secret : {"DUPONT-MARKER", "PATH-MARKER", "COOKIE-MARKER", "TOKEN-MARKER"}) {
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
}

TEST_F(ServerTest, GracefulShutdownFinishesTheRequestInFlightAndExitsZero) {
  StartServer();
  auto client = Connect();
  auto idle = Connect();
  ASSERT_TRUE(client && idle);
  ASSERT_TRUE(client->Send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234"));
  std::this_thread::sleep_for(300ms);
  server_->Signal(SIGTERM);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(Client::Connect(server_->port(), Tls())) << "new connections after SIGTERM";
  EXPECT_FALSE(server_->Wait(0ms)) << "exited with a request in flight";
  ASSERT_TRUE(client->Send("56789"));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 405u);  // the route only answers GET: but it answered
  EXPECT_FALSE(response->keep_alive());
  EXPECT_EQ(server_->Wait(20s), 0);
  EXPECT_THAT(server_->Output(), HasSubstr(R"("event":"shutdown_complete")"));
}

TEST_F(ServerTest, PlainHttpOnLoopbackWhenConfigured) {
  StartServer({{"MEDVAULT_SERVER_TLS", "false"}});
  auto client = Client::Connect(server_->port(), std::nullopt);
  ASSERT_TRUE(client);
  auto response = client->Get("/healthz");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  ExpectSecurityHeaders(*response);
}

}  // namespace
}  // namespace medvault::testing
