#include "api/fhir_api.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "api/api_internal.h"
#include "api/auth_api.h"
#include "api/fhir_request.h"
#include "api/fhir_response.h"
#include "api/request_source.h"
#include "audit/entry.h"
#include "core/log.h"
#include "fhir/bundle.h"
#include "fhir/capability.h"
#include "fhir/resource.h"
#include "fhir/search.h"

#ifndef MEDVAULT_VERSION
#define MEDVAULT_VERSION "0.0.0"
#endif
#ifndef MEDVAULT_RELEASE_DATE
#define MEDVAULT_RELEASE_DATE "2026-12-01"
#endif

namespace medvault::api {
namespace {

using fhir::Failure;
using fhir::FhirResult;
using fhir::IssueType;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Status;
using http::Verb;

std::unexpected<fhir::Outcome> UnknownType() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotSupported, "",
                      "This resource type is not served here: GET /fhir/metadata lists the types "
                      "and their interactions.");
}

// What a create, update or delete names: a served type that clients may write.
fhir::FhirStatus CheckWritable(std::string_view type) {
  if (!fhir::IsServedType(type)) return UnknownType();
  if (!fhir::IsWritableType(type)) {
    return fhir::Refuse(Failure::kMethodNotAllowed, IssueType::kNotSupported, "",
                        "This resource type is read-only: it is written by the server itself.");
  }
  return {};
}

std::unexpected<fhir::Outcome> NoSuchResource() {
  return fhir::Refuse(Failure::kNotFound, IssueType::kNotFound, "",
                      "No resource with this id and version is available to you.");
}

std::string EncodeQueryValue(std::string_view value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

// Resolves to the body parsed as a resource of `resource_type` (the path's type).
FhirResult<boost::json::object> ResourceBody(const Request& request,
                                             std::string_view resource_type) {
  if (auto media = CheckContentType(request, BodyMedia::kFhirJson); !media) {
    return std::unexpected(media.error());
  }
  auto resource = fhir::ParseResource(request.body());
  if (!resource) return std::unexpected(resource.error());
  const auto* type = resource->if_contains("resourceType");
  if (type == nullptr || !type->is_string() || type->as_string() != resource_type) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, "resourceType",
                        "The body's resourceType must be the type named in the URL.");
  }
  return resource;
}

class FhirRoutes : public std::enable_shared_from_this<FhirRoutes> {
 public:
  FhirRoutes(FhirServices services, FhirApiOptions options)
      : records_(services.records),
        emergency_access_(services.emergency_access),
        options_(std::move(options)),
        authenticator_(services.sessions, services.clients, services.store),
        workers_(options_.worker_threads) {}

  medvault::Status Add(http::Router& router);

 private:
  // A handler body run on a worker: an answer, or a failure sent as an OperationOutcome.
  using Work = FhirResult<Response> (FhirRoutes::*)(const Request&, const RequestContext&);

  http::AsyncHandler OnWorker(Work work);

  // The caller of a request: a session cookie (with X-CSRF-Token on state-changing requests)
  // or a bearer token of an API client.
  FhirResult<policy::Principal> Authenticate(const Request& request, const RequestContext& context);

  std::string base() const { return options_.base_url ? *options_.base_url : std::string(); }

  Response Metadata(const Request& request);
  FhirResult<Response> Read(const Request& request, const RequestContext& context);
  FhirResult<Response> VRead(const Request& request, const RequestContext& context);
  FhirResult<Response> InstanceHistory(const Request& request, const RequestContext& context);
  FhirResult<Response> TypeHistory(const Request& request, const RequestContext& context);
  FhirResult<Response> SearchGet(const Request& request, const RequestContext& context);
  FhirResult<Response> SearchPost(const Request& request, const RequestContext& context);
  FhirResult<Response> Create(const Request& request, const RequestContext& context);
  FhirResult<Response> Update(const Request& request, const RequestContext& context);
  FhirResult<Response> Delete(const Request& request, const RequestContext& context);
  FhirResult<Response> Process(const Request& request, const RequestContext& context);
  // Reports: POST /fhir/DiagnosticReport/{id}/$release (records::ClinicalRecords::Release).
  FhirResult<Response> Release(const Request& request, const RequestContext& context);
  // Break-the-glass: POST /fhir/Patient/{id}/$break-glass and POST /fhir/Patient/$break-glass
  // (by identifier), records::EmergencyAccess.
  FhirResult<Response> BreakGlass(const Request& request, const RequestContext& context);
  FhirResult<Response> BreakGlassByIdentifier(const Request& request,
                                              const RequestContext& context);
  FhirResult<Response> OpenGlass(const Request& request, const RequestContext& context,
                                 std::string_view patient_id);

