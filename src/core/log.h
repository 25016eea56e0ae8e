// Structured logs: one JSON object per line on standard output. Callers pass only
// identifiers, route templates, codes and durations: never query strings, bodies,
// cookies, tokens, secrets or anything read from a health record. Thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace medvault::log {

enum class Level { kDebug, kInfo, kWarning, kError };

using Value = std::variant<std::string_view, std::int64_t, double, bool>;
using Field = std::pair<std::string_view, Value>;

// Writes {"time":...,"level":...,"event":...,<fields>} as one line.
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warning(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// The JSON line Write would print, without the trailing newline (for tests).
std::string Format(std::string_view time, Level level, std::string_view event,
                   std::initializer_list<Field> fields);

// Appends `text` to `out` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view text);

// Where log lines go; tests and the benchmark may silence it. Not thread-safe: set at start.
void SetEnabled(bool enabled);

}  // namespace medvault::log
