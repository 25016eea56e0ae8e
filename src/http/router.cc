#include "http/router.h"

#include <fmt/format.h>

#include <array>
#include <span>

namespace medvault::http {
namespace {

// Up to Router::kMaxSegments segments of a path, without allocating.
struct Segments {
  std::array<std::string_view, Router::kMaxSegments> items;
  std::size_t count = 0;
};

// A trailing slash ("/fhir/") is a segment of its own, which only a template that ends with
// one matches (a parameter never does): "/fhir/" and "/fhir" stay different paths.
constexpr std::string_view kTrailingSlash = "/";

// Splits "/a/b/c" into {"a","b","c"} and "/a/" into {"a","/"}. Returns false for targets that
// cannot match any route.
bool SplitPath(std::string_view path, Segments& segments) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) return true;  // "/"
  while (true) {
    std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (segments.count == Router::kMaxSegments) return false;
    segments.items[segments.count++] = segment;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
    if (path.empty()) {
      if (segments.count == Router::kMaxSegments) return false;
      segments.items[segments.count++] = kTrailingSlash;
      return true;
    }
  }
}

bool IsParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> parameter;
  std::string parameter_name;
  struct Route {
    AsyncHandler handler;
  };
  std::map<Verb, Route> routes;
  std::string route_template;
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

medvault::Status Router::Add(Verb method, std::string_view path_template, Handler handler) {
  return AddAsync(
      method, path_template,
      [handler = std::move(handler)](const Request& request, const RequestContext& context,
                                     Respond respond) { respond(handler(request, context)); });
}

medvault::Status Router::AddAsync(Verb method, std::string_view path_template,
                                  AsyncHandler handler) {
  Segments segments;
  if (!SplitPath(path_template, segments)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("route template '{}' is malformed", path_template));
  }
  Node* node = root_.get();
  for (std::string_view segment : std::span(segments.items).first(segments.count)) {
    if (IsParameter(segment)) {
      std::string_view name = segment.substr(1, segment.size() - 2);
      if (!node->parameter) {
        node->parameter = std::make_unique<Node>();
        node->parameter_name = std::string(name);
      } else if (node->parameter_name != name) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("route template '{}' renames parameter '{}'", path_template,
                                node->parameter_name));
      }
      node = node->parameter.get();
    } else {
      if (segment.find_first_of("{}") != std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("route template '{}' is malformed", path_template));
      }
      auto& child = node->literals[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  if (node->routes.contains(method)) {
    return Fail(
        ErrorCode::kAlreadyExists,
        fmt::format("route {} {} added twice", std::string_view(to_string(method)), path_template));
  }
  node->route_template = std::string(path_template);
  node->routes.emplace(method, Node::Route{std::move(handler)});
  return {};
}

Router::Match Router::Find(Verb method, std::string_view target) const {
  Match match;
  std::string_view path = target.substr(0, target.find('?'));
  Segments segments;
  if (!SplitPath(path, segments)) return match;
  const std::size_t depth_count = segments.count;

  // Depth-first: literal child first, then the parameter child, so "/fhir/metadata" beats
  // "/fhir/{type}" while "/fhir/metadata/x" still reaches "/fhir/{type}/{id}". branch[d] is the
  // node at depth d on the branch being tried, tried[d] the children of it explored so far.
  enum class Tried : std::uint8_t { kNothing, kLiteral, kBoth };
  std::array<const Node*, Router::kMaxSegments + 1> branch{};
  std::array<Tried, Router::kMaxSegments + 1> tried{};
  std::size_t depth = 0;
  branch[0] = root_.get();
  tried[0] = Tried::kNothing;
  const Node* found = nullptr;
  while (found == nullptr) {
    const Node* node = branch[depth];
    const Node* next = nullptr;
    if (depth == depth_count) {
      if (!node->routes.empty()) {
        found = node;
        continue;
      }
    } else if (tried[depth] == Tried::kNothing) {
      tried[depth] = Tried::kLiteral;
      auto it = node->literals.find(segments.items[depth]);
      if (it != node->literals.end()) next = it->second.get();
    } else if (tried[depth] == Tried::kLiteral) {
      tried[depth] = Tried::kBoth;
      if (segments.items[depth] != kTrailingSlash) next = node->parameter.get();
    }
    if (next != nullptr) {
      branch[++depth] = next;
      tried[depth] = Tried::kNothing;
    } else if (depth == depth_count || tried[depth] == Tried::kBoth) {
      if (depth == 0) break;  // every branch failed
      --depth;
    }
  }
  if (found == nullptr) return match;

  for (std::size_t i = 0; i < depth_count; ++i) {
    if (branch[i + 1] == branch[i]->parameter.get()) {
      match.params.Add(branch[i]->parameter_name, segments.items[i]);
    }
  }
  match.route = found->route_template;
  auto route = found->routes.find(method);
  if (route == found->routes.end() && method == Verb::head) route = found->routes.find(Verb::get);
  if (route == found->routes.end()) {
    match.outcome = Outcome::kMethodNotAllowed;
    for (const auto& [verb, unused] : found->routes) match.allowed.push_back(verb);
    return match;
  }
  match.outcome = Outcome::kFound;
  match.handler = &route->second.handler;
  return match;
}

}  // namespace medvault::http
