"""The contract end to end with `serve --backend golem`, against the real yagna of scripts/golem-local
(scripts/test starts it). Each test uses its own subnet, so no provider answers unless the test
plays one; the checks that run commands start our provider agent (`golem-bridge provider`).
"""
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import Bridge, Client, job

ROOT = Path(__file__).resolve().parents[2]
GOLEM_DIR = Path(os.environ.get("GOLEM_LOCAL_DIR", ROOT / ".build" / "golem-local"))
if not GOLEM_DIR.is_absolute():
    GOLEM_DIR = ROOT / GOLEM_DIR


def golem_env():
    path = GOLEM_DIR / "env"
    if not path.exists():
        pytest.fail(f"no {path}: run scripts/golem-local start (scripts/test does)")
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'\"")
    return env


class Yagna:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.s = requests.Session()
        self.s.trust_env = False
        self.s.headers["Authorization"] = f"Bearer {key}"

    def get(self, path, **params):
        r = self.s.get(self.url + path, params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def demands(self, subnet):
        return [d["demandId"] for d in self.get("/market-api/v1/demands")
                if d["properties"].get("golem.node.debug.subnet") == subnet]


@pytest.fixture
def golem(tmp_path, prefix):
    env = golem_env()
    subnet = f"e2e-{uuid.uuid4().hex[:8]}"
    yagna = Yagna(env["YAGNA_API_URL"], env["YAGNA_APPKEY"])
    # The key reaches the bridge through a file, as in production (never on the command line).
    key_file = tmp_path / "appkey"
    key_file.write_text(env["YAGNA_APPKEY"] + "\n")
    key_file.chmod(0o600)

    def start(negotiation=600, extra=()):
        return Bridge(tmp_path, prefix, extra=[
            "--backend", "golem", "--yagna-api-url", env["YAGNA_API_URL"], "--yagna-appkey-file", str(key_file),
            "--payment-platform", env["GOLEM_LOCAL_PAYMENT_PLATFORM"], "--subnet", subnet,
            "--negotiation-timeout", str(negotiation), "--budget", "1",
            "--image-hash", "d" * 56, "--image-url", "http://127.0.0.1:1/image.gvmi", *extra]).start()

    bridges = []
    yield {"start": lambda **kw: bridges.append(start(**kw)) or bridges[-1], "yagna": yagna, "subnet": subnet}
    for b in bridges:
        b.terminate()
    assert yagna.demands(subnet) == [], "a demand outlived the bridge"


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def test_cancel_while_negotiating_ends_canceled_and_unsubscribes(golem, client):
    bridge = golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-cancel-neg"))
    wait_for(lambda: golem["yagna"].demands(golem["subnet"]), what="the job's demand on the market")
    asker = Client(client.prefix)  # status replies share no queue with the events followed here
    try:
        assert asker.status("g-cancel-neg")["state"] == "new"
    finally:
        asker.close()
    t = time.time()
    client.cancel("g-cancel-neg", reason="changed my mind")
    events = client.events(until_ended=["g-cancel-neg"], timeout=10)
    kinds = [e["data"]["event"] for e in events]
    assert kinds == ["created", "canceled", "ended"], kinds
    assert time.time() - t < 5
    assert events[1]["data"]["error"]["code"] == "canceled"
    wait_for(lambda: not golem["yagna"].demands(golem["subnet"]), timeout=5, what="the demand unsubscribed")
    assert bridge.terminate() == 0


def test_no_offer_in_time_is_no_provider_and_not_retried(golem, client):
    golem["start"](negotiation=2)
    client.follow("job.*.*")
    client.submit(job("g-none", maxAttempts=3))
    events = client.events(until_ended=["g-none"], timeout=30)
    kinds = [e["data"]["event"] for e in events]
    assert kinds == ["created", "error", "ended"], kinds
    assert events[1]["data"]["error"]["code"] == "no_provider"
    assert "subnet" in events[1]["data"]["error"]["message"]


def test_bad_input_is_dead_lettered_with_the_golem_backend(golem, client, prefix):
    golem["start"]()
    client.submit(None, raw=b"{not json")
    conn_ch = client.ch
    deadline = time.time() + 10
    while time.time() < deadline:
        method, props, body = conn_ch.basic_get(f"{prefix}.jobs.dead", auto_ack=True)
        if method:
            assert props.headers["x-golem-error-code"] == "not_json"
            break
        client.conn.sleep(0.05)
    else:
        raise AssertionError("nothing dead-lettered")
    assert client.status("never-seen")["state"] == "unknown"


def recorded_allocation(state_path):
    import sqlite3
    try:
        with sqlite3.connect(f"file:{state_path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM setting WHERE name = 'allocation'").fetchone()
            return row[0] if row else None
    except sqlite3.Error:
        return None


def test_the_allocation_is_released_when_the_bridge_stops(golem, tmp_path):
    bridge = golem["start"]()
    state = bridge.journal + ".golem"
    wait_for(lambda: recorded_allocation(state), what="the allocation recorded")
    allocation = recorded_allocation(state)
    assert golem["yagna"].get(f"/payment-api/v1/allocations/{allocation}")["allocationId"] == allocation
    assert bridge.terminate() == 0
    r = golem["yagna"].s.get(f"{golem['yagna'].url}/payment-api/v1/allocations/{allocation}", timeout=10)
    assert r.status_code in (404, 410), f"the allocation is still there: {r.status_code} {r.text[:200]}"
    assert recorded_allocation(state) is None
    log = open(bridge.log_path, "rb").read()
    assert golem_env()["YAGNA_APPKEY"].encode() not in log


# --- with the provider agent: `golem-bridge provider` on the provider node ----------------------------

import base64  # noqa: E402
import signal as _signal  # noqa: E402
import subprocess  # noqa: E402

from conftest import bridge_binary  # noqa: E402


def provider_binary():
    candidate = os.environ.get("GOLEM_PROVIDER_BIN") or bridge_binary()
    r = subprocess.run([candidate, "provider", "--help"], capture_output=True)
    if r.returncode != 0:
        pytest.fail(f"no provider agent: `{candidate} provider --help` failed ({r.returncode}): {r.stderr.decode()[:300]}")
    return candidate


def start_provider(golem, tmp_path, **extra_env):
    env = golem_env()
    penv = dict(os.environ, GOLEM_LOCAL_PROVIDER_API_URL=env["GOLEM_LOCAL_PROVIDER_API_URL"],
                GOLEM_LOCAL_PROVIDER_APPKEY=env["GOLEM_LOCAL_PROVIDER_APPKEY"],
                GOLEM_LOCAL_PROVIDER_GSB_URL=env["GOLEM_LOCAL_PROVIDER_GSB_URL"],
                GOLEM_BRIDGE_PROVIDER_WORK_ROOT=f"/tmp/golem-bridge-e2e/prov-{golem['subnet']}", **extra_env)
    log = open(tmp_path / "provider.log", "wb")
    proc = subprocess.Popen([provider_binary(), "provider", "--subnet", golem["subnet"],
                             "--payment-platform", env["GOLEM_LOCAL_PAYMENT_PLATFORM"]], env=penv, stdout=log, stderr=log)
    yield proc
    proc.send_signal(_signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    import shutil
    shutil.rmtree(penv["GOLEM_BRIDGE_PROVIDER_WORK_ROOT"], ignore_errors=True)


@pytest.fixture
def provider(golem, tmp_path):
    yield from start_provider(golem, tmp_path)


@pytest.fixture
def chunk_dropping_provider(golem, tmp_path):
    """The agent with a fault on purpose: each transfer to gftp:// loses its last chunk."""
    yield from start_provider(golem, tmp_path, GOLEM_BRIDGE_PROVIDER_TEST_FAULTS="gftp-drop-last-chunk")


def approved_agreements(yagna, subnet):
    """Approved agreements on the node of `yagna` (the requestor's unless told) whose demand is in
    `subnet` (this test's)."""
    ours = []
    for entry in yagna.get("/market-api/v1/agreements", state="Approved"):
        agreement = yagna.get(f"/market-api/v1/agreements/{entry['id']}")
        if agreement["state"] == "Approved" and agreement["demand"]["properties"].get("golem.node.debug.subnet") == subnet:
            ours.append(entry["id"])
    return ours


def invoices_of(yagna, subnet):
    out = []
    for invoice in yagna.get("/payment-api/v1/invoices"):
        agreement = yagna.get(f"/market-api/v1/agreements/{invoice['agreementId']}")
        if agreement["demand"]["properties"].get("golem.node.debug.subnet") == subnet:
            out.append(invoice)
    return out


def test_lifecycle_with_result_on_a_provider(golem, provider, client):
    bridge = golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-life",
                      {"uploadData": {"to": "/golem/work/in.txt", "base64": "aGVsbG8K"}},
                      {"run": "wc -c < /golem/work/in.txt > /golem/work/out.txt"},
                      {"run": {"command": "/bin/echo", "args": ["Hello, Golem!"], "env": {"A": "1"}}},
                      {"downloadData": {"from": "/golem/work/out.txt"}},
                      {"uploadJson": {"to": "/golem/work/v.json", "value": {"a": [1, 2]}}},
                      {"downloadJson": {"from": "/golem/work/v.json"}},
                      labels={"customer": "acme"}))
    events = client.events(until_ended=["g-life"], timeout=60)
    kinds = [e["data"]["event"] for e in events if e["data"]["event"] != "progress"]
    assert kinds == ["created", "started", "success", "ended"], kinds
    started = next(e for e in events if e["data"]["event"] == "started")
    assert started["data"]["provider"]["id"].startswith("0x") and started["data"]["provider"]["name"]
    success = next(e for e in events if e["data"]["event"] == "success")
    result = success["data"]["result"]
    assert result["output"] == "Hello, Golem!\n"
    steps = {s["index"]: s for s in result["steps"]}
    assert base64.b64decode(steps[3]["base64"]) == b"6\n"
    assert steps[5]["value"] == {"a": [1, 2]} or json.loads(base64.b64decode(steps[5].get("base64", "")) or "null") == {"a": [1, 2]}
    assert success["data"]["provider"] == started["data"]["provider"]
    assert bridge.terminate() == 0
    assert approved_agreements(golem["yagna"], golem["subnet"]) == [], "an agreement outlived the bridge"
    assert [i["status"] for i in invoices_of(golem["yagna"], golem["subnet"])] == ["ACCEPTED"]


