"""End-to-end tests of alerts: manual alerts, the workflow, suppressions,
remediation against a local webhook receiver that checks the HMAC signature,
the blocklist, WebSocket pushes and the audit trail."""

import hashlib
import hmac
import http.server
import json
import threading
import unittest

from harness import Server, WebSocket, wait_for

SECRET = "webhook-secret-e2e"


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook endpoint: records each POST and whether its signature was valid."""
    received = []
    fail_next = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-SecurityAI-Timestamp", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), (ts + ".").encode() + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, self.headers.get("X-SecurityAI-Signature", ""))
        if Receiver.fail_next > 0:
            Receiver.fail_next -= 1
            self.send_response(500)
            self.end_headers()
            return
        Receiver.received.append({"path": self.path, "signed": signed, "body": json.loads(body)})
        self.send_response(204 if signed else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


class AlertsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()
        hook = "http://127.0.0.1:%d" % cls.receiver.server_address[1]
        config = """
[alerts.remediation]
backoff_ms = 20

[[alerts.targets]]
name = "soc"
kind = "generic"
url = "%s/soc"
secret = "%s"

[[alerts.playbooks]]
name = "contain"
description = "block the source and tell the SOC"
[[alerts.playbooks.actions]]
type = "block_ip"
ttl_minutes = 60
[[alerts.playbooks.actions]]
type = "webhook"
target = "soc"
""" % (hook, SECRET)
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"}, config_text=config)
        cls.token = cls.server.login()["access_token"]
        status, _, _ = cls.server.json("POST", "/api/v1/users",
                                       {"username": "viewer1", "password": "viewer-password-1", "role": "viewer"},
                                       token=cls.token)
        assert status == 201
        cls.viewer = cls.server.login("viewer1", "viewer-password-1")["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.receiver.shutdown()

    def call(self, method, path, body=None, token=None):
        return self.server.json(method, path, body, token=token or self.token)

    def new_alert(self, **extra):
        body = {"title": "Suspicious login to db-1", "severity": "high",
                "tags": ["attack.initial_access", "attack.t1078"],
                "entities": {"hosts": ["db-1"], "users": ["mallory"], "ips": ["203.0.113.77"]}}
        body.update(extra)
        status, headers, alert = self.call("POST", "/api/v1/alerts", body)
        self.assertEqual(status, 201, alert)
        self.assertEqual(headers["Location"], "/api/v1/alerts/" + alert["id"])
        return alert

    def test_manual_alert_is_tagged_and_searchable(self):
        alert = self.new_alert()
        self.assertEqual(alert["status"], "new")
        self.assertEqual(alert["tactics"], ["initial-access"])
        self.assertEqual(alert["techniques"], ["T1078"])
        self.assertEqual(alert["source"], "manual")
        status, _, page = self.call("GET", "/api/v1/alerts?technique=T1078&host=db-1&status=new", token=self.viewer)
        self.assertEqual(status, 200)
        self.assertIn(alert["id"], [a["id"] for a in page["items"]])
        status, _, page = self.call("GET", "/api/v1/alerts?host=nowhere")
        self.assertEqual(page["items"], [])
        status, _, err = self.call("GET", "/api/v1/alerts?status=bogus")
        self.assertEqual(status, 400)
        low = self.new_alert(title="minor login", severity="low", tags=["attack.ta0001"])
        self.assertEqual(low["tactics"], ["initial-access"])
        for name in ("severity", "severity_min"):
            status, _, page = self.call("GET", "/api/v1/alerts?limit=100&%s=high" % name)
            self.assertEqual(status, 200)
            ids = [a["id"] for a in page["items"]]
            self.assertIn(alert["id"], ids)
            self.assertNotIn(low["id"], ids)
            status, _, err = self.call("GET", "/api/v1/alerts?%s=urgent" % name)
            self.assertEqual(status, 400)
            self.assertIn(name + " must be", err["error"]["message"])
        status, _, _ = self.call("POST", "/api/v1/alerts", {"title": "x"}, token=self.viewer)
        self.assertEqual(status, 403)
        status, _, err = self.call("POST", "/api/v1/alerts", {"title": "x", "entities": {"ips": ["999.1.1.1"]}})
        self.assertEqual(status, 400)
        self.assertIn("not an IP address", err["error"]["message"])

    def test_pagination_walks_every_alert_once(self):
        ids = {self.new_alert(title="page %d" % i)["id"] for i in range(5)}
        seen, cursor = [], ""
        while True:
            status, _, page = self.call("GET", "/api/v1/alerts?q=page&limit=2" + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(status, 200)
            seen += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(ids <= set(seen))

    def test_workflow_and_history(self):
        alert = self.new_alert()
        path = "/api/v1/alerts/%s/status" % alert["id"]
        status, _, body = self.call("PUT", path, {"status": "acknowledged", "assignee": "admin"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["assignee"], "admin")
        status, _, body = self.call("PUT", path, {"status": "investigating"})
        self.assertEqual(status, 200)
        status, _, body = self.call("PUT", path, {"status": "new"})
        self.assertEqual(status, 409)
        self.assertIn("allowed: resolved, false_positive", body["error"]["message"])
        status, _, body = self.call("PUT", path, {"status": "closed"})
        self.assertEqual(status, 422)
        status, _, body = self.call("PUT", path, {"status": "resolved"})
        self.assertEqual(status, 400)
        self.assertIn("reason", body["error"]["message"])
        status, _, _ = self.call("PUT", path, {"status": "resolved"}, token=self.viewer)
        self.assertEqual(status, 403)
        status, _, body = self.call("POST", "/api/v1/alerts/%s/comments" % alert["id"], {"text": "reset creds"})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["message"], "unknown field 'text'; the fields are: comment")
        status, _, body = self.call("POST", "/api/v1/alerts/%s/comments" % alert["id"], {"comment": "reset creds"})
        self.assertEqual(status, 201)
        status, _, body = self.call("PUT", path, {"status": "resolved", "comment": "password reset, host reimaged"})
        self.assertEqual(status, 200)
        self.assertEqual(body["verdict_reason"], "password reset, host reimaged")
        status, _, full = self.call("GET", "/api/v1/alerts/" + alert["id"], token=self.viewer)
        self.assertEqual(status, 200)
        steps = [(h["action"], h["to"]) for h in full["history"]]
        self.assertEqual(steps, [("created", "new"), ("status", "acknowledged"), ("assigned", "admin"),
                                 ("status", "investigating"), ("comment", None), ("status", "resolved")])
        self.assertEqual(full["history"][-1]["actor"], "admin")
        status, _, _ = self.call("GET", "/api/v1/alerts/no-such-alert")
        self.assertEqual(status, 404)

    def test_evidence_events_are_inline(self):
        status, _, ingested = self.call("POST", "/api/v1/monitor/events",
                                        [{"message": "evidence one", "host": "db-1"}])
        self.assertEqual(status, 202)
        alert = self.new_alert(event_ids=ingested["ids"])
        status, _, full = self.call("GET", "/api/v1/alerts/" + alert["id"])
        self.assertEqual([e["message"] for e in full["evidence"]["events"]], ["evidence one"])

    def test_suppression_and_preview(self):
        self.new_alert(title="noisy scanner", entities={"ips": ["192.0.2.200"]})
        status, _, preview = self.call("POST", "/api/v1/suppressions/preview",
                                       {"scope": "rule", "value": "manual", "entity": "192.0.2.200", "days": 7})
        self.assertEqual(status, 200, preview)
        self.assertEqual(preview["alerts"], 1)
        status, _, err = self.call("POST", "/api/v1/suppressions", {"scope": "rule", "value": "manual"})
        self.assertEqual(status, 400)  # a reason is required
        status, _, s = self.call("POST", "/api/v1/suppressions",
                                 {"scope": "tag", "value": "attack.t1595", "reason": "our scanner",
                                  "expires_at": "2099-01-01T00:00:00Z"})
        self.assertEqual(status, 201, s)
        status, _, listing = self.call("GET", "/api/v1/suppressions", token=self.viewer)
        self.assertIn(s["id"], [x["id"] for x in listing["items"]])
        self.assertTrue([x for x in listing["items"] if x["id"] == s["id"]][0]["active"])
        status, _, _ = self.call("DELETE", "/api/v1/suppressions/" + s["id"])
        self.assertEqual(status, 204)
        status, _, _ = self.call("DELETE", "/api/v1/suppressions/" + s["id"])
        self.assertEqual(status, 404)

    def test_remediation_dry_run_then_real(self):
        alert = self.new_alert(entities={"ips": ["198.51.100.66"], "users": ["mallory"]})
        path = "/api/v1/alerts/%s/remediate" % alert["id"]
        before = len(Receiver.received)
        status, _, plan = self.call("POST", path, {"playbook": "contain", "dry_run": True})
        self.assertEqual(status, 200, plan)
        self.assertEqual([a["type"] for a in plan["actions"]], ["block_ip", "webhook"])
        self.assertEqual(plan["actions"][0]["target"], "198.51.100.66")
        _, _, blocked = self.call("GET", "/api/v1/blocklist")
        self.assertNotIn("198.51.100.66", [b["ip"] for b in blocked["items"]])
        self.assertEqual(len(Receiver.received), before)

        Receiver.fail_next = 1  # the first delivery fails: the retry must succeed
        status, _, plan = self.call("POST", path, {"playbook": "contain"})
        self.assertEqual(status, 202, plan)

        def done():
            _, _, full = self.call("GET", "/api/v1/alerts/" + alert["id"])
            return [h for h in full["history"] if h["action"] == "remediation" and h["to"] != "started"]
        results = wait_for(lambda: len(done()) == 2 and done(), timeout=15)
        self.assertTrue(results)
        self.assertEqual([r["to"] for r in results], ["succeeded", "succeeded"], results)
        hook = [r for r in Receiver.received[before:] if r["path"] == "/soc"]
        self.assertEqual(len(hook), 1)
        self.assertTrue(hook[0]["signed"])
        self.assertEqual(hook[0]["body"]["alert"]["id"], alert["id"])

        _, _, blocked = self.call("GET", "/api/v1/blocklist", token=self.viewer)
        self.assertIn("198.51.100.66", [b["ip"] for b in blocked["items"]])
        status, headers, text = self.server.request("GET", "/api/v1/blocklist?format=text",
                                                    headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        self.assertIn(b"198.51.100.66\n", text)

        status, _, audit = self.call("GET", "/api/v1/audit?limit=200")
        actions = [e["action"] for e in audit["items"]]
        self.assertIn("alert.remediate.block_ip", actions)
        self.assertIn("alert.remediate.webhook", actions)

        status, _, _ = self.call("DELETE", "/api/v1/blocklist/198.51.100.66")
        self.assertEqual(status, 204)

    def test_remediation_refuses_bad_input(self):
        alert = self.new_alert()
        path = "/api/v1/alerts/%s/remediate" % alert["id"]
        for body, code in [({"action": "block_ip", "params": {"ip": "1.2.3.4;reboot"}}, 400),
                           ({"playbook": "nope"}, 404),
                           ({"action": "webhook", "params": {"target": "http://evil"}}, 400),
                           ({"action": "rm_rf"}, 400),
                           ({"playbook": "contain", "action": "block_ip"}, 400),
                           ({}, 400)]:
            status, _, err = self.call("POST", path, body)
            self.assertEqual(status, code, (body, err))
        status, _, _ = self.call("POST", path, {"playbook": "contain"}, token=self.viewer)
        self.assertEqual(status, 403)
        status, _, playbooks = self.call("GET", "/api/v1/playbooks", token=self.viewer)
        self.assertEqual([p["name"] for p in playbooks["playbooks"]], ["contain"])
        self.assertEqual(playbooks["targets"][0]["breaker"], "closed")

    def test_new_alerts_are_pushed_on_the_websocket(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=" + self.viewer)
        try:
            self.assertEqual(ws.recv()["type"], "subscribed")
            ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["alerts"], "severity_min": "high"}}))
            self.assertEqual(ws.recv()["type"], "subscribed")
            self.new_alert(title="low one", severity="low")
            alert = self.new_alert(title="pushed one", severity="critical")
            msg = ws.recv()
            self.assertEqual(msg["type"], "alert")
            self.assertEqual(msg["change"], "created")
            self.assertEqual(msg["data"]["id"], alert["id"])
            self.call("PUT", "/api/v1/alerts/%s/status" % alert["id"], {"status": "acknowledged"})
            msg = ws.recv()
            self.assertEqual((msg["change"], msg["data"]["status"]), ("updated", "acknowledged"))
        finally:
            ws.close()


if __name__ == "__main__":
    unittest.main()
