"""End to end: our provider agent (`golem-bridge provider`) on the local Golem network.

A test client that is not our code drives the requestor node over plain HTTP (requests), the way
golem-js does (docs/notes/yagna-requestor-api.md): allocation, demand, counter, agreement, activity, ExeScript batches,
debit notes, invoice. The provider side is entirely the agent under test, on the provider node.

Run: GOLEM_BRIDGE_BIN=.build/debug/golem-bridge python3 -m pytest -q tests/golem_local/test_provider.py
(the network and the agent are the fixtures `net` and `agent` of conftest.py)
"""

import json
import re
import subprocess
import uuid
from pathlib import Path
from datetime import datetime, timedelta, timezone

from .conftest import golem_local, iso, until

OFFER_PREFIX = "golem-bridge-local-provider-"


def negotiate(net, interval_sec=2, accept_timeout=240):
    """Allocation, demand, our offer as a proposal, counter, the agent's Draft, agreement Approved."""
    outcome, draft, deal = counter_offer(net, {
        "golem.com.scheme.payu.debit-note.interval-sec?": interval_sec,
        "golem.com.payment.debit-notes.accept-timeout?": accept_timeout})
    assert outcome == "draft", f"the agent refused the demand: {draft}"
    req = net["req"]
    agreement_id = req.call("POST", "/market-api/v1/agreements", (200, 201), json={
        "proposalId": draft["proposalId"], "validTo": iso(datetime.now(timezone.utc) + timedelta(hours=1))})
    session = f"test-{uuid.uuid4().hex[:8]}"
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/confirm", 204, params={"appSessionId": session})
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/wait", 204, params={"timeout": 30}, timeout=45)
    assert req.call("GET", f"/market-api/v1/agreements/{agreement_id}", 200)["state"] == "Approved"
    req.call("DELETE", f"/market-api/v1/demands/{deal['demand']}", 204)
    return {"agreement": agreement_id, "allocation": deal["allocation"], "session": session, "t": deal["t"]}


def counter_offer(net, overrides, expires_in=timedelta(minutes=30)):
    """Allocation and demand (golem-js's terms, `overrides` on top; a None value drops the property),
    our counter to the agent's offer. Returns ("draft", the agent's Draft, deal) or ("rejected",
    the agent's reason, deal)."""
    req, prov, platform, subnet = net["req"], net["prov"], net["platform"], net["subnet"]
    now = datetime.now(timezone.utc)
    alloc = req.call("POST", "/payment-api/v1/allocations", 201, json={
        "totalAmount": "1.0", "paymentPlatform": platform, "address": req.identity,
        "timeout": iso(now + timedelta(hours=1)), "makeDeposit": False})
    deco = req.call("GET", "/payment-api/v1/demandDecorations", 200, params={"allocationIds": alloc["allocationId"]})
    props = {
        "golem.srv.caps.multi-activity": True,
        "golem.node.debug.subnet": subnet,
        "golem.srv.comp.expiration": int((now + expires_in).timestamp() * 1000),
        "golem.srv.comp.vm.package_format": "gvmkit-squash",
        "golem.srv.comp.task_package": "hash:sha3:" + "d" * 56 + ":http://127.0.0.1:1/image.gvmi",
        "golem.com.scheme.payu.debit-note.interval-sec?": 120,
        "golem.com.scheme.payu.payment-timeout-sec?": 120,
        "golem.com.payment.debit-notes.accept-timeout?": 120,
        **{p["key"]: p["value"] for p in deco["properties"]},
    }
    props.update(overrides)
    props = {k: v for k, v in props.items() if v is not None}
    cons = ("(&(golem.com.pricing.model=linear)(golem.node.debug.subnet=%s)(golem.runtime.name=vm)"
            "(golem.inf.mem.gib>=0.5)(golem.inf.storage.gib>=2)(golem.inf.cpu.threads>=1)%s)"
            % (subnet, "".join(deco["constraints"])))
    demand_id = req.call("POST", "/market-api/v1/demands", 201, json={"properties": props, "constraints": cons})
    events = f"/market-api/v1/demands/{demand_id}/events"

    # Counter every Initial proposal of an agent's offer, take the first Draft that answers one of
    # our counters: after a provider node restart the requestor node still holds the forgotten offer
    # (yagna cannot broadcast its unsubscription), and a counter to it is never answered.
    counters = {}

    def draft_answering_a_counter():
        for ev in req.call("GET", events, 200, params={"timeout": 2, "maxEvents": 20}):
            if ev.get("eventType") == "ProposalRejectedEvent" and ev.get("proposalId") in counters:
                return ("rejected", ev.get("reason") or {})
            p = ev.get("proposal") or {}
            if (ev.get("eventType") != "ProposalEvent" or p.get("issuerId") != prov.identity
                    or not p["properties"].get("golem.node.id.name", "").startswith(OFFER_PREFIX)):
                continue
            if p.get("state") == "Initial":
                assert p["properties"]["golem.com.pricing.model"] == "linear"
                assert p["properties"]["golem.com.usage.vector"] == ["golem.usage.cpu_sec", "golem.usage.duration_sec"]
                assert len(p["properties"]["golem.com.pricing.model.linear.coeffs"]) == 3
                assert p["properties"][f"golem.com.payment.platform.{platform}.address"] == prov.identity
                counter_id = req.call("POST", f"{events[:-len('/events')]}/proposals/{p['proposalId']}", (200, 201),
                                      json={"properties": {**props, "golem.com.payment.chosen-platform": platform},
                                            "constraints": cons})
                counters[counter_id] = p
            elif p.get("state") == "Draft" and p.get("prevProposalId") in counters:
                return ("draft", p)

    outcome, answer = until("the agent's answer (Draft or rejection) to one of our counters", draft_answering_a_counter)
    deal = {"demand": demand_id, "allocation": alloc["allocationId"], "t": iso(now), "offer": next(iter(counters.values()))}
    if outcome == "rejected":
        deal["reason"], answer = answer, answer.get("message", "")
    return outcome, answer, deal


