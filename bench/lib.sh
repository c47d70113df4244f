# Shared by the end-to-end benchmark scripts: start a Release server on a free
# loopback port with a temporary data directory, stopped when the script exits.
# Sets: bin, tmp, port, pid. Extra environment for the server: pass it in.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${SECURITYAI_BIN:-$here/build/securityai}"
command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh"; exit 1; }
[ -x "$bin" ] || { echo "build first: make build"; exit 1; }

start_server() {
    tmp=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    LOG_FILE="$tmp/access.log" "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" >"$tmp/stdout" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server did not start:"; cat "$tmp/stdout"; exit 1
}
