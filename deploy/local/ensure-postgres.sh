#!/usr/bin/env bash
# Finds a PostgreSQL server for the suite and prints its base URL (no
# database name) on stdout. In order of preference:
#   1. $POSTGRES_URL, when set;
#   2. the local server at 127.0.0.1:5432 (started with pg_ctlcluster if
#      it is installed but down);
#   3. a private cluster under build/pg, made with the installed PostgreSQL
#      binaries and started on port 55432.
# Progress goes to stderr so callers can capture the URL.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

if [ -n "${POSTGRES_URL:-}" ]; then
  echo "$POSTGRES_URL"; exit 0
fi

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "postgres://postgres@127.0.0.1:5432"; exit 0
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
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
data="$root/build/pg/data"
port=55432
if ! pg_isready -q -h 127.0.0.1 -p $port 2>/dev/null; then
  echo "starting a private PostgreSQL cluster in $data on port $port" >&2
  mkdir -p "$root/build/pg"
  run_as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: use the postgres account if present.
    id postgres >/dev/null 2>&1 && { chown -R postgres "$root/build/pg"; run_as=(runuser -u postgres --); }
  fi
  [ -f "$data/PG_VERSION" ] || "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >&2
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$root/build/pg/log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >&2
fi
echo "postgres://postgres@127.0.0.1:$port"