def withdraw(net, deal):
    """Ends what counter_offer left: the demand and the allocation."""
    net["req"].call("DELETE", f"/market-api/v1/demands/{deal['demand']}", 204)
    net["req"].call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


# ya-provider's property types: a requestor library that type-checks offers drops an offer whose
# floats are written as integers (the whole start price 0 as `0`, not `0.0`).
OFFER_TYPES = {
    "golem.inf.cpu.cores": int, "golem.inf.cpu.threads": int, "golem.inf.mem.gib": float,
    "golem.inf.storage.gib": float, "golem.com.scheme.payu.debit-note.interval-sec?": int,
    "golem.com.scheme.payu.payment-timeout-sec?": int, "golem.com.payment.debit-notes.accept-timeout?": int,
    "golem.com.payment.protocol.version": int, "golem.srv.comp.expiration": int,
    "golem.srv.caps.multi-activity": bool, "golem.node.net.is-public": bool,
}


def test_offer_has_ya_providers_json_types(net, agent):
    outcome, draft, deal = counter_offer(net, {})
    offer = deal["offer"]["properties"]
    for key, kind in OFFER_TYPES.items():
        assert type(offer[key]) is kind, f"{key} = {offer[key]!r} is not {kind.__name__}"
    coeffs = offer["golem.com.pricing.model.linear.coeffs"]
    assert all(type(c) is float for c in coeffs) and coeffs[-1] == 0.0, f"whole prices are floats: {coeffs}"
    assert outcome == "draft", draft
    withdraw(net, deal)


