#!/usr/bin/env python3
"""Measurements behind BENCHMARKS.md. Each subcommand prints one JSON line with its figures.

Driven by bench/run; every measurement is bounded in time and cleans up its queues.
"""
import argparse
import json
import os
import shutil
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


# The bridge's sandbox (Sources/Sandbox/Sandbox.swift `mountArguments`, SandboxConfiguration and
# SandboxLimits defaults): every namespace unshared (user, pid, ipc, uts, net, mount, cgroup), nobody
# inside, the host's system directories read-only, a private /tmp, the job's directory at /golem/work,
# / remounted read-only, killed with its parent; started as host uid 65534 when we are root.
SANDBOX_UID = 65534
SANDBOX_READ_ONLY = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
# The command's whole environment (Sandbox.environment): nothing of the worker's.
SANDBOX_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/golem/work",
               "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
# The bridge sets these rlimits on bwrap before exec (soft = hard); here the sandbox's shell sets them
# (dash's ulimit sets both), which needs no preexec_fn in the worker: same limits on the command.
SANDBOX_ULIMITS = "ulimit -t 300; ulimit -v 1048576; ulimit -p 128; ulimit -f 2097152; ulimit -n 1024; ulimit -c 0"


def sandbox_argv(work, line):
    """bwrap with the bridge's isolation running `/bin/sh -c line` in `work` (mounted at /golem/work)."""
    argv = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--die-with-parent", "--new-session", "--hostname", "golem-sandbox"]
    for path in SANDBOX_READ_ONLY:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            argv += ["--ro-bind", path, path]
    return argv + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/golem",
                   "--bind", work, "/golem/work", "--remount-ro", "/", "--chdir", "/golem/work",
                   "--", "/bin/sh", "-c", f"{SANDBOX_ULIMITS}; {line}"]


def run_sandboxed(line, work_root):
    """Runs a shell line the way the bridge runs a job without warm sandboxes: a fresh work directory of
    the sandbox's uid under `work_root`, a fresh sandbox, the directory removed after. Returns stdout;
    raises CalledProcessError when the command (or bwrap) fails, so a broken sandbox never counts as a job."""
    work = tempfile.mkdtemp(dir=work_root)
    try:
        drop = {}
        if os.geteuid() == 0:
            os.chown(work, SANDBOX_UID, SANDBOX_UID)
            drop = {"user": SANDBOX_UID, "group": SANDBOX_UID, "extra_groups": []}
        return subprocess.run(sandbox_argv(work, line), env=SANDBOX_ENV, capture_output=True, text=True, check=True,
                              **drop).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    """Counts `ended` events on its own connection; records when each job ended. Without a prefix it
    counts the replies sent straight to its queue (`self.queue`, header `job-id`) and keeps their bodies."""

    def __init__(self, prefix, expected):
        super().__init__(daemon=True)
        self.conn = connect()
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        if prefix is not None:
            self.ch.queue_bind(self.queue, f"{prefix}.events", "job.*.ended")
        self.ch.basic_qos(prefetch_count=1000)
        self.expected = expected
        self.ended = {}
        self.bodies = {} if prefix is None else None
        self.done = threading.Event()

    def run(self):
        def on_message(ch, method, props, body):
            job_id = props.headers.get("job-id") if props.headers else None
            if job_id not in self.ended:
                self.ended[job_id] = time.time()
                if self.bodies is not None:
                    self.bodies[job_id] = body
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


HERE = os.path.dirname(os.path.abspath(__file__))


