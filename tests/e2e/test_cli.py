"""The client commands (submit, watch, status, cancel) of the real binary against a real bridge and broker.

The CLI reads what the bridge writes with the bridge's own codecs; these tests hold it to the
contract from the outside: the job ID it prints is the one the bridge uses, its status is the
bridge's snapshot, and bad input is refused with a message and a non-zero exit status.
"""
import json
import subprocess
import threading
import time
import uuid

import pika

from conftest import AMQP_URL, Bridge, bridge_binary, connect, job


def cli(prefix, *args, stdin=None, timeout=90):
    p = subprocess.run([bridge_binary(), *args, "--prefix", prefix, "--amqp-url", AMQP_URL],
                       input=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def request_file(tmp_path, request):
    path = tmp_path / f"request-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(request))
    return str(path)


def dead_letters(prefix):
    conn = connect()
    try:
        return conn.channel().queue_declare(f"{prefix}.jobs.dead", passive=True).method.message_count
    finally:
        conn.close()


def test_submit_watch_prints_the_id_then_the_events_and_exits_0_on_success(bridge, tmp_path):
    job_id = f"cli-{uuid.uuid4().hex[:8]}"
    path = request_file(tmp_path, job(job_id, {"run": {"command": "/bin/echo", "args": ["Hello, CLI!"]}}))
    code, out, err = cli(bridge.prefix, "submit", "--watch", path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == job_id
    kinds = [line.split()[2] for line in lines[1:] if line.startswith(tuple("0123456789"))]
    assert kinds[0] == "created" and kinds[-1] == "ended" and "success" in kinds, out
    assert "output: Hello, CLI!" in out


def test_a_request_without_job_id_gets_the_id_the_cli_printed(bridge, tmp_path):
    code, out, err = cli(bridge.prefix, "submit", "--json", "-", stdin=json.dumps({"work": [{"run": "echo hi"}]}))
    assert code == 0, err
    job_id = json.loads(out)["jobId"]
    uuid.UUID(job_id)
    code, out, err = cli(bridge.prefix, "watch", job_id)
    assert code == 0, out + err
    code, out, err = cli(bridge.prefix, "status", "--json", job_id)
    assert code == 0, err
    snapshot = json.loads(out)
    assert snapshot["jobId"] == job_id
    assert snapshot["state"] == "done" and snapshot["lastEvent"] == "ended"
    assert snapshot["result"]["output"] == "hi\n"


def test_status_prints_the_snapshot_typed(bridge, tmp_path):
    job_id = f"cli-{uuid.uuid4().hex[:8]}"
    assert cli(bridge.prefix, "submit", "--watch", request_file(tmp_path, job(job_id, {"run": "echo typed"})))[0] == 0
    code, out, err = cli(bridge.prefix, "status", job_id)
    assert code == 0, err
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["job"] == job_id and fields["state"] == "done"
    assert fields["attempt"] == "1" and fields["last"] == "ended"
    assert fields["updated"].endswith("Z") and fields["output"] == "typed"


def test_status_and_watch_of_an_unknown_job_say_unknown_and_exit_1(bridge):
    job_id = f"never-{uuid.uuid4().hex[:8]}"
    code, out, err = cli(bridge.prefix, "status", job_id)
    assert code == 1, err
    assert out.splitlines() == [f"job     {job_id}", "state   unknown"]
    code, out, err = cli(bridge.prefix, "status", "--json", job_id)
    assert code == 1 and json.loads(out) == {"jobId": job_id, "state": "unknown"}
    code, out, err = cli(bridge.prefix, "watch", job_id)
    assert code == 1 and "state   unknown" in out, out + err


def test_cancel_stops_a_running_job_and_watch_reports_it(bridge, client, tmp_path):
    job_id = f"cli-{uuid.uuid4().hex[:8]}"
    client.follow(f"job.{job_id}.*")
    code, out, err = cli(bridge.prefix, "submit", request_file(tmp_path, job(job_id, {"run": "sleep 120"})))
    assert code == 0 and out.strip() == job_id, err
    started = client.events(count=2, timeout=60)
    assert [e["data"]["event"] for e in started] == ["created", "started"]
    code, out, err = cli(bridge.prefix, "cancel", job_id, "--reason", "no longer needed")
    assert code == 0 and out.strip() == f"cancel sent for {job_id}", err
    events = client.events(until_ended=[job_id], timeout=60)
    canceled = next(e for e in events if e["data"]["event"] == "canceled")
    assert canceled["data"]["error"]["code"] == "canceled"
    assert "no longer needed" in canceled["data"]["error"]["message"]
    code, out, err = cli(bridge.prefix, "watch", job_id)
    assert code == 1, out + err
    assert "state   rejected" in out and "error   canceled:" in out, out


def test_a_file_that_cannot_be_read_is_an_error_naming_it(bridge, tmp_path):
    code, out, err = cli(bridge.prefix, "submit", str(tmp_path / "missing.json"))
    assert code == 1 and out == ""
    assert f"cannot read {tmp_path / 'missing.json'}" in err, err


def test_a_request_the_bridge_would_refuse_is_refused_before_sending(bridge, tmp_path):
    cases = [
        ("{not json", "the request is not valid (not_json)"),
        (json.dumps({"work": []}), "the request is not valid (schema): work"),
        (json.dumps({"jobId": "a.b", "work": [{"run": "x"}]}), "the request is not valid (invalid_job_id)"),
        (json.dumps({"work": [{"teleport": {}}]}), "work[0]"),
    ]
    for body, message in cases:
        path = tmp_path / f"bad-{uuid.uuid4().hex[:6]}.json"
        path.write_text(body)
        code, out, err = cli(bridge.prefix, "submit", str(path))
        assert code == 1 and out == "", (body, out, err)
        assert message in err, (body, err)
    # Nothing reached the bridge: it would have dead-lettered each.
    assert dead_letters(bridge.prefix) == 0


def test_a_job_id_that_cannot_be_one_is_a_usage_error():
    for command in (["status"], ["watch"], ["cancel"]):
        p = subprocess.run([bridge_binary(), *command, "job.with.dots", "--amqp-url", AMQP_URL],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 64, (command, p.stderr)
        assert "job.with.dots is not a job ID" in p.stderr, p.stderr


def test_status_with_no_bridge_answering_exits_2_unlike_an_unknown_job(prefix, tmp_path):
    # No bridge ever ran with this prefix: there is no control exchange.
    code, out, err = cli(prefix, "status", "--timeout", "1", "nobody-home")
    assert code == 2 and "NOT_FOUND" in err and out == "", (out, err)
    # A bridge ran and stopped: the request waits in the status queue, nobody answers.
    Bridge(tmp_path, prefix).start().terminate()
    code, out, err = cli(prefix, "status", "--timeout", "1", "nobody-home")
    assert code == 2 and "no answer within 1.0 s" in err and out == "", (out, err)


def test_status_with_no_broker_exits_2():
    p = subprocess.run([bridge_binary(), "status", "any-job", "--amqp-url", "amqp://guest:guest@127.0.0.1:1/"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("Error: cannot reach the broker"), p.stderr


def test_cancel_with_no_bridge_running_says_nobody_heard_it_and_exits_1(prefix, tmp_path):
    Bridge(tmp_path, prefix).start().terminate()  # the topology exists, no bridge runs
    code, out, err = cli(prefix, "cancel", "some-job")
    assert code == 1, (out, err)
    assert "no bridge with prefix" in err and out == ""


def test_submit_watch_prints_each_step_as_it_happens_through_a_pipe(bridge, client, tmp_path):
    job_id = f"cli-{uuid.uuid4().hex[:8]}"
    path = request_file(tmp_path, job(job_id, {"run": "echo first"}, {"run": "sleep 600"}))
    watcher = subprocess.Popen([bridge_binary(), "submit", "--watch", path, "--prefix", bridge.prefix, "--amqp-url", AMQP_URL],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        reader = threading.Thread(target=lambda: [lines.append(line) for line in watcher.stdout], daemon=True)
        reader.start()
        # Step 0's progress and what it printed are shown while step 1 still runs (for 600 s): read
        # them, then end the job.
        deadline = time.time() + 60
        while "  stdout: first\n" not in lines:
            assert time.time() < deadline and watcher.poll() is None, lines
            time.sleep(0.05)
        step = lines.index("  stdout: first\n") - 1
        assert " progress " in lines[step] and "step 0 run exit 0" in lines[step], lines
        assert not any(" ended " in line for line in lines), lines
        client.cancel(job_id)
        assert watcher.wait(timeout=30) == 1
        reader.join(timeout=10)
        kinds = [line.split()[2] for line in lines if line[:1].isdigit()]
        assert kinds == ["created", "started", "progress", "canceled", "ended"], lines
    finally:
        if watcher.poll() is None:
            watcher.kill()


def test_submit_watch_of_a_job_id_that_already_ended_prints_its_snapshot_instead_of_waiting(bridge, tmp_path):
    ok, failing = f"cli-{uuid.uuid4().hex[:8]}", f"cli-{uuid.uuid4().hex[:8]}"
    ok_path = request_file(tmp_path, job(ok, {"run": "echo once"}))
    failing_path = request_file(tmp_path, job(failing, {"run": "exit 4"}))
    assert cli(bridge.prefix, "submit", "--watch", ok_path)[0] == 0
    assert cli(bridge.prefix, "submit", "--watch", failing_path)[0] == 1
    # The same requests again: not run again (the ID is idempotent), so no events would come.
    code, out, err = cli(bridge.prefix, "submit", "--watch", ok_path, timeout=30)
    assert code == 0, err
    assert f"job {ok} already exists and has ended" in err
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["job"] == ok and fields["state"] == "done" and fields["output"] == "once", out
    code, out, err = cli(bridge.prefix, "submit", "--watch", "--json", failing_path, timeout=30)
    assert code == 1, err
    snapshot = json.loads(out)
    assert snapshot["state"] == "rejected" and snapshot["error"]["code"] == "command_failed", snapshot
