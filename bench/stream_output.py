#!/usr/bin/env python3
"""Streamed output (`"stream": true`): how many `progress` pieces a step sends, and that they are bounded.

    GOLEM_BRIDGE_BIN=$(swift build --show-bin-path)/golem-bridge python3 bench/stream_output.py

Starts one bridge (local backend, its own prefix and journal, via tests/e2e/conftest.py) and runs two
streaming steps: 5 MB written at once (cut at the 1 MiB output limit) and 100 lines over 5 s. Prints
per step the pieces, the bytes streamed, the largest piece, whether the cut was noted, and whether the
streamed text is the start of the finished step's stdout. Deletes its queues and exchanges on exit.
"""
import pathlib
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from conftest import Bridge, Client, delete_topology, job  # noqa: E402

CASES = [
    ("5 MB at once", "head -c 5000000 /dev/zero | tr '\\0' x"),
    ("100 lines over 5 s", "for i in $(seq 100); do echo line $i; sleep 0.05; done"),
]


def main():
    prefix = f"bs{uuid.uuid4().hex[:8]}"
    bridge = Bridge(pathlib.Path(tempfile.mkdtemp()), prefix).start()
    client = Client(prefix)
    try:
        for name, command in CASES:
            job_id = f"b-{uuid.uuid4().hex[:6]}"
            client.follow(f"job.{job_id}.*")
            start = time.time()
            client.submit(job(job_id, {"run": {"command": "sh", "args": ["-c", command], "stream": True}}))
            events = client.events(until_ended=[job_id], timeout=120)
            pieces = [e["data"]["output"] for e in events if "output" in e["data"]]
            finished = next(e["data"]["step"] for e in events if "step" in e["data"])
            streamed = "".join(p["text"] for p in pieces if p["stream"] == "stdout")
            print(f"{name}: {len(pieces)} pieces, {len(streamed)} bytes streamed, largest {max(len(p['text']) for p in pieces)}, "
                  f"cut noted {any(p.get('truncated') for p in pieces)}, result stdout {len(finished['stdout'])} bytes, "
                  f"streamed is its start {finished['stdout'].startswith(streamed)}, wall {time.time() - start:.1f} s")
    finally:
        client.close()
        bridge.terminate()
        delete_topology(prefix)


if __name__ == "__main__":
    main()