def test_agent_holds_demands_to_ya_providers_rules(net, agent):
    """Each rule refuses with its name and the value; a demand within them gets the demand's terms."""
    req = net["req"]
    cases = [
        ({"golem.com.payment.debit-notes.accept-timeout?": 241}, "accept-timeout? 241 s"),
        ({"golem.com.payment.debit-notes.accept-timeout?": 4}, "too low DebitNotes timeout"),
        ({"golem.com.scheme.payu.debit-note.interval-sec?": 86401}, "interval-sec? 86401 s"),
        # the bridge's old payment timeout for a 30-day rental, max(120, rentHours*3600)
        ({"golem.com.scheme.payu.payment-timeout-sec?": 720 * 3600}, "payment-timeout-sec? 2592000 s"),
        ({"golem.com.payment.debit-notes.accept-timeout?": None}, "more than 1800 s from now"),
        ({"golem.com.scheme.payu.payment-timeout-sec?": None}, "threshold of enforcing mid-agreement payments"),
    ]
    for overrides, fragment in cases:
        expires = timedelta(hours=11) if "payment-timeout-sec?" in str(overrides) else timedelta(hours=1)
        outcome, reason, deal = counter_offer(net, overrides, expires_in=expires)
        assert outcome == "rejected" and fragment in reason, (overrides, outcome, reason)
        # ya-provider's finality: an agreement that may come back shorter is not refused for good
        assert deal["reason"].get("golem.proposal.rejection.is-final") is (fragment != "more than 1800 s from now"), deal["reason"]
        withdraw(net, deal)
    outcome, draft, deal = counter_offer(net, {"golem.com.scheme.payu.payment-timeout-sec?": 43200}, expires_in=timedelta(minutes=4))
    assert outcome == "rejected" and "less than 300 s" in draft, draft
    withdraw(net, deal)
    outcome, draft, deal = counter_offer(net, {"golem.com.scheme.payu.payment-timeout-sec?": 43200,
                                               "golem.com.payment.debit-notes.accept-timeout?": 120})
    assert outcome == "draft", draft
    assert draft["properties"]["golem.com.scheme.payu.payment-timeout-sec?"] == 43200, "the demand's terms are taken"
    assert draft["properties"]["golem.com.payment.debit-notes.accept-timeout?"] == 120
    withdraw(net, deal)


def test_a_bare_entry_point_fails_as_on_a_vm(net, agent):
    req = net["req"]
    deal, activity = rented_activity(net)
    res = exec_batch(req, activity, [{"run": {"entry_point": "echo", "args": ["hi"], "capture": CAPTURE}}])
    assert res[0]["result"] == "Error" and "No such file or directory" in res[0]["message"], res
    res = exec_batch(req, activity, [{"run": {"entry_point": "/bin/sh", "args": ["-c", 'exec "$0" "$@"', "echo", "hi"], "capture": CAPTURE}}])
    assert res[0]["result"] == "Ok" and res[0]["stdout"] == "hi\n", res
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def exec_batch(req, activity, commands, wait_s=60):
    batch = req.call("POST", f"/activity-api/v1/activity/{activity}/exec", 200, json={"text": json.dumps(commands)})
    assert isinstance(batch, str) and batch

    def results():
        r = req.s.get(f"{req.url}/activity-api/v1/activity/{activity}/exec/{batch}", params={"timeout": 5}, timeout=30)
        if r.status_code == 408:
            return None
        assert r.status_code == 200, f"GET exec results: HTTP {r.status_code}: {r.text[:500]}"
        res = r.json()
        return res if res and res[-1]["isBatchFinished"] else None

    return until(f"batch {batch} finished", results, wait_s)


def create_activity(req, agreement):
    a = req.call("POST", "/activity-api/v1/activity", (200, 201), params={"timeout": 30}, timeout=45,
                 json={"agreementId": agreement})
    activity = a["activityId"] if isinstance(a, dict) else a
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Initialized"
    return activity


def deploy_start(req, activity):
    res = exec_batch(req, activity, [{"deploy": {"env": {"GREETING": "hi"}}}, {"start": {}}])
    assert [r["result"] for r in res] == ["Ok", "Ok"], res
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Ready"


def rented_activity(net, interval_sec=120):
    """An Approved agreement and one Ready activity under it."""
    deal = negotiate(net, interval_sec=interval_sec)
    activity = create_activity(net["req"], deal["agreement"])
    deploy_start(net["req"], activity)
    return deal, activity


CAPTURE = {"stdout": {"atEnd": {"format": "string"}}, "stderr": {"atEnd": {"format": "string"}}}


