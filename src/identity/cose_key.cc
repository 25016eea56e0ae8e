#include "identity/cose_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "core/secret.h"
#include "crypto/openssl_keys.h"
#include "crypto/signing.h"
#include "identity/cbor_item.h"

namespace medvault::identity {
namespace {

// COSE labels and values (RFC 9052 section 7, RFC 9053 sections 7.1 and 7.2).
constexpr std::int64_t kLabelKty = 1;
constexpr std::int64_t kLabelAlg = 3;
constexpr std::int64_t kLabelCrv = -1;
constexpr std::int64_t kLabelX = -2;
constexpr std::int64_t kLabelY = -3;
constexpr std::int64_t kLabelRsaN = -1;  // RFC 8230 section 4: the labels of a kty 3 key
constexpr std::int64_t kLabelRsaE = -2;
constexpr std::int64_t kKtyOkp = 1;
constexpr std::int64_t kKtyEc2 = 2;
constexpr std::int64_t kKtyRsa = 3;
constexpr std::int64_t kCrvP256 = 1;
constexpr std::int64_t kCrvEd25519 = 6;

constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kP256PointBytes = 1 + 2 * kP256CoordinateBytes;
// A DER ECDSA-Sig-Value on P-256 is at most 72 bytes; anything longer is not one.
constexpr std::size_t kMaxEs256SignatureBytes = 72;

using Pkey = crypto::OpenSslPtr<EVP_PKEY>;

// The OpenSSL key for a P-256 uncompressed point; null when the point is not on the curve.
Pkey P256Key(std::span<const std::uint8_t> point) {
  if (point.size() != kP256PointBytes || point[0] != 0x04) return nullptr;
  char group[] = "P-256";
  std::array<std::uint8_t, kP256PointBytes> octets{};
  std::copy(point.begin(), point.end(), octets.begin());
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, octets.data(), octets.size()),
      OSSL_PARAM_construct_end(),
  };
  return crypto::CheckedPublicKey("EC", params);
}

bool VerifyEs256(const EVP_PKEY* key, std::span<const std::uint8_t> message,
                 std::span<const std::uint8_t> signature) {
  if (key == nullptr || signature.empty() || signature.size() > kMaxEs256SignatureBytes) {
    return false;
  }
  crypto::OpenSslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  // OpenSSL takes the key as non-const but only reads it here (up_ref for the context).
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                      const_cast<EVP_PKEY*>(key), nullptr) != 1) {
    return false;
  }
  // OpenSSL parses the DER signature and refuses it unless re-encoding gives the same bytes.
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

}  // namespace

Result<CosePublicKey> CosePublicKey::FromP256Point(
    std::span<const std::uint8_t> uncompressed_point) {
  Pkey key = P256Key(uncompressed_point);
  if (!key) return Fail(ErrorCode::kInvalidArgument, "not a valid P-256 public key");
  return CosePublicKey(
      CoseAlgorithm::kEs256,
      std::vector<std::uint8_t>(uncompressed_point.begin(), uncompressed_point.end()),
      std::shared_ptr<const EVP_PKEY>(
          key.release(), [](const EVP_PKEY* k) { EVP_PKEY_free(const_cast<EVP_PKEY*>(k)); }));
}

Result<CosePublicKey> CosePublicKey::FromEd25519(std::span<const std::uint8_t> public_key) {
  if (public_key.size() != crypto::kEd25519PublicKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "an Ed25519 public key is 32 bytes");
  }
  // A canonical encoding of a point in the prime-order subgroup, not of small order: no
  // signature could ever verify under anything else, so such a key is refused at registration.
  if (!InitSodium() || crypto_core_ed25519_is_valid_point(public_key.data()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "not a valid Ed25519 public key");
  }
  return CosePublicKey(CoseAlgorithm::kEdDsa,
                       std::vector<std::uint8_t>(public_key.begin(), public_key.end()), nullptr);
}

Result<CosePublicKey> CosePublicKey::FromRsa(std::span<const std::uint8_t> modulus,
                                             std::span<const std::uint8_t> exponent) {
  auto key = crypto::RsaPublicKey::FromModulusAndExponent(modulus, exponent);
  if (!key) return std::unexpected(key.error());
  return CosePublicKey(std::move(*key));
}

