"""A client of the bridge on a RabbitMQ cluster, resilient the way a production client must be: its
event queue is a quorum queue (it survives a node), it reconnects to a live node, and it republishes
what the broker had not confirmed (with the same job IDs, which the bridges treat as one job).

Shared by tests/e2e/test_cluster.py and scripts/soak; it drives scripts/rabbit-cluster.
"""
import json
import os
import subprocess
import threading
import time

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = os.path.join(ROOT, "scripts", "rabbit-cluster")
TERMINAL = {"success", "error", "canceled"}


def cluster(*args):
    return subprocess.run([CLUSTER, *args], check=True, capture_output=True, text=True, timeout=300).stdout.strip()


def node_params():
    return [pika.URLParameters(u) for u in cluster("urls").split(",")]


def connect_any(params, attempts=60):
    """A connection to the first live node, trying them in turn."""
    last = None
    for _ in range(attempts):
        for p in params:
            try:
                return pika.BlockingConnection(p)
            except pika.exceptions.AMQPConnectionError as error:
                last = error
        time.sleep(0.5)
    raise AssertionError(f"no cluster node accepts connections: {last}")


def consumer_count(params, queue):
    """Consumers of `queue`, asked on any live node (0 when it cannot be asked)."""
    try:
        conn = connect_any(params, attempts=1)
    except AssertionError:
        return 0
    try:
        return conn.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.AMQPError:
        return 0
    finally:
        if conn.is_open:
            conn.close()


class EventCollector(threading.Thread):
    """Consumes every event of `prefix` from a quorum queue, reconnecting across node failures."""

    def __init__(self, params, prefix):
        super().__init__(daemon=True)
        self.params, self.prefix = params, prefix
        self.queue = f"{prefix}.test-events"
        self.seen_ids = set()
        self.duplicates = 0
        self.by_job = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.reconnects = 0

    def run(self):
        while not self.stopping.is_set():
            try:
                conn = connect_any(self.params)
                ch = conn.channel()
                ch.exchange_declare(f"{self.prefix}.events", "topic", durable=True, passive=False)
                ch.queue_declare(self.queue, durable=True, arguments={"x-queue-type": "quorum"})
                ch.queue_bind(self.queue, f"{self.prefix}.events", "#")
                ch.basic_qos(prefetch_count=500)
                self.ready.set()
                for method, props, body in ch.consume(self.queue, inactivity_timeout=0.5):
                    if self.stopping.is_set():
                        break
                    if method is None:
                        continue
                    if props.content_type == "application/cloudevents+json":
                        self.record(json.loads(body))
                    ch.basic_ack(method.delivery_tag)
                conn.close()
            except (pika.exceptions.AMQPError, OSError, AssertionError):
                self.reconnects += 1
                time.sleep(0.3)

    def record(self, event):
        with self.lock:
            if event["id"] in self.seen_ids:
                self.duplicates += 1
                return
            self.seen_ids.add(event["id"])
            data = event["data"]
            self.by_job.setdefault(data["jobId"], []).append((int(event["sequence"]), data["event"], data))

    def kinds(self, job_id):
        """The job's events in sequence order."""
        with self.lock:
            return [kind for _, kind, _ in sorted(self.by_job.get(job_id, []), key=lambda e: e[0])]

    def ended(self, job_ids=None):
        with self.lock:
            return sum(1 for job, events in self.by_job.items()
                       if (job_ids is None or job in job_ids) and any(kind == "ended" for _, kind, _ in events))


def verdict(kinds):
    """What a job's events say: 'ok', 'lost' (no `ended`), or 'twice' (not exactly one outcome and one
    `ended`, or anything after `ended`)."""
    if "ended" not in kinds:
        return "lost"
    if kinds.count("ended") != 1 or sum(k in TERMINAL for k in kinds) != 1 or kinds[-1] != "ended":
        return "twice"
    return "ok"


class ResilientPublisher:
    """Publishes with confirms until the broker takes each message, reconnecting across node failures."""

    def __init__(self, params):
        self.params = params
        self.conn = self.ch = None
        self.republished = 0

    def publish(self, exchange, routing_key, body, properties=None, mandatory=False):
        while True:
            try:
                if self.ch is None or not self.ch.is_open:
                    self.conn = connect_any(self.params)
                    self.ch = self.conn.channel()
                    self.ch.confirm_delivery()
                self.ch.basic_publish(exchange, routing_key, body, properties or pika.BasicProperties(delivery_mode=2),
                                      mandatory=mandatory)
                return
            except (pika.exceptions.AMQPError, OSError):
                # Not confirmed (nacked, returned, or the connection went): send it again.
                self.republished += 1
                self.close()
                time.sleep(0.3)

    def close(self):
        try:
            if self.conn is not None and self.conn.is_open:
                self.conn.close()
        except Exception:
            pass
        self.conn = self.ch = None
