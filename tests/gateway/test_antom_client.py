"""The gateway's Antom client: byte-identical signatures to the official SDK, and it trusts only what
is signed. The upstream here is a tiny test double (httpx.MockTransport) signing with a test key."""
import asyncio
import itertools
import json
import os
from urllib.parse import unquote

import httpx
import pytest
from com.alipay.ams.api.tools import signature_tool as sdk

from tools.antom import signature
from tools.gateway import antom

VECTORS = json.load(open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "antom", "antom_signature.json")))
MERCHANT = signature.load_private_key(VECTORS["private_key_pkcs1_pem"])
ANTOM_KEY = signature.generate_private_key()
ANTOM_PUB_PEM = signature.public_pem(ANTOM_KEY).decode()
CLIENT_ID = "SANDBOX_5YBZ1W2ZLKRS02251"


def client(handler, prefix="/ams/api", clock=None, timeout=2.0):
    kwargs = {"clock": clock} if clock else {}
    return antom.AntomClient("https://antom.test", prefix, CLIENT_ID, MERCHANT, ANTOM_KEY.public_key(),
                             timeout=timeout, transport=httpx.MockTransport(handler), **kwargs)


def antom_reply(request, body, status=200, sign_with=ANTOM_KEY, client_id=CLIENT_ID, tamper=False):
    raw = json.dumps(body).encode()
    response_time = "2026-11-25T18:00:00+00:00"
    headers = {"client-id": client_id, "response-time": response_time, "content-type": "application/json"}
    if sign_with is not None:
        headers["signature"] = signature.sign_message(sign_with, "POST", request.url.path, client_id, response_time, raw)
    return httpx.Response(status, content=raw + (b" " if tamper else b""), headers=headers)


def run(coro):
    return asyncio.run(coro)


def pay_body(c, prid="T1.T1-1"):
    return c.pay_body(prid, "T1-1", 1250, "USD", "Coffee", "http://127.0.0.1:1/antom/notify",
                      {"id": "M1", "mcc": "5812", "name": "Cafe", "store_id": "S1", "store_name": "Main",
                       "store_mcc": "5812"}, "T1", 1764090900)


# --- signatures: the official SDK as the reference -----------------------------------------------
@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["request_time"] for c in VECTORS["cases"]])
def test_request_signature_header_matches_the_sdk_vectors(case):
    c = antom.AntomClient("https://x", "/ams/api", case["client_id"], MERCHANT, MERCHANT.public_key())
    headers = c.sign_headers(case["path"], case["body"].encode(), request_time=case["request_time"])
    assert headers["signature"] == case["signature_header"]
    assert headers["client-id"] == case["client_id"] and headers["request-time"] == case["request_time"]


def test_signed_pay_is_byte_identical_to_the_official_sdk():
    seen = {}

    def handler(request):
        seen["request"] = request
        return antom_reply(request, {"result": {"resultStatus": "U", "resultCode": "PAYMENT_IN_PROCESS"}})

    c = client(handler)
    run(c.pay(pay_body(c)))
    req = seen["request"]
    body = req.content.decode("utf-8")
    sdk_value = sdk.sign("POST", req.url.path, CLIENT_ID, req.headers["request-time"], body,
                         VECTORS["private_key_pkcs1_pem"])
    ours = signature.parse_header(req.headers["signature"])
    assert ours == {"algorithm": "RSA256", "keyVersion": "1", "signature": sdk_value}
    assert req.url.path == "/ams/api/v1/payments/pay"
    assert req.headers["client-id"] == CLIENT_ID and req.headers["request-time"].isdigit()


def test_sdk_verifier_and_ours_agree_on_responses():
    def handler(request):
        return antom_reply(request, {"result": {"resultStatus": "S", "resultCode": "SUCCESS"},
                                     "paymentStatus": "SUCCESS"})

    c = client(handler)
    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport) as http:
        resp = http.post("https://antom.test/ams/api/v1/payments/inquiryPayment", content=b"{}")
    sig = signature.signature_value(resp.headers["signature"])
    assert sdk.verify("POST", "/ams/api/v1/payments/inquiryPayment", CLIENT_ID, resp.headers["response-time"],
                      resp.content.decode(), sig, ANTOM_PUB_PEM)
    ours = c.interpret("/ams/api/v1/payments/inquiryPayment", 200, resp.headers, resp.content)
    assert ours.signed and ours.status == "S"
    # a changed body: both refuse
    assert not c.interpret("/ams/api/v1/payments/inquiryPayment", 200, resp.headers, resp.content + b" ").signed
    with pytest.raises(Exception):
        assert sdk.verify("POST", "/ams/api/v1/payments/inquiryPayment", CLIENT_ID, resp.headers["response-time"],
                          resp.content.decode() + " ", sig, ANTOM_PUB_PEM)


def test_path_prefix_is_configurable_and_signed_as_sent():
    seen = []

    def handler(request):
        seen.append(request.url.path)
        return antom_reply(request, {"result": {"resultStatus": "S", "resultCode": "SUCCESS"}, "paymentStatus": "PROCESSING"})

    c = client(handler, prefix="/ams/sandbox/api")
    r = run(c.inquiry("T1.T1-1"))
    assert seen == ["/ams/sandbox/api/v1/payments/inquiryPayment"] and r.signed and r.status == "S"


