"""`--log-format json`: every line the real bridge writes to stderr is one JSON object, with the fields
docs promise; the default stays swift-log's text lines."""
import json
import uuid

from conftest import Bridge, job


def test_serve_with_log_format_json_writes_one_object_per_line(tmp_path, prefix, client):
    bridge = Bridge(tmp_path, prefix, extra=["--log-format", "json", "--log-level", "debug"]).start()
    job_id = f"log-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id))
    client.events(until_ended=[job_id], timeout=60)
    assert bridge.terminate() == 0
    lines = [line for line in open(bridge.log_path, encoding="utf-8").read().splitlines() if line]
    assert len(lines) > 3
    records = [json.loads(line) for line in lines]  # fails on any line that is not one JSON object
    for record in records:
        assert list(record)[:5] == ["time", "level", "label", "source", "message"], record
        assert record["time"].endswith("Z") and record["level"] in {"trace", "debug", "info", "notice", "warning", "error", "critical"}
    assert any(r.get("job.id") == job_id for r in records), "no record carries the job's id as metadata"
    assert not any("guest:guest" in line for line in lines)


def test_serve_logs_text_by_default(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix).start()
    assert bridge.terminate() == 0
    first = open(bridge.log_path, encoding="utf-8").readline()
    assert not first.startswith("{") and " info golem-bridge" in first, first


def test_a_log_format_that_is_not_one_is_refused(tmp_path, prefix):
    import subprocess
    from conftest import bridge_binary
    p = subprocess.run([bridge_binary(), "serve", "--prefix", prefix, "--log-format", "xml"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 64 and "log-format" in p.stderr and "one of text, json" in p.stderr, p.stderr