def test_a_download_of_several_ranges_arrives_verified_and_intact(golem, provider, client):
    """300 kB of random bytes downloaded by GFTP (8 chunks of 40 KiB), checked against the provider's
    sha256sum; an upload of 500 kB is measured by the provider after its GFTP transfer."""
    golem["start"]()
    client.follow("job.*.*")
    payload = os.urandom(500_000)
    client.submit(job("g-verified",
                      {"uploadData": {"to": "/golem/work/in.bin", "base64": base64.b64encode(payload).decode()}},
                      {"run": "head -c 300000 /dev/urandom > /golem/work/big && sha256sum < /golem/work/big && sha256sum < /golem/work/in.bin"},
                      {"downloadData": {"from": "/golem/work/big"}}, maxAttempts=1))
    events = client.events(until_ended=["g-verified"], timeout=120)
    kinds = [e["data"]["event"] for e in events if e["data"]["event"] != "progress"]
    assert kinds == ["created", "started", "success", "ended"], kinds
    result = next(e for e in events if e["data"]["event"] == "success")["data"]["result"]
    steps = {s["index"]: s for s in result["steps"]}
    big_hash, in_hash = [line.split()[0] for line in steps[1]["stdout"].splitlines()]
    assert in_hash == hashlib.sha256(payload).hexdigest()
    big = base64.b64decode(steps[2]["base64"])
    assert len(big) == 300_000 and hashlib.sha256(big).hexdigest() == big_hash


