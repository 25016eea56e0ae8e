#include "api/fhir_response.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <utility>

#include "core/base64.h"

namespace medvault::api {
namespace {

using http::Response;
using http::Status;
namespace field = http::beast_http;

std::string WeakEtag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::string RelativeUrl(const records::StoredResource& stored) {
  return stored.resource_type + "/" + stored.id;
}

std::string VersionUrl(const records::StoredResource& stored) {
  return RelativeUrl(stored) + "/_history/" + std::to_string(stored.version);
}

std::string Absolute(std::string_view base_url, std::string_view relative) {
  std::string out(base_url);
  out.push_back('/');
  out.append(relative);
  return out;
}

std::string StatusLine(int status) {
  const auto reason = field::obsolete_reason(field::int_to_status(static_cast<unsigned>(status)));
  return std::to_string(status) + " " + std::string(reason);
}

void SetVersionHeaders(Response& response, const records::StoredResource& stored,
                       std::string_view base_url) {
  response.set(field::field::etag, WeakEtag(stored.version));
  response.set(field::field::last_modified, HttpDate(stored.last_updated));
  response.set(field::field::content_location, Absolute(base_url, VersionUrl(stored)));
}

std::string SearchUrl(std::string_view base_url, const fhir::SearchRequest& request,
                      std::string_view page) {
  std::string url = Absolute(base_url, request.resource_type);
  const std::string query = fhir::CanonicalQuery(request, page);
  if (!query.empty()) url += "?" + query;
  return url;
}

}  // namespace

std::string HttpDate(Timestamp at) {
  return fmt::format("{:%a, %d %b %Y %H:%M:%S} GMT", std::chrono::floor<std::chrono::seconds>(at));
}

std::string Instant(Timestamp at) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(at);
  const auto micros = (at - seconds).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", seconds, micros);
}

