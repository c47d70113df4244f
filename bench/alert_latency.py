#!/usr/bin/env python3
"""Time from the last syslog line of an SSH brute-force burst to its alert on the
WebSocket. Starts a server (build/securityai), subscribes to alerts, then sends
BURSTS bursts of 12 failed logins over syslog TCP, each from a new address, and
measures, per burst, the time from writing its last line to receiving the first
alert naming that address. Prints p50/p99/max.
Usage: bench/alert_latency.py [BURSTS]"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from harness import Server, WebSocket  # noqa: E402
import json  # noqa: E402

bursts = int(sys.argv[1]) if len(sys.argv) > 1 else 50
server = Server(env={"RATE_LIMIT_PER_MINUTE": "0", "RATE_LIMIT_INGEST_PER_MINUTE": "0"})
try:
    token = server.login()["access_token"]
    ws = WebSocket(server.port, "/api/v1/monitor/ws?token=" + token)
    ws.recv()
    ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["alerts"]}}))
    ws.recv()
    conn = socket.create_connection(("127.0.0.1", server.syslog_port))
    latencies = []
    for b in range(bursts):
        ip = "198.18.%d.%d" % (b // 250, b % 250 + 1)
        lines = "".join("<38>1 - web-1 sshd 4242 - - Failed password for root from %s port %d ssh2\n" % (ip, 40000 + i)
                        for i in range(12))
        conn.sendall(lines.encode())
        sent = time.time()
        while True:
            msg = ws.recv()
            if msg and msg.get("type") == "alert" and ip in msg["data"]["entities"]["ips"]:
                latencies.append((time.time() - sent) * 1000)
                break
        time.sleep(0.2)  # let the other alerts of this burst arrive before the next one
        ws.sock.settimeout(0.05)
        try:
            while ws.recv():
                pass
        except (socket.timeout, OSError, ConnectionError):
            pass
        ws.sock.settimeout(10)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print("bursts=%d alert_latency_ms p50=%.1f p99=%.1f max=%.1f" % (len(latencies), p(0.5), p(0.99), latencies[-1]))
finally:
    server.stop()