def test_a_download_that_loses_a_chunk_is_retried_then_fails_by_name(golem, chunk_dropping_provider, client):
    """What this proves: a GFTP download whose bytes arrive short (the agent drops the last chunk
    on purpose, GOLEM_BRIDGE_PROVIDER_TEST_FAULTS) is refused by the SHA3-256 the provider sends,
    received again, and after the last attempt fails as provider_failed naming the file and the cause."""
    golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-altered",
                      {"run": "head -c 100000 /dev/urandom > /golem/work/lossy"},
                      {"downloadData": {"from": "/golem/work/lossy"}}, maxAttempts=1))
    events = client.events(until_ended=["g-altered"], timeout=120)
    kinds = [e["data"]["event"] for e in events if e["data"]["event"] != "progress"]
    assert kinds == ["created", "started", "error", "ended"], kinds
    error = next(e for e in events if e["data"]["event"] == "error")["data"]["error"]
    assert error["code"] == "provider_failed", error
    message = error["message"]
    assert "/golem/work/lossy" in message and "after 3 GFTP attempts" in message and "hash mismatch" in message, error


def test_a_download_of_a_symlink_is_refused_as_the_jobs_fault(golem, provider, client):
    """A file the agent will not read (a link: it never follows one out of the work folder) fails
    the step as command_failed at once, not as a transfer to retry."""
    golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-link",
                      {"run": "ln -s /proc/self/stat /golem/work/changing"},
                      {"downloadData": {"from": "/golem/work/changing"}}, maxAttempts=1))
    events = client.events(until_ended=["g-link"], timeout=120)
    error = next(e for e in events if e["data"]["event"] == "error")["data"]["error"]
    assert error["code"] == "command_failed", error
    assert "/golem/work/changing" in error["message"], error