  FhirResult<Response> Search(const Request& request, const RequestContext& context,
                              std::string_view type, std::string_view query);
  FhirResult<Response> AnswerRead(const Request& request,
                                  const FhirResult<records::StoredResource>& stored);
  // An answer with health data, once the exfiltration guard admits its size.
  FhirResult<Response> Guarded(const policy::Principal& principal, FhirResult<Response> answer);

  records::ClinicalRecords& records_;
  records::EmergencyAccess* emergency_access_;
  FhirApiOptions options_;
  SystemClock clock_;
  internal::Authenticator authenticator_;
  // Last: joined first, while what its tasks use is still there.
  internal::WorkerPool workers_;
};

http::AsyncHandler FhirRoutes::OnWorker(Work work) {
  return [this, self = shared_from_this(), work](
             const Request& request, const RequestContext& context, http::Respond respond) {
    // The task holds no reference to the routes: the router (and so the handler above) owns
    // them, and the pool is joined when they go, never from one of its own threads.
    workers_.Submit(
        request, context,
        [this, work, &request, &context] { return (this->*work)(request, context); },
        std::move(respond));
  };
}

FhirResult<policy::Principal> FhirRoutes::Authenticate(const Request& request,
                                                       const RequestContext& context) {
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  return std::move(caller->principal);
}

Response FhirRoutes::Metadata(const Request& request) {
  if (auto query = QueryOf(request); !query)
    return OutcomeResponse(query.error(), request.version());
  return FhirJson(Status::ok,
                  fhir::CapabilityStatement(base(), MEDVAULT_VERSION, MEDVAULT_RELEASE_DATE),
                  request.version());
}

FhirResult<Response> FhirRoutes::Guarded(const policy::Principal& principal,
                                         FhirResult<Response> answer) {
  if (!answer) return answer;
  if (auto admitted = records_.AdmitAnswer(principal, answer->body().size()); !admitted) {
    return std::unexpected(admitted.error());
  }
  return answer;
}

FhirResult<Response> FhirRoutes::AnswerRead(const Request& request,
                                            const FhirResult<records::StoredResource>& stored) {
  if (!stored) return std::unexpected(stored.error());
  if (stored->resource_type == "Binary" && !AcceptsFhirJson(request)) {
    return BinaryResponse(*stored, request.version());
  }
  return ResourceResponse(Status::ok, *stored, base(), ReturnPreference::kRepresentation,
                          request.version());
}

FhirResult<Response> FhirRoutes::Read(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (!fhir::IsServedType(type)) return UnknownType();
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  if (!IsValidId(id)) return NoSuchResource();
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  return Guarded(*principal, AnswerRead(request, records_.Read(*principal, type, id)));
}

FhirResult<Response> FhirRoutes::VRead(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (!fhir::IsServedType(type)) return UnknownType();
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  const auto version = ParseVersionId(context.params.Get("vid"));
  if (!IsValidId(id) || !version) return NoSuchResource();
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  return Guarded(*principal, AnswerRead(request, records_.VRead(*principal, type, id, *version)));
}

FhirResult<Response> FhirRoutes::InstanceHistory(const Request& request,
                                                 const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (!fhir::IsServedType(type)) return UnknownType();
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  if (!query->empty()) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kNotSupported, "",
                        "The history of one resource takes no parameters: every version is "
                        "returned.");
  }
  if (!IsValidId(id)) return NoSuchResource();
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto page = records_.History(*principal, type, id);
  if (!page) return std::unexpected(page.error());
  const std::string self = base() + "/" + std::string(type) + "/" + std::string(id) + "/_history";
  return Guarded(*principal, FhirJson(Status::ok, HistoryBundle(base(), *page, self, "", clock_.Now()),
                                      request.version()));
}

FhirResult<Response> FhirRoutes::TypeHistory(const Request& request,
                                             const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  if (!fhir::IsServedType(type)) return UnknownType();
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto parsed = ParseTypeHistoryQuery(type, *query);
  if (!parsed) return std::unexpected(parsed.error());
  auto page =
      records_.TypeHistory(*principal, type, parsed->patient_id, parsed->count, parsed->page);
  if (!page) return std::unexpected(page.error());
  const auto url = [&](std::string_view cursor) {
    std::string out = base() + "/" + std::string(type) + "/_history?";
    if (parsed->patient_id) out += "patient=" + EncodeQueryValue(*parsed->patient_id) + "&";
    out += "_count=" + std::to_string(parsed->count);
    if (!cursor.empty()) out += "&_page=" + EncodeQueryValue(cursor);
    return out;
  };
  return Guarded(*principal,
                 FhirJson(Status::ok,
                          HistoryBundle(base(), *page, url(parsed->page),
                                        page->next_page.empty() ? "" : url(page->next_page),
                                        clock_.Now()),
                          request.version()));
}

