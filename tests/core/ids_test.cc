#include "core/ids.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace medvault {
namespace {

TEST(ResourceId, IsAVersion4UuidAndAValidFhirId) {
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::regex fhir_id("[A-Za-z0-9\\-\\.]{1,64}");
  for (int i = 0; i < 100; ++i) {
    std::string id = NewResourceId();
    EXPECT_TRUE(std::regex_match(id, uuid4)) << id;
    EXPECT_TRUE(std::regex_match(id, fhir_id)) << id;
  }
}

TEST(ResourceId, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(NewResourceId()).second);
}

}  // namespace
}  // namespace medvault
