// The local SMTP sink (tests/records/smtp_sink.py) as a child process: started on a free
// loopback port, it writes every message it receives to DIR/<n>.eml; destroying it closes
// its stdin and waits for it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace medvault::testing {

class SmtpSink {
 public:
  explicit SmtpSink(const std::filesystem::path& dir) {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::close(to_child[1]);
      ::close(from_child[0]);
      const std::string script = std::string(MEDVAULT_SOURCE_DIR) + "/tests/records/smtp_sink.py";
      ::execlp("python3", "python3", script.c_str(), dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    std::string line;
    char c = 0;
    while (::read(from_child[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(from_child[0]);
    port_ = line.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(line));
  }
  ~SmtpSink() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::uint16_t port() const { return port_; }  // 0 when it did not start

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace medvault::testing
