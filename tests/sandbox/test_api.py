"""Every AMS endpoint against a real sandbox, with requests signed here (tools.antom over
`cryptography`), and every response signature verified."""
import json
import time

import httpx
import pytest

from tests.sandbox.conftest import order, text_code
from tools.antom import signature


def ok(sb, response):
    assert response.status_code == 200
    assert sb.verify(response), "response signature must verify with the sandbox key"
    return response.json()


def create(sb, receiver=None, **kw):
    body = order(notify_url=receiver.url if receiver else "http://127.0.0.1:9/notify", **kw)
    answer = ok(sb, sb.call("pay", body))
    return body, answer


# --- pay --------------------------------------------------------------------------------------
def test_pay_creates_an_order_code_with_a_short_url(sandbox):
    body, answer = create(sandbox)
    assert answer["result"] == {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U",
                                "resultMessage": "payment in process"}
    assert answer["paymentRequestId"] == body["paymentRequestId"]
    assert answer["paymentId"].isdigit() and len(answer["paymentId"]) <= 64
    code = text_code(answer)
    assert code.startswith(sandbox.base_url + "/c/") and 40 <= len(code) <= 70
    assert answer["orderCodeForm"]["expireTime"] > answer["paymentCreateTime"]
    listed = sandbox.payments(body["order"]["referenceOrderId"])
    assert [(p["paymentId"], p["status"], p["amount"]) for p in listed] == [
        (answer["paymentId"], "PROCESSING", {"currency": "USD", "value": "1250"})]


def test_same_pay_twice_gets_the_same_answer(sandbox):
    body = order()
    first = ok(sandbox, sandbox.call("pay", body))
    again = ok(sandbox, sandbox.call("pay", body))
    assert again == first
    assert len(sandbox.payments(body["order"]["referenceOrderId"])) == 1


def test_a_retried_pay_after_its_expiry_time_still_gets_the_same_answer(sandbox):
    from datetime import datetime, timedelta, timezone
    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).replace(microsecond=0)
    body = order(paymentExpiryTime=soon.isoformat())
    first = ok(sandbox, sandbox.call("pay", body))
    time.sleep(max(0.0, soon.timestamp() - time.time()) + 0.1)
    assert ok(sandbox, sandbox.call("pay", body)) == first
    status = ok(sandbox, sandbox.call("inquiryPayment", {"paymentId": first["paymentId"]}))
    assert status["paymentStatus"] == "FAIL" and status["paymentResultCode"] == "ORDER_IS_CLOSED"


@pytest.mark.parametrize("change", ["amount", "order", "notify", "store"])
def test_same_request_id_with_different_key_fields_is_inconsistent(sandbox, change):
    body = order()
    ok(sandbox, sandbox.call("pay", body))
    other = json.loads(json.dumps(body))
    if change == "amount":
        other["paymentAmount"]["value"] = other["order"]["orderAmount"]["value"] = "1251"
    elif change == "order":
        other["order"]["referenceOrderId"] += "x"
    elif change == "notify":
        other["paymentNotifyUrl"] += "/other"
    else:
        other["order"]["merchant"]["store"]["referenceStoreId"] = "S0002"
    answer = ok(sandbox, sandbox.call("pay", other))
    assert answer["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    assert answer["result"]["resultStatus"] == "F"


def test_the_sdk_sandbox_path_prefix_works_and_is_what_is_signed(sandbox):
    body = order()
    path = "/ams/sandbox/api/v1/payments/pay"
    response = sandbox.call("pay", body, path=path)
    answer = ok(sandbox, response)
    assert answer["result"]["resultStatus"] == "U" and "orderCodeForm" in answer
    assert signature.verify_message(sandbox.public_key, "POST", path, response.headers["client-id"],
                                    response.headers["response-time"], response.content,
                                    response.headers["signature"])


def test_response_headers_are_antom_shaped(sandbox):
    response = sandbox.call("pay", order())
    assert response.headers["client-id"] == sandbox.client_id
    assert response.headers["content-type"].startswith("application/json")
    moment = response.headers["response-time"]
    assert len(moment) == 25 and moment.endswith("+00:00")  # ISO-8601 to the second
    parsed = signature.parse_header(response.headers["signature"])
    assert parsed["algorithm"] == "RSA256" and parsed["keyVersion"] == "1"


# --- inquiry ------------------------------------------------------------------------------------
def test_inquiry_by_either_id_follows_the_payment_to_success(sandbox):
    body, answer = create(sandbox)
    for ref in ({"paymentId": answer["paymentId"]}, {"paymentRequestId": body["paymentRequestId"]}):
        status = ok(sandbox, sandbox.call("inquiryPayment", ref))
        assert status["result"]["resultStatus"] == "S"
        assert status["paymentStatus"] == "PROCESSING" and "paymentTime" not in status
    assert sandbox.pay(text_code(answer))["status"] == "SUCCESS"
    status = ok(sandbox, sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}))
    assert status["paymentStatus"] == "SUCCESS"
    assert status["paymentAmount"] == {"currency": "USD", "value": "1250"}
    assert status["paymentTime"] >= status["paymentCreateTime"]


