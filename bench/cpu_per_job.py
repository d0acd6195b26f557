#!/usr/bin/env python3
"""The bridge's own CPU per job, context switches and threads, for several binaries in one run.

    python3 bench/cpu_per_job.py --binary NAME=PATH [--binary NAME=PATH ...] [--jobs 2000]
        [--concurrency 16] [--rounds 3] [--perf DIR] [--idle]

Per round and binary (interleaved, so the machine's load hits each alike): a `serve` (bench.py's
Bridge: local backend, sandbox on), 200 untimed `echo` jobs, then `--jobs` more submitted at once; the
bridge's user+system CPU (/proc/<pid>/stat) before and after, its context switches over the jobs
(`perf stat -e context-switches -p`, every thread, also those that ended) and its threads after. Only the bridge process is counted: the sandboxes' processes
(bwrap, the warden, sh) and the broker are not. With `--perf DIR`, `perf record -e cpu-clock -g` runs
on the bridge for the measured jobs (DIR/<name>-<round>.data). With `--idle`, VmRSS after 5 s idle
(after the bridge's start, before any job) is recorded too. Prints one JSON line per measurement.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def threads(pid):
    return int(status(pid)["Threads"])


def perf_stat(pid, path):
    """`perf stat` on every thread of `pid`, also those started later (per-command threads that end
    still count): task-clock and context switches. None without `perf` (the CPU figure does not need it)."""
    if shutil.which("perf") is None:
        return None
    return subprocess.Popen(["perf", "stat", "-x", ",", "-e", "task-clock,context-switches", "-p", str(pid), "-o", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_perf_stat(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[0] and fields[0][0].isdigit():
                out[fields[2]] = float(fields[0])
    return out


def run_jobs(prefix, count, tag, timeout):
    ids = [f"{tag}{i}" for i in range(count)]
    counter = bench.EndedCounter(prefix, len(ids))
    counter.start()
    start = time.time()
    bench.publish_jobs(prefix, ids, "echo $i")
    if not counter.done.wait(timeout):
        raise SystemExit(f"only {len(counter.ended)} of {count} jobs ended in {timeout} s")
    return max(counter.ended.values()) - start


def measure(name, binary, args, round_):
    prefix = f"{bench.STEM}{os.urandom(3).hex()}"
    bridge = bench.Bridge(binary, prefix, args.concurrency)
    out = {"what": "cpu_per_job", "name": name, "round": round_, "jobs": args.jobs, "concurrency": args.concurrency}
    perf = None
    try:
        pid = bridge.proc.pid
        if args.idle:
            time.sleep(5)
            out["idle_rss_kib"] = bench.rss_kib(pid)
            out["idle_threads"] = threads(pid)
        run_jobs(prefix, 200, "w", args.timeout)
        if args.perf:
            os.makedirs(args.perf, exist_ok=True)
            perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-g", "-p", str(pid),
                                     "-o", os.path.join(args.perf, f"{name}-{round_}.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        stat_path = os.path.join(tempfile.gettempdir(), f"perf-stat-{prefix}.csv")
        stat = perf_stat(pid, stat_path)
        time.sleep(0.5)
        cpu0 = cpu_seconds(pid)
        elapsed = run_jobs(prefix, args.jobs, "m", args.timeout)
        cpu1, threads_after = cpu_seconds(pid), threads(pid)
        for p in (perf, stat):
            if p:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=60)
        counts = read_perf_stat(stat_path)
        if os.path.exists(stat_path):
            os.unlink(stat_path)
        out.update({
            "seconds": elapsed, "jobs_per_s": args.jobs / elapsed,
            "cpu_ms_per_job": (cpu1 - cpu0) * 1000 / args.jobs,
            "context_switches_per_job": counts["context-switches"] / args.jobs if "context-switches" in counts else None,
            "threads_after": threads_after,
        })
    finally:
        if perf and perf.poll() is None:
            perf.kill()
        bridge.stop()
        bench.delete_prefix(prefix)
    print(json.dumps(out), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", action="append", required=True, help="NAME=PATH, repeatable")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--perf", help="record perf data into this folder")
    parser.add_argument("--idle", action="store_true", help="also record idle RSS after 5 s")
    args = parser.parse_args()
    binaries = [b.split("=", 1) for b in args.binary]
    for round_ in range(1, args.rounds + 1):
        for name, path in binaries:
            measure(name, path, args, round_)


if __name__ == "__main__":
    main()
