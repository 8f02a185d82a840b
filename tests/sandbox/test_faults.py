"""Every fault scenario of docs/sandbox.md, chosen by description marker, by amount, or per run."""
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import httpx
import pytest

from tests.sandbox.conftest import order, text_code, wait_until
from tools.sandbox.testing import running_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def marked(receiver, *markers, **kw):
    return order(notify_url=receiver.url, description="Coffee " + " ".join(markers), **kw)


def mine(sb, body):
    return [p for p in sb.payments() if p["paymentRequestId"] == body["paymentRequestId"]]


def test_pay_lost_creates_the_payment_but_drops_the_reply(sandbox, receiver):
    body = marked(receiver, "[fault:pay-lost]")
    with pytest.raises(httpx.TransportError):
        sandbox.call("pay", body)
    [created] = mine(sandbox, body)
    again = sandbox.call("pay", body)
    assert sandbox.verify(again)
    assert again.json()["paymentId"] == created["paymentId"] and "orderCodeForm" in again.json()
    assert len(mine(sandbox, body)) == 1


def test_pay_500_creates_nothing_the_first_time(sandbox, receiver):
    body = marked(receiver, "[fault:pay-500]")
    first = sandbox.call("pay", body)
    assert first.status_code == 500 and "signature" not in first.headers
    assert mine(sandbox, body) == []
    second = sandbox.call("pay", body)
    assert second.status_code == 200 and second.json()["result"]["resultCode"] == "PAYMENT_IN_PROCESS"


def test_pay_unknown_creates_the_payment_and_answers_u(sandbox, receiver):
    body = marked(receiver, "[fault:pay-unknown]")
    first = sandbox.call("pay", body)
    assert sandbox.verify(first)
    assert first.json() == {"result": {"resultCode": "UNKNOWN_EXCEPTION", "resultStatus": "U",
                                       "resultMessage": "unknown exception"}}
    [created] = mine(sandbox, body)
    again = sandbox.call("pay", body).json()
    assert again["paymentId"] == created["paymentId"] and "orderCodeForm" in again


def test_traffic_limit_refuses_the_first_n_pays(sandbox, receiver):
    body = marked(receiver, "[fault:traffic-limit=2]")
    for _ in range(2):
        refused = sandbox.call("pay", body)
        assert sandbox.verify(refused)
        assert refused.json()["result"] == {"resultCode": "REQUEST_TRAFFIC_EXCEED_LIMIT", "resultStatus": "F",
                                            "resultMessage": "request traffic exceeds the limit"}
    assert mine(sandbox, body) == []
    assert sandbox.call("pay", body).json()["result"]["resultCode"] == "PAYMENT_IN_PROCESS"


def test_slow_holds_every_reply_about_the_payment(sandbox, receiver):
    body = marked(receiver, "[fault:slow=0.4]")
    started = time.monotonic()
    answer = sandbox.call("pay", body).json()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]})
    assert time.monotonic() - started >= 0.4
    plain = time.monotonic()
    sandbox.call("pay", order())
    assert time.monotonic() - plain < 0.4


def test_http_500_on_the_first_n_follow_up_calls(sandbox, receiver):
    body = marked(receiver, "[fault:http-500=2]")
    answer = sandbox.call("pay", body).json()
    ref = {"paymentId": answer["paymentId"]}
    assert sandbox.call("inquiryPayment", ref).status_code == 500
    assert sandbox.call("cancel", ref).status_code == 500
    assert sandbox.call("inquiryPayment", ref).json()["paymentStatus"] == "PROCESSING"


def test_inquiry_not_exist_then_unknown_then_the_truth(sandbox, receiver):
    body = marked(receiver, "[fault:inquiry-not-exist=2]", "[fault:inquiry-unknown]")
    answer = sandbox.call("pay", body).json()
    ref = {"paymentRequestId": body["paymentRequestId"]}
    codes = [sandbox.call("inquiryPayment", ref).json()["result"]["resultCode"] for _ in range(4)]
    assert codes == ["ORDER_NOT_EXIST", "ORDER_NOT_EXIST", "UNKNOWN_EXCEPTION", "SUCCESS"]


def test_cancel_unknown_does_nothing_then_cancel_works(sandbox, receiver):
    body = marked(receiver, "[fault:cancel-unknown]")
    answer = sandbox.call("pay", body).json()
    ref = {"paymentId": answer["paymentId"]}
    first = sandbox.call("cancel", ref)
    assert sandbox.verify(first) and first.json()["result"]["resultStatus"] == "U"
    assert sandbox.call("inquiryPayment", ref).json()["paymentStatus"] == "PROCESSING"
    assert sandbox.call("cancel", ref).json()["result"]["resultStatus"] == "S"
    assert sandbox.call("inquiryPayment", ref).json()["paymentStatus"] == "CANCELLED"


def test_cancel_window_marker(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:cancel-window]")).json()
    refused = sandbox.call("cancel", {"paymentId": answer["paymentId"]}).json()
    assert refused["result"]["resultCode"] == "CANCEL_WINDOW_EXCEED"


