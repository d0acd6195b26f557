"""End-to-end tests of golem-bridge, driven by pika: an outside client, a real broker, the real binary.

Each test gets its own topology prefix and journal, so tests never see each other's messages.
"""
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pika
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AMQP_URL = os.environ.get("GOLEM_BRIDGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def bridge_binary():
    path = os.environ.get("GOLEM_BRIDGE_BIN")
    if path:
        return path
    for build in ("debug", "release"):
        candidate = os.path.join(ROOT, ".build", build, "golem-bridge")
        if os.path.exists(candidate):
            return candidate
    raise RuntimeError("golem-bridge is not built: run `swift build` first")


class Bridge:
    """One golem-bridge process with its own prefix and journal."""

    def __init__(self, tmp_path, prefix, concurrency=4, grace=30, extra=(), amqp_url=None, journal=None, wrap=()):
        self.prefix = prefix
        # A command the bridge runs under (unshare, to give it a journal disk of its own).
        self.wrap = list(wrap)
        # A broker URL (or a cluster's URL list) other than the test broker's; readiness is read there.
        self.amqp_url = amqp_url
        self.journal = journal or str(tmp_path / "journal.sqlite")
        # The sandbox runs jobs as an unprivileged user, who must be able to reach the work root:
        # pytest's tmp_path sits below 0700 folders, /tmp does not.
        self.work_root = f"/tmp/golem-bridge-e2e/{prefix}"
        self.log_path = str(tmp_path / f"bridge-{uuid.uuid4().hex[:6]}.log")
        self.concurrency = concurrency
        self.grace = grace
        self.extra = list(extra)
        self.instance = f"test-{uuid.uuid4().hex[:8]}"
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*self.wrap, bridge_binary(), "serve", "--prefix", self.prefix, "--journal", self.journal,
             "--concurrency", str(self.concurrency), "--work-root", self.work_root,
             "--shutdown-grace", str(self.grace), "--instance-name", self.instance,
             *(["--amqp-url", self.amqp_url] if self.amqp_url else []), *self.extra],
            stdout=self.log, stderr=self.log,
        )
        # Ready when the submit queue has a consumer.
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited with {self.proc.returncode}:\n{self.logs()}")
            if consumer_count(f"{self.prefix}.jobs.submit", (self.amqp_url or AMQP_URL).split(",")[0]) > 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"bridge not ready in 60 s:\n{self.logs()}")

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-6000:]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=timeout)
        return self.proc.returncode if self.proc else None


def connect(url=AMQP_URL):
    return pika.BlockingConnection(pika.URLParameters(url))


def consumer_count(queue, url=AMQP_URL):
    conn = connect(url)
    try:
        ch = conn.channel()
        return ch.queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        try:
            conn.close()
        except Exception:
            pass


class Client:
    """A pika client: a private queue bound to events, publishing requests and control messages."""

    def __init__(self, prefix, url=AMQP_URL):
        self.prefix = prefix
        self.conn = connect(url)
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue

    def follow(self, pattern):
        self.ch.queue_bind(self.queue, f"{self.prefix}.events", pattern)

    def submit(self, request, raw=None, message_id=None, reply_to=None, correlation_id=None):
        body = raw if raw is not None else json.dumps(request).encode()
        self.ch.basic_publish(
            f"{self.prefix}.jobs", "submit", body,
            pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=message_id,
                                 reply_to=reply_to, correlation_id=correlation_id),
            mandatory=True,
        )

    def cancel(self, job_id, reason=None):
        body = json.dumps({"reason": reason}).encode() if reason else b""
        self.ch.basic_publish(f"{self.prefix}.control", f"job.{job_id}.cancel", body)

    def status(self, job_id, timeout=10):
        cid = uuid.uuid4().hex
        self.ch.basic_publish(f"{self.prefix}.control", f"job.{job_id}.status", b"",
                              pika.BasicProperties(reply_to=self.queue, correlation_id=cid))
        deadline = time.time() + timeout
        while time.time() < deadline:
            method, props, body = self.ch.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.conn.sleep(0.05)
                continue
            if props.correlation_id == cid:
                return json.loads(body)
        raise AssertionError(f"no status reply for {job_id} within {timeout} s")

    def events(self, until_ended=(), timeout=60, count=None):
        """Collects events from the private queue until every job in until_ended has `ended`."""
        waiting = set(until_ended)
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline and (waiting or (count is not None and len(got) < count)):
            method, props, body = self.ch.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.conn.sleep(0.05)
                continue
            if props.content_type != "application/cloudevents+json":
                continue
            event = json.loads(body)
            event["_props"] = props
            event["_routing_key"] = method.routing_key
            got.append(event)
            if event["data"]["event"] == "ended":
                waiting.discard(event["data"]["jobId"])
        if waiting:
            raise AssertionError(f"jobs without `ended` after {timeout} s: {sorted(waiting)}; got {[summary(e) for e in got]}")
        return got

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def summary(event):
    d = event["data"]
    return f'{d["jobId"]}:{d["event"]}#{event["sequence"]}'


def delete_topology(prefix, conn=None, extra_queues=()):
    """Deletes a test's queues and exchanges (on `conn` when given, e.g. a cluster node; it is closed)."""
    conn = conn or connect()
    ch = conn.channel()
    for q in (f"{prefix}.jobs.submit", f"{prefix}.jobs.dead", f"{prefix}.control.status", *extra_queues):
        try:
            ch.queue_delete(q)
        except Exception:
            ch = conn.channel()
    for x in (f"{prefix}.jobs", f"{prefix}.events", f"{prefix}.control", f"{prefix}.jobs.dead"):
        try:
            ch.exchange_delete(x)
        except Exception:
            ch = conn.channel()
    conn.close()


@pytest.fixture
def prefix():
    p = f"t{uuid.uuid4().hex[:10]}"
    yield p
    delete_topology(p)
    shutil.rmtree(f"/tmp/golem-bridge-e2e/{p}", ignore_errors=True)


@pytest.fixture
def bridge(tmp_path, prefix):
    b = Bridge(tmp_path, prefix).start()
    yield b
    b.terminate()


@pytest.fixture
def client(prefix):
    c = Client(prefix)
    yield c
    c.close()


def job(job_id, *steps, **extra):
    request = {"jobId": job_id, "work": list(steps) or [{"run": "echo hello"}]}
    request.update(extra)
    return request


def next_message(conn, ch, queue, timeout):
    """The next (method, properties, body) on `queue` within `timeout` seconds, else (None, None, None)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is not None:
            return method, props, body
        conn.sleep(0.05)
    return None, None, None


def event_kinds_until_ended(conn, ch, queue, timeout=60):
    """The `data.event` of each event on `queue` up to `ended` (or the timeout)."""
    kinds, deadline = [], time.time() + timeout
    while "ended" not in kinds and time.time() < deadline:
        method, _, body = next_message(conn, ch, queue, deadline - time.time())
        if method is None:
            break
        kinds.append(json.loads(body)["data"]["event"])
    return kinds
