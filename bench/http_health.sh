#!/usr/bin/env bash
# wrk against GET /health of a Release build: 2 threads, 64 connections, 10 s,
# access logging on (JSON lines to a file). Prints requests/s and latency
# percentiles. Usage: bench/http_health.sh [path] [duration]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
path="${1:-/health}"
duration="${2:-10s}"
start_server

echo "== wrk -t2 -c64 -d$duration --latency http://127.0.0.1:$port$path (access log on)"
wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port$path" | tee "$tmp/wrk.out"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
lines=$(wc -l < "$tmp/access.log")
echo "RESULT path=$path requests_per_sec=$rps p99=$p99 access_log_lines=$lines"
