// Assertions made by an outside signer: Node's built-in crypto module (no npm package), run as
// a child process. It generates its own key pair, publishes the public JWK as Node exports it,
// and signs the assertion as a SMART Backend Services client would.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "identity/client_assertion.h"

extern char** environ;

namespace medvault::identity {
namespace {

constexpr std::string_view kClientId = "his-backend-01";
constexpr std::string_view kTokenEndpoint = "https://medvault.example/auth/token";
constexpr std::int64_t kNow = 1'767'225'600;

// argv: alg kid client_id aud exp jti. Prints {"jwk", "jwks", "jwt", "der_jwt"}: der_jwt is
// the same assertion with the ECDSA signature in DER, Node's default encoding.
constexpr const char* kNodeSigner = R"js(
const crypto = require('crypto');
const [alg, kid, clientId, aud, exp, jti] = process.argv.slice(1);
const { publicKey, privateKey } = alg === 'ES384'
  ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' })
  : crypto.generateKeyPairSync('rsa', { modulusLength: 3072 });
const jwk = Object.assign(publicKey.export({ format: 'jwk' }), { kid, alg, use: 'sig' });
const b64 = (text) => Buffer.from(text).toString('base64url');
const input = b64(JSON.stringify({ alg, kid, typ: 'JWT' })) + '.' +
  b64(JSON.stringify({ iss: clientId, sub: clientId, aud, exp: Number(exp), jti }));
const sign = (dsaEncoding) =>
  crypto.sign('sha384', Buffer.from(input), { key: privateKey, dsaEncoding }).toString('base64url');
process.stdout.write(JSON.stringify({
  jwk: JSON.stringify(jwk),
  jwks: JSON.stringify({ keys: [jwk] }),
  jwt: input + '.' + sign('ieee-p1363'),
  der_jwt: input + '.' + sign('der'),
}));
)js";

struct NodeOutput {
  std::string jwk, jwks, jwt, der_jwt;
};

// Runs `node -e kNodeSigner args...` and returns what it printed; fails the test if node cannot
// run (scripts/lib.sh installs nodejs for the test suite).
std::string RunNode(std::vector<std::string> args) {
  std::vector<std::string> argv_strings{"node", "-e", kNodeSigner};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe(out) != 0) return {};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, "node", &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string output;
  if (rc == 0) {
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) output.append(buffer, n);
  }
  ::close(out[0]);
  if (rc != 0) {
    ADD_FAILURE() << "cannot run node (install nodejs): error " << rc;
    return {};
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node failed";
  return output;
}

NodeOutput SignWithNode(std::string_view alg, std::int64_t exp, std::string_view jti) {
  const std::string printed =
      RunNode({std::string(alg), "node-key-1", std::string(kClientId), std::string(kTokenEndpoint),
               std::to_string(exp), std::string(jti)});
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(printed, ec);
  if (ec || !value.is_object()) {
    ADD_FAILURE() << "node printed no JSON object";
    return {};
  }
  const boost::json::object& object = value.as_object();
  auto member = [&object](std::string_view name) {
    const boost::json::value* found = object.if_contains(name);
    return found && found->is_string() ? std::string(found->as_string()) : std::string();
  };
  return {member("jwk"), member("jwks"), member("jwt"), member("der_jwt")};
}

Timestamp Now() { return Timestamp(std::chrono::seconds(kNow)); }

class NodeSigned : public ::testing::TestWithParam<std::string_view> {};

TEST_P(NodeSigned, AssertionFromNodeIsAccepted) {
  const NodeOutput node = SignWithNode(GetParam(), kNow + 120, "node-jti-1");
  auto key = ParseClientJwk(node.jwk);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(JwsAlgorithmName(key->algorithm()), GetParam());
  auto keys = ParseClientJwks(node.jwks);
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].SubjectPublicKeyInfoDer(), key->SubjectPublicKeyInfoDer());

  auto accepted = VerifyClientAssertion(node.jwt, *keys, kClientId, kTokenEndpoint, Now());
  ASSERT_TRUE(accepted.has_value()) << accepted.error().message();
  EXPECT_EQ(accepted->client_id, kClientId);
  EXPECT_EQ(accepted->jti, "node-jti-1");
  EXPECT_EQ(accepted->expires_at, Timestamp(std::chrono::seconds(kNow + 120)));
}

TEST_P(NodeSigned, NodeAssertionIsRefusedOnceExpiredOrForAnotherEndpoint) {
  const NodeOutput node = SignWithNode(GetParam(), kNow + 120, "node-jti-2");
  auto keys = ParseClientJwks(node.jwks);
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  auto late = VerifyClientAssertion(node.jwt, *keys, kClientId, kTokenEndpoint,
                                    Now() + std::chrono::seconds(150));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), ErrorCode::kPermissionDenied);
  auto elsewhere =
      VerifyClientAssertion(node.jwt, *keys, kClientId, "https://other.example/auth/token", Now());
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_EQ(elsewhere.error().code(), ErrorCode::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, NodeSigned, ::testing::Values("RS384", "ES384"),
                         [](const auto& info) { return std::string(info.param); });

TEST(NodeSigned, DerEncodedEs384SignatureFromNodeIsRefused) {
  const NodeOutput node = SignWithNode("ES384", kNow + 120, "node-jti-3");
  auto keys = ParseClientJwks(node.jwks);
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  ASSERT_TRUE(VerifyClientAssertion(node.jwt, *keys, kClientId, kTokenEndpoint, Now()));
  auto der = VerifyClientAssertion(node.der_jwt, *keys, kClientId, kTokenEndpoint, Now());
  ASSERT_FALSE(der.has_value());
  EXPECT_EQ(der.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(der.error().message().find("signature"), std::string::npos);
}

}  // namespace
}  // namespace medvault::identity
