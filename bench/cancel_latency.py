#!/usr/bin/env python3
"""How soon a cancelled job ends: the figure behind the contract's "at most 5 s" (docs/asyncapi.yaml).

    python3 bench/cancel_latency.py [--jobs N] [--bin PATH]

Starts one bridge (local backend, its own prefix and journal), and for each of N jobs running
`sleep 600`: waits for `started`, publishes the cancel, and times the `canceled` and `ended` events
from the publish (confirmed) to their arrival at a pika consumer on loopback. Prints the median, p95
and max in ms. Deletes its queues and exchanges and stops its bridge on exit.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid

import pika

URL = os.environ.get("GOLEM_BRIDGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "golem-bridge"))
    args = parser.parse_args()
    prefix = f"bench-cancel-{uuid.uuid4().hex[:6]}"
    folder = tempfile.mkdtemp(prefix="golem-cancel-", dir="/tmp")
    os.chmod(folder, 0o755)
    work = os.path.join(folder, "work")
    bridge = subprocess.Popen([args.bin, "serve", "--prefix", prefix, "--journal", os.path.join(folder, "j.sqlite"),
                               "--work-root", work, "--concurrency", "2", "--log-level", "warning"],
                              stderr=open(os.path.join(folder, "bridge.log"), "wb"))
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.confirm_delivery()
    try:
        deadline = time.time() + 60
        while True:
            try:
                probe = pika.BlockingConnection(pika.URLParameters(URL))
                ready = probe.channel().queue_declare(f"{prefix}.jobs.submit", passive=True).method.consumer_count
                probe.close()
                if ready:
                    break
            except pika.exceptions.ChannelClosedByBroker:
                pass
            if time.time() > deadline:
                raise SystemExit("bridge not ready")
            time.sleep(0.1)
        queue = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(queue, f"{prefix}.events", "job.*.*")
        canceled, ended = [], []
        for n in range(args.jobs):
            job_id = f"c{n}"
            ch.basic_publish(f"{prefix}.jobs", "submit", json.dumps({"jobId": job_id, "work": [{"run": "sleep 600"}]}).encode())
            sent = None
            while True:
                method, _, body = ch.basic_get(queue, auto_ack=True)
                if method is None:
                    conn.sleep(0.001)
                    continue
                kind = json.loads(body)["data"]["event"]
                now = time.perf_counter()
                if kind == "started":
                    sent = time.perf_counter()
                    ch.basic_publish(f"{prefix}.control", f"job.{job_id}.cancel", b"", mandatory=True)
                elif kind == "canceled":
                    canceled.append((now - sent) * 1000)
                elif kind == "ended":
                    ended.append((now - sent) * 1000)
                    break

        def show(name, values):
            values = sorted(values)
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            print(f"{name:9} n={len(values)} median {statistics.median(values):.1f} ms  p95 {p95:.1f} ms  max {values[-1]:.1f} ms")
        show("canceled", canceled)
        show("ended", ended)
    finally:
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(timeout=60)
        for q in (f"{prefix}.jobs.submit", f"{prefix}.jobs.dead", f"{prefix}.control.status"):
            ch.queue_delete(q)
        for x in ("jobs", "events", "control", "jobs.dead"):
            ch.exchange_delete(f"{prefix}.{x}")
        conn.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
