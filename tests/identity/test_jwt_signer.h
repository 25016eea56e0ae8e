// Test-only: OpenSSL-generated RSA and P-384 key pairs that publish their JWK and sign compact
// JWS the way a SMART Backend Services client does, so assertions are made inside each test.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.h"

namespace medvault::identity::testing {

inline std::string B64(std::span<const std::uint8_t> bytes) {
  return EncodeBase64(bytes, Base64Alphabet::kUrlSafe);
}
inline std::string B64(std::string_view text) {
  return B64(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

class TestSigner {
 public:
  enum class Kind { kRsa, kP384 };

  static TestSigner Rsa(unsigned bits) { return TestSigner(Kind::kRsa, EVP_RSA_gen(bits)); }
  static TestSigner P384() { return TestSigner(Kind::kP384, EVP_EC_gen("P-384")); }

  Kind kind() const { return kind_; }
  std::string_view alg() const { return kind_ == Kind::kRsa ? "RS384" : "ES384"; }

  // The public JWK members (kty, n/e or crv/x/y), to which a test adds kid and others.
  boost::json::object PublicJwkObject() const {
    boost::json::object jwk;
    if (kind_ == Kind::kRsa) {
      jwk["kty"] = "RSA";
      jwk["n"] = B64(BnParam(OSSL_PKEY_PARAM_RSA_N));
      jwk["e"] = B64(BnParam(OSSL_PKEY_PARAM_RSA_E));
    } else {
      std::vector<std::uint8_t> point(1 + 2 * 48);
      std::size_t length = 0;
      EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                      point.size(), &length);
      if (length != point.size()) throw std::runtime_error("unexpected P-384 point size");
      jwk["kty"] = "EC";
      jwk["crv"] = "P-384";
      jwk["x"] = B64(std::span(point).subspan(1, 48));
      jwk["y"] = B64(std::span(point).subspan(49, 48));
    }
    return jwk;
  }

  std::string PublicJwk(std::string_view kid) const {
    boost::json::object jwk = PublicJwkObject();
    jwk["kid"] = kid;
    return boost::json::serialize(jwk);
  }

  std::vector<std::uint8_t> SubjectPublicKeyInfoDer() const {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key_.get(), &der);
    std::vector<std::uint8_t> out(der, der + length);
    OPENSSL_free(der);
    return out;
  }

  // SHA-384 signature as OpenSSL makes it: PKCS#1 v1.5 for RSA, DER for ECDSA.
  std::vector<std::uint8_t> SignNative(std::string_view input) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key_.get());
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size());
    std::vector<std::uint8_t> out(length);
    EVP_DigestSign(ctx.get(), out.data(), &length, data, input.size());
    out.resize(length);
    return out;
  }

  // The JWS signature: as SignNative for RSA, r||s (48 bytes each) for ES384.
  std::vector<std::uint8_t> SignJws(std::string_view input) const {
    std::vector<std::uint8_t> native = SignNative(input);
    if (kind_ == Kind::kRsa) return native;
    const unsigned char* p = native.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(native.size()));
    std::vector<std::uint8_t> out(96);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), out.data(), 48);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out.data() + 48, 48);
    ECDSA_SIG_free(sig);
    return out;
  }

  // header.payload.signature with the given header and claims JSON texts.
  std::string Jwt(std::string_view header_json, std::string_view claims_json) const {
    std::string input = B64(header_json) + "." + B64(claims_json);
    return input + "." + B64(SignJws(input));
  }

 private:
  TestSigner(Kind kind, EVP_PKEY* key) : kind_(kind), key_(key, EVP_PKEY_free) {
    if (key == nullptr) throw std::runtime_error("key generation failed");
  }

  std::vector<std::uint8_t> BnParam(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, out.data());
    BN_free(bn);
    return out;
  }

  Kind kind_;
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace medvault::identity::testing
