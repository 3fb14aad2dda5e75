#!/usr/bin/env bash
# `make chaos`: the fault suite. A private PostgreSQL cluster of its own
# (build/chaos-pg, port 25432: `pg_ctl restart -m immediate` must never hit a
# shared server), a copy of the whole system from the debug binaries `make
# test` built (ports 23051-23064, below the ephemeral range; databases
# jazz_chaos_*, fresh each run), then the `chaos` driver
# (tests/src/bin/chaos.rs) kills, restarts, locks and floods it and checks
# each promise. The cluster and the suite are stopped on exit.
#   chaos.sh [scenario number …]   only those scenarios
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mkdir -p "$root/build"
pg_dir="$root/build/chaos-pg"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$root/build"; then
  # The cluster runs as postgres, which cannot reach this checkout (a
  # private home directory): it lives under /tmp instead.
  pg_dir=/tmp/jazz-chaos-pg
fi
pg_port=${CHAOS_PG_PORT:-25432}
export PORT_BASE=${CHAOS_PORT_BASE:-23051} DB_PREFIX=jazz_chaos RUN_STATE="$root/build/run-chaos" RUN_DETACHED=1
# The limits as deployed, except per-address and per-user call rates: the
# write streams measure the faults, not the limiter. The credential limit
# (10 sign-ins a minute per address) stays.
export RATE_LIMIT_IP_PER_SEC=100000 RATE_LIMIT_USER_PER_SEC=100000 MAIL_LOG_LINKS=1

# The workspace's binaries with the features `cargo test --workspace`
# unifies, as run.sh builds them: after `make test`, nothing is rebuilt.
cargo build --quiet --workspace --bins
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

POSTGRES_URL=$(PRIVATE_PG_DIR="$pg_dir" PRIVATE_PG_PORT="$pg_port" deploy/local/ensure-postgres.sh)
export POSTGRES_URL
# pg_ctl of the binaries that run the cluster, as the cluster's owner.
data="$pg_dir/data"
pg_ctl="$(dirname "$(sed -E 's/^"?([^" ]+)"?.*/\1/' "$data/postmaster.opts")")/pg_ctl"
run_as=""
owner=$(stat -c %U "$data")
[ "$(id -u)" = 0 ] && [ "$owner" != root ] && run_as="runuser -u $owner --"
stop() {
  deploy/local/run.sh --stop >/dev/null || true
  $run_as "$pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop EXIT

# Only processes are killed here, never the machine, so what PostgreSQL
# wrote is in the page cache either way: without fsync its crash recovery
# takes well under a second instead of several on a busy disk.
psql "$POSTGRES_URL/postgres" -Xq -c "ALTER SYSTEM SET fsync = off" -c "SELECT pg_reload_conf()" >/dev/null
for svc in identity billing content progress; do
  psql "$POSTGRES_URL/postgres" -Xq -c "DROP DATABASE IF EXISTS ${DB_PREFIX}_${svc} WITH (FORCE)"
done
deploy/local/run.sh > "$root/build/chaos-run.log" 2>&1 || { cat "$root/build/chaos-run.log"; exit 1; }

CHAOS_STATE="$RUN_STATE" CHAOS_BIN="$bin" CHAOS_PORT_BASE="$PORT_BASE" CHAOS_PG="$POSTGRES_URL" \
  CHAOS_DB_PREFIX="$DB_PREFIX" \
  CHAOS_PG_RESTART="$run_as $pg_ctl -D $data -l $pg_dir/log -w -t 60 restart -m immediate" \
  "$bin/chaos" "$@"
