// The PostgreSQL test cluster that the ctest fixture "pg" starts (pg_cluster.sh), as the store
// tests see it: where it listens, fresh databases on it, and psql for what the Store cannot do.
// Needs MEDVAULT_PG_STATE_DIR, the directory the fixture writes cluster.env into.
#pragma once

#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace medvault::store {

inline constexpr std::string_view kClusterEnv = MEDVAULT_PG_STATE_DIR "/cluster.env";

// The cluster the "pg" fixture started.
struct Cluster {
  std::string host;
  std::string port;
  std::string bindir;
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
  return Cluster{values["host"], values["port"], values["bindir"]};
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

}  // namespace medvault::store
