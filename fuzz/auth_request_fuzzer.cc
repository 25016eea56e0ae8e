// libFuzzer target for the auth endpoints' body parsers (src/api/auth_request.h): any bytes
// as a JSON body and as a form body, against the login and token endpoints' rules. Every
// accepted member must be one the rules name, within its length; a broken invariant aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/auth_request.h"

namespace {

using medvault::api::FieldRule;

constexpr FieldRule kRules[] = {
    {"login", 64}, {"password", 1024}, {"code", 64, false}, {"scope", 256, false}};

void Check(const medvault::Result<medvault::api::Fields>& fields) {
  if (!fields) return;
  for (const auto& [name, value] : *fields) {
    bool named = false;
    for (const auto& rule : kRules) {
      if (rule.name == name) {
        named = true;
        if (value.size() > rule.max_bytes) std::abort();
      }
    }
    if (!named) std::abort();
  }
  if (!fields->contains("login") || !fields->contains("password")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  Check(medvault::api::ParseJsonFields(body, kRules));
  Check(medvault::api::ParseFormFields(body, kRules));
  return 0;
}
