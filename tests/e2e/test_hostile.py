"""Hostile input against a running bridge: a seeded generator of bad requests and odd properties.

Random bytes, truncated and deeply nested JSON, huge strings, invalid UTF-8, odd job IDs and
headers, between valid requests. Every message is dead-lettered with a reason or accepted (and then
runs to `ended`); the bridge never crashes or stalls, and its memory stays bounded. The libFuzzer run
on the decoder alone is scripts/fuzz.

GOLEM_BRIDGE_HOSTILE_SEED and GOLEM_BRIDGE_HOSTILE_COUNT repeat or lengthen a run (defaults 1, 400).
"""
import json
import os
import random
import time
import uuid
from decimal import Decimal

import pika

from conftest import Bridge, Client, job

SEED = int(os.environ.get("GOLEM_BRIDGE_HOSTILE_SEED", "1"))
COUNT = int(os.environ.get("GOLEM_BRIDGE_HOSTILE_COUNT", "400"))
MAX_BYTES = 1024 * 1024  # the bridge's default --max-request-bytes


def valid_request(rng, job_id):
    request = job(job_id, {"run": f"echo {job_id}"}, maxAttempts=1)
    if rng.random() < 0.5:
        request["labels"] = {"k": "v" * rng.randrange(1, 200)}
    return request


def nested(rng, depth):
    opening, closing = rng.choice([("[", "]"), ('{"a":', "}")])
    return opening * depth + "1" + closing * depth


ODD_JOB_IDS = [
    "", " ", ".", "a.b", "x" * 129, "é", "job id", "../../etc", "*", "#", "\u0000", "a\nb",
    "\ud7ff", "k" * 128 + "é", 17, None, True, [], {}, 1e308,
]


