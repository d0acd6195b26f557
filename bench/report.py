#!/usr/bin/env python3
"""Turns bench/run results files into the generated part of BENCHMARKS.md and two plots.

    python3 bench/report.py [--all] [--print-only] [RESULTS.jsonl ...]

Each table comes from one run: the newest of the given files (by the time in its name) that holds
that table's figures, so a partial run (`bench/run --only golem,memory`) replaces those tables and
the others keep the run they came from; every table names its run. `--all` adds every full run
committed in bench/results (not --quick ones). `--print-only` prints the section and writes nothing.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START, END = "<!-- bridge-bench:start -->", "<!-- bridge-bench:end -->"


class Run:
    def __init__(self, path):
        self.path = os.path.relpath(os.path.abspath(path), ROOT)
        with open(path) as f:
            self.rows = [json.loads(line) for line in f if line.strip().startswith("{")]
        self.machine = next((r for r in self.rows if r["what"] == "machine"), {})
        self.stamp = os.path.basename(path).split(".")[0]

    def pick(self, what, **kw):
        return [r for r in self.rows if r["what"] == what and all(r.get(k) == v for k, v in kw.items())]

    @property
    def cores(self):
        return self.machine.get("cores", 2)

    def name(self):
        return f"`{self.stamp}`"

    def describe(self):
        m = self.machine
        what = f"`{m['command']}`" if m.get("command") else "`bench/run`"
        commit = f", commit {m['commit']}{' + local changes' if m.get('dirty') else ''}" if m.get("commit") else ""
        rounds = f"{m['runs']} round{'s' if m['runs'] != 1 else ''}" if m.get("runs") else "rounds n/a"
        return (f"- {self.name()}: {what}{commit}, {rounds} → `{self.path}`. {m.get('cores')} cores, "
                f"{m.get('mem_gib')} GiB, {m.get('cpu')}, RabbitMQ {m.get('rabbitmq')}, {m.get('swift')}"
                + (f", Celery {m['celery']}" if m.get("celery") else "")
                + (f", Dramatiq {m['dramatiq']}" if m.get("dramatiq") else "") + ".")


def med(values):
    return statistics.median(values) if values else float("nan")


def span(values, fmt="{:.0f}"):
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(med(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def newest(runs, has):
    """The newest run for which has(run) is true, or None."""
    return next((r for r in reversed(runs) if has(r)), None)


def full_jobs(run):
    return run.pick("bridge_throughput", concurrency=run.cores, bridges=1, jobs=run.machine.get("jobs"))


def celery(run, what, pool, sandbox="none"):
    """Celery rows of one pool, with or without the bwrap sandbox (rows before it existed had none)."""
    return [r for r in run.pick(what, pool=pool) if r.get("sandbox", "none") == sandbox]


def dramatiq_threads(run):
    """Dramatiq throughput figures by threads per process: {threads: (processes, [jobs/s, ...])}."""
    out = {}
    for r in run.pick("dramatiq_throughput"):
        out.setdefault(r["threads"], (r["processes"], []))[1].append(r["jobs_per_s"])
    return dict(sorted(out.items()))


def throughput_figures(run):
    limit = [r["jobs_per_s"] for r in run.pick("limit")]
    spawn_rate = [r["bwrap_parallel_per_s"] for r in run.pick("spawn_cost") if "bwrap_parallel_per_s" in r]
    prefork = [r["jobs_per_s"] for r in celery(run, "celery_throughput", "prefork")]
    threads = [r["jobs_per_s"] for r in celery(run, "celery_throughput", "threads")]
    bwrap = [r["jobs_per_s"] for r in celery(run, "celery_throughput", "prefork", sandbox="bwrap")]
    dramatiq = dramatiq_threads(run)
    # What no bridge can beat on this machine: the broker's pattern and one sandbox start per job,
    # sharing the same cores (harmonic combination of the two ceilings).
    combined = [1 / (1 / med(limit) + 1 / s) for s in spawn_rate] if limit else []
    celery_best = max(med(prefork), med(threads)) if prefork and threads else med(prefork or threads)
    dramatiq_best = max((med(v) for _, v in dramatiq.values()), default=None)
    return {"limit": limit, "spawn_rate": spawn_rate, "prefork": prefork, "threads": threads, "bwrap": bwrap,
            "dramatiq": dramatiq, "combined": combined, "celery_best": celery_best, "dramatiq_best": dramatiq_best,
            "bridge": [r["jobs_per_s"] for r in full_jobs(run)]}


def throughput_section(run):
    f = throughput_figures(run)
    jobs = run.machine.get("jobs")
    b = med(f["bridge"])
    lines = ["### Throughput (one `run` step `echo $i` per job, completion seen by the client)", "",
            f"Run {run.name()}.", "",
            "| system | jobs | jobs/s |", "|---|---|---|",
            f"| broker limit (C, same messages per job, no work) | {jobs} | {span(f['limit'])} |",
            f"| sandbox limit (bwrap starts/s, all cores busy, no broker) | | {span(f['spawn_rate'])} |",
            f"| broker-and-sandbox limit (both on the same cores; a fresh sandbox per job, which warm sandboxes no longer pay) | | {span(f['combined'])} |",
            f"| golem-bridge, sandbox on, concurrency {run.cores} | {jobs} | {span(f['bridge'])} |",
            f"| Celery prefork -c {run.cores} (-E) | {jobs} | {span(f['prefork'])} |",
            f"| Celery threads -c 8 (-E) | {jobs} | {span(f['threads'])} |"]
    lines += throughput_section_rows(run, f, jobs)
    ratios = [f"bridge / best Celery (no sandbox) = **{b / f['celery_best']:.2f}×** (target ≥ 2×)"]
    if f["bwrap"]:
        ratios.append(f"bridge / Celery prefork + bwrap = **{b / med(f['bwrap']):.2f}×**")
    if f["dramatiq_best"]:
        ratios.append(f"bridge / best Dramatiq = **{b / f['dramatiq_best']:.2f}×**")
    ratios += [f"bridge / broker-and-sandbox limit = **{100 * b / med(f['combined']):.0f}%** (target ≥ 25%; not a ceiling with warm sandboxes)",
               f"bridge / broker limit alone = {100 * b / med(f['limit']):.0f}%"]
    return lines + ["", "Ratios: " + "; ".join(ratios) + "."]


def throughput_section_rows(run, f, jobs):
    """The rows for the systems added for issue 13 (absent from older results files)."""
    rows = []
    if f["bwrap"]:
        rows.append(f"| Celery prefork -c {run.cores} (-E) + bwrap per task, the bridge's isolation | {jobs} | "
                    f"{span(f['bwrap'])} |")
    for threads, (processes, values) in f["dramatiq"].items():
        rows.append(f"| Dramatiq --processes {processes} --threads {threads} | {jobs} | {span(values)} |")
    return rows


def latency_section(run):
    def row(label, rs):
        return (f"| {label} | {span([r['p50_ms'] for r in rs], '{:.1f}')} | "
                f"{span([r['p99_ms'] for r in rs], '{:.1f}')} |")

    blat, clat = run.pick("bridge_latency"), celery(run, "celery_latency", "prefork")
    # Rows added for issue 13, absent from older results files.
    others = [("Celery prefork + bwrap per task (the bridge's isolation)", "Celery prefork + bwrap",
               celery(run, "celery_latency", "prefork", sandbox="bwrap"))]
    dlat = run.pick("dramatiq_latency")
    if dlat:
        others.append((f"Dramatiq --processes {dlat[0]['processes']} --threads {dlat[0]['threads']}", "Dramatiq", dlat))
    others = [o for o in others if o[2]]
    spawn = [r["bwrap"]["p50_ms"] for r in run.pick("spawn_cost")]
    rtt = [r["p50_ms"] for r in run.pick("raw_roundtrip")]
    p50 = lambda rs: med([r["p50_ms"] for r in rs])
    lines = ["### Latency (1,000 sequential jobs, submit → `ended` / submit → result)", "",
             f"Run {run.name()}.", "",
             "| system | p50 ms | p99 ms |", "|---|---|---|",
             row("golem-bridge", blat), row("Celery prefork", clat), *(row(label, rs) for label, _, rs in others),
             f"| one sandboxed process start (bwrap + sh) | {span(spawn, '{:.1f}')} | |",
             f"| raw broker round trip (persistent publish, confirm, get) | {span(rtt, '{:.2f}')} | |", "",
             f"Latency target: bridge p50 ≤ 3 × (round trip + sandbox start) = "
             f"{3 * (med(rtt) + med(spawn)):.1f} ms; measured {p50(blat):.1f} ms."]
    if others:
        lines.append("p50 ratios: " + "; ".join(f"bridge / {short} = **{p50(blat) / p50(rs):.2f}×**"
                                                for short, rs in [("Celery prefork", clat)] + [(s, rs) for _, s, rs in others])
                     + " (below 1 is faster than it).")
    return lines


def scaling_table(run):
    scaling = {}
    for r in run.pick("bridge_throughput"):
        if r["jobs"] != run.machine.get("jobs"):
            scaling.setdefault((r["concurrency"], r["bridges"]), []).append(r["jobs_per_s"])
    return scaling


def scaling_section(run, reference):
    scaling = scaling_table(run)
    lines = ["### Scaling (jobs/s, a quarter of the jobs)", "", f"Run {run.name()}.", "",
             "| concurrency | bridges | jobs/s |", "|---|---|---|"]
    for (c, b), values in sorted(scaling.items()):
        lines.append(f"| {c} | {b} | {span(values)} |")
    best_key = max(scaling, key=lambda k: med(scaling[k]))
    if reference:
        f = throughput_figures(reference)
        best = med(scaling[best_key])
        source = "" if reference is run else f" (Celery and the limit from run {reference.name()})"
        lines += ["", f"Best bridge configuration above: concurrency {best_key[0]} × {best_key[1]} bridge(s), "
                  f"{best:.0f} jobs/s = **{best / f['celery_best']:.2f}×** the best Celery and "
                  f"**{100 * best / med(f['combined']):.0f}%** of the broker-and-sandbox limit{source}."]
    return lines


def memory_section(run, celery_run):
    mem = run.pick("memory")
    kib = lambda key: [m[key] / 1024 for m in mem]
    queued = {m["queued"] for m in mem}
    lines = ["### Memory (RSS)", "", f"Run {run.name()}: {len(mem)} measurement(s) of `bench.py memory`.", "",
             "| state | MiB |", "|---|---|",
             f"| bridge idle | {span(kib('idle_rss_kib'), '{:.1f}')} |",
             f"| bridge, 1,000 jobs in flight (`sleep 5`), peak | {span(kib('inflight_1000_peak_rss_kib'), '{:.1f}')} |",
             f"| bridge, {', '.join(f'{q:,}' for q in sorted(queued))} requests queued: first sample of 20 s | "
             f"{span(kib('queued_rss_kib_first'), '{:.1f}')} |",
             "| … max of 20 s | " + span(kib("queued_rss_kib_max"), "{:.1f}") + " |",
             "| … last of 20 s | " + span(kib("queued_rss_kib_last"), "{:.1f}") + " |"]
    if celery_run:
        rss = [r.get("worker_tree_rss_kib_end", 0) / 1024 for r in celery(celery_run, "celery_throughput", "prefork")]
        source = "" if celery_run is run else f" (run {celery_run.name()})"
        lines.append(f"| Celery prefork worker and children, after the throughput run{source} | {span(rss, '{:.1f}')} |")
    return lines


def cpu_section(run, celery_best=None):
    lines = ["### The bridge's own CPU per job (`bench/cpu_per_job.py`, local backend, sandbox on, `echo` jobs)", "",
             f"Run {run.name()}: user + system CPU of the `serve` process only (not the sandboxes' processes, "
             "not the broker) over the measured jobs, after 200 untimed ones; context switches of all its threads "
             "(`perf stat`).", "",
             "| jobs, concurrency | CPU ms/job | context switches/job | jobs/s | threads after |", "|---|---|---|---|---|"]
    for c in sorted({r["concurrency"] for r in run.pick("cpu_per_job")}, reverse=True):
        rows = run.pick("cpu_per_job", concurrency=c)
        switches = [r["context_switches_per_job"] for r in rows if r.get("context_switches_per_job") is not None]
        lines.append(f"| {rows[0]['jobs']:,}, {c} | {span([r['cpu_ms_per_job'] for r in rows], '{:.2f}')} | "
                     f"{span(switches, '{:.1f}')} | {span([r['jobs_per_s'] for r in rows])} | "
                     f"{span([r['threads_after'] for r in rows])} |")
    lines += ["", "Goal: ≤ 1 ms per job (issue 13)."]
    if run.pick("machine_cpu"):
        lines += [""] + machine_cpu_section(run, celery_best)
    return lines


MACHINE_PARTS = [("daemon", "bridge / worker process"), ("jobs", "jobs' processes"), ("broker", "broker (beam.smp)"),
                 ("client", "load generator")]


def machine_cpu_section(run, celery_best):
    """CPU ms per job on the whole machine, by part, and the rate the machine's cores allow."""
    rows = run.pick("machine_cpu")
    systems = list(dict.fromkeys(r["system"] for r in rows))
    cores = run.cores
    lines = ["### CPU per job on the whole machine (`bench/machine_cpu.py`, same `echo $i` jobs)", "",
             f"Run {run.name()}: {rows[0]['jobs']:,} jobs submitted at once to each system in turn, after 200 untimed "
             "ones; CPU seconds (user + system, /proc) over the measured jobs of the bridge's `serve` process or the "
             "Celery worker with its pool processes; of every process below it, live or reaped (the bridge's warm "
             "sandboxes: bwrap, `golem-sandbox-warden`, the jobs' `sh`; Celery's tasks' `sh`); of RabbitMQ's "
             "`beam.smp`; of the load generator (the publisher and `ended` counter, or Celery's client and result "
             "reader). \"Machine busy\" is /proc/stat (all but idle and iowait) over the same time; \"other\" is busy "
             "minus the four parts, \"background\" what the rest of the machine ran in the 3 s before, at rest, "
             "scaled to the measured time (the machine is shared). The bound is "
             f"{cores} cores / (sum of the parts): the most jobs/s these four could do if they had the cores to "
             "themselves.", "",
             "| system | jobs/s | " + " | ".join(label for _, label in MACHINE_PARTS)
             + " | sum of parts | machine busy | other | background | bound jobs/s |",
             "|---|---|" + "---|" * (len(MACHINE_PARTS) + 5)]
    figures = {}
    for system in systems:
        rs = [r for r in rows if r["system"] == system]
        g = lambda key: med([r[key] for r in rs])
        figures[system] = {k: g(f"{k}_ms_per_job") for k, _ in MACHINE_PARTS}
        figures[system].update(named=g("named_ms_per_job"), busy=g("busy_ms_per_job"), other=g("other_ms_per_job"),
                               background=g("background_ms_per_job"), rate=g("jobs_per_s"))
        f = figures[system]
        lines.append(f"| {system} | {f['rate']:.0f} | " + " | ".join(f"{f[k]:.2f}" for k, _ in MACHINE_PARTS)
                     + f" | **{f['named']:.2f}** | {f['busy']:.2f} | {f['other']:.2f} | {f['background']:.2f} | "
                     f"{1000 * cores / f['named']:.0f} |")
    bridge = next((figures[s] for s in systems if s.startswith("golem-bridge")), None)
    celeries = {s: f for s, f in figures.items() if s.startswith("Celery")}
    if not bridge or not celeries:
        return lines
    best_name, best = max(celeries.items(), key=lambda kv: kv[1]["rate"])
    reference = celery_best or best["rate"]
    goal = 2 * reference
    budget = 1000 * cores / goal
    rest = bridge["named"] - bridge["daemon"]
    prose = [
        "", "All figures in ms of CPU per job. What bounds the rate: with "
        f"{cores} cores, jobs/s ≤ {cores} / (machine CPU s per job). The bridge's parts add up to "
        f"**{bridge['named']:.2f} ms** per job, so no more than **{1000 * cores / bridge['named']:.0f} jobs/s** "
        f"(measured here {bridge['rate']:.0f}); {best_name}'s add up to {best['named']:.2f} ms "
        f"({1000 * cores / best['named']:.0f} jobs/s at most, measured {best['rate']:.0f}).",
        "", f"2× Celery ({goal:.0f} jobs/s, twice the best Celery of the throughput table, {reference:.0f}) needs at most "
        f"**{budget:.2f} ms** of machine CPU per job, all parts together: the bridge's parts must shrink by "
        f"{bridge['named'] - budget:.2f} ms ({100 * (1 - budget / bridge['named']):.0f}%). "
        + (f"The parts that are not the bridge's process (jobs' processes {bridge['jobs']:.2f}, broker "
           f"{bridge['broker']:.2f}, load generator {bridge['client']:.2f}) already take {rest:.2f} ms, more than the "
           "whole budget: even a bridge process that cost nothing would not reach 2×; the broker's share per job "
           "(its messages per job) and the sandbox side would have to shrink too."
           if rest >= budget else
           f"The parts that are not the bridge's process take {rest:.2f} ms, so the bridge's own process would have "
           f"to fit in {budget - rest:.2f} ms (now {bridge['daemon']:.2f}: {bridge['daemon'] / (budget - rest):.1f}× "
           "too much)."),
        "", "Do the numbers add up? " + "; ".join(
            f"{s}: parts {f['named']:.2f} of busy {f['busy']:.2f} ms/job, other {f['other']:.2f} against a background of "
            f"{f['background']:.2f} ({f['other'] - f['background']:+.2f} unexplained)" for s, f in figures.items())
        + ". An unexplained rest near 0 means the four parts hold the job's CPU; a large one means the machine was "
        "busier during the jobs than at rest (other engineers' work started, or processes outside these trees).",
    ]
    return lines + prose