def test_inquiry_of_unknown_or_foreign_payment_is_order_not_exist(sandbox):
    for ref in ({"paymentId": "2026000000000"}, {"paymentRequestId": "never-sent"}):
        answer = ok(sandbox, sandbox.call("inquiryPayment", ref))
        assert answer["result"]["resultCode"] == "ORDER_NOT_EXIST"
    answer = ok(sandbox, sandbox.call("inquiryPayment", {}))
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"


# --- cancel -------------------------------------------------------------------------------------
def test_cancel_of_an_unpaid_payment_closes_it_and_the_code(sandbox):
    body, answer = create(sandbox)
    cancelled = ok(sandbox, sandbox.call("cancel", {"paymentRequestId": body["paymentRequestId"]}))
    assert cancelled["result"]["resultStatus"] == "S"
    assert cancelled["paymentId"] == answer["paymentId"] and cancelled["cancelTime"]
    again = ok(sandbox, sandbox.call("cancel", {"paymentId": answer["paymentId"]}))
    assert again["result"]["resultStatus"] == "S" and again["cancelTime"] == cancelled["cancelTime"]
    status = ok(sandbox, sandbox.call("inquiryPayment", {"paymentId": answer["paymentId"]}))
    assert status["paymentStatus"] == "CANCELLED"
    response = sandbox.http.post(text_code(answer) + "/pay")
    assert response.status_code == 409 and response.json()["status"] == "CANCELLED"


def test_cancel_of_a_paid_payment_returns_the_money(sandbox):
    _body, answer = create(sandbox)
    sandbox.pay(text_code(answer))
    cancelled = ok(sandbox, sandbox.call("cancel", {"paymentId": answer["paymentId"]}))
    assert cancelled["result"]["resultStatus"] == "S"
    [listed] = [p for p in sandbox.payments() if p["paymentId"] == answer["paymentId"]]
    assert listed["status"] == "CANCELLED" and listed["returned"] == "1250"
    refund = ok(sandbox, sandbox.call("refund", {"refundRequestId": "RF-" + answer["paymentId"],
                                                 "paymentId": answer["paymentId"],
                                                 "refundAmount": {"currency": "USD", "value": "1"}}))
    assert refund["result"]["resultCode"] == "ORDER_STATUS_INVALID"


def test_cancel_of_unknown_payment(sandbox):
    answer = ok(sandbox, sandbox.call("cancel", {"paymentRequestId": "nope"}))
    assert answer["result"]["resultCode"] == "ORDER_NOT_EXIST"


