"""The deploy files, tested as far as they can be without a Docker engine or a cluster.

scripts/check-deploy.py holds them to the real binary's `serve --help` and to CI's build; here the
RabbitMQ definitions file is loaded into the real broker (a scratch vhost) and a bridge is started on
it, which fails on any queue argument that differs from what the bridge declares; and the compose
file's health check command is run against a real bridge's /healthz.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pika
import pytest
import yaml

import conftest
from conftest import AMQP_URL, ROOT, Bridge, bridge_binary, event_kinds_until_ended, job


def test_the_deploy_files_pass_their_checks():
    p = subprocess.run([os.path.join(ROOT, "scripts", "check-deploy.py"), bridge_binary()],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def repository_copy(tmp_path):
    """What scripts/check-deploy.py reads, copied, so a test can break one file and run the check."""
    root = tmp_path / "repo"
    for folder in ("scripts", "deploy", "docs", "tests", "Tests", "bench", "Fuzz", ".ci"):
        if os.path.isdir(os.path.join(ROOT, folder)):
            shutil.copytree(os.path.join(ROOT, folder), root / folder, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "notes", "images", ".build", "test-output"))
    for name in ("docker-compose.yml", "Package.swift", "README.md"):
        shutil.copy(os.path.join(ROOT, name), root / name)
    return root


def check_deploy(root):
    p = subprocess.run([os.path.join(root, "scripts", "check-deploy.py"), bridge_binary()],
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


BROKEN = [
    # (file, text, replacement, what the check must say)
    ("docker-compose.yml", '"--http-address"', '"--metrics-address"', "--metrics-address is deprecated"),
    ("deploy/golem-bridge.service", "GOLEM_BRIDGE_HTTP_ADDRESS", "GOLEM_BRIDGE_METRICS_ADDRESS",
     "GOLEM_BRIDGE_METRICS_ADDRESS is deprecated"),
    ("deploy/k8s/bridge.yaml", '"--log-format"', '"--log-style"', "--log-style is not an option of `golem-bridge serve`"),
    ("deploy/k8s/bridge.yaml", "GOLEM_BRIDGE_BUDGET", "GOLEM_BRIDGE_BUDGET_GLM", "GOLEM_BRIDGE_BUDGET_GLM is not a variable"),
    ("deploy/Dockerfile", " /src/.build/release/golem-sandbox-warden", "", "does not ship golem-sandbox-warden"),
    ("deploy/Dockerfile", "swift build -c release", "swift build -c release --product golem-bridge", "flags CI never uses"),
    ("README.md", "golem-bridge serve --http-address", "golem-bridge serve --metrics-address",
     "`golem-bridge serve --metrics-address` is deprecated"),
    ("README.md", "golem-bridge serve --http-address", "golem-bridge serve --dashboard-port 9464 --http-address",
     "`golem-bridge serve --dashboard-port` is not an option"),
    # Spelled in two parts so that this file, which the check reads as tooling, does not name it.
    ("README.md", "GOLEM_BRIDGE_PREFIX", "GOLEM_BRIDGE_" + "PREFIKS",
     "GOLEM_BRIDGE_" + "PREFIKS is not a variable any `golem-bridge` command's help names"),
]


def test_the_deploy_check_fails_on_an_old_or_unknown_name_and_an_image_without_the_warden(tmp_path):
    root = repository_copy(tmp_path)
    code, out = check_deploy(root)
    assert code == 0, out
    for name, text, replacement, message in BROKEN:
        path = root / name
        original = path.read_text()
        assert text in original, (name, text)
        path.write_text(original.replace(text, replacement))
        code, out = check_deploy(root)
        path.write_text(original)
        assert code == 1 and message in out, (name, replacement, out)


def rabbitmqctl(*args):
    p = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


@pytest.fixture
def scratch_vhost():
    vhost = f"deploy-check-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    rabbitmqctl("delete_vhost", vhost)


def http_option():
    """The HTTP endpoint's option as `serve --help` names it now."""
    text = subprocess.run([bridge_binary(), "serve", "--help"], capture_output=True, text=True).stdout
    return "--http-address" if "--http-address" in text else "--metrics-address"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_definitions_file_is_the_topology_the_bridge_declares(scratch_vhost, tmp_path, monkeypatch):
    definitions = json.load(open(os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")))
    text = json.dumps(definitions).replace('"vhost": "/"', f'"vhost": "{scratch_vhost}"')
    text = text.replace('"vhosts": [{"name": "/"}]', f'"vhosts": [{{"name": "{scratch_vhost}"}}]')
    # In /tmp, readable by all: Debian's rabbitmqctl runs as the rabbitmq user, who cannot read pytest's
    # folders (and RabbitMQ 3.10 reads no definitions from stdin).
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir="/tmp") as file:
        file.write(text)
        file.flush()
        os.chmod(file.name, 0o644)
        rabbitmqctl("import_definitions", file.name)
    defined_queues = {q["name"]: q["arguments"] for q in definitions["queues"]}
    defined_exchanges = {x["name"]: x["type"] for x in definitions["exchanges"]}

    url = AMQP_URL.rsplit("/", 1)[0] + "/" + urllib.parse.quote(scratch_vhost, safe="")
    def consumer_count(queue, _url=None):  # Bridge.start's readiness, in the scratch vhost
        conn = pika.BlockingConnection(pika.URLParameters(url))
        try:
            return conn.channel().queue_declare(queue, passive=True).method.consumer_count
        finally:
            conn.close()
    monkeypatch.setattr(conftest, "consumer_count", consumer_count)
    # The definitions use the default prefix; the scratch vhost keeps them apart from everything else.
    bridge = Bridge(tmp_path, "golem", extra=["--amqp-url", url]).start()  # exits 1 on an inequivalent argument
    try:
        listed = rabbitmqctl("list_queues", "-p", scratch_vhost, "name", "arguments", "exclusive", "--formatter", "json")
        queues = {q["name"]: q for q in json.loads(listed) if not q["exclusive"]}
        assert set(queues) == set(defined_queues), "the bridge declared durable queues the file lacks, or not one it has"
        # The dead-letter and status queues of another type are kept with a warning, not an exit.
        assert "exists with other arguments" not in open(bridge.log_path, errors="replace").read(), "a queue in the file differs from the bridge's"
        exchanges = json.loads(rabbitmqctl("list_exchanges", "-p", scratch_vhost, "name", "type", "--formatter", "json"))
        ours = {x["name"]: x["type"] for x in exchanges if x["name"] and not x["name"].startswith("amq.")}
        assert ours == defined_exchanges
        policies = json.loads(rabbitmqctl("list_policies", "-p", scratch_vhost, "--formatter", "json"))
        assert {p["name"] for p in policies} == {p["name"] for p in definitions["policies"]}
        # And a job runs through the pre-declared topology.
        conn = pika.BlockingConnection(pika.URLParameters(url))
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(q, "golem.events", "job.defs-1.*")
        ch.basic_publish("golem.jobs", "submit", json.dumps(job("defs-1")).encode())
        kinds = event_kinds_until_ended(conn, ch, q)
        conn.close()
        assert "success" in kinds and kinds[-1] == "ended", kinds
    finally:
        assert bridge.terminate() == 0


def test_the_compose_health_check_asks_healthz(tmp_path, prefix):
    compose = yaml.safe_load(open(os.path.join(ROOT, "docker-compose.yml")))
    check = compose["services"]["bridge"]["healthcheck"]["test"]
    assert check[0] == "CMD"
    port = free_port()
    command = [part.replace("9464", str(port)) for part in check[1:]]
    bridge = Bridge(tmp_path, prefix, extra=[http_option(), f"127.0.0.1:{port}"]).start()
    try:
        assert subprocess.run(command, timeout=30).returncode == 0
    finally:
        assert bridge.terminate() == 0
    assert subprocess.run(command, timeout=30, capture_output=True).returncode != 0


def yagna_binary():
    for candidate in (os.environ.get("GOLEM_LOCAL_YAGNA"), os.path.join(ROOT, ".build", "golem-venv", "bin", "yagna"),
                      shutil.which("yagna")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def free_short_port():
    """A free port of at most 4 digits: yagna's CENTRAL_NET_HOST accepts no more."""
    for port in random.sample(range(6000, 9999), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free 4-digit port")


@pytest.mark.skipif(yagna_binary() is None and os.environ.get("CI") != "true",
                    reason="no yagna (scripts/golem-local installs golem-node into .build/golem-venv)")
def test_the_yagna_image_entrypoint_starts_yagna_with_the_app_key_from_its_secret_file(tmp_path):
    yagna = yagna_binary()
    entrypoint = os.path.join(ROOT, "deploy", "yagna", "entrypoint.sh")
    key = uuid.uuid4().hex
    (tmp_path / "appkey").write_text(key + "\n")  # as `openssl rand -hex 16 > file` writes it
    api, gsb = free_port(), free_short_port()
    env = {
        "PATH": f"{os.path.dirname(yagna)}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
        "YAGNA_APPKEY_FILE": str(tmp_path / "appkey"), "YAGNA_DATADIR": str(tmp_path / "data"),
        "YAGNA_API_URL": f"http://127.0.0.1:{api}", "GSB_URL": f"tcp://127.0.0.1:{gsb}",
        # Offline, as scripts/golem-local runs it: central net through its own GSB router, no relay.
        "YA_NET_TYPE": "central", "CENTRAL_NET_HOST": f"127.0.0.1:{gsb}",
        "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1",
    }
    log = open(tmp_path / "yagna.log", "wb")
    node = subprocess.Popen([entrypoint, "service", "run", "--disable-metrics-push"], env=env, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while subprocess.run([entrypoint, "healthcheck"], env=env, capture_output=True).returncode != 0:
            assert node.poll() is None, (tmp_path / "yagna.log").read_text()[-3000:]
            assert time.time() < deadline, "the health check never passed: " + (tmp_path / "yagna.log").read_text()[-3000:]
            time.sleep(0.5)
        assert "YAGNA_AUTOCONF_APPKEY" not in " ".join(open(f"/proc/{node.pid}/cmdline").read().split("\0"))
        wrong = dict(env, YAGNA_APPKEY_FILE=str(tmp_path / "wrong"))
        (tmp_path / "wrong").write_text("0" * 32)
        assert subprocess.run([entrypoint, "healthcheck"], env=wrong, capture_output=True).returncode != 0
        (tmp_path / "empty").write_text("")
        empty = subprocess.run([entrypoint, "service", "run"], env=dict(env, YAGNA_APPKEY_FILE=str(tmp_path / "empty")),
                               capture_output=True, text=True, timeout=30)
        assert empty.returncode == 1 and "is empty" in empty.stderr
    finally:
        os.killpg(node.pid, signal.SIGTERM)
        try:
            node.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()
