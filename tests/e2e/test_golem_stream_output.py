"""Streamed run output (`"stream": true`) with `serve --backend golem`: our provider agent on the local
Golem network answers yagna's streamed batch results, so the pieces reach the job while the step runs,
and the finished step still carries the whole output."""
import uuid

from conftest import job
from test_golem_backend import golem, provider  # noqa: F401 (fixtures)
from test_stream_output import assert_a_then_b_streamed_before_the_finished_step, outputs


def test_a_streamed_step_on_golem_sends_its_first_line_before_its_second(golem, provider, client):
    golem["start"]()
    job_id = f"gs-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    # The first second lets the event stream reach the provider: yagna does not replay earlier events.
    client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", "sleep 1; echo a; echo e >&2; sleep 2; echo b"], "stream": True}}))
    assert_a_then_b_streamed_before_the_finished_step(client.events(until_ended=[job_id], timeout=120))


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
