#include "identity/smart_scopes.h"

#include <algorithm>
#include <utility>

namespace medvault::identity {
namespace {

constexpr std::string_view kSystemScopes[] = {
    "openid",         "fhirUser",         "profile",        "launch",
    "launch/patient", "launch/encounter", "offline_access", "online_access",
};

std::unexpected<Error> Malformed(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsServedType(std::string_view type) {
  return type == "*" || std::find(std::begin(kSmartResourceTypes), std::end(kSmartResourceTypes),
                                  type) != std::end(kSmartResourceTypes);
}

std::string_view ContextName(SmartScope::Context context) {
  switch (context) {
    case SmartScope::Context::kPatient:
      return "patient";
    case SmartScope::Context::kUser:
      return "user";
    case SmartScope::Context::kSystem:
      return "system";
  }
  return "system";
}

// v2 `cruds` subsets in order, or a v1 alias.
Status ParsePermissions(std::string_view text, SmartScope& scope) {
  if (text == "read") {
    scope.read = scope.search = true;
    return {};
  }
  if (text == "write") {
    scope.create = scope.update = scope.delete_ = true;
    return {};
  }
  if (text == "*") {
    scope.create = scope.read = scope.update = scope.delete_ = scope.search = true;
    return {};
  }
  if (text.empty()) return Malformed("scope has no permissions");
  constexpr std::string_view kOrder = "cruds";
  bool* flags[] = {&scope.create, &scope.read, &scope.update, &scope.delete_, &scope.search};
  std::size_t next = 0;  // the first letter of kOrder still allowed
  for (char letter : text) {
    const std::size_t at = kOrder.find(letter, next);
    if (at == std::string_view::npos) {
      return Malformed("scope permissions are not a subset of cruds in that order");
    }
    *flags[at] = true;
    next = at + 1;
  }
  return {};
}

Result<SmartScope> ParseOne(std::string_view token) {
  if (std::find(std::begin(kSystemScopes), std::end(kSystemScopes), token) !=
      std::end(kSystemScopes)) {
    return Malformed(
        "openid, fhirUser, profile, launch, offline_access and online_access scopes are not "
        "available to backend clients");
  }
  if (token.find('?') != std::string_view::npos) {
    return Malformed("scope query restrictions (?param=) are not supported");
  }
  SmartScope scope;
  const std::size_t slash = token.find('/');
  if (slash == std::string_view::npos) return Malformed("scope is not context/Type.permissions");
  const std::string_view context = token.substr(0, slash);
  if (context == "patient") {
    scope.context = SmartScope::Context::kPatient;
  } else if (context == "user") {
    scope.context = SmartScope::Context::kUser;
  } else if (context == "system") {
    scope.context = SmartScope::Context::kSystem;
  } else {
    return Malformed("scope context is not patient, user or system");
  }
  const std::string_view rest = token.substr(slash + 1);
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return Malformed("scope is not context/Type.permissions");
  const std::string_view type = rest.substr(0, dot);
  if (!IsServedType(type)) return Malformed("scope resource type is not one medvault serves");
  scope.resource_type = std::string(type);
  auto permissions = ParsePermissions(rest.substr(dot + 1), scope);
  if (!permissions) return std::unexpected(permissions.error());
  return scope;
}

bool Any(const SmartScope& scope) {
  return scope.create || scope.read || scope.update || scope.delete_ || scope.search;
}

bool Has(const SmartScope& scope, SmartInteraction interaction) {
  switch (interaction) {
    case SmartInteraction::kCreate:
      return scope.create;
    case SmartInteraction::kRead:
      return scope.read;
    case SmartInteraction::kUpdate:
      return scope.update;
    case SmartInteraction::kDelete:
      return scope.delete_;
    case SmartInteraction::kSearch:
      return scope.search;
  }
  return false;
}

}  // namespace

Result<std::vector<SmartScope>> ParseSmartScopes(std::string_view space_separated) {
  if (space_separated.size() > kMaxScopeStringBytes) {
    return Malformed("scope string is longer than 4096 bytes");
  }
  for (char c : space_separated) {
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by spaces.
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      return Malformed("scope string has a character RFC 6749 does not allow");
    }
  }
  std::vector<SmartScope> scopes;
  if (space_separated.empty()) return scopes;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = space_separated.find(' ', start);
    const std::string_view token = space_separated.substr(
        start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (token.empty()) return Malformed("scopes are not separated by single spaces");
    if (scopes.size() == kMaxScopes) return Malformed("more than 64 scopes");
    auto scope = ParseOne(token);
    if (!scope) return std::unexpected(scope.error());
    scopes.push_back(std::move(*scope));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return scopes;
}

std::string FormatSmartScopes(std::span<const SmartScope> scopes) {
  std::string out;
  for (const SmartScope& scope : scopes) {
    if (!Any(scope)) continue;
    if (!out.empty()) out += ' ';
    out += ContextName(scope.context);
    out += '/';
    out += scope.resource_type;
    out += '.';
    if (scope.create) out += 'c';
    if (scope.read) out += 'r';
    if (scope.update) out += 'u';
    if (scope.delete_) out += 'd';
    if (scope.search) out += 's';
  }
  return out;
}

std::vector<SmartScope> NarrowSmartScopes(std::span<const SmartScope> requested,
                                          std::span<const SmartScope> registered) {
  std::vector<SmartScope> granted;
  auto add = [&granted](const SmartScope& scope) {
    for (SmartScope& existing : granted) {
      if (existing.context == scope.context && existing.resource_type == scope.resource_type) {
        existing.create |= scope.create;
        existing.read |= scope.read;
        existing.update |= scope.update;
        existing.delete_ |= scope.delete_;
        existing.search |= scope.search;
        return;
      }
    }
    granted.push_back(scope);
  };
  for (const SmartScope& want : requested) {
    for (const SmartScope& allowed : registered) {
      if (want.context != allowed.context) continue;
      SmartScope both;
      both.context = want.context;
      if (want.resource_type == allowed.resource_type || allowed.resource_type == "*") {
        both.resource_type = want.resource_type;
      } else if (want.resource_type == "*") {
        both.resource_type = allowed.resource_type;
      } else {
        continue;
      }
      both.create = want.create && allowed.create;
      both.read = want.read && allowed.read;
      both.update = want.update && allowed.update;
      both.delete_ = want.delete_ && allowed.delete_;
      both.search = want.search && allowed.search;
      if (Any(both)) add(both);
    }
  }
  return granted;
}

bool SmartScopesAllow(std::span<const SmartScope> scopes, SmartScope::Context context,
                      std::string_view resource_type, SmartInteraction interaction) {
  for (const SmartScope& scope : scopes) {
    if (scope.context != context) continue;
    if (scope.resource_type != "*" && scope.resource_type != resource_type) continue;
    if (Has(scope, interaction)) return true;
  }
  return false;
}

}  // namespace medvault::identity
