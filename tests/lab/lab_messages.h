// The example HL7 messages of tests/lab/messages, as a lab system sends them (CR between
// segments; the files keep LF so that they read well).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace medvault::lab::testing {

inline std::string ReadMessageFile(std::string_view name, char segment_end = '\r') {
  std::ifstream in(std::string(MEDVAULT_LAB_MESSAGES_DIR) + "/" + std::string(name),
                   std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string message = text.str();
  for (char& c : message) {
    if (c == '\n') c = segment_end;
  }
  return message;
}

}  // namespace medvault::lab::testing
