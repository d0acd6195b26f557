"""Faults under load, each a test: the journal's disk full or read-only, the broker restarted, SIGTERM.

Real binaries, a real broker, pika as the client. What every test checks in the end: nothing lost,
nothing run twice, every job one terminal event and one `ended` (repeats of one CloudEvent id, which
at-least-once delivery allows, count once).
"""
import json
import os
import shutil
import sqlite3
import subprocess
import time
import uuid

import pika
import pytest

from conftest import AMQP_URL, ROOT, Bridge, Client, connect, delete_topology, job
from test_metrics import free_port
from test_scaleout import assert_one_outcome, healthz, unique_by_job, wait_for


def ids(tag, count):
    return [f"{tag}{i}-{uuid.uuid4().hex[:6]}" for i in range(count)]


def submit_all(client, job_ids, command="echo {id}", max_attempts=2):
    for job_id in job_ids:
        client.submit(job(job_id, {"run": command.format(id=job_id)}, maxAttempts=max_attempts))


def queue_depth(queue, url=AMQP_URL):
    """Messages ready in `queue` (not those a consumer holds unacknowledged)."""
    conn = connect(url)
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def events_of(events, job_ids):
    wanted = set(job_ids)
    return [e for e in events if e["data"]["jobId"] in wanted]


def not_ended(events, job_ids):
    ended = {e["data"]["jobId"] for e in events if e["data"]["event"] == "ended"}
    return [j for j in job_ids if j not in ended]


def assert_each_once(events, job_ids, outcome="success"):
    """Every job: one outcome, one `ended`, one `created`, however often an event was delivered."""
    jobs = unique_by_job(events)
    missing = [j for j in job_ids if j not in jobs]
    assert not missing, f"jobs without events: {missing}"
    for job_id in job_ids:
        kinds = assert_one_outcome(jobs[job_id], outcome)
        assert kinds.count("created") == 1, (job_id, kinds)


# MARK: the journal's disk

class JournalDisk:
    """A small ext4 file system for the bridge's journal, mounted in a mount namespace of the bridge's
    own (the test's machine sees no mount), so the test can fill it or make it unwritable under the
    running bridge.

    Read-only is the journal's files made immutable (`chattr +i`): writes through the bridge's open
    descriptors then fail (EPERM), and `chattr -i` clears it. A real remount read-only cannot be had
    under a process that holds files open for writing (the kernel refuses, EBUSY), and ext4's own
    emergency read-only after an error stays until the file system is unmounted, so only a restart on
    the repaired disk clears that one.
    """

    def __init__(self, tmp_path, size_mb=32):
        self.image = str(tmp_path / "journal-disk.img")
        self.mount = str(tmp_path / "journal-disk")
        os.makedirs(self.mount)
        subprocess.run(["truncate", "-s", f"{size_mb}M", self.image], check=True)
        # No reserved blocks: full means full for the bridge, which runs as root here.
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", self.image], check=True)
        self.journal = os.path.join(self.mount, "journal.sqlite")
        self.bridge = None

    def wrap(self):
        """The command prefix that runs the bridge in its own mount namespace with the disk mounted."""
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount -o loop "$0" "$1" && shift && exec "$@"', self.image, self.mount]

    def run(self, script):
        """Runs a shell script in the bridge's mount namespace."""
        result = subprocess.run(["nsenter", "-t", str(self.bridge.proc.pid), "-m", "--", "sh", "-c", script],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def fill(self):
        # dd stops at ENOSPC (its failure is the point); a second pass takes the last partial blocks.
        self.run(f'dd if=/dev/zero of={self.mount}/filler bs=1M 2>/dev/null; '
                 f'dd if=/dev/zero of={self.mount}/filler2 bs=1k 2>/dev/null; sync; '
                 f'test "$(df --output=avail {self.mount} | tail -1)" -eq 0')

    def clear(self):
        self.run(f"rm -f {self.mount}/filler {self.mount}/filler2")

    def clear_offline(self):
        """Frees the space with no bridge running (mounted for this alone)."""
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        f'mount -o loop "$0" "$1" && rm -f "$1/filler" "$1/filler2"', self.image, self.mount],
                       check=True, timeout=60)

    # The database and its WAL, where the journal's writes go; not the -shm index, which SQLite writes
    # through a shared mapping: a refused write there is SIGBUS, which no SQLite process survives.
    def make_read_only(self):
        self.run(f"chattr +i {self.journal} {self.journal}-wal")

    def make_writable(self):
        self.run(f"chattr -i {self.journal} {self.journal}-wal")


