#!/usr/bin/env python3
"""Jobs/s and per-job latency of `serve --backend golem` with the rental pool against one agreement
per job (`--pool-max 0`), on the local Golem network (scripts/golem-local + the provider agent).

    bench/golem_pool.py --binary .build/release/golem-bridge --jobs 40 --concurrency 4 \
        --provider-cmd "golem-bridge provider ..."      # the provider agent, started and stopped here

Prints one JSON line per mode. Every wait is bounded; queues are deleted afterwards. With
`--warmup N`, N jobs run first, untimed and not counted (the pool's rentals are then made and
warm), so the figures are those of a warm pool: what a job costs once the pool holds its rentals.

Where each job's time goes is read from the requestor node's own log: yagna logs every REST call
with its duration (actix `... "POST /market-api/v1/agreements HTTP/1.1" 201 ... 0.031`), so the
`steps` of each line are the seconds yagna spent per job in each step of the requestor flow, summed
over the run's calls and divided by the jobs (see `yagna_steps`).
"""
import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pika

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_cpu import TICK, busy_ticks, proc_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from conftest import delete_topology  # noqa: E402

AMQP_URL = os.environ.get("BENCH_AMQP_URL_PIKA", "amqp://guest:guest@127.0.0.1:5672/%2F")
STEM = os.environ.get("BENCH_STEM", "bench")  # every prefix starts with it (see bench.py cleanup)


def golem_env(directory):
    env = {}
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            if line.startswith("export "):
                k, _, v = line[len("export "):].strip().partition("=")
                env[k] = v.strip("'\"")
    return env


ACCESS = re.compile(r'"(GET|POST|PUT|DELETE) ([^ ?"]+)[^"]*" (\d{3}) .* ([0-9.]+)$')
ID = "[^/]+"
ROUTES = [  # (method, path pattern, step)
    ("POST", "/market-api/v1/demands", "negotiation"),
    ("GET", f"/market-api/v1/demands/{ID}/events", "negotiation"),
    ("POST", f"/market-api/v1/demands/{ID}/proposals/{ID}", "negotiation"),
    ("POST", f"/market-api/v1/demands/{ID}/proposals/{ID}/reject", "negotiation"),
    ("DELETE", f"/market-api/v1/demands/{ID}", "negotiation"),
    ("POST", "/market-api/v1/agreements", "agreement"),
    ("POST", f"/market-api/v1/agreements/{ID}/confirm", "agreement"),
    ("POST", f"/market-api/v1/agreements/{ID}/wait", "agreement"),
    ("POST", "/activity-api/v1/activity", "activity_create"),
    ("GET", f"/activity-api/v1/activity/{ID}/state", "validate"),
    ("POST", f"/activity-api/v1/activity/{ID}/exec", "exec"),
    ("GET", f"/activity-api/v1/activity/{ID}/exec/{ID}", "exec"),
    ("DELETE", f"/activity-api/v1/activity/{ID}", "end"),
    ("POST", f"/market-api/v1/agreements/{ID}/terminate", "end"),
]
ROUTES = [(m, re.compile(f"^{p}$"), step) for m, p, step in ROUTES]


