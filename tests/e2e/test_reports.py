"""End-to-end tests of reports: every type in every format generated through the
API, polled until ready and downloaded; bad input; RBAC; listing with cursors;
retention across a restart."""

import csv
import io
import json
import os
import sqlite3
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import Server, wait_for

TYPES = ["executive_summary", "alerts", "incident", "compliance_audit", "ml_performance"]
FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
           "json": "application/json"}


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class ReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        cls.admin = cls.server.login()["access_token"]
        for name, role in (("analyst1", "analyst"), ("viewer1", "viewer")):
            status, _, body = cls.server.json("POST", "/api/v1/users",
                                              {"username": name, "password": name + "-password", "role": role},
                                              token=cls.admin)
            assert status == 201, body
        cls.analyst = cls.server.login("analyst1", "analyst1-password")["access_token"]
        cls.viewer = cls.server.login("viewer1", "viewer1-password")["access_token"]

        now = datetime.now(timezone.utc)
        # One user per event: the same user logging on to several hosts would (rightly) be
        # seen as lateral movement by the graph stage and add an alert of its own.
        events = [{"event_type": "login_attempt", "source_ip": "192.0.2.%d" % i, "user": "mallory%d" % i,
                   "host": "web-%d" % (i % 3), "severity": "high", "outcome": "failure" if i % 2 else "success",
                   "message": "Failed password for mallory", "timestamp": iso(now - timedelta(minutes=i))}
                  for i in range(60)]
        status, _, body = cls.server.json("POST", "/api/v1/monitor/events", events, token=cls.analyst)
        assert status == 202, body

        cls.alert_ids = []
        for i, severity in enumerate(("critical", "high", "medium")):
            status, _, alert = cls.server.json(
                "POST", "/api/v1/alerts",
                {"title": "Brute force on web-%d" % i, "severity": severity,
                 "tags": ["attack.credential_access", "attack.t1110"],
                 "entities": {"hosts": ["web-%d" % i], "users": ["mallory"], "ips": ["203.0.113.%d" % (i + 1)]}},
                token=cls.analyst)
            assert status == 201, alert
            cls.alert_ids.append(alert["id"])
        path = "/api/v1/alerts/%s/status" % cls.alert_ids[0]
        assert cls.server.json("PUT", path, {"status": "acknowledged"}, token=cls.analyst)[0] == 200
        assert cls.server.json("PUT", path, {"status": "resolved", "comment": "contained"}, token=cls.analyst)[0] == 200
        status, _, body = cls.server.json("POST", "/api/v1/alerts/%s/remediate" % cls.alert_ids[0],
                                          {"action": "block_ip", "params": {"ttl_minutes": 60}}, token=cls.analyst)
        assert status in (200, 202), body

        def remediated():
            _, _, a = cls.server.json("GET", "/api/v1/alerts/" + cls.alert_ids[0], token=cls.analyst)
            return any(c["action"] == "remediation" and c["to"] not in ("", "started") for c in a["history"])
        assert wait_for(remediated, timeout=10)
        cls.range = {"from": iso(now - timedelta(days=1)), "to": iso(now + timedelta(minutes=5))}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def call(self, method, path, body=None, token=None):
        return self.server.json(method, path, body, token=token or self.analyst)

    def generate(self, type_, fmt, token=None, **extra):
        body = {"type": type_, "format": fmt}
        body.update(self.range)
        if type_ == "incident":
            body["filters"] = {"alert_id": self.alert_ids[0]}
        body.update(extra)
        status, headers, resp = self.call("POST", "/api/v1/reports/generate", body, token)
        self.assertEqual(status, 202, resp)
        self.assertEqual(resp["status"], "queued")
        self.assertEqual(headers["Location"], "/api/v1/reports/" + resp["id"])
        return resp["id"]

    def download(self, report_id, token=None):
        """Polls until the report is ready; returns (headers, body bytes)."""
        deadline = time.time() + 60
        while True:
            status, headers, data = self.server.request(
                "GET", "/api/v1/reports/" + report_id,
                headers={"Authorization": "Bearer " + (token or self.viewer)})
            if status == 200:
                return headers, data
            self.assertEqual(status, 409, data)
            body = json.loads(data)
            self.assertIn(body["status"], ("queued", "running"), body)
            self.assertEqual(body["error"]["code"], "conflict")
            self.assertIn("Retry-After", headers)
            self.assertLess(time.time(), deadline, "report not ready in time")
            time.sleep(0.1)

    def test_every_type_in_every_format(self):
        ids = {(t, f): self.generate(t, f) for t in TYPES for f in FORMATS}
        for (type_, fmt), report_id in ids.items():
            with self.subTest(type=type_, format=fmt):
                headers, data = self.download(report_id)
                self.assertEqual(headers["Content-Type"], FORMATS[fmt])
                disposition = headers["Content-Disposition"]
                self.assertTrue(disposition.startswith('attachment; filename="securityai-%s-' %
                                                       type_.replace("_", "-")), disposition)
                self.assertTrue(disposition.endswith('.%s"' % fmt), disposition)
                self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
                if fmt == "pdf":
                    self.assertTrue(data.startswith(b"%PDF-"))
                    self.assertIn(b"%%EOF", data[-32:])
                elif fmt == "html":
                    text = data.decode()
                    self.assertTrue(text.startswith("<!DOCTYPE html>"))
                    if type_ not in ("incident", "ml_performance"):
                        self.assertIn("<svg", text)
                    self.assertNotIn("<script", text)
                    self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
                elif fmt == "csv":
                    rows = list(csv.reader(io.StringIO(data.decode())))
                    self.assertEqual(rows[0], ["field", "value"])
                    self.assertEqual(rows[3], ["type", type_])
                else:
                    doc = json.loads(data)
                    self.assertEqual(doc["report"]["type"], type_)
                    self.assertEqual(doc["report"]["id"], report_id)

    def tables(self, report_id):
        _, data = self.download(report_id)
        return {s["title"]: s["rows"] for s in json.loads(data)["sections"] if s["kind"] == "table"}

    def test_report_contents(self):
        summary = self.tables(self.generate("executive_summary", "json"))
        figures = {r["measure"]: r["value"] for r in summary["Key figures"]}
        self.assertEqual(figures["Alerts"], "3")
        self.assertEqual(figures["Events"], "60")
        self.assertEqual(figures["Resolved"], "1")
        self.assertTrue(figures["Mean time to resolve (MTTR)"].endswith("(1 alert)"), figures)
        self.assertEqual([r["tactic"] for r in summary["MITRE ATT&CK tactics seen"]], ["credential-access"])

        incident = self.tables(self.generate("incident", "json"))
        actions = [r["action"] for r in incident["Timeline"]]
        self.assertEqual(actions[:3], ["created", "status", "status"])
        self.assertTrue(incident["Actions taken"], "the block_ip remediation is listed")
        self.assertIn({"kind": "ip", "value": "203.0.113.1"}, incident["Entities"])

        audit = self.tables(self.generate("compliance_audit", "json"))
        chain = {r["check"]: r["result"] for r in audit["Audit log hash-chain verification (whole log)"]}
        self.assertTrue(chain["Result"].startswith("intact"), chain)
        settings = {r["setting"]: r["value"] for r in audit["Retention settings"]}
        self.assertEqual(settings["reports.retention_days (generated reports)"], "30 days")
        self.assertIn("POST /api/v1/alerts", [r["action"] for r in audit["Audit entries (newest first)"]])

        _, data = self.download(self.generate("ml_performance", "json"))
        self.assertIn("No model is registered", data.decode())

        _, data = self.download(self.generate("alerts", "csv", filters={"severity_min": "high"}))
        blocks = data.decode().split("\r\n\r\n")
        alerts = list(csv.DictReader(io.StringIO(blocks[-1])))
        self.assertEqual(sorted(a["severity"] for a in alerts), ["critical", "high"])
        self.assertEqual({a["id"] for a in alerts}, set(self.alert_ids[:2]))

    def test_huge_range_is_fine(self):
        report_id = self.generate("executive_summary", "pdf", **{"from": "2008-01-01T00:00:00Z"})
        _, data = self.download(report_id)
        self.assertTrue(data.startswith(b"%PDF-"))

    def test_bad_input(self):
        status, _, body = self.call("POST", "/api/v1/reports/generate", {"type": "weekly"})
        self.assertEqual(status, 422)
        self.assertIn("executive_summary, alerts, incident, compliance_audit, ml_performance", body["error"]["message"])
        status, _, body = self.call("POST", "/api/v1/reports/generate", {"type": "alerts", "format": "docx"})
        self.assertEqual(status, 422)
        self.assertIn("pdf, html, csv, json", body["error"]["message"])
        for bad in ({"type": "alerts", "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
                    {"type": "alerts", "from": "1800-01-01T00:00:00Z", "to": "1900-01-01T00:00:00Z"},
                    {"type": "alerts", "to": "2999-01-01T00:00:00Z"},
                    {"type": "alerts", "from": "last week"},
                    {"type": "alerts", "filters": {"alert_id": "../../etc/passwd"}},
                    {"type": "incident"}):
            status, _, body = self.call("POST", "/api/v1/reports/generate", bad)
            self.assertEqual(status, 400, (bad, body))
        status, _, _ = self.server.json("POST", "/api/v1/reports/generate", None, token=self.analyst,
                                        headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        status, _, body = self.call("POST", "/api/v1/reports/generate",
                                    {"type": "incident", "filters": {"alert_id": "0190a3c4-8b7e-7d2f-9e1a-0123456789ab"}})
        self.assertEqual(status, 404, body)

        for path in ("/api/v1/reports/..%2F..%2Fsecurityai.db", "/api/v1/reports/not-a-uuid",
                     "/api/v1/reports/%2Fetc%2Fpasswd"):
            status, _, body = self.call("GET", path, token=self.viewer)
            self.assertIn(status, (400, 404), (path, body))
        status, _, _ = self.call("GET", "/api/v1/reports/../../securityai.db", token=self.viewer)
        self.assertIn(status, (400, 404))
        status, _, body = self.call("GET", "/api/v1/reports/0190a3c4-8b7e-7d2f-9e1a-0123456789ab", token=self.viewer)
        self.assertEqual(status, 404, body)
        self.assertIsNone(self.server.proc.poll(), "the server is still running")

    def test_roles(self):
        status, _, _ = self.call("POST", "/api/v1/reports/generate", {"type": "alerts"}, token=self.viewer)
        self.assertEqual(status, 403)
        report_id = self.generate("alerts", "json")
        self.download(report_id, token=self.viewer)
        status, _, _ = self.call("DELETE", "/api/v1/reports/" + report_id, token=self.viewer)
        self.assertEqual(status, 403)
        status, _, _ = self.call("DELETE", "/api/v1/reports/" + report_id, token=self.analyst)
        self.assertEqual(status, 403)
        status, _, _ = self.call("DELETE", "/api/v1/reports/" + report_id, token=self.admin)
        self.assertEqual(status, 204)
        status, _, _ = self.call("GET", "/api/v1/reports/" + report_id, token=self.viewer)
        self.assertEqual(status, 404)
        status, _, _ = self.call("DELETE", "/api/v1/reports/" + report_id, token=self.admin)
        self.assertEqual(status, 404)
        status, _, _ = self.server.json("GET", "/api/v1/reports")
        self.assertEqual(status, 401)

    def test_list_pages_with_status_type_creator_and_size(self):
        ids = [self.generate("alerts", "csv") for _ in range(3)]
        for report_id in ids:
            self.download(report_id)
        seen, cursor = [], ""
        while True:
            status, _, page = self.call("GET", "/api/v1/reports?type=alerts&limit=2" +
                                        ("&cursor=" + cursor if cursor else ""), token=self.viewer)
            self.assertEqual(status, 200, page)
            seen += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        by_id = {r["id"]: r for r in seen}
        self.assertEqual(len(by_id), len(seen), "no report listed twice")
        for report_id in ids:
            r = by_id[report_id]
            self.assertEqual((r["status"], r["type"], r["format"], r["created_by"]), ("ready", "alerts", "csv", "analyst1"))
            self.assertGreater(r["size_bytes"], 0)
            self.assertIsNone(r["error"])
        status, _, _ = self.call("GET", "/api/v1/reports?status=done", token=self.viewer)
        self.assertEqual(status, 400)
        status, _, _ = self.call("GET", "/api/v1/reports?cursor=%%%", token=self.viewer)
        self.assertEqual(status, 400)


class RestartTest(unittest.TestCase):
    def test_retention_and_interrupted_reports_at_start(self):
        first = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        data_dir = first.data_dir
        try:
            token = first.login()["access_token"]
            status, _, resp = first.json("POST", "/api/v1/reports/generate", {"type": "alerts", "format": "json"},
                                         token=token)
            self.assertEqual(status, 202)
            old_id = resp["id"]
            self.assertTrue(wait_for(lambda: first.json("GET", "/api/v1/reports/" + old_id, token=token)[0] == 200))
            status, _, resp = first.json("POST", "/api/v1/reports/generate", {"type": "alerts", "format": "json"},
                                         token=token)
            new_id = resp["id"]
            self.assertTrue(wait_for(lambda: first.json("GET", "/api/v1/reports/" + new_id, token=token)[0] == 200))
            first.proc.terminate()
            first.proc.wait(15)
            # Age one report past the 30-day retention, as if it had been made in October.
            db = sqlite3.connect(os.path.join(data_dir, "securityai.db"))
            db.execute("UPDATE reports SET created_at = created_at - 31 * 86400000 WHERE id = ?", (old_id,))
            # Two reports a crash interrupted: one can be built again, one has an unreadable request.
            row = db.execute("SELECT type, format, status, error, created_by, created_at, finished_at, from_ms, "
                             "to_ms, filters, size_bytes FROM reports WHERE id = ?", (new_id,)).fetchone()
            interrupted = "0190a3c4-8b7e-7d2f-9e1a-00000000000%d"
            for i, (status, filters) in enumerate((("running", "{}"), ("queued", '{"colour":"red"}'))):
                db.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (interrupted % i, row[0], row[1], status, "", row[4], row[5], 0, row[7], row[8], filters, 0))
            db.commit()
            db.close()
            self.assertTrue(os.path.exists(os.path.join(data_dir, "reports", old_id + ".json")))
            second = Server(data_dir=data_dir, env={"RATE_LIMIT_PER_MINUTE": "0"})
            try:
                token = second.login()["access_token"]
                self.assertEqual(second.json("GET", "/api/v1/reports/" + old_id, token=token)[0], 404)
                self.assertEqual(second.json("GET", "/api/v1/reports/" + new_id, token=token)[0], 200)
                self.assertFalse(os.path.exists(os.path.join(data_dir, "reports", old_id + ".json")))
                self.assertTrue(wait_for(
                    lambda: second.json("GET", "/api/v1/reports/" + interrupted % 0, token=token)[0] == 200))
                status, headers, body = second.json("GET", "/api/v1/reports/" + interrupted % 1, token=token)
                self.assertEqual(status, 409, body)
                self.assertEqual(body["status"], "failed")
                self.assertIn("interrupted by a restart", body["error"]["message"])
                self.assertEqual(body["report"]["error"], "interrupted by a restart")
                self.assertNotIn("Retry-After", headers)
            finally:
                second.stop()
        finally:
            first.stop()


if __name__ == "__main__":
    unittest.main()
