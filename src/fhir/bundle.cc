#include "fhir/bundle.h"

#include <boost/json/string.hpp>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include "fhir/primitives.h"
#include "fhir/resource.h"

namespace medvault::fhir {

namespace json = boost::json;

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsElementName(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// No whitespace, no control characters, no fragment: what a request.url or fullUrl may hold.
bool IsUrlText(std::string_view text) {
  if (text.empty() || text.size() > 8192) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '#') return false;
  }
  return true;
}

// A relative request URL split into its parts: Type[/id[/_history[/vid]]][?query].
struct RequestUrl {
  std::string_view type;
  std::string_view id;
  bool history = false;
  std::string_view version;
  bool has_query = false;
};

std::optional<RequestUrl> SplitRequestUrl(std::string_view url) {
  if (!IsUrlText(url)) return std::nullopt;
  RequestUrl out;
  std::string_view path = url;
  if (const std::size_t question = url.find('?'); question != std::string_view::npos) {
    out.has_query = true;
    path = url.substr(0, question);
  }
  std::vector<std::string_view> segments;
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (segments.size() > 4) return std::nullopt;
  for (std::string_view segment : segments) {
    if (segment.empty()) return std::nullopt;
  }
  out.type = segments[0];
  if (!IsServedType(out.type)) return std::nullopt;
  if (segments.size() >= 2) {
    out.id = segments[1];
    if (!primitives::IsId(out.id)) return std::nullopt;
  }
  if (segments.size() >= 3) {
    if (segments[2] != "_history") return std::nullopt;
    out.history = true;
  }
  if (segments.size() == 4) {
    out.version = segments[3];
    if (!primitives::IsId(out.version)) return std::nullopt;
  }
  if (out.has_query && !out.id.empty()) return std::nullopt;
  return out;
}

class BundleReader {
 public:
  FhirResult<IncomingBundle> Read(const json::object& bundle) {
    const json::value* type = bundle.if_contains("resourceType");
    if (type == nullptr || !type->is_string() || type->get_string() != "Bundle") {
      return Refuse(Failure::kInvalid, IssueType::kInvalid, "resourceType",
                    "a batch or transaction must be a Bundle");
    }
    for (const auto& member : bundle) {
      const std::string_view key = member.key();
      const json::value& value = member.value();
      if (!IsElementName(key)) {
        Add(IssueType::kStructure, "Bundle", "an element name is not a FHIR element name");
      } else if (key == "resourceType" || key == "entry" || key == "type") {
        continue;
      } else if (key == "id") {
        if (!value.is_string() || !primitives::IsId(value.get_string())) {
          Add(IssueType::kValue, "Bundle.id", "the value is not a valid id");
        }
      } else if (key == "timestamp") {
        if (!value.is_string() || !primitives::IsInstant(value.get_string())) {
          Add(IssueType::kValue, "Bundle.timestamp", "the value is not a valid FHIR instant");
        }
      } else if (key == "meta" || key == "identifier") {
        if (!value.is_object()) {
          Add(IssueType::kStructure, "Bundle." + std::string(key), "must be a JSON object");
        }
      } else if (key == "implicitRules" || key == "language") {
        if (!value.is_string()) {
          Add(IssueType::kStructure, "Bundle." + std::string(key), "must be a JSON string");
        }
      } else if (key == "total") {
        Add(IssueType::kInvariant, "Bundle.total",
            "total is only for searchset and history Bundles (bdl-1)");
      } else {
        Add(IssueType::kStructure, "Bundle." + std::string(key),
            "unknown element, or one a batch or transaction does not use");
      }
    }
    IncomingBundle out;
    const json::value* kind = bundle.if_contains("type");
    if (kind == nullptr) {
      Add(IssueType::kRequired, "Bundle.type", "the Bundle must give its type");
    } else if (!kind->is_string()) {
      Add(IssueType::kStructure, "Bundle.type", "must be a JSON string");
    } else if (kind->get_string() == "batch") {
      out.kind = BundleKind::kBatch;
    } else if (kind->get_string() == "transaction") {
      out.kind = BundleKind::kTransaction;
    } else {
      Add(IssueType::kNotSupported, "Bundle.type",
          "medvault accepts only batch and transaction Bundles");
    }
    if (const json::value* entries = bundle.if_contains("entry"); entries != nullptr) {
      if (!entries->is_array()) {
        Add(IssueType::kStructure, "Bundle.entry", "must be a JSON array");
      } else if (entries->get_array().size() > kMaxBundleEntries) {
        Add(IssueType::kTooCostly, "Bundle.entry",
            "a Bundle may hold at most " + std::to_string(kMaxBundleEntries) +
                " entries; split it");
      } else {
        const json::array& items = entries->get_array();
        out.entries.reserve(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
          out.entries.push_back(Entry(items[i], "Bundle.entry[" + std::to_string(i) + "]"));
        }
      }
    }
    if (!issues_.empty()) {
      Outcome outcome;
      outcome.failure = Failure::kInvalid;
      outcome.issues = std::move(issues_);
      return std::unexpected(std::move(outcome));
    }
    return out;
  }

