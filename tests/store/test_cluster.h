// The PostgreSQL test cluster that the ctest fixture "pg" starts (pg_cluster.sh), as the store
// tests see it: where it listens, fresh databases on it, and psql for what the Store cannot do.
// Needs MEDVAULT_PG_STATE_DIR, the directory the fixture writes cluster.env into. Also the
// fixture every test that runs on both backends derives from.
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace medvault::store {

inline constexpr std::string_view kClusterEnv = MEDVAULT_PG_STATE_DIR "/cluster.env";

// The cluster the "pg" fixture started.
struct Cluster {
  std::string host;
  std::string port;
  std::string bindir;
  std::string tmp;  // the cluster's directory: data/ (with pg_wal/) and server.log
};

// kUnavailable, with how to get a cluster, when the fixture did not run.
inline Result<Cluster> ReadCluster() {
  std::ifstream in{std::string(kClusterEnv)};
  if (!in) {
    return Fail(ErrorCode::kUnavailable,
                "no PostgreSQL test cluster: " + std::string(kClusterEnv) +
                    " is missing. Run through ctest (the fixture runs tests/store/pg_cluster.sh "
                    "start) and install PostgreSQL 15 (apt-get install postgresql-15).");
  }
  std::map<std::string, std::string> values;
  for (std::string line; std::getline(in, line);) {
    if (auto eq = line.find('='); eq != std::string::npos) {
      values[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  if (values["host"].empty() || values["port"].empty() || values["bindir"].empty()) {
    return Fail(ErrorCode::kUnavailable, "malformed " + std::string(kClusterEnv));
  }
  return Cluster{values["host"], values["port"], values["bindir"], values["tmp"]};
}

// A new empty database on the test cluster; returns its URL.
inline Result<std::string> CreatePostgresDatabase() {
  auto cluster = ReadCluster();
  if (!cluster) return std::unexpected(cluster.error());
  static std::atomic<int> counter{0};
  const std::string name =
      "t" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
  const std::string command = cluster->bindir + "/createdb -h " + cluster->host + " -p " +
                              cluster->port + " -U postgres " + name;
  if (std::system(command.c_str()) != 0) {
    return Fail(ErrorCode::kUnavailable, "createdb failed on the test cluster");
  }
  return "postgresql://postgres@" + cluster->host + ":" + cluster->port + "/" + name;
}

// Runs `sql` (a constant test statement without double quotes) on the database named by `url`
// through psql; returns what it printed, unaligned and without headers.
inline Result<std::string> RunPsql(const std::string& url, std::string_view sql) {
  auto cluster = ReadCluster();
  if (!cluster) return std::unexpected(cluster.error());
  const std::string command = cluster->bindir + "/psql -q -X -A -t -v ON_ERROR_STOP=1 -d '" + url +
                              "' -c \"" + std::string(sql) + "\"";
  FILE* psql = ::popen(command.c_str(), "r");
  if (psql == nullptr) return Fail(ErrorCode::kUnavailable, "cannot start psql");
  std::string output;
  char chunk[256];
  while (std::size_t got = std::fread(chunk, 1, sizeof chunk, psql)) output.append(chunk, got);
  if (::pclose(psql) != 0) return Fail(ErrorCode::kUnavailable, "psql failed on the test cluster");
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

// A test that runs on each backend, named by its parameter: "sqlite" (a database file in a
// fresh temporary directory) or "postgres" (a new database on the test cluster). store_ is
// open and migrated on it; the directory is removed afterwards.
class StoreBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string pattern = (std::filesystem::temp_directory_path() / "medvault-test-XXXXXX");
      ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      url_ = "sqlite:" + (dir_ / "store.db").string();
    } else {
      auto url = CreatePostgresDatabase();
      ASSERT_TRUE(url.has_value()) << url.error().message();
      url_ = *url;
    }
    auto opened = Store::Open(url_);
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    store_ = std::move(*opened);
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs one body in a transaction and returns its status.
  Status Tx(const Store::TransactionBody& body) { return store_->Transact(body); }

  // Runs one read in a transaction and returns what it read.
  template <typename T, typename Op>
  Result<T> One(Op op) {
    std::optional<Result<T>> out;
    Status s = store_->Transact([&](Transaction& tx) -> Status {
      out = op(tx);
      return {};
    });
    if (!s) return std::unexpected(s.error());
    return std::move(*out);
  }

  std::filesystem::path dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

}  // namespace medvault::store
