#include "tests/integration/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace medvault::testing {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Starts `medvault ARGS` with stdout and stderr on pipes; returns the pid.
int Spawn(const std::vector<std::string>& args, const Env& env, int out_pipe[2], int err_pipe[2]) {
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (!env.contains(name)) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{MEDVAULT_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  return pid;
}

std::string ReadAll(int fd) {
  std::string text;
  char chunk[4096];
  while (true) {
    ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return text;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::optional<int> WaitPid(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    int got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return ExitCodeOf(status);
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TempDir::TempDir() {
  std::random_device random;
  path_ = fs::temp_directory_path() / ("medvault-test-" + std::to_string(random()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CommandResult RunMedvault(const std::vector<std::string>& args, const Env& env,
                          std::chrono::seconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  int pid = Spawn(args, env, out_pipe, err_pipe);
  CommandResult result;
  std::thread err_reader([&] { result.err = ReadAll(err_pipe[0]); });
  std::thread out_reader([&] { result.out = ReadAll(out_pipe[0]); });
  auto code = WaitPid(pid, timeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    code = WaitPid(pid, std::chrono::seconds(10));
  }
  out_reader.join();
  err_reader.join();
  result.exit_code = code.value_or(-1);
  return result;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const fs::path& vault, const Env& env) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  int out_pipe[2];
  int err_pipe[2];
  server->pid_ =
      Spawn({"serve", "--dir", vault.string(), "--listen", "127.0.0.1:0"}, env, out_pipe, err_pipe);
  server->readers_.emplace_back([s = server.get(), fd = out_pipe[0]] { s->Drain(fd); });
  server->readers_.emplace_back([s = server.get(), fd = err_pipe[0]] { s->Drain(fd); });
  const std::string marker = R"("event":"listening","address":"127.0.0.1:)";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(server->mutex_);
      auto at = server->output_.find(marker);
      if (at != std::string::npos) {
        server->port_ =
            static_cast<unsigned short>(std::stoi(server->output_.substr(at + marker.size())));
        return server;
      }
    }
    if (auto code = WaitPid(server->pid_, std::chrono::milliseconds(0))) {
      server->exit_code_ = code;
      throw std::runtime_error("medvault serve exited with " + std::to_string(*code) + ": " +
                               server->Output());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("medvault serve did not start: " + server->Output());
}

void ServerProcess::Drain(int fd) {
  char chunk[4096];
  while (true) {
    ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    std::lock_guard lock(mutex_);
    output_.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
}

ServerProcess::~ServerProcess() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    WaitPid(pid_, std::chrono::seconds(10));
  }
  for (auto& reader : readers_) reader.join();
}

void ServerProcess::Signal(int signal) const { ::kill(pid_, signal); }

std::optional<int> ServerProcess::Wait(std::chrono::milliseconds timeout) {
  if (!exit_code_) exit_code_ = WaitPid(pid_, timeout);
  return exit_code_;
}

std::string ServerProcess::Output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

std::unique_ptr<Client> Client::Connect(unsigned short port, const std::optional<TlsOptions>& tls,
                                        std::string* error) {
  std::unique_ptr<Client> client(new Client());
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  beast::error_code ec;
  if (!tls) {
    client->plain_ = std::make_unique<beast::tcp_stream>(client->io_);
    client->plain_->connect(endpoint, ec);
  } else {
    client->context_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* ctx = client->context_->native_handle();
    if (tls->lower_security_level) SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, tls->min_version);
    SSL_CTX_set_max_proto_version(ctx, tls->max_version);
    if (!tls->tls12_ciphers.empty()) SSL_CTX_set_cipher_list(ctx, tls->tls12_ciphers.c_str());
    if (!tls->trust.empty()) {
      client->context_->load_verify_file(tls->trust.string());
      client->context_->set_verify_mode(asio::ssl::verify_peer);
    }
    client->tls_ =
        std::make_unique<beast::ssl_stream<beast::tcp_stream>>(client->io_, *client->context_);
    beast::get_lowest_layer(*client->tls_).expires_after(std::chrono::seconds(15));
    beast::get_lowest_layer(*client->tls_).connect(endpoint, ec);
    if (!ec) client->tls_->handshake(asio::ssl::stream_base::client, ec);
  }
  if (ec) {
    if (error != nullptr) *error = ec.message();
    return nullptr;
  }
  return client;
}

bool Client::Send(std::string_view bytes) {
  beast::error_code ec;
  if (tls_) {
    asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()), ec);
  } else {
    asio::write(*plain_, asio::buffer(bytes.data(), bytes.size()), ec);
  }
  return !ec;
}

std::optional<Client::Response> Client::Read(std::chrono::seconds timeout) {
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code ec;
  auto run = [&](auto& stream) {
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::http::read(stream, buffer_, parser, ec);
  };
  if (tls_) {
    run(*tls_);
  } else {
    run(*plain_);
  }
  if (ec) return std::nullopt;
  return parser.release();
}

std::optional<Client::Response> Client::Get(std::string_view target) {
  std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (!Send(request)) return std::nullopt;
  return Read();
}

bool Client::WaitClosed(std::chrono::seconds timeout) {
  char byte;
  beast::error_code ec;
  auto run = [&](auto& stream) {
    beast::get_lowest_layer(stream).expires_after(timeout);
    while (!ec) stream.read_some(asio::buffer(&byte, 1), ec);
  };
  if (tls_) {
    run(*tls_);
  } else {
    run(*plain_);
  }
  return ec != beast::error::timeout;
}

fs::path VaultCertificate(const fs::path& vault) { return vault / "tls" / "cert.pem"; }

Http Send(unsigned short port, std::string_view method, std::string_view target,
          std::string_view body, const std::vector<std::string>& headers,
          std::string_view content_type) {
  auto client = Client::Connect(port, TlsOptions{});
  Http out;
  if (!client) return out;
  std::string request = std::string(method) + " " + std::string(target) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: medvault-test\r\n";
  for (const auto& header : headers) request += header + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    request += "Content-Type: " + std::string(content_type) + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;
  if (!client->Send(request)) return out;
  auto response = client->Read(std::chrono::seconds(60));
  if (!response) return out;
  out.status = response->result_int();
  out.body = response->body();
  out.headers = response->base();
  out.set_cookie = std::string((*response)[beast::http::field::set_cookie]);
  out.retry_after = std::string((*response)[beast::http::field::retry_after]);
  boost::system::error_code ec;
  auto value = boost::json::parse(out.body, ec);
  if (!ec && value.is_object()) out.json = value.as_object();
  return out;
}

std::string Str(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

std::vector<std::string> ResourceIds(const boost::json::object& bundle) {
  std::vector<std::string> ids;
  if (const auto* entries = bundle.if_contains("entry")) {
    for (const auto& entry : entries->as_array()) {
      ids.push_back(Str(entry.at("resource").as_object(), "id"));
    }
  }
  return ids;
}

std::string Quoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

std::string RunTool(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char chunk[512];
  while (std::size_t got = std::fread(chunk, 1, sizeof chunk, pipe)) out.append(chunk, got);
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string Oathtool(const std::string& secret, std::chrono::seconds offset) {
  const std::int64_t at = std::time(nullptr) + offset.count();
  return RunTool("oathtool --totp -b -N @" + std::to_string(at) + " " + secret);
}

std::string CookieValue(const std::string& set_cookie) {
  const auto eq = set_cookie.find('=');
  const auto end = set_cookie.find(';');
  if (eq == std::string::npos) return {};
  return set_cookie.substr(eq + 1, end - eq - 1);
}

WebSession SessionOf(const Http& response) {
  return {"__Host-medvault_session=" + CookieValue(response.set_cookie),
          Str(response.json, "csrf_token")};
}

namespace {

// Says on stderr which step of an account flow failed (the test then fails on what it lacks).
void Complain(std::string_view step, const Http& answer) {
  std::cerr << "harness: " << step << " answered " << answer.status << ": " << answer.body << "\n";
}

Enrolled EnrollTotpFromToken(unsigned short port, const std::string& token) {
  Enrolled out;
  auto totp =
      Send(port, "POST", "/auth/enroll/totp", "{\"enrollment_token\":" + Quoted(token) + "}");
  if (totp.status != 200) {
    Complain("POST /auth/enroll/totp", totp);
    return out;
  }
  out.secret = Str(totp.json, "secret");
  auto confirmed = Send(
      port, "POST", "/auth/enroll/totp/confirm",
      "{\"enrollment_token\":" + Quoted(token) + ",\"code\":" + Quoted(Oathtool(out.secret)) + "}");
  if (confirmed.status != 200) {
    Complain("POST /auth/enroll/totp/confirm", confirmed);
    return out;
  }
  out.confirm_set_cookie = confirmed.set_cookie;
  out.session = SessionOf(confirmed);
  if (const auto* codes = confirmed.json.if_contains("recovery_codes")) {
    for (const auto& c : codes->as_array()) out.recovery_codes.emplace_back(c.as_string());
  }
  return out;
}

}  // namespace

Env WithRelaxedAuth(Env env) {
  env.emplace("MEDVAULT_AUTH_SOURCE_BURST", "100000");
  env.emplace("MEDVAULT_AUTH_SOURCE_PER_MINUTE", "100000");
  env.emplace("MEDVAULT_AUTH_SECOND_FACTOR_AUDITOR", "passkey_or_totp");
  env.emplace("MEDVAULT_AUTH_SECOND_FACTOR_ADMINISTRATOR", "passkey_or_totp");
  return env;
}

Http SendAs(unsigned short port, const WebSession& session, std::string_view method,
            std::string_view target, std::string_view body, std::vector<std::string> headers,
            std::string_view content_type) {
  headers.push_back("Cookie: " + session.cookie);
  if (method != "GET") headers.push_back("X-CSRF-Token: " + session.csrf);
  return Send(port, method, target, body, headers, content_type);
}

namespace {

// Writes `resource` (JSON) as `type`/`id` through the API in `session`, then links `login` to
// it with `medvault user link`. False (and why on stderr) when either fails.
bool WriteAndLink(unsigned short port, const fs::path& vault, const WebSession& session,
                  const std::string& login, const std::string& type, const std::string& id,
                  const std::string& resource, const Env& env) {
  auto written = SendAs(port, session, "PUT", "/fhir/" + type + "/" + id, resource);
  if (written.status != 200 && written.status != 201) {
    std::cerr << "harness: the " << type << " was not written: " << written.body << "\n";
    return false;
  }
  auto linked = RunMedvault({"user", "link", "--dir", vault.string(), login, type + "/" + id}, env);
  if (linked.exit_code != 0) {
    std::cerr << "harness: medvault user link failed: " << linked.out << linked.err << "\n";
    return false;
  }
  return true;
}

}  // namespace

bool LinkClinician(unsigned short port, const fs::path& vault, const WebSession& session,
                   const std::string& login, const std::string& practitioner_id, const Env& env) {
  const std::string practitioner = R"({"resourceType":"Practitioner","id":")" + practitioner_id +
                                   R"(","name":[{"family":"Martin","given":["Camille"]}]})";
  return WriteAndLink(port, vault, session, login, "Practitioner", practitioner_id, practitioner,
                      env);
}

