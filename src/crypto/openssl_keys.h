// What medvault's signature checks share about OpenSSL: owners for the objects they build
// (keys, contexts, parameter builders, big numbers, ECDSA signatures), a std::unique_ptr that
// frees each with OpenSSL's own function, and public keys built from their raw components.
// Thread-safe: stateless.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

namespace medvault::crypto {

struct OpenSslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree>;

// A public key of `type` ("RSA" or "EC") from OSSL_PARAMs, kept only when OpenSSL's public key
// check passes (for EC: the point is on the curve, not at infinity, of the right order). Null
// when OpenSSL refuses the parameters or the check fails.
OpenSslPtr<EVP_PKEY> CheckedPublicKey(const char* type, const OSSL_PARAM* params);

}  // namespace medvault::crypto
