"""Integration: two `securityai serve` nodes share PostgreSQL and Redis behind nginx, all
started here on 127.0.0.1. Events ingested through either node are queryable through
both; the per-user rate limit holds across nodes; a WebSocket client on node A receives
events sent to node B (also through nginx); a node killed with SIGKILL loses no
acknowledged event and nginx keeps serving from the other."""

import http.client
import json
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Server, WebSocket, wait_for  # noqa: E402
from servers import Nginx, Postgres, Redis  # noqa: E402

SECRET = "cluster-test-secret-key-0123456789abcdef"
ADMIN_PASSWORD = "admin-password-cluster"


class Endpoint:
    """JSON over HTTP to one port (a node or the load balancer)."""

    def __init__(self, port):
        self.port = port

    def json(self, method, path, body=None, token=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            if token:
                headers["Authorization"] = "Bearer " + token
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return resp.status, dict(resp.getheaders()), parsed
        finally:
            conn.close()


@unittest.skipUnless(Postgres.available and Redis.available and Nginx.available,
                     Postgres.unavailable_reason or "needs redis-server and nginx (scripts/install-deps.sh)")
class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        cls.redis = Redis()
        cls.nodes = []
        try:
            cls.shared_dir = os.path.join(cls.pg.dir, "shared-data")
            for _ in range(2):
                cls.nodes.append(cls.start_node())
            cls.lb = Nginx([n.port for n in cls.nodes])
        except Exception:
            cls.tearDownClass()
            raise
        cls.a, cls.b = (Endpoint(n.port) for n in cls.nodes)
        cls.via_lb = Endpoint(cls.lb.port)

    @classmethod
    def start_node(cls, rate_limit="0"):
        return Server(env={"POSTGRES_URL": cls.pg.url, "REDIS_URL": cls.redis.url, "SECRET_KEY": SECRET,
                           "RATE_LIMIT_PER_MINUTE": rate_limit},
                      data_dir=cls.shared_dir, admin_password=ADMIN_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        for closer in [getattr(cls, "lb", None)] + list(getattr(cls, "nodes", [])):
            if closer is not None:
                try:
                    closer.close() if hasattr(closer, "close") else closer.stop()
                except Exception:
                    pass
        cls.redis.close()
        cls.pg.close()

    def token(self, endpoint):
        status, _, body = endpoint.json("POST", "/api/v1/auth/login",
                                        {"username": "admin", "password": ADMIN_PASSWORD})
        self.assertEqual(status, 200, body)
        return body["access_token"]

    def test_events_ingested_on_either_node_are_queryable_on_both(self):
        tag = "clu%d" % time.time_ns()
        token = self.token(self.a)
        for i, node in enumerate((self.a, self.b, self.via_lb)):
            status, _, body = node.json("POST", "/api/v1/monitor/events",
                                        [{"id": "%s-%d" % (tag, i), "host.name": "h%d" % i,
                                          "message": "cluster probe " + tag}], token=token)
            self.assertEqual(status, 202, body)
        for node in (self.a, self.b, self.via_lb):
            for i in range(3):
                status, _, body = node.json("GET", "/api/v1/monitor/events/%s-%d" % (tag, i), token=token)
                self.assertEqual(status, 200, body)
            status, _, body = node.json("GET", "/api/v1/monitor/events?limit=10&q=" + tag, token=token)
            self.assertEqual(status, 200, body)
            self.assertEqual(len(body["items"]), 3, body)

    def test_a_large_batch_passes_through_nginx(self):
        # Bodies over nginx's memory buffer go through its temp files.
        tag = "big%d" % time.time_ns()
        token = self.token(self.a)
        batch = [{"id": "%s-%d" % (tag, i), "message": "bulk " + "x" * 200} for i in range(2000)]
        status, _, body = self.via_lb.json("POST", "/api/v1/monitor/events", batch, token=token, timeout=60)
        self.assertEqual(status, 202, body)
        self.assertEqual(body["accepted"], 2000)
        self.assertEqual(self.b.json("GET", "/api/v1/monitor/events/%s-1999" % tag, token=token)[0], 200)

    def test_a_token_from_one_node_works_on_the_other_and_logout_is_shared(self):
        token = self.token(self.a)
        self.assertEqual(self.b.json("GET", "/api/v1/auth/me", token=token)[0], 200)
        status, _, body = self.b.json("POST", "/api/v1/auth/logout", {}, token=token)
        self.assertIn(status, (200, 204), body)
        self.assertTrue(wait_for(lambda: self.a.json("GET", "/api/v1/auth/me", token=token)[0] == 401, 5))

    def test_websocket_client_on_one_node_receives_events_sent_to_the_other(self):
        token = self.token(self.a)
        for listen_port, send in ((self.nodes[0].port, self.b), (self.lb.port, self.a)):
            ws = WebSocket(listen_port, "/api/v1/monitor/ws?token=" + token)
            try:
                self.assertEqual(ws.status, 101)
                self.assertEqual(ws.recv()["type"], "subscribed")
                tag = "ws%d" % time.time_ns()
                status, _, body = send.json("POST", "/api/v1/monitor/events",
                                            [{"id": tag, "message": "fan-out " + tag}], token=token)
                self.assertEqual(status, 202, body)
                deadline = time.time() + 15
                seen = False
                while time.time() < deadline and not seen:
                    msg = ws.recv()
                    if msg is None:
                        break
                    if msg.get("type") == "event" and tag in json.dumps(msg):
                        seen = True
                self.assertTrue(seen, "event %s not relayed to the other node's WebSocket" % tag)
            finally:
                ws.close()


@unittest.skipUnless(Postgres.available and Redis.available and Nginx.available,
                     Postgres.unavailable_reason or "needs redis-server and nginx (scripts/install-deps.sh)")
class ClusterFaultTest(unittest.TestCase):
    """Each test gets its own cluster: they kill nodes or change limits."""

    def setUp(self):
        self.pg = Postgres()
        self.redis = Redis()
        self.nodes = []
        self.lb = None
        self.shared_dir = os.path.join(self.pg.dir, "shared-data")

    def tearDown(self):
        if self.lb:
            self.lb.close()
        for n in self.nodes:
            n.stop()
        self.redis.close()
        self.pg.close()

    def start(self, rate_limit="0"):
        for _ in range(2):
            self.nodes.append(Server(env={"POSTGRES_URL": self.pg.url, "REDIS_URL": self.redis.url,
                                          "SECRET_KEY": SECRET, "RATE_LIMIT_PER_MINUTE": rate_limit},
                                     data_dir=self.shared_dir, admin_password=ADMIN_PASSWORD))
        self.lb = Nginx([n.port for n in self.nodes])

    def login(self, port):
        status, _, body = Endpoint(port).json("POST", "/api/v1/auth/login",
                                              {"username": "admin", "password": ADMIN_PASSWORD})
        self.assertEqual(status, 200, body)
        return body["access_token"]

    def test_rate_limit_holds_across_nodes(self):
        self.start(rate_limit="20")
        token = self.login(self.nodes[0].port)
        ok = 0
        limited = 0
        per_node = [0, 0]
        for i in range(40):
            status, headers, _ = Endpoint(self.nodes[i % 2].port).json("GET", "/api/v1/auth/me", token=token)
            if status == 200:
                ok += 1
                per_node[i % 2] += 1
            elif status == 429:
                limited += 1
                self.assertIn("Retry-After", headers)
        # 20 per minute for the user in total (a token or two may refill while the loop
        # runs), not 20 per node.
        self.assertGreater(limited, 0)
        self.assertLessEqual(ok, 23, (ok, per_node))
        self.assertGreaterEqual(ok, 19, (ok, per_node))

    def test_sigkill_of_a_node_loses_no_acknowledged_event(self):
        self.start()
        token = self.login(self.lb.port)
        lb = Endpoint(self.lb.port)
        acked = []
        failures = []
        stop = threading.Event()
        tag = "kill%d" % time.time_ns()

        def writer():
            i = 0
            while not stop.is_set():
                batch = [{"id": "%s-%d-%d" % (tag, i, j), "host.name": "h%d" % j, "message": "kill test"}
                         for j in range(20)]
                try:
                    status, _, _ = lb.json("POST", "/api/v1/monitor/events", batch, token=token, timeout=10)
                except OSError as e:
                    failures.append(str(e))
                    status = None
                if status == 202:
                    acked.extend(e["id"] for e in batch)
                elif status is not None:
                    failures.append(status)
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            self.assertTrue(wait_for(lambda: len(acked) >= 400, 30))
            self.nodes[0].signal(signal.SIGKILL)
            self.nodes[0].wait(10)
            before = len(acked)
            # The survivor keeps acknowledging through nginx.
            self.assertTrue(wait_for(lambda: len(acked) >= before + 400, 30), (before, len(acked), failures[-5:]))
        finally:
            stop.set()
            t.join(30)
        survivor = Endpoint(self.nodes[1].port)
        missing = []
        for event_id in acked:
            status, _, _ = survivor.json("GET", "/api/v1/monitor/events/" + event_id, token=token)
            if status != 200:
                missing.append(event_id)
        self.assertEqual(missing, [], "%d of %d acknowledged events lost" % (len(missing), len(acked)))
        self.assertEqual(survivor.json("GET", "/health")[0], 200)


if __name__ == "__main__":
    unittest.main()