bool LinkLab(unsigned short port, const fs::path& vault, const WebSession& session,
             const std::string& login, const std::string& organization_id, const Env& env) {
  const std::string organization = R"({"resourceType":"Organization","id":")" + organization_id +
                                   R"(","name":"Laboratoire )" + organization_id + R"("})";
  return WriteAndLink(port, vault, session, login, "Organization", organization_id, organization,
                      env);
}

std::string TakeIntoCare(unsigned short port, const WebSession& session,
                         const std::string& practitioner_id, const std::string& patient_id) {
  const std::string team =
      R"({"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/)" +
      patient_id + R"("},"participant":[{"member":{"reference":"Practitioner/)" +
      practitioner_id + R"("}}]})";
  auto created = SendAs(port, session, "POST", "/fhir/CareTeam", team);
  if (created.status != 201) {
    std::cerr << "harness: the CareTeam was not created: " << created.body << "\n";
    return {};
  }
  const auto* id = created.json.if_contains("id");
  return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
}

std::string AddStaff(const fs::path& vault, const std::string& login, const std::string& kind,
                     const Env& env) {
  auto added = RunMedvault({"user", "add", "--dir", vault.string(), "--login", login, "--kind",
                            kind, "--name", "Camille Martin"},
                           env);
  std::smatch match;
  static const std::regex kCode("enrollment code[^:]*: ([0-9A-Z-]{19})");
  if (added.exit_code != 0 || !std::regex_search(added.out, match, kCode)) {
    std::cerr << "harness: medvault user add failed: " << added.out << added.err << "\n";
    return {};
  }
  const std::string code = match[1].str();
  static const std::regex kGrant("role grant ([0-9a-f-]+) ");
  if (std::regex_search(added.out, match, kGrant)) {  // an administrator is active: four eyes
    auto approved = RunMedvault({"user", "approve", "--dir", vault.string(), "--grant",
                                 match[1].str(), "--by", kCareAdministrator},
                                env);
    if (approved.exit_code != 0) {
      std::cerr << "harness: medvault user approve failed: " << approved.out << approved.err
                << "\n";
      return {};
    }
  }
  return code;
}

