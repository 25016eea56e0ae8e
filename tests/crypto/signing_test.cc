#include "crypto/signing.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_bytes.h"

namespace medvault::crypto {
namespace {

using testing_bytes::FromHex;

// RFC 8032 section 7.1, test 1.
TEST(SigningKey, MatchesRfc8032Test1) {
  auto seed =
      Secret::CopyOf(FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(seed);
  auto key = SigningKey::FromSeed(*seed);
  ASSERT_TRUE(key);
  const auto public_key =
      FromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(std::vector<std::uint8_t>(key->public_key().begin(), key->public_key().end()),
            public_key);
  auto signature = key->Sign({});
  ASSERT_TRUE(signature);
  EXPECT_EQ(std::vector<std::uint8_t>(signature->begin(), signature->end()),
            FromHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a3"
                    "3bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
}

}  // namespace
}  // namespace medvault::crypto
