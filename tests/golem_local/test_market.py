"""Proves the local Golem network (scripts/golem-local) works: two real yagna 0.17.6 nodes negotiate
an agreement over the central net on 127.0.0.1.

This is a test client, not product code. The requestor side is driven over the requestor node's
REST API the way golem-js / the bridge will drive it (docs/notes/yagna-requestor-api.md). There is no provider agent
offline, so the provider is *played* over the provider node's REST market API: it subscribes an
offer, counters the requestor's counter-proposal and approves the agreement.

Run: python3 -m pytest -q tests/golem_local   (conftest.py starts and stops the nodes once)
"""

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from . import conftest as support
from .conftest import TIMINGS, iso, step


def poll_events(node, path, want, deadline_s=20, **params):
    """Long-polls an events endpoint until `want(event)` matches; returns (event, all events seen)."""
    seen = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        evs = node.call("GET", path, 200, params={"timeout": 2, "maxEvents": 10, **params})
        for ev in evs:
            seen.append(ev)
            if want(ev):
                return ev, seen
    pytest.fail(f"{node.name}: no matching event on {path} within {deadline_s}s; saw {json.dumps(seen)[:1500]}")


def test_me_on_both_nodes(net):
    req, prov = net["req"], net["prov"]
    for n in (req, prov):
        me = n.call("GET", "/me", 200)
        assert me["identity"] == n.identity and me["identity"].startswith("0x") and len(me["identity"]) == 42
        assert me["role"] == "manager"
    assert req.identity != prov.identity
    # a request without the key is refused
    r = requests.get(req.url + "/me", timeout=5, proxies={"http": None})
    assert r.status_code == 401, r.text
    v = req.call("GET", "/version/get", 200)
    assert v["current"]["version"].startswith("0.17.6"), v