def payment_event(req, kind, doc_path, agreement, after, deadline_s=60):
    """The first `kind` event (DebitNoteReceivedEvent / InvoiceReceivedEvent) of `agreement`."""
    state = {"after": after}

    def look():
        evs = req.call("GET", f"/payment-api/v1/{kind}", 200, params={"afterTimestamp": state["after"], "timeout": 2})
        for ev in evs:
            state["after"] = ev["eventDate"]
            key = "debitNoteId" if "debitNoteId" in ev else "invoiceId"
            if ev["eventType"].endswith("ReceivedEvent"):
                doc = req.call("GET", f"/payment-api/v1/{doc_path}/{ev[key]}", 200)
                if doc["agreementId"] == agreement:
                    return doc
    return until(f"{kind} for agreement {agreement}", look, deadline_s)


def activity_dir(agent, activity):
    """The activity's work directory as the agent logged it: its warm sandbox's (`warm-...`, the
    default) or `<work root>/<activity>` (with `--warm-sandboxes 0`)."""
    def look():
        for line in agent["log"].read_text().splitlines():
            if "activity created" in line and f"activity.id={activity}" in line:
                found = re.search(r"workDirectory=(\S+)", line)
                return Path(found.group(1)) if found else None
    return until(f"activity {activity} in the agent's log", look)


def emptied_or_removed(work_dir):
    return not work_dir.exists() or not any(work_dir.iterdir())


def test_full_run(net, agent):
    req = net["req"]
    deal = negotiate(net)
    activity = create_activity(req, deal["agreement"])
    work_dir = activity_dir(agent, activity)
    assert work_dir.is_dir() and work_dir.parent == agent["work"], "the agent gives each activity a work directory"
    deploy_start(req, activity)

    res = exec_batch(req, activity, [{"run": {"entry_point": "/bin/echo", "args": ["hello"], "capture": CAPTURE}},
                                     {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo $GREETING; pwd"], "capture": CAPTURE}}])
    assert [r["result"] for r in res] == ["Ok", "Ok"], res
    assert res[0]["stdout"] == "hello\n" and res[0]["index"] == 0 and not res[0]["isBatchFinished"]
    assert res[1]["stdout"] == "hi\n/golem/work\n", "deploy env reaches run; cwd is /golem/work"
    assert res[1]["isBatchFinished"] and res[0]["eventDate"]

    res = exec_batch(req, activity, [{"run": {"entry_point": "/bin/sh", "args": ["-c", "echo oops >&2; exit 3"], "capture": CAPTURE}},
                                     {"run": {"entry_point": "/bin/echo", "args": ["never"], "capture": CAPTURE}}])
    assert len(res) == 1, f"the batch stops at its first failure: {res}"
    assert res[0]["result"] == "Error" and res[0]["isBatchFinished"]
    assert res[0]["message"] == "ExeScript command exited with code 3" and res[0]["stderr"] == "oops\n"

    # an upload and a download the way the bridge's Golem backend moves files: base64 through run
    res = exec_batch(req, activity, [
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo aGVsbG8gZmlsZQ== | base64 -d > /golem/work/in.txt"], "capture": CAPTURE}},
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "base64 -w0 /golem/work/in.txt"], "capture": CAPTURE}}])
    assert res[1]["stdout"] == "aGVsbG8gZmlsZQ==", res

    note = payment_event(req, "debitNoteEvents", "debitNotes", deal["agreement"], deal["t"])
    assert note["activityId"] == activity and float(note["totalAmountDue"]) > 0 and len(note["usageCounterVector"]) == 2
    req.call("POST", f"/payment-api/v1/debitNotes/{note['debitNoteId']}/accept", 200,
             json={"totalAmountAccepted": note["totalAmountDue"], "allocationId": deal["allocation"]})

    res = exec_batch(req, activity, [{"terminate": {}}])
    assert res[0]["result"] == "Ok"
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    assert req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Terminated"
    assert emptied_or_removed(work_dir), "the work directory is emptied (its sandbox reset) or removed on DestroyActivity"
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})

    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert invoice["activityIds"] == [activity] and float(invoice["amount"]) >= float(note["totalAmountDue"])
    req.call("POST", f"/payment-api/v1/invoices/{invoice['invoiceId']}/accept", 200,
             json={"totalAmountAccepted": invoice["amount"], "allocationId": deal["allocation"]})
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_two_activities_at_once(net, agent):
    req = net["req"]
    deal = negotiate(net, interval_sec=120)
    a, b = create_activity(req, deal["agreement"]), create_activity(req, deal["agreement"])
    deploy_start(req, a)
    deploy_start(req, b)
    # both activities hold a batch at the same time; each answers on its own GSB service
    batch_a = req.call("POST", f"/activity-api/v1/activity/{a}/exec", 200, json={"text": json.dumps([
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "echo A"], "capture": CAPTURE}}])})
    res_b = exec_batch(req, b, [{"run": {"entry_point": "/bin/sh", "args": ["-c", "echo B; ls /golem/work"], "capture": CAPTURE}}])
    res_a = until("A's results", lambda: req.call("GET", f"/activity-api/v1/activity/{a}/exec/{batch_a}", (200, 408), params={"timeout": 5}))
    assert res_a[0]["stdout"] == "A\n" and res_b[0]["stdout"] == "B\n", "separate work directories, separate results"
    for act in (a, b):
        req.call("DELETE", f"/activity-api/v1/activity/{act}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert sorted(invoice["activityIds"]) == sorted([a, b])
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_terminated_agreement_cleans_up(net, agent):
    req = net["req"]
    deal, activity = rented_activity(net)
    work_dir = activity_dir(agent, activity)
    marker = f"600.{uuid.uuid4().int % 1000000}"
    batch = req.call("POST", f"/activity-api/v1/activity/{activity}/exec", 200, json={"text": json.dumps([
        {"run": {"entry_point": "/bin/sh", "args": ["-c", f"echo left > /golem/work/file; exec /bin/sleep {marker}"], "capture": CAPTURE}}])})

    def sleeping():
        return subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True).returncode == 0
    until("the sleep running", sleeping)
    # the requestor walks away without destroying the activity
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "cancelled"})
    until("the activity Terminated by the agent",
          lambda: req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Terminated")
    until("the command killed", lambda: not sleeping())
    until("the work directory emptied or removed", lambda: emptied_or_removed(work_dir))
    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert invoice["activityIds"] == [activity]
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)
    assert batch


