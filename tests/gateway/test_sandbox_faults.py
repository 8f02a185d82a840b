"""Every sandbox fault scenario (docs/sandbox.md), driven through the gateway's terminal API.

Faults ride on the payment description (`[fault:NAME=ARG]`), so they stay with one payment.
"""
import functools
import time

import pytest

from tests.waiting import wait_until
from tools.gateway.testing import running_gateway


# Gateway work (reconciler, notifications) may take a few rounds: allow 10 s by default.
eventually = functools.partial(wait_until, timeout=10.0, step=0.05)


def events(gateway, order_id, kind=None):
    return [e for e in gateway.store.events("T1", order_id) if kind is None or e["kind"] == kind]


def at_sandbox(sandbox, order_id, terminal="T1"):
    found = sandbox.payments(reference_order_id="%s.%s" % (terminal, order_id))
    assert len(found) <= 1, found
    return found[0] if found else None


def retry_create(t1, order_id, amount, description, attempts=5):
    answers = []
    for _ in range(attempts):
        answers.append(t1.create(order_id, amount, "USD", description))
        if answers[-1].status == 200:
            break
    return answers


# --- pay ---------------------------------------------------------------------------------------
def test_pay_lost_then_retry_finds_the_same_payment(gateway, t1, sandbox):
    first, second = retry_create(t1, "F-1", 1111, "[fault:pay-lost]")
    assert (first.status, first.code, first.verified) == (503, "UPSTREAM_UNAVAILABLE", True)
    assert second.status == 200 and second.body["status"] == "PENDING" and second.body["code_value"]
    assert at_sandbox(sandbox, "F-1")["paymentId"] == second.body["payment_id"]


def test_pay_500_creates_nothing_and_a_retry_creates_it(gateway, t1, sandbox):
    first, second = retry_create(t1, "F-2", 1112, "[fault:pay-500]")
    assert first.code == "UPSTREAM_UNAVAILABLE" and second.body["status"] == "PENDING"
    assert at_sandbox(sandbox, "F-2") is not None


def test_pay_unknown_is_not_a_result_and_the_retry_gets_the_code(gateway, t1, sandbox):
    first, second = retry_create(t1, "F-3", 1113, "[fault:pay-unknown]")
    assert first.code == "UPSTREAM_UNAVAILABLE"
    assert second.body["status"] == "PENDING" and second.body["code_value"]
    assert [e["kind"] for e in events(gateway, "F-3", "pay_unknown")] == ["pay_unknown"]


def test_traffic_limit_is_retryable_not_a_failure(gateway, t1, sandbox):
    answers = retry_create(t1, "F-4", 1114, "[fault:traffic-limit=2]")
    assert [a.status for a in answers] == [503, 503, 200]
    assert answers[-1].body["status"] == "PENDING"


def test_slow_upstream_within_the_timeout_is_fine(gateway, t1, sandbox):
    started = time.monotonic()
    r = t1.create("F-5", 1115, "USD", "[fault:slow=0.6]")
    assert r.status == 200 and time.monotonic() - started >= 0.6


def test_slow_upstream_beyond_the_timeout_is_unknown_and_cancel_still_lands(make_config, sandbox):
    with running_gateway(make_config(antom={"timeout": 0.5})) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        r = t1.create("F-6", 1116, "USD", "[fault:slow=0.8]")
        assert (r.status, r.code) == (503, "UPSTREAM_UNAVAILABLE")
        c = t1.cancel("F-6")
        assert c.verified and c.body["status"] == "CANCELLED"
        # the sandbox did the work even though every answer came too late
        eventually(lambda: at_sandbox(sandbox, "F-6")["status"] == "CANCELLED")
        assert events(gw, "F-6", "antom_cancel_retry")


# --- inquiry / cancel / refund faults --------------------------------------------------------------
def test_http_500_on_cancel_is_retried_until_it_lands(gateway, t1, sandbox):
    t1.create("F-7", 1117, "USD", "[fault:http-500=3]")
    r = t1.cancel("F-7")
    assert r.body["status"] == "CANCELLED"
    eventually(lambda: at_sandbox(sandbox, "F-7")["status"] == "CANCELLED")
    eventually(lambda: gateway.store.payment("T1", "F-7")["cancel_state"] == "DONE")


@pytest.mark.parametrize("marker", ["inquiry-not-exist=3", "inquiry-unknown=3"])
def test_inquiry_faults_then_the_reconciler_finds_the_payment(gateway, t1, sandbox, marker):
    order = "F-8-" + marker.split("=")[0]
    created = t1.create(order, 1118, "USD", "[fault:notify-lost] [fault:%s]" % marker).body
    sandbox.pay(created["code_value"])
    answer = t1.status(order, wait=15)
    assert answer.body["status"] == "PAID"
    assert [e for e in events(gateway, order, "payment_paid")][0]["detail"] == '{"source": "inquiry"}'


def test_cancel_unknown_is_retried_with_the_same_request(gateway, t1, sandbox):
    t1.create("F-9", 1119, "USD", "[fault:cancel-unknown=2]")
    assert t1.cancel("F-9").body["status"] == "CANCELLED"
    eventually(lambda: gateway.store.payment("T1", "F-9")["cancel_state"] == "DONE")
    assert at_sandbox(sandbox, "F-9")["status"] == "CANCELLED"
    assert len(events(gateway, "F-9", "antom_cancel_retry")) == 2


