"""Refunds never exceed the paid amount when two processes refund at once (the running gateway and
`python -m tools.gateway refund`, each with its own connection to the same database).

The other writer is made to land between this process's "how much is left?" and its insert: the
check must be inside the same SQLite write transaction as the insert, or both refunds pass it.
"""
import asyncio
import threading

from tests.gateway.test_terminal_api import paid
from tools.gateway.app import Gateway
from tools.gateway.service import ServiceError


def run_refund(cfg, order_id, refund_id, amount, out, gw=None):
    async def go():
        gw_ = gw or Gateway(cfg)
        await _refund(gw_)

    async def _refund(gw):
        try:
            out[refund_id] = await gw.service.refund("T1", order_id, refund_id, amount)
        except ServiceError as e:
            out[refund_id] = e.code
        finally:
            await gw.stop()
    asyncio.run(go())


def test_concurrent_refunds_from_two_processes_stay_within_the_payment(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000090", 1000)
    out = {}
    here = Gateway(gateway.cfg)
    original = here.store.refunded_total
    other = []

    def refunded_total_then_the_other_process_refunds(*args, **kwargs):
        total = original(*args, **kwargs)
        if not other:  # only at the first check
            other.append(threading.Thread(target=run_refund, args=(gateway.cfg, "T1-000090", "OP-B", 600, out)))
            other[0].start()
            other[0].join(1.5)  # finished, or blocked behind our write transaction
        return total

    here.store.refunded_total = refunded_total_then_the_other_process_refunds

    async def mine():
        try:
            try:
                out["OP-A"] = await here.service.refund("T1", "T1-000090", "OP-A", 600)
            except ServiceError as e:
                out["OP-A"] = e.code
        finally:
            await here.stop()
    asyncio.run(mine())
    other[0].join(20)
    results = sorted(str(v["status"]) if isinstance(v, dict) else v for v in out.values())
    assert results == ["REFUND_EXCEEDS_PAYMENT", "SUCCEEDED"], out
    [p] = sandbox.payments(reference_order_id="T1.T1-000090")
    assert int(p["refunded"]) == 600


def test_the_same_refund_id_from_two_processes_at_once_is_one_refund_not_a_500(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000091", 1000)
    out, theirs = {}, {}
    here = Gateway(gateway.cfg)
    there = Gateway(gateway.cfg)  # already open, so it reads "no such refund yet" while we insert it
    original = here.store.refunded_total
    other = []

    def refunded_total_then_the_other_process_refunds(*args, **kwargs):
        total = original(*args, **kwargs)
        if not other:
            other.append(threading.Thread(target=run_refund, args=(gateway.cfg, "T1-000091", "OP-1", 400, theirs, there)))
            other[0].start()
            other[0].join(1.5)
        return total

    here.store.refunded_total = refunded_total_then_the_other_process_refunds

    async def mine():
        try:
            out["here"] = await here.service.refund("T1", "T1-000091", "OP-1", 400)
        finally:
            await here.stop()
    asyncio.run(mine())
    other[0].join(20)
    for view in (out["here"], theirs.get("OP-1")):  # both answered with the one refund
        assert isinstance(view, dict) and view["refund_id"] == "OP-1" and view["amount"] == 400, (out, theirs)
    [p] = sandbox.payments(reference_order_id="T1.T1-000091")
    assert int(p["refunded"]) == 400