Response FhirJson(Status status, const boost::json::object& body, unsigned version) {
  Response response(status, version);
  response.set(field::field::content_type, kFhirJson);
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

Response OutcomeResponse(const fhir::Outcome& outcome, unsigned version) {
  const int status = fhir::HttpStatusOf(outcome.failure);
  Response response = FhirJson(field::int_to_status(static_cast<unsigned>(status)),
                               fhir::OperationOutcomeJson(outcome), version);
  return response;
}

Response ResourceResponse(Status status, const records::StoredResource& stored,
                          std::string_view base_url, ReturnPreference preference,
                          unsigned version) {
  Response response(status, version);
  switch (preference) {
    case ReturnPreference::kMinimal:
      break;
    case ReturnPreference::kOperationOutcome:
      response = FhirJson(
          status,
          fhir::InformationOutcomeJson(status == Status::created ? "The resource was created."
                                                                 : "The request succeeded."),
          version);
      break;
    case ReturnPreference::kRepresentation:
      if (stored.resource) response = FhirJson(status, *stored.resource, version);
      break;
  }
  SetVersionHeaders(response, stored, base_url);
  if (status == Status::created) {
    response.set(field::field::location, Absolute(base_url, VersionUrl(stored)));
  }
  response.prepare_payload();
  return response;
}

Response DeletedResponse(const records::StoredResource& marker, unsigned version) {
  Response response =
      FhirJson(Status::ok, fhir::InformationOutcomeJson("The resource was deleted."), version);
  response.set(field::field::etag, WeakEtag(marker.version));
  return response;
}

fhir::FhirResult<Response> BinaryResponse(const records::StoredResource& stored, unsigned version) {
  const auto broken = [] {
    return fhir::Refuse(fhir::Failure::kInternal, fhir::IssueType::kException, "",
                        "The stored Binary cannot be sent: the request id in the logs tells "
                        "the operators more.");
  };
  if (!stored.resource) return broken();
  const boost::json::object& binary = *stored.resource;
  const auto* content_type = binary.if_contains("contentType");
  if (content_type == nullptr || !content_type->is_string()) return broken();
  std::vector<std::uint8_t> bytes;
  if (const auto* data = binary.if_contains("data")) {
    if (!data->is_string()) return broken();
    auto decoded = DecodeBase64(data->as_string(), Base64Alphabet::kStandard);
    if (!decoded) return broken();
    bytes = std::move(*decoded);
  }
  std::string type(content_type->as_string());
  // A media type, not a header injection: anything else is sent as opaque bytes.
  const bool well_formed =
      !type.empty() && type.size() <= 128 && std::ranges::all_of(type, [](unsigned char c) {
        return std::isalnum(c) != 0 ||
               std::string_view("!#$&^_.+-/;= ").find(static_cast<char>(c)) !=
                   std::string_view::npos;
      });
  if (!well_formed) type = "application/octet-stream";
  // The bytes come from whoever wrote the Binary: only inert types are shown inline.
  const bool inline_safe =
      type == "text/plain" || type == "image/png" || type == "image/jpeg" || type == "image/gif";
  Response response(Status::ok, version);
  response.set(field::field::content_type, type);
  if (!inline_safe) {
    const std::string extension = type == "application/pdf" ? ".pdf" : "";
    response.set(field::field::content_disposition,
                 "attachment; filename=\"" + stored.id + extension + "\"");
  }
  response.set(field::field::etag, WeakEtag(stored.version));
  response.set(field::field::last_modified, HttpDate(stored.last_updated));
  response.body().assign(bytes.begin(), bytes.end());
  response.prepare_payload();
  return response;
}

boost::json::object SearchBundle(std::string_view base_url, const fhir::SearchRequest& request,
                                 const records::SearchPage& page, Timestamp now) {
  std::vector<fhir::OutgoingEntry> entries;
  entries.reserve(page.matches.size() + page.included.size());
  auto add = [&](const records::StoredResource& stored, fhir::OutgoingEntry::Mode mode) {
    fhir::OutgoingEntry entry;
    entry.full_url = Absolute(base_url, RelativeUrl(stored));
    if (stored.resource) {
      entry.resource = request.elements.empty() || mode == fhir::OutgoingEntry::Mode::kInclude
                           ? *stored.resource
                           : fhir::ApplyElements(*stored.resource, request.elements);
    }
    entry.search_mode = mode;
    entries.push_back(std::move(entry));
  };
  for (const auto& stored : page.matches) add(stored, fhir::OutgoingEntry::Mode::kMatch);
  for (const auto& stored : page.included) add(stored, fhir::OutgoingEntry::Mode::kInclude);
  std::vector<fhir::Link> links{{"self", SearchUrl(base_url, request, request.page)}};
  if (!page.next_page.empty()) {
    links.push_back({"next", SearchUrl(base_url, request, page.next_page)});
  }
  return fhir::AnswerBundle("searchset", page.total, links, std::move(entries), Instant(now));
}

boost::json::object CountBundle(std::string_view base_url, const fhir::SearchRequest& request,
                                std::int64_t total, Timestamp now) {
  return fhir::AnswerBundle("searchset", total, {{"self", SearchUrl(base_url, request, "")}}, {},
                            Instant(now));
}

boost::json::object HistoryBundle(std::string_view base_url, const records::HistoryPage& page,
                                  std::string self_url, std::string next_url, Timestamp now) {
  std::vector<fhir::OutgoingEntry> entries;
  entries.reserve(page.versions.size());
  for (const auto& stored : page.versions) {
    fhir::OutgoingEntry entry;
    entry.full_url = Absolute(base_url, RelativeUrl(stored));
    entry.resource = stored.resource;
    if (stored.deleted) {
      entry.request_method = "DELETE";
      entry.request_url = RelativeUrl(stored);
      entry.response_status = StatusLine(200);
    } else if (stored.version == 1) {
      entry.request_method = "POST";
      entry.request_url = stored.resource_type;
      entry.response_status = StatusLine(201);
    } else {
      entry.request_method = "PUT";
      entry.request_url = RelativeUrl(stored);
      entry.response_status = StatusLine(200);
    }
    entry.response_location = VersionUrl(stored);
    entry.response_etag = WeakEtag(stored.version);
    entry.response_last_modified = Instant(stored.last_updated);
    entries.push_back(std::move(entry));
  }
  std::vector<fhir::Link> links{{"self", std::move(self_url)}};
  if (!next_url.empty()) links.push_back({"next", std::move(next_url)});
  return fhir::AnswerBundle("history", std::nullopt, links, std::move(entries), Instant(now));
}

boost::json::object ProcessedBundle(std::string_view base_url, fhir::BundleKind kind,
                                    const std::vector<records::EntryResult>& results,
                                    ReturnPreference preference, Timestamp now) {
  std::vector<fhir::OutgoingEntry> entries;
  entries.reserve(results.size());
  for (const auto& result : results) {
    fhir::OutgoingEntry entry;
    entry.response_status = StatusLine(result.status);
    if (result.stored) {
      const auto& stored = *result.stored;
      entry.full_url = Absolute(base_url, RelativeUrl(stored));
      if (!stored.deleted) {
        entry.response_location = VersionUrl(stored);
        if (preference != ReturnPreference::kMinimal) {
          entry.resource = stored.resource;
        }
      }
      entry.response_etag = WeakEtag(stored.version);
      entry.response_last_modified = Instant(stored.last_updated);
    }
    if (result.outcome) entry.response_outcome = fhir::OperationOutcomeJson(*result.outcome);
    entries.push_back(std::move(entry));
  }
  return fhir::AnswerBundle(
      kind == fhir::BundleKind::kTransaction ? "transaction-response" : "batch-response",
      std::nullopt, {}, std::move(entries), Instant(now));
}

}  // namespace medvault::api