def hostile(rng, i):
    """One message: (body, properties, what it is). Odd properties on a share of them."""
    kind = rng.randrange(12)
    job_id = f"h{i}-{rng.randrange(1 << 30):x}"
    if kind == 0:
        body, what = rng.randbytes(rng.randrange(0, 2048)), "random bytes"
    elif kind == 1:
        text = json.dumps(valid_request(rng, job_id)).encode()
        body, what = text[: rng.randrange(0, len(text))], "truncated JSON"
    elif kind == 2:
        depth = rng.choice([33, 100, 10_000, 200_000])
        field = rng.choice(["labels", "work", "package", "jobId"])
        body, what = f'{{"jobId":"{job_id}","work":[{{"run":"x"}}],"{field}":{nested(rng, depth)}}}'.encode(), f"nested {depth}"
    elif kind == 3:
        size = rng.choice([65_537, 500_000, MAX_BYTES + 1, 3 * MAX_BYTES])
        body, what = json.dumps(job(job_id, {"run": "x" * size})).encode(), f"string of {size}"
    elif kind == 4:
        raw = json.dumps(valid_request(rng, job_id)).encode()
        at = rng.randrange(len(raw))
        body, what = raw[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + raw[at:], "invalid UTF-8"
    elif kind == 5:
        odd = rng.choice(ODD_JOB_IDS)
        body, what = json.dumps({"jobId": odd, "work": [{"run": "echo"}]}).encode(), f"job ID {odd!r}"
    elif kind == 6:
        body, what = json.dumps({"jobId": job_id, "work": rng.choice([[], {}, None, "run", [{}], [{"run": None}]])}).encode(), "bad work"
    elif kind == 7:
        body, what = rng.choice([b"", b"null", b"[]", b'"x"', b"1", b"{}", b"\xef\xbb\xbf{}", b'{"work":[{"run":"a"}],"work":[]}']), "degenerate"
    elif kind == 8:
        body, what = json.dumps({"jobId": job_id, "work": [{"run": "echo"}], "surprise": 1}).encode(), "unknown field"
    else:
        body, what = json.dumps(valid_request(rng, job_id)).encode(), "valid"
    properties = {"content_type": "application/json", "delivery_mode": 2}
    if rng.random() < 0.3:
        properties.update(rng.choice([
            {"message_id": rng.choice(["", "a.b", "m" * 255, "ok-id", "é"])},
            {"content_type": rng.choice(["text/plain", "application/octet-stream", "x" * 255])},
            {"headers": {"x-nested": {"a": {"b": [1, "two", None, Decimal("3.5"), True, b"\x00\xff"]}}, "x-big": "h" * 60_000}},
            {"headers": {"": "empty name", "x-bytes": bytes(range(256)).decode("latin-1")}},
            # (amq.rabbitmq.reply-to cannot be sent: the broker closes the sender's channel.)
            {"reply_to": rng.choice(["no-such-queue-" + uuid.uuid4().hex[:6], "", "q" * 255])},
            {"type": "x" * 255, "app_id": "\u00e9", "priority": 9, "expiration": "600000"},
        ]))
    return body, properties, what


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def drain(client, queue):
    """Everything on `queue` now, as (properties, body) pairs."""
    got = []
    while True:
        method, props, body = client.ch.basic_get(queue, auto_ack=True)
        if method is None:
            return got
        got.append((props, body))


def test_generated_hostile_messages_are_each_dead_lettered_or_run(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix, concurrency=4).start()
    client = Client(prefix)
    try:
        client.follow("job.*.*")
        rng = random.Random(SEED)
        # A warm-up of valid jobs, so the RSS measured before is the working bridge's, not its start's.
        warm = [f"w{i}-{uuid.uuid4().hex[:6]}" for i in range(20)]
        for job_id in warm:
            client.submit(valid_request(rng, job_id))
        client.events(until_ended=warm, timeout=60)
        rss_before = rss_kib(bridge.proc.pid)

        sent = {}
        for i in range(COUNT):
            body, properties, what = hostile(rng, i)
            tag = f"hostile-{i}"
            sent[tag] = what
            # The tag rides in correlation_id: dead letters keep the properties, events carry it.
            client.ch.basic_publish(f"{prefix}.jobs", "submit", body,
                                    pika.BasicProperties(correlation_id=tag, **properties), mandatory=True)
        # Not stalled: a job sent after the flood runs.
        last = f"last-{uuid.uuid4().hex[:6]}"
        client.submit(job(last, {"run": "echo still-serving"}))
        events = client.events(until_ended=[last], timeout=120)

        # Every message: dead-lettered with a reason, or accepted (created) and then ended.
        dead = {}
        deadline = time.time() + 60
        created = {e["_props"].correlation_id for e in events if e["data"]["event"] == "created"}
        while time.time() < deadline and len(dead) + len(created & sent.keys()) < len(sent):
            for props, _ in drain(client, f"{prefix}.jobs.dead"):
                dead[props.correlation_id] = props.headers or {}
            events += client.events(timeout=0.5, count=10**6)
            created = {e["_props"].correlation_id for e in events if e["data"]["event"] == "created"}
        for tag, what in sent.items():
            assert (tag in dead) != (tag in created), f"{tag} ({what}): dead-lettered {tag in dead}, accepted {tag in created}"
            if tag in dead and "" in dead[tag]:
                # Headers rabbitmq-c cannot read (an empty name): the broker dead-letters it for the
                # bridge, which rejects it unread (AMQP ConsumerLoop.rejectUndecodable).
                assert dead[tag].get("x-first-death-reason") == "rejected", (tag, what, dead[tag])
            elif tag in dead:
                assert dead[tag].get("x-golem-error-code"), (tag, what, dead[tag])
                assert len(dead[tag].get("x-golem-error", "")) > 10, (tag, what, dead[tag])
        accepted_jobs = {e["data"]["jobId"] for e in events
                         if e["data"]["event"] == "created" and e["_props"].correlation_id in sent}
        ended = {e["data"]["jobId"] for e in events if e["data"]["event"] == "ended"}
        events += client.events(until_ended=accepted_jobs - ended, timeout=120)

        assert bridge.proc.poll() is None, f"the bridge died:\n{bridge.logs()}"
        rss_after = rss_kib(bridge.proc.pid)
        kinds = {}
        for what in sent.values():
            kinds[what.split(" ")[0]] = kinds.get(what.split(" ")[0], 0) + 1
        print(f"\nhostile run seed {SEED}: {len(sent)} messages ({len(dead)} dead-lettered, "
              f"{len(created & sent.keys())} accepted), RSS {rss_before // 1024} MiB before, "
              f"{rss_after // 1024} MiB after")
        # Bounded: the flood holds at most the prefetch's requests at once (bodies up to 3 MiB).
        assert rss_after - rss_before < 128 * 1024, f"RSS grew from {rss_before} KiB to {rss_after} KiB"
        assert bridge.terminate() == 0
    finally:
        client.close()
        bridge.terminate()


def bad_request_events(client, job_id, body, timeout=30):
    client.submit(None, raw=body, correlation_id=job_id)
    return [e for e in client.events(until_ended=[job_id], timeout=timeout) if e["data"]["jobId"] == job_id]


def test_a_bad_request_sent_again_gets_the_same_event_ids_even_after_a_restart(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix).start()
    client = Client(prefix)
    try:
        job_id = f"bad-{uuid.uuid4().hex[:8]}"
        client.follow(f"job.{job_id}.*")
        body = json.dumps({"jobId": job_id, "work": [{"run": {"args": ["no command"]}}]}).encode()
        first = bad_request_events(client, job_id, body)
        assert [e["data"]["event"] for e in first] == ["error", "ended"], first
        again = bad_request_events(client, job_id, body)
        bridge.kill9()
        bridge = Bridge(tmp_path, prefix).start()
        after_restart = bad_request_events(client, job_id, body)
        ids = [e["id"] for e in first]
        assert [e["id"] for e in again] == ids
        assert [e["id"] for e in after_restart] == ids
        # The same events, not only the same ids: a consumer may keep either copy.
        assert [e["time"] for e in after_restart] == [e["time"] for e in first]
        # Another bad body for the same job ID is another request: its own ids.
        other = bad_request_events(client, job_id, body.replace(b"no command", b"still none"))
        assert not {e["id"] for e in other} & set(ids)
    finally:
        client.close()
        bridge.terminate()
