// Maps (method, path) to a handler through path templates: literal segments and `{name}`
// parameters that match exactly one non-empty segment. Literal segments win over
// parameters. Paths are matched as sent (no percent-decoding), segments "." and ".." and
// empty inner segments never match, so there is no path normalization to get wrong. A
// trailing slash matches only a template that has one ("/fhir/" is not "/fhir").
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

// Answers on the calling thread, which is a network thread: only for quick work.
using Handler = std::function<Response(const Request&, const RequestContext&)>;
// Completes an asynchronous handler: call it once, from any thread, with the response. A
// second call is ignored; dropping every copy without calling it answers 500.
using Respond = std::function<void(Response)>;
// Answers later, for work that must not run on a network thread (password hashing, slow
// stores): the request and context stay valid until `respond` is called or dropped.
using AsyncHandler = std::function<void(const Request&, const RequestContext&, Respond)>;

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Fails on a malformed template or a route added twice.
  medvault::Status Add(Verb method, std::string_view path_template, Handler handler);
  medvault::Status AddAsync(Verb method, std::string_view path_template, AsyncHandler handler);

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const AsyncHandler* handler = nullptr;
    std::string_view route;  // template, when a path matched
    RouteParams params;
    std::vector<Verb> allowed;  // for kMethodNotAllowed: the methods the path has
  };

  // `target` is the request target; its query string, if any, is ignored here.
  Match Find(Verb method, std::string_view target) const;

  static constexpr std::size_t kMaxSegments = 32;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace medvault::http
