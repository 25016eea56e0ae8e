// Strict parsing of auth request bodies, which come from anyone: a JSON object whose members
// are all strings, each named in the endpoint's allow-list and at most its length limit, the
// whole body at most kMaxAuthBodyBytes; or, for the OAuth token endpoint, an
// application/x-www-form-urlencoded body under the same rules. Anything else is
// kInvalidArgument with a message that names the rule broken and never quotes the input.
// Thread-safe: stateless.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault::api {

inline constexpr std::size_t kMaxAuthBodyBytes = 16 * 1024;

struct FieldRule {
  std::string_view name;
  std::size_t max_bytes;
  bool required = true;
};

// Member name -> value; only the members present.
using Fields = std::map<std::string, std::string, std::less<>>;

Result<Fields> ParseJsonFields(std::string_view body, std::span<const FieldRule> rules);
Result<Fields> ParseFormFields(std::string_view body, std::span<const FieldRule> rules);

}  // namespace medvault::api