def test_cancel_window_exceeded_then_late_payment_is_refunded(gateway, t1, sandbox):
    created = t1.create("F-10", 1120, "USD", "[fault:cancel-window]").body
    assert t1.cancel("F-10").body["status"] == "CANCELLED"
    # Antom could not cancel: the code is still payable, and the customer pays it
    assert sandbox.pay(created["code_value"])["status"] == "SUCCESS"
    alert = eventually(lambda: t1.alerts().body["alerts"])[0]
    assert alert["order_id"] == "F-10" and alert["kind"] == "LATE_PAYMENT" and "refunded" in alert["message"]
    p = at_sandbox(sandbox, "F-10")
    assert p["status"] == "SUCCESS" and str(p["refunded"]) in ("1120", "{'currency': 'USD', 'value': '1120'}")
    final = t1.status("F-10").body
    assert final["status"] == "CANCELLED" and final["late"] is True


def test_pay_on_cancel_is_a_late_payment_returned_by_the_cancel(gateway, t1, sandbox):
    t1.create("F-11", 1121, "USD", "[fault:pay-on-cancel]")
    assert t1.cancel("F-11").body["status"] == "CANCELLED"
    alert = eventually(lambda: t1.alerts().body["alerts"])[0]
    assert alert["kind"] == "LATE_PAYMENT" and "cancelled at Antom" in alert["message"]
    assert at_sandbox(sandbox, "F-11")["status"] == "CANCELLED"
    assert t1.status("F-11").body["status"] == "CANCELLED"


# --- notification faults -------------------------------------------------------------------------
def test_notify_lost_the_reconciler_inquires(gateway, t1, sandbox):
    created = t1.create("F-12", 1122, "USD", "[fault:notify-lost]").body
    sandbox.pay(created["code_value"])
    assert t1.status("F-12", wait=10).body["status"] == "PAID"
    assert not events(gateway, "F-12", "notification")


def test_notify_duplicate_is_recorded_once_and_changes_nothing(gateway, t1, sandbox):
    created = t1.create("F-13", 1123, "USD", "[fault:notify-duplicate]").body
    sandbox.pay(created["code_value"])
    assert t1.status("F-13", wait=10).body["status"] == "PAID"
    eventually(lambda: events(gateway, "F-13", "notification_duplicate"))
    assert len(events(gateway, "F-13", "notification")) == 1
    assert len(events(gateway, "F-13", "payment_paid")) == 1


def test_notify_late_the_inquiry_wins_and_the_late_notice_is_harmless(gateway, t1, sandbox):
    created = t1.create("F-14", 1124, "USD", "[fault:notify-late=3]").body
    sandbox.pay(created["code_value"])
    assert t1.status("F-14", wait=10).body["status"] == "PAID"
    eventually(lambda: events(gateway, "F-14", "notification"), timeout=10)
    assert [e["detail"] for e in events(gateway, "F-14", "payment_paid")] == ['{"source": "inquiry"}']
    assert t1.status("F-14").body["status"] == "PAID"


def test_badly_signed_notifications_are_refused_and_the_retry_is_taken(gateway, t1, sandbox):
    created = t1.create("F-15", 1125, "USD", "[fault:notify-bad-signature=2]").body
    sandbox.pay(created["code_value"])
    assert t1.status("F-15", wait=10).body["status"] == "PAID"
    notes = eventually(lambda: [n for n in sandbox.notifications()
                                if n["paymentId"] == created["payment_id"] and n["state"] == "acked"])
    assert notes[0]["sent"] == 3  # two refused deliveries, then the good one
    rejected = [e for e in gateway.store.events() if e["kind"] == "notification_rejected"]
    assert len(rejected) == 2


def test_skewed_response_time_still_verifies(gateway, t1, sandbox):
    r = t1.create("F-16", 1126, "USD", "[fault:skew=-3600]")
    assert r.status == 200 and r.body["status"] == "PENDING"
    assert t1.cancel("F-16").body["status"] == "CANCELLED"


def test_run_wide_faults_by_amount(gateway, t1, sandbox):
    sandbox.set_faults(["pay-500"], amount="1313")
    try:
        assert t1.create("F-17", 1313, "USD", "").status == 503
        assert t1.create("F-18", 1314, "USD", "").status == 200
        assert t1.create("F-17", 1313, "USD", "").status == 200
    finally:
        sandbox.clear_faults()


# --- expiry ---------------------------------------------------------------------------------------
def test_code_expiry_at_antom_becomes_expired(make_config, sandbox):
    # 3 s, not 1: paymentExpiryTime goes to Antom in whole seconds, so a 1 s lifetime could reach
    # the sandbox already past (a signed refusal: FAILED), most of all on a loaded machine.
    with running_gateway(make_config(gateway={"code_lifetime": 3})) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        created = t1.create("F-19", 1127, "USD", "")
        assert created.status == 200 and created.body["status"] == "PENDING", created.body
        r = t1.status("F-19", wait=15)
        assert r.body["status"] == "EXPIRED" and r.body["reason"] in ("ORDER_IS_CLOSED", "EXPIRED")


def test_gateway_expires_a_payment_antom_still_holds_open(gateway, t1, sandbox):
    t1.create("F-20", 1128, "USD", "[fault:notify-lost]")
    with gateway.store.transaction():  # the code's time is up as far as the gateway knows
        gateway.store.db.execute("UPDATE payments SET expires_at=? WHERE order_id='F-20'", (int(time.time()) - 5,))
    r = t1.status("F-20", wait=10)
    assert r.body["status"] == "EXPIRED"
    eventually(lambda: at_sandbox(sandbox, "F-20")["status"] == "CANCELLED")
