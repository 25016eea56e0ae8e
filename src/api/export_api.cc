#include "api/export_api.h"

#include <boost/json.hpp>

#include "api/api_internal.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"
#include "crypto/sealed_file.h"

namespace medvault::api {
namespace {

namespace json = boost::json;
using fhir::Failure;
using fhir::FhirResult;
using fhir::IssueType;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Verb;
namespace field = http::beast_http;

std::unexpected<fhir::Outcome> Invalid(std::string expression, std::string why) {
  return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, std::move(expression),
                      std::move(why));
}

std::unexpected<fhir::Outcome> Failed(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kPermissionDenied:
      return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "", error.message());
    case ErrorCode::kNotFound:
      return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                          "No export job with this id.");
    default:
      return std::unexpected(fhir::OutcomeOf(error));
  }
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) parts.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

json::object JobJson(const store::ExportJobRecord& job) {
  json::object out;
  out["id"] = job.id;
  out["state"] = job.state;
  out["requested_by"] = job.requested_by;
  out["types"] = job.types;
  out["requested_at"] = Instant(job.requested_at);
  out["expires_at"] = Instant(job.expires_at);
  if (!job.decided_by.empty()) out["decided_by"] = job.decided_by;
  if (job.state == records::kExportReady) {
    out["patients"] = job.patients;
    out["file_bytes"] = job.file_bytes;
  }
  return out;
}

class ExportRoutes : public std::enable_shared_from_this<ExportRoutes> {
 public:
  ExportRoutes(ExportServices services, ExportOptions options)
      : exports_(services.exports),
        authenticator_(services.sessions, services.clients, services.store),
        base_url_(std::move(options.base_url)),
        workers_(2) {}

  medvault::Status Add(http::Router& router);

 private:
  using Work = FhirResult<Response> (ExportRoutes::*)(const Request&, const RequestContext&);
  http::AsyncHandler OnWorker(Work work) {
    return [this, self = shared_from_this(), work](
               const Request& request, const RequestContext& context, http::Respond respond) {
      workers_.Submit(
          request, context,
          [this, work, &request, &context] { return (this->*work)(request, context); },
          std::move(respond));
    };
  }

  FhirResult<Response> KickOff(const Request& request, const RequestContext& context);
  FhirResult<Response> Status(const Request& request, const RequestContext& context);
  FhirResult<Response> File(const Request& request, const RequestContext& context);
  FhirResult<Response> List(const Request& request, const RequestContext& context);
  FhirResult<Response> Approve(const Request& request, const RequestContext& context);
  FhirResult<Response> Refuse(const Request& request, const RequestContext& context);
  // The administrator deciding, with a fresh second factor.
  FhirResult<internal::Caller> Administrator(const Request& request, const RequestContext& context);
  std::string StatusUrl(std::string_view id) const {
    return *base_url_ + "/$export-status/" + std::string(id);
  }

  records::BulkExports& exports_;
  internal::Authenticator authenticator_;
  std::shared_ptr<const std::string> base_url_;
  // Last: joined first, while what its tasks use is still there.
  internal::WorkerPool workers_;
};

FhirResult<Response> ExportRoutes::KickOff(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  if (request["Prefer"] != "respond-async") {
    return Invalid("Prefer", "A bulk export kick-off needs the header Prefer: respond-async.");
  }
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  std::vector<std::string> types;
  std::optional<std::array<std::uint8_t, crypto::kRecipientKeyBytes>> recipient;
  std::string_view rest = *query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "_type") {
      // A comma may arrive percent-encoded.
      std::string text(value);
      for (std::size_t at; (at = text.find("%2C")) != std::string::npos ||
                           (at = text.find("%2c")) != std::string::npos;) {
        text.replace(at, 3, ",");
      }
      types = SplitCommas(text);
    } else if (key == "recipient") {
      auto parsed = crypto::ParseRecipientKey(value);
      if (!parsed) return Invalid("recipient", parsed.error().message());
      recipient = *parsed;
    } else if (key == "_outputFormat") {
      if (value != "application/fhir+ndjson" && value != "application%2Ffhir%2Bndjson" &&
          value != "ndjson") {
        return Invalid("_outputFormat", "Only NDJSON is exported (sealed for the recipient).");
      }
    } else {
      return Invalid(std::string(key), "A kick-off takes recipient, _type and _outputFormat.");
    }
  }
  if (!recipient) {
    return Invalid("recipient",
                   "Name the recipient's public key (recipient=, from `medvault export "
                   "keygen`): the file is sealed for it.");
  }
  auto job = exports_.Request(caller->principal, std::move(types), *recipient);
  if (!job) return std::unexpected(job.error());
  Response response(http::Status::accepted, request.version());
  response.set(field::field::content_location, StatusUrl(job->id));
  response.prepare_payload();
  return response;
}

