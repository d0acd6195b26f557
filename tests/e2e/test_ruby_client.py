"""The Ruby example client (Bunny), written from the contract docs alone, end to end against a real bridge:
submit, events, result, status and cancel."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import AMQP_URL, ROOT

CLIENT = os.path.join(ROOT, "examples", "ruby", "client.rb")

pytestmark = pytest.mark.skipif(
    shutil.which("ruby") is None and os.environ.get("CI") != "true",
    reason="ruby is not installed (scripts/bootstrap installs ruby and ruby-bunny)",
)


def ruby(prefix, *args):
    env = dict(os.environ, GOLEM_PREFIX=prefix, AMQP_URL=AMQP_URL)
    return subprocess.run(["ruby", CLIENT, *args], env=env, capture_output=True, text=True, timeout=90)


def test_ruby_client_runs_a_job_to_its_result_and_status(bridge):
    p = ruby(bridge.prefix, "run")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    kinds = [line.split()[1] for line in lines if line[:3].strip().isdigit()]
    assert kinds[0] == "created" and kinds[-2:] == ["success", "ended"], p.stdout
    assert "output=\"hello from ruby\\nLinux\\n\"" in p.stdout
    assert "[headers success/done]" in p.stdout
    assert "status done last=ended" in p.stdout and lines[-1].endswith("ended done"), p.stdout


def test_ruby_client_cancels_a_running_job(bridge):
    p = ruby(bridge.prefix, "cancel-demo")
    assert p.returncode == 0, p.stderr
    assert "canceled  state=rejected" in p.stdout and "error=canceled: canceled: demo cancel" in p.stdout, p.stdout
    assert p.stdout.splitlines()[-1].endswith("ended rejected")


def test_ruby_client_status_of_an_unknown_job_exits_1(bridge):
    p = ruby(bridge.prefix, "status", "never-seen")
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout) == {"jobId": "never-seen", "state": "unknown"}


def test_ruby_client_before_any_bridge_says_so(prefix):
    p = ruby(prefix, "run")
    assert p.returncode == 1
    assert f"{prefix}.jobs does not exist: start a bridge" in p.stderr, p.stderr
