"""End-to-end tests of the graph: `securityai demo` against a live server gives the
lateral-movement alert and the attack path from the exposed bastion to the database;
the asset API, the graph views, their errors, CSV import and restart persistence."""

import os
import shutil
import tempfile
import time
import unittest
import urllib.parse

from harness import Server, run_cli, wait_for


class GraphTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.token = cls.server.login()["access_token"]
        started = time.time()
        result = run_cli("demo", "--url", "http://127.0.0.1:%d" % cls.server.port, "--duration", "0", "--quiet",
                         env={"SECURITYAI_ADMIN_PASSWORD": cls.server.admin_password}, timeout=120)
        assert result.returncode == 0, result.stderr
        cls.demo_seconds = time.time() - started
        cls.demo_output = result.stdout

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def call(self, method, path, body=None, token=None):
        return self.server.json(method, path, body, token=token or self.token)

    def alerts(self, rule):
        status, _, page = self.call("GET", "/api/v1/alerts?rule=" + rule)
        self.assertEqual(status, 200, page)
        return page["items"]

    def test_demo_raises_the_lateral_movement_alert_with_its_path(self):
        self.assertLess(self.demo_seconds, 60)
        self.assertIn("assets", self.demo_output)
        alerts = wait_for(lambda: self.alerts("graph.lateral_movement"), timeout=15)
        self.assertEqual(len(alerts), 1, alerts)
        alert = alerts[0]
        self.assertEqual(alert["severity"], "critical")
        self.assertIn("lateral-movement", alert["tactics"])
        self.assertIn("T1021.004", alert["techniques"])
        self.assertEqual(alert["source"], "graph")
        self.assertIn("deploy", alert["entities"]["users"])
        self.assertIn("203.0.113.5", alert["entities"]["ips"])
        details = alert["evidence"]["details"][0]
        self.assertEqual(details["path"], ["203.0.113.5", "bastion-01", "app-02", "db-01"])
        self.assertEqual(len(alert["evidence"]["event_ids"]), 3)
        # The events it cites are stored.
        status, _, event = self.call("GET", "/api/v1/monitor/events/" + alert["evidence"]["event_ids"][-1])
        self.assertEqual(status, 200)
        self.assertEqual(event["user"]["name"], "deploy")
        # And the first-time admin connections along the way.
        admin = wait_for(lambda: self.alerts("graph.new_admin_connection"), timeout=15)
        self.assertEqual(len(admin), 2, admin)

    def test_attack_path_from_the_exposed_host_to_the_database(self):
        q = urllib.parse.urlencode({"source": "host:bastion-01", "target": "host:db-01", "k": 3})
        status, _, view = self.call("GET", "/api/v1/visualize/attack-paths?" + q)
        self.assertEqual(status, 200, view)
        best = view["paths"][0]
        self.assertEqual(best["nodes"], ["host:bastion-01", "host:app-02", "host:db-01"])
        self.assertEqual([s["port"] for s in best["steps"]], [22, 22])
        self.assertGreater(best["risk_score"], 0)
        probabilities = [p["probability"] for p in view["paths"]]
        self.assertEqual(probabilities, sorted(probabilities, reverse=True))
        ids = {n["id"] for n in view["nodes"]}
        self.assertTrue({"host:bastion-01", "host:app-02", "host:db-01"} <= ids)
        self.assertFalse(view["summary"]["truncated"])
        # Default entry points and targets: the bastion is exposed, the database critical.
        status, _, default = self.call("GET", "/api/v1/visualize/attack-paths?k=10")
        self.assertEqual(status, 200)
        self.assertIn(["host:bastion-01", "host:app-02", "host:db-01"], [p["nodes"] for p in default["paths"]])

    def test_attack_path_errors(self):
        for query, status in (("source=host:nowhere", 404), ("target=user:deploy", 400), ("k=0", 400),
                              ("k=21", 400), ("max_hops=11", 400), ("max_hops=x", 400)):
            got, _, body = self.call("GET", "/api/v1/visualize/attack-paths?" + query)
            self.assertEqual(got, status, (query, body))
            self.assertIn("error", body)
        # Nothing flows from the database back to the bastion: no path, and why.
        q = urllib.parse.urlencode({"source": "host:db-01", "target": "host:bastion-01"})
        status, _, view = self.call("GET", "/api/v1/visualize/attack-paths?" + q)
        self.assertEqual(status, 200)
        self.assertEqual(view["paths"], [])
        self.assertIn("reason", view["summary"])

    def test_topology_threat_map_and_user_behaviour(self):
        status, _, topo = self.call("GET", "/api/v1/visualize/network-topology?limit=5000&group_by=none")
        self.assertEqual(status, 200)
        self.assertFalse(topo["summary"]["aggregated"])
        self.assertIn("host:db-01", {n["id"] for n in topo["nodes"]})
        status, _, grouped = self.call("GET", "/api/v1/visualize/network-topology?limit=20")
        self.assertTrue(grouped["summary"]["aggregated"])
        self.assertIn("subnet:10.0.3.0/24", {n["id"] for n in grouped["nodes"]})
        status, _, sub = self.call("GET", "/api/v1/visualize/network-topology?subnet=10.0.3.0/24&min_bytes=1000000000")
        self.assertEqual(status, 200)
        self.assertEqual({(e["source"], e["target"]) for e in sub["edges"]}, {("host:db-01", "ext:203.0.113.5")})
        status, _, _ = self.call("GET", "/api/v1/visualize/network-topology?subnet=10.0.0.0/99")
        self.assertEqual(status, 400)

        status, _, tmap = self.call("GET", "/api/v1/visualize/threat-map")
        self.assertEqual(status, 200)
        countries = {c["country"]: c for c in tmap["countries"]}
        self.assertTrue(tmap["summary"]["geoip"])
        self.assertGreaterEqual(len(countries), 5)  # customers from around the world
        self.assertIsNotNone(countries["DE"]["latitude"])
        self.assertEqual(countries["unknown"]["failed_logons"], 40)  # the brute force (a documentation address)
        self.assertGreaterEqual(countries["unknown"]["alerts"], 1)

        status, _, users = self.call("GET", "/api/v1/visualize/user-behavior?limit=5")
        self.assertEqual(status, 200)
        self.assertEqual(users["users"][0]["user"], "deploy")
        status, _, one = self.call("GET", "/api/v1/visualize/user-behavior?user=deploy")
        self.assertEqual(status, 200)
        self.assertIn("new_host", {r for d in one["deviations"] for r in d["reasons"]})
        self.assertIn("host:db-01", {n["id"] for n in one["nodes"]})
        status, _, _ = self.call("GET", "/api/v1/visualize/user-behavior?user=nobody")
        self.assertEqual(status, 404)

    def test_login_at_an_hour_unusual_for_the_account_raises_an_alert(self):
        day0 = (int(time.time()) // 86400 - 12) * 86400 * 1000  # a midnight UTC, 12 days ago
        hour = 3600 * 1000

        def login(day, h, n):
            return {"id": "owl-%d-%d-%d" % (day, h, n), "@timestamp": day0 + (day * 24 + h) * hour,
                    "event.category": "authentication", "event.outcome": "success", "user.name": "night-owl",
                    "host.name": "app-07", "source.ip": "10.0.5.9", "message": "Accepted password for night-owl"}

        baseline = [login(day, h, 0) for day in range(10) for h in (9, 11, 13, 15)]
        status, _, body = self.call("POST", "/api/v1/monitor/events", baseline)
        self.assertEqual(status, 202, body)
        # The baseline is learnt once committed; then a 03:00 login stands out.
        self.assertTrue(wait_for(lambda: self.call("GET", "/api/v1/visualize/user-behavior?user=night-owl")[0] == 200
                                 and len(self.call("GET", "/api/v1/visualize/user-behavior?user=night-owl")[2]
                                         ["timeline"]) >= 40, 15))
        status, _, body = self.call("POST", "/api/v1/monitor/events", [login(10, 11, 1)])
        self.assertEqual(status, 202, body)
        status, _, body = self.call("POST", "/api/v1/monitor/events", [login(10, 3, 1)])
        self.assertEqual(status, 202, body)
        rule = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c10"
        mine = lambda: [a for a in self.alerts(rule) if "night-owl" in a["entities"].get("users", [])]  # noqa: E731
        alerts = wait_for(mine, 15)
        self.assertEqual(len(alerts), 1, alerts)
        self.assertEqual(alerts[0]["count"], 1)  # the 11:00 login stayed silent
        status, _, event = self.call("GET", "/api/v1/monitor/events/owl-10-3-1")
        self.assertEqual(status, 200)
        self.assertIn("unusual_hour", str(event))

    def test_assets_api(self):
        status, _, page = self.call("GET", "/api/v1/assets?tag=database")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(a["name"] for a in page["items"]), ["db-01", "db-02"])
        status, headers, asset = self.call("POST", "/api/v1/assets", {
            "name": "vpn-01", "ips": ["10.0.0.30"], "type": "network_device", "criticality": 4,
            "internet_facing": True, "owner": "netops", "tags": ["dmz"]})
        self.assertEqual(status, 201, asset)
        self.assertEqual(headers["Location"], "/api/v1/assets/" + asset["id"])
        self.assertFalse(asset["discovered"])
        status, _, err = self.call("POST", "/api/v1/assets", {"name": "vpn-01"})
        self.assertEqual(status, 409)
        for bad in ({"name": "x", "criticality": 6}, {"name": "x", "ips": ["300.1.1.1"]}, {"name": "x", "type": "toaster"},
                    {"criticality": 3}, {"name": "x", "colour": "red"}):
            status, _, err = self.call("POST", "/api/v1/assets", bad)
            self.assertEqual(status, 400, (bad, err))
        status, _, patched = self.call("PATCH", "/api/v1/assets/" + asset["id"], {"criticality": 5})
        self.assertEqual((status, patched["criticality"], patched["owner"]), (200, 5, "netops"))
        viewer = self.viewer_token()
        status, _, _ = self.call("POST", "/api/v1/assets", {"name": "nope"}, token=viewer)
        self.assertEqual(status, 403)
        status, _, _ = self.call("GET", "/api/v1/assets/" + asset["id"], token=viewer)
        self.assertEqual(status, 200)
        status, _, _ = self.call("DELETE", "/api/v1/assets/" + asset["id"])
        self.assertEqual(status, 204)
        status, _, _ = self.call("GET", "/api/v1/assets/" + asset["id"])
        self.assertEqual(status, 404)

    def viewer_token(self):
        if not hasattr(self.__class__, "_viewer"):
            status, _, _ = self.call("POST", "/api/v1/users",
                                     {"username": "graph-viewer", "password": "viewer-password-1", "role": "viewer"})
            self.assertIn(status, (201, 409))
            self.__class__._viewer = self.server.login("graph-viewer", "viewer-password-1")["access_token"]
        return self.__class__._viewer


