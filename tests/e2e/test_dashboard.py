"""The live dashboard in a real browser: headless Chromium (Debian's `chromium`) driven over the
DevTools protocol.

One bridge (local backend) serves `--http-address` with a dashboard token from a file. The page is
opened before any job exists; then a success, a failure and a long job arrive through pika, and the
page must show each with its state as it changes, without a reload (a marker set on the page before
the jobs survives to the end). On the long job's page the cancel button is refused without the token
(401) and with a wrong one (403), then works with the right one, and the page shows `canceled` live.
Screenshots go to test-output/screenshots/ (kept by CI as test output).

Without chromium the test skips, except in CI (CI=true), where it fails: scripts/bootstrap installs it.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import ROOT, Bridge, Client, bridge_binary, job

SCREENSHOTS = os.path.join(ROOT, "test-output", "screenshots")
TOKEN = "dash-" + uuid.uuid4().hex


def chromium_binary():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import websocket  # noqa: F401  (websocket-client)
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium or websocket-client is missing in CI: scripts/bootstrap installs both")
        pytest.skip("chromium or the websocket-client module is not installed (scripts/bootstrap installs both)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, path, method="GET", headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Browser:
    """Headless Chromium and one page, spoken to over the DevTools protocol."""

    def __init__(self, binary, tmp_path):
        import websocket

        self.profile = tempfile.mkdtemp(prefix="golem-dash-chromium-")
        self.log = open(tmp_path / "chromium.log", "w+")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "--window-size=1280,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        port = self._devtools_port(tmp_path)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self, tmp_path):
        deadline = time.time() + 30
        while time.time() < deadline:
            self.log.seek(0)
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", self.log.read())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"chromium did not open its DevTools port:\n{self.log.read()[-3000:]}")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url):
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && document.getElementById('live').textContent === 'live'",
                      what=f"{url} loaded and following the live feed")

    def wait_for(self, expression, what, timeout=60):
        """Waits until `expression` is truthy on the page; fails naming `what` and the page's text."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expression):
                return
            time.sleep(0.1)
        raise AssertionError(f"not seen within {timeout} s: {what}\npage text:\n{self.eval('document.body.innerText')}")

    def screenshot(self, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = os.path.join(SCREENSHOTS, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def row_phase(job_id):
    return f"(document.querySelector('tr[data-job-id=\"{job_id}\"]') || {{}}).dataset?.phase"


def test_dashboard_shows_jobs_live_and_cancels_only_with_the_token(tmp_path, prefix):
    binary = chromium_binary()
    port = free_port()
    token_file = tmp_path / "dashboard-token"
    token_file.write_text(TOKEN + "\n")
    bridge = Bridge(tmp_path, prefix, extra=[
        "--http-address", f"127.0.0.1:{port}", "--dashboard-token-file", str(token_file),
    ]).start()
    browser = None
    client = Client(prefix)
    try:
        browser = Browser(binary, tmp_path)
        base = f"http://127.0.0.1:{port}"
        browser.open(base + "/")
        browser.eval("window.__notReloaded = true")

        ok, bad, slow = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("ok", "bad", "slow"))
        client.follow("job.#")
        client.submit(job(ok, {"run": "echo hello"}, labels={"team": "web"}))
        client.submit(job(bad, {"run": "exit 3"}, labels={"team": "batch"}))
        client.submit(job(slow, {"run": "sleep 120"}, labels={"team": "web"}))

        browser.wait_for(f"{row_phase(ok)} === 'succeeded'", f"{ok} succeeded in the list")
        browser.wait_for(f"{row_phase(bad)} === 'failed'", f"{bad} failed in the list")
        browser.wait_for(f"{row_phase(slow)} === 'running'", f"{slow} running in the list")
        assert browser.eval("window.__notReloaded === true"), "the list page reloaded"
        outcome = browser.eval(f"document.querySelector('tr[data-job-id=\"{bad}\"] td.error').textContent")
        assert outcome.startswith("command_failed"), outcome
        browser.screenshot("dashboard-list.png")

        # The label filter keeps what matches, from the API and from the live feed alike.
        browser.eval("document.getElementById('filter-label').value = 'team=batch';"
                     "document.getElementById('filter-label').dispatchEvent(new Event('change'))")
        browser.wait_for(f"!document.querySelector('tr[data-job-id=\"{ok}\"]') && {row_phase(bad)} === 'failed'",
                         "only the team=batch job listed")
        # The state filter, alone: only the running job; then both cleared, all three again.
        def set_filters(state, label):
            browser.eval(f"document.getElementById('filter-state').value = {json.dumps(state)};"
                         f"document.getElementById('filter-label').value = {json.dumps(label)};"
                         "document.getElementById('filter-state').dispatchEvent(new Event('change'))")
        set_filters("running", "")
        browser.wait_for(f"{row_phase(slow)} === 'running' && !document.querySelector('tr[data-job-id=\"{ok}\"]')"
                         f" && !document.querySelector('tr[data-job-id=\"{bad}\"]')", "only the running job listed")
        set_filters("", "")
        browser.wait_for(f"{row_phase(ok)} === 'succeeded' && {row_phase(bad)} === 'failed' && {row_phase(slow)} === 'running'",
                         "all three listed without filters")

        # The long job's page: cancel refused without the token and with a wrong one, then done with it.
        browser.open(f"{base}/jobs/{slow}")
        browser.eval("window.__notReloaded = true")
        browser.wait_for("document.getElementById('job-phase')?.textContent === 'running'", f"{slow} running on its page")
        assert browser.eval("document.getElementById('cancel').disabled === false"), "cancel button disabled with a token configured"

        def click_cancel(token):
            browser.eval(f"document.getElementById('token').value = {json.dumps(token)};"
                         "document.getElementById('cancel-result').dataset.status = '';"
                         "document.getElementById('cancel').click()")
            browser.wait_for("document.getElementById('cancel-result').dataset.status", "the cancel request answered")
            return browser.eval("document.getElementById('cancel-result').dataset.status")

        assert click_cancel("") == "401"
        assert click_cancel("wrong-" + TOKEN) == "403"
        status, detail = api(port, f"/api/jobs/{slow}")
        assert status == 200 and detail["phase"] == "running", detail
        assert click_cancel(TOKEN) == "202"
        browser.wait_for("document.getElementById('job-phase')?.textContent === 'canceled'", f"{slow} canceled on its page")
        browser.wait_for("[...document.querySelectorAll('#timeline li')].some(li => li.dataset.kind === 'ended')",
                         "`ended` in the timeline")
        assert browser.eval("window.__notReloaded === true"), "the job page reloaded"
        browser.screenshot("dashboard-job-canceled.png")

        # The cancel went the way a client's does: the job's events say canceled, with the reason.
        events = client.events(until_ended=[ok, bad, slow], timeout=60)
        outcomes = {e["data"]["jobId"]: e["data"]["event"] for e in events if e["data"]["event"] in ("success", "error", "canceled")}
        assert outcomes == {ok: "success", bad: "error", slow: "canceled"}, outcomes

        status, listing = api(port, "/api/jobs?state=succeeded,failed,canceled")
        assert status == 200
        assert {j["jobId"]: j["phase"] for j in listing["jobs"]} == {ok: "succeeded", bad: "failed", slow: "canceled"}
        browser.open(base + "/")
        # Each chart has bars: jobs/s and latency for the three, errors for the failure and the cancel.
        browser.wait_for(f"{row_phase(slow)} === 'canceled' && ['rate', 'latency', 'errors'].every("
                         "c => document.querySelectorAll(`#chart-${c} rect`).length > 0)",
                         "the list and the three charts after the three jobs")
        errors = browser.eval("[...document.querySelectorAll('#chart-errors rect')].map(r => r.getAttribute('fill'))")
        assert "#b3261e" in errors and "#6b4fa0" in errors, f"the errors chart lacks the failure or the cancel: {errors}"
        browser.screenshot("dashboard-list-after.png")
        assert TOKEN not in bridge.logs(), "the dashboard token was logged"
        # With the page still following the feed, the bridge stops cleanly.
        assert bridge.terminate(timeout=60) == 0
    finally:
        client.close()
        if browser:
            browser.close()
        bridge.terminate()


def run_cli(*args):
    return subprocess.run([bridge_binary(), *args], capture_output=True, text=True, timeout=60)


def test_jobs_command_lists_recent_jobs_from_the_api_and_the_old_option_name_still_works(tmp_path, prefix):
    port = free_port()
    # --metrics-address is the old name of --http-address: it still serves the same endpoint.
    bridge = Bridge(tmp_path, prefix, extra=["--metrics-address", f"127.0.0.1:{port}"]).start()
    client = Client(prefix)
    try:
        ok, bad = f"ok-{uuid.uuid4().hex[:6]}", f"bad-{uuid.uuid4().hex[:6]}"
        invalid = f"invalid-{uuid.uuid4().hex[:6]}"
        client.follow("job.#")
        client.submit(job(ok, {"run": "echo hello"}))
        client.submit(job(bad, {"run": "exit 3"}))
        # A request the bridge dead-letters as invalid is listed too, failed with its reason, once
        # (sent twice: the repeat's events carry the same ids and add nothing to the board).
        for _ in range(2):
            client.submit(job(invalid, {"fly": "away"}))
        seen = client.events(until_ended=[ok, bad, invalid], timeout=60)
        invalid_ends = sum(1 for e in seen if e["data"]["jobId"] == invalid and e["data"]["event"] == "ended")
        if invalid_ends < 2:
            client.events(count=1, timeout=30)  # the repeat's `ended` (the only event still to come)
        url = f"http://127.0.0.1:{port}"

        listed = run_cli("jobs", "--url", url)
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split() == ["JOB", "STATE", "ATTEMPT", "PROVIDER", "DURATION", "OUTCOME"]
        by_id = {line.split()[0]: line.split() for line in lines[1:]}
        assert by_id[ok][1] == "succeeded" and by_id[ok][-1] == "success", lines
        assert by_id[bad][1] == "failed" and "command_failed:" in lines[[l.split()[0] for l in lines].index(bad)], lines

        failed = run_cli("jobs", "--url", url, "--state", "failed", "--json")
        assert failed.returncode == 0, failed.stderr
        failed_jobs = {j["jobId"]: j for j in json.loads(failed.stdout)["jobs"]}
        assert sorted(failed_jobs) == sorted([bad, invalid]), failed_jobs
        status, detail = api(port, f"/api/jobs/{invalid}")
        assert status == 200 and "invalid_request" in json.dumps(detail), detail
        assert [s["kind"] for s in detail["timeline"]] == ["error", "ended"], detail

        # What the API would refuse is refused before asking it: a usage error (64) naming the value.
        for args, message in ((["--state", "running,sleeping"], '"sleeping" is not a state'),
                              (["--label", "team"], "--label team: must be KEY=VALUE"),
                              (["--limit", "0"], "--limit must be 1 to 5000")):
            refused = run_cli("jobs", "--url", url, *args)
            assert refused.returncode == 64 and message in refused.stderr and refused.stdout == "", (args, refused.stderr)
        # Without a token the dashboard refuses every cancel.
        status, body = api(port, f"/api/jobs/{ok}/cancel", method="POST", headers={"Authorization": "Bearer " + TOKEN})
        assert status == 403 and "no --dashboard-token" in body["error"], body
        assert "--metrics-address is deprecated" in bridge.logs()
    finally:
        client.close()
        bridge.terminate()
    unreachable = run_cli("jobs", "--url", f"http://127.0.0.1:{port}")
    assert unreachable.returncode == 1, unreachable.stderr
    assert unreachable.stderr.strip().endswith("(is serve running with --http-address?): Connection refused"), unreachable.stderr
    for url in ("127.0.0.1:9464", "ftp://127.0.0.1/"):
        bad_url = run_cli("jobs", "--url", url)
        assert bad_url.returncode == 64 and f'--url must be an http(s) URL, got "{url}"' in bad_url.stderr, bad_url.stderr
