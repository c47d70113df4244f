"""Integration: a real InfluxDB 1.x (Debian's influxd, started here on
127.0.0.1 in a temporary directory) receives the server's time series; when it
goes down the server keeps ingesting and reports InfluxDB as degraded, and it
recovers on its own when InfluxDB comes back."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from harness import Server, wait_for  # noqa: E402

INFLUXD = shutil.which("influxd")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Influx:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sai-influx-")
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.config = os.path.join(self.dir, "influxdb.conf")
        with open(self.config, "w") as f:
            f.write("""reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%s/meta"
[data]
  dir = "%s/data"
  wal-dir = "%s/wal"
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
""" % (self.rpc_port, self.dir, self.dir, self.dir, self.http_port))
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "influxd.log"), "ab")
        self.proc = subprocess.Popen([INFLUXD, "run", "-config", self.config], stdout=self.log, stderr=self.log)
        ok = wait_for(lambda: self.ping(), timeout=30)
        if not ok:
            raise RuntimeError("influxd did not start: " + open(os.path.join(self.dir, "influxd.log")).read()[-2000:])

    def ping(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.http_port, timeout=1) as r:
                return r.status == 204
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.log.close()

    def query(self, q):
        url = "http://127.0.0.1:%d/query?%s" % (self.http_port, urllib.parse.urlencode({"db": "securityai", "q": q}))
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        series = body["results"][0].get("series", [])
        rows = []
        for s in series:
            for values in s["values"]:
                row = dict(zip(s["columns"], values))
                row.update(s.get("tags", {}))
                rows.append(row)
        return rows

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(INFLUXD, "influxd is not installed (scripts/install-deps.sh installs Debian's influxdb)")
class InfluxTest(unittest.TestCase):
    def test_series_arrive_and_outages_degrade_then_recover(self):
        influx = Influx()
        server = None
        try:
            server = Server(env={"INFLUXDB_URL": "http://127.0.0.1:%d" % influx.http_port, "INFLUXDB_INTERVAL_S": "1",
                                 "RATE_LIMIT_PER_MINUTE": "0"})
            token = server.login()["access_token"]
            status, _, _ = server.json("POST", "/api/v1/monitor/events",
                                       [{"message": "m%d" % i, "event.category": "authentication", "severity": "high"}
                                        for i in range(25)], token=token)
            self.assertEqual(status, 202)
            rows = wait_for(lambda: [r for r in influx.query("SELECT * FROM securityai_pipeline") if r["committed"] >= 25],
                            timeout=15)
            self.assertTrue(rows, "pipeline figures reach InfluxDB")
            self.assertTrue(influx.query("SELECT * FROM securityai_process"))
            # Per-minute counts are written once their minute is over.
            events = wait_for(lambda: influx.query("SELECT * FROM securityai_events WHERE category = 'authentication'"),
                              timeout=75, interval=1)
            self.assertTrue(events, "per-minute event counts reach InfluxDB")
            self.assertEqual(sum(r["count"] for r in events), 25)
            self.assertEqual(events[0]["severity"], "high")

            influx.stop()
            degraded = wait_for(lambda: server.json("GET", "/health")[2].get("status") == "degraded", timeout=15)
            self.assertTrue(degraded, server.json("GET", "/health")[2])
            self.assertEqual(server.json("GET", "/health")[2]["components"]["influxdb"], "degraded")
            status, _, _ = server.json("POST", "/api/v1/monitor/events", {"message": "while InfluxDB is down"}, token=token)
            self.assertEqual(status, 202, "ingestion never waits for InfluxDB")
            _, _, st = server.json("GET", "/api/v1/monitor/status", token=token)
            self.assertEqual(st["components"]["influxdb"]["state"], "degraded")

            influx.start()
            recovered = wait_for(lambda: server.json("GET", "/health")[2].get("status") == "healthy", timeout=60, interval=0.5)
            self.assertTrue(recovered, "the server recovers on its own")
        finally:
            if server:
                server.stop()
            influx.close()


if __name__ == "__main__":
    unittest.main()