FhirResult<Response> ExportRoutes::Status(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto job = exports_.Poll(caller->principal, context.params.Get("id"));
  if (!job) return std::unexpected(job.error());
  if (job->state == records::kExportRequested || job->state == records::kExportRunning) {
    Response response(http::Status::accepted, request.version());
    response.set("X-Progress", job->state == records::kExportRequested
                                   ? "waiting for a second person's approval"
                                   : "running");
    response.set(field::field::retry_after, "5");
    response.prepare_payload();
    return response;
  }
  if (job->state == records::kExportRefused) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        "This export was refused by an administrator.");
  }
  if (job->state == records::kExportExpired) {
    return fhir::Refuse(Failure::kGone, IssueType::kDeleted, "",
                        "This export expired: its file was deleted.");
  }
  if (job->state != records::kExportReady) {
    return fhir::Refuse(Failure::kInternal, IssueType::kException, "",
                        "This export failed: ask for a new one.");
  }
  json::object manifest;
  manifest["transactionTime"] = Instant(job->decided_at);
  manifest["request"] = StatusUrl(job->id);
  manifest["requiresAccessToken"] = true;
  json::array output;
  output.push_back(json::object{{"type", "sealed"},
                                {"url", *base_url_ + "/$export-file/" + job->id},
                                {"types", job->types}});
  manifest["output"] = std::move(output);
  manifest["error"] = json::array();
  manifest["expires"] = Instant(job->expires_at);
  manifest["patients"] = job->patients;
  return FhirJson(http::Status::ok, manifest, request.version());
}

FhirResult<Response> ExportRoutes::File(const Request& request, const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto bytes = exports_.Download(caller->principal, context.params.Get("id"));
  if (!bytes) return std::unexpected(bytes.error());
  Response response(http::Status::ok, request.version());
  response.set(field::field::content_type, "application/octet-stream");
  response.set(field::field::content_disposition,
               "attachment; filename=\"" + std::string(context.params.Get("id")) + ".mvx\"");
  response.body() = std::move(*bytes);
  response.prepare_payload();
  return response;
}

FhirResult<internal::Caller> ExportRoutes::Administrator(const Request& request,
                                                         const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  if (caller->principal.role != audit::Role::kAdministrator || !caller->session) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        "Only administrators decide bulk exports.");
  }
  if (!authenticator_.sessions().HasFreshSecondFactor(caller->session->record)) {
    return fhir::Refuse(Failure::kForbidden, IssueType::kForbidden, "",
                        "This action needs a second factor from the last 5 minutes: step up "
                        "first (POST /auth/step-up/passkey or /auth/step-up/totp), then retry.");
  }
  return caller;
}

FhirResult<Response> ExportRoutes::List(const Request& request, const RequestContext& context) {
  auto admin = Administrator(request, context);
  if (!admin) return std::unexpected(admin.error());
  auto jobs = exports_.List();
  if (!jobs) return Failed(jobs.error());
  json::array list;
  for (const store::ExportJobRecord& job : *jobs) list.push_back(JobJson(job));
  return FhirJson(http::Status::ok, json::object{{"jobs", std::move(list)}}, request.version());
}

FhirResult<Response> ExportRoutes::Approve(const Request& request, const RequestContext& context) {
  auto admin = Administrator(request, context);
  if (!admin) return std::unexpected(admin.error());
  auto job = exports_.Approve(context.params.Get("id"), admin->principal);
  if (!job) return Failed(job.error());
  return FhirJson(http::Status::ok, JobJson(*job), request.version());
}

FhirResult<Response> ExportRoutes::Refuse(const Request& request, const RequestContext& context) {
  auto admin = Administrator(request, context);
  if (!admin) return std::unexpected(admin.error());
  auto job = exports_.Refuse(context.params.Get("id"), admin->principal);
  if (!job) return Failed(job.error());
  return FhirJson(http::Status::ok, JobJson(*job), request.version());
}

medvault::Status ExportRoutes::Add(http::Router& router) {
  const struct {
    Verb verb;
    std::string_view path;
    Work work;
  } routes[] = {
      {Verb::get, "/fhir/$export", &ExportRoutes::KickOff},
      {Verb::get, "/fhir/Patient/$export", &ExportRoutes::KickOff},
      {Verb::get, "/fhir/$export-status/{id}", &ExportRoutes::Status},
      {Verb::get, "/fhir/$export-file/{id}", &ExportRoutes::File},
      {Verb::get, "/admin/exports", &ExportRoutes::List},
      {Verb::post, "/admin/exports/{id}/approve", &ExportRoutes::Approve},
      {Verb::post, "/admin/exports/{id}/refuse", &ExportRoutes::Refuse},
  };
  for (const auto& route : routes) {
    if (auto s = router.AddAsync(route.verb, route.path, OnWorker(route.work)); !s) return s;
  }
  return {};
}

}  // namespace

medvault::Status AddExportRoutes(http::Router& router, ExportServices services,
                                 ExportOptions options) {
  auto routes = std::make_shared<ExportRoutes>(services, std::move(options));
  return routes->Add(router);
}

}  // namespace medvault::api
