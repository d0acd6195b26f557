"""The Dramatiq side of the comparison: the same work as a bridge job, one shell command, stdout back.

Dramatiq keeps no results on RabbitMQ, so the actor publishes the command's stdout to the client's
reply queue (default exchange, header `job-id`), as Celery's rpc:// result backend does.
"""
import os
import subprocess

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker

broker = RabbitmqBroker(url=os.environ.get("BENCH_AMQP_URL_PIKA", "amqp://guest:guest@127.0.0.1:5672/%2F"))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=os.environ.get("BENCH_DRAMATIQ_QUEUE", "bench.dramatiq"), actor_name="run_shell",
                max_retries=0)
def run_shell(command, reply_to, job_id):
    stdout = subprocess.run(command, shell=True, capture_output=True, text=True, check=False).stdout
    # The broker's channel of this worker thread (the one `send` would use).
    broker.channel.basic_publish("", reply_to, stdout.encode(), pika.BasicProperties(headers={"job-id": job_id}))