STEPS = [
    ("negotiation", "negotiation: demand, Initial proposal, counter, the agent's Draft (both nodes), unsubscribe"),
    ("agreement", "agreement: create, confirm, wait for the agent's approval"),
    ("activity_create", "activity create (requestor node → provider node → the agent's exe-unit)"),
    ("deploy_start", "deploy + start batch (exec and result polls)"),
    ("validate", "validation before reuse: activity state + a batch emptying `/golem/work`"),
    ("run", "the job's `run` batch (exec and result polls)"),
]
# Parts of a step above, shown under it, not summed again.
SUBSTEPS = {"run": [("run_exec", "… POST /exec: the batch reaching the agent, and its answer"),
                    ("run_results", "… GET results: the commands running, then their results back")]}


def golem_section(run):
    pools = run.pick("golem_pool")
    modes = [("pool", "rental pool (`--pool-max 4`)"), ("agreement-per-job", "one agreement per job (`--pool-max 0`)")]
    by_mode = {m: [r for r in pools if r["mode"] == m] for m, _ in modes}
    first = pools[0] if pools else {}
    rounds = len({r.get("round") for r in pools}) if pools else 0
    lines = ["### Golem backend: rental pool vs one agreement per job (local Golem network)", "",
             f"Run {run.name()}, {rounds} round(s). Each round on two fresh nodes (`scripts/golem-local`: real yagna "
             "0.17.6, offline, central net on 127.0.0.1) with `golem-bridge provider` on the provider node; "
             f"{first.get('jobs')} jobs of one `run` step (`echo hello`) submitted at once to "
             f"`serve --backend golem --concurrency {first.get('concurrency')}`, release build. Latency is "
             "`created` → `ended` as the client sees it, so it includes the wait for a slot. Per round: "
             f"`python3 bench/golem_pool.py --binary .build/release/golem-bridge --jobs {first.get('jobs')} "
             f"--concurrency {first.get('concurrency')}"
             + (f" --warmup {first['warmup']}` (both modes; {first['warmup']} untimed jobs first, so the pool is warm)."
                if first.get("warmup") else "` (both modes).") , "",
             "| mode | succeeded | jobs/s | latency p50 s | latency p95 s | one slot's time per job s |",
             "|---|---|---|---|---|---|"]
    for m, label in modes:
        rs = by_mode[m]
        if not rs:
            continue
        ok = f"{sum(r['succeeded'] for r in rs)}/{sum(r['jobs'] for r in rs)}"
        lines.append(f"| {label} | {ok} | {span([r['jobs_per_s'] for r in rs], '{:.2f}')} | "
                     f"{span([r['latency_p50_s'] for r in rs], '{:.2f}')} | {span([r['latency_p95_s'] for r in rs], '{:.2f}')} | "
                     f"{span([r['slot_s_per_job'] for r in rs if 'slot_s_per_job' in r], '{:.2f}')} |")
    if by_mode["pool"] and by_mode["agreement-per-job"]:
        ratio = med([r["jobs_per_s"] for r in by_mode["pool"]]) / med([r["jobs_per_s"] for r in by_mode["agreement-per-job"]])
        lines += ["", f"The pool does **{ratio:.1f}×** the jobs/s of one agreement per job."]
    if any("steps" in r for r in pools):
        lines += ["", "Where a job's time goes: seconds per job that the requestor node spent answering each step's "
                  "REST calls (yagna's own access log, `bench/golem_pool.py` `yagna_steps`), median over the rounds; "
                  "calls per job in brackets.", "",
                  "| step | pool | one agreement per job |", "|---|---|---|"]
        def cell(rs, key):
            secs = [r["steps"].get(key, {}).get("s_per_job", 0.0) for r in rs if "steps" in r]
            calls = [r["steps"].get(key, {}).get("calls_per_job", 0.0) for r in rs if "steps" in r]
            return f"{med(secs):.3f} ({med(calls):.1f})" if any(secs) or any(calls) else "–"
        def total(rs):
            return med([sum(r["steps"].get(k, {}).get("s_per_job", 0.0) for k, _ in STEPS) for r in rs if "steps" in r])
        for key, label in STEPS:
            lines.append(f"| {label} | {cell(by_mode['pool'], key)} | {cell(by_mode['agreement-per-job'], key)} |")
            for sub, sublabel in SUBSTEPS.get(key, []):
                if any(sub in r.get("steps", {}) for r in pools):
                    lines.append(f"| {sublabel} | {cell(by_mode['pool'], sub)} | {cell(by_mode['agreement-per-job'], sub)} |")
        lines.append(f"| **sum on the job's path** | {total(by_mode['pool']):.3f} | {total(by_mode['agreement-per-job']):.3f} |")
        lines.append(f"| one slot's time per job (concurrency × wall / jobs) | "
                     f"{med([r['slot_s_per_job'] for r in by_mode['pool']]):.3f} | "
                     f"{med([r['slot_s_per_job'] for r in by_mode['agreement-per-job']]):.3f} |")
        lines.append(f"| end: destroy activity, terminate agreement (in the background, after `ended`) | "
                     f"{cell(by_mode['pool'], 'end')} | {cell(by_mode['agreement-per-job'], 'end')} |")
    cpu = {m: [r["cpu_ms_per_job"] for r in rs if "cpu_ms_per_job" in r] for m, rs in by_mode.items()}
    if cpu["pool"]:
        parts = [("bridge", "the bridge (`serve`)"), ("yagna", "the two yagna nodes"),
                 ("agent", "the provider agent with the sandboxes it ran")]
        g = lambda mode, k: med([c[k] for c in cpu[mode]])
        named = g("pool", "bridge") + g("pool", "yagna") + g("pool", "agent")
        concurrency = first.get("concurrency", 4)
        lines += ["", "CPU ms per job on this machine over the timed jobs (/proc, user + system, reaped children "
                  "included), median over the rounds:", "",
                  "| part | pool | one agreement per job |", "|---|---|---|"]
        extra = [("client", "the load generator (`golem_pool.py`: publishes, reads the events)"),
                 ("busy", "machine busy (/proc/stat: also the machine's other work)")]
        for k, label in parts + extra:
            if not all(k in c for c in cpu["pool"]):
                continue
            other = f"{g('agreement-per-job', k):.2f}" if cpu["agreement-per-job"] else "–"
            lines.append(f"| {label} | {g('pool', k):.2f} | {other} |")
        step = lambda k: med([r["steps"].get(k, {}).get("s_per_job", 0.0) for r in by_mode["pool"] if "steps" in r])
        slot = med([r["slot_s_per_job"] for r in by_mode["pool"]])
        if step("run_exec"):
            lines += ["", f"Where a warm slot's {1000 * slot:.0f} ms go: {1000 * step('run_exec'):.0f} ms in POST /exec "
                      "(yagna relays the batch to the provider node and the agent, and its ack back: no command runs), "
                      f"{1000 * step('run_results'):.0f} ms in GET results (the job's command and the cleanup, each in a "
                      f"sandbox of the agent, and the results back), {1000 * (slot - step('run')):.0f} ms between the "
                      "calls (the bridge: results read, events published, the next job taken, its batch sent). The "
                      "bare batch below is the same two calls with one command, one at a time: at concurrency "
                      f"{concurrency} the calls wait for the CPU the others use."]
        lines += ["", f"With {run.cores} cores, these three parts alone bound the pool at {1000 * run.cores / named:.0f} "
                  f"jobs/s, a slot time of at least {concurrency * named / run.cores / 1000:.3f} s per job at "
                  f"concurrency {concurrency} (measured {med([r['slot_s_per_job'] for r in by_mode['pool']]):.3f} s)."]
    local = run.pick("golem_local")
    if local:
        n = local[0].get("exec_repeats")
        g = lambda key, fmt="{:.2f}": span([r[key] for r in local if key in r], fmt)
        lines += ["", "### Local Golem network: start to first agreement, exec latency", "",
                  f"Run {run.name()}, {len(local)} round(s) of `GOLEM_BRIDGE_BIN=.build/release/golem-bridge python3 "
                  f"bench/golem-local.py {n}`: fresh nodes, `golem-bridge provider`, and a plain-HTTP requestor "
                  "(the test client of `tests/golem_local`, not the bridge).", "",
                  "| figure | seconds or ms |", "|---|---|",
                  f"| start → first Approved agreement | {g('start_to_first_approved_s')} s |",
                  f"| … two fresh nodes (`scripts/golem-local start`) | {g('nodes_start_s')} s |",
                  f"| … the agent's start until its offer is on the provider node | {g('agent_offer_s')} s |",
                  f"| … the offer reaching the requestor node (broadcast between the nodes) | {g('offer_to_requestor_s')} s |",
                  f"| … negotiation: allocation, demand, Initial, counter, Draft, agreement Approved | {g('negotiation_s')} s |",
                  f"| activity create | {g('activity_create_s')} s |",
                  f"| deploy + start batch | {g('deploy_start_s')} s |",
                  f"| one `run /bin/echo` batch, POST /exec → results with `isBatchFinished`: median of {n} | "
                  f"{g('exec_ms_median', '{:.1f}')} ms |",
                  f"| … p95 of {n} | {g('exec_ms_p95', '{:.1f}')} ms |",
                  f"| … min – max of {n} | {span([r['exec_ms_min'] for r in local], '{:.1f}')} – "
                  f"{span([r['exec_ms_max'] for r in local], '{:.1f}')} ms |"]
        if by_mode["pool"]:
            slot = 1000 * med([r["slot_s_per_job"] for r in by_mode["pool"]])
            bare = med([r["exec_ms_median"] for r in local if "exec_ms_median" in r])
            lines += ["", f"A warm pool job's slot time over a bare `run` batch: {slot:.0f} − {bare:.1f} = "
                      f"**{slot - bare:.0f} ms** (goal ≤ 50 ms, issue 13)."]
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="*")
    p.add_argument("--all", action="store_true", help="also every full run in bench/results")
    p.add_argument("--print-only", action="store_true", help="print the section; write nothing")
    args = p.parse_args()
    paths = {os.path.abspath(f) for f in args.files}
    if args.all:
        for f in glob.glob(os.path.join(ROOT, "bench", "results", "*.jsonl")):
            if not Run(f).machine.get("quick"):
                paths.add(os.path.abspath(f))
    if not paths:
        p.error("no results files")
    runs = sorted((Run(f) for f in paths), key=lambda r: r.stamp)

    t_run = newest(runs, lambda r: full_jobs(r) and r.pick("limit") and r.pick("celery_throughput"))
    l_run = newest(runs, lambda r: r.pick("bridge_latency") and r.pick("celery_latency"))
    s_run = newest(runs, lambda r: scaling_table(r))
    m_run = newest(runs, lambda r: r.pick("memory"))
    c_run = newest(runs, lambda r: r.pick("cpu_per_job"))
    g_run = newest(runs, lambda r: r.pick("golem_pool") or r.pick("golem_local"))
    used = [r for r in runs if r in (t_run, l_run, s_run, m_run, c_run, g_run)]

    lines = [START, "## Bridge: against Celery, Dramatiq, the broker's limit and on Golem (issues 7, 13)", "",
             "Generated by `bench/report.py` from these `bench/run` results; each table names its run. "
             "Median (min–max) over the rounds of that run; the machine is shared, so read the ratios.", ""]
    lines += [r.describe() for r in used]
    if t_run:
        lines += [""] + throughput_section(t_run)
    if l_run:
        lines += [""] + latency_section(l_run)
    if s_run:
        lines += [""] + scaling_section(s_run, s_run if throughput_figures(s_run)["limit"] else t_run)
    if m_run:
        lines += [""] + memory_section(m_run, newest(runs, lambda r: r.pick("celery_throughput", pool="prefork")))
    if c_run:
        lines += [""] + cpu_section(c_run, throughput_figures(t_run)["celery_best"] if t_run else None)
    if g_run:
        lines += [""] + golem_section(g_run)
    lines += ["", "![latency](bench/latency.png) ![scaling](bench/scaling.png)", "", END]
    section = "\n".join(lines)
    print(section)
    if args.print_only:
        return

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
    except ImportError:
        print("report: matplotlib missing; no plots", file=sys.stderr)
        return
    if l_run:
        systems = [("bridge", l_run.pick("bridge_latency"), "#2a6"),
                   ("celery", celery(l_run, "celery_latency", "prefork"), "#c63"),
                   ("celery+bwrap", celery(l_run, "celery_latency", "prefork", sandbox="bwrap"), "#a44"),
                   ("dramatiq", l_run.pick("dramatiq_latency"), "#36c")]
        systems = [sy for sy in systems if sy[1]]
        fig, ax = plt.subplots(figsize=(max(6, 2 * len(systems)), 3.5))
        names = [f"{name}\n{p}" for name, _, _ in systems for p in ("p50", "p99")]
        vals = [med([r[f"{p}_ms"] for r in rs]) for _, rs, _ in systems for p in ("p50", "p99")]
        ax.bar(names, vals, color=[color for _, _, color in systems for _ in (0, 1)])
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylabel("ms, submit → end")
        ax.set_title("Latency, 1,000 sequential jobs")
        fig.tight_layout()
        fig.savefig(os.path.join(ROOT, "bench", "latency.png"), dpi=100)
    if s_run:
        scaling = scaling_table(s_run)
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


if __name__ == "__main__":
    main()
