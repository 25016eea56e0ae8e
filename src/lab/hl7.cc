#include "lab/hl7.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace medvault::lab {
namespace {

std::unexpected<Hl7Error> Refuse(Condition condition, Location where, std::string text) {
  return std::unexpected(Hl7Error{condition, std::move(where), std::move(text)});
}

// The `index`th piece of `text` cut at `separator` (0-based); empty when there are fewer.
std::string_view Piece(std::string_view text, char separator, std::size_t index) {
  for (;;) {
    const auto cut = text.find(separator);
    if (index == 0) return text.substr(0, cut);
    if (cut == std::string_view::npos) return {};
    text.remove_prefix(cut + 1);
    --index;
  }
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

// Whether the body of one escape sequence (between the two escape characters) is known.
bool KnownEscape(std::string_view body) {
  if (body.size() == 1) return std::string_view("FSTREHN").find(body[0]) != std::string_view::npos;
  if (body.empty()) return false;
  switch (body[0]) {
    case 'X': {
      const std::string_view hex = body.substr(1);
      if (hex.empty() || hex.size() % 2 != 0) return false;
      for (char c : hex) {
        if (!IsHex(c)) return false;
      }
      return true;
    }
    case '.':  // formatting commands of FT: .br .sp .in .ti .sk .fi .nf .ce
    case 'Z':  // locally defined
    case 'C':  // character set switches
    case 'M':
      return true;
    default:
      return false;
  }
}

// The problem with a field's escape sequences, or empty.
std::string_view CheckEscapes(std::string_view text, char escape) {
  for (std::size_t at = text.find(escape); at != std::string_view::npos;
       at = text.find(escape, at)) {
    const auto end = text.find(escape, at + 1);
    if (end == std::string_view::npos) return "an escape sequence does not end";
    if (!KnownEscape(text.substr(at + 1, end - at - 1))) return "an escape sequence is unknown";
    at = end + 1;
  }
  return {};
}

bool ValidSegmentId(std::string_view id) {
  if (id.size() != 3) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return id[0] >= 'A' && id[0] <= 'Z';
}

bool ValidDelimiter(char c) {
  return c != '\r' && c != '\n' && c != '\0' && std::isalnum(static_cast<unsigned char>(c)) == 0 &&
         c != ' ';
}

std::vector<std::string> SplitFields(std::string_view line, char separator) {
  std::vector<std::string> fields;
  for (;;) {
    const auto cut = line.find(separator);
    fields.emplace_back(line.substr(0, cut));
    if (cut == std::string_view::npos) break;
    line.remove_prefix(cut + 1);
  }
  return fields;
}

}  // namespace

std::string_view Segment::Raw(std::size_t field) const {
  if (field >= fields_.size()) return {};
  return fields_[field];
}

std::size_t Segment::RepetitionCount(std::size_t field) const {
  const std::string_view raw = Raw(field);
  if (raw.empty()) return 0;
  if (id_ == "MSH" && field <= 2) return 1;
  std::size_t count = 1;
  for (char c : raw) count += c == delimiters_.repetition ? 1 : 0;
  return count;
}

std::string Segment::Value(std::size_t field, std::size_t component, std::size_t subcomponent,
                           std::size_t repetition) const {
  const std::string_view raw = Raw(field);
  if (id_ == "MSH" && field <= 2) return std::string(raw);
  if (component == 0 || subcomponent == 0) return {};
  std::string_view piece = Piece(raw, delimiters_.repetition, repetition);
  piece = Piece(piece, delimiters_.component, component - 1);
  piece = Piece(piece, delimiters_.subcomponent, subcomponent - 1);
  return Unescape(piece, delimiters_);
}

std::string Unescape(std::string_view text, const Delimiters& delimiters) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto start = text.find(delimiters.escape, at);
    if (start == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, start - at));
    const auto end = text.find(delimiters.escape, start + 1);
    const std::string_view body = end == std::string_view::npos
                                      ? std::string_view()
                                      : text.substr(start + 1, end - start - 1);
    if (end == std::string_view::npos || !KnownEscape(body)) {
      out.append(text.substr(
          start, end == std::string_view::npos ? std::string_view::npos : end - start + 1));
      if (end == std::string_view::npos) break;
      at = end + 1;
      continue;
    }
    at = end + 1;
    if (body.size() == 1) {
      switch (body[0]) {
        case 'F':
          out.push_back(delimiters.field);
          break;
        case 'S':
          out.push_back(delimiters.component);
          break;
        case 'T':
          out.push_back(delimiters.subcomponent);
          break;
        case 'R':
          out.push_back(delimiters.repetition);
          break;
        case 'E':
          out.push_back(delimiters.escape);
          break;
        default:  // \H\ \N\: highlighting, dropped
          break;
      }
    } else if (body[0] == 'X') {
      for (std::size_t i = 1; i + 1 < body.size(); i += 2) {
        out.push_back(static_cast<char>(HexValue(body[i]) * 16 + HexValue(body[i + 1])));
      }
    } else if (body == ".br") {
      out.push_back('\n');
    }
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& delimiters) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == delimiters.escape) {
      out += fmt::format("{0}E{0}", delimiters.escape);
    } else if (c == delimiters.field) {
      out += fmt::format("{0}F{0}", delimiters.escape);
    } else if (c == delimiters.component) {
      out += fmt::format("{0}S{0}", delimiters.escape);
    } else if (c == delimiters.subcomponent) {
      out += fmt::format("{0}T{0}", delimiters.escape);
    } else if (c == delimiters.repetition) {
      out += fmt::format("{0}R{0}", delimiters.escape);
    } else if (c == '\r' || c == '\n') {
      out += fmt::format("{0}.br{0}", delimiters.escape);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Hl7Result<Message> Message::Parse(std::string_view text) {
  const Location msh{"MSH", 1, 0, 0};
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
  if (!text.starts_with("MSH")) {
    return Refuse(Condition::kRequiredFieldMissing, msh, "the message does not start with MSH");
  }
  if (text.find('\0') != std::string_view::npos) {
    return Refuse(Condition::kDataType, msh, "the message holds a NUL byte");
  }
  if (text.size() < 8) {
    return Refuse(Condition::kRequiredFieldMissing, {"MSH", 1, 2, 0},
                  "MSH-2: the encoding characters are missing");
  }
  Delimiters delimiters;
  delimiters.field = text[3];
  if (!ValidDelimiter(delimiters.field)) {
    return Refuse(Condition::kDataType, {"MSH", 1, 1, 0},
                  "MSH-1: the field separator is not a valid delimiter");
  }
  const std::string_view rest = text.substr(4);
  const std::string_view encoding =
      rest.substr(0, rest.find_first_of(std::string{delimiters.field, '\r', '\n'}));
  if (encoding.size() < 4 || encoding.size() > 5) {
    return Refuse(Condition::kDataType, {"MSH", 1, 2, 0},
                  "MSH-2: the encoding characters must be four (component, repetition, escape, "
                  "subcomponent)");
  }
  delimiters.component = encoding[0];
  delimiters.repetition = encoding[1];
  delimiters.escape = encoding[2];
  delimiters.subcomponent = encoding[3];
  const char all[] = {delimiters.field, delimiters.component, delimiters.repetition,
                      delimiters.escape, delimiters.subcomponent};
  for (std::size_t i = 0; i < std::size(all); ++i) {
    for (std::size_t j = i + 1; j < std::size(all); ++j) {
      if (all[i] == all[j] || !ValidDelimiter(all[i]) || !ValidDelimiter(all[j])) {
        return Refuse(Condition::kDataType, {"MSH", 1, 2, 0},
                      "MSH-2: the delimiters must be distinct punctuation characters");
      }
    }
  }

  std::vector<Segment> segments;
  std::vector<std::pair<std::string, std::size_t>> seen;  // id -> occurrences so far
  while (!text.empty()) {
    const auto end = text.find_first_of("\r\n");
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty()) continue;
    if (segments.size() == kMaxSegments) {
      return Refuse(Condition::kSegmentSequence, {},
                    fmt::format("the message has more than {} segments", kMaxSegments));
    }
    const std::string_view id = line.substr(0, 3);
    const std::size_t position = segments.size() + 1;
    if (!ValidSegmentId(id) || (line.size() > 3 && line[3] != delimiters.field)) {
      return Refuse(Condition::kSegmentSequence, {},
                    fmt::format("segment {}: the segment id is not three upper-case letters or "
                                "digits followed by the field separator",
                                position));
    }
    std::size_t sequence = 1;
    auto known =
        std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == id; });
    if (known == seen.end()) {
      seen.emplace_back(std::string(id), 1);
    } else {
      sequence = ++known->second;
    }
    std::vector<std::string> fields;
    if (id == "MSH") {
      if (!segments.empty()) {
        return Refuse(Condition::kSegmentSequence, {"MSH", sequence, 0, 0},
                      "the message holds a second MSH segment");
      }
      fields = SplitFields(line.substr(4), delimiters.field);
      fields.insert(fields.begin(), std::string(1, delimiters.field));
      fields.insert(fields.begin(), "MSH");
    } else {
      fields = SplitFields(line, delimiters.field);
    }
    for (std::size_t f = 1; f < fields.size(); ++f) {
      if (id == "MSH" && f <= 2) continue;
      if (const std::string_view problem = CheckEscapes(fields[f], delimiters.escape);
          !problem.empty()) {
        return Refuse(Condition::kDataType, {std::string(id), sequence, f, 0},
                      fmt::format("{}-{}: {}", id, f, problem));
      }
    }
    segments.emplace_back(std::string(id), std::move(fields), delimiters, sequence);
  }
  return Message(delimiters, std::move(segments));
}

}  // namespace medvault::lab
