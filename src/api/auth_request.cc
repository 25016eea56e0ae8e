#include "api/auth_request.h"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

namespace medvault::api {
namespace {

const FieldRule* FindRule(std::span<const FieldRule> rules, std::string_view name) {
  for (const auto& rule : rules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

Status Add(Fields& fields, std::span<const FieldRule> rules, std::string_view name,
           std::string_view value) {
  const FieldRule* rule = FindRule(rules, name);
  if (rule == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "the body has a member this endpoint does not take");
  }
  if (value.size() > rule->max_bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "a member of the body is too long: " + std::string(rule->name));
  }
  if (!fields.emplace(std::string(name), std::string(value)).second) {
    return Fail(ErrorCode::kInvalidArgument, "a member of the body appears twice");
  }
  return {};
}

Status RequireAll(const Fields& fields, std::span<const FieldRule> rules) {
  for (const auto& rule : rules) {
    if (rule.required && !fields.contains(rule.name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the body lacks a required member: " + std::string(rule.name));
    }
  }
  return {};
}

}  // namespace

Result<Fields> ParseJsonFields(std::string_view body, std::span<const FieldRule> rules) {
  if (body.size() > kMaxAuthBodyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the body is too large");
  }
  boost::json::parse_options options;
  options.max_depth = 2;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "the body is not valid JSON");
  const boost::json::value value = parser.release();
  const auto* object = value.if_object();
  if (object == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  }
  Fields fields;
  for (const auto& member : *object) {
    const auto* text = member.value().if_string();
    if (text == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, "every member of the body must be a string");
    }
    if (auto s = Add(fields, rules, member.key(), *text); !s) return std::unexpected(s.error());
  }
  if (auto s = RequireAll(fields, rules); !s) return std::unexpected(s.error());
  return fields;
}

Result<Fields> ParseFormFields(std::string_view body, std::span<const FieldRule> rules) {
  if (body.size() > kMaxAuthBodyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "the body is too large");
  }
  if (body.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "the body is not form-encoded");
  }
  // Boost.URL 1.81's parse_query reads its input up to a NUL (found by auth_request_fuzzer):
  // give it a NUL-terminated copy.
  const std::string terminated(body);
  auto params = boost::urls::parse_query(terminated.c_str());
  if (!params) return Fail(ErrorCode::kInvalidArgument, "the body is not form-encoded");
  Fields fields;
  for (const auto& param : *params) {
    if (!param.has_value) {
      return Fail(ErrorCode::kInvalidArgument, "every form field needs a value");
    }
    std::string key;
    std::string value;
    param.key.decode(boost::urls::encoding_opts(true), boost::urls::string_token::assign_to(key));
    param.value.decode(boost::urls::encoding_opts(true),
                       boost::urls::string_token::assign_to(value));
    if (auto s = Add(fields, rules, key, value); !s) return std::unexpected(s.error());
  }
  if (auto s = RequireAll(fields, rules); !s) return std::unexpected(s.error());
  return fields;
}

}  // namespace medvault::api
