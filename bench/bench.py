#!/usr/bin/env python3
"""Measurements behind BENCHMARKS.md. Each subcommand prints one JSON line with its figures.

Driven by bench/run; every measurement is bounded in time and cleans up its queues.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AMQP_URL = os.environ.get("BENCH_AMQP_URL_PIKA", "amqp://guest:guest@127.0.0.1:5672/%2F")
# Every queue and exchange this run declares starts with STEM; bench/run sets a stem of its own so that
# `bench.py cleanup` can delete what an interrupted run left on the shared broker, and nothing else.
STEM = os.environ.get("BENCH_STEM", "bench")


def connect():
    return pika.BlockingConnection(pika.URLParameters(AMQP_URL))


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def tree_rss_kib(pid):
    """RSS of a process and its descendants (Celery's prefork children count too)."""
    total = rss_kib(pid) or 0
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        children = []
    for child in children:
        total += tree_rss_kib(int(child))
    return total


class Bridge:
    def __init__(self, binary, prefix, concurrency, backlog=None, name=None):
        self.dir = tempfile.mkdtemp(prefix="bench-bridge-")
        os.chmod(self.dir, 0o755)  # the sandbox user must reach the work root
        args = [binary, "serve", "--prefix", prefix, "--journal", os.path.join(self.dir, "journal.sqlite"),
                "--work-root", os.path.join(self.dir, "work"), "--concurrency", str(concurrency),
                "--instance-name", name or f"bench-{uuid.uuid4().hex[:6]}", "--log-level", "warning",
                "--shutdown-grace", "1"]
        if backlog is not None:
            args += ["--backlog", str(backlog)]
        self.log = open(os.path.join(self.dir, "bridge.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        self.prefix = prefix
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bridge exited: {open(self.log.name).read()[-3000:]}")
            if consumers(f"{prefix}.jobs.submit") > 0:
                return
            time.sleep(0.1)
        raise SystemExit("bridge not ready")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def consumers(queue):
    conn = connect()
    try:
        return conn.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        conn.close()


def delete_prefix(prefix):
    conn = connect()
    ch = conn.channel()
    for q in (f"{prefix}.jobs.submit", f"{prefix}.jobs.dead", f"{prefix}.control.status"):
        ch.queue_delete(q)
    for x in (f"{prefix}.jobs", f"{prefix}.events", f"{prefix}.control", f"{prefix}.jobs.dead"):
        ch.exchange_delete(x)
    conn.close()


class EndedCounter(threading.Thread):
    """Counts `ended` events on its own connection; records when each job ended."""

    def __init__(self, prefix, expected):
        super().__init__(daemon=True)
        self.conn = connect()
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        self.ch.queue_bind(self.queue, f"{prefix}.events", "job.*.ended")
        self.ch.basic_qos(prefetch_count=1000)
        self.expected = expected
        self.ended = {}
        self.done = threading.Event()

    def run(self):
        def on_message(ch, method, props, body):
            job_id = props.headers.get("job-id") if props.headers else None
            if job_id not in self.ended:
                self.ended[job_id] = time.time()
            ch.basic_ack(method.delivery_tag, multiple=True)
            if len(self.ended) >= self.expected:
                self.done.set()
                ch.stop_consuming()

        self.ch.basic_consume(self.queue, on_message)
        try:
            self.ch.start_consuming()
        finally:
            self.conn.close()


def publish_jobs(prefix, ids, command):
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    for i, job_id in enumerate(ids):
        body = json.dumps({"jobId": job_id, "work": [{"run": command.replace("$i", str(i))}]}).encode()
        ch.basic_publish(f"{prefix}.jobs", "submit", body, props)
    conn.close()


def bridge_throughput(args):
    prefix = f"{STEM}{uuid.uuid4().hex[:6]}"
    bridges = [Bridge(args.binary, prefix, args.concurrency) for _ in range(args.bridges)]
    try:
        ids = [f"t{i}" for i in range(args.jobs)]
        counter = EndedCounter(prefix, len(ids))
        counter.start()
        start = time.time()
        publish_jobs(prefix, ids, "echo $i")
        if not counter.done.wait(args.timeout):
            raise SystemExit(f"only {len(counter.ended)} of {len(ids)} jobs ended in {args.timeout} s")
        elapsed = max(counter.ended.values()) - start
        rss = [rss_kib(b.proc.pid) for b in bridges]
    finally:
        for b in bridges:
            b.stop()
        delete_prefix(prefix)
    print(json.dumps({"what": "bridge_throughput", "jobs": args.jobs, "concurrency": args.concurrency,
                      "bridges": args.bridges, "seconds": elapsed, "jobs_per_s": args.jobs / elapsed,
                      "rss_kib_end": rss}))


def bridge_latency(args):
    prefix = f"{STEM}{uuid.uuid4().hex[:6]}"
    bridge = Bridge(args.binary, prefix, args.concurrency)
    try:
        conn = connect()
        ch = conn.channel()
        ch.confirm_delivery()
        queue = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(queue, f"{prefix}.events", "job.*.ended")
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        samples = []
        for i in range(args.jobs):
            job_id = f"l{i}"
            body = json.dumps({"jobId": job_id, "work": [{"run": f"echo {i}"}]}).encode()
            start = time.perf_counter()
            ch.basic_publish(f"{prefix}.jobs", "submit", body, props)
            for method, p, _ in ch.consume(queue, inactivity_timeout=30):
                if method is None:
                    raise SystemExit("no ended event within 30 s")
                ch.basic_ack(method.delivery_tag)
                if p.headers.get("job-id") == job_id:
                    break
            samples.append(time.perf_counter() - start)
        ch.cancel()
        conn.close()
    finally:
        bridge.stop()
        delete_prefix(prefix)
    print(json.dumps({"what": "bridge_latency", **percentiles(samples)}))


def percentiles(samples):
    samples = sorted(samples)
    return {"n": len(samples), "p50_ms": 1000 * samples[len(samples) // 2],
            "p99_ms": 1000 * samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            "mean_ms": 1000 * statistics.mean(samples)}


def celery_worker(args, queue):
    env = dict(os.environ, BENCH_CELERY_QUEUE=queue, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "-E", "-P", args.pool,
           "-c", str(args.concurrency), "--loglevel=WARNING", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "-Q", queue]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if consumers(queue) > 0:
            return proc
        if proc.poll() is not None:
            raise SystemExit(proc.stderr.read().decode()[-3000:])
        time.sleep(0.2)
    raise SystemExit("celery worker not ready")


def stop_worker(proc, queue):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    conn = connect()
    conn.channel().queue_delete(queue)
    conn.close()


def celery_throughput(args):
    os.environ["BENCH_CELERY_QUEUE"] = queue = f"{STEM}.celery.{uuid.uuid4().hex[:6]}"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import celery_tasks
    celery_tasks.app.conf.task_default_queue = queue
    worker = celery_worker(args, queue)
    try:
        start = time.time()
        results = [celery_tasks.run_shell.apply_async((f"echo {i}",), queue=queue) for i in range(args.jobs)]
        for r in results:
            r.get(timeout=args.timeout)
        elapsed = time.time() - start
        rss = tree_rss_kib(worker.pid)
    finally:
        stop_worker(worker, queue)
    print(json.dumps({"what": "celery_throughput", "pool": args.pool, "jobs": args.jobs,
                      "concurrency": args.concurrency, "seconds": elapsed, "jobs_per_s": args.jobs / elapsed,
                      "worker_tree_rss_kib_end": rss}))


def celery_latency(args):
    os.environ["BENCH_CELERY_QUEUE"] = queue = f"{STEM}.celery.{uuid.uuid4().hex[:6]}"
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import celery_tasks
    worker = celery_worker(args, queue)
    try:
        samples = []
        for i in range(args.jobs):
            start = time.perf_counter()
            celery_tasks.run_shell.apply_async((f"echo {i}",), queue=queue).get(timeout=30)
            samples.append(time.perf_counter() - start)
    finally:
        stop_worker(worker, queue)
    print(json.dumps({"what": "celery_latency", "pool": args.pool, **percentiles(samples)}))


def memory(args):
    prefix = f"{STEM}{uuid.uuid4().hex[:6]}"
    out = {"what": "memory"}
    # Idle.
    bridge = Bridge(args.binary, prefix, args.concurrency)
    try:
        time.sleep(2)
        out["idle_rss_kib"] = rss_kib(bridge.proc.pid)
    finally:
        bridge.stop()
    # 1,000 jobs in flight (sleep 5), concurrency 1,000.
    bridge = Bridge(args.binary, prefix, 1000)
    try:
        ids = [f"m{i}" for i in range(1000)]
        counter = EndedCounter(prefix, len(ids))
        counter.start()
        publish_jobs(prefix, ids, "sleep 5")
        peak = 0
        deadline = time.time() + args.timeout
        while not counter.done.wait(0.2) and time.time() < deadline:
            peak = max(peak, rss_kib(bridge.proc.pid) or 0)
        out["inflight_1000_peak_rss_kib"] = peak
    finally:
        bridge.stop()
    # 100,000 queued: published first, then a bridge at --concurrency starts draining; RSS sampled.
    queued = args.queued
    conn = connect()
    ch = conn.channel()
    # Declare the topology by starting and stopping a bridge once.
    Bridge(args.binary, prefix, args.concurrency).stop()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    body = json.dumps({"work": [{"run": "true"}]}).encode()
    for i in range(queued):
        ch.basic_publish(f"{prefix}.jobs", "submit", body, props)
    conn.close()
    bridge = Bridge(args.binary, prefix, args.concurrency)
    try:
        samples = []
        end = time.time() + 20
        while time.time() < end:
            samples.append(rss_kib(bridge.proc.pid) or 0)
            time.sleep(0.5)
        out["queued"] = queued
        out["queued_rss_kib_first"] = samples[0]
        out["queued_rss_kib_max"] = max(samples)
        out["queued_rss_kib_last"] = samples[-1]
    finally:
        bridge.stop()
        delete_prefix(prefix)
    print(json.dumps(out))


def spawn_cost(args):
    """The cost of one sandboxed process start: bwrap with the bridge's isolation running /bin/true."""
    work = tempfile.mkdtemp(prefix="bench-spawn-")
    cmd = ["bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
           "--symlink", "usr/lib64", "/lib64", "--bind", work, "/golem/work", "--tmpfs", "/tmp", "--proc", "/proc",
           "--dev", "/dev", "--unshare-all", "--die-with-parent", "--new-session", "--chdir", "/golem/work",
           "/bin/sh", "-c", "echo 1"]
    samples = []
    for _ in range(args.jobs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    plain = []
    for _ in range(args.jobs):
        start = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", "echo 1"], stdout=subprocess.DEVNULL, check=True)
        plain.append(time.perf_counter() - start)
    # The spawn ceiling: sandboxed starts per second with every core busy (no broker, no bridge).
    from concurrent.futures import ThreadPoolExecutor
    runs = args.jobs * 2
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2)) as pool:
        list(pool.map(lambda _: subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True), range(runs)))
    rate = runs / (time.perf_counter() - start)
    print(json.dumps({"what": "spawn_cost", "bwrap": percentiles(samples), "plain_sh": percentiles(plain),
                      "bwrap_parallel_per_s": rate}))


def raw_roundtrip(args):
    """The broker's own round trip: publish a persistent message with a confirm and get it back."""
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    queue = ch.queue_declare("", exclusive=True).method.queue
    props = pika.BasicProperties(delivery_mode=2)
    samples = []
    for i in range(args.jobs):
        start = time.perf_counter()
        ch.basic_publish("", queue, b"x" * 200, props)
        for method, _, _ in ch.consume(queue, inactivity_timeout=10):
            ch.basic_ack(method.delivery_tag)
            break
        samples.append(time.perf_counter() - start)
    ch.cancel()
    conn.close()
    print(json.dumps({"what": "raw_roundtrip", **percentiles(samples)}))


def cleanup(args):
    """Deletes every queue and exchange whose name starts with BENCH_STEM (what a killed run left)."""
    if STEM == "bench":
        raise SystemExit("cleanup: set BENCH_STEM to the run's own stem; the default would match other runs")
    listed = {}
    deadline = time.time() + 90  # the shared broker may be restarting (another engineer's test)
    for kind in ("queues", "exchanges"):
        while True:
            out = subprocess.run(["rabbitmqctl", "-q", f"list_{kind}", "name"], capture_output=True, text=True, timeout=60)
            if out.returncode == 0 or time.time() > deadline:
                break
            time.sleep(2)
        listed[kind] = [n for n in out.stdout.split() if n.startswith(STEM)]
    if not listed["queues"] and not listed["exchanges"]:
        return
    conn = connect()
    ch = conn.channel()
    for q in listed["queues"]:
        ch.queue_delete(q)
    for x in listed["exchanges"]:
        ch.exchange_delete(x)
    conn.close()
    print(f"bench: deleted {len(listed['queues'])} queues and {len(listed['exchanges'])} exchanges of {STEM}",
          file=sys.stderr)


def main():
    # SIGTERM (bench/run's timeout or trap) unwinds like an exception, so every `finally` stops its
    # bridge or worker and deletes its queues.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["bridge_throughput", "bridge_latency", "celery_throughput", "celery_latency",
                                         "memory", "spawn_cost", "raw_roundtrip", "cleanup"])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "golem-bridge"))
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count())
    parser.add_argument("--bridges", type=int, default=1)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--queued", type=int, default=100000)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    globals()[args.what](args)


if __name__ == "__main__":
    main()
