#!/usr/bin/env bash
# wrk against GET /health of a Release build: 2 threads, 64 connections, 10 s,
# access logging on (JSON lines to a file). Prints requests/s and latency
# percentiles. Usage: bench/http_health.sh [path] [duration]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="${SECURITYAI_BIN:-$here/build/securityai}"
path="${1:-/health}"
duration="${2:-10s}"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh"; exit 1; }
[ -x "$bin" ] || { echo "build first: make build"; exit 1; }

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
LOG_FILE="$tmp/access.log" "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" >"$tmp/stdout" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
done

echo "== wrk -t2 -c64 -d$duration --latency http://127.0.0.1:$port$path (access log on)"
wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port$path" | tee "$tmp/wrk.out"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
p99=$(awk '$1=="99%" {print $2}' "$tmp/wrk.out")
lines=$(wc -l < "$tmp/access.log")
echo "RESULT path=$path requests_per_sec=$rps p99=$p99 access_log_lines=$lines"
