#include "crypto/openssl_keys.h"

namespace medvault::crypto {

OpenSslPtr<EVP_PKEY> CheckedPublicKey(const char* type, const OSSL_PARAM* params) {
  OpenSslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  // fromdata only reads the parameters despite taking them as non-const.
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
      1) {
    return nullptr;
  }
  OpenSslPtr<EVP_PKEY> key(raw);
  OpenSslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!key || !check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

}  // namespace medvault::crypto
