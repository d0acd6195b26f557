"""End to end: our provider agent (`golem-bridge provider`) on the local Golem network.

A test client that is not our code drives the requestor node over plain HTTP (requests), the way
golem-js does (REFERENCE.md §3): allocation, demand, counter, agreement, activity, ExeScript batches,
debit notes, invoice. The provider side is entirely the agent under test, on the provider node.

Run: GOLEM_BRIDGE_BIN=.build/debug/golem-bridge python3 -m pytest -q tests/golem_local/test_provider.py
"""

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "golem-local"
DIR = Path(os.environ.get("GOLEM_LOCAL_DIR", ROOT / ".build" / "golem-local"))
if not DIR.is_absolute():
    DIR = ROOT / DIR
BIN = os.environ.get("GOLEM_BRIDGE_BIN", str(ROOT / ".build" / "debug" / "golem-bridge"))
OFFER_PREFIX = "golem-bridge-local-provider-"


def read_env(path):
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'\"")
    return env


def iso(dt):
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Node:
    def __init__(self, name, url, key, identity):
        self.name, self.url, self.identity = name, url.rstrip("/"), identity
        self.s = requests.Session()
        self.s.trust_env = False
        self.s.headers["Authorization"] = f"Bearer {key}"

    def call(self, method, path, expect, *, timeout=60, **kw):
        r = self.s.request(method, self.url + path, timeout=timeout, **kw)
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


