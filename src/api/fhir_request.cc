#include "api/fhir_request.h"

#include <algorithm>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/grammar/string_token.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>

#include "fhir/resource.h"

namespace medvault::api {
namespace {

using fhir::Failure;
using fhir::IssueType;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The media type of a Content-Type or Accept item, lower case, without parameters; and
// whether its parameters are acceptable (only charset=utf-8, or none).
struct MediaType {
  std::string type;
  bool utf8_or_no_charset = true;
};

MediaType ParseMediaType(std::string_view text) {
  MediaType out;
  const auto semicolon = text.find(';');
  out.type = Lower(Trim(text.substr(0, semicolon)));
  std::string_view params = semicolon == std::string_view::npos ? "" : text.substr(semicolon + 1);
  while (!params.empty()) {
    const auto next = params.find(';');
    const std::string param = Lower(Trim(params.substr(0, next)));
    params = next == std::string_view::npos ? "" : params.substr(next + 1);
    if (param.starts_with("charset=") && param != "charset=utf-8" && param != "charset=\"utf-8\"") {
      out.utf8_or_no_charset = false;
    }
  }
  return out;
}

bool IsJsonMedia(std::string_view type) {
  return type == "application/fhir+json" || type == "application/json" ||
         type == "application/json+fhir";
}

// The value of _format as FHIR R4 §3.1.0.1.10 allows it, for JSON.
bool IsJsonFormat(std::string_view value) {
  const std::string lower = Lower(value);
  return lower == "json" || IsJsonMedia(ParseMediaType(lower).type);
}

std::string_view QueryPart(const http::Request& request) {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  return question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

// Splits an x-www-form-urlencoded string into raw (still encoded) key and value.
template <typename Visit>
void ForEachRawPair(std::string_view query, Visit visit) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    visit(pair, pair.substr(0, eq),
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
}

// Percent-decoding of a form key or value ('+' is a space); malformed text decodes to "",
// which no rule accepts.
std::string Decode(std::string_view encoded) {
  auto pct = boost::urls::make_pct_string_view(encoded);
  if (!pct) return {};
  std::string out;
  pct->decode(boost::urls::encoding_opts(true), boost::urls::string_token::assign_to(out));
  return out;
}

}  // namespace

fhir::FhirStatus CheckContentType(const http::Request& request, BodyMedia media) {
  const auto header = request.find(http::beast_http::field::content_type);
  if (header == request.end()) {
    if (media == BodyMedia::kForm && request.body().empty()) return {};
    return fhir::Refuse(Failure::kUnsupportedMedia, IssueType::kNotSupported, "",
                        media == BodyMedia::kForm
                            ? "Send the search parameters as application/x-www-form-urlencoded."
                            : "Send the resource as application/fhir+json.");
  }
  const MediaType type = ParseMediaType(header->value());
  const bool ok = media == BodyMedia::kForm ? type.type == "application/x-www-form-urlencoded"
                                            : IsJsonMedia(type.type);
  if (!ok || !type.utf8_or_no_charset) {
    return fhir::Refuse(Failure::kUnsupportedMedia, IssueType::kNotSupported, "",
                        media == BodyMedia::kForm
                            ? "The body of _search must be application/x-www-form-urlencoded "
                              "(UTF-8)."
                            : "The body must be application/fhir+json (or application/json), "
                              "in UTF-8.");
  }
  return {};
}

fhir::FhirResult<std::string> QueryOf(const http::Request& request) {
  std::string out;
  std::optional<fhir::Outcome> refused;
  ForEachRawPair(
      QueryPart(request), [&](std::string_view pair, std::string_view key, std::string_view value) {
        if (key == "_pretty") return;
        if (key == "_format") {
          if (!IsJsonFormat(Decode(value))) {
            refused = fhir::Refuse(Failure::kUnsupportedMedia, IssueType::kNotSupported, "_format",
                                   "Only JSON is served: use _format=json or leave it out.")
                          .error();
          }
          return;
        }
        if (!out.empty()) out.push_back('&');
        out.append(pair);
      });
  if (refused) return std::unexpected(std::move(*refused));
  return out;
}

bool AcceptsFhirJson(const http::Request& request) {
  bool json = false;
  ForEachRawPair(QueryPart(request),
                 [&](std::string_view, std::string_view key, std::string_view value) {
                   if (key == "_format" && IsJsonFormat(Decode(value))) json = true;
                 });
  if (json) return true;
  std::string_view accept = request[http::beast_http::field::accept];
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    if (IsJsonMedia(ParseMediaType(accept.substr(0, comma)).type)) return true;
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
  }
  return false;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::ranges::all_of(
      id, [](unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '.'; });
}

std::optional<std::int64_t> ParseVersionId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

fhir::FhirResult<std::optional<std::int64_t>> IfMatchOf(const http::Request& request) {
  const auto header = request.find(http::beast_http::field::if_match);
  if (header == request.end()) return std::optional<std::int64_t>();
  std::string_view value = Trim(header->value());
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  const auto version = ParseVersionId(value);
  if (!version) {
    return fhir::Refuse(Failure::kInvalid, IssueType::kValue, "If-Match",
                        "If-Match must be the ETag of a version, W/\"<versionId>\".");
  }
  return std::optional<std::int64_t>(*version);
}

ReturnPreference ReturnPreferenceOf(const http::Request& request) {
  for (auto it = request.find("Prefer"); it != request.end() && it->name_string() == "Prefer";
       ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const auto sep = rest.find_first_of(",;");
      const std::string item = Lower(Trim(rest.substr(0, sep)));
      rest = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 1);
      if (item == "return=minimal") return ReturnPreference::kMinimal;
      if (item == "return=operationoutcome") return ReturnPreference::kOperationOutcome;
      if (item == "return=representation") return ReturnPreference::kRepresentation;
    }
  }
  return ReturnPreference::kRepresentation;
}

