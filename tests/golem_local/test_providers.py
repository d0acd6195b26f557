"""`scripts/golem-local start --providers N`: N provider yagna nodes beside the requestor hub.

Runs its own network in its own folder, on ports 30 above the session network's (default
7495/7494/7505/7504, providers counting up by 2), so the session's `net` is left alone.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .conftest import SCRIPT, Node, read_env


def ports():
    base = {"REQ_API": 7465, "REQ_GSB": 7464, "PROV_API": 7475, "PROV_GSB": 7474}
    return {f"GOLEM_LOCAL_{k}_PORT": str(int(os.environ.get(f"GOLEM_LOCAL_{k}_PORT", v)) + 30) for k, v in base.items()}


def run(env, *args):
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180)


def yagnas_of(folder):
    """Live processes whose environment names a data dir inside `folder`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(f"YAGNA_DATADIR={folder}/".encode()) for e in environ):
            found.append(int(pid))
    return found


def test_three_providers_start_answer_restart_and_stop():
    folder = tempfile.mkdtemp(prefix="golem-local-providers-")
    env = dict(os.environ, GOLEM_LOCAL_DIR=folder, **ports())
    try:
        r = run(env, "start", "--providers", "3")
        assert r.returncode == 0, r.stdout + r.stderr
        e = read_env(Path(folder) / "env")
        assert e["GOLEM_LOCAL_PROVIDERS"] == "3"
        # provider 1 keeps today's unindexed names, and is also provider 1 of the indexed ones
        assert e["GOLEM_LOCAL_PROVIDER_1_ID"] == e["GOLEM_LOCAL_PROVIDER_ID"]
        assert e["GOLEM_LOCAL_PROVIDER_1_API_URL"] == e["GOLEM_LOCAL_PROVIDER_API_URL"]
        ids = {e[f"GOLEM_LOCAL_PROVIDER_{k}_ID"] for k in (1, 2, 3)} | {e["GOLEM_LOCAL_REQUESTOR_ID"]}
        assert len(ids) == 4, "every node has its own identity"
        for k in (1, 2, 3):
            node = Node(f"provider-{k}", e[f"GOLEM_LOCAL_PROVIDER_{k}_API_URL"], e[f"GOLEM_LOCAL_PROVIDER_{k}_APPKEY"],
                        e[f"GOLEM_LOCAL_PROVIDER_{k}_ID"])
            assert node.call("GET", "/me", 200)["identity"] == e[f"GOLEM_LOCAL_PROVIDER_{k}_ID"]

        r = run(env, "status")
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count(" up ") == 4, r.stdout

        r = run(env, "restart-node", "provider-3")
        assert r.returncode == 0, r.stdout + r.stderr
        assert e["GOLEM_LOCAL_PROVIDER_3_ID"] in r.stdout, "same identity after the restart"

        r = run(env, "stop")
        assert r.returncode == 0, r.stdout + r.stderr
        assert yagnas_of(folder) == [], "stop ended every node"
        r = run(env, "status")
        assert r.returncode == 3, r.stdout
    finally:
        run(env, "stop")
        shutil.rmtree(folder, ignore_errors=True)
