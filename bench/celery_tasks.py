"""The Celery side of the comparison: the same work as a bridge job, one shell command, stdout back."""
import os
import subprocess

from celery import Celery

from bench import run_sandboxed

app = Celery(
    "bench",
    broker=os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    backend="rpc://",
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=4,
    task_default_queue=os.environ.get("BENCH_CELERY_QUEUE", "bench.celery"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.run_shell")
def run_shell(command):
    return subprocess.run(command, shell=True, capture_output=True, text=True, check=False).stdout


@app.task(name="bench.run_shell_bwrap")
def run_shell_bwrap(command):
    """The same command in a fresh sandbox with the bridge's isolation (bench.py `sandbox_argv`), in a
    fresh work directory under $BENCH_SANDBOX_ROOT: what the bridge does per job without warm sandboxes."""
    return run_sandboxed(command, os.environ["BENCH_SANDBOX_ROOT"])
