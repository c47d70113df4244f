"""End-to-end tests of the securityai server: the real binary, real sockets."""

import json
import os
import re
import signal
import socket
import threading
import time
import unittest

from harness import Server, run_cli, split_response, wait_for

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def error_of(body):
    doc = json.loads(body)
    err = doc["error"]
    assert set(err) == {"code", "message", "request_id"}, err
    return err


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(config_text='[http]\ncors_origins = ["https://console.example"]\n')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_health_is_the_seed_contract(self):
        status, headers, body = self.server.request("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "healthy", "version": "1.0.0", "environment": "development"})
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertRegex(headers["X-Request-Id"], UUID_RE)

    def test_client_request_id_is_echoed_and_logged(self):
        status, headers, _ = self.server.request("GET", "/health", headers={"X-Request-Id": "e2e-trace-1"})
        self.assertEqual(headers["X-Request-Id"], "e2e-trace-1")
        entry = wait_for(lambda: next((e for e in self.server.log_entries()
                                       if e.get("msg") == "request" and e.get("request_id") == "e2e-trace-1"), None))
        self.assertIsNotNone(entry, "access log line for the request")
        self.assertEqual(entry["method"], "GET")
        self.assertEqual(entry["path"], "/health")
        self.assertEqual(entry["status"], 200)
        self.assertIn("duration_ms", entry)
        self.assertIn("bytes", entry)

    def test_malformed_request_id_is_replaced(self):
        _, headers, _ = self.server.request("GET", "/health", headers={"X-Request-Id": "a" * 200})
        self.assertRegex(headers["X-Request-Id"], UUID_RE)

    def test_openapi_json_is_openapi_31_with_every_route(self):
        status, headers, body = self.server.request("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        doc = json.loads(body)
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertEqual(doc["info"]["version"], "1.0.0")
        for path in ("/health", "/openapi.json", "/docs", "/redoc"):
            self.assertIn(path, doc["paths"])

    def test_swagger_ui_is_served_offline(self):
        status, headers, body = self.server.request("GET", "/docs")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
        page = body.decode()
        self.assertNotIn("https://", page)
        for asset, ctype in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page) and [
                (a, None) for a in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page)]:
            st, h, data = self.server.request("GET", asset)
            self.assertEqual(st, 200, asset)
            self.assertGreater(len(data), 0, asset)
            if asset.endswith(".js"):
                self.assertTrue(h["Content-Type"].startswith("text/javascript"), asset)
            if asset.endswith(".css"):
                self.assertTrue(h["Content-Type"].startswith("text/css"), asset)

    def test_redoc_is_served_offline(self):
        status, headers, body = self.server.request("GET", "/redoc")
        self.assertEqual(status, 200)
        self.assertIn("/redoc/assets/redoc.standalone.js", body.decode())
        st, h, data = self.server.request("GET", "/redoc/assets/redoc.standalone.js")
        self.assertEqual(st, 200)
        self.assertGreater(len(data), 100_000)
        self.assertTrue(h["Content-Type"].startswith("text/javascript"))

    def test_unknown_route_is_404_json(self):
        status, headers, body = self.server.request("GET", "/api/v1/nothing-here")
        self.assertEqual(status, 404)
        err = error_of(body)
        self.assertEqual(err["code"], "not_found")
        self.assertEqual(err["request_id"], headers["X-Request-Id"])

    def test_wrong_method_is_405_with_allow(self):
        status, headers, body = self.server.request("DELETE", "/health")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD, OPTIONS")
        self.assertEqual(error_of(body)["code"], "method_not_allowed")

    def test_oversize_body_is_413_before_it_is_read(self):
        raw = self.server.raw(b"POST /api/v1/monitor/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 2000000\r\n\r\n" + b"{" * 1000)
        status, headers, body = split_response(raw)
        self.assertEqual(status, 413)
        self.assertEqual(error_of(body)["code"], "payload_too_large")
        self.assertEqual(headers.get("connection"), "close")

    def test_oversize_chunked_body_is_413(self):
        chunk = b"x" * 65536
        payload = b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        payload += (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 20 + b"0\r\n\r\n"
        status, _, body = split_response(self.server.raw(payload))
        # The route does not take POST, so the server may refuse by method or by size,
        # but never reads more than its limit and always answers JSON.
        self.assertIn(status, (405, 413))
        error_of(body)

    def test_malformed_http_is_400_json(self):
        for payload in (b"GARBAGE\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n", b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
                        b"GET /health HTTP/1.1\r\nContent-Length: abc\r\n\r\n"):
            status, _, body = split_response(self.server.raw(payload))
            self.assertEqual(status, 400, payload)
            self.assertEqual(error_of(body)["code"], "malformed_request")

    def test_huge_headers_are_431(self):
        payload = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n"
        status, _, body = split_response(self.server.raw(payload))
        self.assertEqual(status, 431)
        self.assertEqual(error_of(body)["code"], "header_too_large")

    def test_bad_percent_encoding_is_400(self):
        status, _, body = self.server.request("GET", "/docs/assets/%zz")
        self.assertIn(status, (400, 404))
        error_of(body)

    def test_head_has_headers_but_no_body(self):
        raw = self.server.raw(b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _, rest = raw.partition(b"\r\n\r\n")
        self.assertIn(b"200 OK", head)
        self.assertIn(b"Content-Length: 66", head)
        self.assertEqual(rest, b"")

    def test_keep_alive_and_pipelining_answer_in_order(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
                      b"GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n"
                      b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: third\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        ids = re.findall(rb"X-Request-Id: (\w+)", data)
        statuses = re.findall(rb"HTTP/1.1 (\d+)", data)
        self.assertEqual(ids, [b"first", b"second", b"third"])
        self.assertEqual(statuses, [b"200", b"404", b"200"])

    def test_cors_preflight_for_configured_origin(self):
        status, headers, _ = self.server.request("OPTIONS", "/health", headers={
            "Origin": "https://console.example", "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "https://console.example")
        self.assertIn("GET", headers["Access-Control-Allow-Methods"])
        status, headers, body = self.server.request("OPTIONS", "/health", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 403)
        self.assertNotIn("Access-Control-Allow-Origin", headers)

    def test_parallel_clients_are_all_served(self):
        results = []

        def worker():
            for _ in range(20):
                results.append(self.server.request("GET", "/health")[0])

        threads = [threading.Thread(target=worker) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 200)


class SlowClientTest(unittest.TestCase):
    def test_slow_headers_are_cut_off_while_others_are_served(self):
        server = Server(config_text="[http]\nheader_timeout_ms = 1000\n")
        try:
            slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            started = time.time()
            for _ in range(5):
                t0 = time.time()
                status, _, _ = server.request("GET", "/health")
                self.assertEqual(status, 200)
                # Well under the 1 s header timeout: the slow client does not hold others up.
                self.assertLess(time.time() - t0, 0.9, "a slow client must not delay others")
            answer = b""
            while True:
                chunk = slow.recv(65536)
                if not chunk:
                    break
                answer += chunk
            elapsed = time.time() - started
            slow.close()
            status, headers, body = split_response(answer)
            self.assertEqual(status, 408)
            self.assertEqual(error_of(body)["code"], "request_timeout")
            self.assertLess(elapsed, 5)
        finally:
            server.stop()

    def test_idle_keep_alive_connection_is_closed(self):
        server = Server(config_text="[http]\nidle_timeout_ms = 500\n")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                first = s.recv(65536)
                self.assertIn(b"200 OK", first)
                t0 = time.time()
                self.assertEqual(s.recv(65536), b"")  # closed by the server
                self.assertLess(time.time() - t0, 5)
        finally:
            server.stop()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_in_flight_request_finish_and_exits_zero(self):
        server = Server()
        try:
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            busy = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            busy.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # request begun, headers not finished
            time.sleep(0.2)
            server.signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(server.proc.poll(), "must wait for the in-flight request")
            self.assertEqual(idle.recv(100), b"", "idle connections are closed at once")
            busy.sendall(b"X-Request-Id: late\r\n\r\n")
            answer = b""
            while True:
                chunk = busy.recv(65536)
                if not chunk:
                    break
                answer += chunk
            status, headers, body = split_response(answer)
            self.assertEqual(status, 200)
            self.assertEqual(headers["x-request-id"], "late")
            self.assertEqual(headers["connection"], "close")
            self.assertEqual(server.wait(15), 0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", server.port), timeout=2)
            msgs = [e.get("msg") for e in server.log_entries()]
            self.assertIn("shutting down", msgs)
            self.assertIn("stopped", msgs)
        finally:
            server.stop()

    def test_sigint_exits_zero(self):
        server = Server()
        try:
            server.signal(signal.SIGINT)
            self.assertEqual(server.wait(15), 0)
        finally:
            server.stop()


class StoreHealthTest(unittest.TestCase):
    def test_health_is_503_naming_storage_when_database_disappears(self):
        server = Server()
        try:
            self.assertEqual(server.request("GET", "/health")[0], 200)
            os.remove(os.path.join(server.data_dir, "securityai.db"))
            answer = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(server.request("GET", "/health")), 5)
            self.assertIsNotNone(answer)
            doc = json.loads(answer[2])
            self.assertEqual(doc["status"], "unhealthy")
            self.assertEqual(doc["components"], {"storage": "unhealthy"})
            self.assertNotIn(server.data_dir, answer[2].decode(), "paths stay in the log")
        finally:
            server.stop()

    def test_data_survives_restart_and_migrations_are_not_reapplied(self):
        import shutil
        import tempfile
        keep_root = tempfile.mkdtemp()
        keep = os.path.join(keep_root, "data")
        try:
            first = Server(data_dir=keep)
            try:
                self.assertIn("migration applied", [e.get("msg") for e in first.log_entries()])
                first.signal(signal.SIGTERM)
                self.assertEqual(first.wait(15), 0)
            finally:
                first.stop()
            again = Server(data_dir=keep)
            try:
                self.assertEqual(again.request("GET", "/health")[0], 200)
                self.assertNotIn("migration applied", [e.get("msg") for e in again.log_entries()])
            finally:
                again.stop()
        finally:
            shutil.rmtree(keep_root, ignore_errors=True)


class ConfigAndCliTest(unittest.TestCase):
    def test_version(self):
        r = run_cli("version")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.strip(), "securityai 1.0.0")

    def test_help_lists_subcommands(self):
        r = run_cli("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("serve", "migrate", "version"):
            self.assertIn(cmd, r.stdout)

    def test_unknown_flag_is_a_clear_error(self):
        r = run_cli("serve", "--bogus")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--bogus", r.stderr + r.stdout)

    def test_invalid_environment_value_fails_fast_naming_the_key(self):
        r = run_cli("serve", env={"PORT": "eighty"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("PORT", r.stderr)
        self.assertIn("http.port", r.stderr)

    def test_production_refuses_default_secret(self):
        r = run_cli("serve", env={"ENVIRONMENT": "production"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("SECRET_KEY", r.stderr)
        r = run_cli("serve", env={"ENVIRONMENT": "production", "SECRET_KEY": "too-short"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("32 bytes", r.stderr)

    def test_port_in_use_is_a_clear_error(self):
        server = Server()
        try:
            r = run_cli("serve", "--port", str(server.port), "--data-dir", os.path.join(server.tmp, "other"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot listen", r.stderr)
        finally:
            server.stop()

    def test_migrate_applies_and_reports(self):
        import tempfile
        import shutil
        d = tempfile.mkdtemp()
        try:
            r = run_cli("migrate", "--status", "--data-dir", os.path.join(d, "data"))
            self.assertNotEqual(r.returncode, 0, "status on a fresh directory: migrations pending")
            self.assertIn("securityai migrate", r.stderr)
            r = run_cli("migrate", "--data-dir", os.path.join(d, "data"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"schema version \d+ \(up to date\)")
            r = run_cli("migrate", "--status", "--data-dir", os.path.join(d, "data"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("instance settings", r.stdout)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
