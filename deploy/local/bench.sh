#!/usr/bin/env bash
# `make bench`, service part (issue 16): the whole suite from release
# binaries (ports 22051-22064, below the ephemeral range; databases
# jazz_bench_*, made afresh each run), the ceilings beside it (pgbench on
# jazz_bench_pgbench, a bare tonic server on 22099), then `loadgen`
# grows the data to scale and measures every scenario at 1, 16 and 64
# calls in flight, through the gateway and straight to each service, and
# writes bench/results.md and bench/results.json.
#   BENCH_SECONDS (8) and BENCH_WARMUP_SECONDS (2) per run, BENCH_LEVELS (1,16,64),
#   BENCH_CONTENT_ROWS (1000000), BENCH_PRACTICE_RECORDS (100000),
#   BENCH_ONLY (rows to measure, e.g. GetMe,ceilings; all when empty),
#   BENCH_REUSE=1 keeps the last run's databases (and their data at scale).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PORT_BASE=22051 DB_PREFIX=jazz_bench RUN_STATE="$root/build/run-bench" RUN_DETACHED=1 PROFILE=release
# Benchmarks measure the system, not the limiter.
export RATE_LIMIT_IP_PER_SEC=1000000 RATE_LIMIT_USER_PER_SEC=1000000 RATE_LIMIT_CREDENTIALS_PER_MIN=1000000
export LOG_FORMAT=json RUST_LOG=warn
mkdir -p "$root/build"
cargo build --quiet --release -p jazz-e2e --bin loadgen
loadgen="${CARGO_TARGET_DIR:-$root/target}/release/loadgen"
pg=$(deploy/local/ensure-postgres.sh)
if [ "${BENCH_REUSE:-0}" != 1 ] || ! psql "$pg/${DB_PREFIX}_pgbench" -Xqc 'SELECT 1 FROM pgbench_accounts LIMIT 1' >/dev/null 2>&1; then
  for db in identity billing content progress pgbench; do
    psql "$pg/postgres" -Xq -c "DROP DATABASE IF EXISTS ${DB_PREFIX}_${db} WITH (FORCE)"
  done
  psql "$pg/postgres" -Xq -c "CREATE DATABASE ${DB_PREFIX}_pgbench"
  pgbench -i -q -s 10 "$pg/${DB_PREFIX}_pgbench" 2>/dev/null
fi

echo_addr=127.0.0.1:22099
"$loadgen" echo "$echo_addr" & echo_pid=$!
trap 'kill $echo_pid 2>/dev/null; deploy/local/run.sh --stop >/dev/null' EXIT
deploy/local/run.sh > "$root/build/bench-run.log" 2>&1 || { cat "$root/build/bench-run.log"; exit 1; }
echo "suite: release build; client, gateway, services and PostgreSQL share $(nproc) cores"
PRINCIPAL_SECRET=$(cat "$RUN_STATE/principal_secret") \
BILLING_DATABASE_URL="$pg/${DB_PREFIX}_billing" CONTENT_DATABASE_URL="$pg/${DB_PREFIX}_content" \
PROGRESS_DATABASE_URL="$pg/${DB_PREFIX}_progress" PGBENCH_URL="$pg/${DB_PREFIX}_pgbench" \
ECHO_ADDR="$echo_addr" BENCH_OUT="$root/bench" \
  "$loadgen" "127.0.0.1:$PORT_BASE"
