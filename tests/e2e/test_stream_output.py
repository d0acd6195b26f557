"""Streaming a run step's output (`"stream": true`) as `progress` events while the step runs."""
import json
import uuid

from conftest import job, next_message, summary


def outputs(events):
    return [e["data"]["output"] for e in events if e["data"]["event"] == "progress" and "output" in e["data"]]


def assert_a_then_b_streamed_before_the_finished_step(events):
    """A job of one step that wrote a, later b, and e on stderr: it succeeded, its pieces all came
    before its finished step, a in a piece without b, and the finished step has the whole output."""
    kinds = [e["data"]["event"] for e in events]
    assert kinds[-2:] == ["success", "ended"], kinds
    finished = next(i for i, e in enumerate(events) if e["data"]["event"] == "progress" and "step" in e["data"])
    pieces = outputs(events[:finished])
    assert pieces and pieces == outputs(events), "streamed output after the step's end"
    assert "".join(p["text"] for p in pieces if p["stream"] == "stdout") == "a\nb\n", pieces
    assert "".join(p["text"] for p in pieces if p["stream"] == "stderr") == "e\n", pieces
    first_a = next(i for i, p in enumerate(pieces) if "a" in p["text"])
    assert "b" not in pieces[first_a]["text"], f"'a' was held back until 'b': {pieces}"
    step = events[finished]["data"]["step"]
    assert step["stdout"] == "a\nb\n" and step["stderr"] == "e\n"


def test_streamed_output_arrives_while_the_command_still_runs(bridge, client):
    # The command prints "a", then waits for far longer than the test: the only way to see "a" is a
    # piece sent while it runs. The test then cancels it, so "b" is never printed.
    job_id = f"s-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "echo a; sleep 120; echo b"], "stream": True}}))
    seen = []
    while True:
        method, props, body = next_message(client.conn, client.ch, client.queue, 60)
        assert method is not None, f"no streamed output; got {[summary(e) for e in seen]}"
        event = json.loads(body)
        seen.append(event)
        data = event["data"]
        assert data["event"] in ("created", "started", "progress"), [summary(e) for e in seen]
        if data["event"] == "progress":
            assert "step" not in data, "the step ended before its streamed output"
            assert data["output"] == {"step": 0, "stream": "stdout", "text": "a\n"}
            assert props.headers["job-event"] == "progress"
            break
    client.cancel(job_id, reason="seen a")
    events = seen + client.events(until_ended=[job_id], timeout=30)
    kinds = [e["data"]["event"] for e in events]
    assert kinds[-2:] == ["canceled", "ended"], kinds
    assert "b\n" not in "".join(o["text"] for o in outputs(events))
    sequences = [int(e["sequence"]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences
    assert len({e["id"] for e in events}) == len(events)


def test_streamed_pieces_come_before_the_finished_step_which_keeps_all_output(bridge, client):
    job_id = f"s-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "echo a; sleep 1; echo b; echo e >&2"], "stream": True}}))
    events = client.events(until_ended=[job_id], timeout=60)
    assert_a_then_b_streamed_before_the_finished_step(events)
    sequences = [int(e["sequence"]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences


def test_without_stream_only_finished_steps_are_reported(bridge, client):
    job_id = f"s-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "echo a; echo b"]}}))
    events = client.events(until_ended=[job_id], timeout=60)
    assert outputs(events) == []
    progress = [e for e in events if e["data"]["event"] == "progress"]
    assert len(progress) == 1 and progress[0]["data"]["step"]["stdout"] == "a\nb\n"


def test_stream_that_is_not_a_boolean_is_rejected_naming_the_field(bridge, client):
    job_id = f"s-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": {"command": "echo", "args": ["x"], "stream": "yes"}}))
    events = client.events(until_ended=[job_id], timeout=30)
    error = next(e for e in events if e["data"]["event"] == "error")["data"]["error"]
    assert error["code"] == "invalid_request"
    assert "work[0].run.stream must be true or false" in error["message"], error
