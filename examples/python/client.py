#!/usr/bin/env python3
"""A golem-bridge client in plain pika: submit a job, follow its events, cancel one.

    python3 examples/python/client.py run            # submit a job and print its events until it ends
    python3 examples/python/client.py cancel-demo    # submit a long job, cancel it, print its events

Environment: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2F), GOLEM_PREFIX (default golem).
"""
import json
import os
import sys
import uuid

import pika

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PREFIX = os.environ.get("GOLEM_PREFIX", "golem")


def open_channel():
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.confirm_delivery()  # basic_publish raises if the broker does not take the request
    return connection, channel


def follow_and_submit(channel, request):
    """Binds a private queue to the job's events *before* submitting, so no event is missed."""
    job_id = request["jobId"]
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, f"{PREFIX}.events", f"job.{job_id}.*")
    channel.basic_publish(
        f"{PREFIX}.jobs", "submit", json.dumps(request).encode(),
        pika.BasicProperties(content_type="application/json", delivery_mode=2),
        mandatory=True,
    )
    return queue


def print_events(channel, queue, on_started=None):
    seen = set()
    for method, props, body in channel.consume(queue, auto_ack=True, inactivity_timeout=120):
        if method is None:
            sys.exit("no event for 120 s")
        event = json.loads(body)
        if event["id"] in seen:  # delivery is at least once; the CloudEvent id is stable
            continue
        seen.add(event["id"])
        data = event["data"]
        line = f'{event["sequence"]:>3} {data["event"]:<9} state={data["state"]} attempt={data["attempt"]}'
        if "error" in data:
            line += f' error={data["error"]["code"]}: {data["error"]["message"]}'
        if data["event"] == "success":
            line += f' output={data["result"].get("output")!r}'
        print(line, flush=True)
        if data["event"] == "started" and on_started:
            on_started(data["jobId"])
        if data["event"] == "ended":
            channel.cancel()
            return data["state"]


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "run"
    connection, channel = open_channel()
    job_id = f"py-{uuid.uuid4().hex[:8]}"
    if mode == "run":
        queue = follow_and_submit(channel, {"jobId": job_id, "work": [{"run": "echo hello from python; uname -s"}]})
        state = print_events(channel, queue)
    elif mode == "cancel-demo":
        queue = follow_and_submit(channel, {"jobId": job_id, "work": [{"run": "sleep 300"}]})

        def cancel(jid):
            channel.basic_publish(f"{PREFIX}.control", f"job.{jid}.cancel",
                                  json.dumps({"reason": "demo cancel"}).encode())

        state = print_events(channel, queue, on_started=cancel)
    else:
        sys.exit(__doc__)
    connection.close()
    print(f"job {job_id} ended {state}")


if __name__ == "__main__":
    main()
