#!/usr/bin/env bash
# 1,000 WebSocket subscribers while ingesting 10,000 events/s: acknowledgement-to-
# delivery latency and server memory. Usage: bench/websocket.sh [seconds] [connections] [rate]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
password="bench-admin-password-1"
export SECURITYAI_ADMIN_PASSWORD="$password" RATE_LIMIT_PER_MINUTE=0 RATE_LIMIT_INGEST_PER_MINUTE=0 SYSLOG_PORT=0
ulimit -n 65536 2>/dev/null || true
start_server
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 "$(dirname "$0")/ws_load.py" --api "http://127.0.0.1:$port" --token "$token" --pid "$pid" \
    --seconds "${1:-10}" --connections "${2:-1000}" --rate "${3:-10000}"