Enrolled EnrollCareAdministrator(unsigned short port, const fs::path& vault, const Env& env) {
  return EnrollWithTotp(port, AddStaff(vault, kCareAdministrator, "administrator", env));
}

Enrolled EnrollWithTotp(unsigned short port, const std::string& enrollment_code) {
  auto started =
      Send(port, "POST", "/auth/enroll",
           "{\"code\":" + Quoted(enrollment_code) + ",\"password\":" + Quoted(kTestPassword) + "}");
  if (started.status != 200) {
    Complain("POST /auth/enroll", started);
    return {};
  }
  return EnrollTotpFromToken(port, Str(started.json, "enrollment_token"));
}

Enrolled ActivatePatient(unsigned short port, const fs::path& vault, const std::string& patient_id,
                         const std::string& login, const Env& env) {
  auto issued = RunMedvault(
      {"user", "activation-code", "--dir", vault.string(), "--patient", patient_id}, env);
  std::smatch match;
  static const std::regex kCode("activation code[^:]*: ([0-9A-Z-]+)");
  if (issued.exit_code != 0 || !std::regex_search(issued.out, match, kCode)) {
    std::cerr << "harness: medvault user activation-code failed: " << issued.out << issued.err
              << "\n";
    return {};
  }
  auto activated =
      Send(port, "POST", "/auth/activate",
           "{\"code\":" + Quoted(match[1].str()) + ",\"login\":" + Quoted(login) +
               ",\"name\":\"Jeanne Petit\",\"password\":" + Quoted(kTestPassword) + "}");
  if (activated.status != 200) {
    Complain("POST /auth/activate", activated);
    return {};
  }
  return EnrollTotpFromToken(port, Str(activated.json, "enrollment_token"));
}

