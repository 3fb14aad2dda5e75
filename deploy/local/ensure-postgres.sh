#!/usr/bin/env bash
# Finds a PostgreSQL server for the suite and prints its base URL (no
# database name) on stdout. In order of preference:
#   1. $POSTGRES_URL, when set;
#   2. the local server at 127.0.0.1:5432 (started with pg_ctlcluster if
#      it is installed but down);
#   3. a private cluster under build/pg, made with the installed PostgreSQL
#      binaries and started on port 55432.
# With PRIVATE_PG_PORT set, only the third: a private cluster on that port
# in PRIVATE_PG_DIR (default build/pg), whatever else runs (`make chaos`
# restarts its own cluster and must never touch a shared one).
# Progress goes to stderr so callers can capture the URL.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

private_port=${PRIVATE_PG_PORT:-}
if [ -n "${POSTGRES_URL:-}" ] && [ -z "$private_port" ]; then
  echo "$POSTGRES_URL"; exit 0
fi

if [ -n "$private_port" ]; then
  : # straight to the private cluster
elif pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "postgres://postgres@127.0.0.1:5432"; exit 0
fi

if [ -z "$private_port" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting the local PostgreSQL $version cluster" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 || true
  for _ in $(seq 1 30); do
    if pg_isready -q -h 127.0.0.1 -p 5432; then echo "postgres://postgres@127.0.0.1:5432"; exit 0; fi
    sleep 1
  done
fi

# A private cluster from the installed binaries.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb)")
dir=${PRIVATE_PG_DIR:-$root/build/pg}
data="$dir/data"
port=${private_port:-55432}
if ! pg_isready -q -h 127.0.0.1 -p $port 2>/dev/null; then
  echo "starting a private PostgreSQL cluster in $data on port $port" >&2
  mkdir -p "$dir"
  run_as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: use the postgres account if present.
    id postgres >/dev/null 2>&1 && { chown -R postgres "$dir"; run_as=(runuser -u postgres --); }
  fi
  [ -f "$data/PG_VERSION" ] || "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >&2
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$dir/log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >&2
fi
echo "postgres://postgres@127.0.0.1:$port"
