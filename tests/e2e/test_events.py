"""End-to-end tests of event ingestion (HTTP, syslog), search and durability."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Server, wait_for


def ndjson(events):
    return ("\n".join(json.dumps(e) for e in events) + "\n").encode()


class IngestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        cls.token = cls.server.login()["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def post(self, body, ctype="application/json", token=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, headers, raw = self.server.request("POST", "/api/v1/monitor/events", body=data, headers={
            "Content-Type": ctype, "Authorization": "Bearer " + (token or self.token)})
        return status, headers, json.loads(raw) if raw else None

    def search(self, query):
        status, _, body = self.server.json("GET", "/api/v1/monitor/events?" + query, token=self.token)
        self.assertEqual(status, 200, body)
        return body

    def test_three_forms_then_every_filter(self):
        tag = "t%d" % time.time_ns()
        single = {"id": tag + "-a", "event_type": "login", "source_ip": "10.1.0.5", "destination_ip": "192.168.7.1",
                  "user": "alice", "host": "web-" + tag, "severity": "high", "message": "Failed password " + tag,
                  "outcome": "failure", "category": "authentication", "timestamp": "2026-11-20T10:00:00Z"}
        status, _, body = self.post(single)
        self.assertEqual(status, 202, body)
        self.assertEqual(body["accepted"], 1)
        self.assertEqual(body["ids"], [tag + "-a"])
        array = [{"id": tag + "-b", "source": {"ip": "10.2.0.9"}, "user": {"name": "bob"}, "host": {"name": "db-" + tag},
                  "event": {"category": "network", "outcome": "success", "severity": 1},
                  "message": "Accepted connection " + tag, "@timestamp": "2026-11-20T11:00:00Z",
                  "ml": {"anomaly_score": 0.95, "threat_class": "malicious"}}]
        status, _, body = self.post(array)
        self.assertEqual((status, body["accepted"]), (202, 1), body)
        lines = [{"id": tag + "-c", "source.ip": "2001:db8::7", "user.name": "carol", "message": "ndjson " + tag,
                  "@timestamp": "2026-11-20T12:00:00Z", "event.category": "process"}]
        status, _, body = self.post(ndjson(lines), "application/x-ndjson")
        self.assertEqual((status, body["accepted"]), (202, 1), body)

        def ids(query):
            return [e["id"] for e in self.search(query)["items"] if e["id"].startswith(tag)]

        self.assertEqual(ids("q=" + tag), [tag + "-c", tag + "-b", tag + "-a"])
        self.assertEqual(ids("host=web-" + tag), [tag + "-a"])
        self.assertEqual(ids("user=bob&q=" + tag), [tag + "-b"])
        self.assertEqual(ids("source_ip=10.1.0.0/16&q=" + tag), [tag + "-a"])
        self.assertEqual(ids("source_ip=2001:db8::/32&q=" + tag), [tag + "-c"])
        self.assertEqual(ids("destination_ip=192.168.7.1&q=" + tag), [tag + "-a"])
        self.assertEqual(ids("category=network&q=" + tag), [tag + "-b"])
        self.assertEqual(ids("outcome=failure&q=" + tag), [tag + "-a"])
        self.assertEqual(ids("severity_min=high&q=" + tag), [tag + "-a"])
        self.assertEqual(ids("anomaly_min=0.9&q=" + tag), [tag + "-b"])
        self.assertEqual(ids("threat_class=malicious&q=" + tag), [tag + "-b"])
        self.assertEqual(ids("from=2026-11-20T10:30:00Z&to=2026-11-20T11:30:00Z&q=" + tag), [tag + "-b"])
        page = self.search("limit=1&q=" + tag)
        self.assertIsNotNone(page["next_cursor"])
        rest = self.search("limit=5&q=" + tag + "&cursor=" + page["next_cursor"])
        self.assertEqual([e["id"] for e in rest["items"]], [tag + "-b", tag + "-a"])
        status, _, one = self.server.json("GET", "/api/v1/monitor/events/" + tag + "-a", token=self.token)
        self.assertEqual(status, 200)
        self.assertEqual(one["source"]["ip"], "10.1.0.5")
        self.assertEqual(one["event"]["severity"], 3)

    def test_resending_an_event_id_does_not_duplicate(self):
        tag = "dup%d" % time.time_ns()
        for _ in range(3):
            self.assertEqual(self.post({"id": tag, "message": "once " + tag})[0], 202)
        self.assertEqual(len(self.search("q=" + tag)["items"]), 1)

    def test_bad_items_are_reported_by_index_and_good_ones_kept(self):
        tag = "bad%d" % time.time_ns()
        body = [{"message": "good " + tag}, {"source.port": "ssh"}, 5, {"message": "x" * (64 * 1024 + 1)},
                {"@timestamp": "2999-01-01T00:00:00Z"}, {"message": "good too " + tag}]
        status, _, res = self.post(body)
        self.assertEqual(status, 202)
        self.assertEqual(res["accepted"], 2)
        self.assertEqual([r["index"] for r in res["rejected"]], [1, 2, 3, 4])
        self.assertIn("source.port", res["rejected"][0]["reason"])
        self.assertIn("message", res["rejected"][2]["reason"])
        self.assertIn("in the future", res["rejected"][3]["reason"])
        self.assertEqual(len(self.search("q=" + tag)["items"]), 2)

    def test_malformed_bodies(self):
        self.assertEqual(self.post(b"{not json")[0], 400)
        self.assertEqual(self.post(b"[]")[0], 400)
        self.assertEqual(self.post(b"<xml/>", "application/xml")[0], 400)
        status, _, res = self.post(b'{"message": "ok"}\n{broken\n{"message": "\xc3\x28"}\n', "application/x-ndjson")
        self.assertEqual(status, 202)
        self.assertEqual(res["rejected"], [{"index": 1, "reason": "invalid JSON at byte 1: syntax error"},
                                           {"index": 2, "reason": "invalid UTF-8 at byte 13"}])
        status, _, res = self.post(b'{"message": "ok"} trailing')
        self.assertEqual((status, res["error"]["message"]), (400, "invalid JSON at byte 18: extra data"))
        status, _, res = self.post(b"\xff\xfe", "application/json")
        self.assertEqual((status, res["error"]["message"]), (400, "invalid UTF-8 at byte 0"))

    def test_limits(self):
        too_many = ndjson([{}] * 100001)
        status, _, body = self.post(too_many, "application/x-ndjson")
        self.assertEqual(status, 413, body)
        raw = self.server.raw(b"POST /api/v1/monitor/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              self.token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
                              str(17 * 1024 * 1024).encode() + b"\r\n\r\n")
        self.assertIn(b"413", raw.split(b"\r\n")[0])
        big = [{"message": "m%d" % i} for i in range(20000)]
        status, _, body = self.post(big)
        self.assertEqual(status, 202)
        self.assertEqual(body["accepted"], 20000)
        self.assertNotIn("ids", body)

    def test_query_validation(self):
        for q in ("limit=0", "limit=5000", "from=yesterday", "source_ip=10.0.0.0/99", "severity_min=loud",
                  "anomaly_min=2", "cursor=%21%21", "q=" + "a" * 2000):
            status, _, body = self.server.json("GET", "/api/v1/monitor/events?" + q, token=self.token)
            self.assertEqual(status, 400, q)
        self.assertEqual(self.server.json("GET", "/api/v1/monitor/events/nope", token=self.token)[0], 404)

    def test_viewers_read_but_do_not_ingest(self):
        s = self.server
        s.json("POST", "/api/v1/users", {"username": "vic", "password": "vic-password-12", "role": "viewer"},
               token=self.token)
        viewer = s.login("vic", "vic-password-12")["access_token"]
        self.assertEqual(self.post({"message": "x"}, token=viewer)[0], 403)
        self.assertEqual(s.json("GET", "/api/v1/monitor/events?limit=1", token=viewer)[0], 200)
        self.assertEqual(self.post({"message": "x"}, token="nope")[0], 401)

    def test_status_and_metrics(self):
        status, _, st = self.server.json("GET", "/api/v1/monitor/status", token=self.token)
        self.assertEqual(status, 200)
        self.assertEqual(st["components"]["store"]["state"], "healthy")
        names = [s["name"] for s in st["components"]["sources"]]
        self.assertEqual(names, ["http", "syslog-udp", "syslog-tcp"])
        self.post({"message": "metric probe"})
        status, _, m = self.server.json("GET", "/api/v1/monitor/metrics", token=self.token)
        self.assertEqual(status, 200)
        self.assertGreater(m["events_total"], 0)
        self.assertEqual(len(m["per_minute_last_hour"]), 60)
        self.assertGreater(m["ingest_rate_per_second"]["1m"], 0)
        self.assertIn("rejected", m["pipeline"])


class SyslogTest(unittest.TestCase):
    def test_logger_over_udp_and_tcp(self):
        s = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})  # it polls faster than 100 requests a minute
        try:
            token = s.login()["access_token"]
            tag = "sys%d" % time.time_ns()
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(s.syslog_udp_port), "-d", "-t", "sshd",
                            "udp " + tag], check=True)
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(s.syslog_port), "-T", "-p", "auth.err",
                            "tcp " + tag], check=True)
            subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(s.syslog_port), "-T", "--octet-count",
                            "octet " + tag], check=True)
            found = wait_for(lambda: (lambda b: b if len(b["items"]) == 3 else None)(
                s.json("GET", "/api/v1/monitor/events?q=" + tag, token=token)[2]), 30)
            if found is None:  # say which of the three is missing, and what the server counted
                seen = s.json("GET", "/api/v1/monitor/events?q=" + tag, token=token)[2]["items"]
                metrics = s.json("GET", "/api/v1/monitor/metrics", token=token)[2]
                self.fail("found %s; sources %s; pipeline %s" % ([e["message"] for e in seen], metrics.get("sources"),
                                                                 metrics.get("pipeline")))
            by_msg = {e["message"].split()[0]: e for e in found["items"]}
            self.assertEqual(by_msg["udp"]["process"]["name"], "sshd")
            self.assertEqual(by_msg["tcp"]["log"]["level"], "err")
            self.assertEqual(by_msg["tcp"]["labels"]["syslog.facility"], "auth")
            self.assertEqual(by_msg["udp"]["event"]["dataset"], "syslog")
            # Garbage on the TCP port is counted, not stored, and does not stop the listener.
            with socket.create_connection(("127.0.0.1", s.syslog_port)) as c:
                c.sendall(b"\x00\x01garbage\nnot syslog either\n" + b"9" * 30 + b" x\n<13>app: after garbage " +
                          tag.encode() + b"\n")
            found = wait_for(lambda: s.json("GET", "/api/v1/monitor/events?q=garbage+" + tag, token=token)[2]["items"], 10)
            self.assertEqual(len(found), 1)
            m = s.json("GET", "/api/v1/monitor/metrics", token=token)[2]
            self.assertGreaterEqual(m["pipeline"]["rejected"], 2)
            self.assertGreaterEqual(m["sources"]["syslog_received"], 4)
            self.assertGreaterEqual(m["sources"]["syslog_rejected"], 2)
            self.assertIn("syslog_udp_kernel_dropped", m["sources"])
        finally:
            s.stop()


class IngestCliTest(unittest.TestCase):
    def test_direct_and_through_the_api(self):
        root = tempfile.mkdtemp()
        try:
            data = os.path.join(root, "data")
            path = os.path.join(root, "events.ndjson")
            with open(path, "w") as f:
                for i in range(1500):
                    f.write(json.dumps({"id": "cli-%d" % i, "message": "from a file %d" % i}) + "\n")
                f.write("not json\n")
            binary = os.environ.get("SECURITYAI_BIN", "../../build/securityai")
            r = subprocess.run([binary, "ingest", "--direct", "--data-dir", data, path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("ingested 1500 events, rejected 1", r.stdout)
            self.assertIn(":1501:", r.stderr, "bad lines are reported with their line number")
            # Line numbers count from 1 in each file, stdin included.
            r = subprocess.run([binary, "ingest", "--direct", "--data-dir", data, path, "-"], input="not json either\n",
                               capture_output=True, text=True)
            self.assertIn("stdin:1: ", r.stderr)
            s = Server(data_dir=data)
            try:
                token = s.login()["access_token"]
                # A log file's line needs no <PRI> (rsyslog writes none); a malformed one is refused.
                raw = ("<13>Nov 17 22:14:15 web-01 sshd[7]: Failed password for root\n<14>another line\n"
                       "Nov 17 22:14:16 web-01 sshd[7]: Accepted password for root\n<999>bad priority\n")
                r = subprocess.run([binary, "ingest", "--format", "syslog", "--url", "http://127.0.0.1:%d" % s.port,
                                    "--token", token], input=raw, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("ingested 3 events, rejected 1", r.stdout)
                # Re-sending the same file through the API stores nothing twice.
                r = subprocess.run([binary, "ingest", "--url", "http://127.0.0.1:%d" % s.port, "--token", token, path],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                m = s.json("GET", "/api/v1/monitor/metrics", token=token)[2]
                self.assertEqual(m["events_total"], 1503)
                # Raw lines through the API: each gets an id on the way.
                r = subprocess.run([binary, "ingest", "--format", "raw", "--url", "http://127.0.0.1:%d" % s.port,
                                    "--token", token], input="raw line one\nraw line two\n",
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("ingested 2 events, rejected 0", r.stdout)
                m = s.json("GET", "/api/v1/monitor/metrics", token=token)[2]
                self.assertEqual(m["events_total"], 1505)
                r = subprocess.run([binary, "ingest", "--url", "http://127.0.0.1:%d" % s.port, path],
                                   capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                                        if not k.startswith("SECURITYAI_TOKEN")})
                self.assertEqual(r.returncode, 2)
                self.assertIn("--token", r.stderr)
            finally:
                s.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


class CrashTest(unittest.TestCase):
    def test_every_acknowledged_event_survives_sigkill_exactly_once(self):
        root = tempfile.mkdtemp()
        data = os.path.join(root, "data")
        try:
            s = Server(data_dir=data, env={"RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0"})
            token = s.login()["access_token"]
            acked = []
            stop = threading.Event()
            errors = []

            def sender(worker):
                n = 0
                while not stop.is_set():
                    batch = [{"id": "w%d-%d-%d" % (worker, n, i), "message": "crash test %d" % i} for i in range(200)]
                    n += 1
                    try:
                        status, _, raw = s.request("POST", "/api/v1/monitor/events", body=ndjson(batch), timeout=5,
                                                   headers={"Content-Type": "application/x-ndjson",
                                                            "Authorization": "Bearer " + token})
                    except Exception:  # the server died mid-request: not acknowledged
                        return
                    if status == 202:
                        acked.extend(e["id"] for e in batch)
                    elif status != 503:
                        errors.append(status)

            threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
            for t in threads:
                t.start()
            # Kill mid-stream, once a good number of batches were acknowledged.
            wait_for(lambda: len(acked) >= 3000, 30)
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait(10)
            stop.set()
            for t in threads:
                t.join()
            s.stop_keep_data = True
            self.assertGreater(len(acked), 1000, "the test must have acknowledged events before the crash")
            self.assertEqual(errors, [])
            keep = os.path.join(root, "kept")
            shutil.copytree(data, keep)
            s.stop()

            again = Server(data_dir=keep)
            try:
                db_ids = set()
                import sqlite3
                con = sqlite3.connect(os.path.join(keep, "securityai.db"))
                rows = con.execute("SELECT id, count(*) FROM events GROUP BY id HAVING count(*) > 1").fetchall()
                self.assertEqual(rows, [], "no event stored twice")
                db_ids = {r[0] for r in con.execute("SELECT id FROM events")}
                con.close()
                missing = [i for i in acked if i not in db_ids]
                self.assertEqual(missing[:5], [], "%d acknowledged events lost" % len(missing))
                token = again.login()["access_token"]
                status, _, m = again.json("GET", "/api/v1/monitor/metrics", token=token)
                self.assertEqual(m["events_total"], len(db_ids))
            finally:
                again.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
