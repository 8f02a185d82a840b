"""The notification endpoint: forged, duplicated, late and conflicting notifications, and a fuzz.

Notifications are built here exactly as the sandbox (and Antom) sends them, signed with the sandbox's
own key from its data dir, so the gateway's verifier is exercised for real.
"""
import json
import threading
import time

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.gateway.conftest import sandbox_private_key
from tests.gateway.test_sandbox_faults import eventually
from tools.antom import signature
from tools.gateway.notify import ACK_BODY

NOTIFY_PATH = "/antom/notify"


def note_body(prid, payment_id, status="S", code="SUCCESS", amount="1250", currency="USD"):
    body = {"notifyType": "PAYMENT_RESULT",
            "result": {"resultCode": code, "resultStatus": status, "resultMessage": code.lower()},
            "paymentRequestId": prid, "paymentId": payment_id,
            "paymentAmount": {"currency": currency, "value": amount},
            "paymentCreateTime": "2026-11-25T18:00:00+00:00"}
    if status == "S":
        body["paymentTime"] = "2026-11-25T18:00:05+00:00"
    return json.dumps(body, separators=(",", ":")).encode()


def post(gateway, raw, key=None, client_id=None, request_time=None, headers=None):
    client_id = client_id or gateway.cfg["antom"]["client_id"]
    request_time = request_time or str(int(time.time() * 1000))
    h = {"content-type": "application/json", "client-id": client_id, "request-time": request_time}
    if key is not None:
        h["signature"] = signature.sign_message(key, "POST", NOTIFY_PATH, client_id, request_time, raw)
    h.update(headers or {})
    return httpx.post(gateway.base_url + NOTIFY_PATH, content=raw, headers=h, trust_env=False)


def pending(t1, order_id, amount=1250, description="[fault:notify-lost]"):
    return t1.create(order_id, amount, "USD", description).body


