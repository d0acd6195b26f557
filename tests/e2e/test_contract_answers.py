"""The answers docs/asyncapi.yaml gives a client author ("For a client author"), held against the real bridge.

Each test is one answer: if the bridge's behaviour drifts from what the document promises, the test
that names the promise fails. pika is the client, as a client author would write it from the docs.
"""
import json
import time
import uuid

import pika
import pytest

from conftest import Bridge, Client, connect, event_kinds_until_ended, job, next_message


def fresh_channel():
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def declare_topology_as_documented(ch, prefix):
    """The topology exactly as the document tells a client to declare it."""
    for name, kind in (("jobs", "direct"), ("events", "topic"), ("control", "topic"), ("jobs.dead", "fanout")):
        ch.exchange_declare(f"{prefix}.{name}", kind, durable=True)
    ch.queue_declare(f"{prefix}.jobs.submit", durable=True,
                     arguments={"x-queue-type": "quorum", "x-dead-letter-exchange": f"{prefix}.jobs.dead"})
    ch.queue_bind(f"{prefix}.jobs.submit", f"{prefix}.jobs", "submit")


def test_a_request_published_before_any_bridge_ran_gets_not_found(prefix):
    conn, ch = fresh_channel()
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
            ch.basic_publish(f"{prefix}.jobs", "submit", json.dumps(job("early")).encode(), mandatory=True)
        assert closed.value.reply_code == 404
        assert f"{prefix}.jobs" in closed.value.reply_text
    finally:
        conn.close()


def test_a_client_that_declares_the_documented_topology_first_is_served_by_a_later_bridge(prefix, tmp_path):
    conn, ch = fresh_channel()
    declare_topology_as_documented(ch, prefix)
    events = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(events, f"{prefix}.events", "job.early-1.*")
    ch.basic_publish(f"{prefix}.jobs", "submit", json.dumps(job("early-1")).encode(),
                     pika.BasicProperties(delivery_mode=2, content_type="application/json"), mandatory=True)
    bridge = Bridge(tmp_path, prefix).start()  # would exit 1 on an inequivalent argument
    try:
        kinds = event_kinds_until_ended(conn, ch, events)
        assert kinds[0] == "created" and "success" in kinds and kinds[-1] == "ended", kinds
    finally:
        bridge.terminate()
        conn.close()


def test_a_submit_queue_declared_with_other_arguments_stops_the_bridge_naming_the_argument(prefix, tmp_path):
    conn, ch = fresh_channel()
    ch.queue_declare(f"{prefix}.jobs.submit", durable=True)  # classic, no dead-letter exchange
    conn.close()
    with pytest.raises(RuntimeError) as failed:
        Bridge(tmp_path, prefix).start()
    assert "PRECONDITION_FAILED" in str(failed.value) and "x-dead-letter-exchange" in str(failed.value)


def test_a_mandatory_cancel_with_no_bridge_running_is_returned(prefix, tmp_path):
    # The topology exists (a bridge ran and stopped), but no bridge runs now.
    Bridge(tmp_path, prefix).start().terminate()
    conn, ch = fresh_channel()
    try:
        with pytest.raises(pika.exceptions.UnroutableError):
            ch.basic_publish(f"{prefix}.control", "job.nobody.cancel", b"", mandatory=True)
        # A status request is routed (it waits in the status queue), so mandatory says nothing there.
        ch.basic_publish(f"{prefix}.control", "job.nobody.status", b"",
                         pika.BasicProperties(reply_to="amq.gen-none"), mandatory=True)
    finally:
        conn.close()


def test_a_mandatory_cancel_with_a_bridge_running_is_routed(bridge):
    conn, ch = fresh_channel()
    try:
        ch.basic_publish(f"{bridge.prefix}.control", "job.nobody.cancel", b"", mandatory=True)
    finally:
        conn.close()


def test_a_status_request_made_while_no_bridge_runs_is_answered_when_one_starts(prefix, tmp_path):
    Bridge(tmp_path, prefix).start().terminate()
    client = Client(prefix)
    try:
        client.ch.basic_publish(f"{prefix}.control", "job.later.status", b"",
                                pika.BasicProperties(reply_to=client.queue, correlation_id="c-later"))
        bridge = Bridge(tmp_path, prefix).start()
        try:
            method, props, body = next_message(client.conn, client.ch, client.queue, 30)
            assert method is not None, "the waiting status request was not answered"
            assert props.correlation_id == "c-later"
            assert json.loads(body) == {"jobId": "later", "state": "unknown"}
        finally:
            bridge.terminate()
    finally:
        client.close()


def test_a_status_reply_to_a_request_without_correlation_id_carries_the_job_id(bridge, client):
    client.ch.basic_publish(f"{bridge.prefix}.control", "job.no-cid.status", b"",
                            pika.BasicProperties(reply_to=client.queue))
    method, props, _ = next_message(client.conn, client.ch, client.queue, 10)
    assert method is not None
    assert props.correlation_id == "no-cid"


def test_a_cancelled_job_has_the_documented_error_within_5_seconds_and_string_headers(bridge, client):
    client.follow("job.cx-1.*")
    client.submit(job("cx-1", {"run": "sleep 60"}))
    client.events(count=2, timeout=30)  # created, started: the command runs
    sent = time.time()
    client.cancel("cx-1", reason="user asked")
    events = client.events(until_ended=["cx-1"], timeout=10)
    assert time.time() - sent < 5
    assert [e["data"]["event"] for e in events] == ["canceled", "ended"]
    for event in events:
        assert event["data"]["state"] == "rejected"
        assert event["data"]["error"] == {"code": "canceled", "message": "canceled: user asked"}
        headers = event["_props"].headers
        # pika decodes AMQP long strings (S) as str and byte arrays (x) as bytes.
        assert {k: type(v) for k, v in headers.items()} == {"job-id": str, "job-event": str, "job-state": str}
    snapshot = client.status("cx-1")
    assert snapshot["error"] == {"code": "canceled", "message": "canceled: user asked"}


def test_a_cancel_without_reason_says_canceled_on_request(bridge, client):
    client.follow("job.cx-2.*")
    client.submit(job("cx-2", {"run": "sleep 60"}))
    client.events(count=2, timeout=30)
    client.cancel("cx-2")
    events = client.events(until_ended=["cx-2"], timeout=10)
    assert events[0]["data"]["error"] == {"code": "canceled", "message": "canceled on request"}


def test_the_prefix_renames_every_exchange_and_queue_and_keeps_routing_keys(bridge):
    p = bridge.prefix
    conn = connect()
    try:
        ch = conn.channel()
        for x in (f"{p}.jobs", f"{p}.events", f"{p}.control", f"{p}.jobs.dead"):
            ch.exchange_declare(x, passive=True)
        for q in (f"{p}.jobs.submit", f"{p}.jobs.dead", f"{p}.control.status"):
            ch.queue_declare(q, passive=True)
        # Nothing under the default prefix was made for this bridge: its cancel queue carries the prefix.
        queue = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(queue, f"{p}.events", "job.pfx-1.*")
        ch.basic_publish(f"{p}.jobs", "submit", json.dumps(job("pfx-1")).encode())
        keys = []
        while "job.pfx-1.ended" not in keys:
            method, _, _ = next_message(conn, ch, queue, 30)
            assert method is not None, keys
            keys.append(method.routing_key)
        assert keys[0] == "job.pfx-1.created" and keys[-1] == "job.pfx-1.ended", keys
    finally:
        conn.close()