@pytest.fixture(scope="module")
def net():
    env = dict(os.environ, GOLEM_LOCAL_DIR=str(DIR))
    r = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)
        pytest.fail(f"golem-local start failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    e = read_env(DIR / "env")
    req = Node("requestor", e["YAGNA_API_URL"], e["YAGNA_APPKEY"], e["GOLEM_LOCAL_REQUESTOR_ID"])
    prov = Node("provider", e["GOLEM_LOCAL_PROVIDER_API_URL"], e["GOLEM_LOCAL_PROVIDER_APPKEY"], e["GOLEM_LOCAL_PROVIDER_ID"])
    try:
        yield {"req": req, "prov": prov, "platform": e["GOLEM_LOCAL_PAYMENT_PLATFORM"], "subnet": e["GOLEM_LOCAL_SUBNET"],
               "env": e}
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def agent(net):
    """Our provider binary against the provider node; stopped with SIGTERM, which must clean up."""
    work = DIR / "provider-work"
    log = open(DIR / "provider-agent.log", "w")
    env = dict(os.environ, **{k: net["env"][k] for k in ("GOLEM_LOCAL_PROVIDER_API_URL", "GOLEM_LOCAL_PROVIDER_APPKEY")})
    p = subprocess.Popen([BIN, "provider", "--work-root", str(work), "--log-level", "debug",
                          "--subnet", net["subnet"], "--payment-platform", net["platform"]],
                         env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        until("the agent's offer on the provider node",
              lambda: p.poll() is not None or net["prov"].call("GET", "/market-api/v1/offers", 200), 60)
        assert p.poll() is None, f"the agent exited with {p.returncode}: {(DIR / 'provider-agent.log').read_text()[-2000:]}"
        yield {"proc": p, "work": work}
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
    assert p.returncode == 0, f"agent exit {p.returncode}: {(DIR / 'provider-agent.log').read_text()[-2000:]}"
    assert net["prov"].call("GET", "/market-api/v1/offers", 200) == []
    assert not work.exists() or list(work.iterdir()) == []


def negotiate(net, interval_sec=2):
    """Allocation, demand, our offer as a proposal, counter, the agent's Draft, agreement Approved."""
    req, prov, platform, subnet = net["req"], net["prov"], net["platform"], net["subnet"]
    now = datetime.now(timezone.utc)
    alloc = req.call("POST", "/payment-api/v1/allocations", 201, json={
        "totalAmount": "1.0", "paymentPlatform": platform, "address": req.identity,
        "timeout": iso(now + timedelta(hours=1)), "makeDeposit": False})
    deco = req.call("GET", "/payment-api/v1/demandDecorations", 200, params={"allocationIds": alloc["allocationId"]})
    props = {
        "golem.srv.caps.multi-activity": True,
        "golem.node.debug.subnet": subnet,
        "golem.srv.comp.expiration": int((now + timedelta(minutes=30)).timestamp() * 1000),
        "golem.srv.comp.vm.package_format": "gvmkit-squash",
        "golem.srv.comp.task_package": "hash:sha3:" + "d" * 56 + ":http://127.0.0.1:1/image.gvmi",
        "golem.com.scheme.payu.debit-note.interval-sec?": interval_sec,
        "golem.com.scheme.payu.payment-timeout-sec?": 120,
        "golem.com.payment.debit-notes.accept-timeout?": 240,
        **{p["key"]: p["value"] for p in deco["properties"]},
    }
    cons = ("(&(golem.com.pricing.model=linear)(golem.node.debug.subnet=%s)(golem.runtime.name=vm)"
            "(golem.inf.mem.gib>=0.5)(golem.inf.storage.gib>=2)(golem.inf.cpu.threads>=1)%s)"
            % (subnet, "".join(deco["constraints"])))
    demand_id = req.call("POST", "/market-api/v1/demands", 201, json={"properties": props, "constraints": cons})
    events = f"/market-api/v1/demands/{demand_id}/events"

    def proposal(state, prev=None):
        for ev in req.call("GET", events, 200, params={"timeout": 2, "maxEvents": 20}):
            p = ev.get("proposal") or {}
            if (ev.get("eventType") == "ProposalEvent" and p.get("state") == state and p.get("issuerId") == prov.identity
                    and p["properties"].get("golem.node.id.name", "").startswith(OFFER_PREFIX)
                    and (prev is None or p.get("prevProposalId") == prev)):
                return p

    p0 = until("the agent's offer as an Initial proposal", lambda: proposal("Initial"))
    assert p0["properties"]["golem.com.pricing.model"] == "linear"
    assert p0["properties"]["golem.com.usage.vector"] == ["golem.usage.cpu_sec", "golem.usage.duration_sec"]
    assert len(p0["properties"]["golem.com.pricing.model.linear.coeffs"]) == 3
    assert p0["properties"][f"golem.com.payment.platform.{platform}.address"] == prov.identity
    counter_id = req.call("POST", f"{events[:-len('/events')]}/proposals/{p0['proposalId']}", (200, 201),
                          json={"properties": {**props, "golem.com.payment.chosen-platform": platform}, "constraints": cons})
    draft = until("the agent's counter (Draft)", lambda: proposal("Draft", counter_id))
    agreement_id = req.call("POST", "/market-api/v1/agreements", (200, 201), json={
        "proposalId": draft["proposalId"], "validTo": iso(datetime.now(timezone.utc) + timedelta(hours=1))})
    session = f"test-{uuid.uuid4().hex[:8]}"
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/confirm", 204, params={"appSessionId": session})
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/wait", 204, params={"timeout": 30}, timeout=45)
    assert req.call("GET", f"/market-api/v1/agreements/{agreement_id}", 200)["state"] == "Approved"
    req.call("DELETE", f"/market-api/v1/demands/{demand_id}", 204)
    return {"agreement": agreement_id, "allocation": alloc["allocationId"], "session": session, "t": iso(now)}


def exec_batch(req, activity, commands, wait_s=60):
    batch = req.call("POST", f"/activity-api/v1/activity/{activity}/exec", 200, json={"text": json.dumps(commands)})
    assert isinstance(batch, str) and batch

    def results():
        r = req.s.get(f"{req.url}/activity-api/v1/activity/{activity}/exec/{batch}", params={"timeout": 5}, timeout=30)
        if r.status_code == 408:
            return None
        assert r.status_code == 200, f"GET exec results: HTTP {r.status_code}: {r.text[:500]}"
        res = r.json()
        return res if res and res[-1]["isBatchFinished"] else None

    return until(f"batch {batch} finished", results, wait_s)


def create_activity(req, agreement):
    a = req.call("POST", "/activity-api/v1/activity", (200, 201), params={"timeout": 30}, timeout=45,
                 json={"agreementId": agreement})
    activity = a["activityId"] if isinstance(a, dict) else a
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Initialized"
    return activity


def deploy_start(req, activity):
    res = exec_batch(req, activity, [{"deploy": {"env": {"GREETING": "hi"}}}, {"start": {}}])
    assert [r["result"] for r in res] == ["Ok", "Ok"], res
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Ready"


CAPTURE = {"stdout": {"atEnd": {"format": "string"}}, "stderr": {"atEnd": {"format": "string"}}}


def payment_event(req, kind, doc_path, agreement, after, deadline_s=60):
    """The first `kind` event (DebitNoteReceivedEvent / InvoiceReceivedEvent) of `agreement`."""
    state = {"after": after}

    def look():
        evs = req.call("GET", f"/payment-api/v1/{kind}", 200, params={"afterTimestamp": state["after"], "timeout": 2})
        for ev in evs:
            state["after"] = ev["eventDate"]
            key = "debitNoteId" if "debitNoteId" in ev else "invoiceId"
            if ev["eventType"].endswith("ReceivedEvent"):
                doc = req.call("GET", f"/payment-api/v1/{doc_path}/{ev[key]}", 200)
                if doc["agreementId"] == agreement:
                    return doc
    return until(f"{kind} for agreement {agreement}", look, deadline_s)


def test_full_run(net, agent):
    req = net["req"]
    deal = negotiate(net)
    activity = create_activity(req, deal["agreement"])
    work_dir = agent["work"] / activity
    assert work_dir.is_dir(), "the agent creates a work directory per activity"
    deploy_start(req, activity)

    res = exec_batch(req, activity, [{"run": {"entry_point": "/bin/echo", "args": ["hello"], "capture": CAPTURE}},
                                     {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo $GREETING; pwd"], "capture": CAPTURE}}])
    assert [r["result"] for r in res] == ["Ok", "Ok"], res
    assert res[0]["stdout"] == "hello\n" and res[0]["index"] == 0 and not res[0]["isBatchFinished"]
    assert res[1]["stdout"] == "hi\n/golem/work\n", "deploy env reaches run; cwd is /golem/work"
    assert res[1]["isBatchFinished"] and res[0]["eventDate"]

    res = exec_batch(req, activity, [{"run": {"entry_point": "/bin/sh", "args": ["-c", "echo oops >&2; exit 3"], "capture": CAPTURE}},
                                     {"run": {"entry_point": "/bin/echo", "args": ["never"], "capture": CAPTURE}}])
    assert len(res) == 1, f"the batch stops at its first failure: {res}"
    assert res[0]["result"] == "Error" and res[0]["isBatchFinished"]
    assert res[0]["message"] == "ExeScript command exited with code 3" and res[0]["stderr"] == "oops\n"

    # an upload and a download the way the bridge's Golem backend moves files: base64 through run
    res = exec_batch(req, activity, [
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo aGVsbG8gZmlsZQ== | base64 -d > /golem/work/in.txt"], "capture": CAPTURE}},
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "base64 -w0 /golem/work/in.txt"], "capture": CAPTURE}}])
    assert res[1]["stdout"] == "aGVsbG8gZmlsZQ==", res

    note = payment_event(req, "debitNoteEvents", "debitNotes", deal["agreement"], deal["t"])
    assert note["activityId"] == activity and float(note["totalAmountDue"]) > 0 and len(note["usageCounterVector"]) == 2
    req.call("POST", f"/payment-api/v1/debitNotes/{note['debitNoteId']}/accept", 200,
             json={"totalAmountAccepted": note["totalAmountDue"], "allocationId": deal["allocation"]})

    res = exec_batch(req, activity, [{"terminate": {}}])
    assert res[0]["result"] == "Ok"
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Terminated"
    assert not work_dir.exists(), "the work directory is removed on DestroyActivity"
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})

    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert invoice["activityIds"] == [activity] and float(invoice["amount"]) >= float(note["totalAmountDue"])
    req.call("POST", f"/payment-api/v1/invoices/{invoice['invoiceId']}/accept", 200,
             json={"totalAmountAccepted": invoice["amount"], "allocationId": deal["allocation"]})
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_two_activities_at_once(net, agent):
    req = net["req"]
    deal = negotiate(net, interval_sec=120)
    a, b = create_activity(req, deal["agreement"]), create_activity(req, deal["agreement"])
    deploy_start(req, a)
    deploy_start(req, b)
    # both activities hold a batch at the same time; each answers on its own GSB service
    batch_a = req.call("POST", f"/activity-api/v1/activity/{a}/exec", 200, json={"text": json.dumps([
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo A"], "capture": CAPTURE}}])})
    res_b = exec_batch(req, b, [{"run": {"entry_point": "/bin/sh", "args": ["-c", "echo B; ls /golem/work"], "capture": CAPTURE}}])
    res_a = until("A's results", lambda: req.call("GET", f"/activity-api/v1/activity/{a}/exec/{batch_a}", (200, 408), params={"timeout": 5}))
    assert res_a[0]["stdout"] == "A\n" and res_b[0]["stdout"] == "B\n", "separate work directories, separate results"
    for act in (a, b):
        req.call("DELETE", f"/activity-api/v1/activity/{act}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert sorted(invoice["activityIds"]) == sorted([a, b])
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_terminated_agreement_cleans_up(net, agent):
    req = net["req"]
    deal = negotiate(net, interval_sec=120)
    activity = create_activity(req, deal["agreement"])
    deploy_start(req, activity)
    batch = req.call("POST", f"/activity-api/v1/activity/{activity}/exec", 200, json={"text": json.dumps([
        {"run": {"entry_point": "/bin/sleep", "args": ["600"], "capture": CAPTURE}}])})
    until("the sleep running", lambda: (agent["work"] / activity).is_dir() and req.call(
        "GET", f"/activity-api/v1/activity/{activity}/command", (200, 404, 500)))
    # the requestor walks away without destroying the activity
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "cancelled"})
    until("the activity Terminated by the agent",
          lambda: req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Terminated")
    assert not (agent["work"] / activity).exists(), "the agent kills the command and removes the work directory"
    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert invoice["activityIds"] == [activity]
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)
    assert batch
