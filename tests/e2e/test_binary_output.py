"""Binary-safe capture, end to end on the local backend: a pika client, the real bridge, a real RabbitMQ.

A `run` whose output is not UTF-8 keeps `stdout` as text (U+FFFD for what is not UTF-8) and carries
the exact bytes in `stdoutBase64` (`stderrBase64`), in the success event, its progress event and the
status snapshot (read back from the journal)."""
import base64
import uuid

from conftest import job

PNG_HEAD = b"\x00\xffPNG"


def test_non_utf8_stdout_and_stderr_round_trip_exactly(bridge, client):
    job_id = f"bin-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(
        job_id,
        {"run": "printf 'caf\\303\\251\\000\\n'"},
        {"run": "printf '\\000\\377PNG'; printf '\\377\\376err' >&2"},
    ))
    events = client.events(until_ended=[job_id], timeout=60)
    success = next(e for e in events if e["data"]["event"] == "success")
    result = success["data"]["result"]
    text, binary = result["steps"]
    # UTF-8 output (a NUL byte included) is exact text, with no base64 beside it.
    assert text["stdout"] == "café\x00\n"
    assert "stdoutBase64" not in text and "stderrBase64" not in text
    # Not UTF-8: the exact bytes, and the text for clients that read only stdout.
    assert base64.b64decode(binary["stdoutBase64"], validate=True) == PNG_HEAD
    assert base64.b64decode(binary["stderrBase64"], validate=True) == b"\xff\xfeerr"
    assert binary["stdout"] == PNG_HEAD.decode("utf-8", "replace")
    assert binary["stderr"] == "\ufffd\ufffderr"
    assert base64.b64decode(result["outputBase64"], validate=True) == PNG_HEAD
    assert result["output"] == binary["stdout"]

    progress = [e["data"]["step"] for e in events if e["data"]["event"] == "progress"]
    assert [p.get("stdoutBase64") for p in progress if p["index"] == 1] == [binary["stdoutBase64"]]

    snapshot = client.status(job_id)
    assert snapshot["state"] == "done"
    assert snapshot["result"]["steps"][1]["stdoutBase64"] == binary["stdoutBase64"]
    assert snapshot["result"]["outputBase64"] == result["outputBase64"]


def test_a_png_on_stdout_arrives_byte_for_byte(bridge, client):
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256))
    job_id = f"png-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(
        job_id,
        {"uploadData": {"to": "/golem/work/x.png", "base64": base64.b64encode(png).decode()}},
        {"run": "cat /golem/work/x.png"},
    ))
    events = client.events(until_ended=[job_id], timeout=60)
    success = next(e for e in events if e["data"]["event"] == "success")
    assert base64.b64decode(success["data"]["result"]["outputBase64"], validate=True) == png
