#!/usr/bin/env python3
"""WebSocket fan-out under ingest load: CONNECTIONS subscribers hold live
connections (all but ACTIVE of them with a filter that matches nothing, so the
server still filters every event for every connection), ACTIVE of them receive
every event, while batches of 1,000 events are ingested at RATE events/s. Reports
the delay from each batch's 202 (acknowledgement) to each event's arrival at the
active clients (p50/p99), and the server's resident memory.

Usage: bench/ws_load.py --api URL --token T --pid PID [--connections 1000] [--active 4] [--rate 10000] [--seconds 10]
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from harness import WebSocket  # noqa: E402


def rss_mb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--active", type=int, default=4)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    port = int(args.api.rsplit(":", 1)[1])

    rss_before = rss_mb(args.pid)
    conns = []
    for i in range(args.connections):
        ws = WebSocket(port, "/api/v1/monitor/ws?token=" + args.token, timeout=30)
        assert ws.status == 101, ws.status
        ws.recv()  # subscribed
        if i >= args.active:
            ws.send(json.dumps({"type": "subscribe", "filters": {"categories": ["nothing-matches"]}}))
        else:
            ws.send(json.dumps({"type": "subscribe", "filters": {"kinds": ["events"]}}))
        ws.recv()
        conns.append(ws)
    rss_connected = rss_mb(args.pid)

    acks = {}  # batch number -> time of the 202
    arrivals = []  # (batch number, arrival time)
    lock = threading.Lock()
    stop = threading.Event()

    def reader(ws):
        while not stop.is_set():
            try:
                m = ws.recv()
            except Exception:
                return
            if m is None:
                return
            if m.get("type") == "event":
                batch = int(m["data"]["id"].split("-")[1])
                with lock:
                    arrivals.append((batch, time.time()))

    threads = [threading.Thread(target=reader, args=(ws,), daemon=True) for ws in conns[:args.active]]
    for t in threads:
        t.start()

    per_batch = 1000
    interval = per_batch / float(args.rate)
    body_lines = []
    n = 0
    t_end = time.time() + args.seconds
    next_at = time.time()
    sent_batches = 0
    while time.time() < t_end:
        lines = "\n".join(json.dumps({"id": "ws-%d-%d" % (sent_batches, i), "message": "ws load %d" % i,
                                      "event.category": "network"}) for i in range(per_batch)) + "\n"
        req = urllib.request.Request(args.api + "/api/v1/monitor/events", data=lines.encode(), method="POST",
                                     headers={"Authorization": "Bearer " + args.token,
                                              "Content-Type": "application/x-ndjson"})
        urllib.request.urlopen(req).read()
        with lock:
            acks[sent_batches] = time.time()
        sent_batches += 1
        next_at += interval
        delay = next_at - time.time()
        if delay > 0:
            time.sleep(delay)
    elapsed = args.seconds
    time.sleep(2)
    stop.set()
    rss_loaded = rss_mb(args.pid)
    with lock:
        delays = sorted(max(0.0, t - acks[b]) * 1000 for b, t in arrivals if b in acks)
    expected = sent_batches * per_batch * args.active
    p = lambda q: delays[min(len(delays) - 1, int(len(delays) * q))] if delays else float("nan")
    print("RESULT connections=%d active=%d ingested=%d (%.0f/s) delivered=%d/%d p50_ms=%.1f p99_ms=%.1f "
          "rss_idle_mb=%.1f rss_connected_mb=%.1f rss_loaded_mb=%.1f kb_per_connection=%.1f"
          % (args.connections, args.active, sent_batches * per_batch, sent_batches * per_batch / elapsed,
             len(delays), expected, p(0.5), p(0.99), rss_before, rss_connected, rss_loaded,
             (rss_connected - rss_before) * 1024 / args.connections))
    for ws in conns:
        ws.close()


if __name__ == "__main__":
    main()
