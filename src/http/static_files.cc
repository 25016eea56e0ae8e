#include "http/static_files.h"

#include <algorithm>

#include "http/dispatcher.h"

namespace medvault::http {
namespace {

// RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so a `W/` prefix is ignored.
bool MatchesIfNoneMatch(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view candidate = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t')) {
      candidate.remove_prefix(1);
    }
    while (!candidate.empty() && (candidate.back() == ' ' || candidate.back() == '\t')) {
      candidate.remove_suffix(1);
    }
    if (candidate == "*") return true;
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
  }
  return false;
}

Response Serve(const StaticFile& file, const Request& request) {
  const auto if_none_match = request.find(beast_http::field::if_none_match);
  const bool not_modified =
      if_none_match != request.end() && MatchesIfNoneMatch(if_none_match->value(), file.etag);
  Response response{not_modified ? Status::not_modified : Status::ok, request.version()};
  response.set(beast_http::field::etag, file.etag);
  response.set(beast_http::field::cache_control, "no-cache");
  if (!not_modified) {
    response.set(beast_http::field::content_type, file.content_type);
    response.body() = std::string(file.bytes);
  }
  return response;
}

}  // namespace

medvault::Status AddStaticRoutes(Router& router, std::span<const StaticFile> files,
                                 std::string_view index) {
  const auto index_file =
      std::ranges::find(files, index, [](const StaticFile& file) { return file.name; });
  if (index_file == files.end()) {
    return Fail(ErrorCode::kInvalidArgument, "the web portal has no index file");
  }
  auto page = router.Add(Verb::get, "/",
                         [&file = *index_file](const Request& request, const RequestContext&) {
                           return Serve(file, request);
                         });
  if (!page) return page;
  return router.Add(
      Verb::get, "/app/{file}", [files](const Request& request, const RequestContext& context) {
        const std::string_view name = context.params.Get("file");
        const auto file =
            std::ranges::find(files, name, [](const StaticFile& entry) { return entry.name; });
        if (file == files.end()) {
          return ErrorResponse(Status::not_found, "not-found", "There is no such file.",
                               request.version());
        }
        return Serve(*file, request);
      });
}

}  // namespace medvault::http
