"""Starts the real securityai binary for end-to-end tests.

The server listens on 127.0.0.1 with port 0 (a free port the OS picks) and a
temporary data directory; the port is read from its JSON "listening" log line.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("SECURITYAI_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "securityai")


class Server:
    def __init__(self, args=(), env=None, config_text=None, data_dir=None, admin_password="admin-password-e2e",
                 scheme="http"):
        self.scheme = scheme
        self.admin_password = admin_password
        self.tmp = tempfile.mkdtemp(prefix="securityai-e2e-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        cmd = [BIN, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data_dir]
        if config_text is not None:
            path = os.path.join(self.tmp, "securityai.toml")
            with open(path, "w") as f:
                f.write(config_text)
            cmd += ["--config", path]
        cmd += list(args)
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("PORT", "HOST", "DATA_DIR", "ENVIRONMENT", "SECRET_KEY", "LOG_LEVEL",
                                 "SECURITYAI_ADMIN_PASSWORD", "RATE_LIMIT_PER_MINUTE", "SYSLOG_PORT")}
        if admin_password:
            full_env["SECURITYAI_ADMIN_PASSWORD"] = admin_password
        full_env["SYSLOG_PORT"] = "0"  # tests run in parallel: never a fixed port
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
        self.lines = []
        self.port = None
        self.syslog_port = None
        self._lock = threading.Lock()
        ready = threading.Event()

        def pump():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with self._lock:
                    self.lines.append(line)
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "syslog listening":
                    self.syslog_port = int(entry["address"].rsplit(":", 1)[1])
                if entry.get("msg") == "listening":
                    self.port = entry["port"]
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not ready.wait(30) or self.port is None:
            if self.proc.poll() is None:
                self.proc.kill()
            err = self.proc.stderr.read().decode()
            self.stop()
            raise RuntimeError("server did not start: " + err)

    def log_entries(self):
        with self._lock:
            lines = list(self.lines)
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def connection(self, timeout=10):
        if self.scheme == "https":
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def json(self, method, path, body=None, token=None, headers=None):
        """A JSON request: returns (status, headers, parsed body or None)."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = "Bearer " + token
        status, rh, raw = self.request(method, path, body=data, headers=h)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, rh, parsed

    def login(self, username="admin", password=None):
        status, _, body = self.json("POST", "/api/v1/auth/login",
                                    {"username": username, "password": password or self.admin_password})
        assert status == 200, (status, body)
        return body

    def stdout_text(self):
        with self._lock:
            return "\n".join(self.lines)

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def raw(self, payload, timeout=10, read_until_close=True):
        """Sends raw bytes and returns everything the server answers until it closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (e.g. 413) and stopped reading
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
            return b"".join(chunks)

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def split_response(raw):
    """Parses one raw HTTP/1.1 response: (status, headers dict lower-cased, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return status, headers, body


def run_cli(*args, env=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("PORT", "HOST", "DATA_DIR", "ENVIRONMENT", "SECRET_KEY", "LOG_LEVEL")}
    full_env.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=full_env, timeout=timeout)


def wait_for(predicate, timeout=10, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