def yagna_steps(log_path, offset, jobs, count_from=None):
    """Seconds per job that the requestor yagna spent answering each step's calls, from its access log
    after `offset`. Exec batches are told apart per activity, in order: the first is deploy+start, the
    rest are the jobs' (`run`; since issue 13 a job's last `run` batch also empties /golem/work, so a
    warm job is one batch: `calls_per_job` 2, its exec and one result poll). The validation of a
    bridge before issue 13 (a state call on the job's path, then a batch emptying /golem/work) is
    told apart by that call: both count as `validate` (so would an idle check's state call, off the
    path, every 15 s). `end` (destroy, terminate) runs in the
    background, after the job's `ended`; payment calls are not counted. Calls before `count_from` (the
    warm-up's) are read, to tell the batches apart, but not counted."""
    steps, calls = {}, {}
    batch = {}          # activity -> the step of its current exec batch (batches are sequential per activity)
    checked = set()     # activities whose state was just checked: their next batch is the validation
    position = offset
    with open(log_path, "rb") as f:
        f.seek(offset)
        for raw in f:
            counted = count_from is None or position >= count_from
            position += len(raw)
            m = ACCESS.search(raw.decode(errors="replace").rstrip())
            if not m:
                continue
            method, path, seconds = m.group(1), m.group(2), float(m.group(4))
            step = next((st for meth, rx, st in ROUTES if meth == method and rx.match(path)), None)
            if step is None:
                continue
            if step == "validate":
                checked.add(path.split("/")[4])
            elif step == "exec":
                activity = path.split("/")[4]
                if method == "POST":
                    if activity not in batch:
                        batch[activity] = "deploy_start"
                    elif activity in checked:
                        batch[activity] = "validate"
                        checked.discard(activity)
                    else:
                        batch[activity] = "run"
                step = batch.get(activity, "run")
            if not counted:
                continue
            steps[step] = steps.get(step, 0.0) + seconds
            calls[step] = calls.get(step, 0) + 1
            if step == "run":  # its two calls apart: the batch reaching the agent, then its results
                part = "run_exec" if method == "POST" else "run_results"
                steps[part] = steps.get(part, 0.0) + seconds
                calls[part] = calls.get(part, 0) + 1
    return {k: {"s_per_job": round(v / jobs, 4), "calls_per_job": round(calls[k] / jobs, 2)} for k, v in steps.items()}


def environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
    except OSError:
        return {}


