#include "crypto/rsa_signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <bit>
#include <utility>

namespace medvault::crypto {
namespace {

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};

std::unexpected<Error> Malformed(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

const char* DigestName(RsaDigest digest) {
  switch (digest) {
    case RsaDigest::kSha256:
      return "SHA256";
    case RsaDigest::kSha384:
      return "SHA384";
  }
  return nullptr;
}

}  // namespace

Result<RsaPublicKey> RsaPublicKey::FromModulusAndExponent(std::span<const std::uint8_t> modulus,
                                                          std::span<const std::uint8_t> exponent) {
  if (modulus.empty() || exponent.empty()) return Malformed("RSA modulus or exponent is empty");
  if (modulus[0] == 0 || exponent[0] == 0) {
    return Malformed("RSA modulus or exponent has a leading zero octet");
  }
  const std::size_t bits =
      modulus.size() * 8 - static_cast<std::size_t>(std::countl_zero(modulus[0]));
  if (bits < kMinRsaModulusBits) return Malformed("RSA modulus is shorter than 2048 bits");
  if (bits > kMaxRsaModulusBits) return Malformed("RSA modulus is longer than 8192 bits");
  if (exponent.size() > 8 || (exponent.back() & 1) == 0 ||
      (exponent.size() == 1 && exponent[0] == 1)) {
    return Malformed("RSA exponent is not an odd number between 3 and 2^64");
  }
  std::unique_ptr<BIGNUM, BnFree> n(
      BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> e(
      BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL cannot build RSA parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL cannot build RSA keys");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 ||
      raw == nullptr) {
    return Malformed("RSA key is not a valid public key");
  }
  std::shared_ptr<const evp_pkey_st> key(
      raw, [](const EVP_PKEY* k) { EVP_PKEY_free(const_cast<EVP_PKEY*>(k)); });
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Malformed("RSA public key fails its validity check");
  }
  return RsaPublicKey(std::move(key), modulus.size());
}

bool RsaPublicKey::Verify(RsaDigest digest, std::span<const std::uint8_t> message,
                          std::span<const std::uint8_t> signature) const {
  if (!key_ || signature.size() != modulus_bytes_) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  // OpenSSL takes the key as non-const but only reads it here (up_ref for the context).
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pkey_ctx, DigestName(digest), nullptr, nullptr,
                              const_cast<EVP_PKEY*>(key_.get()), nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace medvault::crypto
