# Shared by tests/redteam/sqlmap-search.sh and tests/redteam/sqlmap-thorough (sourced, not run):
# a real medvault on a small demo vault, on SQLite or on a new database of the PostgreSQL test
# cluster, an API client's bearer token, and sqlmap runs whose verdict is read from its output.
#
# Environment: MEDVAULT_BINARY (default: this checkout's ASan build), MEDVAULT_PG_STATE_DIR (the
# ctest fixture "pg"'s state directory, tests/store/pg_cluster.sh), SQLMAP_LOG_DIR (keep every
# sqlmap output there; default: inside the temporary directory, removed at exit unless a run
# failed).

redteam_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$redteam_dir/../.." && pwd)
medvault=${MEDVAULT_BINARY:-$repo_dir/build/asan/src/cli/medvault}
client_tool=$repo_dir/tests/outside/client.mjs
scopes="system/*.rs"
work=$(mktemp -d /tmp/medvault-sqlmap.XXXXXX)
log_dir=${SQLMAP_LOG_DIR:-$work/logs}
mkdir -p "$log_dir"
server_pid=
base=
store_url=
failures=0
runs=0

die() {
  echo "sqlmap: $*" >&2
  exit 1
}

cleanup() {
  stop_server
  if ((failures == 0)); then
    rm -rf "$work"
  else
    echo "sqlmap: outputs kept in $log_dir" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in sqlmap node curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/lib.sh TEST_PACKAGES)"
done
[[ -x $medvault ]] || die "no medvault binary at $medvault (build it, or set MEDVAULT_BINARY)"

stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}

# A new database on the fixture's PostgreSQL cluster: prints its URL.
postgres_database() {
  local env_file=${MEDVAULT_PG_STATE_DIR:-}/cluster.env
  [[ -n ${MEDVAULT_PG_STATE_DIR:-} && -f $env_file ]] ||
    die "no PostgreSQL test cluster (run through ctest, fixture pg, or set MEDVAULT_PG_STATE_DIR)"
  local host port bindir name
  host=$(sed -n 's/^host=//p' "$env_file")
  port=$(sed -n 's/^port=//p' "$env_file")
  bindir=$(sed -n 's/^bindir=//p' "$env_file")
  name="sqlmap_$$_$RANDOM"
  "$bindir/createdb" -h "$host" -p "$port" -U postgres "$name" ||
    die "createdb failed on the test cluster"
  echo "postgresql://postgres@$host:$port/$name"
}

# start_backend sqlite|postgres: a demo vault (5 named + 5 generated patients) served over
# plain HTTP on 127.0.0.1, and an API client "sqlmap" with system/*.rs. Sets base, patient_id,
# patient_nir, accession.
start_backend() {
  local backend=$1 vault=$work/$1/vault
  mkdir -p "$work/$backend"
  store_url=
  [[ $backend == postgres ]] && store_url=$(postgres_database)
  local -a store_env=()
  [[ -n $store_url ]] && store_env=(MEDVAULT_STORE_URL="$store_url")
  env "${store_env[@]}" "$medvault" demo --dir "$vault" --patients 5 >"$work/$backend/demo.txt" \
    2>"$work/$backend/demo.log" || die "medvault demo failed on $backend: $(tail -3 "$work/$backend/demo.log")"
  local server_log=$work/$backend/serve.log
  env "${store_env[@]}" MEDVAULT_SERVER_LISTEN=127.0.0.1:0 MEDVAULT_SERVER_TLS=false \
    MEDVAULT_AUTH_SOURCE_BURST=1000000 MEDVAULT_AUTH_SOURCE_PER_MINUTE=1000000 \
    "$medvault" serve --dir "$vault" >"$server_log" 2>&1 &
  server_pid=$!
  local port=
  for _ in $(seq 1 300); do
    port=$(grep -o '"event":"listening","address":"127\.0\.0\.1:[0-9]*' "$server_log" |
      grep -o '[0-9]*$' || true)
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || die "medvault serve exited on $backend: $(tail -3 "$server_log")"
    sleep 0.1
  done
  [[ -n $port ]] || die "medvault serve did not start on $backend"
  base=http://127.0.0.1:$port
  env "${store_env[@]}" MEDVAULT_BINARY="$medvault" node "$client_tool" register "$work/$backend" \
    "$vault" sqlmap "$scopes" || die "medvault client add failed on $backend"
  key_dir=$work/$backend
  # The first demo patient, Hélène Dupont, and one of her reports' accession numbers.
  local bundle
  bundle=$(fhir_get "/fhir/Patient?family=Dupont&birthdate=1984-12-03")
  patient_id=$(node -e 'const b = JSON.parse(process.argv[1]); process.stdout.write(b.entry[0].resource.id)' "$bundle")
  patient_nir=$(node -e 'const b = JSON.parse(process.argv[1]); process.stdout.write(b.entry[0].resource.identifier[0].value)' "$bundle")
  bundle=$(fhir_get "/fhir/DiagnosticReport?patient=$patient_id&_count=1")
  accession=$(node -e 'const b = JSON.parse(process.argv[1]); process.stdout.write(b.entry[0].resource.identifier[0].value)' "$bundle")
  echo "sqlmap: $backend backend up at $base (patient $patient_id)"
}

