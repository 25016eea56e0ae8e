// A local sink as a child process: a Python script started on a free loopback port (printed on
// its first line of stdout) that writes what it receives into DIR; destroying it closes its
// stdin and waits for it. The SMTP sink (tests/records/smtp_sink.py) writes each message to
// DIR/<n>.eml; the webhook sink (tests/redteam/webhook_sink.py) each POSTed body to
// DIR/<n>.json.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace medvault::testing {

class LoopbackSink {
 public:
  // Runs `python3 SCRIPT DIR [ARGUMENT]`.
  LoopbackSink(const std::string& script, const std::filesystem::path& dir,
               const std::string& argument = "") {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::close(to_child[1]);
      ::close(from_child[0]);
      if (argument.empty()) {
        ::execlp("python3", "python3", script.c_str(), dir.c_str(), static_cast<char*>(nullptr));
      } else {
        ::execlp("python3", "python3", script.c_str(), dir.c_str(), argument.c_str(),
                 static_cast<char*>(nullptr));
      }
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
  ~LoopbackSink() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  LoopbackSink(const LoopbackSink&) = delete;
  LoopbackSink& operator=(const LoopbackSink&) = delete;

  std::uint16_t port() const { return port_; }  // 0 when it did not start

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::uint16_t port_ = 0;
};

class SmtpSink : public LoopbackSink {
 public:
  explicit SmtpSink(const std::filesystem::path& dir)
      : LoopbackSink(std::string(MEDVAULT_SOURCE_DIR) + "/tests/records/smtp_sink.py", dir) {}
};

}  // namespace medvault::testing
