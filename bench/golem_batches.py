#!/usr/bin/env python3
"""What a warm Golem job's batch costs on our agent, against a bare one: POST /exec -> results with
`isBatchFinished` of `[echo]` and of `[echo, cleanup]` (the command the pool appends to a job's last
`run` batch, StepScript.emptyWorkFolder), and the activity state call (the old check before reuse),
interleaved on one activity, N times each (default 30). Prints one JSON line of medians.

    GOLEM_LOCAL_DIR=... GOLEM_BRIDGE_BIN=.build/release/golem-bridge python3 bench/golem_batches.py 30

Needs a running `scripts/golem-local start`; runs its own agent in a subnet of its own and ends its
activity and agreement afterwards.
"""
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from golem_local import conftest as c  # noqa: E402
from golem_local import test_provider as t  # noqa: E402

e = c.read_env(Path(os.environ["GOLEM_LOCAL_DIR"]) / "env")
subnet = "batch-" + uuid.uuid4().hex[:6]
work = f"/tmp/golem-batches-{subnet}"
net = {"req": c.Node("requestor", e["YAGNA_API_URL"], e["YAGNA_APPKEY"], e["GOLEM_LOCAL_REQUESTOR_ID"]),
       "prov": c.Node("provider", e["GOLEM_LOCAL_PROVIDER_API_URL"], e["GOLEM_LOCAL_PROVIDER_APPKEY"], e["GOLEM_LOCAL_PROVIDER_ID"]),
       "platform": e["GOLEM_LOCAL_PAYMENT_PLATFORM"], "subnet": subnet}
agent = subprocess.Popen([os.environ["GOLEM_BRIDGE_BIN"], "provider", "--work-root", work, "--log-level", "warning",
                          "--subnet", subnet, "--payment-platform", net["platform"]],
                         env=dict(os.environ, GOLEM_LOCAL_PROVIDER_API_URL=e["GOLEM_LOCAL_PROVIDER_API_URL"], GOLEM_LOCAL_PROVIDER_APPKEY=e["GOLEM_LOCAL_PROVIDER_APPKEY"],
                                  GOLEM_LOCAL_PROVIDER_GSB_URL=e["GOLEM_LOCAL_PROVIDER_GSB_URL"]),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    c.until("offer", lambda: net["prov"].call("GET", "/market-api/v1/offers", 200), 60)
    deal = t.negotiate(net, interval_sec=120)
    req = net["req"]
    activity = t.create_activity(req, deal["agreement"])
    t.deploy_start(req, activity)
    clean = {"run": {"entry_point": "/bin/sh", "args": ["-c", "rm -rf /golem/work/* /golem/work/.[!.]* /golem/work/..?* 2>/dev/null; exit 0"], "capture": t.CAPTURE}}
    lat = {"echo": [], "echo+cleanup": [], "state": []}
    for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 30):
        echo = {"run": {"entry_point": "/bin/echo", "args": [str(i)], "capture": t.CAPTURE}}
        s = time.monotonic()
        t.exec_batch(req, activity, [echo])
        lat["echo"].append(time.monotonic() - s)
        s = time.monotonic()
        assert len(t.exec_batch(req, activity, [echo, clean])) == 2
        lat["echo+cleanup"].append(time.monotonic() - s)
        s = time.monotonic()
        req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)
        lat["state"].append(time.monotonic() - s)
    print(json.dumps({k: {"median_ms": round(statistics.median(v) * 1000, 1), "min_ms": round(min(v) * 1000, 1), "max_ms": round(max(v) * 1000, 1), "n": len(v)} for k, v in lat.items()}))
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "bench"})
finally:
    agent.terminate()
    agent.wait(30)
    subprocess.run(["rm", "-rf", work])