def test_valid_notification_is_acked_exactly_and_wakes_the_long_poll(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-1")
    result = {}
    waiter = threading.Thread(target=lambda: result.update(a=t1.status("N-1", wait=20)))
    waiter.start()
    time.sleep(0.2)
    r = post(gateway, note_body("T1.N-1", p["payment_id"]), key)
    assert r.status_code == 200 and r.content == ACK_BODY
    waiter.join(5)
    assert result["a"].body["status"] == "PAID" and result["a"].verified


def test_forged_notifications_are_refused_and_change_nothing(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-2")
    raw = note_body("T1.N-2", p["payment_id"])
    forged = [
        post(gateway, raw),                                              # unsigned
        post(gateway, raw, signature.generate_private_key()),             # another key
        post(gateway, raw, key, client_id="SANDBOX_OTHER"),               # another merchant
        post(gateway, raw, key, headers={"request-time": "1"}),           # signature over another time
    ]
    h = {"content-type": "application/json", "client-id": gateway.cfg["antom"]["client_id"], "request-time": "1"}
    h["signature"] = signature.sign_message(key, "POST", NOTIFY_PATH, h["client-id"], "1", raw)
    forged.append(httpx.post(gateway.base_url + NOTIFY_PATH, content=raw.replace(b"1250", b"1251"), headers=h))
    for r in forged:
        assert r.status_code == 401 and r.content != ACK_BODY
    assert t1.status("N-2").body["status"] == "PENDING"
    assert len([e for e in gateway.store.events() if e["kind"] == "notification_rejected"]) == 5


def test_duplicate_notification_is_acked_and_recorded_once(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-3")
    raw = note_body("T1.N-3", p["payment_id"])
    for _ in range(3):
        assert post(gateway, raw, key).content == ACK_BODY
    kinds = [e["kind"] for e in gateway.store.events("T1", "N-3")]
    assert kinds.count("notification") == 1 and kinds.count("notification_duplicate") == 2
    assert kinds.count("payment_paid") == 1


def test_a_final_state_never_moves(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-4")
    assert post(gateway, note_body("T1.N-4", p["payment_id"]), key).content == ACK_BODY
    # a later, different notification claiming failure: acknowledged, recorded, ignored
    assert post(gateway, note_body("T1.N-4", p["payment_id"], "F", "ORDER_IS_CLOSED"), key).content == ACK_BODY
    assert t1.status("N-4").body["status"] == "PAID"
    p = pending(t1, "N-5")
    assert post(gateway, note_body("T1.N-5", p["payment_id"], "F", "ORDER_IS_CLOSED"), key).content == ACK_BODY
    assert t1.status("N-5").body["status"] == "FAILED"
    assert post(gateway, note_body("T1.N-5", p["payment_id"], "F", "RISK_REJECT"), key).content == ACK_BODY
    assert t1.status("N-5").body["reason"] == "ORDER_IS_CLOSED"


def test_late_success_after_cancel_is_returned_and_alerted(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-6", 1600)
    assert t1.cancel("N-6").body["status"] == "CANCELLED"
    assert post(gateway, note_body("T1.N-6", p["payment_id"], amount="1600"), key).content == ACK_BODY
    alert = eventually(lambda: t1.alerts().body["alerts"])[0]
    assert alert["order_id"] == "N-6" and alert["kind"] == "LATE_PAYMENT"
    body = t1.status("N-6").body
    assert body["status"] == "CANCELLED" and body["late"] is True
    # the same late notice again: one alert only
    assert post(gateway, note_body("T1.N-6", p["payment_id"], amount="1600"), key).content == ACK_BODY
    time.sleep(0.5)
    assert len(t1.alerts().body["alerts"]) == 1


def test_amount_mismatch_is_not_taken_as_paid(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p = pending(t1, "N-7", 1250)
    assert post(gateway, note_body("T1.N-7", p["payment_id"], amount="1"), key).content == ACK_BODY
    assert t1.status("N-7").body["status"] == "PENDING"
    assert [e for e in gateway.store.events("T1", "N-7") if e["kind"] == "notification_amount_mismatch"]


def test_notification_for_an_unknown_payment_is_recorded(gateway, sandbox):
    key = sandbox_private_key(sandbox)
    assert post(gateway, note_body("T1.NOPE", "2026000"), key).content == ACK_BODY
    assert [e for e in gateway.store.events() if e["kind"] == "notification" and '"T1.NOPE"' in e["detail"]]


def test_signed_garbage_is_a_400_not_an_ack(gateway, sandbox):
    key = sandbox_private_key(sandbox)
    for raw in (b"not json", b"[]", b'{"result": 5}', b'{"result": {"resultStatus": 5}}', b"\xff"):
        r = post(gateway, raw, key)
        assert r.status_code == 400 and r.content != ACK_BODY


# --- fuzz --------------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
notes = st.fixed_dictionaries({}, optional={
    "notifyType": st.sampled_from(["PAYMENT_RESULT", "PAYMENT_PENDING", "X"]) | json_values,
    "result": st.fixed_dictionaries({}, optional={
        "resultStatus": st.sampled_from(["S", "F", "U"]) | json_values,
        "resultCode": st.sampled_from(["SUCCESS", "ORDER_IS_CLOSED"]) | json_values}) | json_values,
    "paymentRequestId": st.sampled_from(["T1.FZ-1", "T1.FZ-2"]) | json_values,
    "paymentId": json_values,
    "paymentAmount": st.fixed_dictionaries({"currency": st.sampled_from(["USD", "EUR"]) | json_values,
                                            "value": st.sampled_from(["700", "1"]) | json_values}) | json_values,
    "paymentTime": st.sampled_from(["2026-11-25T18:00:05+00:00", "bad"]) | json_values,
})


def test_fuzz_notifications_never_crash_and_only_signed_ones_are_acked(gateway, t1, sandbox):
    key = sandbox_private_key(sandbox)
    p1 = pending(t1, "FZ-1", 700)
    http = httpx.Client(trust_env=False)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=notes, sign=st.booleans(), raw_tail=st.binary(max_size=8))
    def check(body, sign, raw_tail):
        raw = json.dumps(body).encode() + (raw_tail if not sign else b"")
        cid = gateway.cfg["antom"]["client_id"]
        h = {"client-id": cid, "request-time": "1764090000000"}
        if sign:
            h["signature"] = signature.sign_message(key, "POST", NOTIFY_PATH, cid, h["request-time"], raw)
        r = http.post(gateway.base_url + NOTIFY_PATH, content=raw, headers=h)
        assert r.status_code in (200, 400, 401), r.text
        if not sign:
            assert r.status_code == 401
        if r.status_code == 200:
            assert r.content == ACK_BODY

    check()
    http.close()
    # whatever was sent, a payment only moved under a signed, well-formed, amount-matching notice
    status = t1.status("FZ-1").body
    assert status["status"] in ("PENDING", "PAID", "FAILED", "EXPIRED")
    if status["status"] == "PAID":
        assert [e for e in gateway.store.events("T1", "FZ-1") if e["kind"] == "payment_paid"]
    assert p1["order_id"] == "FZ-1"
