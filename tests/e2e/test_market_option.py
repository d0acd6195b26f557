"""The request's market.providers / market.subnetTag and the refused per-job payment network, as a
pika client sends them to the real bridge binary (local backend: it ignores market) and RabbitMQ."""
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import job, next_message
# the Golem backend's fixtures (a bridge on the local Golem network, its own subnet)
from test_golem_backend import golem, golem_env, provider_binary  # noqa: F401


def dead_letters(client, prefix, names, timeout=20):
    dead, deadline = {}, time.time() + timeout
    while len(dead) < len(names):
        method, props, _ = next_message(client.conn, client.ch, f"{prefix}.jobs.dead", deadline - time.time())
        if method is None:
            break
        dead[props.correlation_id] = props.headers
    return dead


def test_market_providers_are_accepted_and_bad_market_or_payment_options_are_refused_naming_the_field(bridge, client, prefix):
    good = f"m-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{good}.*")
    market = {"providers": {"exclude": ["0x3dd43bd7d1a25d1d9cf8ba49a75adf3cee29bdfa", "noisy"], "prefer": ["fast"]},
              "subnetTag": "public"}
    client.submit(job(good, {"run": "echo chosen"}, market=market))
    refused = {
        "payment": (job("p1", payment={"network": "polygon"}), "payment is not a per-job option"),
        "subnet": (job("p2", market={"subnetTag": "public)(x=y"}), "market.subnetTag must be"),
        "exclude": (job("p3", market={"providers": {"exclude": "0xabc"}}), "market.providers.exclude must be a list"),
    }
    for name, (request, _) in refused.items():
        client.submit(request, correlation_id=name)
    events = client.events(until_ended=[good], timeout=60)
    kinds = [e["data"]["event"] for e in events if e["data"]["jobId"] == good]
    assert "success" in kinds and kinds[-1] == "ended", kinds
    dead = dead_letters(client, prefix, refused)
    for name, (_, says) in refused.items():
        assert name in dead, f"{name} not dead-lettered; got {sorted(dead)}"
        assert dead[name]["x-golem-error-code"] == "schema", dead[name]
        assert says in dead[name]["x-golem-error"], dead[name]
    print(json.dumps({name: dead[name]["x-golem-error"] for name in refused}, indent=1))


# --- market.providers with two provider agents (`scripts/golem-local start --providers 2`) ----------

@pytest.fixture
def agents(tmp_path):
    """Starts our provider agent on provider node k in a subnet: `start(k, subnet)` gives the node's id."""
    env = golem_env()
    running = []

    def start(k, subnet):
        if f"GOLEM_LOCAL_PROVIDER_{k}_API_URL" not in env:
            pytest.skip(f"needs scripts/golem-local start --providers {k}")
        root = f"/tmp/golem-bridge-e2e/prov{k}-{subnet}"
        penv = dict(os.environ, GOLEM_LOCAL_PROVIDER_API_URL=env[f"GOLEM_LOCAL_PROVIDER_{k}_API_URL"],
                    GOLEM_LOCAL_PROVIDER_APPKEY=env[f"GOLEM_LOCAL_PROVIDER_{k}_APPKEY"],
                    GOLEM_LOCAL_PROVIDER_GSB_URL=env[f"GOLEM_LOCAL_PROVIDER_{k}_GSB_URL"], GOLEM_BRIDGE_PROVIDER_WORK_ROOT=root)
        log = open(tmp_path / f"provider{k}.log", "wb")
        running.append((subprocess.Popen([provider_binary(), "provider", "--subnet", subnet,
                                          "--payment-platform", env["GOLEM_LOCAL_PAYMENT_PLATFORM"]],
                                         env=penv, stdout=log, stderr=log), root))
        return env[f"GOLEM_LOCAL_PROVIDER_{k}_ID"]

    yield start
    for proc, root in running:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def outcomes(client, job_ids, timeout=120):
    """Each job's outcome event and the provider its last attempt started on."""
    events = client.events(until_ended=job_ids, timeout=timeout)
    ran = {e["data"]["jobId"]: e["data"]["provider"]["id"] for e in events if e["data"]["event"] == "started"}
    outcome = {e["data"]["jobId"]: e["data"]["event"] for e in events if e["data"]["event"] in ("success", "error")}
    errors = [e["data"] for e in events if e["data"]["event"] == "error"]
    return outcome, ran, errors


def test_an_excluded_provider_never_runs_the_job(golem, agents, client):
    """Two agents at the same price; each job excludes one of them by id and runs on the other."""
    first, second = agents(1, golem["subnet"]), agents(2, golem["subnet"])
    bridge = golem["start"]()
    client.follow("job.*.*")
    for job_id, excluded in (("g-not-1", first), ("g-not-2", second)):
        client.submit(job(job_id, {"run": "echo chosen"}, market={"providers": {"exclude": [excluded]}}))
    outcome, ran, errors = outcomes(client, ["g-not-1", "g-not-2"])
    assert outcome == {"g-not-1": "success", "g-not-2": "success"}, errors
    assert ran == {"g-not-1": second, "g-not-2": first}, ran
    assert bridge.terminate() == 0


def test_a_jobs_subnet_tag_reaches_providers_outside_the_bridges_subnet(golem, agents, client):
    """The bridge's --subnet has no provider; the job names the agent's subnet and runs there, and a
    job without it finds nobody (no_provider names the bridge's subnet)."""
    other = f"{golem['subnet']}-other"
    agent = agents(1, other)
    bridge = golem["start"](negotiation=8)
    client.follow("job.*.*")
    client.submit(job("g-subnet", {"run": "echo elsewhere"}, market={"subnetTag": other}))
    client.submit(job("g-default", {"run": "echo nowhere"}, maxAttempts=1))
    outcome, ran, errors = outcomes(client, ["g-subnet", "g-default"])
    assert outcome == {"g-subnet": "success", "g-default": "error"}, errors
    assert ran["g-subnet"] == agent
    [error] = [e["error"] for e in errors if e["jobId"] == "g-default"]
    assert error["code"] == "no_provider" and golem["subnet"] in error["message"], error
    assert bridge.terminate() == 0


def test_an_agent_given_another_nodes_service_bus_refuses_to_start():
    """The agent's exe-units register on the service bus of --gsb-url; one pointed at provider node 2's
    API and node 1's bus would take agreements no requestor could ever run, so it stops at start, naming
    both nodes."""
    env = golem_env()
    if "GOLEM_LOCAL_PROVIDER_2_API_URL" not in env:
        pytest.skip("needs scripts/golem-local start --providers 2")
    penv = dict(os.environ, GOLEM_LOCAL_PROVIDER_API_URL=env["GOLEM_LOCAL_PROVIDER_2_API_URL"],
                GOLEM_LOCAL_PROVIDER_APPKEY=env["GOLEM_LOCAL_PROVIDER_2_APPKEY"],
                GOLEM_LOCAL_PROVIDER_GSB_URL=env["GOLEM_LOCAL_PROVIDER_1_GSB_URL"])
    r = subprocess.run([provider_binary(), "provider", "--subnet", f"wrong-bus-{uuid.uuid4().hex[:6]}",
                        "--work-root", "/tmp/golem-bridge-e2e/wrong-bus"], env=penv, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stderr
    assert env["GOLEM_LOCAL_PROVIDER_1_ID"] in r.stderr and env["GOLEM_LOCAL_PROVIDER_2_ID"] in r.stderr, r.stderr
    assert "--gsb-url" in r.stderr, r.stderr