@pytest.fixture
def journal_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a loop file system for the journal in a private mount namespace")
    missing = [tool for tool in ("unshare", "nsenter", "mkfs.ext4", "chattr") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux, e2fsprogs)")
    return JournalDisk(tmp_path)


def journal_outage(tmp_path, prefix, disk, cause, repair):
    """A bridge whose journal stops taking writes under load (`cause`) and takes them again (`repair`):
    no work taken meanwhile, readiness false, running jobs' events held, nothing lost after."""
    port = free_port()
    bridge = Bridge(tmp_path, prefix, concurrency=2, journal=disk.journal, wrap=disk.wrap(),
                    extra=["--metrics-address", f"127.0.0.1:{port}"])
    disk.bridge = bridge.start()
    client = Client(prefix)
    try:
        client.follow("job.*.*")
        wait_for(lambda: healthz(port) == 200, 30, "readiness")
        before = ids("b", 4)
        submit_all(client, before)
        seen = client.events(until_ended=before, timeout=60)
        # Running when the journal goes: their next events meet it mid-job.
        running = ids("r", 2)
        submit_all(client, running, "sleep 3; echo {id}")

        def running_started():
            seen.extend(client.events(timeout=0.3, count=10**6))
            return {e["data"]["jobId"] for e in seen if e["data"]["event"] == "started"} >= set(running)

        wait_for(running_started, 30, "the long jobs started")
        cause()
        during = ids("d", 6)
        submit_all(client, during)
        wait_for(lambda: healthz(port) == 503, 30, "readiness false while the journal cannot write")
        # A while of the outage: none of the new requests is taken (no event: an event is journaled
        # before it is sent), they wait in the queue (at most the prefetch, 2, held at any moment), and
        # readiness stays false.
        seen += client.events(timeout=3, count=10**6)
        assert not events_of(seen, during), [e["data"] for e in events_of(seen, during)]
        assert queue_depth(f"{prefix}.jobs.submit") >= len(during) - 2
        assert healthz(port) == 503
        assert not [e for e in events_of(seen, running) if e["data"]["event"] == "ended"], \
            "a running job ended though its events could not be journaled"
        repair()
        wait_for(lambda: healthz(port) == 200, 30, "readiness true with the journal back")
        events = seen + client.events(until_ended=not_ended(seen, before + running + during), timeout=90)
        events += client.events(timeout=1, count=10**6)  # stragglers: never a second outcome
        assert_each_once(events, before + running + during)
        assert bridge.terminate() == 0, bridge.logs()
    finally:
        client.close()
        bridge.terminate()


def test_journal_disk_full_takes_no_work_until_space_is_back(tmp_path, prefix, journal_disk):
    journal_outage(tmp_path, prefix, journal_disk, journal_disk.fill, journal_disk.clear)


def test_read_only_journal_takes_no_work_until_writable_again(tmp_path, prefix, journal_disk):
    journal_outage(tmp_path, prefix, journal_disk, journal_disk.make_read_only, journal_disk.make_writable)


