"""The contract end to end with `serve --backend golem`, against the real yagna of scripts/golem-local
(scripts/test starts it). Each test uses its own subnet, so no provider answers unless the test
plays one; the checks that need a provider agent to run commands are skipped until it exists.
"""
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
        pytest.skip(f"no {path}: run scripts/golem-local start (scripts/test does)")
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
    os.environ["GOLEM_BRIDGE_YAGNA_APPKEY"] = env["YAGNA_APPKEY"]

    def start(negotiation=600, extra=()):
        return Bridge(tmp_path, prefix, extra=[
            "--backend", "golem", "--yagna-api-url", env["YAGNA_API_URL"],
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


def test_the_allocation_is_released_when_the_bridge_stops(golem, tmp_path):
    bridge = golem["start"]()
    before = {a["allocationId"] for a in golem["yagna"].get("/payment-api/v1/allocations")}
    state = Path(bridge.journal + ".golem")
    assert state.exists()
    assert bridge.terminate() == 0
    after = {a["allocationId"] for a in golem["yagna"].get("/payment-api/v1/allocations")}
    assert len(after) < len(before) or not before, "the bridge's allocation is still there"
    assert b"YAGNA_APPKEY" not in open(bridge.log_path, "rb").read()
    assert golem_env()["YAGNA_APPKEY"].encode() not in open(bridge.log_path, "rb").read()