 private:
  void Add(IssueType code, std::string expression, std::string diagnostics) {
    issues_.push_back(Issue{.severity = Severity::kError,
                            .code = code,
                            .expression = std::move(expression),
                            .diagnostics = std::move(diagnostics)});
  }

  IncomingEntry Entry(const json::value& value, const std::string& path) {
    IncomingEntry entry;
    if (!value.is_object()) {
      Add(IssueType::kStructure, path, "an entry must be a JSON object");
      return entry;
    }
    const json::object& object = value.get_object();
    for (const auto& member : object) {
      const std::string_view key = member.key();
      if (key == "fullUrl" || key == "resource" || key == "request") continue;
      if (!IsElementName(key)) {
        Add(IssueType::kStructure, path, "an element name is not a FHIR element name");
      } else if (key == "search" || key == "response") {
        Add(IssueType::kStructure, path + "." + std::string(key),
            "search and response are for the Bundles a server answers with, not for requests");
      } else if (key != "link") {
        Add(IssueType::kStructure, path + "." + std::string(key), "unknown element");
      }
    }
    FullUrl(object, path, entry);
    const bool request_ok = Request(object, path, entry);
    Resource(object, path, request_ok, entry);
    return entry;
  }

  void FullUrl(const json::object& object, const std::string& path, IncomingEntry& entry) {
    const json::value* full_url = object.if_contains("fullUrl");
    if (full_url == nullptr) return;
    const std::string here = path + ".fullUrl";
    if (!full_url->is_string() || !IsUrlText(full_url->get_string())) {
      Add(IssueType::kValue, here, "must be an absolute URL or urn:uuid:<uuid>");
      return;
    }
    const std::string_view text = full_url->get_string();
    if (text.starts_with("urn:uuid:")) {
      if (!primitives::IsUuid(text.substr(9))) {
        Add(IssueType::kValue, here, "is not a valid urn:uuid (lower-case 8-4-4-4-12 hex)");
        return;
      }
    } else if (!text.starts_with("http://") && !text.starts_with("https://")) {
      Add(IssueType::kValue, here, "must be an absolute URL or urn:uuid:<uuid>");
      return;
    }
    if (!full_urls_.insert(std::string(text)).second) {
      Add(IssueType::kDuplicate, here, "two entries have the same fullUrl");
      return;
    }
    entry.full_url = std::string(text);
  }

