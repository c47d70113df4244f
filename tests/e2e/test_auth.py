"""End-to-end tests of authentication, RBAC, rate limiting and the audit log."""

import json
import os
import sqlite3
import subprocess
import tempfile
import shutil
import unittest

from harness import Server, run_cli


def error_code(body):
    return body["error"]["code"]


class AuthFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_login_me_refresh_logout(self):
        s = self.server
        tokens = s.login()
        self.assertEqual(tokens["token_type"], "bearer")
        self.assertEqual(tokens["expires_in"], 1800)
        status, headers, me = s.json("GET", "/api/v1/auth/me", token=tokens["access_token"])
        self.assertEqual(status, 200)
        self.assertEqual(me["username"], "admin")
        self.assertEqual(me["role"], "admin")
        self.assertIsNotNone(me["last_login"])
        self.assertIn("created_at", me)
        self.assertEqual(headers["Cache-Control"], "no-store")

        status, _, fresh = s.json("POST", "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(fresh["refresh_token"], tokens["refresh_token"])
        self.assertEqual(s.json("GET", "/api/v1/auth/me", token=fresh["access_token"])[0], 200)

        status, _, _ = s.json("POST", "/api/v1/auth/logout", token=fresh["access_token"])
        self.assertEqual(status, 204)
        status, headers, body = s.json("GET", "/api/v1/auth/me", token=fresh["access_token"])
        self.assertEqual(status, 401)
        self.assertIn("revoked", body["error"]["message"])
        status, _, _ = s.json("POST", "/api/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]})
        self.assertEqual(status, 401, "logout revokes the refresh family")

    def test_form_encoded_login_like_oauth2(self):
        status, _, raw = self.server.request(
            "POST", "/api/v1/auth/login", body=b"username=admin&password=" + self.server.admin_password.encode() +
            b"&grant_type=password", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        self.assertIn("access_token", json.loads(raw))

    def test_refresh_token_reuse_revokes_the_family(self):
        s = self.server
        first = s.login()
        second = s.json("POST", "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})[2]
        status, _, _ = s.json("POST", "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
        self.assertEqual(status, 401)
        status, _, _ = s.json("POST", "/api/v1/auth/refresh", {"refresh_token": second["refresh_token"]})
        self.assertEqual(status, 401, "the stolen family is dead")

    def test_no_token_is_401_with_challenge(self):
        status, headers, body = self.server.json("GET", "/api/v1/auth/me")
        self.assertEqual(status, 401)
        self.assertTrue(headers["WWW-Authenticate"].startswith("Bearer"))
        self.assertEqual(error_code(body), "unauthenticated")

    def test_malformed_credentials_are_4xx_never_5xx(self):
        s = self.server
        for value in ("Bearer", "Bearer ", "Basic abc", "Bearer a.b", "Bearer a.b.c.d", "Bearer !!!.???.***",
                      "Bearer " + "a" * 5000, "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                      "bearer \u00e9\u00e9\u00e9".encode("utf-8").decode("latin-1")):
            status, _, body = s.json("GET", "/api/v1/auth/me", headers={"Authorization": value})
            self.assertEqual(status, 401, value[:40])
            self.assertEqual(error_code(body), "unauthenticated")

    def test_bad_login_bodies_are_400_or_401(self):
        s = self.server
        cases = [
            (b"not json", "application/json", 400),
            (b"[1,2]", "application/json", 400),
            (b'{"username": 5, "password": "x"}', "application/json", 400),
            (b'{"username": "admin"}', "application/json", 400),
            (json.dumps({"username": "a" * 100000, "password": "x"}).encode(), "application/json", 400),
            (json.dumps({"username": "admin\u0000", "password": "x"}).encode(), "application/json", 401),
            (json.dumps({"username": "' OR 1=1 --", "password": "x"}).encode(), "application/json", 401),
            (b"username=%zz", "application/x-www-form-urlencoded", 400),
        ]
        for body, ctype, expected in cases:
            status, _, raw = s.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": ctype})
            self.assertIn(status, (expected, 413), body[:60])
            self.assertIn("error", json.loads(raw))

    def test_viewer_gets_403_on_a_write_and_it_is_audited(self):
        s = self.server
        admin = s.login()["access_token"]
        status, _, user = s.json("POST", "/api/v1/users", {"username": "viola", "password": "viola-password-1",
                                                           "role": "viewer"}, token=admin)
        self.assertEqual(status, 201, user)
        self.assertEqual(user["role"], "viewer")
        self.assertNotIn("password", json.dumps(user))
        viewer = s.login("viola", "viola-password-1")["access_token"]
        status, _, body = s.json("POST", "/api/v1/users", {"username": "x", "password": "xxxxxxxxxxxxx"},
                                 token=viewer)
        self.assertEqual(status, 403)
        self.assertEqual(error_code(body), "permission_denied")
        self.assertIn("admin", body["error"]["message"])
        status, _, audit = s.json("GET", "/api/v1/audit?outcome=denied", token=admin)
        self.assertEqual(status, 200)
        self.assertTrue(any(e["actor"] == "user:viola" and e["action"] == "auth.permission" for e in audit["items"]))

    def test_user_management(self):
        s = self.server
        admin = s.login()["access_token"]
        status, _, u = s.json("POST", "/api/v1/users", {"username": "anna", "password": "anna-password-1",
                                                        "role": "analyst"}, token=admin)
        self.assertEqual(status, 201)
        for bad in ({"username": "bad name", "password": "long-enough-pw"},
                    {"username": "bob2", "password": "short"},
                    {"username": "bob2", "password": "bob2"},
                    {"username": "bob2", "password": "long-enough-pw", "role": "root"},
                    {"username": "bob2", "password": "long-enough-pw", "extra": 1}):
            status, _, body = s.json("POST", "/api/v1/users", bad, token=admin)
            self.assertEqual(status, 400, bad)
        status, _, body = s.json("POST", "/api/v1/users", {"username": "ANNA", "password": "long-enough-pw"},
                                 token=admin)
        self.assertEqual(status, 409)
        anna = s.login("anna", "anna-password-1")["access_token"]
        status, _, changed = s.json("PATCH", "/api/v1/users/" + u["id"], {"role": "viewer"}, token=admin)
        self.assertEqual(status, 200)
        self.assertEqual(changed["role"], "viewer")
        self.assertEqual(s.json("GET", "/api/v1/auth/me", token=anna)[0], 401, "role change signs the user out")
        status, _, page = s.json("GET", "/api/v1/users?limit=1", token=admin)
        self.assertEqual(len(page["items"]), 1)
        self.assertIsNotNone(page["next_cursor"])
        status, _, page2 = s.json("GET", "/api/v1/users?limit=1&cursor=" + page["next_cursor"], token=admin)
        self.assertNotEqual(page2["items"][0]["id"], page["items"][0]["id"])
        self.assertEqual(s.json("GET", "/api/v1/users?cursor=%%%", token=admin)[0], 400)
        self.assertEqual(s.json("DELETE", "/api/v1/users/" + u["id"], token=admin)[0], 204)
        self.assertEqual(s.json("GET", "/api/v1/users/" + u["id"], token=admin)[0], 404)
        me = s.json("GET", "/api/v1/auth/me", token=admin)[2]
        status, _, body = s.json("DELETE", "/api/v1/users/" + me["id"], token=admin)
        self.assertEqual(status, 409)

    def test_api_keys(self):
        s = self.server
        admin = s.login()["access_token"]
        status, _, key = s.json("POST", "/api/v1/api-keys", {"name": "log-shipper", "role": "analyst"}, token=admin)
        self.assertEqual(status, 201)
        secret = key["key"]
        self.assertTrue(secret.startswith("sk_"))
        status, _, me = s.json("GET", "/api/v1/auth/me", headers={"X-API-Key": secret})
        self.assertEqual(status, 200)
        self.assertEqual(me["kind"], "api_key")
        self.assertEqual(me["role"], "analyst")
        self.assertEqual(s.json("GET", "/api/v1/auth/me", token=secret)[0], 200)
        self.assertEqual(s.json("GET", "/api/v1/users", token=secret)[0], 403)
        status, _, listed = s.json("GET", "/api/v1/api-keys", token=admin)
        self.assertNotIn(secret, json.dumps(listed), "the key is shown only once")
        self.assertEqual(s.json("DELETE", "/api/v1/api-keys/" + key["id"], token=admin)[0], 204)
        self.assertEqual(s.json("GET", "/api/v1/auth/me", headers={"X-API-Key": secret})[0], 401)

    def test_secrets_never_reach_the_log(self):
        s = self.server
        tokens = s.login()
        s.json("POST", "/api/v1/auth/login", {"username": "admin", "password": "a-wrong-password-xyz"})
        s.json("GET", "/api/v1/auth/me", token=tokens["access_token"])
        text = s.stdout_text()
        for secret in (s.admin_password, "a-wrong-password-xyz", tokens["access_token"], tokens["refresh_token"]):
            self.assertNotIn(secret, text)


class RateLimitTest(unittest.TestCase):
    def test_101st_request_in_a_minute_is_429(self):
        s = Server()
        try:
            token = s.login()["access_token"]
            for i in range(100):
                status, headers, _ = s.json("GET", "/api/v1/auth/me", token=token)
                self.assertEqual(status, 200, i)
            self.assertEqual(headers["RateLimit-Limit"], "100")
            status, headers, body = s.json("GET", "/api/v1/auth/me", token=token)
            self.assertEqual(status, 429)
            self.assertEqual(error_code(body), "rate_limited")
            self.assertGreaterEqual(int(headers["Retry-After"]), 1)
            self.assertEqual(headers["RateLimit-Remaining"], "0")
            self.assertEqual(s.request("GET", "/health")[0], 200, "health is not rate limited")
        finally:
            s.stop()

    def test_lockout_after_five_bad_passwords(self):
        s = Server(env={"RATE_LIMIT_PER_MINUTE": "0"})
        try:
            for _ in range(5):
                status, _, body = s.json("POST", "/api/v1/auth/login", {"username": "admin", "password": "nope-nope-nope"})
                self.assertEqual(status, 401)
            status, headers, body = s.json("POST", "/api/v1/auth/login",
                                           {"username": "admin", "password": s.admin_password})
            self.assertEqual(status, 429)
            self.assertGreater(int(headers["Retry-After"]), 800)
            unknown = s.json("POST", "/api/v1/auth/login", {"username": "ghost", "password": "nope-nope-nope"})
            self.assertEqual(unknown[0], 401)
            self.assertEqual(unknown[2]["error"]["message"], "invalid username or password")
        finally:
            s.stop()


class BootstrapTest(unittest.TestCase):
    def test_generated_admin_password_is_printed_once(self):
        s = Server(admin_password=None)
        data_dir = s.data_dir
        try:
            s.signal()
            s.wait(15)
            err = s.proc.stderr.read().decode()
            self.assertIn("username: admin", err)
            password = [line.split("password:")[1].strip() for line in err.splitlines() if "password:" in line][0]
            self.assertNotIn(password, s.stdout_text(), "printed, never logged")
            keep = tempfile.mkdtemp()
            shutil.copytree(data_dir, os.path.join(keep, "data"))
        finally:
            s.stop()
        again = Server(admin_password=None, data_dir=os.path.join(keep, "data"))
        try:
            self.assertEqual(again.login("admin", password)["token_type"], "bearer")
            again.signal()
            again.wait(15)
            self.assertNotIn("password:", again.proc.stderr.read().decode())
        finally:
            again.stop()
            shutil.rmtree(keep, ignore_errors=True)


class TlsTest(unittest.TestCase):
    def test_https_with_a_self_signed_certificate(self):
        d = tempfile.mkdtemp()
        try:
            cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
            s = Server(env={"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key}, scheme="https")
            try:
                status, _, body = s.request("GET", "/health")
                self.assertEqual(status, 200)
                token = s.login()["access_token"]
                self.assertEqual(s.json("GET", "/api/v1/auth/me", token=token)[0], 200)
                plain = s.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
                self.assertNotIn(b"200 OK", plain, "no plain HTTP on the TLS port")
            finally:
                s.stop()
            r = run_cli("serve", "--port", "0", "--data-dir", os.path.join(d, "x"),
                        env={"TLS_CERT_FILE": os.path.join(d, "missing.pem"), "TLS_KEY_FILE": key})
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("tls.cert_file", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class AuditCliTest(unittest.TestCase):
    def test_user_cli_and_audit_verify_detects_tampering(self):
        d = tempfile.mkdtemp()
        data = os.path.join(d, "data")
        try:
            r = subprocess.run([os.environ.get("SECURITYAI_BIN", "../../build/securityai"), "user", "add", "carol",
                                "--role", "analyst", "--data-dir", data], input="carol-password-1\n",
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_cli("user", "list", "--data-dir", data)
            self.assertIn("carol", r.stdout)
            self.assertIn("analyst", r.stdout)
            self.assertEqual(run_cli("user", "role", "carol", "viewer", "--data-dir", data).returncode, 0)
            self.assertEqual(run_cli("user", "disable", "carol", "--data-dir", data).returncode, 0)
            self.assertIn("disabled", run_cli("user", "list", "--data-dir", data).stdout)
            self.assertNotEqual(run_cli("user", "role", "nobody", "admin", "--data-dir", data).returncode, 0)

            s = Server(data_dir=data)
            try:
                s.login()
                s.json("POST", "/api/v1/auth/login", {"username": "carol", "password": "carol-password-1"})
            finally:
                s.stop()
            ok = run_cli("audit", "verify", "--data-dir", data)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn("intact", ok.stdout)

            db = sqlite3.connect(os.path.join(data, "securityai.db"))
            db.execute("UPDATE audit_log SET detail = 'nothing happened here' WHERE seq = 2")
            db.commit()
            db.close()
            broken = run_cli("audit", "verify", "--data-dir", data)
            self.assertEqual(broken.returncode, 1)
            self.assertIn("entry 2", broken.stdout)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
