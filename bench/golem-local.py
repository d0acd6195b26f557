#!/usr/bin/env python3
"""Local Golem network figures, against the real yagna 0.17.6 and our provider agent:
  - start (scripts/golem-local start invoked) -> first Approved agreement with `golem-bridge provider`,
    split into the start script (two fresh nodes), the agent's start (its offer on the provider node),
    the offer reaching the requestor node (broadcast), and the negotiation (allocation, demand, Initial
    proposal, counter, the agent's Draft, agreement confirm and wait);
  - activity create and deploy+start on the new agreement;
  - per-batch exec latency: POST /exec of a one-command `echo` batch -> GET results with isBatchFinished.

Usage: GOLEM_BRIDGE_BIN=.build/release/golem-bridge python3 bench/golem-local.py [repeats=50]
Honours GOLEM_LOCAL_* ports/dir like scripts/golem-local. Prints one JSON line (`"what": "golem_local"`)
on stdout and a Markdown row on stderr. Starts and stops its own nodes and agent.
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
# The local-network tests' helpers (Node, until, DIR in conftest; negotiate, exec_batch in test_provider),
# imported as their package (test_provider imports .conftest).
from golem_local import conftest as _conftest, test_provider as _provider  # noqa: E402
t = types.SimpleNamespace(**{**vars(_conftest), **vars(_provider)})
from golem_pool import wait_for_offer  # noqa: E402

# SIGTERM (bench/run's timeout or trap) unwinds through the `finally`: agent and nodes stopped.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 50
env = dict(os.environ, GOLEM_LOCAL_DIR=str(t.DIR))
agent = None
try:
    t0 = time.monotonic()
    subprocess.run([str(t.SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=180)
    t_nodes = time.monotonic()
    e = t.read_env(t.DIR / "env")
    net = {"req": t.Node("requestor", e["YAGNA_API_URL"], e["YAGNA_APPKEY"], e["GOLEM_LOCAL_REQUESTOR_ID"]),
           "prov": t.Node("provider", e["GOLEM_LOCAL_PROVIDER_API_URL"], e["GOLEM_LOCAL_PROVIDER_APPKEY"], e["GOLEM_LOCAL_PROVIDER_ID"]),
           "platform": e["GOLEM_LOCAL_PAYMENT_PLATFORM"], "subnet": e["GOLEM_LOCAL_SUBNET"]}
    agent_log = open(t.DIR / "bench-agent.log", "wb")
    agent = subprocess.Popen([t.BIN, "provider", "--work-root", str(t.DIR / "provider-work"), "--log-level", "warning",
                              "--subnet", net["subnet"], "--payment-platform", net["platform"]],
                             env=dict(env, GOLEM_LOCAL_PROVIDER_API_URL=e["GOLEM_LOCAL_PROVIDER_API_URL"],
                                      GOLEM_LOCAL_PROVIDER_APPKEY=e["GOLEM_LOCAL_PROVIDER_APPKEY"],
                                      GOLEM_LOCAL_PROVIDER_GSB_URL=e["GOLEM_LOCAL_PROVIDER_GSB_URL"]),
                             stdout=agent_log, stderr=agent_log)
    # The agent is up when its offer is on the provider node.
    t.until("the agent's offer", lambda: agent.poll() is not None or net["prov"].call("GET", "/market-api/v1/offers", 200), 60)
    assert agent.poll() is None, f"the agent exited with {agent.returncode}"
    t_offer = time.monotonic()
    # Fresh nodes learn each other's offers by broadcast: timed apart from the negotiation proper.
    wait_for_offer(e)
    t_seen = time.monotonic()
    deal = t.negotiate(net, interval_sec=120)
    t_approved = time.monotonic()
    req = net["req"]
    activity = t.create_activity(req, deal["agreement"])
    t_activity = time.monotonic()
    t.deploy_start(req, activity)
    t_ready = time.monotonic()
    lat = []
    for i in range(repeats):
        s = time.monotonic()
        res = t.exec_batch(req, activity, [{"run": {"entry_point": "/bin/echo", "args": [str(i)], "capture": t.CAPTURE}}])
        lat.append((time.monotonic() - s) * 1000)
        assert res[0]["stdout"] == f"{i}\n", res
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "bench"})
finally:
    if agent is not None:
        agent.terminate()
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    subprocess.run([str(t.SCRIPT), "stop"], env=env, capture_output=True, timeout=90)
out = {"what": "golem_local", "start_to_first_approved_s": round(t_approved - t0, 3),
       "nodes_start_s": round(t_nodes - t0, 3), "agent_offer_s": round(t_offer - t_nodes, 3),
       "offer_to_requestor_s": round(t_seen - t_offer, 3), "negotiation_s": round(t_approved - t_seen, 3), "activity_create_s": round(t_activity - t_approved, 3),
       "deploy_start_s": round(t_ready - t_activity, 3), "exec_repeats": repeats,
       "exec_ms_median": round(statistics.median(lat), 1), "exec_ms_min": round(min(lat), 1),
       "exec_ms_max": round(max(lat), 1), "exec_ms_p95": round(sorted(lat)[int(0.95 * (len(lat) - 1))], 1)}
print(json.dumps(out), flush=True)
print(f"| {out['start_to_first_approved_s']} s | {out['exec_ms_median']} ms | {out['exec_ms_min']}–{out['exec_ms_max']} ms | {repeats} |",
      file=sys.stderr)