def test_sigterm_while_the_journal_disk_is_full_stops_within_the_bound_and_loses_nothing(tmp_path, prefix, journal_disk):
    grace = 2
    bridge = Bridge(tmp_path, prefix, concurrency=2, grace=grace, journal=journal_disk.journal,
                    wrap=journal_disk.wrap())
    journal_disk.bridge = bridge.start()
    client = Client(prefix)
    second = None
    try:
        client.follow("job.*.*")
        running = ids("r", 2)
        submit_all(client, running, "sleep 2; echo {id}")
        seen = []

        def running_started():
            seen.extend(client.events(timeout=0.3, count=10**6))
            return {e["data"]["jobId"] for e in seen if e["data"]["event"] == "started"} >= set(running)

        wait_for(running_started, 30, "the jobs started")
        journal_disk.fill()
        waiting = ids("w", 4)
        submit_all(client, waiting)
        signalled = time.time()
        # The jobs' last events cannot be journaled: the drain gives up on them after its bounds.
        assert bridge.terminate(timeout=60) == 0, bridge.logs()
        stopped_after = time.time() - signalled
        assert stopped_after < grace + 5 + 5, f"stopped {stopped_after:.1f} s after SIGTERM (grace {grace} s)"
        print(f"\nSIGTERM with the journal disk full: exited after {stopped_after:.2f} s (grace {grace} s)")
        journal_disk.clear_offline()
        second = Bridge(tmp_path, prefix, concurrency=2, grace=grace, journal=journal_disk.journal,
                        wrap=journal_disk.wrap())
        journal_disk.bridge = second.start()
        events = seen + client.events(until_ended=not_ended(seen, running + waiting), timeout=90)
        events += client.events(timeout=1, count=10**6)  # stragglers: never a second outcome
        assert_each_once(events, running + waiting)
    finally:
        client.close()
        bridge.terminate()
        if second:
            second.terminate()


# MARK: the broker restarted

class RestartableBroker:
    """The broker a test may stop and start: by default one of the test's own beside the session's
    (scripts/broker on other ports and another Erlang node, so other tests on the session broker
    go on); with GOLEM_BRIDGE_FAULTS_BROKER=session the session's broker itself (CI runs the tests
    one after another, and then saves the second broker's start)."""

    def __init__(self):
        self.session = os.environ.get("GOLEM_BRIDGE_FAULTS_BROKER") == "session"
        if self.session:
            self.env = dict(os.environ)
            self.url = AMQP_URL
        else:
            port = os.environ.get("GOLEM_BRIDGE_FAULTS_BROKER_PORT", "5681")
            self.env = {
                **os.environ,
                "GOLEM_BRIDGE_BROKER_DIR": os.environ.get("GOLEM_BRIDGE_FAULTS_BROKER_DIR",
                                                          "/var/lib/golem-bridge-faults-broker"),
                "GOLEM_BRIDGE_BROKER_PORT": port,
                "GOLEM_BRIDGE_BROKER_TLS_PORT": str(int(port) + 1),
                "GOLEM_BRIDGE_BROKER_DIST_PORT": str(int(port) + 20000),
            }
            self.url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"

    def broker(self, action):
        result = subprocess.run([os.path.join(ROOT, "scripts", "broker"), action], env=self.env,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self):
        self.broker("start")

    def stop(self):
        self.broker("stop")


@pytest.fixture
def restartable_broker():
    if os.geteuid() != 0:
        pytest.skip("needs root: starts and stops a RabbitMQ node (scripts/broker)")
    if not shutil.which("rabbitmq-server"):
        pytest.skip("rabbitmq-server is not installed (scripts/bootstrap)")
    broker = RestartableBroker()
    broker.start()
    yield broker
    if broker.session:
        broker.start()  # the tests after this one need it
    else:
        broker.stop()


class DurableFollower:
    """Follows a prefix's events through a durable queue, so the events the broker confirmed before it
    stopped are still there after it started again; reconnects when asked."""

    def __init__(self, url, prefix):
        self.url, self.prefix = url, prefix
        self.queue = f"{prefix}.test-events"
        self.connect()
        self.ch.queue_declare(self.queue, durable=True)
        self.ch.queue_bind(self.queue, f"{prefix}.events", "job.*.*")

    def connect(self):
        self.conn = connect(self.url)
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()

    def reconnect(self):
        try:
            self.conn.close()
        except Exception:
            pass
        self.connect()

    def submit(self, job_ids, command):
        for job_id in job_ids:
            self.ch.basic_publish(
                f"{self.prefix}.jobs", "submit",
                json.dumps(job(job_id, {"run": command.format(id=job_id)}, maxAttempts=2)).encode(),
                pika.BasicProperties(content_type="application/json", delivery_mode=2), mandatory=True)

    def events(self, until_ended=(), timeout=60):
        waiting, got = set(until_ended), []
        deadline = time.time() + timeout
        while waiting and time.time() < deadline:
            method, _, body = self.ch.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.conn.sleep(0.05)
                continue
            event = json.loads(body)
            got.append(event)
            if event["data"]["event"] == "ended":
                waiting.discard(event["data"]["jobId"])
        assert not waiting, f"jobs without `ended` after {timeout} s: {sorted(waiting)}"
        return got

    def close(self):
        try:
            self.ch.queue_delete(self.queue)
            self.conn.close()
        except Exception:
            pass


