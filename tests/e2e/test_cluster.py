"""Three bridges on a three-node RabbitMQ cluster (scripts/rabbit-cluster) sharing one PostgreSQL
journal: the node that leads the submit queue is stopped while 1,000 jobs flow, and every job still
ends exactly once.

The client is pika, resilient the way a production client must be on a cluster: its event queue is a
quorum queue (it survives a node), it reconnects to a live node, and it republishes the requests the
broker had not confirmed (with the same job IDs, which the bridges treat as one job).
"""
import json
import os
import subprocess
import threading
import time
import uuid

import pika
import pytest

from cluster_client import EventCollector, ResilientPublisher, cluster, connect_any, node_params, verdict
from conftest import Bridge, delete_topology

POSTGRES_URL = os.environ.get("GOLEM_BRIDGE_TEST_POSTGRES_URL")
JOBS = int(os.environ.get("GOLEM_BRIDGE_CLUSTER_JOBS", "1000"))
CONCURRENCY = 4


# Opt-in for a bare pytest (it starts a cluster of its own; scripts/test turns it on). Its first run
# (2026-12-03, one bridge, 250 jobs) lost 16 jobs: `<prefix>.jobs.dead` and `<prefix>.control.status`
# were classic queues homed on the stopped node, and every reconnect's declare of them failed with 404
# "home node is down", so no connection of the bridge came back. (Its "8 with two outcomes" were 8 of
# those 16, counted by a check that did not tell a missing outcome from a second one; the check below
# tells them apart.) They are quorum queues now, and a channel the broker nacks on is reopened.
pytestmark = pytest.mark.skipif(not os.environ.get("GOLEM_BRIDGE_CLUSTER_TESTS"),
                                reason="set GOLEM_BRIDGE_CLUSTER_TESTS=1 (starts scripts/rabbit-cluster)")


@pytest.fixture(scope="module")
def rabbit_cluster():
    if subprocess.run(["which", "rabbitmq-server"], capture_output=True).returncode != 0:
        pytest.skip("rabbitmq-server is not installed (scripts/bootstrap installs it)")
    cluster("start")
    yield node_params()
    # Leave the cluster whole for whoever runs next.
    for n in (1, 2, 3):
        cluster("start-node", str(n))


@pytest.fixture
def shared_journal():
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("GOLEM_BRIDGE_TEST_POSTGRES_URL is not set (scripts/test sets it from scripts/postgres)")
        pytest.skip("no shared journal: set GOLEM_BRIDGE_TEST_POSTGRES_URL (scripts/postgres start)")
    return POSTGRES_URL


# How long the jobs keep the bridges busy, at the least. Stopping a node takes seconds (rabbitmqctl
# asks for the leader, then stops the node gracefully), so the run must outlast it by far whatever
# the bridges' speed: CI once saw 1,000 jobs of `sleep 0.2` on 12 slots (17 s) all end before the
# stop returned.
RUN_SECONDS = 60


def job_seconds(jobs, slots):
    """Each job's sleep, so that `jobs` jobs on `slots` slots take RUN_SECONDS."""
    return max(0.2, round(RUN_SECONDS * slots / jobs, 2))


def publish_all(params, prefix, job_ids, seconds):
    """Publishes each request until the broker confirms it; returns how many were sent again."""
    publisher = ResilientPublisher(params)
    for job_id in job_ids:
        # Each job takes a moment, so the node stops while jobs run, not after the last one.
        body = json.dumps({"jobId": job_id, "work": [{"run": f"sleep {seconds}; echo {job_id}"}]}).encode()
        publisher.publish(f"{prefix}.jobs", "submit", body,
                          pika.BasicProperties(content_type="application/json", delivery_mode=2), mandatory=True)
    publisher.close()
    return publisher.republished


def test_three_bridges_lose_nothing_and_run_nothing_twice_when_the_submit_queue_leader_stops(
        rabbit_cluster, shared_journal, tmp_path):
    run_through_a_leader_stop(rabbit_cluster, tmp_path, bridges=3, journal=shared_journal, jobs=JOBS)