# --- trust ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["S", "U"])
def test_unsigned_success_or_unknown_is_never_trusted(status):
    c = client(lambda req: antom_reply(req, {"result": {"resultStatus": status, "resultCode": "SUCCESS"},
                                              "paymentStatus": "SUCCESS"}, sign_with=None))
    r = run(c.inquiry("T1.T1-1"))
    assert r.status == "U" and not r.signed and not r.trusted


def test_unsigned_failure_is_reported_but_not_signed():
    c = client(lambda req: antom_reply(req, {"result": {"resultStatus": "F", "resultCode": "SIGNATURE_INVALID"}},
                                       sign_with=None))
    r = run(c.inquiry("T1.T1-1"))
    assert (r.status, r.code, r.signed) == ("F", "SIGNATURE_INVALID", False)


@pytest.mark.parametrize("variant", ["other-key", "tampered", "other-client"])
def test_badly_signed_answers_are_not_trusted(variant):
    def handler(req):
        body = {"result": {"resultStatus": "S", "resultCode": "SUCCESS"}, "paymentStatus": "SUCCESS"}
        if variant == "other-key":
            return antom_reply(req, body, sign_with=signature.generate_private_key())
        if variant == "tampered":
            return antom_reply(req, body, tamper=True)
        return antom_reply(req, body, client_id="SOMEONE_ELSE")

    r = run(client(handler).inquiry("T1.T1-1"))
    assert r.status == "U" and not r.signed


@pytest.mark.parametrize("make", [
    lambda req: httpx.Response(500, content=b""),
    lambda req: httpx.Response(502, content=b"<html>bad gateway</html>"),
    lambda req: httpx.Response(200, content=b"not json"),
    lambda req: httpx.Response(200, content=b'{"result": "x"}'),
    lambda req: antom_reply(req, {"result": {"resultStatus": "S", "resultCode": "SUCCESS"}}, status=503),
], ids=["500", "502-html", "not-json", "no-result", "signed-503"])
def test_transport_level_failures_are_unknown(make):
    r = run(client(make).inquiry("T1.T1-1"))
    assert r.status == "U" and not r.signed


def test_timeouts_and_refused_connections_are_unknown():
    def slow(req):
        raise httpx.ReadTimeout("slow", request=req)

    def refused(req):
        raise httpx.ConnectError("refused", request=req)

    assert run(client(slow).cancel("x")).code == "TIMEOUT"
    r = run(client(refused).cancel("x"))
    assert (r.status, r.code) == ("U", "NETWORK_ERROR")
    # a real refused port too (no double)
    real = antom.AntomClient("http://127.0.0.1:9", "/ams/api", CLIENT_ID, MERCHANT, ANTOM_KEY.public_key(), timeout=1)
    assert run(real.inquiry("x")).status == "U"


def test_resent_pay_is_the_same_bytes_with_a_fresh_signature():
    bodies, sigs = [], []

    def handler(req):
        bodies.append(req.content)
        sigs.append(req.headers["request-time"])
        return antom_reply(req, {"result": {"resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}})

    ticks = itertools.count(1764090000.0, 1.5)
    c = client(handler, clock=lambda: next(ticks))
    body = pay_body(c)
    run(c.pay(body))
    run(c.pay(body))
    assert bodies[0] == bodies[1] == body and sigs[0] != sigs[1]


def test_pay_body_follows_order_code_rules():
    c = client(lambda req: None)
    data = json.loads(pay_body(c))
    assert data["productCode"] == "IN_STORE_PAYMENT"
    assert data["paymentAmount"] == {"currency": "USD", "value": "1250"} == data["order"]["orderAmount"]
    assert data["paymentMethod"] == {"paymentMethodType": "CONNECT_WALLET"}
    assert data["paymentFactor"] == {"inStorePaymentScenario": "OrderCode"}
    assert data["paymentNotifyUrl"] and data["paymentRequestId"] == "T1.T1-1"
    assert data["paymentExpiryTime"] == "2025-11-25T17:15:00+00:00"


def test_request_ids_are_derived_one_to_one():
    assert antom.payment_request_id("T1", "T1-000042") == "T1.T1-000042"
    assert antom.payment_request_id("T1", "2-3") != antom.payment_request_id("T1-2", "3")
    a = antom.refund_request_id("T1.T1-1", "R1")
    assert a == antom.refund_request_id("T1.T1-1", "R1") and len(a) <= 64
    assert a != antom.refund_request_id("T1.T1-1", "R2") != antom.refund_request_id("T1.T1-2", "R1")
    assert len(antom.payment_request_id("T" * 16, "o" * 40)) <= 64


def test_code_value_takes_the_text_code_only():
    body = {"orderCodeForm": {"codeDetails": [
        {"displayType": "BIGIMAGE", "codeValue": "https://img"}, {"displayType": "TEXT", "codeValue": "https://qr"}]}}
    assert antom.code_value(body) == "https://qr"
    assert antom.code_value({"orderCodeForm": {"codeDetails": [{"displayType": "SMALLIMAGE", "codeValue": "x"}]}}) is None
    assert antom.code_value({}) is None and antom.code_value({"orderCodeForm": "x"}) is None


def test_unencoded_signature_value_is_accepted():
    def handler(req):
        resp = antom_reply(req, {"result": {"resultStatus": "S", "resultCode": "SUCCESS"}})
        value = unquote(signature.signature_value(resp.headers["signature"]))
        resp.headers["signature"] = "algorithm=RSA256, keyVersion=1, signature=" + value
        return resp

    assert run(client(handler).inquiry("x")).signed