class GraphPersistenceTest(unittest.TestCase):
    def test_csv_import_merges_seen_traffic_and_the_graph_survives_a_restart(self):
        keep = tempfile.mkdtemp(prefix="securityai-e2e-graph-")
        self.addCleanup(shutil.rmtree, keep, True)
        server = Server(data_dir=os.path.join(keep, "data"))
        try:
            token = server.login()["access_token"]
            events = "\n".join([
                '{"event.category": "network", "source.ip": "10.9.0.1", "destination.ip": "10.9.1.6", '
                '"destination.port": 5432, "source.bytes": 1000}',
                '{"event.category": "network", "source.ip": "10.9.7.7", "destination.ip": "10.9.1.5", '
                '"destination.port": 5432}'])
            status, _, _ = server.request("POST", "/api/v1/monitor/events", body=events.encode(),
                                          headers={"Content-Type": "application/x-ndjson",
                                                   "Authorization": "Bearer " + token})
            self.assertEqual(status, 202)
            # The inventory arrives after the traffic, from another process.
            csv_path = os.path.join(keep, "assets.csv")
            with open(csv_path, "w") as f:
                f.write("name,ips,type,criticality,internet_facing,owner,tags\n")
                f.write('gw-01,10.9.0.1,network_device,4,true,netops,"edge;dmz"\n')
                f.write("crm-db,10.9.1.5;10.9.1.6,server,5,false,sales,crm\n")
                f.write("broken,999.1.1.1,server,3,false,,\n")
            result = run_cli("assets", "import", csv_path, "--data-dir", server.data_dir)
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)  # one row rejected
            self.assertIn("2 created, 0 updated, 1 rejected", result.stdout)
            self.assertIn(":4:", result.stderr)
            status, _, page = server.json("GET", "/api/v1/assets?q=crm", token=token)
            self.assertEqual([a["ips"] for a in page["items"]], [["10.9.1.5", "10.9.1.6"]])

            def path_to_crm():
                s, _, v = server.json("GET", "/api/v1/visualize/attack-paths?target=host:crm-db", token=token)
                return v if s == 200 and v["paths"] else None
            view = wait_for(path_to_crm, timeout=25, interval=0.5)  # the server reloads assets every 10 s
            self.assertTrue(view, "the imported assets never reached the graph")
            self.assertEqual(view["paths"][0]["nodes"], ["host:gw-01", "host:crm-db"])

            data_dir = server.data_dir
            server.stop()  # SIGTERM: the graph is snapshotted, discovered assets stored
            server = Server(data_dir=data_dir)
            token = server.login()["access_token"]
            status, _, view = server.json("GET", "/api/v1/visualize/attack-paths?target=host:crm-db", token=token)
            self.assertEqual(status, 200, view)
            self.assertEqual(view["paths"][0]["nodes"], ["host:gw-01", "host:crm-db"])
            status, _, found = server.json("GET", "/api/v1/assets?discovered=true", token=token)
            self.assertEqual([a["name"] for a in found["items"]], ["10.9.7.7"])
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
