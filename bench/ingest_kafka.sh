#!/usr/bin/env bash
# HTTP ingest with Kafka on: the same load as ingest_http.sh (wrk, 1,000 events per
# request) against a server whose KAFKA_BOOTSTRAP_SERVERS is a librdkafka mock cluster
# (3 brokers, 4 partitions, build/tests/kafka_mock_cluster). A 202 then means "acknowledged
# by the brokers", so the rate printed is the acknowledged rate; the end-to-end rate
# (until everything is stored) is measured by bench/kafka_end_to_end.py.
# Usage: bench/ingest_kafka.sh [duration] [connections]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mock="${KAFKA_MOCK_CLUSTER_BIN:-$here/build/tests/kafka_mock_cluster}"
[ -x "$mock" ] || { echo "build first: cmake --build build --target kafka_mock_cluster"; exit 1; }
kdir=$(mktemp -d)
mkfifo "$kdir/in"
"$mock" --partitions 4 securityai.events.raw securityai.alerts <"$kdir/in" >"$kdir/out" 2>/dev/null &
mock_pid=$!
exec 9>"$kdir/in"  # the cluster lives until this script exits (its stdin closes)
trap 'exec 9>&-; wait $mock_pid 2>/dev/null; rm -rf "$kdir"' EXIT
for _ in $(seq 1 100); do
    [ -s "$kdir/out" ] && break
    sleep 0.1
done
export KAFKA_BOOTSTRAP_SERVERS=$(head -1 "$kdir/out")
echo "== mock cluster at $KAFKA_BOOTSTRAP_SERVERS"
"$here/bench/ingest_http.sh" "$@"
