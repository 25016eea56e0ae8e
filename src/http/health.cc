#include "http/health.h"

#include "core/log.h"

namespace medvault::http {
namespace {

Response JsonStatus(Status status, std::string_view body, unsigned version) {
  Response response{status, version};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::string(body);
  return response;
}

}  // namespace

medvault::Status AddHealthRoutes(Router& router, std::function<medvault::Status()> ready) {
  auto live = router.Add(Verb::get, "/healthz", [](const Request& request, const RequestContext&) {
    return JsonStatus(Status::ok, R"({"status":"ok"})", request.version());
  });
  if (!live) return live;
  return router.Add(
      Verb::get, "/readyz",
      [ready = std::move(ready)](const Request& request, const RequestContext& context) {
        auto status = ready();
        if (!status) {
          log::Warning("not_ready",
                       {{"request_id", context.request_id}, {"reason", status.error().message()}});
          return JsonStatus(Status::service_unavailable, R"({"status":"unavailable"})",
                            request.version());
        }
        return JsonStatus(Status::ok, R"({"status":"ready"})", request.version());
      });
}

}  // namespace medvault::http