def test_broker_restart_under_load_loses_nothing(tmp_path, restartable_broker):
    broker = restartable_broker
    prefix = f"t{uuid.uuid4().hex[:10]}"
    bridge = Bridge(tmp_path, prefix, concurrency=4, amqp_url=broker.url).start()
    follower = DurableFollower(broker.url, prefix)
    try:
        first = ids("a", 30)
        follower.submit(first, "sleep 0.3; echo {id}")
        events = follower.events(until_ended=first[:4], timeout=60)
        # Under load: jobs running, events in flight, requests waiting in the queue.
        broker.stop()
        assert bridge.proc.poll() is None, f"the bridge exited without its broker:\n{bridge.logs()}"
        broker.start()
        follower.reconnect()
        after = ids("z", 10)
        follower.submit(after, "echo {id}")
        events += follower.events(until_ended=not_ended(events, first + after), timeout=120)
        assert_each_once(events, first + after)
        assert bridge.terminate() == 0, bridge.logs()
    finally:
        follower.close()
        bridge.terminate()
        delete_topology(prefix, connect(broker.url))


# MARK: SIGTERM

def journaled_jobs(journal):
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT jobId FROM job")}


def test_sigterm_under_load_stops_within_its_grace_and_loses_nothing(tmp_path, prefix):
    grace = 2
    first = Bridge(tmp_path, prefix, concurrency=2, grace=grace).start()
    client = Client(prefix)
    second = None
    try:
        client.follow("job.*.*")
        # Longer than the grace: suspended at SIGTERM, run again by the next bridge.
        long = ids("l", 2)
        submit_all(client, long, "sleep 6; echo {id}")
        short = ids("s", 12)
        submit_all(client, short, "sleep 0.3; echo {id}")
        seen = []

        def long_started():
            seen.extend(client.events(timeout=0.3, count=10**6))
            return {e["data"]["jobId"] for e in seen if e["data"]["event"] == "started"} >= set(long)

        wait_for(long_started, 30, "the long jobs started")
        signalled = time.time()
        assert first.terminate(timeout=60) == 0, first.logs()
        stopped_after = time.time() - signalled
        # The grace, then at most 5 s for suspended jobs' last events (BridgeRuntime.drain), then exit.
        assert stopped_after < grace + 5 + 5, f"stopped {stopped_after:.1f} s after SIGTERM (grace {grace} s)"
        print(f"\nSIGTERM with 2 jobs running past a {grace} s grace: exited after {stopped_after:.2f} s")
        # Every request is either journaled (taken) or back in the queue: none lost, none in both.
        taken = journaled_jobs(first.journal)
        assert taken <= set(long + short)
        assert queue_depth(f"{prefix}.jobs.submit") == len(long + short) - len(taken)
        second = Bridge(tmp_path, prefix, concurrency=2, grace=grace).start()
        events = seen + client.events(until_ended=not_ended(seen, long + short), timeout=90)
        events += client.events(timeout=1, count=10**6)  # stragglers: never a second outcome
        assert_each_once(events, long + short)
        jobs = unique_by_job(events)
        for job_id in long:
            kinds = [e["data"]["event"] for e in jobs[job_id]]
            assert kinds.count("started") == 2, (job_id, kinds)
    finally:
        client.close()
        first.terminate()
        if second:
            second.terminate()
