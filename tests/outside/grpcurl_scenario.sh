#!/usr/bin/env bash
# A learner's day through the gateway with grpcurl, using reflection only
# (no proto files): what a developer trying the API by hand would do.
# usage: grpcurl_scenario.sh HOST:PORT
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
addr=$1
grpcurl="$root/build/venv/bin/grpcurl"
passed=0 failed=0
check() { # check NAME EXPECTED-SUBSTRING COMMAND...
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1) || true
  if grep -q -- "$want" <<<"$out"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $name: wanted '$want' in:"; echo "$out" | head -20; fi
}

check "list shows the public services" "jazz.content.v1.ContentService" "$grpcurl" -plaintext "$addr" list
check "list hides internal services" "jazz.progress.v1.ProgressService" "$grpcurl" -plaintext "$addr" list
if "$grpcurl" -plaintext "$addr" list | grep -q Internal; then failed=$((failed + 1)); echo "FAIL: internal service listed"; else passed=$((passed + 1)); fi
check "describe works without proto files" "rpc GenerateContent" "$grpcurl" -plaintext "$addr" describe jazz.content.v1.ContentService
check "health" "SERVING" "$grpcurl" -plaintext -d '{}' "$addr" grpc.health.v1.Health/Check
check "a call without a session is refused" "Unauthenticated" "$grpcurl" -plaintext -d '{}' "$addr" jazz.identity.v1.UserService/GetMe

echo "grpcurl scenario: $passed passed, $failed failed"
[ "$failed" = 0 ]
