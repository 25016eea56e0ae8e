#!/usr/bin/env bash
# sqlmap (level 3, risk 2) against medvault's FHIR search endpoints, on SQLite and on
# PostgreSQL, as an authenticated API client: fails if sqlmap finds any injectable parameter.
# Run by ctest (tests/redteam/CMakeLists.txt, fixture pg); `tests/redteam/sqlmap-thorough`
# goes further on demand.
#
#   tests/redteam/sqlmap-search.sh [sqlite] [postgres]     (default: both)
#
# What is tested, and why this keeps the run to a minute or two instead of an hour:
# - The endpoints whose parameters reach the store: Patient?family= (blind-indexed name
#   prefix), Patient?identifier= (blind-indexed NIR), Observation?patient=&code= (the patient's
#   compartment, filtered after decryption), DiagnosticReport?identifier= (blind-indexed
#   accession) and POST Patient/_search with a form body. Other search parameters of these
#   types go through the same parser and query builders (fhir/search.cc, records), which
#   sqlmap-thorough covers.
# - Only the search parameters (-p): at level 3 sqlmap would also inject into User-Agent and
#   Referer, which medvault never puts in a query (and which the thorough run covers).
# - Every technique (boolean, error, union, stacked, time-based, inline), with --dbms set to
#   the backend under test so payloads for the other ten DBMSes are not sent: the server
#   answers invalid values with a fast 400, so even the time-based tests cost seconds.
# - A small demo vault (10 patients): injection does not depend on the amount of data.
set -euo pipefail
source "$(dirname "$0")/sqlmap_lib.sh"

backends=("$@")
((${#backends[@]} > 0)) || backends=(sqlite postgres)
level=(--level 3 --risk 2)

for backend in "${backends[@]}"; do
  case $backend in
    sqlite) dbms=SQLite ;;
    postgres) dbms=PostgreSQL ;;
    *) die "unknown backend $backend (sqlite or postgres)" ;;
  esac
  start_backend "$backend"
  run_sqlmap "$backend-patient-family" family "/fhir/Patient?family=Dupont" "" -- \
    "${level[@]}" --dbms="$dbms"
  run_sqlmap "$backend-patient-identifier" identifier \
    "/fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8%7C$patient_nir" "" -- \
    "${level[@]}" --dbms="$dbms"
  run_sqlmap "$backend-observation-patient-code" "patient,code" \
    "/fhir/Observation?patient=$patient_id&code=http://loinc.org%7C718-7" "" -- \
    "${level[@]}" --dbms="$dbms"
  run_sqlmap "$backend-report-accession" identifier \
    "/fhir/DiagnosticReport?identifier=$accession" "" -- "${level[@]}" --dbms="$dbms"
  run_sqlmap "$backend-patient-search-form" "family,birthdate" "/fhir/Patient/_search" \
    "family=Dup&birthdate=1984-12-03" -- "${level[@]}" --dbms="$dbms"
  stop_server
done

echo "sqlmap: $runs runs, $failures failed, ${SECONDS} s"
((failures == 0))
