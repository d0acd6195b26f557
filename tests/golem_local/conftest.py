"""Shared support for the local Golem network tests: one network for the whole directory.

`net` (session scope) starts two real offline yagna nodes with scripts/golem-local once, and stops
them after the last test of the directory; `agent` (module scope) runs our provider binary against
the provider node. The plain helpers (Node, until, iso, read_env) are imported by the test modules
with `from .conftest import ...`: this folder is a package (`__init__.py`), so this conftest does not
take the module name `conftest` that tests/e2e imports its own helpers by.
"""

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import timezone
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "golem-local"
DIR = Path(os.environ.get("GOLEM_LOCAL_DIR", ROOT / ".build" / "golem-local"))
if not DIR.is_absolute():
    DIR = ROOT / DIR
BIN = os.environ.get("GOLEM_BRIDGE_BIN", str(ROOT / ".build" / "debug" / "golem-bridge"))

T0 = time.monotonic()  # reset by `net` just before `start`
TIMINGS = {}  # written to $GOLEM_LOCAL_DIR/timings.json
STEPS = []  # "node METHOD path -> status", written to $GOLEM_LOCAL_DIR/test-steps.log


def read_env(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'\"")
    return env


def iso(dt):
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def step(text):
    STEPS.append(f"{time.monotonic() - T0:7.3f}s {text}")


class Node:
    """Plain HTTP against one yagna's REST API with its app key."""

    def __init__(self, name, url, key, identity):
        self.name, self.url, self.identity = name, url.rstrip("/"), identity
        self.s = requests.Session()
        self.s.trust_env = False  # loopback only; ignore any proxy in the caller's environment
        self.s.headers["Authorization"] = f"Bearer {key}"

    def call(self, method, path, expect, *, timeout=60, **kw):
        t = time.monotonic()
        r = self.s.request(method, self.url + path, timeout=timeout, **kw)
        step(f"{self.name:9} {method:6} {path} -> {r.status_code} ({time.monotonic() - t:.3f}s)")
        ok = r.status_code in (expect if isinstance(expect, (tuple, list, set)) else (expect,))
        assert ok, f"{self.name} {method} {path}: HTTP {r.status_code} (want {expect}): {r.text[:800]}"
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            return r.text


def until(what, fn, deadline_s=60):
    """Calls fn() until it returns something truthy; fails naming `what` after the deadline."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {deadline_s}s (last: {str(last)[:500]})")


def golem_local(net, *args, timeout=180):
    """Runs scripts/golem-local with the network's environment; fails the test on a non-zero exit."""
    r = subprocess.run([str(SCRIPT), *args], env=net["proc_env"], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"golem-local {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="session")
def net():
    global T0
    T0 = time.monotonic()
    env = dict(os.environ, GOLEM_LOCAL_DIR=str(DIR))
    r = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=180)
    TIMINGS["start_script_s"] = time.monotonic() - T0
    if r.returncode != 0:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)
        pytest.fail(f"golem-local start failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    e = read_env(DIR / "env")
    req = Node("requestor", e["YAGNA_API_URL"], e["YAGNA_APPKEY"], e["GOLEM_LOCAL_REQUESTOR_ID"])
    prov = Node("provider", e["GOLEM_LOCAL_PROVIDER_API_URL"], e["GOLEM_LOCAL_PROVIDER_APPKEY"],
                e["GOLEM_LOCAL_PROVIDER_ID"])
    try:
        yield {"req": req, "prov": prov, "platform": e["GOLEM_LOCAL_PAYMENT_PLATFORM"],
               "subnet": e["GOLEM_LOCAL_SUBNET"], "env": e, "proc_env": env}
    finally:
        t = time.monotonic()
        r = subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=90)
        TIMINGS["stop_script_s"] = time.monotonic() - t
        print(f"\ngolem-local stop: rc={r.returncode} in {TIMINGS['stop_script_s']:.2f}s {r.stdout.strip()}")
        (DIR / "timings.json").write_text(json.dumps(TIMINGS, indent=1))
        (DIR / "test-steps.log").write_text("\n".join(STEPS) + "\n")


@pytest.fixture(scope="module")
def agent(net):
    """Our provider binary against the provider node; stopped with SIGTERM, which must clean up."""
    # The sandbox runs commands as an unprivileged uid, who must reach the work root: the checkout
    # may sit below a 0700 folder (mktemp -d), /tmp does not.
    work = Path("/tmp/golem-bridge-test") / f"provider-{uuid.uuid4().hex[:8]}"
    log_path = DIR / "provider-agent.log"
    log = open(log_path, "w")
    env = dict(os.environ, **{k: net["env"][k] for k in ("GOLEM_LOCAL_PROVIDER_API_URL", "GOLEM_LOCAL_PROVIDER_APPKEY", "GOLEM_LOCAL_PROVIDER_GSB_URL")})
    p = subprocess.Popen([BIN, "provider", "--work-root", str(work), "--log-level", "debug",
                          "--subnet", net["subnet"], "--payment-platform", net["platform"]],
                         env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        until("the agent's offer on the provider node",
              lambda: p.poll() is not None or net["prov"].call("GET", "/market-api/v1/offers", 200), 60)
        assert p.poll() is None, f"the agent exited with {p.returncode}: {log_path.read_text()[-2000:]}"
        yield {"proc": p, "work": work, "log": log_path}
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
    # graceful shutdown: exit 0, offer unsubscribed, no work directory left
    assert p.returncode == 0, f"agent exit {p.returncode}: {log_path.read_text()[-2000:]}"
    assert net["prov"].call("GET", "/market-api/v1/offers", 200) == []
    assert not work.exists() or list(work.iterdir()) == []
    if work.exists():
        work.rmdir()
