"""Integration: `securityai serve` and `securityai migrate` on a real PostgreSQL
(started here on 127.0.0.1 in a temporary directory, see servers.py). Ingest,
get, full-text search, alerts and users work on it; when PostgreSQL stops during
continuous ingest, clients get 503 with Retry-After and nothing they were told
was accepted (202) is lost; the node recovers by itself when PostgreSQL is back."""

import os
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Server, run_cli, wait_for  # noqa: E402
from servers import Postgres  # noqa: E402


@unittest.skipUnless(Postgres.available, Postgres.unavailable_reason)
class PostgresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()

    def database(self):
        """A fresh database on the shared server; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.pg.psql("CREATE DATABASE %s" % name)
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.pg.port, name), name

    def sql(self, database, query):
        r = self.pg._run(["/usr/bin/psql", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres", "-d",
                          database, "-At", "-c", query])
        return r.stdout.decode().strip()

    def test_migrate_command(self):
        url, name = self.database()
        r = run_cli("migrate", env={"POSTGRES_URL": url})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(postgres)", r.stdout)
        self.assertNotIn("password", r.stdout)
        versions = self.sql(name, "SELECT count(*), max(version) FROM schema_migrations").split("|")
        self.assertEqual(versions[0], versions[1])
        self.assertGreaterEqual(int(versions[0]), 8)
        again = run_cli("migrate", "--status", env={"POSTGRES_URL": url})
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("up to date", again.stdout)

    def test_server_on_postgres(self):
        url, name = self.database()
        server = Server(env={"POSTGRES_URL": url, "RATE_LIMIT_PER_MINUTE": "0"})
        try:
            self.assertFalse(os.path.exists(os.path.join(server.data_dir, "securityai.db")),
                             "with POSTGRES_URL nothing goes to SQLite")
            token = server.login()["access_token"]
            events = [{"id": "pg-%d" % i, "message": "Failed password for user%d from 10.0.0.%d" % (i, i),
                       "host.name": "web-%d" % (i % 2), "event.category": "authentication"} for i in range(20)]
            status, _, body = server.json("POST", "/api/v1/monitor/events", events, token=token)
            self.assertEqual(status, 202, body)
            self.assertEqual(self.sql(name, "SELECT count(*) FROM events"), "20")

            status, _, got = server.json("GET", "/api/v1/monitor/events/pg-7", token=token)
            self.assertEqual(status, 200, got)
            self.assertEqual(got["message"], "Failed password for user7 from 10.0.0.7")

            status, _, found = server.json("GET", "/api/v1/monitor/events?q=user7%20password", token=token)
            self.assertEqual(status, 200, found)
            self.assertEqual([e["id"] for e in found["items"]], ["pg-7"])
            status, _, page = server.json("GET", "/api/v1/monitor/events?host=web-1&limit=5", token=token)
            self.assertEqual(status, 200, page)
            self.assertEqual(len(page["items"]), 5)
            self.assertTrue(page["next_cursor"])

            status, _, alert = server.json("POST", "/api/v1/alerts", {"title": "Manual PG alert", "severity": "high"},
                                           token=token)
            self.assertIn(status, (200, 201), alert)
            status, _, alerts = server.json("GET", "/api/v1/alerts", token=token)
            self.assertEqual(status, 200, alerts)
            self.assertIn("Manual PG alert", [a["title"] for a in alerts["items"]])

            status, _, user = server.json("POST", "/api/v1/users",
                                          {"username": "carol", "password": "carol-password-123!", "role": "analyst"},
                                          token=token)
            self.assertIn(status, (200, 201), user)
            self.assertTrue(server.login("carol", "carol-password-123!")["access_token"])
            self.assertEqual(self.sql(name, "SELECT role FROM users WHERE username = 'carol'"), "analyst")

            status, _, health = server.json("GET", "/health")
            self.assertEqual((status, health["status"]), (200, "healthy"), health)
        finally:
            server.stop()

    def test_two_nodes_start_together_and_share_the_database(self):
        url, name = self.database()
        servers = [None, None]
        errors = []

        def start(i):
            try:
                servers[i] = Server(env={"POSTGRES_URL": url, "RATE_LIMIT_PER_MINUTE": "0"})
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        try:
            self.assertEqual(errors, [])
            self.assertEqual(self.sql(name, "SELECT count(*) = count(DISTINCT version) FROM schema_migrations"), "t")
            self.assertEqual(self.sql(name, "SELECT count(*) FROM users WHERE username = 'admin'"), "1")
            tokens = [s.login()["access_token"] for s in servers]
            batch = [{"id": "shared-%d" % i, "message": "two nodes %d" % i} for i in range(100)]
            for s, token in zip(servers, tokens):
                status, _, body = s.json("POST", "/api/v1/monitor/events", batch, token=token)
                self.assertEqual(status, 202, body)
            self.assertEqual(self.sql(name, "SELECT count(*) FROM events"), "100")
            # A token from one node works on the other: one user table, one signing key.
            status, _, got = servers[1].json("GET", "/api/v1/monitor/events/shared-5", token=tokens[0])
            self.assertEqual(status, 200, got)
        finally:
            for s in servers:
                if s:
                    s.stop()

    def test_node_waits_for_postgres_at_start(self):
        url, _ = self.database()
        self.pg.stop()
        restarter = threading.Timer(3, self.pg.start)
        restarter.start()
        server = None
        try:
            server = Server(env={"POSTGRES_URL": url, "RATE_LIMIT_PER_MINUTE": "0"})
            self.assertTrue(any(e.get("msg") == "waiting for PostgreSQL" for e in server.log_entries()))
            self.assertTrue(server.login()["access_token"])
        finally:
            restarter.join()
            if server:
                server.stop()

    def test_postgres_outage_during_continuous_ingest(self):
        url, name = self.database()
        server = Server(env={"POSTGRES_URL": url, "RATE_LIMIT_PER_MINUTE": "0"})
        acked, refused, other = [], [], []
        stop = threading.Event()
        try:
            token = server.login()["access_token"]

            def produce():
                n = 0
                while not stop.is_set():
                    ids = ["c-%d-%d" % (n, i) for i in range(5)]
                    n += 1
                    try:
                        status, headers, _ = server.json(
                            "POST", "/api/v1/monitor/events",
                            [{"id": i, "message": "continuous %s" % i} for i in ids], token=token)
                    except OSError as e:
                        other.append(str(e))
                        continue
                    if status == 202:
                        acked.extend(ids)
                    elif status == 503:
                        refused.append(headers.get("Retry-After"))
                        time.sleep(0.05)
                    else:
                        other.append(status)

            producer = threading.Thread(target=produce, daemon=True)
            producer.start()
            self.assertTrue(wait_for(lambda: len(acked) >= 50, timeout=30), "ingest runs before the outage")

            self.pg.stop()
            self.assertTrue(wait_for(lambda: len(refused) >= 5, timeout=30), "clients are refused while it is down")
            self.assertTrue(all(r and int(r) >= 1 for r in refused), refused[:5])
            down = wait_for(lambda: server.json("GET", "/health")[2].get("status") == "unhealthy", timeout=20)
            self.assertTrue(down, server.json("GET", "/health"))
            status, _, health = server.json("GET", "/health")
            self.assertEqual(status, 503)
            self.assertEqual(health["components"]["postgres"], "unhealthy")
            acked_while_down = len(acked)
            time.sleep(1)

            self.pg.start()
            recovered = wait_for(lambda: len(acked) >= acked_while_down + 50, timeout=60, interval=0.2)
            self.assertTrue(recovered, "ingest resumes on its own once PostgreSQL is back")
            healthy = wait_for(lambda: server.json("GET", "/health")[2].get("status") == "healthy", timeout=30)
            self.assertTrue(healthy, server.json("GET", "/health"))
            stop.set()
            producer.join(30)
            self.assertEqual(other, [])

            status, _, raw = server.request("GET", "/metrics")
            self.assertEqual(status, 200)
            series = dict(line.rsplit(" ", 1) for line in raw.decode().splitlines()
                          if line.startswith("securityai_postgres_"))
            self.assertGreater(float(series["securityai_postgres_connections_lost_total"]), 0, series)
            self.assertGreater(float(series["securityai_postgres_connections"]), 0, series)
            self.assertEqual(float(series["securityai_postgres_circuit_open"]), 0, series)

            stored = set(self.sql(name, "SELECT id FROM events").split("\n"))
            missing = [i for i in acked if i not in stored]
            self.assertEqual(missing, [], "every event answered 202 is in PostgreSQL")
        finally:
            stop.set()
            server.stop()


if __name__ == "__main__":
    unittest.main()
