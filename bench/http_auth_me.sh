#!/usr/bin/env bash
# wrk against the authenticated GET /api/v1/auth/me next to the public GET /health,
# same settings (2 threads, 64 connections, 10 s, access log on). The per-user rate
# limit is switched off for the run (RATE_LIMIT_PER_MINUTE=0), or wrk would measure 429s.
# Usage: bench/http_auth_me.sh [duration]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="${SECURITYAI_BIN:-$here/build/securityai}"
duration="${1:-10s}"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh"; exit 1; }

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
password="bench-admin-password-1"
SECURITYAI_ADMIN_PASSWORD="$password" RATE_LIMIT_PER_MINUTE=0 LOG_FILE="$tmp/access.log" \
    "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" >"$tmp/stdout" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
done
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

for path in /health /api/v1/auth/me; do
    echo "== wrk -t2 -c64 -d$duration --latency http://127.0.0.1:$port$path"
    wrk -t2 -c64 -d"$duration" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | tee "$tmp/wrk.out"
    non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.out")
    echo "RESULT path=$path requests_per_sec=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out") p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out") non_2xx=${non2xx:-0}"
done
