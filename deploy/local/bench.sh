#!/usr/bin/env bash
# `make bench`, service part: the whole suite from release binaries
# (ports 22051-22064, below the ephemeral range; databases jazz_bench_*), seeded, then `loadgen` keeps
# N calls in flight per scenario through the gateway and prints calls per
# second and latency percentiles.
# The bench databases are made afresh each run (the demo user's quota and
# history start over); the learning-loop reads run on 100 000 practice
# records of one learner (BENCH_PRACTICE_RECORDS).
#   BENCH_SECONDS (10) per scenario, BENCH_IN_FLIGHT (16)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PORT_BASE=22051 DB_PREFIX=jazz_bench RUN_STATE="$root/build/run-bench" RUN_DETACHED=1 PROFILE=release
# Benchmarks measure the system, not the limiter.
export RATE_LIMIT_IP_PER_SEC=1000000 RATE_LIMIT_USER_PER_SEC=1000000 LOG_FORMAT=json RUST_LOG=warn
cargo build --quiet --release -p jazz-e2e --bin loadgen
pg=$(deploy/local/ensure-postgres.sh)
for svc in identity billing content progress; do
  psql "$pg/postgres" -Xq -c "DROP DATABASE IF EXISTS ${DB_PREFIX}_${svc} WITH (FORCE)"
done
trap 'deploy/local/run.sh --stop >/dev/null' EXIT
deploy/local/run.sh > "$root/build/bench-run.log" 2>&1 || { cat "$root/build/bench-run.log"; exit 1; }
echo "suite: release build, 2 cores shared by client, gateway, services and PostgreSQL"
PROGRESS_DATABASE_URL="$pg/${DB_PREFIX}_progress" "${CARGO_TARGET_DIR:-$root/target}/release/loadgen" "127.0.0.1:$PORT_BASE" "${BENCH_SECONDS:-10}" "${BENCH_IN_FLIGHT:-16}"
