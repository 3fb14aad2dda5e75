#!/usr/bin/env bash
# A learner's day through the gateway with grpcurl and reflection only (no
# proto files), as a developer trying the API by hand would do it: sign up,
# confirm the address (the link is read from identity's log, where the
# suite prints it instead of mailing it), sign in, profile, generate, share,
# search, like, save, usage, a practice session and the progress summary.
# usage: grpcurl_scenario.sh HOST:PORT IDENTITY_LOG
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
addr=$1 identity_log=$2
grpcurl="$root/build/venv/bin/grpcurl"
py="$root/build/venv/bin/python"
passed=0 failed=0
auth=()

call() { # call METHOD JSON — prints grpcurl's answer (JSON or the error)
  "$grpcurl" -plaintext "${auth[@]}" -d "$2" "$addr" "$1" 2>&1 || true
}
check() { # check NAME WANTED OUTPUT
  if grep -q -- "$2" <<<"$3"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: wanted '$2' in:"; echo "$3" | head -15; fi
}
field() { # field PYTHON-PATH < JSON — e.g. field "['content']['id']"
  "$py" -c 'import json, sys; print(eval("json.load(sys.stdin)" + sys.argv[1]))' "$1" 2>/dev/null || true
}

check "list shows the public services" "jazz.content.v1.ContentService" "$("$grpcurl" -plaintext "$addr" list)"
listed=$("$grpcurl" -plaintext "$addr" list)
if grep -qE "Internal|Admin" <<<"$listed"; then failed=$((failed + 1)); echo "FAIL: internal service listed"; else passed=$((passed + 1)); fi
check "describe works without proto files" "rpc GenerateContent" "$("$grpcurl" -plaintext "$addr" describe jazz.content.v1.ContentService)"
check "health" "SERVING" "$(call grpc.health.v1.Health/Check '{}')"
check "a call without a session is refused" "Unauthenticated" "$(call jazz.identity.v1.UserService/GetMe '{}')"

email="day-$(date +%s%N)@example.com"
password="so-what-kind-of-blue-1959"
out=$(call jazz.identity.v1.AuthService/SignUp "{\"email\":\"$email\",\"password\":\"$password\",\"firstName\":\"Wynton\",\"lastName\":\"Kelly\",\"timezone\":\"Europe/Berlin\",\"locale\":\"de-DE\"}")
check "sign up" "{" "$out"
token=""
for _ in $(seq 1 50); do
  token=$(grep "link token:" "$identity_log" | grep "Verification" | tail -n 1 | sed 's/.*link token: \([A-Za-z0-9_-]*\).*/\1/' || true)
  [ -n "$token" ] && break
  sleep 0.1
done
out=$(call jazz.identity.v1.AuthService/VerifyEmail "{\"token\":\"$token\"}")
check "verify the address" "sessionToken" "$out"
out=$(call jazz.identity.v1.AuthService/SignIn "{\"email\":\"$email\",\"password\":\"$password\"}")
check "sign in" "sessionToken" "$out"
session=$(field "['sessionToken']" <<<"$out")
auth=(-H "authorization: Bearer $session")

check "who am I" "$email" "$(call jazz.identity.v1.UserService/GetMe '{}')"
out=$(call jazz.identity.v1.UserService/UpdateProfile '{"profile":{"skillLevel":"SKILL_LEVEL_INTERMEDIATE"},"updateMask":{"paths":["skill_level"]}}')
check "profile" "SKILL_LEVEL_INTERMEDIATE" "$out"

out=$(call jazz.content.v1.ContentService/GenerateContent '{"parameters":{"type":"CONTENT_TYPE_JAZZ_LICK","key":"Bb","mode":"KEY_MODE_MAJOR","tempoBpm":160,"style":"bebop","difficulty":"DIFFICULTY_INTERMEDIATE"},"requestId":"day-lick-1"}')
check "generate a lick" "score-partwise" "$out"
content_id=$(field "['content']['id']" <<<"$out")
check "share it" "\"isPublic\": true" "$(call jazz.content.v1.ContentService/UpdateContent "{\"content\":{\"id\":\"$content_id\",\"isPublic\":true},\"updateMask\":{\"paths\":[\"is_public\"]}}")"
check "search finds it" "$content_id" "$(call jazz.content.v1.ContentService/SearchContent '{"query":"bebop lick"}')"
check "like it" "\"likes\": \"1\"" "$(call jazz.content.v1.ContentService/LikeContent "{\"id\":\"$content_id\"}")"
check "save it" "Bebop" "$(call jazz.content.v1.ContentService/SaveContent "{\"contentId\":\"$content_id\",\"collectionName\":\"Bebop\",\"requestId\":\"day-save-1\"}")"
check "collections" "Bebop" "$(call jazz.content.v1.ContentService/ListCollections '{}')"
check "usage counts the generation" "ai_generation" "$(call jazz.billing.v1.BillingService/GetUsage '{}')"

out=$(call jazz.progress.v1.PracticeService/StartPracticeSession '{"title":"Morning bebop","goals":["ii-V-I in Bb"],"requestId":"day-session-1"}')
check "start practising" "Morning bebop" "$out"
session_id=$(field "['session']['id']" <<<"$out")
check "log the lick" "practiceSessionId" "$(call jazz.progress.v1.PracticeService/AddPracticeRecord "{\"practiceSessionId\":\"$session_id\",\"contentId\":\"$content_id\",\"minutes\":25,\"repetitions\":6,\"difficulty\":\"DIFFICULTY_INTERMEDIATE\",\"performance\":82,\"requestId\":\"day-record-1\"}")"
check "end the session" "endedAt" "$(call jazz.progress.v1.PracticeService/EndPracticeSession "{\"id\":\"$session_id\",\"rating\":4,\"achievements\":[\"clean enclosures\"]}")"
check "progress summary" "totalMinutes" "$(call jazz.progress.v1.ProgressService/GetProgressSummary '{}')"

echo "grpcurl scenario: $passed passed, $failed failed"
[ "$failed" = 0 ]
