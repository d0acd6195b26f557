#!/usr/bin/env python3
"""Where a job's CPU goes on the whole machine: the bridge against Celery, over the same measured jobs.

    python3 bench/machine_cpu.py --binary PATH [--jobs 2000] [--rounds 1]

Per round, one after the other on the same broker: `serve` (bench.py's Bridge: local backend,
sandbox on, concurrency = cores), Celery threads -c 8 and Celery prefork -c cores (bench.py's
CeleryRun: the same `echo $i` without a sandbox). Each gets 200 untimed jobs, then `--jobs` more
submitted at once (the throughput stage's pattern). Before and after the measured jobs: user+system
CPU seconds (/proc/<pid>/stat utime+stime, plus cutime+cstime: the children it reaped) of

  daemon     the bridge's `serve` process / the Celery worker and its pool processes (same executable)
  jobs       every other process below it, live or reaped: for the bridge the warm sandboxes
             (bwrap, golem-sandbox-warden, the jobs' sh), for Celery the tasks' sh
  broker     every beam.smp (RabbitMQ; shared, so others' traffic counts here too)
  client     this process (publisher, `ended` counter / Celery's result reader: the load generator)

and the machine's busy CPU (/proc/stat: all but idle and iowait). `other` is busy minus the four
parts: the rest of the machine (other engineers' builds, epmd, the kernel's own threads) and any
process that left the trees above before it was reaped by them. `background` is what the rest of
the machine ran in the 3 s just before the measured jobs (busy minus the four parts, with the
system idle), scaled to the measured time: `other` well above it means CPU of the job's path that
none of the four parts holds. Prints one JSON line per system.
"""
import argparse
import json
import os
import sys
import time
import types
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from cpu_per_job import run_jobs  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_table():
    """{pid: (ppid, exe-or-comm, own ticks, reaped children's ticks)} for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            exe = comm
        own = int(fields[11]) + int(fields[12])         # utime, stime
        reaped = int(fields[13]) + int(fields[14])      # cutime, cstime
        table[int(entry)] = (int(fields[1]), exe, comm, own, reaped)
    return table


def busy_ticks():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return sum(values[:8]) - values[3] - values[4]


def snapshot(root):
    """Ticks per part; the daemon is `root` and its descendants running the same executable."""
    table = proc_table()
    children = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    root_exe = table[root][1]
    parts = {"daemon": 0, "jobs": 0, "broker": 0}
    stack = [root]
    while stack:
        pid = stack.pop()
        _, exe, _, own, reaped = table[pid]
        parts["daemon" if exe == root_exe else "jobs"] += own
        parts["jobs"] += reaped        # what a process reaped ran below it: the jobs' side
        stack += children.get(pid, [])
    parts["broker"] = sum(own + reaped for _, _, comm, own, reaped in table.values() if comm == "beam.smp")
    t = os.times()
    parts["client"] = (t.user + t.system) * TICK
    parts["busy"] = busy_ticks()
    return parts


def background_rate(root):
    """Ticks per second the rest of the machine runs while the system waits for work."""
    start, t0 = snapshot(root), time.time()
    time.sleep(3)
    end, t1 = snapshot(root), time.time()
    named = sum(end[k] - start[k] for k in ("daemon", "jobs", "broker", "client"))
    return (end["busy"] - start["busy"] - named) / (t1 - t0)


def result(system, jobs, elapsed, before, after, background):
    per_job = {k: (after[k] - before[k]) / TICK * 1000 / jobs for k in before}
    named = sum(per_job[k] for k in ("daemon", "jobs", "broker", "client"))
    out = {"what": "machine_cpu", "system": system, "jobs": jobs, "seconds": elapsed, "jobs_per_s": jobs / elapsed,
           "cores": os.cpu_count()}
    out.update({f"{k}_ms_per_job": round(v, 4) for k, v in per_job.items()})
    out["named_ms_per_job"] = round(named, 4)
    out["other_ms_per_job"] = round(per_job["busy"] - named, 4)
    out["background_ms_per_job"] = round(background * elapsed / TICK * 1000 / jobs, 4)
    return out


def measure_bridge(args):
    prefix = f"{bench.STEM}{uuid.uuid4().hex[:6]}"
    bridge = bench.Bridge(args.binary, prefix, os.cpu_count())
    try:
        run_jobs(prefix, 200, "w", args.timeout)
        background = background_rate(bridge.proc.pid)
        before = snapshot(bridge.proc.pid)
        elapsed = run_jobs(prefix, args.jobs, "m", args.timeout)
        after = snapshot(bridge.proc.pid)
    finally:
        bridge.stop()
        bench.delete_prefix(prefix)
    return result(f"golem-bridge, sandbox on, concurrency {os.cpu_count()}", args.jobs, elapsed, before, after, background)


def measure_celery(args, pool, concurrency):
    run = bench.CeleryRun(types.SimpleNamespace(pool=pool, concurrency=concurrency, sandbox="none"))
    try:
        for r in [run.submit(i) for i in range(200)]:
            r.get(timeout=args.timeout)
        background = background_rate(run.worker.pid)
        before = snapshot(run.worker.pid)
        start = time.time()
        results = [run.submit(i) for i in range(args.jobs)]
        for i, r in enumerate(results):
            bench.check_output(i, r.get(timeout=args.timeout))
        elapsed = time.time() - start
        after = snapshot(run.worker.pid)
    finally:
        run.stop()
    return result(f"Celery {pool} -c {concurrency}", args.jobs, elapsed, before, after, background)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for measure in (lambda: measure_bridge(args), lambda: measure_celery(args, "threads", 8),
                        lambda: measure_celery(args, "prefork", os.cpu_count())):
            print(json.dumps(measure()), flush=True)


if __name__ == "__main__":
    main()
