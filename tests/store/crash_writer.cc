// The process crash_test.cc kills with SIGKILL: opens the Store at the URL it is given and
// commits the sequences of crash_workload.h one transaction each, forever, resuming after the
// last sequence the store holds. It prints a sequence number on stdout only once its
// transaction has committed: each line is an acknowledgement the store must honour after
// the kill. Errors go to stderr and end the process with a non-zero status, which the test
// reports (it expects to be the one that stops the writer).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "crash_workload.h"
#include "store/store.h"

namespace medvault::store::crash {
namespace {

// write(2) straight to the pipe, not a stdio buffer that the kill would discard: once this
// returns, the test can read the line.
bool Acknowledge(int acknowledgements, std::int64_t sequence) {
  const std::string line = std::to_string(sequence) + "\n";
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(acknowledgements, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

int Run(std::string_view url, int acknowledgements) {
  auto store = Store::Open(url);
  if (!store) {
    std::fprintf(stderr, "crash_writer: open failed: %s\n", store.error().message().c_str());
    return 2;
  }
  std::int64_t committed = 0;
  if (auto ledger = (*store)->Get(kLedgerType, kLedgerId)) {
    committed = ledger->version;
  } else if (ledger.error().code() != ErrorCode::kNotFound) {
    std::fprintf(stderr, "crash_writer: reading the ledger failed: %s\n",
                 ledger.error().message().c_str());
    return 2;
  }
  for (std::int64_t sequence = committed + 1;; ++sequence) {
    const std::vector<ResourceWrite> writes = WritesOfSequence(sequence);
    Status status = (*store)->Transact([&](Transaction& tx) -> Status {
      for (const ResourceWrite& write : writes) {
        if (auto put = tx.Put(write); !put) return std::unexpected(put.error());
      }
      return {};
    });
    if (!status) {
      std::fprintf(stderr, "crash_writer: sequence %lld failed: %s\n",
                   static_cast<long long>(sequence), status.error().message().c_str());
      return 1;
    }
    if (!Acknowledge(acknowledgements, sequence)) return 1;  // the test stopped reading
  }
}

}  // namespace
}  // namespace medvault::store::crash

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: crash_writer STORE_URL\n");
    return 2;
  }
  // The store logs on stdout (core/log.h): its lines go to stderr instead, so that stdout
  // carries acknowledgements only.
  const int acknowledgements = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (acknowledgements < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::perror("crash_writer: cannot separate acknowledgements from logs");
    return 2;
  }
  return medvault::store::crash::Run(argv[1], acknowledgements);
}
