"""Faults under load, each a test: the journal's disk full or read-only, the broker restarted, SIGTERM.

Real binaries, a real broker, pika as the client. What every test checks in the end: nothing lost,
nothing run twice, every job one terminal event and one `ended` (repeats of one CloudEvent id, which
at-least-once delivery allows, count once).
"""
import os
import shutil
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
