"""The dashboard's Golem panel against the real yagna of scripts/golem-local (scripts/test starts it):
the rental pool and the GLM spent against the budget, read from `/api/stats` (what the page draws)
while a bridge with `--backend golem` pays our provider agent.

"Spent" is what the bridge accepted: it must be above 0 once debit notes were accepted, and never
more than the requestor node itself shows accepted (per activity, the latest note's running total).
"""
import json
import shutil
import socket
import urllib.request
import uuid
from decimal import Decimal

from conftest import job
from test_dashboard import Browser
from test_golem_backend import golem, provider, wait_for  # noqa: F401  (fixtures, shared with those tests)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepted_by_the_node(yagna, subnet):
    """GLM the requestor node shows accepted for the agreements of `subnet`: per activity, its latest
    accepted debit note (a running total); per invoiced agreement, its accepted invoice instead."""
    subnets = {}

    def ours(agreement_id):
        if agreement_id not in subnets:
            agreement = yagna.get(f"/market-api/v1/agreements/{agreement_id}")
            subnets[agreement_id] = agreement["demand"]["properties"].get("golem.node.debug.subnet")
        return subnets[agreement_id] == subnet

    accepted = ("ACCEPTED", "SETTLED")
    invoiced = {i["agreementId"]: Decimal(i["amount"]) for i in yagna.get("/payment-api/v1/invoices")
                if i["status"] in accepted and ours(i["agreementId"])}
    notes = {}
    for note in yagna.get("/payment-api/v1/debitNotes"):
        if note["status"] in accepted and note["agreementId"] not in invoiced and ours(note["agreementId"]):
            key = (note["agreementId"], note.get("activityId"))
            notes[key] = max(notes.get(key, Decimal(0)), Decimal(note["totalAmountDue"]))
    return sum(invoiced.values(), Decimal(0)) + sum(notes.values(), Decimal(0))


def test_the_golem_panel_shows_the_pool_and_the_glm_spent_against_the_budget(golem, provider, client, tmp_path):
    port = free_port()
    golem["start"](extra=["--debit-note-interval", "2", "--http-address", f"127.0.0.1:{port}"])

    def panel():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=5) as response:
            return json.load(response)["backend"]

    before = panel()
    assert before["budget"] == 1 and before["spent"] == 0 and before["agreements"] == 0, before

    job_id = f"g-spent-{uuid.uuid4().hex[:6]}"
    client.follow(f"job.{job_id}.*")
    client.submit(job(job_id, {"run": "sleep 7"}))
    events = client.events(until_ended=[job_id], timeout=90)
    assert "success" in [e["data"]["event"] for e in events], events

    # Debit notes come every 2 s while the rental lives (it stays in the pool after the job).
    wait_for(lambda: panel()["spent"] > 0, timeout=60, what="GLM spent above 0 on the panel")
    shown = panel()
    # Read after the panel: everything the bridge counted, the node already shows accepted.
    node = accepted_by_the_node(golem["yagna"], golem["subnet"])
    assert 0 < Decimal(repr(shown["spent"])) <= node + Decimal("1e-12"), (shown, node)
    assert node <= Decimal(1), f"more than the budget accepted: {node}"
    assert shown["idle"] + shown["lent"] == shown["agreements"] <= 1, shown

    # The page draws the same figures (test_dashboard.py checks the page itself; here, the panel).
    if shutil.which("chromium"):
        browser = Browser(shutil.which("chromium"), tmp_path)
        try:
            browser.open(f"http://127.0.0.1:{port}/")
            spent = ("(() => { const dt = [...document.querySelectorAll('#backend-kv dt')].find(d => d.textContent === 'GLM spent');"
                     " return dt ? dt.nextElementSibling.textContent : ''; })()")
            browser.wait_for(f"/^[0-9.e-]+ of 1$/.test({spent}) && !document.getElementById('backend').hidden",
                             "GLM spent against the budget on the page")
            browser.screenshot("dashboard-golem.png")
        finally:
            browser.close()
