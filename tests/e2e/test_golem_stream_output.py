"""Streamed run output (`"stream": true`) with `serve --backend golem`: our provider agent on the local
Golem network answers yagna's streamed batch results, so the pieces reach the job while the step runs,
and the finished step still carries the whole output."""
import uuid

from conftest import job
from test_golem_backend import golem, provider  # noqa: F401 (fixtures)


def outputs(events):
    return [e["data"]["output"] for e in events if e["data"]["event"] == "progress" and "output" in e["data"]]


def test_a_streamed_step_on_golem_sends_its_first_line_before_its_second(golem, provider, client):
    golem["start"]()
    job_id = f"gs-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    # The first second lets the event stream reach the provider: yagna does not replay earlier events.
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "sleep 1; echo a; echo e >&2; sleep 2; echo b"], "stream": True}}))
    events = client.events(until_ended=[job_id], timeout=120)
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


def test_a_step_without_stream_on_golem_sends_no_pieces(golem, provider, client):
    golem["start"]()
    job_id = f"gs-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "echo a; sleep 1; echo b"]}}))
    events = client.events(until_ended=[job_id], timeout=120)
    assert [e["data"]["event"] for e in events][-2:] == ["success", "ended"]
    assert outputs(events) == []
    step = next(e for e in events if e["data"]["event"] == "progress" and "step" in e["data"])["data"]["step"]
    assert step["stdout"] == "a\nb\n"
