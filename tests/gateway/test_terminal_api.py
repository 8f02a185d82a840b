"""Every terminal endpoint against a real gateway and a real sandbox, over real HTTP."""
import threading
import time

import httpx
import pytest

from firmware.link import auth
from tools.gateway.client import TerminalClient


def paid(gateway, t1, sandbox, order_id, amount=1250):
    created = t1.create(order_id, amount, "USD", "Coffee")
    assert created.status == 200 and created.verified, created
    assert sandbox.pay(created.body["code_value"])["status"] == "SUCCESS"
    answer = t1.status(order_id, wait=10)
    assert answer.body["status"] == "PAID", answer
    return answer


# --- create / status ---------------------------------------------------------------------------
def test_create_returns_a_signed_code_and_is_idempotent(gateway, t1, sandbox):
    first = t1.create("T1-000001", 1250, "USD", "Table 4")
    assert first.status == 200 and first.verified
    body = first.body
    assert body["order_id"] == "T1-000001" and body["status"] == "PENDING"
    assert body["amount"] == 1250 and body["currency"] == "USD" and body["late"] is False
    assert body["code_value"].startswith(sandbox.base_url + "/c/")
    assert body["expires_at"] > time.time() + 600 and body["payment_id"]
    again = t1.create("T1-000001", 1250, "USD", "Table 4")
    assert again.status == 200 and again.body == first.body
    # exactly one payment at Antom for the order, under the derived paymentRequestId
    mine = [p for p in sandbox.payments() if p["paymentRequestId"] == "T1.T1-000001"]
    assert len(mine) == 1 and mine[0]["amount"] == {"currency": "USD", "value": "1250"}


def test_same_order_with_another_amount_is_a_conflict(gateway, t1):
    assert t1.create("T1-000002", 1250, "USD", "x").status == 200
    for amount, currency, desc in ((1251, "USD", "x"), (1250, "EUR", "x"), (1250, "USD", "y")):
        r = t1.create("T1-000002", amount, currency, desc)
        assert (r.status, r.code, r.verified) == (409, "ORDER_MISMATCH", True)


def test_order_ids_are_per_terminal(gateway, t1, sandbox):
    gateway.add_terminal("T2")
    t2 = gateway.client("T2")
    a = t1.create("SAME-1", 100, "USD", "")
    b = t2.create("SAME-1", 200, "USD", "")
    assert a.status == b.status == 200 and a.body["payment_id"] != b.body["payment_id"]
    assert t2.status("SAME-1").body["amount"] == 200
    assert t2.cancel("T1-only").status == 404


def test_status_of_unknown_order_is_404(gateway, t1):
    r = t1.status("T1-nothing")
    assert (r.status, r.code, r.verified) == (404, "NOT_FOUND", True)


def test_long_poll_answers_as_soon_as_the_customer_pays(gateway, t1, sandbox):
    code = t1.create("T1-000003", 990, "USD", "Tea").body["code_value"]
    threading.Timer(0.4, sandbox.pay, args=(code,)).start()
    started = time.monotonic()
    answer = t1.status("T1-000003", wait=20)
    took = time.monotonic() - started
    assert answer.verified and answer.body["status"] == "PAID" and answer.body["paid_at"]
    assert 0.3 < took < 5, took


def test_long_poll_times_out_with_pending(gateway, t1):
    t1.create("T1-000004", 990, "USD", "Tea")
    started = time.monotonic()
    answer = t1.status("T1-000004", wait=1)
    assert answer.body["status"] == "PENDING" and 0.9 < time.monotonic() - started < 3