fhir::FhirResult<TypeHistoryQuery> ParseTypeHistoryQuery(std::string_view resource_type,
                                                         std::string_view query) {
  TypeHistoryQuery out;
  std::vector<fhir::Issue> issues;
  auto refuse = [&](std::string expression, std::string diagnostics) {
    issues.push_back({fhir::Severity::kError, IssueType::kInvalid, std::move(expression),
                      std::move(diagnostics)});
  };
  const bool compartment = fhir::IsPatientCompartmentType(resource_type);
  ForEachRawPair(query, [&](std::string_view, std::string_view raw_key, std::string_view raw) {
    const std::string key = Decode(raw_key);
    const std::string value = Decode(raw);
    if (key == "patient" && compartment) {
      std::string_view id = value;
      if (id.starts_with("Patient/")) id.remove_prefix(8);
      if (!IsValidId(id) || out.patient_id) {
        refuse("patient", "patient must be given once, as a Patient id or Patient/<id>.");
      } else {
        out.patient_id = std::string(id);
      }
    } else if (key == "_count") {
      const auto count = ParseVersionId(value);
      if (!count || *count > 100) {
        refuse("_count", "_count must be an integer from 1 to 100.");
      } else {
        out.count = static_cast<std::size_t>(*count);
      }
    } else if (key == "_page") {
      if (value.empty() || value.size() > 512) {
        refuse("_page", "_page must be the cursor of a next link, as the server wrote it.");
      } else {
        out.page = value;
      }
    } else if (key.size() <= 64 && std::ranges::all_of(key, [](unsigned char c) {
                 return std::isalnum(c) != 0 || c == '_' || c == '-' || c == ':' || c == '.';
               })) {
      refuse(key,
             "This parameter is not supported on type history: use patient, _count "
             "and _page.");
    } else {
      refuse("",
             "A parameter of this query is not supported on type history: use patient, "
             "_count and _page.");
    }
  });
  if (compartment && !out.patient_id && issues.empty()) {
    refuse("patient", "The history of a patient's resources needs patient=<Patient id>.");
  }
  if (!issues.empty()) return std::unexpected(fhir::Outcome{Failure::kInvalid, std::move(issues)});
  return out;
}

std::optional<std::string> BearerTokenOf(const http::Request& request) {
  const auto header = request.find(http::beast_http::field::authorization);
  if (header == request.end()) return std::nullopt;
  const std::string_view value = Trim(header->value());
  if (value.size() <= 7 || Lower(value.substr(0, 7)) != "bearer ") return std::string();
  return std::string(Trim(value.substr(7)));
}

fhir::FhirResult<std::map<std::string, std::string, std::less<>>> ParamsOf(
    const http::Request& request, std::initializer_list<std::string_view> allowed) {
  auto query = QueryOf(request);
  if (!query) return std::unexpected(query.error());
  std::map<std::string, std::string, std::less<>> params;
  if (query->empty()) return params;
  const std::string target = "/?" + *query;
  auto url = boost::urls::parse_origin_form(target);
  if (!url)
    return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, "",
                        "The query string is not well formed.");
  for (const auto& param : url->params()) {
    if (std::ranges::find(allowed, std::string_view(param.key)) == allowed.end()) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, "",
                          "The query has a parameter this endpoint does not take (docs/api.md "
                          "lists them).");
    }
    if (!params.emplace(param.key, param.value).second) {
      return fhir::Refuse(Failure::kInvalid, IssueType::kInvalid, param.key,
                          "A parameter appears twice.");
    }
  }
  return params;
}

}  // namespace medvault::api
