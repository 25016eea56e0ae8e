// libFuzzer target for the passkey parsers: the first input byte picks what the rest is
// (an attestation object, authenticator data, client data JSON, a COSE key, a registration
// response, or a COSE key and an assertion response), and it runs through the same functions
// VerifyRegistration and VerifyAssertion use. A broken invariant aborts, so libFuzzer and the
// ctest replay both report it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "identity/cbor_item.h"
#include "identity/cose_key.h"
#include "identity/webauthn.h"
#include "identity/webauthn_formats.h"

namespace {

namespace identity = medvault::identity;
namespace formats = medvault::identity::webauthn_formats;
using Bytes = std::span<const std::uint8_t>;

enum Mode : std::uint8_t {
  kAttestationObject = 0,
  kAuthenticatorData = 1,
  kClientData = 2,
  kCoseKey = 3,
  kRegistration = 4,
  kAssertion = 5,
  kModes = 6,
};

// The relying party and challenge the corpus was written for (fuzz/corpus/webauthn).
const identity::RelyingParty& Rp() {
  static const identity::RelyingParty rp{
      .id = "medvault.example", .name = "medvault", .origins = {"https://medvault.example"}};
  return rp;
}
const std::vector<std::uint8_t> kChallenge = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                                              0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "webauthn_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

void CheckCoseKey(Bytes bytes) {
  auto key = identity::CosePublicKey::Parse(bytes);
  if (!key) return;
  Check(key->algorithm() == identity::CoseAlgorithm::kEs256 ||
            key->algorithm() == identity::CoseAlgorithm::kEdDsa ||
            key->algorithm() == identity::CoseAlgorithm::kRs256,
        "parsed key has an unsupported algorithm");
  Check(!key->Verify(bytes, {}), "an empty signature verified");
}

// A parsed authData accounts for every input byte and respects the limits.
void CheckAuthenticatorData(Bytes bytes) {
  auto data = formats::ParseAuthenticatorData(bytes);
  if (!data) return;
  std::size_t accounted = 37 + data->extensions.size();
  Check(data->attested.has_value() == ((data->flags & formats::kFlagAttestedCredentialData) != 0),
        "attested credential data disagrees with the AT flag");
  Check(data->extensions.empty() == ((data->flags & formats::kFlagExtensionData) == 0),
        "extensions disagree with the ED flag");
  if (data->attested) {
    const auto& attested = *data->attested;
    Check(!attested.credential_id.empty() &&
              attested.credential_id.size() <= formats::kMaxCredentialIdBytes,
          "credential id length out of range");
    Check(!attested.cose_public_key.empty(), "empty COSE key accepted");
    accounted +=
        formats::kAaguidBytes + 2 + attested.credential_id.size() + attested.cose_public_key.size();
    CheckCoseKey(attested.cose_public_key);
  }
  Check(accounted == bytes.size(), "authenticator data bytes not accounted for");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto mode = static_cast<Mode>(data[0] % kModes);
  const Bytes rest(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());

  // Every decoded CBOR prefix is consistent with its measured length.
  if (auto length = identity::CborItemLength(rest); length) {
    Check(*length >= 1 && *length <= rest.size(), "CBOR length outside the input");
    Check(identity::DecodeCbor(rest.first(*length)).has_value(),
          "a well-formed CBOR prefix did not decode");
  }

  switch (mode) {
    case kAttestationObject:
      if (auto object = formats::ParseAttestationObject(rest); object) {
        Check(identity::DecodeCbor(object->statement).has_value(), "statement does not decode");
        CheckAuthenticatorData(object->auth_data);
      }
      break;
    case kAuthenticatorData:
      CheckAuthenticatorData(rest);
      break;
    case kClientData:
      if (auto client = formats::ParseClientData(rest); client) {
        Check(rest.size() <= formats::kMaxClientDataBytes, "oversized client data accepted");
      }
      break;
    case kCoseKey:
      CheckCoseKey(rest);
      break;
    case kRegistration:
      for (auto uv :
           {identity::UserVerification::kRequired, identity::UserVerification::kPreferred}) {
        if (auto credential = identity::VerifyRegistration(Rp(), kChallenge, text, uv);
            credential) {
          Check(identity::CosePublicKey::Parse(credential->cose_public_key).has_value(),
                "registered a key that does not parse");
          Check(uv == identity::UserVerification::kPreferred || credential->user_verified,
                "registered without user verification although required");
        }
      }
      break;
    case kAssertion: {
      // Two length bytes, the stored COSE key, then the assertion JSON.
      if (rest.size() < 2) break;
      const std::size_t key_length = (std::size_t{rest[0]} << 8) | rest[1];
      if (rest.size() - 2 < key_length) break;
      identity::RegisteredCredential stored;
      stored.cose_public_key.assign(rest.begin() + 2, rest.begin() + 2 + key_length);
      auto key = identity::CosePublicKey::Parse(stored.cose_public_key);
      if (!key) break;
      stored.algorithm = static_cast<int>(key->algorithm());
      const std::string_view json = text.substr(2 + key_length);
      auto id = identity::AssertionCredentialId(json);
      if (!id) break;
      stored.id = *id;
      for (std::uint32_t count : {0u, 1000u}) {
        stored.sign_count = count;
        auto outcome = identity::VerifyAssertion(Rp(), kChallenge, stored, json,
                                                 identity::UserVerification::kPreferred);
        if (outcome) {
          Check(outcome->sign_count > count || (outcome->sign_count == 0 && count == 0),
                "accepted a sign count that did not increase");
          Check(outcome->credential_id == stored.id, "accepted another credential");
        }
      }
      break;
    }
    case kModes:
      break;
  }
  return 0;
}
