"""The request's market.providers / market.subnetTag and the refused per-job payment network, as a
pika client sends them to the real bridge binary (local backend: it ignores market) and RabbitMQ."""
import json
import time
import uuid

from conftest import job


def dead_letters(client, prefix, names, timeout=20):
    dead, deadline = {}, time.time() + timeout
    while time.time() < deadline and len(dead) < len(names):
        method, props, _ = client.ch.basic_get(f"{prefix}.jobs.dead", auto_ack=True)
        if method is None:
            client.conn.sleep(0.1)
            continue
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
