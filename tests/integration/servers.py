"""Real servers for integration tests, started here on 127.0.0.1 in temporary
directories (never as system services) and stopped by the test: PostgreSQL,
Redis and nginx, as ../shared/STACK.md describes. Each class starts its server in
the constructor, offers stop()/start() so a test can take it down and bring it
back, and close() removes everything."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _tail(path, n=2000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


def _postgres_unavailable_reason():
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        return "PostgreSQL is not installed (scripts/install-deps.sh installs it)"
    if os.getuid() == 0:
        # PostgreSQL refuses root, so it runs as the postgres user, who must be able to
        # reach its programs: not so in a chroot whose root directory is mode 0700.
        r = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "initdb"), "--version"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            return "the postgres user cannot run PostgreSQL here: " + r.stdout.decode(errors="replace").strip()
    return ""


class Postgres:
    """PostgreSQL 15 as the postgres user (it refuses root), trust auth, fsync off."""

    unavailable_reason = _postgres_unavailable_reason()
    available = not unavailable_reason

    def __init__(self, database="securityai"):
        self.dir = tempfile.mkdtemp(prefix="sai-pg-")
        self.port = free_port()
        self.database = database
        self._as_postgres = os.getuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"])
        self.start()
        self._run([os.path.join(PG_BIN, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                   database])

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def url(self):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, self.database)

    def _run(self, cmd, check=True):
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed: %s\n%s" % (cmd, r.stdout.decode(errors="replace"),
                                                      _tail(os.path.join(self.dir, "pg.log"))))
        return r

    def start(self):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "pg.log"), "-o",
                   "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
                   % (self.port, self.dir), "-w", "start"])

    def stop(self, mode="fast"):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"], check=False)

    def psql(self, sql):
        """Runs SQL through psql and returns its unaligned, tuples-only output."""
        r = self._run(["/usr/bin/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                       self.database, "-At", "-c", sql])
        return r.stdout.decode().strip()

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """redis-server without persistence."""

    available = shutil.which("redis-server") is not None

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sai-redis-")
        self.port = free_port()
        self.proc = None
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                                      self.dir, "--save", "", "--appendonly", "no"],
                                     stdout=self.log, stderr=self.log)
        if not wait_port(self.port):
            raise RuntimeError("redis-server did not start: " + _tail(os.path.join(self.dir, "redis.log")))
        # The port was free when picked; another test's server may have taken it since.
        if self.proc.poll() is not None or os.path.realpath(self.dir) not in self.cli("CONFIG", "GET", "dir"):
            self.stop()
            raise RuntimeError("redis-server could not bind port %d: %s" % (self.port,
                                                                            _tail(os.path.join(self.dir, "redis.log"))))

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), stdout=subprocess.PIPE, timeout=30)
        return r.stdout.decode().strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)
        self.log.close()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx:
    """nginx as a load balancer in front of the given upstream ports, proxying HTTP
    and WebSocket upgrades. `config` may replace the generated configuration."""

    available = shutil.which("nginx") is not None or os.path.exists("/usr/sbin/nginx")

    def __init__(self, upstream_ports, config=None):
        self.dir = tempfile.mkdtemp(prefix="sai-nginx-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        # Workers of a root master run as nobody: they must reach their temp directories
        # (request bodies over the memory buffer, large responses), which nginx creates.
        os.chmod(self.dir, 0o755)
        with open(self.conf, "w") as f:
            f.write(config or self.default_config(upstream_ports))
        self.start()

    def default_config(self, upstream_ports):
        servers = "".join("    server 127.0.0.1:%d max_fails=1 fail_timeout=2s;\n" % p for p in upstream_ports)
        d = self.dir
        return """%(user)sworker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(d)s/body;
  proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fastcgi;
  uwsgi_temp_path %(d)s/uwsgi;
  scgi_temp_path %(d)s/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream securityai {
%(servers)s    keepalive 32;
  }
  server {
    listen 127.0.0.1:%(port)d;
    client_max_body_size 16m;
    location / {
      proxy_pass http://securityai;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header Host $host;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_read_timeout 300s;
    }
  }
}
""" % {"d": d, "servers": servers, "port": self.port, "user": "user nobody nogroup;\n" if os.getuid() == 0 else ""}

    def _nginx(self, *args):
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        return subprocess.run([exe, "-p", self.dir, "-c", self.conf, "-e", os.path.join(self.dir, "error.log")]
                              + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)

    def start(self):
        r = self._nginx()
        if r.returncode != 0 or not wait_port(self.port):
            raise RuntimeError("nginx did not start: %s %s" % (r.stdout.decode(errors="replace"),
                                                              _tail(os.path.join(self.dir, "error.log"))))

    def stop(self):
        self._nginx("-s", "quit")

    def close(self):
        self.stop()
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)
