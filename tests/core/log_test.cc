#include "core/log.h"

#include <gtest/gtest.h>

namespace medvault::log {
namespace {

TEST(Log, FormatsOneJsonObjectWithTypedFields) {
  std::string line = Format("2026-01-01T00:00:00.000000Z", Level::kInfo, "request",
                            {{"route", std::string_view("/fhir/{type}")},
                             {"status", std::int64_t{200}},
                             {"tls", true},
                             {"duration_ms", 1.5}});
  EXPECT_EQ(line,
            R"({"time":"2026-01-01T00:00:00.000000Z","level":"info","event":"request",)"
            R"("route":"/fhir/{type}","status":200,"tls":true,"duration_ms":1.500})");
}

TEST(Log, EscapesQuotesAndControlCharactersSoALineStaysOneLine) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, R"("a\"b\\c\nd\u0001")");
}

}  // namespace
}  // namespace medvault::log
