"""A cancel answered ORDER_NOT_EXIST is not "done" while the code can still be paid.

ALIPAY.md: ORDER_NOT_EXIST right after pay means "not landed yet". If the gateway took it as a
finished cancel, a payment landing afterwards would never be looked at again (and with its
notification lost, the customer's money would go unnoticed). Only once the code has expired, when
nobody can pay it any more, does ORDER_NOT_EXIST end the cancel.
"""
import asyncio

from tests.gateway.test_inquiry_binding import service_with_upstream

NOT_EXIST = {"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F", "resultMessage": "not exist"}}


def _cancelled_payment(store, rowid, expires_at):
    with store.transaction():
        store.update_payment(rowid, status="CANCELLED", cancel_state="PENDING", expires_at=expires_at)
    return store.payment_by_rowid(rowid)


def test_order_not_exist_before_expiry_is_retried(open_store):
    svc, store, rowid = service_with_upstream(open_store, lambda req: NOT_EXIST)
    row = _cancelled_payment(store, rowid, int(svc.clock()) + 600)
    asyncio.run(svc.reconcile_cancel(row))
    assert store.payment_by_rowid(rowid)["cancel_state"] == "PENDING"


def test_order_not_exist_after_expiry_ends_the_cancel(open_store):
    svc, store, rowid = service_with_upstream(open_store, lambda req: NOT_EXIST)
    row = _cancelled_payment(store, rowid, int(svc.clock()) - 1)
    asyncio.run(svc.reconcile_cancel(row))
    assert store.payment_by_rowid(rowid)["cancel_state"] == "DONE"