def start_worker(cmd, env, queue, consumers_wanted, what):
    """Starts a worker in a session of its own (stderr to a file, so it never blocks on a full pipe) and
    waits until `consumers_wanted` consumers are on its queue."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if consumers(queue) >= consumers_wanted:
                return proc
            if proc.poll() is not None:
                err.seek(0)
                raise SystemExit(f"{what} exited: {err.read().decode()[-3000:]}")
            time.sleep(0.2)
        raise SystemExit(f"{what} not ready in 60 s")
    except BaseException:  # also SIGTERM (SystemExit): the worker is in a session of its own
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        raise


def celery_worker(args, queue, env):
    cmd = [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "-E", "-P", args.pool,
           "-c", str(args.concurrency), "--loglevel=WARNING", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "-Q", queue]
    return start_worker(cmd, env, queue, 1, "celery worker")


def stop_worker(proc, queues, exchanges=()):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass
    conn = connect()
    ch = conn.channel()
    for q in queues:
        ch.queue_delete(q)
    for x in exchanges:
        ch.exchange_delete(x)
    conn.close()


class CeleryRun:
    """A Celery worker on a queue of this run, the client's app, and the task the stage runs: `echo $i`
    as is, or (`--sandbox bwrap`) in a fresh bwrap with the bridge's isolation per task."""

    def __init__(self, args):
        self.queue = f"{STEM}.celery.{uuid.uuid4().hex[:6]}"
        self.work_root = tempfile.mkdtemp(prefix="bench-celery-work-")
        os.chmod(self.work_root, 0o755)  # the sandbox's uid must reach its work directory
        os.environ.update(BENCH_CELERY_QUEUE=self.queue, BENCH_SANDBOX_ROOT=self.work_root)
        sys.path.insert(0, HERE)
        import celery_tasks
        celery_tasks.app.conf.task_default_queue = self.queue
        self.task = celery_tasks.run_shell_bwrap if args.sandbox == "bwrap" else celery_tasks.run_shell
        try:
            self.worker = celery_worker(args, self.queue, dict(os.environ, PYTHONPATH=HERE))
        except BaseException:
            shutil.rmtree(self.work_root, ignore_errors=True)
            raise

    def submit(self, i):
        return self.task.apply_async((f"echo {i}",), queue=self.queue)

    def stop(self):
        # Celery also declares a direct exchange named after the queue.
        stop_worker(self.worker, [self.queue], [self.queue])
        shutil.rmtree(self.work_root, ignore_errors=True)


def check_output(i, stdout):
    if stdout != f"{i}\n":
        raise SystemExit(f"job {i} printed {stdout!r}, not {f'{i}'!r}")


def celery_throughput(args):
    run = CeleryRun(args)
    try:
        start = time.time()
        results = [run.submit(i) for i in range(args.jobs)]
        for i, r in enumerate(results):
            check_output(i, r.get(timeout=args.timeout))
        elapsed = time.time() - start
        rss = tree_rss_kib(run.worker.pid)
    finally:
        run.stop()
    print(json.dumps({"what": "celery_throughput", "pool": args.pool, "sandbox": args.sandbox, "jobs": args.jobs,
                      "concurrency": args.concurrency, "seconds": elapsed, "jobs_per_s": args.jobs / elapsed,
                      "worker_tree_rss_kib_end": rss}))


def celery_latency(args):
    run = CeleryRun(args)
    try:
        samples = []
        for i in range(args.jobs):
            start = time.perf_counter()
            stdout = run.submit(i).get(timeout=30)
            samples.append(time.perf_counter() - start)
            check_output(i, stdout)
    finally:
        run.stop()
    print(json.dumps({"what": "celery_latency", "pool": args.pool, "sandbox": args.sandbox, **percentiles(samples)}))