def agreement_event(req, deal, kind):
    """The requestor's `kind` agreement event (AgreementTerminatedEvent, ...) of the deal's agreement."""
    state = {"after": deal["t"]}

    def look():
        evs = req.call("GET", "/market-api/v1/agreementEvents", 200,
                       params={"afterTimestamp": state["after"], "appSessionId": deal["session"], "timeout": 2})
        for ev in evs:
            state["after"] = ev["eventDate"]
            if ev.get("agreementId") == deal["agreement"] and ev.get("eventType") == kind:
                return ev
    return until(f"{kind} for agreement {deal['agreement']}", look)


def test_unaccepted_debit_note_terminates_the_agreement(net, agent):
    # ya-provider's bounds: notes every 1 s .. 24 h, at least 5 s to accept; 2 s notes with 5 s to accept each
    req = net["req"]
    deal = negotiate(net, interval_sec=2, accept_timeout=5)
    activity = create_activity(req, deal["agreement"])
    deploy_start(req, activity)
    note = payment_event(req, "debitNoteEvents", "debitNotes", deal["agreement"], deal["t"])
    assert note["activityId"] == activity
    # the requestor never accepts: the agent terminates the agreement, as a real provider does
    until("the agreement Terminated by the provider",
          lambda: req.call("GET", f"/market-api/v1/agreements/{deal['agreement']}", 200)["state"] == "Terminated")
    ev = agreement_event(req, deal, "AgreementTerminatedEvent")
    assert ev["terminator"] == "Provider", ev
    assert "not accepted" in ev["reason"]["message"], ev
    until("the activity Terminated by the agent",
          lambda: req.call("GET", f"/activity-api/v1/activity/{activity}/state", 200)["state"][0] == "Terminated")
    assert not (agent["work"] / activity).exists(), "the agent removes the work directory"
    invoice = payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    assert invoice["activityIds"] == [activity] and float(invoice["amount"]) >= float(note["totalAmountDue"])
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_usage_reaches_the_requestor_in_debit_notes(net, agent):
    req = net["req"]
    deal = negotiate(net, interval_sec=2)
    activity = create_activity(req, deal["agreement"])
    deploy_start(req, activity)
    exec_batch(req, activity, [{"run": {"entry_point": "/bin/sleep", "args": ["1"], "capture": CAPTURE}}])
    note = payment_event(req, "debitNoteEvents", "debitNotes", deal["agreement"], deal["t"])
    cpu_sec, duration_sec = note["usageCounterVector"]
    assert duration_sec > 0 and cpu_sec >= 0, note
    # the activity's usage endpoint answers the requestor (yagna has no REST call for a provider to
    # set it: only an exe-unit on the node's local GSB can, so it carries no counters here)
    usage = req.call("GET", f"/activity-api/v1/activity/{activity}/usage", 200)
    assert "timestamp" in usage, usage
    req.call("DELETE", f"/activity-api/v1/activity/{activity}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def two_agreements_run_at_once(net):
    """Two agreements, an activity each, a batch held on the first while the second runs one."""
    req = net["req"]
    deals = [negotiate(net, interval_sec=120), negotiate(net, interval_sec=120)]
    acts = [create_activity(req, d["agreement"]) for d in deals]
    for act in acts:
        deploy_start(req, act)
    batch = req.call("POST", f"/activity-api/v1/activity/{acts[0]}/exec", 200, json={"text": json.dumps([
        {"run": {"entry_point": "/bin/sh", "args": ["-c", "sleep 1; echo first"], "capture": CAPTURE}}])})
    second = exec_batch(req, acts[1], [{"run": {"entry_point": "/bin/echo", "args": ["second"], "capture": CAPTURE}}])
    first = until("the first agreement's batch", lambda: req.call(
        "GET", f"/activity-api/v1/activity/{acts[0]}/exec/{batch}", (200, 408), params={"timeout": 5}))
    assert first[0]["stdout"] == "first\n" and second[0]["stdout"] == "second\n", (first, second)
    for deal, act in zip(deals, acts):
        req.call("DELETE", f"/activity-api/v1/activity/{act}", 200, params={"timeout": 15}, timeout=30)
        req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    for deal, act in zip(deals, acts):
        assert payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])["activityIds"] == [act]
        req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)


