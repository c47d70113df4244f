#!/usr/bin/env bash
# Syslog throughput: TCP (must lose nothing: backpressure) and UDP (drops counted),
# 10 s each, against a Release server with the embedded store.
# Usage: bench/syslog.sh [seconds]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
seconds="${1:-10}"
password="bench-admin-password-1"
syslog_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export SECURITYAI_ADMIN_PASSWORD="$password" RATE_LIMIT_PER_MINUTE=0 SYSLOG_PORT="$syslog_port"
start_server
token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 "$(dirname "$0")/syslog_load.py" --port "$syslog_port" --token "$token" --seconds "$seconds" --api "http://127.0.0.1:$port"
python3 "$(dirname "$0")/syslog_load.py" --port "$syslog_port" --token "$token" --seconds "$seconds" --api "http://127.0.0.1:$port" --udp