def golem_cpu(bridge_pid, genv):
    """CPU ticks so far of each part of the Golem path on this machine: the bridge (`serve`), this
    network's yagna nodes (by their data folders: the machine may run other networks), its provider
    agent (`golem-bridge provider` started with this network's env) with the sandboxes it ran (reaped
    children, and live ones), this client (it publishes and reads the events), and the machine's busy
    total (/proc/stat)."""
    datadirs = {v.encode() for k, v in genv.items() if k.startswith("GOLEM_LOCAL_") and k.endswith("_DATADIR")}
    golem_dir = genv.get("GOLEM_LOCAL_DIR", "").encode()
    table = proc_table()
    t = os.times()
    parts = {"bridge": 0, "yagna": 0, "agent": 0, "client": (t.user + t.system) * TICK, "busy": busy_ticks()}
    for pid, (ppid, exe, comm, own, reaped) in table.items():
        if pid == bridge_pid:
            parts["bridge"] += own + reaped
        elif comm == "yagna":
            if environ(pid).get(b"YAGNA_DATADIR") in datadirs:
                parts["yagna"] += own + reaped
        elif os.path.basename(exe).startswith("golem-bridge"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if len(argv) > 1 and argv[1] == b"provider" and environ(pid).get(b"GOLEM_LOCAL_DIR") == golem_dir:
                parts["agent"] += own + reaped
                parts["agent"] += sum(o + r for q, (pp, _, _, o, r) in table.items() if pp == pid)  # live sandboxes
    return parts


def rest(url, key, method, path, body=None, timeout=30):
    """One yagna REST call on loopback (no proxy); the parsed answer or None."""
    req = urllib.request.Request(url.rstrip("/") + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=timeout) as r:
        data = r.read()
    return json.loads(data) if data else None


def wait_for_offer(genv, deadline_s=60):
    """Untimed warm-up: waits until the requestor node has the provider's offer. Fresh nodes learn each
    other's offers by broadcast (up to a few seconds); without this the first mode would pay that wait."""
    url, key, subnet = genv["YAGNA_API_URL"], genv["YAGNA_APPKEY"], genv.get("GOLEM_LOCAL_SUBNET", "public")
    expiration = int((time.time() + 600) * 1000)
    demand = rest(url, key, "POST", "/market-api/v1/demands", {
        "properties": {"golem.node.debug.subnet": subnet, "golem.srv.comp.expiration": expiration},
        "constraints": f"(golem.node.debug.subnet={subnet})"})
    t0 = time.time()
    try:
        while time.time() - t0 < deadline_s:
            events = rest(url, key, "GET", f"/market-api/v1/demands/{demand}/events?timeout=2&maxEvents=10", timeout=10)
            if any(e.get("eventType") == "ProposalEvent" for e in events or []):
                print(f"golem_pool: the requestor node has the offer after {time.time() - t0:.2f} s", file=sys.stderr)
                return
        raise SystemExit(f"golem_pool: no offer reached the requestor node within {deadline_s} s")
    finally:
        rest(url, key, "DELETE", f"/market-api/v1/demands/{demand}")


def submit_and_wait(conn, ch, q, prefix, job_ids, command, timeout):
    """Submits one job per ID at once and reads events until all ended (or `timeout`): the times of
    `created` and `ended` per job, and each job's outcome (`success` or the error code)."""
    for job_id in job_ids:
        body = json.dumps({"jobId": job_id, "work": [{"run": command}]}).encode()
        ch.basic_publish(f"{prefix}.jobs", "submit", body,
                         pika.BasicProperties(content_type="application/json", delivery_mode=2))
    created, ended, outcomes = {}, {}, {}
    deadline = time.time() + timeout
    while len(ended) < len(job_ids) and time.time() < deadline:
        method, props, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            conn.sleep(0.02)
            continue
        data = json.loads(body)["data"]
        now = time.time()
        if data["event"] == "created":
            created[data["jobId"]] = now
        elif data["event"] in ("success", "error", "canceled"):
            outcomes[data["jobId"]] = data["event"] if data["event"] == "success" else data.get("error", {}).get("code")
        elif data["event"] == "ended":
            ended[data["jobId"]] = now
    return created, ended, outcomes


def run_mode(args, genv, pool_max):
    prefix = f"{STEM}g{uuid.uuid4().hex[:8]}"
    yagna_log = os.path.join(genv["GOLEM_LOCAL_REQUESTOR_DATADIR"], "yagna.log")
    log_offset = os.path.getsize(yagna_log) if os.path.exists(yagna_log) else None
    timed_offset = None
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
        if args.warmup:
            _, warm_ended, _ = submit_and_wait(conn, ch, q, prefix, [f"w{i}" for i in range(args.warmup)], args.command, args.timeout)
            if len(warm_ended) < args.warmup:
                raise RuntimeError(f"warm-up: {len(warm_ended)} of {args.warmup} jobs ended")
            time.sleep(0.5)  # the warm-up's last cleanups: the timed jobs find a settled pool
            if log_offset is not None:
                timed_offset = os.path.getsize(yagna_log)
        cpu0 = golem_cpu(bridge.pid, genv)
        t0 = time.time()
        created, ended, outcomes = submit_and_wait(conn, ch, q, prefix, [f"b{i}" for i in range(args.jobs)], args.command, args.timeout)
        wall = time.time() - t0
        cpu1 = golem_cpu(bridge.pid, genv)
        latencies = sorted(ended[j] - created[j] for j in ended if j in created)
        ok = sum(1 for v in outcomes.values() if v == "success")
        result = {
            "what": "golem_pool", "mode": "pool" if pool_max else "agreement-per-job", "pool_max": pool_max,
            "jobs": args.jobs, "warmup": args.warmup, "concurrency": args.concurrency, "succeeded": ok,
            "failed": {k: v for k, v in outcomes.items() if v != "success"} if ok < args.jobs else {},
            "wall_s": round(wall, 3), "jobs_per_s": round(len(ended) / wall, 3),
            "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
            # one slot's time per job: what the steps below add up to, plus the bridge's own share
            "slot_s_per_job": round(args.concurrency * wall / max(1, len(ended)), 3),
            # CPU ms per job on this machine over the timed jobs, by part (the machine's cores bound
            # jobs/s at cores / busy per job; the rest of busy is this client and the machine's others)
            "cpu_ms_per_job": {k: round((cpu1[k] - cpu0[k]) / TICK * 1000 / max(1, len(ended)), 2) for k in cpu0},
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
    # After the bridge stopped: its shutdown ended the pool's rentals, which count too.
    if log_offset is not None:
        result["steps"] = yagna_steps(yagna_log, log_offset, args.jobs, count_from=timed_offset)
    return result


def main():
    # SIGTERM (bench/run's timeout or trap) unwinds through the `finally`s: bridge and provider stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--jobs", type=int, default=40)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--pool-only", action="store_true", help="skip the one-agreement-per-job mode")
    p.add_argument("--warmup", type=int, default=0, help="untimed jobs first, so the pool is warm (e.g. the concurrency)")
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
    try:
        wait_for_offer(genv)
        for pool_max in [args.concurrency, 0][:1 if args.pool_only else 2]:
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