def test_negotiation_to_approved_agreement(net, capsys):
    req, prov, platform, subnet = net["req"], net["prov"], net["platform"], net["subnet"]
    now = datetime.now(timezone.utc)
    addr_key = f"golem.com.payment.platform.{platform}.address"

    # --- requestor: allocation (offline: YAGNA_DEV_SKIP_ALLOCATION_VALIDATION) + decorations ---
    alloc = req.call("POST", "/payment-api/v1/allocations", 201, json={
        "totalAmount": "1.0", "paymentPlatform": platform, "address": req.identity,
        "timeout": iso(now + timedelta(hours=1)), "makeDeposit": False})
    alloc_id = alloc["allocationId"]
    assert alloc["paymentPlatform"] == platform and alloc["address"] == req.identity
    assert alloc["totalAmount"] == "1.0" and alloc["spentAmount"] == "0"
    got = req.call("GET", f"/payment-api/v1/allocations/{alloc_id}", 200)
    assert got["allocationId"] == alloc_id
    deco = req.call("GET", "/payment-api/v1/demandDecorations", 200, params={"allocationIds": alloc_id})
    deco_props = {p["key"]: p["value"] for p in deco["properties"]}
    assert deco_props[addr_key] == req.identity, deco
    assert f"({addr_key}=*)" in deco["constraints"], deco

    # --- provider (played over REST): offer with a nonce so stale offers can never be picked ---
    nonce = f"golem-local-prov-{uuid.uuid4().hex[:8]}"
    offer = {
        "properties": {
            "golem.node.id.name": nonce,
            "golem.node.debug.subnet": subnet,
            "golem.inf.cpu.architecture": "x86_64",
            "golem.inf.cpu.cores": 2,
            "golem.inf.cpu.threads": 4,
            "golem.inf.mem.gib": 8.0,
            "golem.inf.storage.gib": 40.0,
            "golem.runtime.name": "vm",
            "golem.runtime.version": "0.4.0",
            "golem.runtime.capabilities": ["vpn", "manifest-support", "start-entrypoint"],
            "golem.com.pricing.model": "linear",
            "golem.com.usage.vector": ["golem.usage.cpu_sec", "golem.usage.duration_sec"],
            "golem.com.pricing.model.linear.coeffs": [0.0001, 0.00002, 0.0],
            "golem.com.scheme": "payu",
            "golem.com.scheme.payu.debit-note.interval-sec?": 120,
            "golem.com.scheme.payu.payment-timeout-sec?": 120,
            "golem.com.payment.debit-notes.accept-timeout?": 240,
            "golem.com.payment.protocol.version": "3",
            f"golem.com.payment.platform.{platform}.address": prov.identity,
            "golem.srv.caps.multi-activity": True,
        },
        "constraints": f"(&(golem.srv.comp.expiration>0)(golem.node.debug.subnet={subnet}))",
    }
    offer_id = prov.call("POST", "/market-api/v1/offers", 201, json=offer)
    assert isinstance(offer_id, str) and offer_id

    # --- requestor: golem-js style demand, decorated with the allocation ---
    demand_props = {
        "golem.srv.caps.multi-activity": True,
        "golem.node.debug.subnet": subnet,
        "golem.srv.comp.expiration": int((now + timedelta(minutes=30)).timestamp() * 1000),
        "golem.srv.comp.vm.package_format": "gvmkit-squash",
        "golem.srv.comp.task_package": "hash:sha3:" + "d" * 56 + ":http://127.0.0.1:1/image.gvmi",
        "golem.com.scheme.payu.debit-note.interval-sec?": 120,
        "golem.com.scheme.payu.payment-timeout-sec?": 120,
        "golem.com.payment.debit-notes.accept-timeout?": 240,
        **deco_props,
    }
    demand_cons = ("(&(golem.com.pricing.model=linear)\n\t(golem.node.debug.subnet=%s)\n\t(golem.runtime.name=vm)"
                   "\n\t(golem.inf.mem.gib>=0.5)\n\t(golem.inf.storage.gib>=2)\n\t(golem.inf.cpu.cores>=1)"
                   "\n\t(golem.inf.cpu.threads>=1)\n\t%s)" % (subnet, "\n\t".join(deco["constraints"])))
    demand = {"properties": demand_props, "constraints": demand_cons}
    t_demand = time.monotonic()
    demand_id = req.call("POST", "/market-api/v1/demands", 201, json=demand)
    assert isinstance(demand_id, str) and demand_id

    # --- requestor: the provider's offer arrives as an Initial proposal (crossed the central net) ---
    ev, _ = poll_events(req, f"/market-api/v1/demands/{demand_id}/events",
                        lambda e: e.get("eventType") == "ProposalEvent"
                        and e["proposal"]["properties"].get("golem.node.id.name") == nonce)
    TIMINGS["demand_to_first_proposal_s"] = time.monotonic() - t_demand
    p0 = ev["proposal"]
    assert p0["state"] == "Initial" and p0["issuerId"] == prov.identity, p0
    assert p0["properties"]["golem.com.pricing.model"] == "linear"
    assert p0["properties"]["golem.com.usage.vector"] == offer["properties"]["golem.com.usage.vector"]
    assert p0["properties"][addr_key] == prov.identity

    # --- requestor counters with the demand + chosen platform ---
    counter = {"properties": {**demand_props, "golem.com.payment.chosen-platform": platform},
               "constraints": demand_cons}
    r_counter_id = req.call("POST", f"/market-api/v1/demands/{demand_id}/proposals/{p0['proposalId']}",
                            (200, 201), json=counter)
    assert isinstance(r_counter_id, str) and r_counter_id

    # --- provider sees the counter as a Draft and counters back with its offer ---
    pev, _ = poll_events(prov, f"/market-api/v1/offers/{offer_id}/events",
                         lambda e: e.get("eventType") == "ProposalEvent"
                         and e["proposal"]["state"] == "Draft")
    pp = pev["proposal"]
    assert pp["issuerId"] == req.identity and pp["prevProposalId"], pp
    assert pp["properties"]["golem.com.payment.chosen-platform"] == platform
    p_counter_id = prov.call("POST", f"/market-api/v1/offers/{offer_id}/proposals/{pp['proposalId']}",
                             (200, 201), json=offer)
    assert isinstance(p_counter_id, str) and p_counter_id

    # --- requestor sees the provider's Draft, answering its own counter ---
    ev, _ = poll_events(req, f"/market-api/v1/demands/{demand_id}/events",
                        lambda e: e.get("eventType") == "ProposalEvent" and e["proposal"]["state"] == "Draft")
    draft = ev["proposal"]
    assert draft["issuerId"] == prov.identity and draft["prevProposalId"] == r_counter_id, draft

    # --- agreement: create, confirm; wait (in parallel) while the provider approves ---
    app_session = f"golem-local-{uuid.uuid4().hex[:8]}"
    agreement_id = req.call("POST", "/market-api/v1/agreements", (200, 201), json={
        "proposalId": draft["proposalId"], "validTo": iso(datetime.now(timezone.utc) + timedelta(hours=1))})
    assert isinstance(agreement_id, str) and agreement_id
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/confirm", 204,
             params={"appSessionId": app_session})

    wait_result = {}

    def wait():
        t = time.monotonic()
        r = req.s.post(f"{req.url}/market-api/v1/agreements/{agreement_id}/wait", params={"timeout": 30},
                       timeout=40)
        wait_result.update(status=r.status_code, body=r.text, t=time.monotonic(), dur=time.monotonic() - t)
        step(f"requestor POST   /market-api/v1/agreements/{agreement_id}"
             f"/wait -> {r.status_code} ({time.monotonic() - t:.3f}s)")

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()

    aev, _ = poll_events(prov, f"/market-api/v1/offers/{offer_id}/events",
                         lambda e: e.get("eventType") == "AgreementEvent")
    pending = aev["agreement"]
    assert pending["agreementId"] == agreement_id and pending["state"] == "Pending", pending
    assert pending["demand"]["requestorId"] == req.identity and pending["offer"]["providerId"] == prov.identity
    prov.call("POST", f"/market-api/v1/agreements/{agreement_id}/approve", 204,
              params={"appSessionId": "golem-local-provider", "timeout": 10})

    waiter.join(45)
    assert not waiter.is_alive(), "requestor's POST /agreements/{id}/wait did not return within 45 s"
    assert wait_result["status"] == 204, wait_result
    TIMINGS["start_to_first_approved_s"] = wait_result["t"] - support.T0
    TIMINGS["demand_to_approved_s"] = wait_result["t"] - t_demand

    ag = req.call("GET", f"/market-api/v1/agreements/{agreement_id}", 200)
    assert ag["state"] == "Approved", ag
    assert ag["offer"]["providerId"] == prov.identity and ag["demand"]["requestorId"] == req.identity
    assert ag["demand"]["properties"]["golem.com.payment.chosen-platform"] == platform
    ev, _ = poll_events(req, "/market-api/v1/agreementEvents",
                        lambda e: e.get("agreementId") == agreement_id
                        and e.get("eventType") == "AgreementApprovedEvent", appSessionId=app_session)
    msg = (f"start -> first Approved agreement: {TIMINGS['start_to_first_approved_s']:.2f}s "
                      f"(start script {TIMINGS['start_script_s']:.2f}s, demand -> first proposal "
                      f"{TIMINGS['demand_to_first_proposal_s']:.2f}s, demand -> Approved "
                      f"{TIMINGS['demand_to_approved_s']:.2f}s)")
    with capsys.disabled():  # visible under -q
        print("\n" + msg)

    # --- teardown of the deal: terminate, unsubscribe both, release the allocation ---
    req.call("POST", f"/market-api/v1/agreements/{agreement_id}/terminate", (200, 204),
             json={"message": "golem-local test done"})
    ag = req.call("GET", f"/market-api/v1/agreements/{agreement_id}", 200)
    assert ag["state"] == "Terminated", ag
    ev, _ = poll_events(prov, "/market-api/v1/agreementEvents",
                        lambda e: e.get("agreementId") == agreement_id
                        and e.get("eventType") == "AgreementTerminatedEvent")
    assert ev["terminator"] == "Requestor", ev
    pag = prov.call("GET", f"/market-api/v1/agreements/{agreement_id}", 200)
    assert pag["state"] == "Terminated", pag

    req.call("DELETE", f"/market-api/v1/demands/{demand_id}", 204)
    prov.call("DELETE", f"/market-api/v1/offers/{offer_id}", 204)
    assert demand_id not in [d.get("demandId") for d in req.call("GET", "/market-api/v1/demands", 200)]
    assert offer_id not in [o.get("offerId") for o in prov.call("GET", "/market-api/v1/offers", 200)]

    req.call("DELETE", f"/payment-api/v1/allocations/{alloc_id}", 200)
    allocs = req.call("GET", "/payment-api/v1/allocations", 200)
    assert alloc_id not in [a["allocationId"] for a in allocs], allocs