def test_customer_pays_at_the_moment_the_cancel_arrives(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:pay-on-cancel]")).json()
    cancelled = sandbox.call("cancel", {"paymentId": answer["paymentId"]}).json()
    assert cancelled["result"]["resultStatus"] == "S"
    status = sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()
    assert status["paymentStatus"] == "CANCELLED"
    [listed] = [p for p in sandbox.payments() if p["paymentId"] == answer["paymentId"]]
    assert listed["returned"] == "1250" and listed["paymentTime"]
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]))
    assert json.loads(note["body"])["result"]["resultStatus"] == "S"  # the late SUCCESS still arrives


def test_notify_lost(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:notify-lost]")).json()
    sandbox.pay(text_code(answer))
    time.sleep(0.4)
    assert receiver.for_payment(answer["paymentId"]) == []
    [note] = [n for n in sandbox.notifications() if n["paymentId"] == answer["paymentId"]]
    assert note["state"] == "lost"
    assert sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}).json()["paymentStatus"] == "SUCCESS"


def test_notify_duplicate(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:notify-duplicate]")).json()
    sandbox.pay(text_code(answer))
    notes = wait_until(lambda: len(receiver.for_payment(answer["paymentId"])) == 2
                       and receiver.for_payment(answer["paymentId"]))
    assert notes[0]["body"] == notes[1]["body"] and all(n["valid"] for n in notes)


def test_notify_late(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:notify-late=0.8]")).json()
    paid_at = time.monotonic()
    sandbox.pay(text_code(answer))
    [note] = wait_until(lambda: receiver.for_payment(answer["paymentId"]), timeout=4)
    assert note["at"] - paid_at >= 0.75


def test_notify_bad_signature_then_retried_correctly(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:notify-bad-signature]")).json()
    sandbox.pay(text_code(answer))
    notes = wait_until(lambda: len(receiver.for_payment(answer["paymentId"])) == 2
                       and receiver.for_payment(answer["paymentId"]))
    assert [n["valid"] for n in notes] == [False, True]
    assert notes[0]["body"] == notes[1]["body"]


def test_skewed_response_time_is_still_signed(sandbox, receiver):
    answer = sandbox.call("pay", marked(receiver, "[fault:skew=-3600]"))
    assert sandbox.verify(answer)
    moment = datetime.fromisoformat(answer.headers["response-time"]).timestamp()
    assert abs(moment - (time.time() - 3600)) < 5


def test_unknown_or_malformed_markers_are_param_illegal(sandbox, receiver):
    for marker in ("[fault:pay-lots]", "[fault:slow]", "[fault:http-500=x]", "[fault:notify-lost=3]"):
        answer = sandbox.call("pay", marked(receiver, marker)).json()
        assert answer["result"]["resultCode"] == "PARAM_ILLEGAL", marker


def test_run_wide_faults_by_amount_via_the_admin_endpoint(sandbox, receiver):
    sandbox.set_faults(["inquiry-not-exist"], amount="1313")
    try:
        hit = sandbox.call("pay", marked(receiver, value="1313")).json()
        miss = sandbox.call("pay", marked(receiver, value="1314")).json()
        first = sandbox.call("inquiryPayment", {"paymentId": hit["paymentId"]}).json()
        assert first["result"]["resultCode"] == "ORDER_NOT_EXIST"
        assert sandbox.call("inquiryPayment", {"paymentId": hit["paymentId"]}).json()["paymentStatus"] == "PROCESSING"
        assert sandbox.call("inquiryPayment", {"paymentId": miss["paymentId"]}).json()["paymentStatus"] == "PROCESSING"
    finally:
        sandbox.clear_faults()
    later = sandbox.call("pay", marked(receiver, value="1313")).json()
    assert sandbox.call("inquiryPayment", {"paymentId": later["paymentId"]}).json()["paymentStatus"] == "PROCESSING"
    bad = sandbox.http.post(sandbox.admin_url + "/_sandbox/faults", json={"faults": ["nope"]})
    assert bad.status_code == 400


def test_run_wide_fault_from_the_command_line():
    with running_sandbox(args=["--fault", "pay-500", "--fault", "skew=7200", "--fault", "pay-unknown@777"]) as sb:
        body = order()
        assert sb.call("pay", body).status_code == 500
        again = sb.call("pay", body)
        assert sb.verify(again)
        assert datetime.fromisoformat(again.headers["response-time"]).timestamp() > time.time() + 7000
        assert sb.payments()[0]["faults"] == {"pay-500": 1, "skew": 7200.0}
        by_amount = order(value="777")
        assert sb.call("pay", by_amount).status_code == 500
        assert sb.call("pay", by_amount).json()["result"]["resultCode"] == "UNKNOWN_EXCEPTION"
    bad = subprocess.run([sys.executable, "-m", "tools.sandbox", "serve", "--data", "/nonexistent/x",
                          "--fault", "pay-lots"], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert bad.returncode == 2 and "unknown fault marker" in bad.stderr