  bool Request(const json::object& object, const std::string& path, IncomingEntry& entry) {
    const json::value* request = object.if_contains("request");
    const std::string here = path + ".request";
    if (request == nullptr) {
      Add(IssueType::kRequired, here, "each entry of a batch or transaction needs a request");
      return false;
    }
    if (!request->is_object()) {
      Add(IssueType::kStructure, here, "must be a JSON object");
      return false;
    }
    const json::object& fields = request->get_object();
    bool ok = true;
    for (const auto& member : fields) {
      const std::string_view key = member.key();
      if (key == "method" || key == "url" || key == "ifMatch" || key == "ifNoneExist") {
        if (!member.value().is_string() || member.value().get_string().empty()) {
          Add(IssueType::kStructure, here + "." + std::string(key),
              "must be a non-empty JSON string");
          ok = false;
        }
      } else if (key == "ifNoneMatch" || key == "ifModifiedSince") {
        Add(IssueType::kNotSupported, here + "." + std::string(key),
            "conditional reads are not supported in a batch or transaction");
        ok = false;
      } else if (IsElementName(key)) {
        Add(IssueType::kStructure, here + "." + std::string(key), "unknown element");
        ok = false;
      } else {
        Add(IssueType::kStructure, here, "an element name is not a FHIR element name");
        ok = false;
      }
    }
    if (!ok) return false;
    const json::value* method = fields.if_contains("method");
    const json::value* url = fields.if_contains("url");
    if (method == nullptr) Add(IssueType::kRequired, here + ".method", "the method is required");
    if (url == nullptr) Add(IssueType::kRequired, here + ".url", "the url is required");
    if (method == nullptr || url == nullptr) return false;

    const std::string_view verb = method->get_string();
    if (verb == "GET") {
      entry.method = EntryMethod::kGet;
    } else if (verb == "POST") {
      entry.method = EntryMethod::kPost;
    } else if (verb == "PUT") {
      entry.method = EntryMethod::kPut;
    } else if (verb == "DELETE") {
      entry.method = EntryMethod::kDelete;
    } else if (verb == "HEAD" || verb == "PATCH") {
      Add(IssueType::kNotSupported, here + ".method", "HEAD and PATCH are not supported");
      return false;
    } else {
      Add(IssueType::kCodeInvalid, here + ".method",
          "the method must be GET, POST, PUT or DELETE (http-verb)");
      return false;
    }

    const std::string_view text = url->get_string();
    const std::optional<RequestUrl> parts = SplitRequestUrl(text);
    const std::string url_path = here + ".url";
    if (!parts) {
      Add(IssueType::kValue, url_path,
          "must be a URL relative to the base: Type, Type/id, Type/id/_history/vid or "
          "Type?query, with a type medvault serves");
      return false;
    }
    bool shape_ok = true;
    switch (entry.method) {
      case EntryMethod::kGet:  // every shape SplitRequestUrl accepts is a read or a search
        break;
      case EntryMethod::kPost:
        shape_ok = parts->id.empty() && !parts->has_query && !parts->history;
        if (!shape_ok) {
          Add(IssueType::kValue, url_path, "a POST creates: its url is the resource type alone");
        }
        break;
      case EntryMethod::kPut:
        shape_ok = !parts->id.empty() && !parts->history && !parts->has_query;
        if (!shape_ok) {
          Add(IssueType::kValue, url_path,
              "a PUT updates one resource: its url is Type/id (conditional update is not "
              "supported)");
        }
        break;
      case EntryMethod::kDelete:
        shape_ok = !parts->id.empty() && !parts->history && !parts->has_query;
        if (!shape_ok) {
          Add(IssueType::kValue, url_path,
              "a DELETE removes one resource: its url is Type/id (conditional delete is not "
              "supported)");
        }
        break;
    }
    if (!shape_ok) return false;
    if (entry.method != EntryMethod::kGet && !IsWritableType(parts->type)) {
      Add(IssueType::kNotSupported, url_path, "clients may not write this resource type");
      return false;
    }
    entry.url = std::string(text);

    if (const json::value* if_match = fields.if_contains("ifMatch")) {
      if (entry.method != EntryMethod::kPut && entry.method != EntryMethod::kDelete) {
        Add(IssueType::kInvalid, here + ".ifMatch", "ifMatch is only for PUT and DELETE");
        return false;
      }
      entry.if_match = std::string(if_match->get_string());
    }
    if (const json::value* if_none_exist = fields.if_contains("ifNoneExist")) {
      if (entry.method != EntryMethod::kPost) {
        Add(IssueType::kInvalid, here + ".ifNoneExist", "ifNoneExist is only for POST");
        return false;
      }
      const std::string_view query = if_none_exist->get_string();
      if (!IsUrlText(query) || query.starts_with('?')) {
        Add(IssueType::kValue, here + ".ifNoneExist",
            "must be a search query string without the leading '?'");
        return false;
      }
      entry.if_none_exist = std::string(query);
    }
    return true;
  }

