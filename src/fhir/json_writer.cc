// SerializeJson (fhir/resource.h): Boost.JSON's writer, except for numbers with a fraction,
// which Boost 1.81 writes in exponent form ("5.4E0"); FHIR decimals read better, and as every
// FHIR tool writes them, in plain notation with the fewest digits that read back the same.
#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <string>

#include "fhir/resource.h"

namespace medvault::fhir {
namespace {

namespace json = boost::json;

void AppendDouble(double value, std::string& out) {
  std::array<char, 64> buffer;
  // Plain notation for what lab values and doses are; exponent form for the extremes, where
  // plain notation would run to hundreds of digits.
  const double magnitude = std::fabs(value);
  const auto format = (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e15))
                          ? std::chars_format::scientific
                          : std::chars_format::fixed;
  const auto [end, error] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format);
  if (error != std::errc()) {
    out += json::serialize(json::value(value));  // cannot happen with 64 bytes; stay valid
    return;
  }
  out.append(buffer.data(), end);
}

void Append(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        out += json::serialize(json::string_view(member.key()));
        out.push_back(':');
        Append(member.value(), out);
      }
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Append(element, out);
      }
      out.push_back(']');
      return;
    }
    case json::kind::double_:
      AppendDouble(value.get_double(), out);
      return;
    default:  // strings, integers, booleans and null: Boost's writer is right
      out += json::serialize(value);
      return;
  }
}

}  // namespace

std::string SerializeJson(const boost::json::value& value) {
  std::string out;
  Append(value, out);
  return out;
}

}  // namespace medvault::fhir
