#!/usr/bin/env python3
"""Syslog load: sends RFC 3164 lines over TCP (newline framing) or UDP to a running
server for a fixed time, then reads the server's metrics to report messages
stored per second and, for UDP, how many datagrams were dropped.

Usage: bench/syslog_load.py --port P --token T [--udp] [--seconds 10] [--api http://127.0.0.1:8000]
"""
import argparse
import json
import socket
import time
import urllib.request


def metrics(api, token):
    req = urllib.request.Request(api + "/api/v1/monitor/metrics", headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--api", default="http://127.0.0.1:8000")
    args = ap.parse_args()

    before = metrics(args.api, args.token)
    lines = [("<38>Nov 17 22:14:%02d web-%02d sshd[%d]: Failed password for root from 10.0.%d.%d port %d ssh2"
              % (i % 60, i % 40, 1000 + i, i % 256, i % 250, 1024 + i)).encode() for i in range(1000)]
    sent = 0
    deadline = time.time() + args.seconds
    t0 = time.time()
    if args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = ("127.0.0.1", args.port)
        while time.time() < deadline:
            for line in lines:
                s.sendto(line, target)
            sent += len(lines)
    else:
        s = socket.create_connection(("127.0.0.1", args.port))
        chunk = b"\n".join(lines) + b"\n"
        while time.time() < deadline:
            s.sendall(chunk)  # blocks when the server stops reading: TCP backpressure
            sent += len(lines)
        s.close()
    elapsed = time.time() - t0
    # Let the pipeline finish what it took in.
    stored_before = before["events_total"]
    last = -1
    for _ in range(120):
        now = metrics(args.api, args.token)["events_total"]
        if now == last:
            break
        last = now
        time.sleep(0.5)
    after = metrics(args.api, args.token)
    stored = after["events_total"] - stored_before
    dropped = after["pipeline"]["dropped"] - before["pipeline"]["dropped"]
    proto = "udp" if args.udp else "tcp"
    print("RESULT proto=%s sent=%d stored=%d lost=%d dropped_counted=%d seconds=%.1f sent_per_sec=%.0f stored_per_sec=%.0f"
          % (proto, sent, stored, sent - stored, dropped, elapsed, sent / elapsed, stored / elapsed))


if __name__ == "__main__":
    main()
