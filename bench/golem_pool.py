#!/usr/bin/env python3
"""Jobs/s and per-job latency of `serve --backend golem` with the rental pool against one agreement
per job (`--pool-max 0`), on the local Golem network (scripts/golem-local + the provider agent).

    bench/golem_pool.py --binary .build/release/golem-bridge --jobs 40 --concurrency 4 \
        --provider-cmd "golem-bridge provider ..."      # the provider agent, started and stopped here

Prints one JSON line per mode. Every wait is bounded; queues are deleted afterwards.
"""
import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from conftest import delete_topology  # noqa: E402

AMQP_URL = os.environ.get("BENCH_AMQP_URL_PIKA", "amqp://guest:guest@127.0.0.1:5672/%2F")


def golem_env(directory):
    env = {}
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            if line.startswith("export "):
                k, _, v = line[len("export "):].strip().partition("=")
                env[k] = v.strip("'\"")
    return env


def run_mode(args, genv, pool_max):
    prefix = f"gb{uuid.uuid4().hex[:8]}"
    workdir = tempfile.mkdtemp(prefix="bench-golem-")
    env = dict(os.environ, GOLEM_BRIDGE_YAGNA_APPKEY=genv["YAGNA_APPKEY"])
    cmd = [args.binary, "serve", "--backend", "golem", "--prefix", prefix,
           "--journal", os.path.join(workdir, "journal.sqlite"), "--concurrency", str(args.concurrency),
           "--yagna-api-url", genv["YAGNA_API_URL"], "--payment-platform", genv["GOLEM_LOCAL_PAYMENT_PLATFORM"],
           "--subnet", genv.get("GOLEM_LOCAL_SUBNET", "public"), "--pool-max", str(pool_max),
           "--budget", "100", "--image-hash", args.image_hash, "--image-url", args.image_url,
           "--log-level", "warning", "--shutdown-grace", "5"]
    log = open(os.path.join(workdir, "bridge.log"), "wb")
    bridge = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        ch = conn.channel()
        deadline = time.time() + 60
        while True:
            try:
                if ch.queue_declare(f"{prefix}.jobs.submit", passive=True).method.consumer_count > 0:
                    break
            except pika.exceptions.ChannelClosedByBroker:
                ch = conn.channel()
            if time.time() > deadline or bridge.poll() is not None:
                raise RuntimeError("bridge did not start")
            time.sleep(0.1)
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(q, f"{prefix}.events", "job.*.*")
        ch.confirm_delivery()
        created, ended, outcomes = {}, {}, {}
        t0 = time.time()
        for i in range(args.jobs):
            job_id = f"b{i}"
            body = json.dumps({"jobId": job_id, "work": [{"run": args.command}]}).encode()
            ch.basic_publish(f"{prefix}.jobs", "submit", body,
                             pika.BasicProperties(content_type="application/json", delivery_mode=2))
        deadline = time.time() + args.timeout
        while len(ended) < args.jobs and time.time() < deadline:
            method, props, body = ch.basic_get(q, auto_ack=True)
            if method is None:
                conn.sleep(0.02)
                continue
            event = json.loads(body)
            data = event["data"]
            now = time.time()
            if data["event"] == "created":
                created[data["jobId"]] = now
            elif data["event"] in ("success", "error", "canceled"):
                outcomes[data["jobId"]] = data["event"] if data["event"] == "success" else data.get("error", {}).get("code")
            elif data["event"] == "ended":
                ended[data["jobId"]] = now
        wall = time.time() - t0
        latencies = sorted(ended[j] - created[j] for j in ended if j in created)
        ok = sum(1 for v in outcomes.values() if v == "success")
        return {
            "what": "golem_pool", "mode": "pool" if pool_max else "agreement-per-job", "pool_max": pool_max,
            "jobs": args.jobs, "concurrency": args.concurrency, "succeeded": ok,
            "failed": {k: v for k, v in outcomes.items() if v != "success"} if ok < args.jobs else {},
            "wall_s": round(wall, 3), "jobs_per_s": round(len(ended) / wall, 3),
            "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        }
    finally:
        try:
            conn.close()
        except Exception:
            pass
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(timeout=60)
        except subprocess.TimeoutExpired:
            bridge.kill()
        delete_topology(prefix)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--jobs", type=int, default=40)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--command", default="echo hello")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--golem-dir", default=os.environ.get("GOLEM_LOCAL_DIR", os.path.join(ROOT, ".build", "golem-local")))
    p.add_argument("--image-hash", default="d" * 56)
    p.add_argument("--image-url", default="http://127.0.0.1:1/image.gvmi")
    p.add_argument("--provider-cmd", help="command line of the provider agent; started and stopped around the runs")
    args = p.parse_args()
    genv = golem_env(args.golem_dir)
    provider = None
    if args.provider_cmd:
        provider = subprocess.Popen(shlex.split(args.provider_cmd), env=dict(os.environ, **genv),
                                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(args.golem_dir, "bench-provider.log"), "wb"))
        time.sleep(2)
    try:
        for pool_max in (args.concurrency, 0):
            print(json.dumps(run_mode(args, genv, pool_max)), flush=True)
    finally:
        if provider:
            provider.send_signal(signal.SIGTERM)
            try:
                provider.wait(timeout=30)
            except subprocess.TimeoutExpired:
                provider.kill()


if __name__ == "__main__":
    main()
