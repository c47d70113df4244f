"""Integration: the server with KAFKA_BOOTSTRAP_SERVERS set, against librdkafka's
mock cluster (3 brokers on loopback, run by the kafka_mock_cluster tool) and
the real kcat client. Ingested events go through the raw topic before they are
stored; alerts are published to the alerts topic; a server killed with SIGKILL
after its 202s loses none of those events."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Server, wait_for  # noqa: E402

MOCK_BIN = os.environ.get("KAFKA_MOCK_CLUSTER_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tests", "kafka_mock_cluster")
KCAT = shutil.which("kcat")
RAW = "securityai.events.raw"
ALERTS = "securityai.alerts"
RESTART_RAW = "restart.events.raw"


class MockKafka:
    def __init__(self, topics, partitions=4):
        self.proc = subprocess.Popen([MOCK_BIN, "--brokers", "3", "--partitions", str(partitions)] + list(topics),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.bootstrap = self.proc.stdout.readline().decode().strip()
        if not self.bootstrap:
            raise RuntimeError("the mock cluster did not start")

    def stop(self):
        self.proc.stdin.close()  # the tool exits when stdin closes
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def kcat_consume(bootstrap, topic, timeout=60):
    """Every message of the topic so far, as (key, value) pairs."""
    out = subprocess.run([KCAT, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J",
                          "-X", "log.connection.close=false"],
                         capture_output=True, text=True, timeout=timeout)
    messages = []
    for line in out.stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        messages.append((m.get("key"), m.get("payload")))
    return messages


def kcat_produce(bootstrap, topic, lines, timeout=60):
    subprocess.run([KCAT, "-b", bootstrap, "-P", "-t", topic, "-K", "\t"], input="\n".join(lines) + "\n",
                   text=True, check=True, timeout=timeout)


def send_syslog_tcp(port, lines):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for line in lines:
            s.sendall(("<38>1 2026-11-29T10:00:00Z web-1 sshd 4242 - - " + line + "\n").encode())


def metric(server, name):
    """The value of an unlabelled Prometheus series of the server (0 when absent)."""
    for line in server.request("GET", "/metrics")[2].decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0


def server_env(bootstrap, **extra):
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_SESSION_TIMEOUT_MS": "6000",
           "RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0", "ML_ENABLED": "false"}
    env.update(extra)
    return env


@unittest.skipUnless(KCAT and os.path.exists(MOCK_BIN), "kcat and kafka_mock_cluster are required")
class KafkaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kafka = MockKafka([RAW, ALERTS, RESTART_RAW])
        cls.server = Server(env=server_env(cls.kafka.bootstrap))
        cls.token = cls.server.login()["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.kafka.stop()

    def stored(self, server, token, event_id):
        status, _, _ = server.json("GET", "/api/v1/monitor/events/" + event_id, token=token)
        return status == 200

    def test_http_events_go_through_the_raw_topic_and_are_stored(self):
        tag = uuid.uuid4().hex[:12]
        events = [{"message": "kafka http %s %d" % (tag, i), "host": {"name": "kafka-host-%d" % (i % 3)},
                   "labels": {"tag": tag}} for i in range(30)]
        status, _, body = self.server.json("POST", "/api/v1/monitor/events", events, token=self.token)
        self.assertEqual(status, 202, body)
        ids = body["ids"]
        self.assertEqual(len(ids), 30)

        # On the raw topic, keyed by host, as normalized JSON with the assigned id.
        def on_topic():
            found = {}
            for key, payload in kcat_consume(self.kafka.bootstrap, RAW):
                try:
                    e = json.loads(payload)
                except (TypeError, ValueError):
                    continue
                if e.get("labels", {}).get("tag") == tag:
                    found[e["id"]] = (key, e)
            return found if len(found) == 30 else None
        found = wait_for(on_topic, timeout=30, interval=0.5)
        self.assertTrue(found)
        self.assertEqual(set(found), set(ids))
        for key, e in found.values():
            self.assertEqual(key, e["host"]["name"])

        # Consumed by the pipeline and queryable through the API.
        self.assertTrue(wait_for(lambda: all(self.stored(self.server, self.token, i) for i in ids), timeout=30))
        status, _, page = self.server.json("GET", "/api/v1/monitor/events?limit=100&q=" + tag, token=self.token)
        self.assertEqual(status, 200)

        # The health and metrics name Kafka.
        status, _, health = self.server.json("GET", "/health")
        self.assertEqual(status, 200, health)
        self.assertEqual(health["status"], "healthy", health)
        status, _, metrics = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200)
        text = metrics.decode()
        for series in ("securityai_kafka_produced_total", "securityai_kafka_consumed_total",
                       "securityai_kafka_committed_total"):
            self.assertIn(series, text)

    def test_events_produced_with_kcat_are_ingested(self):
        tag = uuid.uuid4().hex[:12]
        ids = ["kcat-%s-%d" % (tag, i) for i in range(10)]
        lines = ["kcat-host\t" + json.dumps({"id": i, "message": "from kcat " + tag, "host": {"name": "kcat-host"}})
                 for i in ids]
        lines.append("kcat-host\tthis is not an event")  # skipped, does not block the partition
        lines.append("kcat-host\t" + json.dumps({"id": "kcat-%s-last" % tag, "message": "after the bad one"}))
        kcat_produce(self.kafka.bootstrap, RAW, lines)
        ids.append("kcat-%s-last" % tag)
        self.assertTrue(wait_for(lambda: all(self.stored(self.server, self.token, i) for i in ids), timeout=30))
        # Produced twice (at-least-once delivery): still stored once.
        kcat_produce(self.kafka.bootstrap, RAW, lines[:3])
        _, _, before = self.server.json("GET", "/api/v1/monitor/metrics", token=self.token)
        self.assertTrue(wait_for(lambda: self.server.json("GET", "/api/v1/monitor/metrics", token=self.token)[2]
                                 ["pipeline"]["duplicates"] >= before["pipeline"]["duplicates"] + 3, timeout=30))

    def test_brute_force_alert_is_published_to_the_alerts_topic(self):
        lines = ["Failed password for root from 203.0.113.77 port %d ssh2" % (40000 + i) for i in range(200)]
        send_syslog_tcp(self.server.syslog_port, lines)

        def brute_force_on_topic():
            for key, payload in kcat_consume(self.kafka.bootstrap, ALERTS):
                try:
                    a = json.loads(payload)
                except (TypeError, ValueError):
                    continue
                if a.get("title") == "SSH Brute Force" and "203.0.113.77" in json.dumps(a.get("entities")):
                    return key, a
            return None
        found = wait_for(brute_force_on_topic, timeout=60, interval=1)
        self.assertTrue(found, "no SSH Brute Force alert on " + ALERTS)
        key, alert = found
        self.assertEqual(key, alert["id"])
        self.assertEqual(alert["severity"], "high")
        status, _, stored = self.server.json("GET", "/api/v1/alerts/" + alert["id"], token=self.token)
        self.assertEqual(status, 200, stored)

    def test_sigkill_after_202_loses_no_acknowledged_event(self):
        # Its own topic and group, so the class's server does not consume these events.
        env = server_env(self.kafka.bootstrap, KAFKA_RAW_TOPIC=RESTART_RAW, KAFKA_GROUP_ID="restart-test",
                         KAFKA_ALERTS_TOPIC="")
        data_dir = tempfile.mkdtemp(prefix="sai-kafka-restart-")
        try:
            server = Server(env=env, data_dir=data_dir)
            token = server.login()["access_token"]
            acknowledged = []
            lock = threading.Lock()
            failures = []

            def post(worker, requests=10):
                # Concurrent requests, so the pipeline is behind the topic when the kill comes.
                for r in range(requests):
                    batch = [{"message": "restart %d %d %d" % (worker, r, i), "host": {"name": "h%d" % (i % 5)}}
                             for i in range(250)]
                    status, _, body = server.json("POST", "/api/v1/monitor/events", batch, token=token)
                    with lock:
                        if status == 202:
                            acknowledged.extend(body["ids"])
                        else:
                            failures.append((status, body))
            # Consuming already, so the kill lands in the middle of consumption.
            post(4, requests=2)
            self.assertTrue(wait_for(lambda: metric(server, "securityai_kafka_committed_total") > 0, timeout=60))
            threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print("\nbefore the kill: consumed %d, committed %d" % (metric(server, "securityai_kafka_consumed_total"),
                  metric(server, "securityai_kafka_committed_total")))
            server.proc.kill()  # SIGKILL right after the last 202: no shutdown, no drain
            server.proc.wait()
            server.stop()
            self.assertEqual(failures, [])
            self.assertEqual(len(acknowledged), 10500)

            server = Server(env=env, data_dir=data_dir)
            try:
                token = server.login()["access_token"]

                def stored_total():
                    return server.json("GET", "/api/v1/monitor/metrics", token=token)[2]["events_total"]
                self.assertTrue(wait_for(lambda: stored_total() == len(acknowledged), timeout=90, interval=0.5),
                                "%d of %d acknowledged events stored" % (stored_total(), len(acknowledged)))
                for event_id in acknowledged[::50]:
                    self.assertTrue(self.stored(server, token, event_id), event_id)
                print("\nconsumed again after the restart: %d of %d events"
                      % (metric(server, "securityai_kafka_consumed_total"), len(acknowledged)))
            finally:
                server.stop()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def test_no_broker_answers_503_and_health_is_degraded(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = "127.0.0.1:%d" % s.getsockname()[1]  # nothing listens there once closed
        server = Server(env=server_env(dead, KAFKA_MESSAGE_TIMEOUT_MS="2000"))
        try:
            token = server.login()["access_token"]
            started = time.time()
            status, headers, body = server.json("POST", "/api/v1/monitor/events", [{"message": "nowhere"}],
                                                token=token)
            self.assertEqual(status, 503, body)
            self.assertEqual(headers.get("Retry-After"), "1")
            self.assertLess(time.time() - started, 10)
            status, _, health = server.json("GET", "/health")
            self.assertTrue(wait_for(lambda: server.json("GET", "/health")[2].get("components", {}).get("kafka")
                                     == "degraded", timeout=30), health)
            _, _, status_body = server.json("GET", "/api/v1/monitor/status", token=token)
            self.assertEqual(status_body["components"]["kafka"]["state"], "degraded")
            self.assertIn("broker", status_body["components"]["kafka"]["detail"])
            _, _, page = server.json("GET", "/api/v1/monitor/events?limit=10", token=token)
            self.assertEqual(page["items"], [], "a refused event must not be stored")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