Result<CosePublicKey> CosePublicKey::Parse(std::span<const std::uint8_t> cose_key) {
  auto decoded = DecodeCbor(cose_key);
  if (!decoded) return std::unexpected(decoded.error());
  const cbor_item_t* map = decoded->get();
  if (!cbor_isa_map(map)) return Fail(ErrorCode::kInvalidArgument, "COSE key is not a map");

  // Members by label first: what a label means depends on the key type (-1 is the curve of an
  // EC2 or OKP key but the modulus of an RSA key), so nothing is read before alg is known.
  std::map<std::int64_t, const cbor_item_t*> members;
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const auto label = CborInteger(pairs[i].key);
    if (!label) return Fail(ErrorCode::kInvalidArgument, "COSE key label is not an integer");
    if (!members.emplace(*label, pairs[i].value).second) {
      return Fail(ErrorCode::kInvalidArgument, "COSE key has a duplicate label");
    }
  }
  const auto integer = [&](std::int64_t label) -> std::optional<std::int64_t> {
    const auto found = members.find(label);
    return found == members.end() ? std::nullopt : CborInteger(found->second);
  };
  const auto bytes = [&](std::int64_t label) -> std::optional<std::span<const std::uint8_t>> {
    const auto found = members.find(label);
    return found == members.end() ? std::nullopt : CborBytes(found->second);
  };
  const auto only = [&](std::initializer_list<std::int64_t> allowed) {
    for (const auto& [label, value] : members) {
      if (std::find(allowed.begin(), allowed.end(), label) == allowed.end()) return false;
    }
    return true;
  };

  const std::optional<std::int64_t> alg = integer(kLabelAlg);
  if (!alg) return Fail(ErrorCode::kInvalidArgument, "COSE key lacks an integer alg");
  const std::optional<std::int64_t> kty = integer(kLabelKty);
  const std::optional<std::int64_t> crv = integer(kLabelCrv);
  const auto x = bytes(kLabelX);

  if (*alg == static_cast<int>(CoseAlgorithm::kEs256)) {
    const auto y = bytes(kLabelY);
    if (kty != kKtyEc2 || crv != kCrvP256 || !x || !y || x->size() != kP256CoordinateBytes ||
        y->size() != kP256CoordinateBytes) {
      return Fail(ErrorCode::kInvalidArgument, "ES256 key must be an EC2 P-256 point");
    }
    if (!only({kLabelKty, kLabelAlg, kLabelCrv, kLabelX, kLabelY})) {
      return Fail(ErrorCode::kInvalidArgument, "COSE key has an unexpected member");
    }
    std::vector<std::uint8_t> point;
    point.reserve(kP256PointBytes);
    point.push_back(0x04);
    point.insert(point.end(), x->begin(), x->end());
    point.insert(point.end(), y->begin(), y->end());
    return FromP256Point(point);
  }
  if (*alg == static_cast<int>(CoseAlgorithm::kEdDsa)) {
    if (kty != kKtyOkp || crv != kCrvEd25519 || !x) {
      return Fail(ErrorCode::kInvalidArgument, "EdDSA key must be an OKP Ed25519 key");
    }
    if (!only({kLabelKty, kLabelAlg, kLabelCrv, kLabelX})) {
      return Fail(ErrorCode::kInvalidArgument, "COSE key has an unexpected member");
    }
    return FromEd25519(*x);
  }
  if (*alg == static_cast<int>(CoseAlgorithm::kRs256)) {
    const auto n = bytes(kLabelRsaN);
    const auto e = bytes(kLabelRsaE);
    if (kty != kKtyRsa || !n || !e) {
      return Fail(ErrorCode::kInvalidArgument, "RS256 key must be an RSA key with n and e");
    }
    // Only the public members: a key carrying d, p, q... is not what an authenticator sends.
    if (!only({kLabelKty, kLabelAlg, kLabelRsaN, kLabelRsaE})) {
      return Fail(ErrorCode::kInvalidArgument, "COSE key has an unexpected member");
    }
    return FromRsa(*n, *e);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "COSE algorithm is not supported (only ES256, EdDSA and RS256)");
}

bool CosePublicKey::Verify(std::span<const std::uint8_t> message,
                           std::span<const std::uint8_t> signature) const {
  switch (algorithm_) {
    case CoseAlgorithm::kEs256:
      return VerifyEs256(es256_key_.get(), message, signature);
    case CoseAlgorithm::kEdDsa:
      return crypto::VerifyEd25519(key_, message, signature);
    case CoseAlgorithm::kRs256:
      return rs256_key_ && rs256_key_->Verify(crypto::RsaDigest::kSha256, message, signature);
  }
  return false;
}

}  // namespace medvault::identity
