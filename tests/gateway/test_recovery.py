"""Restart and SIGKILL recovery of a gateway subprocess: nothing acknowledged is ever lost."""
import json
import random
import threading
import time

import httpx

from firmware.link import auth
from tests.gateway.test_sandbox_faults import at_sandbox, eventually
from tools.gateway.client import TerminalClient


def test_restart_keeps_payments_and_learns_what_happened_while_down(gateway_process, sandbox):
    gp = gateway_process.start()
    gp.add_terminal("T1")
    t1 = gp.client("T1")
    created = t1.create("R-1", 2100, "USD", "").body
    gp.stop()  # orderly stop
    # the customer pays while the gateway is down: the notification cannot be delivered now
    assert sandbox.pay(created["code_value"])["status"] == "SUCCESS"
    gp.start()  # same port, same database
    t1 = gp.client("T1")
    answer = t1.status("R-1", wait=15)
    assert answer.verified and answer.body["status"] == "PAID"
    assert answer.body["payment_id"] == created["payment_id"]


def test_sigkill_after_a_cancel_is_acknowledged_the_cancel_still_lands(gateway_process, sandbox):
    gp = gateway_process.start()
    gp.add_terminal("T1")
    t1 = gp.client("T1")
    t1.create("R-2", 2200, "USD", "[fault:cancel-unknown=3]")
    assert t1.cancel("R-2").body["status"] == "CANCELLED"   # acknowledged to the terminal
    gp.kill()                                                # before Antom confirmed the cancel
    assert gp.store.payment("T1", "R-2")["cancel_state"] == "PENDING"
    gp.start()
    eventually(lambda: gp.store.payment("T1", "R-2")["cancel_state"] == "DONE", timeout=15)
    assert at_sandbox(sandbox, "R-2")["status"] == "CANCELLED"
    assert gp.client("T1").status("R-2").body["status"] == "CANCELLED"


def test_nonces_survive_sigkill(gateway_process):
    gp = gateway_process.start()
    gp.add_terminal("T1")
    t1 = gp.client("T1")
    nonce = auth.new_nonce()
    assert t1.request("GET", "/v1/health", nonce=nonce).status == 200
    gp.kill()
    gp.start()
    r = gp.client("T1").request("GET", "/v1/health", nonce=nonce)
    assert (r.status, r.code, r.verified) == (401, "NONCE_REUSED", True)


def test_sigkill_at_random_moments_loses_no_acknowledged_state(gateway_process, sandbox):
    """Terminals create, pay and cancel continuously; the gateway is SIGKILLed at random moments.

    Every answer a terminal received (a signed 200) must still hold after the restarts, and every
    notification the sandbox saw acknowledged must be in the event log.
    """
    gp = gateway_process.start()
    secrets = {tid: gp.add_terminal(tid) for tid in ("K1", "K2", "K3")}
    acknowledged = {}   # (terminal, order) -> last signed 200 payment object
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(1234)

    def terminal(tid):
        c = TerminalClient(gp.base_url, tid, secrets[tid], timeout=5)
        n = 0
        while not stop.is_set():
            n += 1
            order = "%s-%04d" % (tid, n)
            try:
                r = c.create(order, 100 + n, "USD", "")
                if r.status == 200 and r.verified:
                    with lock:
                        acknowledged[(tid, order)] = r.body
                    action = n % 3
                    if action == 0:
                        sandbox.pay(r.body["code_value"])
                        r = c.status(order, wait=3)
                        if r.status == 200 and r.verified:
                            with lock:
                                acknowledged[(tid, order)] = r.body
                    elif action == 1:
                        r = c.cancel(order)
                        if r.status == 200 and r.verified:
                            with lock:
                                acknowledged[(tid, order)] = r.body
            except httpx.HTTPError:
                time.sleep(0.05)  # gateway down: the terminal retries later
        c.close()

    threads = [threading.Thread(target=terminal, args=(tid,)) for tid in secrets]
    for t in threads:
        t.start()
    def settled(minimum, deadline_s=60):
        # progress, not a fixed time: a loaded machine restarts the gateway slowly, and the kill must
        # land while sales are in flight rather than before any could be acknowledged
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            with lock:
                if len(acknowledged) >= minimum:
                    return
            time.sleep(0.05)

    try:
        for _ in range(3):
            with lock:
                before = len(acknowledged)
            settled(before + 2)
            time.sleep(rng.uniform(0.0, 0.3))
            gp.kill()
            time.sleep(0.1)
            gp.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # run on until both outcomes were acknowledged at least once
            with lock:
                seen_now = {b["status"] for b in acknowledged.values()}
            if {"PAID", "CANCELLED"} <= seen_now and len(acknowledged) >= 10:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert len(acknowledged) >= 10, len(acknowledged)
    seen = {b["status"] for b in acknowledged.values()}
    assert {"PAID", "CANCELLED"} <= seen, seen
    store = gp.store
    for (tid, order), body in acknowledged.items():
        row = store.payment(tid, order)
        assert row is not None, order
        assert row["payment_id"] == body["payment_id"] and row["amount"] == body["amount"]
        if body["status"] == "CANCELLED":
            assert row["status"] == "CANCELLED", order   # a final answer never changes
        elif body["status"] == "PAID":
            assert row["status"] == "PAID", order
    # notifications the gateway acknowledged are all on record
    ours = {row["payment_id"] for row in store.payments(limit=10000)}
    acked = [n for n in sandbox.notifications() if n["state"] == "acked" and n["paymentId"] in ours]
    recorded = {e["detail"] for e in store.events(limit=100000) if e["kind"] in ("notification", "notification_duplicate")}
    for n in acked:
        prid = json.loads(n["body"])["paymentRequestId"]
        assert any('"%s"' % prid in d for d in recorded), prid
