#!/usr/bin/env bash
# HTTP NDJSON ingest: wrk POSTs batches of 1,000 realistic events (no ids, so every
# event is new) over keep-alive connections; each 202 means 1,000 events committed.
# Prints committed events/s and checks the store's count afterwards.
# Usage: bench/ingest_http.sh [duration] [connections]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
duration="${1:-10s}"
connections="${2:-8}"
password="bench-admin-password-1"
export SECURITYAI_ADMIN_PASSWORD="$password" RATE_LIMIT_PER_MINUTE=0 RATE_LIMIT_INGEST_PER_MINUTE=0 SYSLOG_PORT=0
export SQLITE_SYNCHRONOUS="${SQLITE_SYNCHRONOUS:-full}"
start_server
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

python3 "$(dirname "$0")/ingest_body.py" "$tmp/body.ndjson"
cat > "$tmp/post.lua" <<LUA
local f = io.open("$tmp/body.ndjson", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.headers["Authorization"] = "Bearer $token"
LUA
echo "== wrk -t2 -c$connections -d$duration --latency -s post.lua (1,000 events per request, synchronous=$SQLITE_SYNCHRONOUS)"
wrk -t2 -c"$connections" -d"$duration" --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/api/v1/monitor/events" | tee "$tmp/wrk.out"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
stored=$(curl -fsS "http://127.0.0.1:$port/api/v1/monitor/metrics" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events_total"])')
ml=$(curl -fsS "http://127.0.0.1:$port/api/v1/metrics/ml" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; m=json.load(sys.stdin); print("ml_scored=%d ml_p50_us=%.1f ml_p99_us=%.1f" % (m["events_scored"], m["inference_latency_seconds"]["p50"]*1e6, m["inference_latency_seconds"]["p99"]*1e6))')
echo "RESULT requests_per_sec=$rps committed_events_per_sec=$(python3 -c "print(round($rps*1000))") stored=$stored $ml p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out") non_2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.out")"
