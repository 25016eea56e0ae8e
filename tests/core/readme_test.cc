// The README's configuration reference is checked against the keys the code declares, so
// the two never drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/config.h"

namespace medvault {
namespace {

TEST(Readme, ConfigurationReferenceListsEveryKeyWithItsDefaultAndVariable) {
  std::ifstream in(std::string(MEDVAULT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  auto keys = DescribeConfigKeys();
  ASSERT_FALSE(keys.empty());
  for (const auto& key : keys) {
    std::string row = "| `" + key.name + "` | " + key.type + " | `" + key.default_value +
                      "` | `" + key.env_var + "` |";
    EXPECT_NE(readme.find(row), std::string::npos) << "README lacks the row starting: " << row;
  }
}

}  // namespace
}  // namespace medvault