def test_two_agreements_at_once(net, agent):
    two_agreements_run_at_once(net)


def test_provider_node_restart(net, agent):
    """The provider node's yagna stops and starts (same data) while the agent runs: the agent
    reconnects, serves the activity it had again, and offers itself for new agreements."""
    req = net["req"]
    deal = negotiate(net, interval_sec=120)
    before = create_activity(req, deal["agreement"])
    deploy_start(req, before)

    golem_local(net, "restart-node", "provider")
    assert agent["proc"].poll() is None, "the agent survives its node's restart"

    # the agent binds the activity's exe-unit again on the restarted node; until then yagna has no
    # endpoint for it
    script = json.dumps([{"run": {"entry_point": "/bin/echo", "args": ["still here"], "capture": CAPTURE}}])

    def exec_once_bound():
        r = req.s.post(f"{req.url}/activity-api/v1/activity/{before}/exec", json={"text": script}, timeout=60)
        if r.status_code == 500 and "endpoint address not found" in r.text:
            return None
        assert r.status_code == 200, f"exec after the restart: HTTP {r.status_code}: {r.text[:500]}"
        return r.json()

    batch = until("the exe-unit bound again after the restart", exec_once_bound)
    res = until("the batch's results", lambda: req.call(
        "GET", f"/activity-api/v1/activity/{before}/exec/{batch}", (200, 408), params={"timeout": 5}))
    assert res[0]["stdout"] == "still here\n", "the activity from before the restart is served again"
    req.call("DELETE", f"/activity-api/v1/activity/{before}", 200, params={"timeout": 15}, timeout=30)
    req.call("POST", f"/market-api/v1/agreements/{deal['agreement']}/terminate", (200, 204), json={"message": "done"})
    assert payment_event(req, "invoiceEvents", "invoices", deal["agreement"], deal["t"])["activityIds"] == [before]
    req.call("DELETE", f"/payment-api/v1/allocations/{deal['allocation']}", 200)

    # a new offer, new agreements, activities and batches, two at once
    two_agreements_run_at_once(net)
    offers = net["prov"].call("GET", "/market-api/v1/offers", 200)
    assert len(offers) == 1, f"one live offer after the restart, not a stale one beside it: {offers}"
