#!/usr/bin/env bash
# Runs a small SecurityAI cluster on this machine, on 127.0.0.1 only: PostgreSQL, Redis,
# two `securityai serve` nodes and nginx in front of them. Everything lives in a temporary
# directory and stops on Ctrl-C. Needs the Debian packages of scripts/install-deps.sh and
# a built binary (make build).
#
#   deploy/local-cluster.sh [path/to/securityai]
#
# Then: curl http://127.0.0.1:8080/health, log in as admin (password printed below), ingest
# through either node or nginx; a WebSocket client on one node sees events sent to the other.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$here/build/securityai}
[ -x "$bin" ] || { echo "local-cluster: no binary at $bin (run make build first)" >&2; exit 1; }

pg_port=${PG_PORT:-15432}
redis_port=${REDIS_PORT:-16379}
lb_port=${LB_PORT:-8080}
node_ports=(${NODE_PORTS:-8001 8002})
pg_bin=/usr/lib/postgresql/15/bin

work=$(mktemp -d /tmp/securityai-cluster.XXXXXX)
chmod 0755 "$work"
pids=()
admin_password=${SECURITYAI_ADMIN_PASSWORD:-$(openssl rand -hex 12)}
secret_key=${SECRET_KEY:-$(openssl rand -hex 32)}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    echo "local-cluster: stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx/nginx.pid" ] && nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -s quit 2>/dev/null || true
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    [ -d "$work/pg/data" ] && as_postgres "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "local-cluster: PostgreSQL on 127.0.0.1:$pg_port"
mkdir -p "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work/pg"
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -A trust -U postgres --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/pg.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
as_postgres createdb -h 127.0.0.1 -p "$pg_port" -U postgres securityai

echo "local-cluster: Redis on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --pidfile "$work/redis.pid" \
    --dir "$work" --save '' --appendonly no --logfile "$work/redis.log"

for port in "${node_ports[@]}"; do
    echo "local-cluster: securityai node on 127.0.0.1:$port (log $work/node-$port.log)"
    mkdir -p "$work/node-$port"
    # Models, reports and API rules are files: the nodes share one data directory.
    POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/securityai" \
    REDIS_URL="redis://127.0.0.1:$redis_port/0" \
    SECRET_KEY="$secret_key" SECURITYAI_ADMIN_PASSWORD="$admin_password" \
    DATA_DIR="$work/shared-data" HOST=127.0.0.1 PORT="$port" SYSLOG_PORT=0 \
        "$bin" serve > "$work/node-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
done

echo "local-cluster: nginx on 127.0.0.1:$lb_port"
mkdir -p "$work/nginx"
upstreams=""
for port in "${node_ports[@]}"; do upstreams+="        server 127.0.0.1:$port max_fails=2 fail_timeout=5s;\n"; done
sed -e "/server 127.0.0.1:800[12]/d" \
    -e "s#keepalive 64;#${upstreams}        keepalive 64;#" \
    -e "s#listen 80;#listen 127.0.0.1:$lb_port;#" \
    -e "s#/var/log/nginx/#$work/nginx/#g" -e "s#^pid .*#pid $work/nginx/nginx.pid;#" \
    -e "s#worker_processes auto;#worker_processes 1;#" \
    "$here/deploy/nginx.conf" > "$work/nginx/nginx.conf"
sed -i "s#    server_tokens off;#    server_tokens off;\n    client_body_temp_path $work/nginx/body;\n    proxy_temp_path $work/nginx/proxy;\n    fastcgi_temp_path $work/nginx/fastcgi;\n    uwsgi_temp_path $work/nginx/uwsgi;\n    scgi_temp_path $work/nginx/scgi;#" "$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"

cat <<INFO

SecurityAI cluster is up:
  load balancer  http://127.0.0.1:$lb_port   (Swagger UI: /docs)
  nodes          $(for p in "${node_ports[@]}"; do printf 'http://127.0.0.1:%s ' "$p"; done)
  PostgreSQL     postgresql://postgres@127.0.0.1:$pg_port/securityai
  Redis          redis://127.0.0.1:$redis_port/0
  admin login    admin / $admin_password
  files          $work
Ctrl-C stops everything and removes $work.
INFO
while true; do
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || echo "local-cluster: node pid $pid exited (see $work/node-*.log)"
    done
    sleep 5
done