FhirResult<Response> FhirRoutes::Search(const Request& request, const RequestContext& context,
                                        std::string_view type, std::string_view query) {
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto search = fhir::ParseSearch(type, query);
  if (!search) return std::unexpected(search.error());
  if (search->summary_count) {
    auto total = records_.Count(*principal, *search);
    if (!total) return std::unexpected(total.error());
    return FhirJson(Status::ok, CountBundle(base(), *search, *total, clock_.Now()),
                    request.version());
  }
  auto page = records_.Search(*principal, *search);
  if (!page) return std::unexpected(page.error());
  return Guarded(*principal, FhirJson(Status::ok, SearchBundle(base(), *search, *page, clock_.Now()),
                                      request.version()));
}

FhirResult<Response> FhirRoutes::SearchGet(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  if (!fhir::IsServedType(type)) return UnknownType();
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  return Search(request, context, type, *query);
}

FhirResult<Response> FhirRoutes::SearchPost(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  if (!fhir::IsServedType(type)) return UnknownType();
  if (auto media = CheckContentType(request, BodyMedia::kForm); !media) {
    return std::unexpected(media.error());
  }
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  // The form body and the URL's query together, as FHIR R4 §3.1.1.1 says.
  std::string combined = request.body();
  if (!query->empty()) {
    if (!combined.empty()) combined.push_back('&');
    combined += *query;
  }
  return Search(request, context, type, combined);
}

FhirResult<Response> FhirRoutes::Create(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  if (auto writable = CheckWritable(type); !writable) return std::unexpected(writable.error());
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto resource = ResourceBody(request, type);
  if (!resource) return std::unexpected(resource.error());
  const std::string_view if_none_exist = request["If-None-Exist"];
  auto written = records_.Create(*principal, std::move(*resource), if_none_exist);
  if (!written) return std::unexpected(written.error());
  return ResourceResponse(written->created ? Status::created : Status::ok, written->stored, base(),
                          ReturnPreferenceOf(request), request.version());
}

FhirResult<Response> FhirRoutes::Update(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (auto writable = CheckWritable(type); !writable) return std::unexpected(writable.error());
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  if (!IsValidId(id)) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "id",
                        "The id in the URL must be 1 to 64 letters, digits, '-' or '.'.");
  }
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto if_match = IfMatchOf(request);
  if (!if_match) return std::unexpected(if_match.error());
  auto resource = ResourceBody(request, type);
  if (!resource) return std::unexpected(resource.error());
  auto written = records_.Update(*principal, type, id, std::move(*resource), *if_match);
  if (!written) return std::unexpected(written.error());
  return ResourceResponse(written->created ? Status::created : Status::ok, written->stored, base(),
                          ReturnPreferenceOf(request), request.version());
}

FhirResult<Response> FhirRoutes::Delete(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (auto writable = CheckWritable(type); !writable) return std::unexpected(writable.error());
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  if (!IsValidId(id)) return NoSuchResource();
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto marker = records_.Delete(*principal, type, id);
  if (!marker) return std::unexpected(marker.error());
  return DeletedResponse(*marker, request.version());
}

FhirResult<Response> FhirRoutes::Process(const Request& request, const RequestContext& context) {
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  if (auto media = CheckContentType(request, BodyMedia::kFhirJson); !media) {
    return std::unexpected(media.error());
  }
  auto json = fhir::ParseJson(request.body());
  if (!json) return std::unexpected(json.error());
  const auto* type = json->is_object() ? json->as_object().if_contains("resourceType") : nullptr;
  if (type == nullptr || !type->is_string() || type->as_string() != "Bundle") {
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, "resourceType",
                        "POST /fhir takes a Bundle of type batch or transaction.");
  }
  auto bundle = fhir::ParseBundle(std::move(json->as_object()));
  if (!bundle) return std::unexpected(bundle.error());
  const fhir::BundleKind kind = bundle->kind;
  auto results = records_.Process(*principal, std::move(*bundle));
  if (!results) return std::unexpected(results.error());
  return FhirJson(
      Status::ok,
      ProcessedBundle(base(), kind, *results, ReturnPreferenceOf(request), clock_.Now()),
      request.version());
}

