#!/usr/bin/env bash
# wrk against the authenticated GET /api/v1/auth/me next to the public GET /health,
# same settings (2 threads, 64 connections, 10 s, access log on). The per-user rate
# limit is switched off for the run (RATE_LIMIT_PER_MINUTE=0), or wrk would measure 429s.
# Usage: bench/http_auth_me.sh [duration]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
duration="${1:-10s}"
password="bench-admin-password-1"
export SECURITYAI_ADMIN_PASSWORD="$password" RATE_LIMIT_PER_MINUTE=0
start_server
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

for path in /health /api/v1/auth/me; do
    echo "== wrk -t2 -c64 -d$duration --latency http://127.0.0.1:$port$path"
    wrk -t2 -c64 -d"$duration" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | tee "$tmp/wrk.out"
    non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.out")
    echo "RESULT path=$path requests_per_sec=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out") p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out") non_2xx=${non2xx:-0}"
done
