#!/usr/bin/env python3
"""Turns a bench/run results file into the "Bridge" section of BENCHMARKS.md and two plots.

    python3 bench/report.py bench/results/<time>.jsonl
"""
import json
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START, END = "<!-- bridge-bench:start -->", "<!-- bridge-bench:end -->"


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def med(values):
    return statistics.median(values) if values else float("nan")


def span(values, fmt="{:.0f}"):
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(med(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main(path):
    rows = load(path)
    machine = next((r for r in rows if r["what"] == "machine"), {})
    pick = lambda what, **kw: [r for r in rows if r["what"] == what and all(r.get(k) == v for k, v in kw.items())]
    cores = machine.get("cores", 2)
    limit = [r["jobs_per_s"] for r in pick("limit")]
    bridge = [r["jobs_per_s"] for r in pick("bridge_throughput", concurrency=cores, bridges=1, jobs=machine.get("jobs"))]
    prefork = [r["jobs_per_s"] for r in pick("celery_throughput", pool="prefork")]
    threads = [r["jobs_per_s"] for r in pick("celery_throughput", pool="threads")]
    celery_best = max([med(prefork), med(threads)]) if prefork or threads else float("nan")
    spawn = [r["bwrap"]["p50_ms"] for r in pick("spawn_cost")]
    spawn_rate = [r["bwrap_parallel_per_s"] for r in pick("spawn_cost") if "bwrap_parallel_per_s" in r]
    rtt = [r["p50_ms"] for r in pick("raw_roundtrip")]
    # What no bridge can beat on this machine: the broker's pattern and one sandbox start per job,
    # sharing the same cores (harmonic combination of the two ceilings).
    combined = [1 / (1 / med(limit) + 1 / s) for s in spawn_rate] if limit else []
    blat = pick("bridge_latency")
    clat = pick("celery_latency")
    lines = [START, "## Bridge: against Celery and the broker's limit (issue 7)", "",
             f"Made by `bench/run` from `{os.path.relpath(path, ROOT)}` — {machine.get('cores')} cores, "
             f"{machine.get('mem_gib')} GiB, {machine.get('cpu')}, RabbitMQ {machine.get('rabbitmq')}, "
             f"{machine.get('swift')}, Celery {machine.get('celery')}. Median (min–max) over "
             f"{machine.get('runs')} runs in one invocation; the machine is shared, so read the ratios.", "",
             "### Throughput (one `run` step `echo $i` per job, completion seen by the client)", "",
             "| system | jobs | jobs/s |", "|---|---|---|",
             f"| broker limit (C, same messages per job, no work) | {machine.get('jobs')} | {span(limit)} |",
             f"| sandbox limit (bwrap starts/s, all cores busy, no broker) | | {span(spawn_rate)} |",
             f"| broker-and-sandbox limit (both on the same cores) | | {span(combined)} |",
             f"| golem-bridge, sandbox on, concurrency {cores} | {machine.get('jobs')} | {span(bridge)} |",
             f"| Celery prefork -c {cores} (-E) | {machine.get('jobs')} | {span(prefork)} |",
             f"| Celery threads -c 8 (-E) | {machine.get('jobs')} | {span(threads)} |", "",
             f"Ratios: bridge / best Celery = **{med(bridge) / celery_best:.2f}×** (target ≥ 2×); "
             f"bridge / broker-and-sandbox limit = **{100 * med(bridge) / med(combined):.0f}%** (target ≥ 25%); "
             f"bridge / broker limit alone = {100 * med(bridge) / med(limit):.0f}%.", "",
             "### Latency (1,000 sequential jobs, submit → `ended` / submit → result)", "",
             "| system | p50 ms | p99 ms |", "|---|---|---|",
             f"| golem-bridge | {span([r['p50_ms'] for r in blat], '{:.1f}')} | {span([r['p99_ms'] for r in blat], '{:.1f}')} |",
             f"| Celery prefork | {span([r['p50_ms'] for r in clat], '{:.1f}')} | {span([r['p99_ms'] for r in clat], '{:.1f}')} |",
             f"| one sandboxed process start (bwrap + sh) | {span(spawn, '{:.1f}')} | |",
             f"| raw broker round trip (persistent publish, confirm, get) | {span(rtt, '{:.2f}')} | |", "",
             f"Latency target: bridge p50 ≤ 3 × (round trip + sandbox start) = "
             f"{3 * (med(rtt) + med(spawn)):.1f} ms; measured {med([r['p50_ms'] for r in blat]):.1f} ms.", "",
             "### Scaling (jobs/s, a quarter of the jobs)", "", "| concurrency | bridges | jobs/s |", "|---|---|---|"]
    scaling = {}
    for r in pick("bridge_throughput"):
        if r["jobs"] != machine.get("jobs"):
            scaling.setdefault((r["concurrency"], r["bridges"]), []).append(r["jobs_per_s"])
    for (c, b), values in sorted(scaling.items()):
        lines.append(f"| {c} | {b} | {span(values)} |")
    best_key = max(scaling, key=lambda k: med(scaling[k])) if scaling else None
    if best_key:
        best = med(scaling[best_key])
        lines += ["", f"Best bridge configuration above: concurrency {best_key[0]} × {best_key[1]} bridge(s), "
                  f"{best:.0f} jobs/s = **{best / celery_best:.2f}×** the best Celery and "
                  f"**{100 * best / med(combined):.0f}%** of the broker-and-sandbox limit."]
    mem = pick("memory")
    if mem:
        m = mem[-1]
        celery_rss = [r.get("worker_tree_rss_kib_end", 0) / 1024 for r in pick("celery_throughput", pool="prefork")]
        lines += ["", "### Memory (RSS)", "", "| state | MiB |", "|---|---|",
                  f"| bridge idle | {m['idle_rss_kib'] / 1024:.1f} |",
                  f"| bridge, 1,000 jobs in flight (`sleep 5`) | {m['inflight_1000_peak_rss_kib'] / 1024:.1f} |",
                  f"| bridge, {m['queued']:,} requests queued (first → max → last of 20 s) | "
                  f"{m['queued_rss_kib_first'] / 1024:.1f} → {m['queued_rss_kib_max'] / 1024:.1f} → {m['queued_rss_kib_last'] / 1024:.1f} |",
                  f"| Celery prefork worker and children, after the throughput run | {span(celery_rss, '{:.1f}')} |"]
    lines += ["", "![latency](bench/latency.png) ![scaling](bench/scaling.png)", "", END]
    section = "\n".join(lines)

    target = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(target).read() if os.path.exists(target) else "# Benchmarks\n"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    open(target, "w").write(text)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 3.5))
        names = ["bridge p50", "bridge p99", "celery p50", "celery p99"]
        vals = [med([r["p50_ms"] for r in blat]), med([r["p99_ms"] for r in blat]),
                med([r["p50_ms"] for r in clat]), med([r["p99_ms"] for r in clat])]
        ax.bar(names, vals, color=["#2a6", "#2a6", "#c63", "#c63"])
        ax.set_ylabel("ms, submit → end")
        ax.set_title("Latency, 1,000 sequential jobs")
        fig.tight_layout()
        fig.savefig(os.path.join(ROOT, "bench", "latency.png"), dpi=100)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        single = sorted((c, med(v)) for (c, b), v in scaling.items() if b == 1)
        ax.plot([c for c, _ in single], [v for _, v in single], marker="o", label="one bridge")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency")
        ax.set_ylabel("jobs/s")
        ax.set_title("Throughput vs concurrency")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(ROOT, "bench", "scaling.png"), dpi=100)
    except ImportError:
        print("report: matplotlib missing; no plots", file=sys.stderr)
    print(section)


if __name__ == "__main__":
    main(sys.argv[1])
