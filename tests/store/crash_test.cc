// The store's durability requirement, on SQLite and on the PostgreSQL test cluster: a writer
// process killed with SIGKILL in the middle of a stream of transactions, 20 times in a row,
// loses none of the writes it acknowledged and leaves no transaction visible in part. The
// writer is crash_writer.cc; what it writes is crash_workload.h.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crash_workload.h"
#include "store/store.h"
#include "test_cluster.h"

extern char** environ;

namespace medvault::store::crash {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kRounds = 20;
// Kills land this long after the writer's first acknowledgement, spread over the rounds so
// they hit different moments of the transaction cycle.
constexpr milliseconds kShortestRun{20};
constexpr milliseconds kLongestRun{200};
// A sanitized writer may take a while to start and migrate on a busy machine.
constexpr milliseconds kFirstAcknowledgementTimeout{30'000};
// The writer's PostgreSQL sessions carry this name, so the test can wait for them to end.
constexpr std::string_view kWriterApplicationName = "medvault_crash_writer";

milliseconds RunTimeOfRound(int round) {
  return kShortestRun + (kLongestRun - kShortestRun) * round / (kRounds - 1);
}

// The writer process with its stdout on a pipe; killed and reaped when it goes out of scope.
class WriterProcess {
 public:
  // nullptr, after a test failure saying why, if the writer could not be started.
  static std::unique_ptr<WriterProcess> Start(const std::string& url) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed: " << std::strerror(errno);
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copy: only stdout reaches the writer.
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::string path = MEDVAULT_CRASH_WRITER;
    std::string argument = url;
    char* argv[] = {path.data(), argument.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      ADD_FAILURE() << "cannot start " << path << ": " << std::strerror(rc);
      return nullptr;
    }
    return std::unique_ptr<WriterProcess>(new WriterProcess(pid, out[0]));
  }

  ~WriterProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }
  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;

  // Reads until the first complete line, the end of the output or `deadline`; true if a
  // line arrived.
  bool WaitForFirstLine(Clock::time_point deadline) {
    auto has_line = [&] { return output_.find('\n') != std::string::npos; };
    while (!has_line() && Clock::now() < deadline) {
      if (!ReadUntil(std::min(deadline, Clock::now() + milliseconds(5)))) break;
    }
    return has_line();
  }

  // Keeps the pipe drained until `deadline` so the writer never blocks on it.
  void ReadFor(milliseconds duration) { ReadUntil(Clock::now() + duration); }

