// Helpers of the fhir tests: reading the example resources and finding issues.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/resource.h"

namespace medvault::fhir::testing {

inline std::filesystem::path ExamplesDir() { return MEDVAULT_FHIR_EXAMPLES_DIR; }

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// The example file tests/fhir/examples/<name>.json, parsed with ParseResource.
inline boost::json::object Example(std::string_view name) {
  const std::string text = ReadFile(ExamplesDir() / (std::string(name) + ".json"));
  auto resource = ParseResource(text);
  EXPECT_TRUE(resource.has_value()) << name;
  return resource ? *resource : boost::json::object();
}

inline std::string Describe(const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& issue : issues)
    out += "  " + issue.expression + ": " + issue.diagnostics + "\n";
  return out;
}

// Whether an issue names exactly `expression` (with `code` when given).
inline bool HasIssue(const std::vector<Issue>& issues, std::string_view expression) {
  for (const Issue& issue : issues) {
    if (issue.expression == expression) return true;
  }
  return false;
}
inline bool HasIssue(const std::vector<Issue>& issues, std::string_view expression,
                     IssueType code) {
  for (const Issue& issue : issues) {
    if (issue.expression == expression && issue.code == code) return true;
  }
  return false;
}

// Validate with default options.
inline std::vector<Issue> Check(const boost::json::object& resource, ValidateOptions options = {}) {
  return Validate(resource, options);
}

// A copy of `resource` with `change` applied to it.
template <typename Change>
boost::json::object With(boost::json::object resource, Change change) {
  change(resource);
  return resource;
}

}  // namespace medvault::fhir::testing
