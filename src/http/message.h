// The HTTP message types every layer above the server speaks.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medvault::http {

namespace beast_http = boost::beast::http;

using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using Status = beast_http::status;
using Verb = beast_http::verb;

// Values of a route's `{name}` segments, in template order, still percent-encoded.
class RouteParams {
 public:
  void Add(std::string_view name, std::string_view value) {
    params_.emplace_back(std::string(name), std::string(value));
  }
  // The value of `name`, or an empty view when the template has no such parameter.
  std::string_view Get(std::string_view name) const {
    for (const auto& [key, value] : params_) {
      if (key == name) return value;
    }
    return {};
  }
  std::size_t size() const { return params_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// What a handler knows about the request beyond the message itself.
struct RequestContext {
  std::string request_id;
  std::string_view route;  // the matched template, e.g. "/fhir/{type}/{id}"
  RouteParams params;
  std::string_view peer;  // "address:port" of the client, for the audit log (never the access log)
};

}  // namespace medvault::http