  // SIGKILL, then everything the writer had printed, then its wait status.
  int KillAndReap() {
    ::kill(pid_, SIGKILL);
    while (ReadUntil(Clock::now() + milliseconds(100))) {
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  const std::string& output() const { return output_; }

 private:
  WriterProcess(pid_t pid, int out) : pid_(pid), out_(out) {}

  // Appends what arrives before `deadline`; false once the writer closed its stdout.
  bool ReadUntil(Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return true;
      pollfd ready{.fd = out_, .events = POLLIN, .revents = 0};
      const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
      if (polled < 0 && errno == EINTR) continue;
      if (polled < 0) return false;
      if (polled == 0) return true;
      char chunk[4096];
      const ssize_t got = ::read(out_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      output_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  pid_t pid_;
  int out_;
  std::string output_;
};

// What one round's writer said before it was killed.
struct KilledWriter {
  std::vector<std::int64_t> acknowledged;
  bool well_formed = true;  // every line was a sequence number
  int wait_status = 0;
  std::string output;
};

// Runs the writer until `run_time` after its first acknowledgement, then kills it.
KilledWriter RunWriterAndKill(const std::string& url, milliseconds run_time) {
  KilledWriter result;
  std::unique_ptr<WriterProcess> writer = WriterProcess::Start(url);
  if (writer == nullptr) return result;
  if (writer->WaitForFirstLine(Clock::now() + kFirstAcknowledgementTimeout)) {
    writer->ReadFor(run_time);
  }
  result.wait_status = writer->KillAndReap();
  result.output = writer->output();
  std::string_view rest = result.output;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    // A line is one write(2) of a few bytes to a pipe, which is atomic: a piece of one is a bug.
    const std::string_view line = rest.substr(0, end);
    std::int64_t sequence = 0;
    const auto [parsed_end, error] = std::from_chars(line.begin(), line.end(), sequence);
    if (end == std::string_view::npos || error != std::errc() || parsed_end != line.end()) {
      result.well_formed = false;
      break;
    }
    result.acknowledged.push_back(sequence);
    rest.remove_prefix(end + 1);
  }
  return result;
}

bool KilledBySigkill(int wait_status) {
  return WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL;
}

// Whether the store holds exactly `expected` as version 1 of its resource.
::testing::AssertionResult HoldsFirstVersion(Transaction& store, const ResourceWrite& expected) {
  auto got = store.Get(expected.resource_type, expected.id);
  if (!got) {
    return ::testing::AssertionFailure()
           << expected.resource_type << "/" << expected.id << ": " << got.error().message();
  }
  if (got->version != 1 || got->state != VersionState::kLive ||
      got->patient_id != expected.patient_id || got->key_id != expected.key_id ||
      got->payload != expected.payload || got->recorded_at != expected.recorded_at) {
    return ::testing::AssertionFailure()
           << expected.resource_type << "/" << expected.id << " is not what was written (version "
           << got->version << ", " << got->payload.size() << " payload bytes, expected "
           << expected.payload.size() << ")";
  }
  auto found =
      store.Lookup(expected.resource_type, kSequenceField, expected.index.front().token, "", 2);
  if (!found || *found != std::vector<std::string>{expected.id}) {
    return ::testing::AssertionFailure() << expected.resource_type << "/" << expected.id
                                         << " is not found, or not alone, by its index token";
  }
  return ::testing::AssertionSuccess();
}

// Both resources of `sequence` are there, byte for byte, with their index rows.
::testing::AssertionResult PairIsIntact(Transaction& store, std::int64_t sequence) {
  for (Part part : {Part::kReport, Part::kObservation}) {
    if (auto held = HoldsFirstVersion(store, WriteOf(part, sequence)); !held) {
      return held << " (sequence " << sequence << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// Nothing of `sequence` is visible: neither resource, nor an index row.
::testing::AssertionResult PairIsAbsent(Transaction& store, std::int64_t sequence) {
  for (Part part : {Part::kReport, Part::kObservation}) {
    const ResourceWrite write = WriteOf(part, sequence);
    auto got = store.Get(write.resource_type, write.id);
    if (got || got.error().code() != ErrorCode::kNotFound) {
      return ::testing::AssertionFailure() << write.resource_type << "/" << write.id << ": "
                                           << (got ? "present" : got.error().message());
    }
    auto found = store.Lookup(write.resource_type, kSequenceField, write.index.front().token, "", 2);
    if (!found || !found->empty()) {
      return ::testing::AssertionFailure() << write.resource_type << "/" << write.id
                                           << ": an index row is visible without its resource";
    }
  }
  return ::testing::AssertionSuccess();
}

// The ledger went through versions 1..`version` without a gap, each with its sequence's bytes,
// and its index row names its current sequence only.
::testing::AssertionResult LedgerIsIntact(Transaction& store, std::int64_t version) {
  auto history = store.History(kLedgerType, kLedgerId);
  if (!history) return ::testing::AssertionFailure() << "history: " << history.error().message();
  if (history->size() != static_cast<std::size_t>(version)) {
    return ::testing::AssertionFailure() << "the ledger is at version " << version << " but has "
                                         << history->size() << " versions";
  }
  for (std::int64_t sequence = 1; sequence <= version; ++sequence) {
    const ResourceVersion& stored = (*history)[static_cast<std::size_t>(sequence - 1)];
    if (stored.version != sequence || stored.state != VersionState::kLive ||
        stored.payload != Payload(Part::kLedger, sequence) ||
        stored.recorded_at != RecordedAt(sequence)) {
      return ::testing::AssertionFailure()
             << "ledger version " << stored.version << " at position " << sequence
             << " is not what sequence " << sequence << " wrote";
    }
  }
  auto current = store.Lookup(kLedgerType, kSequenceField, SequenceToken(version), "", 2);
  if (!current || *current != std::vector<std::string>{std::string(kLedgerId)}) {
    return ::testing::AssertionFailure() << "the ledger is not found by its current token";
  }
  if (version > 1) {
    auto stale = store.Lookup(kLedgerType, kSequenceField, SequenceToken(version - 1), "", 2);
    if (!stale || !stale->empty()) {
      return ::testing::AssertionFailure() << "the ledger's previous index row survived";
    }
  }
  return ::testing::AssertionSuccess();
}

// Runs `check` on one read-only snapshot of the store: what a restarted server would read.
template <typename Check>
::testing::AssertionResult OnSnapshot(Store& store, Check check) {
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  Status status = store.Transact(
      [&](Transaction& tx) -> Status {
        result = check(tx);
        return {};
      },
      Access::kReadOnly);
  if (!status) return ::testing::AssertionFailure() << status.error().message();
  return result;
}

// Sequences first..last are intact, in one snapshot.
::testing::AssertionResult PairsAreIntact(Store& store, std::int64_t first, std::int64_t last) {
  return OnSnapshot(store, [&](Transaction& tx) {
    for (std::int64_t sequence = first; sequence <= last; ++sequence) {
      if (auto intact = PairIsIntact(tx, sequence); !intact) return intact;
    }
    return ::testing::AssertionSuccess();
  });
}

class StoreCrash : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string pattern = (std::filesystem::temp_directory_path() / "medvault-crash-XXXXXX");
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      url_ = "sqlite:" + (dir_ / "store.db").string();
      writer_url_ = url_;
    } else {
      auto url = CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      url_ = *url;
      writer_url_ = url_ + "?application_name=" + std::string(kWriterApplicationName);
    }
  }

  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A COMMIT the killed writer had already sent still completes on the server, and locks it
  // held are released only when its session ends: the state to check is the one after that.
  ::testing::AssertionResult WaitForWriterSessionsToEnd() {
    if (GetParam() != "postgres") return ::testing::AssertionSuccess();
    const std::string count_sessions =
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
        "application_name = '" +
        std::string(kWriterApplicationName) + "'";
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto sessions = RunPsql(url_, count_sessions);
      if (!sessions) return ::testing::AssertionFailure() << sessions.error().message();
      if (*sessions == "0") return ::testing::AssertionSuccess();
      if (Clock::now() > deadline) {
        return ::testing::AssertionFailure()
               << *sessions << " sessions of the killed writer are still open after 10 s";
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  std::filesystem::path dir_;
  std::string url_;         // what the test opens
  std::string writer_url_;  // the same database, named for the writer
};

TEST_P(StoreCrash, KilledWriterKeepsEveryAcknowledgedWriteAndNoHalfTransaction) {
  std::int64_t committed = 0;  // the ledger's version when the round's writer starts
  std::size_t total_acknowledged = 0;
  int commits_beyond_acknowledgement = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " of " + GetParam());
    const KilledWriter writer = RunWriterAndKill(writer_url_, RunTimeOfRound(round));
    ASSERT_TRUE(KilledBySigkill(writer.wait_status))
        << "the writer stopped by itself (wait status " << writer.wait_status
        << "); see its stderr above";
    ASSERT_TRUE(writer.well_formed) << "the writer printed: " << writer.output;
    ASSERT_FALSE(writer.acknowledged.empty())
        << "no write acknowledged within " << kFirstAcknowledgementTimeout.count() << " ms";
    for (std::size_t i = 0; i < writer.acknowledged.size(); ++i) {
      ASSERT_EQ(writer.acknowledged[i], committed + 1 + static_cast<std::int64_t>(i))
          << "a restarted writer resumes right after the last committed sequence";
    }
    ASSERT_TRUE(WaitForWriterSessionsToEnd());

    auto store = Store::Open(url_);
    ASSERT_TRUE(store.has_value()) << store.error().message();
    auto ledger = (*store)->Get(kLedgerType, kLedgerId);
    ASSERT_TRUE(ledger.has_value())
        << "the ledger of acknowledged sequences is gone: " << ledger.error().message();
    const std::int64_t last_acknowledged = writer.acknowledged.back();
    ASSERT_GE(ledger->version, last_acknowledged) << "acknowledged sequences were lost";
    // The writer acknowledges right after each commit, so only the transaction in flight at
    // the kill may have committed without its line.
    ASSERT_LE(ledger->version, last_acknowledged + 1);
    if (ledger->version > last_acknowledged) ++commits_beyond_acknowledgement;

    ASSERT_TRUE(PairsAreIntact(**store, committed + 1, ledger->version));
    ASSERT_TRUE(OnSnapshot(**store, [&](Transaction& tx) {
      return PairIsAbsent(tx, ledger->version + 1);
    })) << "the transaction cut by the kill is visible in part";
    ASSERT_TRUE(
        OnSnapshot(**store, [&](Transaction& tx) { return LedgerIsIntact(tx, ledger->version); }));

    committed = ledger->version;
    total_acknowledged += writer.acknowledged.size();
  }
  EXPECT_GE(total_acknowledged, static_cast<std::size_t>(kRounds));

  // Every later kill and recovery left the earlier rounds' writes alone.
  auto store = Store::Open(url_);
  ASSERT_TRUE(store.has_value()) << store.error().message();
  ASSERT_TRUE(PairsAreIntact(**store, 1, committed));
  std::printf(
      "[ crash    ] %s: %d kills, %zu writes acknowledged, %lld committed, %d committed "
      "but killed before acknowledging\n",
      GetParam().c_str(), kRounds, total_acknowledged, static_cast<long long>(committed),
      commits_beyond_acknowledgement);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCrash, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace medvault::store::crash
