#include "api/request_source.h"

#include <utility>

namespace medvault::api {

std::string SourceAddress(std::string_view peer) {
  // "address:port" or "[v6]:port": drop the port.
  if (const auto colon = peer.rfind(':'); colon != std::string_view::npos) {
    peer = peer.substr(0, colon);
  }
  if (peer.size() >= 2 && peer.front() == '[' && peer.back() == ']') {
    peer = peer.substr(1, peer.size() - 2);
  }
  return std::string(peer);
}

identity::Client ClientOf(const http::Request& request, const http::RequestContext& context) {
  std::string agent;
  for (char c : request[http::beast_http::field::user_agent]) {
    if (agent.size() >= 64) break;
    agent.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return identity::Client{SourceAddress(context.peer), std::move(agent)};
}

}  // namespace medvault::api
