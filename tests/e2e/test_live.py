"""End-to-end tests of the live WebSocket stream."""

import json
import time
import unittest

from harness import Server, WebSocket


class LiveStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        cls.token = cls.server.login()["access_token"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def ingest(self, events):
        status, _, body = self.server.json("POST", "/api/v1/monitor/events", events, token=self.token)
        self.assertEqual(status, 202, body)
        return body

    def test_subscriber_receives_exactly_the_matching_events(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=" + self.token)
        try:
            self.assertEqual(ws.status, 101)
            self.assertEqual(ws.recv()["type"], "subscribed")
            ws.send(json.dumps({"type": "subscribe", "filters": {"categories": ["authentication"],
                                                                  "severity_min": "medium"}}))
            ack = ws.recv()
            self.assertEqual(ack["type"], "subscribed")
            self.assertEqual(ack["filters"]["categories"], ["authentication"])
            tag = "live%d" % time.time_ns()
            self.ingest([
                {"id": tag + "-1", "event.category": "authentication", "severity": "high", "message": "yes"},
                {"id": tag + "-2", "event.category": "network", "severity": "high", "message": "no: category"},
                {"id": tag + "-3", "event.category": "authentication", "severity": "low", "message": "no: severity"},
                {"id": tag + "-4", "event.category": "authentication", "severity": "critical", "message": "yes"},
            ])
            got = [ws.recv(), ws.recv()]
            self.assertEqual([m["type"] for m in got], ["event", "event"])
            self.assertEqual([m["data"]["id"] for m in got], [tag + "-1", tag + "-4"])
            # Nothing else arrives: the next message is the reply to our ping.
            ws.send(json.dumps({"type": "ping"}))
            self.assertEqual(ws.recv()["type"], "pong")
        finally:
            ws.close()

    def test_subprotocol_token_is_echoed(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws", protocols=["securityai.v1", "bearer." + self.token])
        try:
            self.assertEqual(ws.status, 101)
            self.assertEqual(ws.headers.get("sec-websocket-protocol"), "securityai.v1")
        finally:
            ws.close()

    def test_unauthenticated_upgrade_is_refused_before_the_handshake(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws")
        self.assertEqual(ws.status, 401)
        ws.close()
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=forged.token.value")
        self.assertEqual(ws.status, 401)
        ws.close()
        status, _, _ = self.server.request("GET", "/api/v1/monitor/ws", headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(status, 426)

    def test_bad_messages_get_errors_not_disconnects(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=" + self.token)
        try:
            ws.recv()
            for bad in ("not json", json.dumps({"type": "subscribe", "filters": {"nope": 1}}),
                        json.dumps({"type": "dance"}), json.dumps({"type": "subscribe", "filters": {"kinds": ["x"]}})):
                ws.send(bad)
                self.assertEqual(ws.recv()["type"], "error", bad)
            ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["metrics"]}}))
            self.assertEqual(ws.recv()["type"], "subscribed")
            metrics = ws.recv()  # pushed every 5 s
            self.assertEqual(metrics["type"], "metrics")
            self.assertIn("queue_depth", metrics["data"])
        finally:
            ws.close()

    def test_slow_client_is_told_it_lagged(self):
        ws = WebSocket(self.server.port, "/api/v1/monitor/ws?token=" + self.token, timeout=30)
        try:
            ws.recv()
            # Do not read while many events are published: the bounded queue overflows.
            for _ in range(10):
                self.ingest([{"message": "flood %d " % i + "x" * 4000} for i in range(1000)])
            kinds = set()
            for _ in range(20000):
                m = ws.recv()
                if m is None:
                    break
                kinds.add(m["type"])
                if "lagged" in kinds:
                    break
            self.assertIn("lagged", kinds)
        finally:
            ws.close()


if __name__ == "__main__":
    unittest.main()
