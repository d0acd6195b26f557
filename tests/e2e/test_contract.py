"""Contract v1 end to end: a pika client against the real bridge binary and a real RabbitMQ."""
import json
import time
import uuid

import pika
import pytest

from conftest import Bridge, Client, job, summary

TERMINAL = {"success", "error", "canceled"}


def by_job(events):
    out = {}
    for e in events:
        out.setdefault(e["data"]["jobId"], []).append(e)
    return out


def assert_lifecycle(events, outcome):
    """created, started (per attempt), progress*, exactly one outcome, exactly one ended, increasing sequence."""
    kinds = [e["data"]["event"] for e in events]
    assert kinds[0] == "created", kinds
    assert kinds[-1] == "ended", kinds
    assert kinds.count("ended") == 1, kinds
    outcomes = [k for k in kinds if k in TERMINAL]
    assert outcomes == [outcome], kinds
    assert kinds.index(outcome) == len(kinds) - 2, kinds
    sequences = [int(e["sequence"]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences


def test_events_arrive_in_order_with_the_result(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(
        job_id,
        {"uploadData": {"to": "/golem/work/in.txt", "base64": "aGVsbG8K"}},
        {"run": "wc -c < /golem/work/in.txt > /golem/work/out.txt"},
        {"run": {"command": "/bin/echo", "args": ["Hello, Golem!"], "timeoutSeconds": 60}},
        {"downloadData": {"from": "/golem/work/out.txt"}},
        labels={"customer": "acme"},
    ))
    events = client.events(until_ended=[job_id], timeout=60)
    assert_lifecycle(events, "success")
    kinds = [e["data"]["event"] for e in events]
    assert kinds[:2] == ["created", "started"], kinds
    success = next(e for e in events if e["data"]["event"] == "success")
    assert success["specversion"] == "1.0"
    assert success["type"] == "network.golem.job.success"
    assert success["subject"] == job_id
    assert success["_routing_key"] == f"job.{job_id}.success"
    assert success["_props"].message_id == success["id"]
    assert success["_props"].delivery_mode == 2
    assert success["_props"].headers["job-state"] == "done"
    data = success["data"]
    assert data["state"] == "done" and data["attempt"] == 1
    assert data["labels"] == {"customer": "acme"}
    assert data["result"]["output"] == "Hello, Golem!\n"
    download = next(s for s in data["result"]["steps"] if s["kind"] == "downloadData")
    assert download["index"] == 3 and download["base64"] == "Ngo="  # "6\n": wc -c of "hello\n"


def test_failing_command_ends_in_error_and_is_not_retried(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": "exit 7"}, maxAttempts=3))
    events = client.events(until_ended=[job_id], timeout=60)
    assert_lifecycle(events, "error")
    assert [e["data"]["event"] for e in events].count("started") == 1
    error = next(e for e in events if e["data"]["event"] == "error")["data"]["error"]
    assert error["code"] == "command_failed" and error["step"] == 0
    assert "7" in error["message"]


def test_running_job_is_cancelled_within_3_seconds(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": "sleep 60"}))
    client.events(count=2, timeout=30)  # created, started
    sent = time.time()
    client.cancel(job_id, reason="test says stop")
    events = client.events(until_ended=[job_id], timeout=10)
    took = time.time() - sent
    kinds = [e["data"]["event"] for e in events]
    assert kinds[-2:] == ["canceled", "ended"], kinds
    assert took < 3.0, f"cancel took {took:.2f} s"
    canceled = events[-2]["data"]
    assert canceled["state"] == "rejected" and canceled["error"]["code"] == "canceled"
    assert "test says stop" in canceled["error"]["message"]


def test_cancel_before_arrival_keeps_the_job_from_running(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.cancel(job_id)
    time.sleep(0.5)  # the cancel is handled before the request arrives
    client.submit(job(job_id, {"run": "echo should-not-run"}))
    events = client.events(until_ended=[job_id], timeout=30)
    kinds = [e["data"]["event"] for e in events]
    assert kinds == ["created", "canceled", "ended"], kinds


def test_repeated_job_id_runs_once(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": "echo once"}))
    client.events(until_ended=[job_id], timeout=60)
    client.submit(job(job_id, {"run": "echo twice"}), reply_to=client.queue, correlation_id="dup")
    # The duplicate's reply_to gets the snapshot; no new events are published for the job.
    deadline = time.time() + 10
    snapshot = None
    while time.time() < deadline and snapshot is None:
        method, props, body = client.ch.basic_get(client.queue, auto_ack=True)
        if method is None:
            client.conn.sleep(0.05)
            continue
        assert props.content_type != "application/cloudevents+json", f"duplicate produced an event: {body!r}"
        if props.correlation_id == "dup":
            snapshot = json.loads(body)
    assert snapshot is not None, "no snapshot for the duplicate request"
    assert snapshot["jobId"] == job_id and snapshot["state"] == "done"
    assert snapshot["result"]["output"] == "once\n"
    time.sleep(1)
    method, _, body = client.ch.basic_get(client.queue, auto_ack=True)
    assert method is None, f"unexpected message after the duplicate: {body!r}"


def test_status_answers_done_and_unknown(bridge, client):
    job_id = f"j-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": "echo status"}))
    client.events(until_ended=[job_id], timeout=60)
    snapshot = client.status(job_id)
    assert snapshot["state"] == "done" and snapshot["jobId"] == job_id
    assert snapshot["lastEvent"] == "ended" and snapshot["attempt"] == 1
    assert "createdAt" in snapshot and "updatedAt" in snapshot
    unknown = client.status("never-submitted-" + uuid.uuid4().hex[:6])
    assert unknown["state"] == "unknown" and set(unknown) == {"jobId", "state"}


MALFORMED = [
    ("not-json", b"this is not json", "not_json"),
    ("bad-utf8", b'{"jobId":"x\xff\xfe","work":[{"run":"echo"}]}', "not_utf8"),
    ("bad-utf8-cmd", b'{"jobId":"utf8-bad-cmd","work":[{"run":"echo \xff"}]}', "not_utf8"),
    ("schema", json.dumps({"jobId": "schema-bad", "work": [{"run": {"args": ["no command"]}}]}).encode(), "schema"),
    ("unknown-step", json.dumps({"jobId": "unknown-step-1", "work": [{"explode": {}}]}).encode(), "unknown_step"),
    ("too-large", b'{"jobId":"big","work":[{"run":"' + b"x" * (2 * 1024 * 1024) + b'"}]}', "too_large"),
    ("too-deep", b'{"jobId":"deep","labels":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "too_deep"),
    ("bad-job-id", json.dumps({"jobId": "has.a.dot", "work": [{"run": "echo"}]}).encode(), "invalid_job_id"),
]


def test_malformed_requests_are_dead_lettered_and_the_bridge_keeps_serving(bridge, client, prefix):
    client.follow("job.*.*")
    for name, body, _ in MALFORMED:
        client.submit(None, raw=body, message_id=None, correlation_id=name)
    good = f"j-{uuid.uuid4().hex[:8]}"
    client.submit(job(good, {"run": "echo still-serving"}))
    told = ["schema-bad", "unknown-step-1", "utf8-bad-cmd"]
    events = client.events(until_ended=[good, *told], timeout=60)
    jobs = by_job(events)
    assert_lifecycle(jobs[good], "success")
    # Where a job ID could be told, its subscribers hear error (invalid_request) and ended.
    for job_id in told:
        kinds = [e["data"]["event"] for e in jobs[job_id]]
        assert kinds == ["error", "ended"], kinds
        assert jobs[job_id][0]["data"]["error"]["code"] == "invalid_request"
    # Every malformed request is in the dead-letter queue with its reason.
    dead = {}
    deadline = time.time() + 20
    while time.time() < deadline and len(dead) < len(MALFORMED):
        method, props, body = client.ch.basic_get(f"{prefix}.jobs.dead", auto_ack=True)
        if method is None:
            client.conn.sleep(0.1)
            continue
        dead[props.correlation_id] = props.headers
    for name, _, code in MALFORMED:
        assert name in dead, f"{name} not dead-lettered; got {sorted(dead)}"
        assert dead[name]["x-golem-error-code"] == code, (name, dead[name])
        assert len(dead[name]["x-golem-error"]) > 10
    assert bridge.proc.poll() is None, "bridge died"


def test_kill_9_and_restart_leave_every_job_with_one_outcome_and_one_ended(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix, concurrency=4).start()
    client = Client(prefix)
    try:
        client.follow("job.*.*")
        ids = [f"k{i}-{uuid.uuid4().hex[:6]}" for i in range(20)]
        for i, job_id in enumerate(ids):
            client.submit(job(job_id, {"run": f"sleep 0.{i % 5 + 1}; echo {i}"}, maxAttempts=3))
        time.sleep(1.0)
        bridge.kill9()
        bridge = Bridge(tmp_path, prefix, concurrency=4).start()
        events = client.events(until_ended=ids, timeout=120)
        time.sleep(1.0)
        events += client.events(timeout=1)  # stragglers, if any, must not be a second outcome
        jobs = by_job(events)
        for job_id in ids:
            # Delivery is at least once: drop repeats by CloudEvent id, then check the lifecycle.
            unique = list({e["id"]: e for e in jobs[job_id]}.values())
            unique.sort(key=lambda e: int(e["sequence"]))
            kinds = [e["data"]["event"] for e in unique]
            assert kinds.count("ended") == 1, (job_id, kinds)
            assert sum(k in TERMINAL for k in kinds) == 1, (job_id, kinds)
            assert kinds[-1] == "ended", (job_id, kinds)
    finally:
        client.close()
        bridge.terminate()


def test_sigterm_lets_running_jobs_finish_and_exits_0(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix, grace=20).start()
    client = Client(prefix)
    try:
        job_id = f"j-{uuid.uuid4().hex[:8]}"
        client.follow(f"job.{job_id}.*")
        client.submit(job(job_id, {"run": "sleep 2; echo finished"}))
        client.events(count=2, timeout=30)  # created, started
        code = bridge.terminate(timeout=60)
        assert code == 0, bridge.logs()
        events = client.events(until_ended=[job_id], timeout=5)
        assert [e["data"]["event"] for e in events][-2:] == ["success", "ended"]
    finally:
        client.close()


def test_job_outliving_the_grace_period_is_resumed_by_the_next_start(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix, grace=1).start()
    client = Client(prefix)
    try:
        job_id = f"j-{uuid.uuid4().hex[:8]}"
        client.follow(f"job.{job_id}.*")
        # One attempt only: a graceful restart must not use it up.
        client.submit(job(job_id, {"run": "sleep 3; echo survived"}, maxAttempts=1))
        client.events(count=2, timeout=30)  # created, started
        assert bridge.terminate(timeout=60) == 0, bridge.logs()
        # Suspended, not ended: no outcome went out.
        leftovers = client.events(timeout=1)
        assert not any(e["data"]["event"] in TERMINAL | {"ended"} for e in leftovers), [summary(e) for e in leftovers]
        bridge = Bridge(tmp_path, prefix).start()
        events = client.events(until_ended=[job_id], timeout=60)
        kinds = [e["data"]["event"] for e in events]
        assert kinds[0] == "started" and events[0]["data"]["attempt"] == 2, [summary(e) for e in events]
        assert kinds[-2:] == ["success", "ended"], kinds
        assert events[-2]["data"]["result"]["output"] == "survived\n"
    finally:
        client.close()
        bridge.terminate()


def test_python_example_client_runs_and_cancels(bridge, prefix):
    import os
    import subprocess
    import sys
    env = dict(os.environ, GOLEM_PREFIX=prefix)
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "client.py")
    run = subprocess.run([sys.executable, example, "run"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "success" in run.stdout and "ended done" in run.stdout, run.stdout
    cancel = subprocess.run([sys.executable, example, "cancel-demo"], env=env, capture_output=True, text=True, timeout=60)
    assert cancel.returncode == 0, cancel.stderr
    assert "canceled" in cancel.stdout and "ended rejected" in cancel.stdout, cancel.stdout