def test_one_bridge_on_the_cluster_loses_nothing_when_the_submit_queue_leader_stops(rabbit_cluster, tmp_path):
    # Its own SQLite journal: a request redelivered after the node stopped comes back to it.
    run_through_a_leader_stop(rabbit_cluster, tmp_path, bridges=1, journal=None, jobs=JOBS // 4)


def run_through_a_leader_stop(params, tmp_path, bridges, journal, jobs):
    prefix = f"c{uuid.uuid4().hex[:10]}"
    urls = cluster("urls").split(",")
    running = []
    for i in range(bridges):
        # Each bridge starts on a different node and knows all three.
        order = ",".join(urls[i:] + urls[:i])
        directory = tmp_path / f"bridge{i}"
        directory.mkdir()
        running.append(Bridge(directory, prefix, concurrency=CONCURRENCY, amqp_url=order, journal=journal))
    bridges = running
    JOBS = jobs
    collector = EventCollector(params, prefix)
    try:
        for b in bridges:
            b.start()
        collector.start()
        assert collector.ready.wait(60), "the event collector could not connect"

        job_ids = [f"cl-{i:04d}-{uuid.uuid4().hex[:6]}" for i in range(JOBS)]
        seconds = job_seconds(JOBS, len(bridges) * CONCURRENCY)
        publisher = threading.Thread(
            target=lambda: setattr(publisher, "republished", publish_all(params, prefix, job_ids, seconds)))
        publisher.start()
        # The bridges declared the queue; its leader does not move before the stop.
        leader = cluster("leader", f"{prefix}.jobs.submit")

        # Stop the submit queue's leader once a tenth of the jobs have ended (with a quarter, one
        # bridge had once ended 244 of 250 by the time the node was down).
        deadline = time.time() + 300
        while collector.ended() < JOBS // 10 and time.time() < deadline:
            time.sleep(0.2)
        stop_began_at, stop_began = collector.ended(), time.time()
        cluster("stop-node", leader)
        stopped_at, stop_took = collector.ended(), round(time.time() - stop_began, 1)
        assert stopped_at < JOBS, f"the node stopped after every job had ended ({stopped_at}, the stop took {stop_took} s): nothing was tested"

        # With the node down, the other queues of the contract still work for clients.
        probe_while_node_down(params, prefix, job_ids[0])

        publisher.join(timeout=600)
        deadline = time.time() + 600
        while collector.ended(set(job_ids)) < JOBS and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # late duplicates, if any, arrive now
        collector.stopping.set()
        collector.join(timeout=30)

        verdicts = {j: verdict(collector.kinds(j)) for j in job_ids}
        lost = [j for j, v in verdicts.items() if v == "lost"]
        twice = {j: collector.kinds(j) for j, v in verdicts.items() if v == "twice"}
        figures = {"jobs": JOBS, "leader_stopped": leader, "ended_when_stop_began": stop_began_at, "ended_when_stopped": stopped_at,
                   "stop_took_s": stop_took, "job_sleep_s": seconds,
                   "lost": len(lost), "run_twice": len(twice), "duplicates_delivered": collector.duplicates,
                   "client_reconnects": collector.reconnects,
                   "requests_republished": getattr(publisher, "republished", None)}
        print("cluster figures:", json.dumps(figures))
        assert not lost, f"{len(lost)} jobs without `ended`, e.g. {lost[:5]}; {figures}"
        assert not twice, f"jobs without exactly one terminal event and one `ended`: {dict(list(twice.items())[:5])}; {figures}"
        assert set(job_ids) <= set(collector.by_job)
    finally:
        collector.stopping.set()
        for b in bridges:
            try:
                b.terminate()
            except Exception:
                pass
        cleanup(params, prefix)
        # The next test starts its bridges on a whole cluster.
        for n in (1, 2, 3):
            cluster("start-node", str(n))


def probe_while_node_down(params, prefix, job_id):
    """A status request is answered and a bad request is dead-lettered, through live nodes. Asked as
    a client on a cluster must: requests published with confirms, the status request sent again when
    no reply came (a queue whose leader was on the stopped node takes a moment to elect another),
    and a failed read tried again on a new connection."""
    publisher = ResilientPublisher(params)
    bad = json.dumps({"jobId": f"bad-{uuid.uuid4().hex[:6]}", "work": []}).encode()
    publisher.publish(f"{prefix}.jobs", "submit", bad, pika.BasicProperties(content_type="application/json"))
    reply = dead = None
    deadline = time.time() + 120
    while (reply is None or dead is None) and time.time() < deadline:
        try:
            conn = connect_any(params)
            ch = conn.channel()
            reply_queue = ch.queue_declare("", exclusive=True).method.queue
            asked = 0
            while (reply is None or dead is None) and time.time() < deadline:
                if reply is None and time.time() - asked > 5:
                    publisher.publish(f"{prefix}.control", f"job.{job_id}.status", b"",
                                      pika.BasicProperties(reply_to=reply_queue, correlation_id="probe"))
                    asked = time.time()
                if reply is None:
                    method, _, body = ch.basic_get(reply_queue, auto_ack=True)
                    if method:
                        reply = json.loads(body)
                if dead is None:
                    method, props, _ = ch.basic_get(f"{prefix}.jobs.dead", auto_ack=True)
                    if method:
                        dead = props.headers.get("x-golem-error-code")
                        dead = dead.decode() if isinstance(dead, bytes) else dead
                time.sleep(0.2)
            conn.close()
        except (pika.exceptions.AMQPError, OSError):
            time.sleep(0.5)
    publisher.close()
    assert reply is not None and reply["jobId"] == job_id, "no status reply while a node was down"
    assert dead == "schema", f"bad request not dead-lettered while a node was down: {dead}"


def cleanup(params, prefix):
    try:
        conn = connect_any(params)
    except AssertionError:
        return
    delete_topology(prefix, conn, extra_queues=[f"{prefix}.test-events"])
