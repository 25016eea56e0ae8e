#!/bin/bash
# Starts or stops the throwaway PostgreSQL 15 cluster the store tests run on (ctest fixture
# "pg"). Nothing is mocked: this is a real server, initdb'ed into a fresh temporary directory.
#
#   pg_cluster.sh start STATE_DIR   initdb, start on 127.0.0.1:<free port> and a unix socket
#                                   in the temporary directory, create database "medvault",
#                                   write STATE_DIR/cluster.env (read by the tests)
#   pg_cluster.sh stop STATE_DIR    stop the server and delete its directory
#
# cluster.env holds key=value lines: host, port, bindir, url (of database "medvault"), tmp.
# Authentication is "trust" on loopback only; the cluster holds nothing but test data.
# PostgreSQL refuses to run as root, so as root the server runs as the "postgres" user.
# MEDVAULT_PG_BIN overrides where the PostgreSQL 15 programs are.
set -euo pipefail

command=${1:-}
state_dir=${2:-}
bindir=${MEDVAULT_PG_BIN:-/usr/lib/postgresql/15/bin}

die() {
  echo "pg_cluster.sh: $*" >&2
  exit 1
}

[[ -n $command && -n $state_dir ]] || die "usage: pg_cluster.sh start|stop STATE_DIR"
env_file=$state_dir/cluster.env

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

env_value() {
  sed -n "s/^$1=//p" "$env_file"
}

stop_cluster() {
  [[ -f $env_file ]] || return 0
  local tmp
  tmp=$(env_value tmp)
  if [[ -n $tmp && -d $tmp/data ]]; then
    as_server_user "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [[ -n $tmp && $tmp == /tmp/medvault-pg.* ]] && rm -rf "$tmp"
  rm -f "$env_file"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_cluster() {
  if [[ ! -x $bindir/initdb || ! -x $bindir/pg_ctl ]]; then
    die "PostgreSQL 15 is not installed ($bindir/initdb not found): apt-get install postgresql-15"
  fi
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "running as root but there is no 'postgres' user to run the server as"
  fi
  stop_cluster
  mkdir -p "$state_dir"

  local tmp
  tmp=$(mktemp -d /tmp/medvault-pg.XXXXXX)
  mkdir -p "$tmp/sock"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$tmp"
  chmod 700 "$tmp"

  # No fsync: the cluster is thrown away, and the tests check the store, not the disk.
  if ! as_server_user "$bindir/initdb" -D "$tmp/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1; then
    cat "$tmp/initdb.log" >&2
    rm -rf "$tmp"
    die "initdb failed"
  fi

  local port="" try candidate
  for try in $(seq 1 30); do
    candidate=$((20000 + RANDOM % 40000))
    port_in_use "$candidate" && continue
    if as_server_user "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$candidate -c unix_socket_directories=$tmp/sock -c fsync=off -c max_connections=300" \
        start >/dev/null 2>&1; then
      port=$candidate
      break
    fi
    echo "pg_cluster.sh: port $candidate failed (attempt $try), trying another" >&2
  done
  if [[ -z $port ]]; then
    cat "$tmp/server.log" >&2 || true
    as_server_user "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
    die "could not start PostgreSQL on a free port"
  fi

  {
    echo "host=127.0.0.1"
    echo "port=$port"
    echo "bindir=$bindir"
    echo "tmp=$tmp"
    echo "url=postgresql://postgres@127.0.0.1:$port/medvault"
  } >"$env_file.new"
  mv "$env_file.new" "$env_file"

  if ! "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres medvault; then
    stop_cluster
    die "createdb failed"
  fi
  echo "pg_cluster.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $tmp"
}

case $command in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) die "unknown command '$command' (start|stop)" ;;
esac