token() {
  node "$client_tool" token "$key_dir" "$base" sqlmap "$scopes"
}

fhir_get() {
  curl -sS --fail -H "Authorization: Bearer $(token)" -H 'Accept: application/fhir+json' "$base$1"
}

# run_sqlmap NAME PARAMS URL_PATH [FORM_BODY] -- SQLMAP_OPTIONS...: one sqlmap run with a
# fresh token (tokens last 5 minutes; one run stays well under that). The run fails when
# sqlmap reports an injection point, when it did not reach its "not injectable" verdict, or
# when the server answered 401 at any point (the token did not hold: nothing was tested).
run_sqlmap() {
  local name=$1 params=$2 path=$3 data=${4:-}
  shift 4
  [[ ${1:-} == -- ]] && shift
  local bearer url=$base$path log=$log_dir/$name.log
  bearer=$(token)
  local -a request=(-u "$url")
  [[ -n $data ]] && request+=(--data "$data")
  # The same request must answer 200 before sqlmap starts, or it would test an error page.
  local -a curl_data=()
  [[ -n $data ]] && curl_data=(--data "$data" -H 'Content-Type: application/x-www-form-urlencoded')
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bearer" \
    -H 'Accept: application/fhir+json' "${curl_data[@]}" "$url")
  if [[ $status != 200 ]]; then
    echo "sqlmap: FAIL $name: the baseline request answered $status, not 200" >&2
    ((failures += 1))
    return
  fi
  local started=$SECONDS
  sqlmap "${request[@]}" -p "$params" --headers="Authorization: Bearer $bearer
Accept: application/fhir+json" --batch --flush-session --skip-waf --disable-coloring \
    --output-dir="$work/sqlmap-output" --threads 4 --timeout 15 "$@" >"$log" 2>&1 || true
  ((runs += 1))
  if grep -qE "identified the following injection point|resumed the following injection point" "$log"; then
    echo "sqlmap: FAIL $name: sqlmap reports an injectable parameter:" >&2
    sed -n '/injection point/,/^---$/p' "$log" | head -30 >&2
    ((failures += 1))
  elif grep -q "401 (Unauthorized)" "$log"; then
    echo "sqlmap: FAIL $name: the server answered 401 during the run (token lost)" >&2
    ((failures += 1))
  elif ! grep -qE "all tested parameters do not appear to be injectable" "$log"; then
    echo "sqlmap: FAIL $name: sqlmap did not finish with a verdict:" >&2
    grep -E "CRITICAL|ERROR" "$log" | head -5 >&2
    ((failures += 1))
  else
    echo "sqlmap: ok $name: no injectable parameter among $params ($((SECONDS - started)) s)"
  fi
}