FhirResult<Response> FhirRoutes::Release(const Request& request, const RequestContext& context) {
  const std::string_view type = context.params.Get("type");
  const std::string_view id = context.params.Get("id");
  if (type != "DiagnosticReport") {
    return fhir::Refuse(Failure::kNotFound, IssueType::kNotSupported, "",
                        "$release applies to a DiagnosticReport only.");
  }
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  if (!IsValidId(id)) return NoSuchResource();
  auto principal = Authenticate(request, context);
  if (!principal) return std::unexpected(principal.error());
  auto released = records_.Release(*principal, id);
  if (!released) return std::unexpected(released.error());
  return ResourceResponse(Status::ok, released->report, base(), ReturnPreferenceOf(request),
                          request.version());
}

// The members of a $break-glass Parameters body: reason (valueCode), text (valueString) and,
// by identifier, identifier (valueIdentifier, or valueString "system|value").
struct GlassParameters {
  std::string reason;
  std::string text;
  std::string system;
  std::string value;
  bool has_identifier = false;
};

FhirResult<GlassParameters> ParseGlassParameters(const Request& request, bool by_identifier) {
  const auto invalid = [](std::string expression, std::string why) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, std::move(expression),
                        std::move(why));
  };
  if (auto media = CheckContentType(request, BodyMedia::kFhirJson); !media) {
    return std::unexpected(media.error());
  }
  auto json = fhir::ParseJson(request.body());
  if (!json) return std::unexpected(json.error());
  const auto* body = json->if_object();
  const auto* type = body != nullptr ? body->if_contains("resourceType") : nullptr;
  if (type == nullptr || !type->is_string() || type->as_string() != "Parameters") {
    return invalid("resourceType", "$break-glass takes a Parameters resource.");
  }
  const auto* list = body->if_contains("parameter");
  if (list == nullptr || !list->is_array()) {
    return invalid("Parameters.parameter", "$break-glass needs the parameters reason and text.");
  }
  GlassParameters out;
  std::set<std::string, std::less<>> seen;
  for (const auto& item : list->as_array()) {
    const auto* parameter = item.if_object();
    const auto* name = parameter != nullptr ? parameter->if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) {
      return invalid("Parameters.parameter.name", "Each parameter needs a name.");
    }
    const std::string_view key = name->as_string();
    const auto string_at = [&](std::string_view member) -> const boost::json::string* {
      const auto* found = parameter->if_contains(member);
      return found != nullptr ? found->if_string() : nullptr;
    };
    const std::string where = fmt::format("Parameters.parameter.{}", key);
    if (key == "reason" && string_at("valueCode") != nullptr) {
      out.reason = *string_at("valueCode");
    } else if (key == "text" && string_at("valueString") != nullptr) {
      out.text = *string_at("valueString");
    } else if (key == "identifier" && by_identifier) {
      if (const auto* text = string_at("valueString")) {
        const std::string_view whole = *text;
        const auto bar = whole.find('|');
        if (bar == std::string_view::npos) {
          return invalid(where, "identifier is system|value.");
        }
        out.system = std::string(whole.substr(0, bar));
        out.value = std::string(whole.substr(bar + 1));
      } else if (const auto* identifier = parameter->if_contains("valueIdentifier");
                 identifier != nullptr && identifier->is_object()) {
        const auto* system = identifier->as_object().if_contains("system");
        const auto* value = identifier->as_object().if_contains("value");
        if (system != nullptr && system->is_string()) out.system = system->as_string();
        if (value != nullptr && value->is_string()) out.value = value->as_string();
      } else {
        return invalid(where, "identifier is a valueIdentifier or a valueString system|value.");
      }
      out.has_identifier = true;
    } else if (key == "reason" || key == "text") {
      return invalid(where, "reason is a valueCode, text a valueString.");
    } else {
      return invalid(where, by_identifier ? "$break-glass takes reason, text and identifier only."
                                          : "$break-glass takes reason and text only.");
    }
    if (!seen.emplace(key).second) return invalid(where, "A parameter appears twice.");
  }
  if (out.reason.empty() || out.text.empty() || (by_identifier && !out.has_identifier)) {
    return invalid("Parameters.parameter",
                   by_identifier ? "$break-glass needs reason, text and identifier."
                                 : "$break-glass needs reason and text.");
  }
  return out;
}

