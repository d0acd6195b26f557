"""The Prometheus endpoint of `serve --metrics-address`: counters move by exactly what happened.

One bridge with its own prefix runs one job that succeeds, one whose command exits 3, and gets one
request that is not JSON; the scrape after must differ from the scrape before by exactly those.
"""
import re
import socket
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import Bridge, Client, job

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


def scrape(port):
    """{(name, frozenset(labels)): value} from the text exposition format."""
    status, content_type, text = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def metered(tmp_path, prefix, port):
    b = Bridge(tmp_path, prefix, extra=["--metrics-address", f"127.0.0.1:{port}"]).start()
    yield b
    b.terminate()


def test_counters_move_by_exactly_the_requests_and_jobs_that_happened(metered, client, prefix, port):
    before = scrape(port)
    assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200

    ok, failing = f"j-{uuid.uuid4().hex[:8]}", f"j-{uuid.uuid4().hex[:8]}"
    client.follow("job.*.*")
    client.submit(job(ok, {"run": "echo fine"}))
    client.submit(job(failing, {"run": "exit 3"}))
    client.submit(None, raw=b"this is not json", correlation_id="malformed")
    client.events(until_ended=[ok, failing], timeout=60)
    # The malformed request is counted when it is dead-lettered.
    deadline = time.time() + 20
    while time.time() < deadline:
        method, props, _ = client.ch.basic_get(f"{prefix}.jobs.dead", auto_ack=True)
        if method is not None and props.correlation_id == "malformed":
            break
        client.conn.sleep(0.1)
    else:
        raise AssertionError("the malformed request was not dead-lettered")
    # `ended` is published after the metrics are recorded; the pump frees its slot right after.
    time.sleep(0.5)
    after = scrape(port)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("golem_bridge_requests_accepted_total") == 2
    assert moved("golem_bridge_requests_duplicate_total") == 0
    assert moved("golem_bridge_requests_rejected_total", reason="not_json") == 1
    assert moved("golem_bridge_jobs_ended_total", outcome="success") == 1
    assert moved("golem_bridge_jobs_ended_total", outcome="error", code="command_failed") == 1
    # Nothing else moved in those families.
    for (name, labels), v in after.items():
        if name in ("golem_bridge_requests_rejected_total", "golem_bridge_jobs_ended_total"):
            expected = 1 if dict(labels) in (
                {"reason": "not_json"}, {"outcome": "success"}, {"outcome": "error", "code": "command_failed"}
            ) else 0
            assert v - before.get((name, labels), 0.0) == expected, (name, dict(labels))
    assert moved("golem_bridge_job_duration_seconds_count") == 2
    assert moved("golem_bridge_events_published_total", event="created") == 2
    assert moved("golem_bridge_events_published_total", event="ended") == 2
    assert moved("golem_bridge_event_publish_confirm_seconds_count") == sum(
        moved("golem_bridge_events_published_total", event=kind)
        for kind in ("created", "started", "progress", "success", "error", "canceled", "ended")
    )
    assert value(after, "golem_bridge_jobs_running") == 0
    assert value(after, "golem_bridge_jobs_waiting") == 0
    assert value(after, "golem_bridge_amqp_reconnects_total", role="consumer") == 0
    assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200


def test_a_taken_metrics_port_is_a_start_error_naming_the_address(tmp_path, prefix):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bridge = Bridge(tmp_path, prefix, extra=["--metrics-address", f"127.0.0.1:{port}"])
        with pytest.raises(RuntimeError) as failed:
            bridge.start()
        assert bridge.proc.returncode == 1
        last = failed.value.args[0].strip().splitlines()[-1]
        assert f"metrics endpoint: cannot listen on 127.0.0.1:{port}" in last, failed.value.args[0]
        assert "Address already in use" in last, last


def test_a_metrics_address_that_is_not_host_port_is_refused(tmp_path, prefix):
    bridge = Bridge(tmp_path, prefix, extra=["--metrics-address", "9464"])
    with pytest.raises(RuntimeError) as failed:
        bridge.start()
    assert bridge.proc.returncode != 0
    assert '--metrics-address: "9464" is not HOST:PORT' in failed.value.args[0], failed.value.args[0]


def test_healthz_is_503_while_draining_and_metrics_are_served_to_the_end(tmp_path, prefix, client, port):
    import signal
    bridge = Bridge(tmp_path, prefix, extra=["--metrics-address", f"127.0.0.1:{port}"]).start()
    try:
        assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        job_id = f"j-{uuid.uuid4().hex[:8]}"
        client.follow(f"job.{job_id}.*")
        client.submit(job(job_id, {"run": "sleep 3"}))
        deadline = time.time() + 30
        while time.time() < deadline and value(scrape(port), "golem_bridge_jobs_running") != 1:
            time.sleep(0.1)
        assert value(scrape(port), "golem_bridge_jobs_running") == 1
        bridge.proc.send_signal(signal.SIGTERM)
        # Draining: no longer consuming, the job still runs, and the endpoint still answers.
        deadline = time.time() + 5
        while time.time() < deadline and http_get(f"http://127.0.0.1:{port}/healthz")[0] != 503:
            time.sleep(0.05)
        status, _, body = http_get(f"http://127.0.0.1:{port}/healthz")
        assert status == 503, body
        assert bridge.proc.poll() is None
        assert value(scrape(port), "golem_bridge_jobs_running") == 1
        assert bridge.proc.wait(timeout=60) == 0
        kinds = [e["data"]["event"] for e in client.events(until_ended=[job_id], timeout=10)]
        assert kinds[-2:] == ["success", "ended"], kinds
    finally:
        bridge.terminate()
