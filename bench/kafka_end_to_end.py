#!/usr/bin/env python3
"""End-to-end ingest with Kafka on: 4 threads POST 50 NDJSON requests of 1,000 events each to
a server whose KAFKA_BOOTSTRAP_SERVERS is a librdkafka mock cluster (build/tests/kafka_mock_cluster),
then wait until every acknowledged event is stored. Prints the acknowledged rate and the
end-to-end rate. Needs SECURITYAI_BIN / KAFKA_MOCK_CLUSTER_BIN or a build in build/.

The mock cluster keeps only 5 MiB per partition (librdkafka's rdkafka_mock.c) and deletes
older messages like retention.bytes would: with 4 partitions the ~58 MB of this load does not
fit, and a consumer lagging more than 5 MiB behind on a partition loses the deleted messages
(securityai_kafka_lost_total). E2E_PARTITIONS (default 16, ~3.6 MB each) keeps all of it.

E2E_TIMEOUT (seconds, default 200) bounds the wait for the store. On a timeout the script
dumps the server's securityai_kafka_*/securityai_pipeline_* metrics, /api/v1/monitor/status,
its Kafka log lines and a gdb backtrace of every thread (when gdb is installed), then exits 1."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from test_kafka import MockKafka, server_env, metric
from harness import Server, wait_for
k = MockKafka(["securityai.events.raw", "securityai.alerts"], partitions=int(os.environ.get("E2E_PARTITIONS", "16")))
s = Server(env=server_env(k.bootstrap))
tok = s.login()["access_token"]
wait_for(lambda: metric(s, "securityai_kafka_assigned_partitions") > 0, timeout=60)
body = "\n".join(json.dumps({"message": "Failed password for alice from 10.0.0.%d port 22 ssh2" % (i % 250), "host": {"name": "host-%d" % (i % 40)}, "user": {"name": "alice"}}) for i in range(1000)).encode()
def post():
    for _ in range(50):
        st, _, _ = s.request("POST", "/api/v1/monitor/events", body=body, headers={"Content-Type": "application/x-ndjson", "Authorization": "Bearer " + tok}, timeout=60)
        assert st == 202, st
t0 = time.time()
ts = [threading.Thread(target=post) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
t1 = time.time()
def total(): return s.json("GET", "/api/v1/monitor/metrics", token=tok)[2]["events_total"]
print("acknowledged 200000 in %.1f s (%.0f/s); %d stored at that moment" % (t1 - t0, 200000 / (t1 - t0), total()))
def lost(): return metric(s, "securityai_kafka_lost_total")
# Lost messages never come: stop waiting once the rest is stored.
ok = wait_for(lambda: total() + lost() >= 200000, timeout=float(os.environ.get("E2E_TIMEOUT", "200")), interval=0.5)
t2 = time.time()
ok = ok and total() >= 200000
print("stored %d, lost %d (deleted by the mock cluster before they were consumed)" % (total(), lost()))
print("all stored: %s after %.1f s from the first request: end-to-end %.0f events/s; pauses %d" % (ok, t2 - t0, 200000 / (t2 - t0), metric(s, "securityai_kafka_consumer_pauses_total")))
if not ok:
    print("NOT ALL STORED: stored %d of 200000" % total())
    for line in s.request("GET", "/metrics")[2].decode().splitlines():
        if line.startswith(("securityai_kafka_", "securityai_pipeline_")) and "_bucket" not in line:
            print("  " + line)
    print("status:", json.dumps(s.json("GET", "/api/v1/monitor/status", token=tok)[2]))
    for e in s.log_entries():
        if e.get("component") == "kafka" or "kafka" in str(e.get("msg", "")):
            print("log:", json.dumps(e))
    if shutil.which("gdb"):
        bt = subprocess.run(["gdb", "-p", str(s.proc.pid), "-batch", "-ex", "thread apply all bt"],
                            capture_output=True, text=True, timeout=120)
        print(bt.stdout)
s.stop(); k.stop()
sys.exit(0 if ok else 1)
