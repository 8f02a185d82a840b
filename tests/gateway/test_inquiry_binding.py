"""A signed inquiry answer is only applied to the payment it is about.

Antom's response signature covers the path and body, not the request, so a correctly signed answer
about another payment (a mixed-up or replayed response) verifies. The gateway checks the answer's
paymentRequestId and amount, as it already does for notifications, before taking it as PAID.
"""
import asyncio
import json

import httpx

from tests.gateway.test_antom_client import ANTOM_KEY, CLIENT_ID, MERCHANT, antom_reply
from tools.gateway import antom, config
from tools.gateway.service import PaymentService
from tools.gateway.secretbox import SecretBox


def service_with_upstream(open_store, answer):
    cfg = config.load(None, environ={})
    store = open_store(box=SecretBox(b"k" * 32))
    store.add_terminal("T1", "s" * 32, None)

    def handler(request):
        return antom_reply(request, answer(json.loads(request.content)))

    client = antom.AntomClient("https://antom.test", "/ams/api", CLIENT_ID, MERCHANT, ANTOM_KEY.public_key(),
                               timeout=2.0, transport=httpx.MockTransport(handler))
    svc = PaymentService(cfg, store, client, "http://127.0.0.1:1/antom/notify")
    with store.transaction():
        rowid = store.insert_payment(terminal_id="T1", order_id="O-1", payment_request_id="T1.O-1", amount=1250,
                                     currency="USD", description="", status="PENDING", pay_body="{}",
                                     payment_id="P-1", expires_at=2 ** 40)
    return svc, store, rowid


def success(prid, value="1250"):
    return {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": prid, "paymentId": "P-x", "paymentStatus": "SUCCESS",
            "paymentAmount": {"currency": "USD", "value": value}, "paymentTime": "2026-11-25T18:00:00+00:00"}


def test_signed_success_about_another_payment_is_not_taken_as_paid(open_store):
    svc, store, rowid = service_with_upstream(open_store, lambda req: success("T1.O-OTHER"))
    asyncio.run(svc.check_open(store.payment_by_rowid(rowid)))
    assert store.payment_by_rowid(rowid)["status"] == "PENDING"


def test_signed_success_with_another_amount_is_not_taken_as_paid(open_store):
    svc, store, rowid = service_with_upstream(open_store, lambda req: success(req["paymentRequestId"], "1"))
    asyncio.run(svc.check_open(store.payment_by_rowid(rowid)))
    assert store.payment_by_rowid(rowid)["status"] == "PENDING"


def test_signed_success_about_this_payment_is_paid(open_store):
    svc, store, rowid = service_with_upstream(open_store, lambda req: success(req["paymentRequestId"]))
    asyncio.run(svc.check_open(store.payment_by_rowid(rowid)))
    assert store.payment_by_rowid(rowid)["status"] == "PAID"


def test_late_refund_never_takes_the_payment_id_from_an_answer_about_another_payment(open_store):
    refunds = []

    def answer(req):
        if "refundRequestId" in req:
            refunds.append(req["paymentId"])
            return {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                    "refundId": "RF-1"}
        return dict(success("T1.O-OTHER"), paymentId="P-OTHER")

    svc, store, rowid = service_with_upstream(open_store, answer)
    with store.transaction():  # paid after the terminal gave up, and Antom's id never learned
        store.update_payment(rowid, status="CANCELLED", late=1, cancel_state="REFUND", payment_id=None)
    asyncio.run(svc.reconcile_cancel(store.payment_by_rowid(rowid)))
    assert refunds == []
    assert store.payment_by_rowid(rowid)["payment_id"] is None


def test_pay_and_cancel_answers_about_another_payment_are_not_taken(open_store):
    import pytest

    from tools.gateway.service import ServiceError
    ok = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}

    def answer(req):
        if "productCode" in req:
            return {"result": dict(ok, resultCode="PAYMENT_IN_PROCESS", resultStatus="U"),
                    "paymentRequestId": "T1.O-OTHER", "paymentId": "P-OTHER",
                    "orderCodeForm": {"codeDetails": [{"displayType": "TEXT", "codeValue": "https://x/c/OTHER"}]}}
        return {"result": ok, "paymentRequestId": "T1.O-OTHER", "paymentId": "P-OTHER"}

    svc, store, rowid = service_with_upstream(open_store, answer)
    with pytest.raises(ServiceError):
        asyncio.run(svc.create("T1", "O-2", 500, "USD", ""))
    assert store.payment("T1", "O-2")["status"] == "CREATING" and store.payment("T1", "O-2")["code_value"] is None
    with store.transaction():
        store.update_payment(rowid, status="CANCELLED", cancel_state="PENDING")
    asyncio.run(svc.reconcile_cancel(store.payment_by_rowid(rowid)))
    assert store.payment_by_rowid(rowid)["cancel_state"] == "PENDING"


def test_refund_answer_about_another_refund_is_not_taken(open_store):
    def answer(req):
        return {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                "refundRequestId": "R-OTHER", "refundId": "RF-OTHER", "paymentId": req["paymentId"]}

    svc, store, rowid = service_with_upstream(open_store, answer)
    with store.transaction():
        store.update_payment(rowid, status="PAID")
    view = asyncio.run(svc.refund("T1", "O-1", "R1", 100))
    assert view["status"] == "PENDING" and store.refunded_total(rowid) == 0


def test_refund_refused_for_traffic_is_retried_not_failed(open_store):
    # ALIPAY.md: REQUEST_TRAFFIC_EXCEED_LIMIT means back off and retry, not a final refusal
    def answer(req):
        return {"result": {"resultCode": "REQUEST_TRAFFIC_EXCEED_LIMIT", "resultStatus": "F",
                           "resultMessage": "busy"}}

    svc, store, rowid = service_with_upstream(open_store, answer)
    with store.transaction():
        store.update_payment(rowid, status="PAID")
    view = asyncio.run(svc.refund("T1", "O-1", "R1", 100))
    assert view["status"] == "PENDING"
    assert [r["id"] for r in store.due_refunds(2 ** 40)]  # the reconciler will send it again