@pytest.mark.skipif(not os.environ.get("GOLEM_BENCH_TRANSFER_MIB"), reason="benchmark: set GOLEM_BENCH_TRANSFER_MIB")
def test_bench_a_verified_round_trip(golem, provider, client):
    """Uploads N MiB by GFTP, has the provider check it, downloads it back by GFTP: BENCHMARKS.md, *GFTP transfers*."""
    size = int(os.environ["GOLEM_BENCH_TRANSFER_MIB"]) << 20
    golem["start"](extra=["--max-request-bytes", str(size * 3 // 2 + (1 << 20))])
    client.follow("job.*.*")
    payload = os.urandom(size)
    started = time.time()
    client.submit(job("g-bench", {"uploadData": {"to": "/golem/work/in.bin", "base64": base64.b64encode(payload).decode()}},
                      {"downloadData": {"from": "/golem/work/in.bin"}}, maxAttempts=1))
    events = client.events(until_ended=["g-bench"], timeout=1800)
    elapsed = time.time() - started
    kinds = [e["data"]["event"] for e in events if e["data"]["event"] != "progress"]
    assert kinds == ["created", "started", "success", "ended"], kinds
    steps = next(e for e in events if e["data"]["event"] == "success")["data"]["result"]["steps"]
    assert base64.b64decode(steps[1]["base64"]) == payload
    print(f"BENCH verified round trip of {size >> 20} MiB: {elapsed:.1f} s submit to ended")


def test_the_strict_agent_takes_the_bridges_terms_and_bare_commands(golem, provider, client):
    """The agent holds demands to ya-provider's rules and runs entry points without a PATH lookup, as
    a VM does: the bridge's terms must fit those rules and a bare command must reach a shell."""
    bridge = golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-strict", {"run": {"command": "echo", "args": ["bare $HOME"]}}, market={"rentHours": 0.1}))
    events = client.events(until_ended=["g-strict"], timeout=60)
    success = next((e for e in events if e["data"]["event"] == "success"), None)
    assert success, [e["data"] for e in events]
    assert success["data"]["result"]["output"] == "bare $HOME\n", "found on PATH, its argument untouched"
    agreements = [a for a in golem["yagna"].get("/market-api/v1/agreements")
                  if golem["yagna"].get(f"/market-api/v1/agreements/{a['id']}")["demand"]["properties"].get(
                      "golem.node.debug.subnet") == golem["subnet"]]
    assert len(agreements) == 1, agreements
    terms = golem["yagna"].get(f"/market-api/v1/agreements/{agreements[0]['id']}")
    demand, offer = terms["demand"]["properties"], terms["offer"]["properties"]
    for key, value in [("golem.com.payment.debit-notes.accept-timeout?", 120),
                       ("golem.com.scheme.payu.payment-timeout-sec?", 12 * 3600),
                       ("golem.com.scheme.payu.debit-note.interval-sec?", 120)]:
        assert demand[key] == value and offer[key] == value, (key, demand.get(key), offer.get(key))
    assert bridge.terminate() == 0


def test_cancel_while_running_terminates_the_rental(golem, provider, client):
    bridge = golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-cancel-run", {"run": "sleep 60"}))
    seen = client.events(count=2, timeout=30)  # created, started (the image is deployed by then)
    assert [e["data"]["event"] for e in seen] == ["created", "started"]
    wait_for(lambda: approved_agreements(golem["yagna"], golem["subnet"]), what="the job's agreement")
    t = time.time()
    client.cancel("g-cancel-run")
    events = client.events(until_ended=["g-cancel-run"], timeout=10)
    assert [e["data"]["event"] for e in events] == ["canceled", "ended"]
    assert time.time() - t < 5
    wait_for(lambda: not approved_agreements(golem["yagna"], golem["subnet"]), timeout=10, what="the agreement terminated")
    assert bridge.terminate() == 0


def test_debit_notes_and_invoices_are_accepted(golem, provider, client):
    bridge = golem["start"](extra=["--debit-note-interval", "2"])
    client.follow("job.*.*")
    client.submit(job("g-pay", {"run": "sleep 7"}))
    events = client.events(until_ended=["g-pay"], timeout=60)
    assert "success" in [e["data"]["event"] for e in events]
    assert bridge.terminate() == 0
    notes = [n for n in golem["yagna"].get("/payment-api/v1/debitNotes")
             if n["agreementId"] in {i["agreementId"] for i in invoices_of(golem["yagna"], golem["subnet"])}]
    assert notes, "no debit note was issued"
    assert {n["status"] for n in notes} <= {"ACCEPTED", "SETTLED"}, notes
    assert {i["status"] for i in invoices_of(golem["yagna"], golem["subnet"])} <= {"ACCEPTED", "SETTLED"}


def test_kill_9_and_restart_leave_no_agreement_behind(golem, provider, client):
    bridge = golem["start"]()
    client.follow("job.*.*")
    client.submit(job("g-kill", {"run": "sleep 5"}, maxAttempts=3))
    seen = client.events(count=2, timeout=30)
    assert [e["data"]["event"] for e in seen] == ["created", "started"]
    wait_for(lambda: approved_agreements(golem["yagna"], golem["subnet"]), what="the job's agreement")
    bridge.kill9()
    assert approved_agreements(golem["yagna"], golem["subnet"]), "the crash left the agreement approved"
    again = golem["start"]()
    events = client.events(until_ended=["g-kill"], timeout=90)
    outcomes = [e["data"]["event"] for e in events if e["data"]["event"] in ("success", "error", "canceled")]
    assert outcomes == ["success"], [summary_of(e) for e in events]
    assert again.terminate() == 0
    assert approved_agreements(golem["yagna"], golem["subnet"]) == []


def summary_of(event):
    d = event["data"]
    return f'{d["event"]}:{d.get("error", {}).get("code", "")}'


def agreements_of(yagna, subnet):
    """Every agreement on the node of `yagna`, in any state, whose demand is in `subnet` (this test's)."""
    ours = []
    for entry in yagna.get("/market-api/v1/agreements"):
        agreement = yagna.get(f"/market-api/v1/agreements/{entry['id']}")
        if agreement["demand"]["properties"].get("golem.node.debug.subnet") == subnet:
            ours.append(entry["id"])
    return ours


def test_pool_min_rents_before_any_job_and_the_first_job_reuses_that_agreement(golem, provider, client):
    env = golem_env()
    provider_node = Yagna(env["GOLEM_LOCAL_PROVIDER_API_URL"], env["GOLEM_LOCAL_PROVIDER_APPKEY"])
    bridge = golem["start"](extra=["--pool-min", "1"])
    # No job submitted yet: the pool alone must have rented (the provider node approved the
    # agreement) and deployed (the bridge logs the rental ready).
    wait_for(lambda: approved_agreements(provider_node, golem["subnet"]), timeout=60,
             what="an agreement Approved on the provider node before any job")
    wait_for(lambda: "pool rental ready" in bridge.logs(), timeout=60, what="the pre-filled rental ready")
    prefilled = approved_agreements(golem["yagna"], golem["subnet"])
    assert len(prefilled) == 1, prefilled
    assert approved_agreements(provider_node, golem["subnet"]) == prefilled
    assert prefilled[0] in next(line for line in bridge.logs().splitlines() if "pool rental ready" in line)

    client.follow("job.*.*")
    client.submit(job("g-prefilled", {"run": "echo reused"}))
    events = client.events(until_ended=["g-prefilled"], timeout=60)
    kinds = [e["data"]["event"] for e in events if e["data"]["event"] != "progress"]
    assert kinds == ["created", "started", "success", "ended"], kinds
    assert next(e for e in events if e["data"]["event"] == "success")["data"]["result"]["output"] == "reused\n"
    # No negotiation: the job ran on the pre-filled agreement and no other was ever made.
    assert agreements_of(golem["yagna"], golem["subnet"]) == prefilled
    assert agreements_of(provider_node, golem["subnet"]) == prefilled
    assert approved_agreements(golem["yagna"], golem["subnet"]) == prefilled
    assert bridge.terminate() == 0
    assert approved_agreements(golem["yagna"], golem["subnet"]) == [], "an agreement outlived the bridge"


def test_pool_min_replaces_the_rental_a_failed_job_destroyed(golem, provider, client):
    bridge = golem["start"](extra=["--pool-min", "1"])
    wait_for(lambda: "pool rental ready" in bridge.logs(), timeout=60, what="the pre-filled rental ready")
    first = approved_agreements(golem["yagna"], golem["subnet"])
    assert len(first) == 1, first
    client.follow("job.*.*")
    client.submit(job("g-fails-on-pool", {"run": "exit 3"}))
    events = client.events(until_ended=["g-fails-on-pool"], timeout=60)
    assert "error" in [e["data"]["event"] for e in events]
    # A failed job's rental is destroyed, never lent again; the pool rents another to stay at 1.
    wait_for(lambda: bridge.logs().count("pool rental ready") == 2, timeout=60, what="a replacement rental ready")
    replacement = approved_agreements(golem["yagna"], golem["subnet"])
    assert len(replacement) == 1 and replacement != first, (first, replacement)
    assert sorted(agreements_of(golem["yagna"], golem["subnet"])) == sorted(first + replacement)
    assert bridge.terminate() == 0
    assert approved_agreements(golem["yagna"], golem["subnet"]) == [], "an agreement outlived the bridge"


def test_stopping_the_bridge_cancels_a_pool_fill_in_progress(golem, client):
    # No provider in this subnet: the pool's fill negotiates until the bridge stops.
    bridge = golem["start"](extra=["--pool-min", "1"])
    wait_for(lambda: golem["yagna"].demands(golem["subnet"]), what="the pool's demand on the market")
    t = time.time()
    assert bridge.terminate() == 0
    assert time.time() - t < 20
    assert golem["yagna"].demands(golem["subnet"]) == [], "the pool's demand outlived the bridge"


def test_pool_min_replaces_an_idle_rental_its_provider_ended(golem, provider, client):
    env = golem_env()
    provider_node = Yagna(env["GOLEM_LOCAL_PROVIDER_API_URL"], env["GOLEM_LOCAL_PROVIDER_APPKEY"])
    bridge = golem["start"](extra=["--pool-min", "1"])
    wait_for(lambda: "pool rental ready" in bridge.logs(), timeout=60, what="the pre-filled rental ready")
    first = approved_agreements(golem["yagna"], golem["subnet"])
    assert len(first) == 1, first
    # The provider side ends the agreement while the rental sits idle (no job touches it).
    r = provider_node.s.post(f"{provider_node.url}/market-api/v1/agreements/{first[0]}/terminate",
                             json={"message": "the provider went away"}, timeout=10)
    assert r.status_code in (200, 204), r.text[:200]
    # The bridge's idle check (every 15 s) drops it, and the pool rents a replacement.
    wait_for(lambda: bridge.logs().count("pool rental ready") == 2, timeout=60, what="a replacement rental ready")
    assert "no longer held by its provider" in bridge.logs()
    replacement = approved_agreements(golem["yagna"], golem["subnet"])
    assert len(replacement) == 1 and replacement != first, (first, replacement)
    client.follow("job.*.*")
    client.submit(job("g-after-loss", {"run": "echo fine"}))
    events = client.events(until_ended=["g-after-loss"], timeout=60)
    assert [e["data"]["event"] for e in events if e["data"]["event"] != "progress"] == ["created", "started", "success", "ended"]
    assert sorted(agreements_of(golem["yagna"], golem["subnet"])) == sorted(first + replacement)
    assert bridge.terminate() == 0
    assert approved_agreements(golem["yagna"], golem["subnet"]) == [], "an agreement outlived the bridge"


# --- the requestor's yagna restarts under a running bridge ------------------------------------------

def restart_requestor_node(down=0):
    """Starts `scripts/golem-local restart-node requestor --down <down>` on this test's network: the
    requestor yagna (also the central-net hub) stops, stays down `down` seconds, and starts on the
    same ports, data and app key; the command ends once the provider node is bound to the hub again.
    Returns the running command (a Popen)."""
    env = dict(os.environ, GOLEM_LOCAL_DIR=str(GOLEM_DIR))
    return subprocess.Popen([str(ROOT / "scripts" / "golem-local"), "restart-node", "requestor", "--down", str(down)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def answers(yagna):
    """Whether the node answers GET /me on a new connection."""
    try:
        return requests.get(yagna.url + "/me", headers={"Authorization": yagna.s.headers["Authorization"]},
                            timeout=1, proxies={"http": None, "https": None}).status_code == 200
    except requests.RequestException:
        return False


def test_requestor_yagna_restart_mid_job_loses_nothing(golem, provider, client):
    # One agreement per job: the job after the restart negotiates and signs on the restarted node.
    # Budget 3 GLM (each rental reserves up to 0.396): a running job retried across the restart may
    # hold two reservations until the first agreement's invoice comes, next to the negotiating job's.
    bridge = golem["start"](extra=["--pool-max", "0", "--budget", "3"])
    client.follow("job.*.*")

    client.submit(job("g-rs-before", {"run": "echo before"}))
    events = client.events(until_ended=["g-rs-before"], timeout=60)
    assert [summary_of(e) for e in events if e["data"]["event"] in ("success", "error", "canceled")] == ["success:"]

    # Two jobs in flight when the requestor's yagna goes away: one running (`sleep 5` on the
    # provider), one negotiating (our provider agent is paused, so its counter-proposal waits).
    client.submit(job("g-rs-running", {"run": "sleep 5"}, {"run": "echo running"}, maxAttempts=3))
    seen = client.events(count=2, timeout=30)
    assert [e["data"]["event"] for e in seen] == ["created", "started"], [summary_of(e) for e in seen]
    provider.send_signal(_signal.SIGSTOP)
    try:
        client.submit(job("g-rs-negotiating", {"run": "echo negotiating"}, maxAttempts=1))
        wait_for(lambda: golem["yagna"].demands(golem["subnet"]), what="the negotiating job's demand")
        time.sleep(1)  # its Initial proposal arrives and is countered
        t = time.time()
        # Down for 10 s (GOLEM_E2E_RESTART_DOWN), as a restart under systemd or an upgrade may be.
        restarting = restart_requestor_node(down=int(os.environ.get("GOLEM_E2E_RESTART_DOWN", "10")))
        wait_for(lambda: not answers(golem["yagna"]), timeout=30, what="the requestor node down")
        time.sleep(2)
    finally:
        # The agent runs on while its hub is still away: its counter-proposal, the running batch and
        # its long polls meet a node that is cut off the net.
        provider.send_signal(_signal.SIGCONT)
    output, _ = restarting.communicate(timeout=180)
    assert restarting.returncode == 0, f"restart-node requestor failed ({restarting.returncode}):\n{output}"
    print(f"restart-node requestor took {time.time() - t:.1f} s")
    assert bridge.proc.poll() is None, f"the bridge died with the yagna restart:\n{bridge.logs()}"
    assert provider.poll() is None, "the provider agent died when its hub went away"

    events = seen + client.events(until_ended=["g-rs-running", "g-rs-negotiating"], timeout=240)
    for job_id in ("g-rs-running", "g-rs-negotiating"):
        mine = [e for e in events if e["data"]["jobId"] == job_id]
        outcomes = [summary_of(e) for e in mine if e["data"]["event"] in ("success", "error", "canceled")]
        ended = [e for e in mine if e["data"]["event"] == "ended"]
        assert len(outcomes) == 1 and len(ended) == 1, (job_id, [summary_of(e) for e in mine])
        assert mine[-1]["data"]["event"] == "ended", (job_id, [summary_of(e) for e in mine])
    running = [e for e in events if e["data"]["jobId"] == "g-rs-running"]
    # The batch runs on at the provider while the node is away; its result is read once the node is
    # back (a retry as provider_failed would be allowed: it has 3 attempts). It must not be lost.
    outcome = next(e for e in running if e["data"]["event"] in ("success", "error", "canceled"))
    assert summary_of(outcome) == "success:", [summary_of(e) for e in running]
    assert outcome["data"]["result"]["output"].endswith("running\n")
    # Nothing failed on the negotiating job's side: yagna forgot its demand, and the bridge must
    # subscribe it again rather than spend the job's only attempt.
    negotiating = [e for e in events if e["data"]["jobId"] == "g-rs-negotiating"]
    assert [summary_of(e) for e in negotiating if e["data"]["event"] in ("success", "error", "canceled")] == ["success:"], \
        [summary_of(e) for e in negotiating]
    late = client.events(timeout=1, count=10**6)
    assert not [e for e in late if e["data"]["jobId"] in ("g-rs-running", "g-rs-negotiating")], "events after `ended`"

    # A new job after the node is back: negotiates, signs, runs and succeeds on the same bridge.
    client.submit(job("g-rs-after", {"run": "echo after"}))
    events = client.events(until_ended=["g-rs-after"], timeout=120)
    outcomes = [e for e in events if e["data"]["event"] in ("success", "error", "canceled")]
    assert [summary_of(e) for e in outcomes] == ["success:"], [summary_of(e) for e in events]
    assert outcomes[0]["data"]["result"]["output"] == "after\n"

    assert bridge.proc.poll() is None and provider.poll() is None
    assert bridge.terminate() == 0, bridge.logs()
    assert approved_agreements(golem["yagna"], golem["subnet"]) == [], "an agreement outlived the bridge"
    # The payment loops followed the restarted node: every agreement's invoice, including those
    # signed after the restart, is accepted (the bridge waits for them at shutdown).
    statuses = [i["status"] for i in invoices_of(golem["yagna"], golem["subnet"])]
    assert len(statuses) >= 4 and set(statuses) <= {"ACCEPTED", "SETTLED"}, statuses
    log = open(bridge.log_path, "rb").read()
    assert golem_env()["YAGNA_APPKEY"].encode() not in log, "the app key is in the bridge's log"
