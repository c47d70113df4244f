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
        self.syslog_udp_port = None
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
                    # With SYSLOG_PORT=0 UDP and TCP share one number unless another process
                    # holds it for TCP: keep both. syslog_port is the TCP one.
                    port = int(entry["address"].rsplit(":", 1)[1])
                    if entry.get("source") == "syslog-udp":
                        self.syslog_udp_port = port
                    else:
                        self.syslog_port = port
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


class WebSocket:
    """A minimal RFC 6455 client (stdlib only): text frames, masking, ping/pong, close."""

    def __init__(self, port, path, protocols=None, headers=None, timeout=10):
        import base64
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ")[1]) if head else 0
        self.headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.rest = b""

    def send(self, text):
        import struct
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _read(self, n):
        while len(self.rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.rest += chunk
        out, self.rest = self.rest[:n], self.rest[n:]
        return out

    def recv(self):
        """The next text message as parsed JSON; None when the server closes."""
        import struct
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0f
            if op in (0x1, 0x0):  # text, or a continuation of it
                parts.append(payload)
                if b0 & 0x80:  # FIN
                    return json.loads(b"".join(parts))
                continue
            if op == 0x8:
                self.close_payload = payload
                return None
            if op == 0x9:  # ping: answer with pong
                mask = os.urandom(4)
                self.sock.sendall(bytes([0x8a, 0x80 | len(payload)]) + mask +
                                  bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