  void Resource(const json::object& object, const std::string& path, bool request_ok,
                IncomingEntry& entry) {
    const json::value* resource = object.if_contains("resource");
    const std::string here = path + ".resource";
    const bool needs_resource =
        entry.method == EntryMethod::kPost || entry.method == EntryMethod::kPut;
    if (resource == nullptr) {
      if (request_ok && needs_resource) {
        Add(IssueType::kRequired, here, "a POST or PUT entry must carry its resource");
      }
      return;
    }
    if (request_ok && !needs_resource) {
      Add(IssueType::kInvalid, here, "a GET or DELETE entry carries no resource");
      return;
    }
    if (!resource->is_object()) {
      Add(IssueType::kStructure, here, "must be a JSON object (a FHIR resource)");
      return;
    }
    const json::object& body = resource->get_object();
    const json::value* type = body.if_contains("resourceType");
    if (type == nullptr || !type->is_string() || !IsServedType(type->get_string())) {
      Add(IssueType::kNotSupported, here + ".resourceType",
          "the resource has no resourceType that medvault serves");
      return;
    }
    if (request_ok) {
      const std::optional<RequestUrl> parts = SplitRequestUrl(entry.url);
      if (parts && parts->type != type->get_string()) {
        Add(IssueType::kInvalid, here + ".resourceType",
            "the resource type differs from the type in request.url");
        return;
      }
      if (parts && entry.method == EntryMethod::kPut) {
        const json::value* id = body.if_contains("id");
        if (id != nullptr && (!id->is_string() || id->get_string() != parts->id)) {
          Add(IssueType::kInvalid, here + ".id",
              "the resource id differs from the id in request.url");
          return;
        }
      }
    }
    entry.resource.emplace();  // accepted: ParseBundle copies or moves it in
  }

  std::vector<Issue> issues_;
  std::set<std::string> full_urls_;
};

std::string_view SearchModeCode(OutgoingEntry::Mode mode) {
  switch (mode) {
    case OutgoingEntry::Mode::kMatch:
      return "match";
    case OutgoingEntry::Mode::kInclude:
      return "include";
    case OutgoingEntry::Mode::kOutcome:
      return "outcome";
    case OutgoingEntry::Mode::kNone:
      break;
  }
  return "";
}

// The resources the reader accepted (each left an empty object), copied from the Bundle or,
// when the caller gives it up, moved out of it.
template <typename Object>
FhirResult<IncomingBundle> ReadBundle(Object& bundle) {
  auto read = BundleReader().Read(bundle);
  if (!read || read->entries.empty()) return read;
  auto& items = bundle.at("entry").get_array();
  for (std::size_t i = 0; i < read->entries.size(); ++i) {
    std::optional<json::object>& resource = read->entries[i].resource;
    if (!resource) continue;
    if constexpr (std::is_const_v<Object>) {
      *resource = items[i].get_object().at("resource").get_object();
    } else {
      *resource = std::move(items[i].get_object().at("resource").get_object());
    }
  }
  return read;
}

}  // namespace

FhirResult<IncomingBundle> ParseBundle(const json::object& bundle) { return ReadBundle(bundle); }

FhirResult<IncomingBundle> ParseBundle(json::object&& bundle) { return ReadBundle(bundle); }

json::object AnswerBundle(std::string_view type, std::optional<std::int64_t> total,
                          const std::vector<Link>& links, std::vector<OutgoingEntry> entries,
                          std::string_view timestamp) {
  json::object out;
  out["resourceType"] = "Bundle";
  out["type"] = type;
  if (!timestamp.empty()) out["timestamp"] = timestamp;
  if (total) out["total"] = *total;
  if (!links.empty()) {
    json::array link;
    for (const Link& l : links)
      link.push_back(json::object{{"relation", l.relation}, {"url", l.url}});
    out["link"] = std::move(link);
  }
  if (!entries.empty()) {
    json::array items;
    items.reserve(entries.size());
    for (OutgoingEntry& entry : entries) {
      json::object item;
      if (!entry.full_url.empty()) item["fullUrl"] = entry.full_url;
      if (entry.resource) item["resource"] = std::move(*entry.resource);
      if (entry.search_mode != OutgoingEntry::Mode::kNone) {
        item["search"] = json::object{{"mode", SearchModeCode(entry.search_mode)}};
      }
      if (!entry.request_method.empty()) {
        item["request"] =
            json::object{{"method", entry.request_method}, {"url", entry.request_url}};
      }
      if (!entry.response_status.empty() || entry.response_outcome) {
        json::object response;
        response["status"] = entry.response_status;
        if (!entry.response_location.empty()) response["location"] = entry.response_location;
        if (!entry.response_etag.empty()) response["etag"] = entry.response_etag;
        if (!entry.response_last_modified.empty()) {
          response["lastModified"] = entry.response_last_modified;
        }
        if (entry.response_outcome) response["outcome"] = std::move(*entry.response_outcome);
        item["response"] = std::move(response);
      }
      items.push_back(std::move(item));
    }
    out["entry"] = std::move(items);
  }
  return out;
}

}  // namespace medvault::fhir
