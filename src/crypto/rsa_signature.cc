#include "crypto/rsa_signature.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include <bit>
#include <utility>

#include "crypto/openssl_keys.h"

namespace medvault::crypto {
namespace {

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
  OpenSslPtr<BIGNUM> n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  OpenSslPtr<BIGNUM> e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  OpenSslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL cannot build RSA parameters");
  }
  OpenSslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return Fail(ErrorCode::kInternal, "OpenSSL cannot build RSA parameters");
  OpenSslPtr<EVP_PKEY> key = CheckedPublicKey("RSA", params.get());
  if (!key) return Malformed("RSA key is not a valid public key");
  return RsaPublicKey(
      std::shared_ptr<const evp_pkey_st>(
          key.release(), [](const EVP_PKEY* k) { EVP_PKEY_free(const_cast<EVP_PKEY*>(k)); }),
      modulus.size());
}

bool RsaPublicKey::Verify(RsaDigest digest, std::span<const std::uint8_t> message,
                          std::span<const std::uint8_t> signature) const {
  if (!key_ || signature.size() != modulus_bytes_) return false;
  OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
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
