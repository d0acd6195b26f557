#!/usr/bin/env python3
"""Local Golem network figures, against the real yagna 0.17.6 and our provider agent:
  - start (scripts/golem-local start invoked) -> first Approved agreement with `golem-bridge provider`;
  - per-batch exec latency: POST /exec of a one-command `echo` batch -> GET results with isBatchFinished.

Usage: GOLEM_BRIDGE_BIN=.build/release/golem-bridge python3 bench/golem-local.py [repeats=50]
Honours GOLEM_LOCAL_* ports/dir like scripts/golem-local. Prints JSON and a Markdown line.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "golem_local"))
import test_provider as t  # noqa: E402  (helpers: Node, negotiate, exec_batch, ...)

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 50
env = dict(os.environ, GOLEM_LOCAL_DIR=str(t.DIR))
t0 = time.monotonic()
subprocess.run([str(t.SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=180)
e = t.read_env(t.DIR / "env")
net = {"req": t.Node("requestor", e["YAGNA_API_URL"], e["YAGNA_APPKEY"], e["GOLEM_LOCAL_REQUESTOR_ID"]),
       "prov": t.Node("provider", e["GOLEM_LOCAL_PROVIDER_API_URL"], e["GOLEM_LOCAL_PROVIDER_APPKEY"], e["GOLEM_LOCAL_PROVIDER_ID"]),
       "platform": e["GOLEM_LOCAL_PAYMENT_PLATFORM"], "subnet": e["GOLEM_LOCAL_SUBNET"]}
agent = subprocess.Popen([t.BIN, "provider", "--work-root", str(t.DIR / "provider-work"), "--log-level", "warning"],
                         env=dict(env, GOLEM_LOCAL_PROVIDER_API_URL=e["GOLEM_LOCAL_PROVIDER_API_URL"],
                                  GOLEM_LOCAL_PROVIDER_APPKEY=e["GOLEM_LOCAL_PROVIDER_APPKEY"]))
try:
    deal = t.negotiate(net, interval_sec=120)
    approved = time.monotonic() - t0
    req = net["req"]
    activity = t.create_activity(req, deal["agreement"])
    t.deploy_start(req, activity)
    lat = []
    for i in range(repeats):
        s = time.monotonic()
        res = t.exec_batch(req, activity, [{"run": {"entry_point": "/bin/echo", "args": [str(i)], "capture": t.CAPTURE}}])
        lat.append((time.monotonic() - s) * 1000)
        assert res[0]["stdout"] == f"{i}\n", res
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "bench"})
finally:
    agent.terminate()
    agent.wait(30)
    subprocess.run([str(t.SCRIPT), "stop"], env=env, capture_output=True, timeout=90)
out = {"start_to_first_approved_s": round(approved, 2), "exec_repeats": repeats,
       "exec_ms_median": round(statistics.median(lat), 1), "exec_ms_min": round(min(lat), 1), "exec_ms_max": round(max(lat), 1)}
print(json.dumps(out))
print(f"| {out['start_to_first_approved_s']} s | {out['exec_ms_median']} ms | {out['exec_ms_min']}–{out['exec_ms_max']} ms | {repeats} |")
