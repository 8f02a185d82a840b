"""Answers given before the request's signature verified are unsigned; refusals of an order name it.

A man in the middle can pad or alter any request. Were the gateway to sign what it answers to
such a request with the claimed terminal's secret (bound to the terminal's nonce), the terminal
would take "413 body too large" as the gateway's signed refusal of its sale and show FAILED.
So nothing is signed until the request is known to be the terminal's, and a refusal that may end
a sale names the order it refuses (docs/protocol.md, "Which refusals are final").
"""
import time

import httpx

from firmware.link import auth

CREATE = b'{"order_id":"T1-7-00aa11bb22cc","amount":100,"currency":"USD","description":""}'


def _send(gateway, headers, body, target="/v1/payments"):
    return httpx.request("POST", gateway.base_url + target, headers=headers, content=body, trust_env=False)


def _signed_headers(gateway, body, target="/v1/payments", terminal_id="T1", secret=None):
    nonce = auth.new_nonce()
    headers = auth.request_headers(terminal_id, secret or gateway.secrets["T1"], "POST", target, body,
                                   int(time.time()), nonce)
    headers["Content-Type"] = "application/json"
    return headers, nonce


def _verifies(gateway, r, nonce, target="/v1/payments"):
    return auth.check_response(gateway.secrets["T1"], r.status_code, target, nonce, dict(r.headers), r.content)


def test_answers_before_the_signature_verifies_are_unsigned(gateway, t1):
    secret = gateway.secrets["T1"]
    # padded on the way: the genuine headers of the terminal's create, a body past the limit
    headers, nonce = _signed_headers(gateway, CREATE)
    r = _send(gateway, headers, CREATE + b" " * 5000)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")
    assert "x-signature" not in r.headers and not _verifies(gateway, r, nonce)
    # altered on the way: the signature no longer matches
    headers, nonce = _signed_headers(gateway, CREATE)
    r = _send(gateway, headers, CREATE.replace(b"100", b"900"))
    assert (r.status_code, r.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert "x-signature" not in r.headers and not _verifies(gateway, r, nonce)
    # stripped or malformed auth headers
    for drop in ("X-Signature", "X-Nonce", "X-Timestamp"):
        headers, nonce = _signed_headers(gateway, CREATE)
        del headers[drop]
        r = _send(gateway, headers, CREATE)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "MISSING_AUTH") and "x-signature" not in r.headers
    # a request signed with another secret but claiming T1
    headers, nonce = _signed_headers(gateway, CREATE, secret="e" * 64)
    r = _send(gateway, headers, CREATE)
    assert r.status_code == 401 and "x-signature" not in r.headers
    assert gateway.store.payment("T1", "T1-7-00aa11bb22cc") is None and secret


def test_requests_whose_signature_verified_still_get_signed_answers(gateway, t1):
    r = t1.request("GET", "/v1/health", timestamp=int(time.time()) - 400)
    assert (r.status, r.code, r.verified) == (401, "STALE_TIMESTAMP", True)
    nonce = auth.new_nonce()
    assert t1.request("GET", "/v1/health", nonce=nonce).verified
    r = t1.request("GET", "/v1/health", nonce=nonce)
    assert (r.status, r.code, r.verified) == (401, "NONCE_REUSED", True)
    r = t1.request("GET", "/v1/nowhere")
    assert (r.status, r.code, r.verified) == (404, "NOT_FOUND", True) and "order_id" not in r.body


def test_signed_refusals_of_a_create_name_the_order(gateway, t1):
    r = t1.create("T1-8-00aa11bb22cc", 10 ** 12, "USD", "")
    assert (r.status, r.code, r.verified) == (400, "INVALID_AMOUNT", True)
    assert r.body["order_id"] == "T1-8-00aa11bb22cc"
    r = t1.create("T1-8-00aa11bb22cc", 100, "XXX", "")
    assert (r.code, r.body["order_id"]) == ("UNKNOWN_CURRENCY", "T1-8-00aa11bb22cc")
    assert t1.create("T1-9-00aa11bb22cc", 100, "USD", "a").status == 200
    r = t1.create("T1-9-00aa11bb22cc", 200, "USD", "a")
    assert (r.status, r.code, r.verified, r.body["order_id"]) == (409, "ORDER_MISMATCH", True, "T1-9-00aa11bb22cc")
    # no order id to name: a refusal, but of no order
    r = t1.request("POST", "/v1/payments", {"order_id": "bad id", "amount": 100, "currency": "USD"})
    assert (r.status, r.code, r.verified) == (400, "INVALID_FIELD", True) and "order_id" not in r.body
    r = t1.status("T1-10-00aa11bb22cc")
    assert (r.status, r.verified, r.body["order_id"]) == (404, True, "T1-10-00aa11bb22cc")
