"""End-to-end tests of the metrics: Prometheus exposition (checked by promtool),
its access control, and the JSON metrics API."""

import shutil
import subprocess
import unittest

from harness import Server


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        cls.token = cls.server.login()["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def scrape(self, headers=None):
        return self.server.request("GET", "/metrics", headers=headers or {})

    def test_exposition_counts_requests_and_passes_promtool(self):
        status, _, body = self.server.json("POST", "/api/v1/monitor/events",
                                           [{"message": "m1"}, {"message": "m2"}, "not an object"], token=self.token)
        self.assertEqual(status, 202)
        self.server.request("GET", "/no/such/path")
        status, headers, text = self.scrape()
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = text.decode()
        for needle in ['securityai_http_requests_total{method="POST",route="/api/v1/monitor/events",status="202"} 1',
                       'route="unmatched",status="404"',
                       'securityai_ingest_events_total{source="http",outcome="accepted"} 2',
                       'securityai_ingest_events_total{source="http",outcome="rejected"} 1',
                       'securityai_pipeline_events_total{outcome="committed"} 2',
                       'securityai_http_request_duration_seconds_bucket{route="/api/v1/monitor/events",le="+Inf"} 1',
                       'securityai_pipeline_commit_seconds_count', 'securityai_events_stored 2',
                       'securityai_websocket_connections 0', 'process_resident_memory_bytes',
                       'process_open_fds', 'securityai_http_requests_in_flight 1']:
            self.assertIn(needle, text)
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool is not installed (scripts/install-deps.sh installs it)")
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        # promtool exits 0 when the format is valid; lint remarks are printed but allowed.
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_json_metrics(self):
        status, _, system = self.server.json("GET", "/api/v1/metrics/system", token=self.token)
        self.assertEqual(status, 200)
        self.assertGreater(system["memory"]["total_bytes"], 0)
        self.assertGreater(system["process"]["threads"], 1)
        self.assertGreater(system["disk"]["total_bytes"], 0)
        self.assertEqual(len(system["load_average"]), 3)

        status, _, alert = self.server.json("POST", "/api/v1/alerts",
                                            {"title": "metrics test", "severity": "critical",
                                             "tags": ["attack.execution"], "entities": {"hosts": ["m-host"]}},
                                            token=self.token)
        self.assertEqual(status, 201)
        self.server.json("PUT", "/api/v1/alerts/%s/status" % alert["id"], {"status": "acknowledged"}, token=self.token)
        status, _, m = self.server.json("GET", "/api/v1/metrics/alerts", token=self.token)
        self.assertEqual(status, 200, m)
        self.assertGreaterEqual(m["alerts"], 1)
        self.assertEqual(m["per_day"][-1]["critical"], 1)
        self.assertEqual(m["top_hosts"][0]["key"], "m-host")
        self.assertEqual(m["tactics"], {"execution": 1})
        self.assertIsNotNone(m["mtta_seconds"])
        self.assertIsNone(m["mttr_seconds"])
        status, _, err = self.server.json("GET", "/api/v1/metrics/alerts?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
                                          token=self.token)
        self.assertEqual(status, 400)
        status, _, everything = self.server.json("GET", "/api/v1/metrics", token=self.token)
        self.assertEqual(status, 200)
        self.assertIn("system", everything)
        self.assertIn("alerts", everything)
        _, _, text = self.scrape()
        self.assertIn('securityai_alerts{severity="critical",status="acknowledged"} 1', text.decode())


class MetricsTokenTest(unittest.TestCase):
    def test_token_is_required_when_configured(self):
        server = Server(env={"METRICS_TOKEN": "scrape-token-1234567890"})
        try:
            status, _, _ = server.request("GET", "/metrics")
            self.assertEqual(status, 401)
            status, _, _ = server.request("GET", "/metrics", headers={"Authorization": "Bearer wrong"})
            self.assertEqual(status, 401)
            status, _, body = server.request("GET", "/metrics",
                                             headers={"Authorization": "Bearer scrape-token-1234567890"})
            self.assertEqual(status, 200)
            self.assertIn(b"securityai_http_requests_total", body)
        finally:
            server.stop()

    def test_addresses_outside_the_allow_list_are_refused(self):
        server = Server(env={"METRICS_ALLOW": "10.0.0.0/8"})
        try:
            status, _, body = server.request("GET", "/metrics")
            self.assertEqual(status, 403)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