boost::json::object GrantParameters(const records::EmergencyGrant& grant) {
  const auto parameter = [](std::string_view name, std::string_view kind, boost::json::value v) {
    return boost::json::object{{"name", name}, {kind, std::move(v)}};
  };
  boost::json::array list;
  list.push_back(parameter("grant", "valueId", boost::json::value(grant.id)));
  list.push_back(parameter("patient", "valueReference",
                           boost::json::object{{"reference", "Patient/" + grant.patient_id}}));
  list.push_back(parameter("reason", "valueCode", boost::json::value(audit::ReasonName(grant.reason))));
  list.push_back(parameter("granted", "valueInstant", boost::json::value(Instant(grant.granted_at))));
  list.push_back(parameter("expires", "valueInstant", boost::json::value(Instant(grant.expires_at))));
  return boost::json::object{{"resourceType", "Parameters"}, {"parameter", std::move(list)}};
}

FhirResult<Response> FhirRoutes::OpenGlass(const Request& request, const RequestContext& context,
                                           std::string_view patient_id) {
  if (auto query = QueryOf(request); !query) return std::unexpected(query.error());
  if (emergency_access_ == nullptr) return UnknownType();
  const bool by_identifier = patient_id.empty();
  if (!by_identifier && !IsValidId(patient_id)) return NoSuchResource();
  auto caller = authenticator_.Authenticate(request, context);
  if (!caller) return std::unexpected(caller.error());
  auto parameters = ParseGlassParameters(request, by_identifier);
  if (!parameters) return std::unexpected(parameters.error());
  const auto fresh = caller->session &&
                             authenticator_.sessions().HasFreshSecondFactor(caller->session->record)
                         ? records::EmergencyAccess::SecondFactor::kFresh
                         : records::EmergencyAccess::SecondFactor::kStale;
  auto grant = by_identifier
                   ? emergency_access_->OpenByIdentifier(caller->principal, fresh,
                                                         parameters->system, parameters->value,
                                                         parameters->reason, parameters->text)
                   : emergency_access_->Open(caller->principal, fresh, patient_id,
                                             parameters->reason, parameters->text);
  if (!grant) return std::unexpected(grant.error());
  return FhirJson(Status::ok, GrantParameters(*grant), request.version());
}

FhirResult<Response> FhirRoutes::BreakGlass(const Request& request, const RequestContext& context) {
  return OpenGlass(request, context, context.params.Get("id"));
}

FhirResult<Response> FhirRoutes::BreakGlassByIdentifier(const Request& request,
                                                        const RequestContext& context) {
  return OpenGlass(request, context, {});
}

medvault::Status FhirRoutes::Add(http::Router& router) {
  if (auto s = router.Add(Verb::get, "/fhir/metadata",
                          [this, self = shared_from_this()](
                              const Request& r, const RequestContext&) { return Metadata(r); });
      !s) {
    return s;
  }
  const struct {
    Verb verb;
    std::string_view path;
    Work work;
  } routes[] = {
      {Verb::get, "/fhir/{type}", &FhirRoutes::SearchGet},
      {Verb::post, "/fhir/{type}", &FhirRoutes::Create},
      {Verb::post, "/fhir/{type}/_search", &FhirRoutes::SearchPost},
      {Verb::get, "/fhir/{type}/_history", &FhirRoutes::TypeHistory},
      {Verb::get, "/fhir/{type}/{id}", &FhirRoutes::Read},
      {Verb::put, "/fhir/{type}/{id}", &FhirRoutes::Update},
      {Verb::delete_, "/fhir/{type}/{id}", &FhirRoutes::Delete},
      {Verb::get, "/fhir/{type}/{id}/_history", &FhirRoutes::InstanceHistory},
      {Verb::get, "/fhir/{type}/{id}/_history/{vid}", &FhirRoutes::VRead},
      {Verb::post, "/fhir/{type}/{id}/$release", &FhirRoutes::Release},
      {Verb::post, "/fhir/Patient/{id}/$break-glass", &FhirRoutes::BreakGlass},
      {Verb::post, "/fhir/Patient/$break-glass", &FhirRoutes::BreakGlassByIdentifier},
      {Verb::post, "/fhir", &FhirRoutes::Process},
      // The base URL with its trailing slash, where fhir-kit-client and others post Bundles.
      {Verb::post, "/fhir/", &FhirRoutes::Process},
  };
  for (const auto& route : routes) {
    if (auto s = router.AddAsync(route.verb, route.path, OnWorker(route.work)); !s) return s;
  }
  return {};
}

}  // namespace

medvault::Status AddFhirRoutes(http::Router& router, FhirServices services,
                               FhirApiOptions options) {
  // Every handler holds the routes object (and its worker pool), so it lives as long as the
  // router; the pool finishes its queue before it goes.
  auto routes = std::make_shared<FhirRoutes>(services, std::move(options));
  return routes->Add(router);
}

}  // namespace medvault::api
