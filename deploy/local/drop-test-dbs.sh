#!/usr/bin/env bash
# Drops the throwaway databases earlier test runs left behind
# (jazz_test_*) and the migrated templates (jazz_template_*), so each
# `make test` starts from the migrations as they are now.
set -euo pipefail
server=${1:?usage: drop-test-dbs.sh POSTGRES_BASE_URL}
psql "$server/postgres" -XAtq -c "SELECT datname FROM pg_database WHERE datname LIKE 'jazz\_test\_%' OR datname LIKE 'jazz\_template\_%'" |
  while read -r name; do
    psql "$server/postgres" -Xq -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
  done
