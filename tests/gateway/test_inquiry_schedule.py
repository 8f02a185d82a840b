"""Issue 12.8: Antom's in-store inquiry guidance (ALIPAY.md). After an unknown or lost pay answer
the gateway inquires (first after `first_inquiry_after`, then every `inquiry_interval`), and after
`unknown_pay_inquiries` it cancels; a shown code is inquired at most `inquiry_cap` times at that
pace, then with a doubling back-off. Timings are settings, so the test runs in seconds."""
import functools
import time

from tests.waiting import wait_until
from tools.gateway.testing import running_gateway

eventually = functools.partial(wait_until, timeout=20.0, step=0.05)


def test_an_unknown_pay_is_inquired_then_cancelled(make_config, sandbox):
    cfg = make_config(reconciler={"unknown_pay_inquiries": 4})
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        # the pay reaches Antom, its answer is lost; the terminal does not retry (say it lost power)
        assert t1.create("UNK-1", 1801, "USD", "[fault:pay-lost]").code == "UPSTREAM_UNAVAILABLE"
        eventually(lambda: gw.store.payment("T1", "UNK-1")["status"] == "CANCELLED")
        row = gw.store.payment("T1", "UNK-1")
        assert row["reason"] == "PAY_UNKNOWN" and row["inquiries"] == 4 == row["unknown_inquiries"]
        assert len(sandbox.calls(operation="inquiryPayment", key="T1.UNK-1")) == 4
        eventually(lambda: sandbox.payments(reference_order_id="T1.UNK-1")[0]["status"] == "CANCELLED")
        eventually(lambda: gw.store.payment("T1", "UNK-1")["cancel_state"] == "DONE")
        # the terminal's retry of the create learns the final answer
        assert t1.create("UNK-1", 1801, "USD", "[fault:pay-lost]").body["status"] == "CANCELLED"


def test_an_unknown_pay_that_was_paid_is_found_by_the_inquiry(make_config, sandbox):
    with running_gateway(make_config()) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        assert t1.create("UNK-2", 1802, "USD", "[fault:pay-lost] [fault:notify-lost]").status == 503
        [p] = sandbox.payments(reference_order_id="T1.UNK-2")
        sandbox.pay(p["codeValue"])
        eventually(lambda: gw.store.payment("T1", "UNK-2")["status"] == "PAID")


def test_inquiries_of_a_shown_code_are_capped_then_back_off(make_config, sandbox):
    cfg = make_config(reconciler={"first_inquiry_after": 0.1, "inquiry_interval": 0.1, "inquiry_cap": 5,
                                  "inquiry_backoff_max": 5.0})
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        assert t1.create("CAP-1", 1803, "USD", "[fault:notify-lost]").status == 200
        eventually(lambda: len(sandbox.calls(operation="inquiryPayment", key="T1.CAP-1")) >= 5)
        time.sleep(2.0)
        # after the cap the gaps are 0.2, 0.4, 0.8, 1.6 s...: a few more, not another twenty
        assert len(sandbox.calls(operation="inquiryPayment", key="T1.CAP-1")) <= 5 + 4
        assert gw.store.payment("T1", "CAP-1")["status"] == "PENDING"


def test_a_pay_antom_never_saw_is_not_given_up_while_the_terminal_retries(make_config, sandbox):
    # traffic-limit: Antom refused to process the pay (signed): nothing exists there, so the
    # inquiries say ORDER_NOT_EXIST and the gateway does not cancel what the terminal may yet create
    cfg = make_config(reconciler={"unknown_pay_inquiries": 2, "first_inquiry_after": 0.1, "inquiry_interval": 0.1})
    with running_gateway(cfg) as gw:
        gw.add_terminal("T1")
        t1 = gw.client("T1")
        sandbox.set_faults(["traffic-limit=1"], amount="1804")
        try:
            assert t1.create("UNK-4", 1804, "USD", "").status == 503
        finally:
            sandbox.clear_faults()
        gw.store.db.execute("UPDATE payments SET next_check_at=0 WHERE order_id='UNK-4'")  # inquire now
        eventually(lambda: gw.store.payment("T1", "UNK-4")["inquiries"] >= 3)
        assert gw.store.payment("T1", "UNK-4")["status"] == "CREATING"
        assert t1.create("UNK-4", 1804, "USD", "").body["status"] == "PENDING"
