"""End-to-end tests of the ML integration: automatic first training, scoring of
ingested events (ml.* fields, explanations, ml.anomaly alerts), the training API
(jobs, status, history, cancel, failures, 400/403), the model registry
(activation and rollback) and the ML and drift metrics."""

import datetime
import os
import shutil
import sqlite3
import tempfile
import time
import unittest

from harness import Server, wait_for

AUTO_TRAIN_EVENTS = 600
NORMAL_EVENTS = 900


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


SPACING = 150  # seconds: the baseline covers more than a day, as time-of-day is a feature
MESSAGES = ["connection accepted", "session opened for user", "dns query answered",
            "connection closed by peer after idle timeout"]
PORTS = [443, 443, 443, 80, 22, 53]


def normal_event(i, ts, prefix="n"):
    """Ordinary traffic with some variety: web, ssh and DNS, a few failures."""
    port = PORTS[i % 6]
    return {"id": "%s-%06d" % (prefix, i), "@timestamp": iso(ts),
            "event": {"category": "network", "type": "connection", "action": "allowed",
                      "outcome": "failure" if i % 13 == 0 else "success", "severity": 2 if i % 3 == 0 else 1,
                      "duration": (i % 50 + 1) * 1000000},
            "source": {"ip": "10.0.0.%d" % (i % 30 + 1), "port": 49152 + (i * 7919) % 16000,
                       "bytes": 500 + (i * 7919) % 5000},
            "destination": {"ip": "10.0.1.%d" % (i % 7 + 1), "port": port, "bytes": 1000 + (i * 104729) % 20000},
            "network": {"transport": "udp" if port == 53 else "tcp"}, "user": {"name": "user%d" % (i % 20)},
            "host": {"name": "web%d" % (i % 5)}, "message": MESSAGES[i % 4]}


def anomalous_event(i, ts):
    return {"id": "anomaly-%04d" % i, "@timestamp": iso(ts),
            "event": {"category": "authentication", "type": "start", "action": "logon", "outcome": "failure",
                      "severity": 4, "duration": 900000000000},
            "source": {"ip": "203.0.113.66", "port": 1234, "bytes": 80000000},
            "destination": {"ip": "10.9.9.%d" % i, "port": 4444 + i, "bytes": 3},
            "network": {"transport": "udp"}, "user": {"name": "intruder"}, "host": {"name": "db-secret"},
            "message": "authentication failure for intruder from 203.0.113.66 with an unusually long message"}


class MlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0",
                                 "ML_AUTO_TRAIN_EVENTS": str(AUTO_TRAIN_EVENTS)})
        cls.token = cls.server.login()["access_token"]
        tokens = {}
        for name, role in (("vera", "viewer"), ("andy", "analyst")):
            status, _, body = cls.server.json("POST", "/api/v1/users", {"username": name, "password": name + "-password-1",
                                                                        "role": role}, token=cls.token)
            assert status == 201, (status, body)
            tokens[role] = cls.server.login(name, name + "-password-1")["access_token"]
        cls.viewer = tokens["viewer"]
        cls.analyst = tokens["analyst"]
        cls.now = time.time()
        # Before any event: no model, and the status says the detector will train itself.
        _, _, status = cls.server.json("GET", "/api/v1/monitor/status", token=cls.viewer)
        cls.initial_models = status["components"]["models"]
        status, _, body = cls.server.json("POST", "/api/v1/monitor/events",
                                          [normal_event(0, cls.now - 10 * 86400, "pre")], token=cls.token)
        assert status == 202, body
        _, _, cls.pre_event = cls.server.json("GET", "/api/v1/monitor/events/pre-000000", token=cls.token)
        # A baseline of normal traffic: the first training starts by itself.
        cls.start = cls.now - (NORMAL_EVENTS + 40) * SPACING
        events = [normal_event(i, cls.start + i * SPACING) for i in range(NORMAL_EVENTS)]
        for first in range(0, len(events), 300):
            status, _, body = cls.server.json("POST", "/api/v1/monitor/events", events[first:first + 300],
                                              token=cls.token)
            assert status == 202, body

        def active():
            _, _, s = cls.server.json("GET", "/api/v1/monitor/status", token=cls.viewer)
            return s["components"]["models"]["active"]["anomaly_detector"]

        assert wait_for(active, timeout=60), "no automatic training"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def call(self, method, path, body=None, token=None):
        return self.server.json(method, path, body, token=token or self.token)

    def ingest(self, events):
        for start in range(0, len(events), 300):
            status, _, body = self.call("POST", "/api/v1/monitor/events", events[start:start + 300])
            self.assertEqual(status, 202, body)

    def wait_job(self, training_id, timeout=60):
        job = {}

        def finished():
            nonlocal job
            status, _, job = self.call("GET", "/api/v1/train/status/" + training_id)
            self.assertEqual(status, 200, job)
            return job["state"] not in ("queued", "running")

        self.assertTrue(wait_for(finished, timeout=timeout, interval=0.1), job)
        return job

    def models_status(self):
        status, _, body = self.call("GET", "/api/v1/monitor/status", token=self.viewer)
        self.assertEqual(status, 200, body)
        return body["components"]["models"]

    def test_lifecycle(self):
        first = self.initial_models
        self.assertEqual(first["state"], "none", first)
        self.assertIn(str(AUTO_TRAIN_EVENTS), first["detail"])
        self.assertNotIn("anomaly_score", self.pre_event.get("ml", {}))  # no model then
        start = self.start
        status, _, history = self.call("GET", "/api/v1/train/history")
        self.assertEqual(status, 200, history)
        auto = [j for j in history["items"] if j["automatic"]]
        self.assertEqual(len(auto), 1, history)
        self.assertEqual(auto[0]["state"], "succeeded", auto[0])
        self.assertEqual(auto[0]["progress"], 100)
        self.assertTrue(auto[0]["results"][0]["promoted"])
        v1 = auto[0]["results"][0]["model_id"]
        status, _, models = self.call("GET", "/api/v1/models", token=self.viewer)
        self.assertEqual(status, 200)
        self.assertEqual(models["active"], {"anomaly_detector": v1, "threat_classifier": None})
        m = [m for m in models["items"] if m["id"] == v1][0]
        self.assertEqual((m["model"], m["type"], m["version"], m["status"]),
                         ("anomaly_detector", "isolation_forest", 1, "active"))
        self.assertEqual(m["feature_schema"], {"name": "event", "version": 1})
        self.assertGreaterEqual(m["rows"], AUTO_TRAIN_EVENTS * 0.8 - 1)

        # Normal traffic scores low without explanations; the burst scores high with them.
        normals = [normal_event(i, start + i * SPACING, "after") for i in range(NORMAL_EVENTS, NORMAL_EVENTS + 40)]
        anomalies = [anomalous_event(i, start + (NORMAL_EVENTS + i * 2) * SPACING + SPACING / 2) for i in range(15)]
        self.ingest(normals + anomalies)
        normal_scores, flagged = [], 0
        for e in normals:
            status, _, got = self.call("GET", "/api/v1/monitor/events/" + e["id"], token=self.viewer)
            self.assertEqual(status, 200, got)
            normal_scores.append(got["ml"]["anomaly_score"])
            flagged += 1 if got["ml"].get("explanation") else 0
        self.assertLessEqual(flagged, 2)
        for e in anomalies:
            status, _, got = self.call("GET", "/api/v1/monitor/events/" + e["id"], token=self.viewer)
            self.assertEqual(status, 200, got)
            self.assertGreater(got["ml"]["anomaly_score"], max(normal_scores), got)
            self.assertRegex(got["ml"]["explanation"], r"^[a-z_]+=[+-]\d")
        status, _, found = self.call("GET", "/api/v1/monitor/events?anomaly_min=%f" % (max(normal_scores) + 1e-9))
        self.assertTrue({e["id"] for e in anomalies} <= {e["id"] for e in found["items"]})

        def ml_alert():
            status, _, alerts = self.call("GET", "/api/v1/alerts?rule=ml.anomaly", token=self.viewer)
            return alerts["items"] if status == 200 else []

        self.assertTrue(wait_for(lambda: any("203.0.113.66" in a["entities"]["ips"] for a in ml_alert()), timeout=10))
        alert = [a for a in ml_alert() if "203.0.113.66" in a["entities"]["ips"]][0]
        self.assertEqual((alert["source"], alert["rule_id"]), ("ml", "ml.anomaly"))
        self.assertIn("intruder", alert["entities"]["users"])
        self.assertTrue(set(alert["evidence"]["event_ids"]) & {e["id"] for e in anomalies}, alert)

        # Training through the API, forced over the active model.
        status, _, job = self.call("POST", "/api/v1/train", {
            "models": ["anomaly_detector"], "params": {"anomaly_detector": {"n_estimators": 60, "random_state": 4}},
            "window": {"from": iso(start - 1), "to": iso(self.now)}, "force": True})
        self.assertEqual(status, 202, job)
        self.assertIn(job["state"], ("queued", "running"))
        done = self.wait_job(job["training_id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["results"][0]["reason"], "forced")
        v2 = done["results"][0]["model_id"]
        status, _, models = self.call("GET", "/api/v1/models")
        by_id = {m["id"]: m for m in models["items"]}
        self.assertEqual((by_id[v1]["status"], by_id[v2]["status"]), ("retired", "active"))
        self.assertEqual(by_id[v2]["params"]["n_estimators"], "60")
        self.assertIsNotNone(by_id[v2]["training_window"]["from"])
        self.assertEqual(by_id[v2]["training_id"], job["training_id"])
        self.assertGreater(by_id[v2]["holdout"]["rows"], 0)
        self.assertNotIn("window_from", by_id[v2]["params"])

        # Rollback: activating the older version.
        status, _, body = self.call("POST", "/api/v1/models/%s/activate" % v1)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "active")
        self.assertEqual(self.models_status()["active"]["anomaly_detector"], v1)
        status, _, _ = self.call("POST", "/api/v1/models/%s/activate" % v2, token=self.analyst)
        self.assertEqual(status, 403)
        status, _, _ = self.call("POST", "/api/v1/models/no-such-model/activate")
        self.assertEqual(status, 404)

        # Figures.
        status, _, figures = self.call("GET", "/api/v1/metrics/ml", token=self.viewer)
        self.assertEqual(status, 200, figures)
        self.assertEqual(figures["models"]["anomaly_detector"]["id"], v1)
        self.assertGreaterEqual(figures["events_scored"], len(normals) + len(anomalies))
        self.assertGreaterEqual(figures["anomalies"], len(anomalies))
        self.assertGreater(figures["inference_latency_seconds"]["p50"], 0)
        self.assertEqual(sum(b["count"] for b in figures["score_histogram"]), figures["events_scored"])
        status, _, drift = self.call("GET", "/api/v1/metrics/drift", token=self.viewer)
        self.assertEqual(status, 200, drift)
        self.assertEqual(drift["models"][0]["model_id"], v1)
        features = {f["feature"]: f for f in drift["models"][0]["features"]}
        self.assertIn("bytes_out_log", features)
        self.assertTrue(all(f["status"] in ("ok", "warning", "drift") for f in features.values()))
        self.assertIn(drift["models"][0]["status"], ("ok", "warning", "drift"))
        self.assertIsNotNone(drift["models"][0]["scores"])
        self.assertGreaterEqual(drift["window"]["events"], len(normals) + len(anomalies))
        status, _, everything = self.call("GET", "/api/v1/metrics", token=self.viewer)
        self.assertEqual(everything["ml"]["models"]["anomaly_detector"]["id"], v1)
        _, _, text = self.server.request("GET", "/metrics")
        text = text.decode()
        self.assertIn("securityai_ml_inference_seconds_count", text)
        self.assertIn("securityai_ml_anomalies_total", text)

        # The ml_performance report lists the registry's versions.
        status, _, report = self.call("POST", "/api/v1/reports/generate",
                                      {"type": "ml_performance", "format": "json", "from": iso(start), "to": iso(time.time() + 60)})
        self.assertEqual(status, 202, report)
        data = {}

        def ready():
            nonlocal data
            status, _, raw = self.server.request("GET", "/api/v1/reports/" + report["id"],
                                                 headers={"Authorization": "Bearer " + self.token})
            data = raw
            return status == 200

        self.assertTrue(wait_for(ready, timeout=30), data)
        text = data.decode()
        self.assertNotIn("No model is registered", text)
        for model_id in (v1, v2):
            self.assertIn(model_id, text)

    def test_cancel(self):
        big = {"models": ["anomaly_detector"], "params": {"anomaly_detector": {"n_estimators": 5000}}}
        status, _, a = self.call("POST", "/api/v1/train", big)
        self.assertEqual(status, 202, a)
        status, _, b = self.call("POST", "/api/v1/train", big)
        self.assertEqual(status, 202, b)
        for job in (b, a):
            status, _, body = self.call("POST", "/api/v1/train/%s/cancel" % job["training_id"])
            self.assertIn(status, (200, 409), body)
        done_b = self.wait_job(b["training_id"])
        self.assertEqual(done_b["state"], "cancelled", done_b)
        done_a = self.wait_job(a["training_id"])
        self.assertEqual(done_a["state"], "cancelled", done_a)
        status, _, body = self.call("POST", "/api/v1/train/%s/cancel" % b["training_id"])
        self.assertEqual(status, 409, body)
        status, _, _ = self.call("POST", "/api/v1/train/no-such-job/cancel")
        self.assertEqual(status, 404)

    def test_classifier_without_labels_fails_clearly(self):
        status, _, job = self.call("POST", "/api/v1/train", {"models": ["threat_classifier"]})
        self.assertEqual(status, 202, job)
        done = self.wait_job(job["training_id"])
        self.assertEqual(done["state"], "failed", done)
        self.assertTrue("labelled by alert verdicts" in done["error"] or "no events" in done["error"], done["error"])

    def test_bad_requests_are_400(self):
        for bad in ({}, {"models": []}, {"models": ["neural_net"]},
                    {"models": ["anomaly_detector"], "params": {"anomaly_detector": {"n_estimators": "many"}}},
                    {"models": ["anomaly_detector"], "params": {"anomaly_detector": {"max_features": 0}}},
                    {"models": ["anomaly_detector"], "params": {"unknown_model": {}}},
                    {"models": ["anomaly_detector"], "window": {"from": "yesterday"}},
                    {"models": ["anomaly_detector"], "window": {"from": "2026-11-02T00:00:00Z",
                                                                "to": "2026-11-01T00:00:00Z"}},
                    {"models": ["anomaly_detector"], "epochs": 3}):
            status, _, body = self.call("POST", "/api/v1/train", bad)
            self.assertEqual(status, 400, (bad, body))
        status, _, _ = self.call("GET", "/api/v1/train/status/no-such-job")
        self.assertEqual(status, 404)
        status, _, body = self.call("GET", "/api/v1/train/history?limit=0")
        self.assertEqual(status, 400, body)

    def test_training_is_admin_only(self):
        for token in (self.viewer, self.analyst):
            status, _, _ = self.call("POST", "/api/v1/train", {"models": ["anomaly_detector"]}, token=token)
            self.assertEqual(status, 403)
            status, _, _ = self.call("GET", "/api/v1/train/history", token=token)
            self.assertEqual(status, 403)
        status, _, _ = self.call("GET", "/api/v1/models", token=self.viewer)
        self.assertEqual(status, 200)
        status, _, _ = self.call("GET", "/api/v1/train/history")
        self.assertEqual(status, 200)


def query(db, sql):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as conn:
        return conn.execute(sql).fetchall()


class MlRestartTest(unittest.TestCase):
    def test_models_and_the_active_version_survive_a_restart(self):
        env = {"RATE_LIMIT_PER_MINUTE": "0", "ML_AUTO_TRAIN_EVENTS": "300"}
        data_dir = tempfile.mkdtemp(prefix="securityai-e2e-ml-")  # outlives the first server
        self.addCleanup(shutil.rmtree, data_dir, True)
        server = Server(env=env, data_dir=data_dir)
        try:
            token = server.login()["access_token"]
            start = time.time() - 400 * SPACING
            status, _, body = server.json("POST", "/api/v1/monitor/events",
                                          [normal_event(i, start + i * SPACING) for i in range(350)], token=token)
            self.assertEqual(status, 202, body)
            self.assertTrue(wait_for(lambda: server.json("GET", "/api/v1/models", token=token)[2]["active"]
                                     ["anomaly_detector"], timeout=60))
            status, _, job = server.json("POST", "/api/v1/train", {"models": ["anomaly_detector"], "force": True},
                                         token=token)
            self.assertEqual(status, 202, job)
            self.assertTrue(wait_for(lambda: server.json("GET", "/api/v1/train/status/" + job["training_id"],
                                                         token=token)[2]["state"] == "succeeded", timeout=60))
            status, _, _ = server.json("POST", "/api/v1/models/isolation_forest-v1/activate", token=token)
            self.assertEqual(status, 200)
            _, _, before = server.json("GET", "/api/v1/models", token=token)
        finally:
            server.stop()
        again = Server(env=env, data_dir=data_dir)
        try:
            token = again.login()["access_token"]
            _, _, after = again.json("GET", "/api/v1/models", token=token)
            self.assertEqual(after, before)
            self.assertEqual(after["active"]["anomaly_detector"], "isolation_forest-v1")
            # The jobs are in the store (migration 7): status and history survive too.
            status, _, old_job = again.json("GET", "/api/v1/train/status/" + job["training_id"], token=token)
            self.assertEqual(status, 200, old_job)
            self.assertEqual(old_job["state"], "succeeded")
            self.assertEqual(old_job["results"][0]["model_id"], "isolation_forest-v2")
            _, _, history = again.json("GET", "/api/v1/train/history", token=token)
            self.assertEqual([j["automatic"] for j in history["items"]], [False, True])
            self.assertIn((7, "ml"), query(os.path.join(data_dir, "securityai.db"),
                                           "SELECT version, name FROM schema_migrations"))
            self.assertEqual(query(os.path.join(data_dir, "securityai.db"),
                                   "SELECT id, status FROM ml_models ORDER BY id"),
                             [("isolation_forest-v1", "active"), ("isolation_forest-v2", "retired")])
            _, _, status = again.json("GET", "/api/v1/monitor/status", token=token)
            self.assertEqual(status["components"]["models"]["state"], "active")
            status, _, _ = again.json("POST", "/api/v1/monitor/events",
                                      [normal_event(400, start + 400 * SPACING, "restart")], token=token)
            self.assertEqual(status, 202)
            _, _, event = again.json("GET", "/api/v1/monitor/events/restart-000400", token=token)
            self.assertIn("anomaly_score", event["ml"])
            _, _, drift = again.json("GET", "/api/v1/metrics/drift", token=token)
            self.assertEqual(drift["models"][0]["model_id"], "isolation_forest-v1")
            self.assertNotEqual(drift["models"][0]["status"], "unknown", drift)  # the baseline was found
        finally:
            again.stop()


if __name__ == "__main__":
    unittest.main()