def test_cancel_after_the_window_is_refused():
    from tools.sandbox.testing import running_sandbox
    with running_sandbox(args=["--cancel-window", "0"]) as sb:
        _body, answer = create(sb)
        time.sleep(0.05)
        refused = ok(sb, sb.call("cancel", {"paymentId": answer["paymentId"]}))
        assert refused["result"]["resultCode"] == "CANCEL_WINDOW_EXCEED"
        assert refused["result"]["resultStatus"] == "F"


# --- refund -------------------------------------------------------------------------------------
def refund_body(payment_id, value, request_id=None, currency="USD"):
    return {"refundRequestId": request_id or "RF-%s-%s" % (payment_id, value), "paymentId": payment_id,
            "refundAmount": {"currency": currency, "value": value}, "refundReason": "test"}


def test_partial_refunds_up_to_the_paid_amount(sandbox):
    _body, answer = create(sandbox)
    pid = answer["paymentId"]
    unpaid = ok(sandbox, sandbox.call("refund", refund_body(pid, "100")))
    assert unpaid["result"]["resultCode"] == "ORDER_STATUS_INVALID"
    sandbox.pay(text_code(answer))
    first = ok(sandbox, sandbox.call("refund", refund_body(pid, "1000", "R1-" + pid)))
    assert first["result"]["resultStatus"] == "S" and first["refundAmount"]["value"] == "1000"
    assert ok(sandbox, sandbox.call("refund", refund_body(pid, "1000", "R1-" + pid))) == first
    inconsistent = ok(sandbox, sandbox.call("refund", refund_body(pid, "999", "R1-" + pid)))
    assert inconsistent["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    too_much = ok(sandbox, sandbox.call("refund", refund_body(pid, "251", "R2-" + pid)))
    assert too_much["result"]["resultCode"] == "REFUND_AMOUNT_EXCEED"
    wrong_currency = ok(sandbox, sandbox.call("refund", refund_body(pid, "1", "R3-" + pid, "EUR")))
    assert wrong_currency["result"]["resultCode"] == "CURRENCY_NOT_SUPPORT"
    rest = ok(sandbox, sandbox.call("refund", refund_body(pid, "250", "R4-" + pid)))
    assert rest["result"]["resultStatus"] == "S"
    [listed] = [p for p in sandbox.payments() if p["paymentId"] == pid]
    assert listed["refunded"] == "1250"
    cancel = ok(sandbox, sandbox.call("cancel", {"paymentId": pid}))
    assert cancel["result"]["resultCode"] == "ORDER_STATUS_INVALID"
    for ref in ({"refundId": first["refundId"]}, {"refundRequestId": "R1-" + pid}):
        found = ok(sandbox, sandbox.call("inquiryRefund", ref))
        assert found["refundStatus"] == "SUCCESS" and found["refundId"] == first["refundId"]
        assert found["refundAmount"] == {"currency": "USD", "value": "1000"}
    missing = ok(sandbox, sandbox.call("inquiryRefund", {"refundRequestId": "R9-" + pid}))
    assert missing["result"]["resultCode"] == "REFUND_NOT_EXIST"


def test_refund_of_unknown_payment(sandbox):
    answer = ok(sandbox, sandbox.call("refund", refund_body("2026999", "5")))
    assert answer["result"]["resultCode"] == "ORDER_NOT_EXIST"


# --- rules --------------------------------------------------------------------------------------
def mutate(path, value):
    body = order()
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize("path,value", [
    (("productCode",), "ONLINE_PAYMENT"),
    (("paymentRequestId",), "x" * 65),
    (("paymentRequestId",), 42),
    (("paymentAmount", "value"), 1250),
    (("paymentAmount", "value"), "12.50"),
    (("paymentAmount", "value"), "-1"),
    (("paymentAmount", "value"), "0"),
    (("paymentAmount", "value"), "01250"),
    (("paymentAmount", "value"), "1" * 17),
    (("paymentAmount", "currency"), "usd"),
    (("paymentAmount",), KeyError),
    (("paymentMethod", "paymentMethodType"), "ALIPAY_CN"),
    (("paymentFactor",), KeyError),
    (("order", "orderDescription"), KeyError),
    (("order", "orderDescription"), "d" * 257),
    (("order", "referenceOrderId"), None),
    (("order", "orderAmount", "value"), "1249"),
    (("order", "merchant", "merchantName"), ["Cafe"]),
    (("order", "merchant", "store"), "S0001"),
    (("order",), []),
    (("paymentNotifyUrl",), KeyError),
    (("paymentNotifyUrl",), "ftp://x/y"),
    (("paymentExpiryTime",), "tomorrow"),
    (("paymentExpiryTime",), "2020-01-01T00:00:00+00:00"),
    (("paymentExpiryTime",), "2999-01-01T00:00:00+00:00"),
])
def test_bad_pay_fields_are_param_illegal(sandbox, path, value):
    body = mutate(path, value)
    answer = ok(sandbox, sandbox.call("pay", body))
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL", answer
    assert answer["result"]["resultStatus"] == "F"
    request_id = body.get("paymentRequestId")
    assert [p for p in sandbox.payments() if p["paymentRequestId"] == request_id] == []


def test_unknown_currency_and_zero_exponent_currency(sandbox):
    answer = ok(sandbox, sandbox.call("pay", order(currency="XYZ")))
    assert answer["result"]["resultCode"] == "CURRENCY_NOT_SUPPORT"
    body, answer = create(sandbox, currency="JPY", value="500")
    assert answer["paymentAmount"] == {"currency": "JPY", "value": "500"}
    page = sandbox.http.get(text_code(answer)).text
    assert "JPY 500" in page


@pytest.mark.parametrize("raw", [b"{", b"[]", b"\xff\xfe", b"", b"null", b'"text"', b"[" * 5000 + b"]" * 5000])
def test_malformed_bodies_are_param_illegal_never_a_crash(sandbox, raw):
    for operation in ("pay", "inquiryPayment", "cancel", "refund", "inquiryRefund"):
        answer = ok(sandbox, sandbox.call(operation, raw))
        assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"


@pytest.mark.parametrize("operation,body", [
    ("inquiryPayment", {"paymentId": 5}), ("cancel", {"paymentRequestId": ["a"]}),
    ("refund", {"refundRequestId": "r", "paymentId": "p", "refundAmount": "100"}),
    ("refund", {"refundRequestId": "r", "paymentId": "p", "refundAmount": {"currency": "USD", "value": 1}}),
    ("inquiryRefund", {"refundId": {"x": 1}}),
])
def test_wrong_types_are_param_illegal(sandbox, operation, body):
    answer = ok(sandbox, sandbox.call(operation, body))
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_oversized_body_is_rejected_cleanly(sandbox):
    raw = json.dumps({"pad": "x" * (65 * 1024)})
    response = sandbox.call("pay", raw)
    assert response.status_code == 413
    assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "signature" not in response.headers
    assert sandbox.http.get(sandbox.admin_url + "/_sandbox/payments").status_code == 200


def test_unknown_operation_and_method(sandbox):
    assert sandbox.call("capture", {}).status_code == 404
    assert sandbox.http.get(sandbox.base_url + "/ams/api/v1/payments/pay").status_code in (404, 405)


# --- signatures in --------------------------------------------------------------------------------
def raw_post(sb, path, raw, headers):
    return sb.http.post(sb.base_url + path, content=raw, headers=headers)


def test_unsigned_or_wrongly_signed_requests_get_unsigned_signature_invalid(sandbox):
    path = "/ams/api/v1/payments/pay"
    raw = json.dumps(order()).encode()
    now = str(int(time.time() * 1000))
    good = signature.sign_message(sandbox.merchant_private_key, "POST", path, sandbox.client_id, now, raw)
    other_key = signature.generate_private_key()
    cases = {
        "missing": {},
        "other key": {"signature": signature.sign_message(other_key, "POST", path, sandbox.client_id, now, raw)},
        "other time": {"signature": good, "request-time": str(int(now) + 1)},
        "other path": {"signature": signature.sign_message(sandbox.merchant_private_key, "POST",
                                                           "/ams/api/v1/payments/cancel",
                                                           sandbox.client_id, now, raw)},
        "garbage": {"signature": "algorithm=RSA256,keyVersion=1,signature=%%%"},
    }
    for name, extra in cases.items():
        headers = {"client-id": sandbox.client_id, "request-time": now, **extra}
        response = raw_post(sandbox, path, raw, headers)
        assert response.status_code == 200, name
        assert response.json()["result"] == {"resultCode": "SIGNATURE_INVALID", "resultStatus": "F",
                                              "resultMessage": "the signature is missing or wrong"}, name
        assert "signature" not in response.headers and "response-time" not in response.headers, name
    body_changed = raw_post(sandbox, path, raw + b" ", {"client-id": sandbox.client_id, "request-time": now,
                                                        "signature": good})
    assert body_changed.json()["result"]["resultCode"] == "SIGNATURE_INVALID"
    assert sandbox.payments(json.loads(raw)["order"]["referenceOrderId"]) == []


def test_unknown_client_id_is_client_invalid(sandbox):
    response = sandbox.call("pay", order(), client_id="SOMEONE_ELSE")
    assert response.json()["result"]["resultCode"] == "CLIENT_INVALID"
    assert "signature" not in response.headers
    missing = raw_post(sandbox, "/ams/api/v1/payments/pay", b"{}", {})
    assert missing.json()["result"]["resultCode"] == "CLIENT_INVALID"


def test_header_habits_iso_time_capitalised_names_spaces_after_commas(sandbox):
    path = "/ams/api/v1/payments/pay"
    raw = json.dumps(order(), indent=3).encode()  # the SDK's formatting: signed bytes as sent
    moment = "2026-11-25T17:00:00+00:00"
    value = signature.sign(sandbox.merchant_private_key,
                           signature.content("POST", path, sandbox.client_id, moment, raw))
    headers = {"Client-Id": sandbox.client_id, "Request-Time": moment,
               "Signature": "algorithm=RSA256, keyVersion=1, signature=" + value}
    response = raw_post(sandbox, path, raw, headers)
    answer = ok(sandbox, response)
    assert answer["result"]["resultCode"] == "PAYMENT_IN_PROCESS"


def test_request_time_must_be_epoch_ms_or_iso(sandbox):
    response = sandbox.call("pay", order(), request_time="yesterday")
    answer = ok(sandbox, response)
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"


def test_payments_are_scoped_to_their_merchant(sandbox):
    from tools.sandbox.store import Store
    _body, answer = create(sandbox)
    other = signature.generate_private_key()
    store = Store(sandbox.data_dir)
    store.register_merchant("SANDBOX_OTHER", signature.public_pem(other).decode())
    store.close()
    path = "/ams/api/v1/payments/inquiryPayment"
    raw = json.dumps({"paymentId": answer["paymentId"]}).encode()
    now = str(int(time.time() * 1000))
    response = raw_post(sandbox, path, raw, {"client-id": "SANDBOX_OTHER", "request-time": now,
                                             "signature": signature.sign_message(other, "POST", path,
                                                                                 "SANDBOX_OTHER", now, raw)})
    assert response.json()["result"]["resultCode"] == "ORDER_NOT_EXIST"
    assert response.headers["client-id"] == "SANDBOX_OTHER"


def test_a_registered_key_that_does_not_load_is_client_invalid_not_a_crash(sandbox):
    from tools.sandbox.store import Store
    store = Store(sandbox.data_dir)
    store.register_merchant("SANDBOX_BROKEN", "-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n")
    store.close()
    response = sandbox.call("pay", order(), client_id="SANDBOX_BROKEN")
    assert response.status_code == 200
    assert response.json()["result"]["resultCode"] == "CLIENT_INVALID"
