"""End-to-end: OpenSSH auth lines sent by syslog come out parsed (template,
entities, user.name, source.ip, event.outcome), and the templates API shows
what was learned; templates survive a restart with their ids."""

import os
import subprocess
import time
import unittest
import urllib.parse

from harness import Server, wait_for

LINES = [
    "Failed password for root from 203.0.113.9 port 52311 ssh2",
    "Failed password for invalid user oracle from 203.0.113.9 port 52313 ssh2",
    "Failed password for admin from 198.51.100.4 port 40022 ssh2",
    "Accepted password for alice from 192.0.2.10 port 50122 ssh2",
]


class ParserTest(unittest.TestCase):
    def test_syslog_lines_are_parsed_and_templates_listed(self):
        server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        data_dir = server.data_dir
        keep = server.tmp
        try:
            token = server.login()["access_token"]
            for line in LINES:
                subprocess.run(["logger", "-n", "127.0.0.1", "-P", str(server.syslog_port), "-T", "-t", "sshd",
                                "-p", "auth.info", line], check=True)

            def failures():
                _, _, page = server.json("GET", "/api/v1/monitor/events?outcome=failure&limit=10", token=token)
                return page["items"] if len(page["items"]) >= 3 else None
            items = wait_for(failures, timeout=10)
            self.assertTrue(items, "three failed logins parsed")
            by_user = {e["user"]["name"]: e for e in items}
            self.assertEqual(set(by_user), {"root", "oracle", "admin"})
            root = by_user["root"]
            self.assertEqual(root["source"]["ip"], "203.0.113.9")
            self.assertEqual(root["event"]["outcome"], "failure")
            self.assertEqual(root["event"]["category"], "authentication", "a failed login over syslog")
            self.assertIn("ipv4", root["entities"])
            self.assertTrue(root["log"]["template_id"])
            self.assertIn("Failed password for", root["log"]["template"])
            self.assertEqual(by_user["admin"]["log"]["template_id"], root["log"]["template_id"])
            # The lines may reach the store in different batches: wait for the last one too.
            def alice():
                _, _, page = server.json("GET", "/api/v1/monitor/events?outcome=success&user=alice", token=token)
                return page["items"] or None
            ok = wait_for(alice, timeout=10)
            self.assertTrue(ok, "the accepted login parsed with user and outcome")
            self.assertEqual(len(ok), 1)
            self.assertEqual(ok[0]["event"]["category"], "authentication")

            status, _, templates = server.json("GET", "/api/v1/logs/templates?q=failed+password", token=token)
            self.assertEqual(status, 200)
            ids = [t["id"] for t in templates["items"]]
            self.assertIn(root["log"]["template_id"], ids)
            one = [t for t in templates["items"] if t["id"] == root["log"]["template_id"]][0]
            self.assertGreaterEqual(one["count"], 2)
            status, _, fetched = server.json("GET", "/api/v1/logs/templates/" + urllib.parse.quote(one["id"]), token=token)
            self.assertEqual((status, fetched["template"]), (200, one["template"]))
            status, _, _ = server.json("GET", "/api/v1/logs/templates/nope", token=token)
            self.assertEqual(status, 404)
            status, _, _ = server.json("GET", "/api/v1/logs/templates?sort=sideways", token=token)
            self.assertEqual(status, 400)
            _, _, st = server.json("GET", "/api/v1/monitor/status", token=token)
            self.assertGreaterEqual(st["components"]["parser"]["templates"], 2)
            template_id = one["id"]
        finally:
            server.tmp = None  # keep the data directory for the restart
            server.stop()

        again = Server(env={"RATE_LIMIT_PER_MINUTE": "0"}, data_dir=data_dir)
        try:
            token = again.login()["access_token"]
            status, _, t = again.json("GET", "/api/v1/logs/templates/" + urllib.parse.quote(template_id), token=token)
            self.assertEqual(status, 200, "templates are restored at start")
            status, _, body = again.json("POST", "/api/v1/monitor/events",
                                         {"message": "Failed password for bob from 198.51.100.77 port 1234 ssh2"},
                                         token=token)
            self.assertEqual(status, 202)
            status, _, e = again.json("GET", "/api/v1/monitor/events/" + body["ids"][0], token=token)
            self.assertEqual(e["log"]["template_id"], template_id)
            self.assertNotIn("log.template_new", e.get("labels", {}))
        finally:
            again.stop()
            import shutil
            shutil.rmtree(keep, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
