"""Issue 12.6: the cancel path decides from the row as it is when it writes, not as it was before the
Antom call. A SUCCESS that lands while the gateway waits for Antom's cancel answer must raise the
LATE_PAYMENT alert and must not be overwritten."""
import functools

from tests.waiting import wait_until

eventually = functools.partial(wait_until, timeout=15.0, step=0.05)


def test_success_arriving_while_the_cancel_is_in_flight_raises_late_payment(gateway, t1, sandbox):
    # pay-on-cancel: the customer's tap lands at the cancel, whose answer (slow) comes 2 s later;
    # the SUCCESS notification reaches the gateway meanwhile
    assert t1.create("LATE-1", 1601, "USD", "[fault:pay-on-cancel] [fault:slow=2]").status == 200
    assert t1.cancel("LATE-1").body["status"] == "CANCELLED"
    eventually(lambda: [e for e in gateway.store.events("T1", "LATE-1") if e["kind"] == "late_payment"])
    alerts = eventually(lambda: t1.alerts().body["alerts"])
    assert [a["kind"] for a in alerts] == ["LATE_PAYMENT"] and "cancelled at Antom" in alerts[0]["message"]
    row = gateway.store.payment("T1", "LATE-1")
    assert row["late"] == 1 and row["status"] == "CANCELLED" and row["cancel_state"] == "DONE"
    assert sandbox.payments(reference_order_id="T1.LATE-1")[0]["status"] == "CANCELLED"


def test_success_arriving_while_the_expiry_cancel_is_in_flight_raises_late_payment(make_config, sandbox):
    from tools.gateway.testing import running_gateway
    # the gateway gives up 6 s before the sandbox would close the code itself, so its expiry cancel
    # meets the customer's tap (pay-on-cancel) and the SUCCESS arrives during the slow cancel answer
    with running_gateway(make_config(gateway={"code_lifetime": 10}, reconciler={"expiry_grace": -6.0})) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        assert t1.create("LATE-2", 1602, "USD", "[fault:pay-on-cancel] [fault:slow=2]").status == 200
        eventually(lambda: gw.store.payment("T1", "LATE-2")["status"] == "EXPIRED")
        alerts = eventually(lambda: t1.alerts().body["alerts"])
        assert [a["kind"] for a in alerts] == ["LATE_PAYMENT"]
        eventually(lambda: gw.store.payment("T1", "LATE-2")["cancel_state"] == "DONE")
        assert gw.store.payment("T1", "LATE-2")["late"] == 1