def test_final_status_answers_at_once_and_wait_is_capped(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000005")
    started = time.monotonic()
    assert t1.status("T1-000005", wait=999999).body["status"] == "PAID"
    assert time.monotonic() - started < 1


def test_declined_payment_is_failed_with_antoms_reason(gateway, t1, sandbox):
    code = t1.create("T1-000006", 500, "USD", "").body["code_value"]
    sandbox.decline(code)
    answer = t1.status("T1-000006", wait=10)
    assert answer.body["status"] == "FAILED" and answer.body["reason"] == "ORDER_IS_CLOSED"


# --- cancel --------------------------------------------------------------------------------------
def test_cancel_pending_payment_cancels_at_antom(gateway, t1, sandbox):
    t1.create("T1-000010", 700, "USD", "")
    r = t1.cancel("T1-000010")
    assert r.verified and r.body["status"] == "CANCELLED" and r.body["reason"] == "CASHIER"
    [p] = sandbox.payments(reference_order_id="T1.T1-000010")
    assert p["status"] == "CANCELLED"
    assert t1.cancel("T1-000010").body["status"] == "CANCELLED"  # idempotent


def test_cancel_after_payment_keeps_paid(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000011")
    r = t1.cancel("T1-000011")
    assert r.body["status"] == "PAID"
    [p] = sandbox.payments(reference_order_id="T1.T1-000011")
    assert p["status"] == "SUCCESS"


def test_cancel_when_paid_but_not_yet_notified_paid_wins(gateway, t1, sandbox):
    created = t1.create("T1-000012", 800, "USD", "Soup [fault:notify-lost]").body
    sandbox.pay(created["code_value"])
    r = t1.cancel("T1-000012")  # the gateway inquires first: the payment that landed wins
    assert r.body["status"] == "PAID"
    [p] = sandbox.payments(reference_order_id="T1.T1-000012")
    assert p["status"] == "SUCCESS"


# --- refunds -------------------------------------------------------------------------------------
def test_partial_then_full_refund_with_pin(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000020", 1000)
    r1 = t1.refund("T1-000020", "R1", 400, "123456")
    assert r1.verified and r1.body["status"] == "SUCCEEDED" and r1.body["refunded_total"] == 400
    assert t1.refund("T1-000020", "R1", 400, "123456").body["status"] == "SUCCEEDED"  # idempotent
    assert t1.refund("T1-000020", "R1", 300, "123456").code == "REFUND_MISMATCH"
    assert t1.refund("T1-000020", "R2", 601, "123456").code == "REFUND_EXCEEDS_PAYMENT"
    r2 = t1.refund("T1-000020", "R2", 600, "123456")
    assert r2.body["status"] == "SUCCEEDED" and r2.body["refunded_total"] == 1000
    assert t1.status("T1-000020").body["refunded_amount"] == 1000
    [p] = sandbox.payments(reference_order_id="T1.T1-000020")
    assert p["refunded"] in (1000, "1000", {"currency": "USD", "value": "1000"})


def test_refund_needs_the_right_pin_and_locks_after_five_wrong(gateway, t1, sandbox):
    paid(gateway, t1, sandbox, "T1-000021", 1000)
    for _ in range(5):
        r = t1.refund("T1-000021", "R1", 100, "999999")
        assert (r.status, r.code, r.verified) == (403, "BAD_PIN", True)
    r = t1.refund("T1-000021", "R1", 100, "123456")
    assert (r.status, r.code) == (403, "PIN_LOCKED")
    assert gateway.store.refund(gateway.store.payment("T1", "T1-000021")["id"], "R1") is None


def test_refund_of_unpaid_payment_is_refused(gateway, t1):
    t1.create("T1-000022", 100, "USD", "")
    r = t1.refund("T1-000022", "R1", 100, "123456")
    assert (r.status, r.code) == (409, "NOT_REFUNDABLE")


# --- time, health, heartbeat, alerts -------------------------------------------------------------
def test_time_and_health(gateway, t1):
    t = t1.time()
    assert t.verified and abs(t.body["time"] - time.time()) < 2
    h = t1.health()
    assert h.verified and h.body["ok"] is True and abs(h.body["time"] - time.time()) < 2
    t1.create("T1-000030", 100, "USD", "")  # one exchange with Antom
    up = t1.health().body["upstream"]
    assert up["reachable"] is True and abs(up["checked_at"] - time.time()) < 5


def test_health_reports_unreachable_upstream(make_config, tmp_path):
    from tools.gateway.testing import running_gateway, write_config
    cfg = write_config(str(tmp_path / "dead"), antom_base_url="http://127.0.0.1:9")
    with running_gateway(cfg) as gw:
        gw.add_terminal("T9")
        c = gw.client("T9")
        r = c.create("T9-1", 100, "USD", "")
        assert (r.status, r.code, r.verified) == (503, "UPSTREAM_UNAVAILABLE", True)
        assert c.health().body["upstream"]["reachable"] is False
        assert c.status("T9-1").body["status"] == "PENDING" and c.status("T9-1").body["code_value"] is None


def test_heartbeat_is_stored(gateway, t1):
    r = t1.heartbeat(version="0.1.0", free_heap=61234, rssi=-61, last_error=None)
    assert r.verified and r.body["ok"] is True
    import json
    row = gateway.store.terminal("T1")
    assert json.loads(row["heartbeat"]) == {"version": "0.1.0", "free_heap": 61234, "rssi": -61, "last_error": None}
    assert abs(row["last_seen"] - time.time()) < 5
    assert t1.heartbeat(rssi=5).code == "INVALID_FIELD"


def test_alerts_list_and_ack(gateway, t1, sandbox):
    # a payment that lands after the cashier cancelled becomes a late-payment alert
    created = t1.create("T1-000031", 1500, "USD", "[fault:pay-on-cancel]").body
    assert t1.cancel("T1-000031").body["status"] == "CANCELLED"
    deadline = time.monotonic() + 10
    while not t1.alerts().body["alerts"] and time.monotonic() < deadline:
        time.sleep(0.1)
    [alert] = t1.alerts().body["alerts"]
    assert alert["order_id"] == "T1-000031" and alert["amount"] == 1500 and alert["kind"] == "LATE_PAYMENT"
    assert t1.status("T1-000031").body["late"] is True
    assert t1.status("T1-000031").body["status"] == "CANCELLED"
    gateway.add_terminal("T2")
    assert gateway.client("T2").ack_alert(alert["id"]).code == "NOT_FOUND"  # not T2's alert
    assert t1.ack_alert(alert["id"]).body == {"ok": True}
    assert t1.alerts().body["alerts"] == []
    assert t1.ack_alert("abc").status == 404
    assert created["code_value"]


# --- authentication ------------------------------------------------------------------------------
def raw_request(gateway, method, target, headers, body=b""):
    return httpx.request(method, gateway.base_url + target, headers=headers, content=body, trust_env=False)


def test_each_auth_failure_has_its_code_and_only_verified_requests_get_signed_errors(gateway, t1):
    secret = gateway.secrets["T1"]
    # missing everything: unsigned, can never carry a result
    r = raw_request(gateway, "GET", "/v1/time", {})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "MISSING_AUTH") and "x-signature" not in r.headers
    # unknown terminal and bad signature: one unsigned answer (tests/gateway/test_security_small.py)
    stranger = TerminalClient(gateway.base_url, "NOPE", "0" * 64)
    r = stranger.time()
    assert (r.status, r.code, r.verified) == (401, "UNAUTHORIZED", False) and "x-signature" not in r.headers
    stranger.close()
    # bad signature (wrong secret): the same unsigned answer, nothing signed for a request it cannot verify
    forger = TerminalClient(gateway.base_url, "T1", "f" * 64)
    r = forger.time()
    assert (r.status, r.code) == (401, "UNAUTHORIZED") and "x-signature" not in r.headers
    assert not auth.check_response(secret, 401, "/v1/time", r.nonce, dict(r.headers), r.raw)
    forger.close()
    # stale timestamp: signed, and tells the gateway's time
    r = t1.request("GET", "/v1/health", timestamp=int(time.time()) - 301)
    assert (r.status, r.code, r.verified) == (401, "STALE_TIMESTAMP", True) and abs(r.body["time"] - time.time()) < 2
    r = t1.request("GET", "/v1/health", timestamp=int(time.time()) + 400)
    assert r.code == "STALE_TIMESTAMP"
    # /v1/time has a wide window (a terminal whose clock is off asks it first); beyond it, the
    # signed refusal still carries the time
    r = t1.request("GET", "/v1/time", timestamp=int(time.time()) - 3600)
    assert r.status == 200 and r.verified
    r = t1.request("GET", "/v1/time", timestamp=1000)
    assert (r.status, r.code, r.verified) == (401, "STALE_TIMESTAMP", True) and abs(r.body["time"] - time.time()) < 2
    # reused nonce
    nonce = auth.new_nonce()
    assert t1.request("GET", "/v1/health", nonce=nonce).status == 200
    r = t1.request("GET", "/v1/health", nonce=nonce)
    assert (r.status, r.code, r.verified) == (401, "NONCE_REUSED", True)
    # malformed nonce / timestamp
    assert t1.request("GET", "/v1/health", nonce="XYZ").code == "MISSING_AUTH"
    assert t1.request("GET", "/v1/health", nonce="ABCDEF0123456789").code == "MISSING_AUTH"
    assert t1.request("GET", "/v1/health", timestamp="12a").code == "MISSING_AUTH"
    assert t1.request("GET", "/v1/health", headers={"X-Timestamp": "\u00b2".encode("latin-1")}).code == "MISSING_AUTH"


def test_signature_covers_path_query_and_body(gateway, t1):
    secret = gateway.secrets["T1"]
    body = b'{"order_id":"T1-000040","amount":100,"currency":"USD"}'
    nonce = auth.new_nonce()
    ts = int(time.time())
    headers = auth.request_headers("T1", secret, "POST", "/v1/payments", body, ts, nonce)
    # the body changed after signing (a man in the middle raising the amount)
    r = raw_request(gateway, "POST", "/v1/payments", headers, body.replace(b"100", b"900"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    # the query changed after signing
    headers = auth.request_headers("T1", secret, "GET", "/v1/payments/X?wait=1", b"", ts, auth.new_nonce())
    r = raw_request(gateway, "GET", "/v1/payments/X?wait=25", headers)
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
    # the nonce of a rejected request was not burnt: signing properly with it works
    headers = auth.request_headers("T1", secret, "POST", "/v1/payments", body, ts, nonce)
    assert raw_request(gateway, "POST", "/v1/payments", headers, body).status_code == 200


def test_response_is_bound_to_the_request_nonce(gateway, t1):
    r = t1.time()
    assert r.verified
    # the same answer presented for another request (a replay) does not verify
    other = auth.new_nonce()
    assert not auth.check_response(gateway.secrets["T1"], r.status, "/v1/time", other, dict(r.headers), r.raw)


def test_revoked_terminal_is_refused(gateway, t1):
    assert t1.time().status == 200
    assert gateway.store.revoke_terminal("T1")
    time.sleep(1.1)  # the gateway caches terminal secrets for one second
    r = t1.time()
    assert (r.status, r.code, r.verified) == (401, "UNAUTHORIZED", False) and "x-signature" not in r.headers


# --- bad input -----------------------------------------------------------------------------------
BAD_CREATES = [
    (b"not json", 400, "INVALID_JSON"),
    (b"[1, 2]", 400, "INVALID_JSON"),
    (b'{"order_id": "T1-x", "amount": "100", "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": 1.5, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": true, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": 0, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": -5, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": 100000000000000000000000, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": 10000001, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b'{"order_id": "T1-x", "amount": 100, "currency": "XXX"}', 400, "UNKNOWN_CURRENCY"),
    (b'{"order_id": "T1-x", "amount": 100, "currency": "usd"}', 400, "UNKNOWN_CURRENCY"),
    (b'{"order_id": "T1-x", "amount": 100, "currency": 840}', 400, "INVALID_FIELD"),
    (b'{"order_id": "T1 x", "amount": 100, "currency": "USD"}', 400, "INVALID_FIELD"),
    (b'{"order_id": "' + b"a" * 41 + b'", "amount": 100, "currency": "USD"}', 400, "INVALID_FIELD"),
    (b'{"amount": 100, "currency": "USD"}', 400, "INVALID_FIELD"),
    (b'{"order_id": "T1-x", "amount": 100, "currency": "USD", "description": 5}', 400, "INVALID_FIELD"),
    (b'{"order_id": "T1-x", "amount": 100, "currency": "USD", "description": "a\\u0000b"}', 400, "INVALID_FIELD"),
    (b'\xff\xfe{}', 400, "INVALID_JSON"),
    (b'{"order_id": "T1-x", "amount": NaN, "currency": "USD"}', 400, "INVALID_AMOUNT"),
    (b"[" * 3000 + b"]" * 1000, 400, "INVALID_JSON"),
    (b'{"x": "' + b"a" * 5000 + b'"}', 413, "BODY_TOO_LARGE"),
]


@pytest.mark.parametrize("body,status,code", BAD_CREATES, ids=[c for _b, _s, c in BAD_CREATES])
def test_bad_create_bodies_get_stable_4xx_codes(gateway, t1, body, status, code):
    r = t1.request("POST", "/v1/payments", body)
    # a body too large is refused before its signature can be checked: that answer is unsigned
    assert (r.status, r.code, r.verified) == (status, code, status != 413), r


def test_other_bad_requests(gateway, t1):
    assert t1.status("T1-x", wait=None).code == "NOT_FOUND"
    r = t1.request("GET", "/v1/payments/T1-x?wait=abc")
    assert (r.status, r.code) == (400, "INVALID_FIELD")
    r = t1.request("DELETE", "/v1/payments/T1-x")
    assert (r.status, r.code, r.verified) == (405, "METHOD_NOT_ALLOWED", True)
    r = t1.request("GET", "/v1/nowhere")
    assert (r.status, r.code, r.verified) == (404, "NOT_FOUND", True)
    r = t1.request("POST", "/v1/payments/%20bad/cancel", {})
    assert (r.status, r.code) == (400, "INVALID_PATH")   # escaped paths are refused, never decoded
    r = t1.request("POST", "/v1/payments/T1-x/refund", {"refund_id": "R1", "amount": 1, "pin": 1234})
    assert r.code == "INVALID_FIELD"
    # a body larger than the limit, announced by Content-Length, is refused without reading it
    r = t1.request("POST", "/v1/heartbeat", b"{" + b" " * 10000 + b"}")
    assert (r.status, r.code, r.verified) == (413, "BODY_TOO_LARGE", False) and "x-signature" not in r.headers


def test_openapi_description_is_served(gateway):
    doc = httpx.get(gateway.base_url + "/openapi.json", trust_env=False).json()
    assert doc["openapi"].startswith("3.")
    assert {"/v1/payments", "/v1/payments/{order_id}", "/v1/payments/{order_id}/cancel",
            "/v1/payments/{order_id}/refund", "/v1/time", "/v1/health", "/v1/heartbeat", "/v1/alerts",
            "/v1/alerts/{alert_id}/ack"} == set(doc["paths"])


def test_responses_have_content_length_and_are_not_chunked(gateway, t1):
    r = t1.create("T1-000050", 100, "USD", "")
    assert int(r.headers["content-length"]) == len(r.raw)
    assert "transfer-encoding" not in r.headers


def test_fuzzed_auth_headers_are_401_never_500(gateway):
    from hypothesis import HealthCheck, given, settings, strategies as st

    # any byte a header value may carry on the wire (h11 refuses to send controls and DEL)
    header_text = st.text(alphabet=[chr(c) for c in list(range(33, 127)) + list(range(161, 256))], max_size=80)
    http = httpx.Client(trust_env=False)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(tid=st.sampled_from(["T1", "", "NOPE"]) | header_text, ts=header_text, nonce=header_text, sig=header_text,
           path=st.sampled_from(["/v1/time", "/v1/payments", "/v1/payments/x?wait=3", "/v1/alerts"]))
    def check(tid, ts, nonce, sig, path):
        headers = {k: v.encode("latin-1") for k, v in
                   {"X-Terminal-Id": tid, "X-Timestamp": ts, "X-Nonce": nonce, "X-Signature": sig}.items()}
        r = http.get(gateway.base_url + path, headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] in ("MISSING_AUTH", "UNAUTHORIZED")

    check()
    http.close()