std::string SignClientAssertion(const fs::path& dir, const std::string& client_id,
                                const std::string& audience, const std::string& jti) {
  const fs::path script = dir / "sign.js";
  {
    std::ofstream file(script);
    file << kNodeSigner;
  }
  return RunTool("node " + script.string() + " " + dir.string() + " " + client_id + " " + audience +
                 " " + jti);
}

std::string ApiClientToken(unsigned short port, const fs::path& vault, const std::string& client_id,
                           const std::string& scopes, const Env& env,
                           const std::string& organization) {
  TempDir keys;
  const std::string endpoint = "https://127.0.0.1:" + std::to_string(port) + "/auth/token";
  const std::string jwt = SignClientAssertion(keys.path(), client_id, endpoint, client_id + "-1");
  if (jwt.empty()) {
    std::cerr << "harness: node could not sign an assertion (install nodejs)\n";
    return {};
  }
  std::vector<std::string> add = {"client",  "add",    "--dir",
                                   vault.string(), "--client-id", client_id,
                                   "--jwks",  (keys.path() / "jwks.json").string(),
                                   "--scopes", scopes};
  if (organization.empty()) {
    add.push_back("--all-organizations");
  } else {
    add.push_back("--organization");
    add.push_back(organization);
  }
  auto added = RunMedvault(add, env);
  if (added.exit_code != 0) {
    std::cerr << "harness: medvault client add failed: " << added.err << "\n";
    return {};
  }
  std::string scope_form;
  for (char c : scopes) {
    if (c == ' ') {
      scope_form += '+';
    } else if (c == '/') {
      scope_form += "%2F";
    } else {
      scope_form += c;
    }
  }
  const std::string form =
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
      "client-assertion-type%3Ajwt-bearer&scope=" +
      scope_form + "&client_assertion=" + jwt;
  auto token = Send(port, "POST", "/auth/token", form, {}, "application/x-www-form-urlencoded");
  if (token.status != 200) {
    Complain("POST /auth/token", token);
    return {};
  }
  return Str(token.json, "access_token");
}

}  // namespace medvault::testing
