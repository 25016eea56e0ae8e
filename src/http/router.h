// Maps (method, path) to a handler through path templates: literal segments and `{name}`
// parameters that match exactly one non-empty segment. Literal segments win over
// parameters. Paths are matched as sent (no percent-decoding), segments "." and ".." and
// empty inner segments never match, so there is no path normalization to get wrong.
// Routes are added at start-up; Match is then safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/message.h"

namespace medvault::http {

using Handler = std::function<Response(const Request&, const RequestContext&)>;

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Fails on a malformed template or a route added twice.
  medvault::Status Add(Verb method, std::string_view path_template, Handler handler);

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Handler* handler = nullptr;
    std::string_view route;           // template, when a path matched
    RouteParams params;
    std::vector<Verb> allowed;        // for kMethodNotAllowed: the methods the path has
  };

  // `target` is the request target; its query string, if any, is ignored here.
  Match Find(Verb method, std::string_view target) const;

  static constexpr std::size_t kMaxSegments = 32;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace medvault::http
