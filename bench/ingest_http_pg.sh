#!/usr/bin/env bash
# bench/ingest_http.sh against PostgreSQL: starts PostgreSQL 15 on a free
# loopback port in a temporary directory (as the postgres user when run as
# root), points the server at it with POSTGRES_URL, runs the same wrk load, and
# removes the cluster afterwards. PostgreSQL runs with its durable defaults
# (fsync=on, synchronous_commit=on) unless PG_FSYNC=off.
# Usage: bench/ingest_http_pg.sh [duration] [connections]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is missing: run scripts/install-deps.sh"; exit 1; }
pgdir=$(mktemp -d)
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; as_pg=(runuser -u postgres --); fi
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cleanup() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
}
trap cleanup EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdir/data" -A trust -U postgres --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w start \
    -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB" >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres securityai
export POSTGRES_URL="postgresql://postgres@127.0.0.1:$pgport/securityai"
echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pgport (fsync=${PG_FSYNC:-on})"
"$here/ingest_http.sh" "$@"
echo "PostgreSQL rows: $(psql -h 127.0.0.1 -p "$pgport" -U postgres -d securityai -Atc 'SELECT count(*) FROM events')" \
     "partitions: $(psql -h 127.0.0.1 -p "$pgport" -U postgres -d securityai -Atc 'SELECT count(*) FROM event_partitions')"