class DramatiqRun:
    """A `dramatiq` worker (--processes, --threads) on a queue of this run, and the client's broker.
    The actor runs `echo $i` and publishes its stdout to the client's reply queue (Dramatiq has no
    result backend on RabbitMQ; Celery's rpc:// backend replies the same way)."""

    def __init__(self, args):
        self.queue = f"{STEM}.dramatiq.{uuid.uuid4().hex[:6]}"
        os.environ["BENCH_DRAMATIQ_QUEUE"] = self.queue
        sys.path.insert(0, HERE)
        import dramatiq_tasks
        self.tasks = dramatiq_tasks
        cmd = [sys.executable, "-m", "dramatiq", "dramatiq_tasks", "--processes", str(args.processes),
               "--threads", str(args.threads), "--queues", self.queue]
        # One consumer per worker process on the queue (and one on its delay queue).
        self.worker = start_worker(cmd, dict(os.environ, PYTHONPATH=HERE), self.queue, args.processes, "dramatiq worker")

    def submit(self, i, reply_to):
        self.tasks.run_shell.send(f"echo {i}", reply_to, str(i))

    def stop(self):
        # The queue, its delay queue and its dead-letter queue (dramatiq's names).
        stop_worker(self.worker, [self.queue, f"{self.queue}.DQ", f"{self.queue}.XQ"])
        self.tasks.broker.close()


def dramatiq_throughput(args):
    run = DramatiqRun(args)
    try:
        replies = EndedCounter(None, args.jobs)
        replies.start()
        start = time.time()
        for i in range(args.jobs):
            run.submit(i, replies.queue)
        if not replies.done.wait(args.timeout):
            raise SystemExit(f"only {len(replies.ended)} of {args.jobs} jobs replied in {args.timeout} s")
        elapsed = max(replies.ended.values()) - start
        for i in range(args.jobs):
            check_output(i, replies.bodies[str(i)].decode())
        rss = tree_rss_kib(run.worker.pid)
    finally:
        run.stop()
    print(json.dumps({"what": "dramatiq_throughput", "processes": args.processes, "threads": args.threads,
                      "jobs": args.jobs, "seconds": elapsed, "jobs_per_s": args.jobs / elapsed,
                      "worker_tree_rss_kib_end": rss}))


def dramatiq_latency(args):
    run = DramatiqRun(args)
    try:
        conn = connect()
        ch = conn.channel()
        queue = ch.queue_declare("", exclusive=True).method.queue
        samples = []
        for i in range(args.jobs):
            start = time.perf_counter()
            run.submit(i, queue)
            for method, p, body in ch.consume(queue, inactivity_timeout=30):
                if method is None:
                    raise SystemExit("no reply within 30 s")
                ch.basic_ack(method.delivery_tag)
                if p.headers.get("job-id") == str(i):
                    break
            samples.append(time.perf_counter() - start)
            check_output(i, body.decode())
        ch.cancel()
        conn.close()
    finally:
        run.stop()
    print(json.dumps({"what": "dramatiq_latency", "processes": args.processes, "threads": args.threads,
                      **percentiles(samples)}))


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
    """The cost of one sandboxed process start: bwrap with the bridge's isolation (`sandbox_argv`) running `echo 1`."""
    work = tempfile.mkdtemp(prefix="bench-spawn-")
    cmd = sandbox_argv(work, "echo 1")
    samples = []
    for _ in range(args.jobs):
        start = time.perf_counter()
        subprocess.run(cmd, env=SANDBOX_ENV, stdout=subprocess.DEVNULL, check=True)
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
        list(pool.map(lambda _: subprocess.run(cmd, env=SANDBOX_ENV, stdout=subprocess.DEVNULL, check=True),
                      range(runs)))
    rate = runs / (time.perf_counter() - start)
    shutil.rmtree(work, ignore_errors=True)
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
                                         "dramatiq_throughput", "dramatiq_latency", "memory", "spawn_cost",
                                         "raw_roundtrip", "cleanup"])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "golem-bridge"))
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count())
    parser.add_argument("--bridges", type=int, default=1)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--sandbox", choices=["none", "bwrap"], default="none",
                        help="Celery: run each task's command in bwrap with the bridge's isolation")
    parser.add_argument("--processes", type=int, default=os.cpu_count(), help="Dramatiq worker processes")
    parser.add_argument("--threads", type=int, default=1, help="Dramatiq threads per worker process")
    parser.add_argument("--queued", type=int, default=100000)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    globals()[args.what](args)


if __name__ == "__main__":
    main()
