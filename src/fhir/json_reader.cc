// ParseJson and ParseResource (fhir/resource.h): a Boost.JSON basic_parser whose handler
// builds the value itself, so that it can refuse duplicate keys (json::parse keeps one of
// them silently) and say where they are.
#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fhir/primitives.h"
#include "fhir/resource.h"

namespace medvault::fhir {

namespace json = boost::json;

namespace {

// Builds the document; on a duplicate key, stops the parser and keeps the key's path.
class TreeBuilder {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    stack_.push_back(Frame{json::value(json::object()), {}});
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) { return Close(); }
  bool on_array_begin(json::error_code&) {
    stack_.push_back(Frame{json::value(json::array()), {}});
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) { return Close(); }

  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view part, std::size_t, json::error_code& ec) {
    text_.append(part.data(), part.size());
    Frame& top = stack_.back();
    if (top.value.get_object().contains(text_)) {
      duplicate_ = PathOf(text_);
      ec = json::error::syntax;
      return false;
    }
    top.key = std::move(text_);
    text_.clear();
    return true;
  }

  bool on_string_part(json::string_view part, std::size_t, json::error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_string(json::string_view part, std::size_t, json::error_code&) {
    text_.append(part.data(), part.size());
    json::value value(json::string(text_.data(), text_.size()));
    text_.clear();
    Put(std::move(value));
    return true;
  }

  bool on_number_part(json::string_view part, json::error_code&) {
    number_.append(part.data(), part.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    Put(json::value(i));
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    Put(json::value(u));
    return true;
  }
  // Boost 1.81 reads doubles imprecisely (a lab value could change in its last digit): the
  // number is read again, correctly rounded, from its text. A number beyond the range of a
  // double is refused: it would be written back as "Infinity", which is not JSON.
  bool on_double(double d, json::string_view part, json::error_code& ec) {
    number_.append(part.data(), part.size());
    double exact = d;
    const auto [end, error] =
        std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    number_.clear();
    if (error != std::errc() || !std::isfinite(exact)) {
      out_of_range_ = true;
      ec = json::error::exponent_overflow;
      return false;
    }
    (void)end;
    Put(json::value(exact));
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    Put(json::value(b));
    return true;
  }
  bool on_null(json::error_code&) {
    Put(json::value(nullptr));
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value TakeRoot() { return std::move(root_); }
  const std::optional<std::string>& duplicate() const { return duplicate_; }
  bool out_of_range() const { return out_of_range_; }

 private:
  struct Frame {
    json::value value;  // an object or an array under construction
    std::string key;    // for an object: the key of the member being read
  };

  void Put(json::value value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.get_array().push_back(std::move(value));
      return;
    }
    if (stack_.size() == 1 && top.key == "resourceType" && value.is_string() &&
        primitives::IsId(value.get_string())) {
      root_type_ = std::string(value.get_string());
    }
    top.value.get_object().emplace(top.key, std::move(value));
  }

  bool Close() {
    json::value value = std::move(stack_.back().value);
    stack_.pop_back();
    Put(std::move(value));
    return true;
  }

  // "Patient.name[0].family" for a key of the innermost object; the root is named by its
  // resourceType when it has already been read.
  std::string PathOf(const std::string& key) const {
    std::string path = root_type_;
    for (std::size_t i = 1; i < stack_.size(); ++i) {
      const Frame& parent = stack_[i - 1];
      if (parent.value.is_object()) {
        path += "." + SafeName(parent.key);
      } else {
        path += "[" + std::to_string(parent.value.get_array().size()) + "]";
      }
    }
    path += "." + SafeName(key);
    if (path.starts_with('.')) path.erase(0, 1);
    return path;
  }

  // A key as it may appear in an expression: element names only (a key is not health data,
  // but an arbitrary one could be anything).
  static std::string SafeName(const std::string& key) {
    const bool plain =
        !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_';
        });
    return plain ? key : "<key>";
  }

  std::vector<Frame> stack_;
  std::string text_;
  json::value root_;
  std::string root_type_;
  std::optional<std::string> duplicate_;
  std::string number_;  // the text of the number being read
  bool out_of_range_ = false;
};

std::string Where(std::string_view body, std::size_t offset) {
  offset = std::min(offset, body.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (body[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

}  // namespace

FhirResult<json::value> ParseJson(std::string_view body) {
  if (body.size() > kMaxResourceBytes) {
    return Refuse(
        Failure::kTooLarge, IssueType::kTooLong, "",
        "the body is larger than " + std::to_string(kMaxResourceBytes / (1024 * 1024)) + " MB");
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;
  json::basic_parser<TreeBuilder> parser(options);
  json::error_code ec;
  const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  if (parser.handler().duplicate()) {
    return Refuse(Failure::kInvalid, IssueType::kStructure, *parser.handler().duplicate(),
                  "this JSON key appears twice in the same object; give each element once");
  }
  if (parser.handler().out_of_range()) {
    return Refuse(Failure::kInvalid, IssueType::kValue, "",
                  "a number is beyond the range of a decimal (at " + Where(body, consumed) + ")");
  }
  if (ec == json::error::too_deep) {
    return Refuse(Failure::kInvalid, IssueType::kTooCostly, "",
                  "the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (at " +
                      Where(body, consumed) + ")");
  }
  if (ec) {
    return Refuse(Failure::kInvalid, IssueType::kStructure, "",
                  "the body is not valid JSON: " + ec.message() + " at " + Where(body, consumed));
  }
  if (!parser.done()) {
    return Refuse(Failure::kInvalid, IssueType::kStructure, "",
                  "the body is not valid JSON: it ends before the JSON value is complete");
  }
  if (consumed < body.size()) {
    return Refuse(
        Failure::kInvalid, IssueType::kStructure, "",
        "the body is not valid JSON: extra data after the value at " + Where(body, consumed));
  }
  return parser.handler().TakeRoot();
}

FhirResult<json::object> ParseResource(std::string_view body) {
  auto value = ParseJson(body);
  if (!value) return std::unexpected(std::move(value.error()));
  if (!value->is_object()) {
    return Refuse(Failure::kInvalid, IssueType::kStructure, "",
                  "the body must be a JSON object (a FHIR resource)");
  }
  json::object& object = value->get_object();
  const json::value* type = object.if_contains("resourceType");
  if (type == nullptr) {
    return Refuse(Failure::kInvalid, IssueType::kRequired, "resourceType",
                  "the resource has no resourceType");
  }
  if (!type->is_string()) {
    return Refuse(Failure::kInvalid, IssueType::kStructure, "resourceType",
                  "resourceType must be a JSON string");
  }
  if (!IsServedType(type->get_string())) {
    return Refuse(Failure::kInvalid, IssueType::kNotSupported, "resourceType",
                  "medvault does not serve this resource type (see /fhir/metadata)");
  }
  return std::move(object);
}

}  // namespace medvault::fhir
