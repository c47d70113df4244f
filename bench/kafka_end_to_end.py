#!/usr/bin/env python3
"""End-to-end ingest with Kafka on: 4 threads POST 50 NDJSON requests of 1,000 events each to
a server whose KAFKA_BOOTSTRAP_SERVERS is a librdkafka mock cluster (build/tests/kafka_mock_cluster),
then wait until every acknowledged event is stored. Prints the acknowledged rate and the
end-to-end rate. Needs SECURITYAI_BIN / KAFKA_MOCK_CLUSTER_BIN or a build in build/."""
import json
import os
import sys
import threading
import time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from test_kafka import MockKafka, server_env, metric
from harness import Server, wait_for
k = MockKafka(["securityai.events.raw", "securityai.alerts"])
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
print("acknowledged 200000 in %.1f s (%.0f/s); stored then %d" % (t1 - t0, 200000 / (t1 - t0), total()))
ok = wait_for(lambda: total() >= 200000, timeout=200, interval=0.5)
t2 = time.time()
print("all stored: %s after %.1f s from the first request: end-to-end %.0f events/s; pauses %d" % (ok, t2 - t0, 200000 / (t2 - t0), metric(s, "securityai_kafka_consumer_pauses_total")))
s.stop(); k.stop()
