#!/usr/bin/env python3
"""The ingest benchmarks' request body: 1,000 realistic NDJSON events without ids (so every
one is new), the same every time (seeded). `bench/ingest_body.py OUT` writes it to OUT;
bench/cluster_ingest.py imports write_body()."""

import json
import random
import sys


def write_body(path):
    random.seed(7)
    users = ["root", "admin", "alice", "bob", "carol", "svc-backup"]
    lines = []
    for i in range(1000):
        lines.append(json.dumps({
            "event_type": random.choice(["login", "logout", "network_connection", "file_access"]),
            "source_ip": "10.%d.%d.%d" % (random.randrange(256), random.randrange(256), random.randrange(1, 255)),
            "destination_ip": "192.168.%d.%d" % (random.randrange(256), random.randrange(1, 255)),
            "user": random.choice(users), "host": "host-%02d" % random.randrange(40),
            "bytes_transferred": random.randrange(100000), "severity": random.choice(["low", "medium", "high"]),
            "event.category": random.choice(["authentication", "network", "file"]),
            "event.outcome": random.choice(["success", "failure"]),
            "message": "Failed password for %s from 10.0.0.%d port %d ssh2" % (random.choice(users), i % 250, 1024 + i),
        }))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_body(sys.argv[1])
