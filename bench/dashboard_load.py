#!/usr/bin/env python3
"""The dashboard under load: N jobs of `true` at once through one bridge with --http-address, one
GET /api/events reader attached the whole time. Prints one JSON line: how many events the reader got,
how many jobs the board kept, the bridge's VmRSS before and after, and the API's median latencies.

  GOLEM_BRIDGE_BIN=$(swift build --show-bin-path)/golem-bridge python3 bench/dashboard_load.py [N]

Needs the broker (scripts/broker start); uses a prefix of its own and deletes it after.
"""
import http.client
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from conftest import Bridge, Client, delete_topology, job  # noqa: E402
from test_dashboard import free_port  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2100
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="dashboard-load-"))
    prefix = "dl" + uuid.uuid4().hex[:8]
    port = free_port()
    bridge = Bridge(tmp, prefix, concurrency=8, extra=["--http-address", f"127.0.0.1:{port}", "--log-level", "warning"]).start()

    def rss():
        with open(f"/proc/{bridge.proc.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

    received = {"job": 0, "ended": 0}

    def read_feed():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/events")
        for raw in conn.getresponse():
            line = raw.decode()
            if line.startswith("event: job"):
                received["job"] += 1
            if line.startswith("data:") and '"kind":"ended"' in line:
                received["ended"] += 1

    threading.Thread(target=read_feed, daemon=True).start()
    client = Client(prefix)
    try:
        time.sleep(1)
        before = rss()
        client.follow("job.*.ended")
        ids = [f"load{i:05d}" for i in range(n)]
        started = time.time()
        for job_id in ids:
            client.submit(job(job_id, {"run": "true"}))
        client.events(until_ended=ids, timeout=1800)
        elapsed = time.time() - started
        time.sleep(1)

        def median_ms(path, rounds=20):
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
                times.append(time.perf_counter() - t)
            return round(statistics.median(times) * 1000, 2)

        kept = len(json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs?limit=5000"))["jobs"])
        print(json.dumps({
            "jobs": n, "elapsed_s": round(elapsed, 1), "feed_job_events": received["job"], "feed_ended": received["ended"],
            "board_jobs": kept, "rss_before_kib": before, "rss_after_kib": rss(),
            "api_jobs_2000_ms": median_ms("/api/jobs?limit=2000"), "api_jobs_ms": median_ms("/api/jobs"),
            "api_stats_ms": median_ms("/api/stats"),
        }))
    finally:
        client.close()
        bridge.terminate()
        delete_topology(prefix)


if __name__ == "__main__":
    main()
