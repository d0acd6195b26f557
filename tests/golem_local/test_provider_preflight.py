"""`golem-bridge provider` refuses to start on a work root the sandbox cannot reach.

No yagna is needed: the check runs before the agent talks to its node, so a misconfigured agent
exits at once, naming the folder, instead of offering itself and failing every command.
"""
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from .conftest import BIN


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox drops to an unprivileged uid only as root")
def test_agent_refuses_a_work_root_below_a_private_folder():
    private = Path("/tmp/golem-bridge-test") / f"private-{uuid.uuid4().hex[:8]}"
    private.mkdir(parents=True, mode=0o700)
    private.chmod(0o700)
    try:
        env = dict(os.environ, YAGNA_APPKEY="not-a-real-key")
        env.pop("GOLEM_LOCAL_PROVIDER_APPKEY", None)
        p = subprocess.run([BIN, "provider", "--work-root", str(private / "work"),
                            "--yagna-api-url", "http://127.0.0.1:9"],
                           env=env, capture_output=True, text=True, timeout=30)
        assert p.returncode != 0
        assert f"{private} has no search permission for others" in p.stderr, p.stderr
        assert "not-a-real-key" not in p.stdout + p.stderr
    finally:
        for child in sorted(private.rglob("*"), reverse=True):
            child.rmdir()
        private.rmdir()
