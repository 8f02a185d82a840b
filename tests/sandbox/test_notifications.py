"""notifyPayment: signed like Antom, the exact ack, Antom's retry schedule (scaled), restarts."""
import json
import time

import pytest

from tests.sandbox.conftest import ACK, Receiver, order, text_code, wait_until
from tools.sandbox.testing import running_sandbox


def pay_and_get(sb, receiver, decline=False, **kw):
    answer = sb.call("pay", order(notify_url=receiver.url, **kw)).json()
    (sb.decline if decline else sb.pay)(text_code(answer))
    return answer


def test_paid_order_is_notified_once_signed_like_antom(sandbox, receiver):
    answer = pay_and_get(sandbox, receiver)
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]))
    assert note["valid"] and note["path"] == "/antom/notify"
    assert note["headers"]["client-id"] == sandbox.client_id
    assert note["headers"]["request-time"].isdigit()  # epoch milliseconds
    body = json.loads(note["body"])
    assert body["notifyType"] == "PAYMENT_RESULT"
    assert body["result"] == {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
    assert body["paymentRequestId"] == answer["paymentRequestId"]
    assert body["paymentAmount"] == {"currency": "USD", "value": "1250"}
    assert body["paymentTime"] and body["paymentCreateTime"] == answer["paymentCreateTime"]
    notes = sandbox.wait_notifications(
        lambda ns: [n for n in ns if n["paymentId"] == answer["paymentId"] and n["state"] == "acked"])
    assert len([n for n in notes if n["paymentId"] == answer["paymentId"]]) == 1
    time.sleep(0.2)
    assert len(receiver.for_payment(answer["paymentId"])) == 1


def test_declined_order_is_notified_as_failed(sandbox, receiver):
    answer = pay_and_get(sandbox, receiver, decline=True)
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]))
    body = json.loads(note["body"])
    assert body["result"]["resultStatus"] == "F" and body["result"]["resultCode"] == "ORDER_IS_CLOSED"
    assert "paymentTime" not in body
    status = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
    assert status["paymentStatus"] == "FAIL" and status["paymentResultCode"] == "ORDER_IS_CLOSED"


def test_expiry_closes_the_payment_and_notifies(sandbox, receiver):
    from datetime import datetime, timedelta, timezone
    soon = (datetime.now(timezone.utc) + timedelta(seconds=1.2)).replace(microsecond=0)
    answer = sandbox.call("pay", order(notify_url=receiver.url, paymentExpiryTime=soon.isoformat())).json()
    assert answer["orderCodeForm"]["expireTime"] == soon.isoformat()
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]), timeout=4)
    assert json.loads(note["body"])["result"]["resultCode"] == "ORDER_IS_CLOSED"
    assert sandbox.http.post(text_code(answer) + "/pay").status_code == 409
    page = sandbox.http.get(text_code(answer)).text
    assert "Expired" in page and "Declined" not in page   # the customer did not decline it


def test_default_code_lifetime_applies_without_expiry_time(receiver):
    with running_sandbox(args=["--code-lifetime", "0.5"]) as sb:
        receiver.public_key = sb.public_key
        answer = sb.call("pay", order(notify_url=receiver.url)).json()
        wait_until(lambda: receiver.for_payment(answer["paymentId"]), timeout=3)
        assert sb.payments()[0]["status"] == "FAIL"


def test_anything_but_the_exact_ack_is_retried_on_the_scaled_schedule():
    rec = Receiver()
    try:
        with running_sandbox(time_scale=0.001) as sb:
            rec.public_key = sb.public_key
            rec.answers = [(200, b"OK"), (200, b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}'),
                           (500, ACK)]
            answer = pay_and_get(sb, rec)
            notes = wait_until(lambda: len(rec.for_payment(answer["paymentId"])) >= 4 and
                               rec.for_payment(answer["paymentId"]), timeout=5)
            gaps = [b["at"] - a["at"] for a, b in zip(notes, notes[1:])]
            for gap, planned in zip(gaps, (0.12, 0.6, 0.6)):  # 2 min, 10 min, 10 min × 0.001
                assert planned - 0.02 <= gap <= planned + 0.4, gaps
            assert all(n["valid"] for n in notes) and len({n["body"] for n in notes}) == 1
            sb.wait_notifications(lambda ns: ns[0]["state"] == "acked")
            time.sleep(0.3)
            assert len(rec.for_payment(answer["paymentId"])) == 4
    finally:
        rec.close()


def test_pretty_printed_ack_counts():
    rec = Receiver()
    rec.default = (200, json.dumps(json.loads(ACK), indent=2).encode())
    try:
        with running_sandbox() as sb:
            rec.public_key = sb.public_key
            pay_and_get(sb, rec)
            notes = sb.wait_notifications(lambda ns: ns and ns[0]["state"] == "acked")
            assert notes[0]["attempts"] == 0 and len(rec.received) == 1
    finally:
        rec.close()


def test_gives_up_after_eight_attempts():
    rec = Receiver()
    rec.default = (503, b"busy")
    try:
        with running_sandbox(time_scale=0.00002) as sb:  # the whole 24 h schedule in ~1.8 s
            rec.public_key = sb.public_key
            pay_and_get(sb, rec)
            notes = sb.wait_notifications(lambda ns: ns and ns[0]["state"] == "failed", timeout=8)
            assert notes[0]["attempts"] == 8 and len(rec.received) == 8
            assert "503" in notes[0]["lastError"]
    finally:
        rec.close()


def test_pending_retries_and_payments_survive_a_restart():
    rec = Receiver()
    rec.answers = [(500, b"down")]
    try:
        with running_sandbox(time_scale=0.01) as sb:  # the 2-minute retry comes after 1.2 s
            rec.public_key = sb.public_key
            answer = pay_and_get(sb, rec)
            wait_until(lambda: rec.received)
            sb.stop()
            time.sleep(0.3)
            assert len(rec.received) == 1
            sb.start()
            notes = sb.wait_notifications(lambda ns: ns[0]["state"] == "acked", timeout=5)
            assert notes[0]["attempts"] == 1 and len(rec.received) == 2
            assert rec.received[1]["valid"]
            status = sb.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
            assert status["paymentStatus"] == "SUCCESS"
    finally:
        rec.close()
