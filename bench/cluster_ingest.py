#!/usr/bin/env python3
"""Ingest throughput through nginx with one and with two `securityai serve` nodes on
PostgreSQL + Redis (all started here on 127.0.0.1, as the cluster integration test does).
wrk POSTs NDJSON batches of 1,000 new events through nginx; each 202 means 1,000 events
committed to PostgreSQL. Every process shares this machine's cores: the figure shows the
cost of the cluster path, not what two machines would do.

    bench/cluster_ingest.py [duration] [connections]      (default 10s 8)
"""

import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(here, "..", "tests", "e2e"))
os.environ.setdefault("SECURITYAI_BIN", os.path.join(here, "..", "build", "securityai"))
from harness import Server  # noqa: E402
from servers import Nginx, Postgres, Redis  # noqa: E402
sys.path.insert(0, here)
from ingest_body import write_body  # noqa: E402

duration = sys.argv[1] if len(sys.argv) > 1 else "10s"
connections = sys.argv[2] if len(sys.argv) > 2 else "8"
password = "bench-admin-password-1"


def run(nodes_count):
    pg, redis = Postgres(), Redis()
    nodes, lb = [], None
    try:
        shared = os.path.join(pg.dir, "shared-data")
        env = {"POSTGRES_URL": pg.url, "REDIS_URL": redis.url, "SECRET_KEY": "bench-cluster-secret-0123456789abcdef",
               "RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0",
               "ACCESS_LOG": "false"}
        nodes = [Server(env=env, data_dir=shared, admin_password=password) for _ in range(nodes_count)]
        lb = Nginx([n.port for n in nodes])
        token = nodes[0].login()["access_token"]
        tmp = tempfile.mkdtemp(prefix="sai-bench-cluster-")
        write_body(os.path.join(tmp, "body.ndjson"))
        with open(os.path.join(tmp, "post.lua"), "w") as f:
            f.write('local f = io.open("%s/body.ndjson", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\n'
                    'f:close()\nwrk.headers["Content-Type"] = "application/x-ndjson"\n'
                    'wrk.headers["Authorization"] = "Bearer %s"\n' % (tmp, token))
        out = subprocess.run(["wrk", "-t2", "-c" + connections, "-d" + duration, "--latency", "-s",
                              os.path.join(tmp, "post.lua"), "http://127.0.0.1:%d/api/v1/monitor/events" % lb.port],
                             stdout=subprocess.PIPE, text=True, timeout=600).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
        stored = int(pg.psql("SELECT count(*) FROM events"))
        print("RESULT nodes=%d committed_events_per_sec=%d p99=%s non_2xx=%s stored=%d"
              % (nodes_count, round(rps * 1000), p99, non2xx.group(1) if non2xx else 0, stored))
    finally:
        if lb:
            lb.close()
        for n in nodes:
            n.stop()
        redis.close()
        pg.close()


for count in (1, 2):
    run(count)
