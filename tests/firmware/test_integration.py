"""Simulated terminal + real gateway + real sandbox, on loopback.

Every sandbox fault scenario, cashier cancel, expiry; the terminal killed (SIGKILL: a power cut)
at each journaled step and booted again from its flash; and a tampering proxy that forges,
replays or strips the signature of status answers. Invariants checked after every sale: the
terminal shows PAID exactly when the sandbox holds a successful payment, and the sandbox holds
exactly one payment per order.
"""
import itertools
import time

import pytest

pytestmark = pytest.mark.slow

_amounts = itertools.count(101)


@pytest.fixture(scope="module")
def term(system):
    t = system.terminal().start()
    t.wait_ready()
    yield t
    t.stop()


def _sale(term, amount):
    term.keys(str(amount), "ok")
    return term.wait_state("SHOW_QR", timeout=25)


def _settle(system, term, result, expect):
    assert result["state"] == expect, result
    pays = system.payments(term.terminal_id, result["order_id"])
    assert len(pays) <= 1, pays
    paid_at_sandbox = bool(pays) and pays[0]["status"] == "SUCCESS"
    assert (result["state"] == "PAID") == paid_at_sandbox, pays
    term.keys("ok")  # dismiss the result
    term.wait_screen("idle", timeout=10)
    return pays


PAID_FAULTS = ["pay-lost", "pay-500", "pay-unknown", "traffic-limit=1", "slow=1", "notify-lost",
               "notify-duplicate", "notify-late=1", "notify-bad-signature=1", "skew=30"]


@pytest.mark.parametrize("faults", [[]] + [[f] for f in PAID_FAULTS] + [
    ["notify-lost", "inquiry-not-exist=2"], ["notify-lost", "inquiry-unknown=2"]], ids=lambda f: "+".join(f) or "plain")
def test_customer_pays(system, term, faults):
    amount = next(_amounts)
    if faults:
        system.sandbox.set_faults(faults, amount=str(amount))
    qr = _sale(term, amount)
    assert qr["code"].startswith(system.sandbox.base_url)
    system.sandbox.pay(qr["code"])
    pays = _settle(system, term, term.wait_result(timeout=30), "PAID")
    assert len(pays) == 1


def test_customer_declines(system, term):
    qr = _sale(term, next(_amounts))
    system.sandbox.decline(qr["code"])
    _settle(system, term, term.wait_result(), "FAILED")


@pytest.mark.parametrize("faults", [[], ["http-500=2"], ["cancel-unknown=2"], ["cancel-window"], ["slow=1"]],
                         ids=lambda f: "+".join(f) or "plain")
def test_cashier_cancels(system, term, faults):
    amount = next(_amounts)
    if faults:
        system.sandbox.set_faults(faults, amount=str(amount))
    qr = _sale(term, amount)
    term.keys("cancel")
    result = term.wait_result(timeout=30)
    pays = _settle(system, term, result, "CANCELLED")
    assert pays and pays[0]["status"] != "SUCCESS"


def test_paid_at_the_moment_of_cancel_returns_the_money_and_alerts(system):
    t = _fresh(system)
    amount = next(_amounts)
    system.sandbox.set_faults(["pay-on-cancel"], amount=str(amount))
    qr = _sale(t, amount)
    t.keys("cancel")
    result = t.wait_result(timeout=30)
    # the gateway answers the cancel at once and cancels at Antom right after (in the background):
    # under load the sandbox may still say PROCESSING for a moment
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and system.payments(t.terminal_id, result["order_id"])[0]["status"] == "PROCESSING":
        time.sleep(0.1)
    pays = _settle(system, t, result, "CANCELLED")
    assert pays[0]["status"] == "CANCELLED"  # the money went back
    alert = t.wait_screen("alert", timeout=30)  # the late payment is shown at idle
    t.keys("ok")  # acknowledged: it does not come back
    t.wait_screen("idle")
    t.keys("5", "ok")
    t.wait_screen("qr")
    t.keys("cancel")
    _settle(system, t, t.wait_result(), "CANCELLED")
    assert not [e for e in t.history if e.get("screen") == "alert" and e["host_t"] > alert["host_t"]]
    t.stop()


def test_code_expires(system, term):
    qr = _sale(term, next(_amounts))
    result = term.wait_result(timeout=40)
    _settle(system, term, result, "EXPIRED")
    assert result["order_id"] == qr["order_id"]


# --- power cuts at every journaled step ---------------------------------------------------------
def _fresh(system, **kw):
    t = system.terminal(**kw).start()
    t.wait_ready()
    return t


def test_power_cut_while_creating(system):
    t = _fresh(system)
    amount = next(_amounts)
    system.sandbox.set_faults(["slow=2"], amount=str(amount))  # the create is in flight when power goes
    t.keys(str(amount), "ok")
    creating = t.wait_state("CREATING")
    time.sleep(0.5)
    t.kill()
    t.start()
    qr = t.wait_state("SHOW_QR", timeout=30)  # the same order, resumed
    assert qr["order_id"] == creating["order_id"]
    system.sandbox.pay(qr["code"])
    _settle(system, t, t.wait_result(timeout=30), "PAID")
    t.stop()


def test_power_cut_while_checking(system):
    t = _fresh(system)
    amount = next(_amounts)
    system.sandbox.set_faults(["traffic-limit=3"], amount=str(amount))  # Antom busy: the gateway says 503
    t.keys(str(amount), "ok")
    checking = t.wait_state("CHECKING")
    t.kill()
    t.start()
    qr = t.wait_state("SHOW_QR", timeout=30)
    assert qr["order_id"] == checking["order_id"]
    system.sandbox.pay(qr["code"])
    _settle(system, t, t.wait_result(timeout=30), "PAID")
    t.stop()


def test_power_cut_while_qr_shows_customer_pays_meanwhile(system):
    t = _fresh(system)
    qr = _sale(t, next(_amounts))
    t.kill()
    system.sandbox.pay(qr["code"])
    t.start()
    result = t.wait_result(timeout=30)
    assert result["order_id"] == qr["order_id"]
    _settle(system, t, result, "PAID")
    t.stop()


def test_power_cut_while_qr_shows_then_cancel(system):
    t = _fresh(system)
    qr = _sale(t, next(_amounts))
    t.kill()
    t.start()
    again = t.wait_state("SHOW_QR", timeout=30)
    assert again["order_id"] == qr["order_id"] and again["code"] == qr["code"]
    t.keys("cancel")
    _settle(system, t, t.wait_result(timeout=30), "CANCELLED")
    t.stop()


def test_power_cut_after_cancel_key(system):
    t = _fresh(system)
    amount = next(_amounts)
    system.sandbox.set_faults(["slow=2"], amount=str(amount))
    qr = _sale(t, amount)
    t.keys("cancel")
    t.wait_state("CHECKING")
    t.kill()  # the cancel is journaled, its answer never arrived
    t.start()
    result = t.wait_result(timeout=30)
    assert result["order_id"] == qr["order_id"]
    _settle(system, t, result, "CANCELLED")
    t.stop()


def test_power_cut_after_the_result(system):
    t = _fresh(system)
    qr = _sale(t, next(_amounts))
    system.sandbox.pay(qr["code"])
    t.wait_result(timeout=30)
    t.kill()  # the result was on screen, the cashier had not seen it yet
    t.start()
    again = t.wait_result(timeout=30)  # so it is shown again, and only then closed
    assert (again["state"], again["order_id"], again.get("again")) == ("PAID", qr["order_id"], True)
    t.keys("ok")
    t.wait_screen("idle")
    t.keys("5", "ok")  # the next sale starts at once: nothing was left open
    nxt = t.wait_state("SHOW_QR", timeout=30)
    assert nxt["order_id"] != qr["order_id"]
    t.keys("cancel")
    t.wait_result()
    assert len(system.payments(t.terminal_id, qr["order_id"])) == 1
    t.stop()


# --- supervisor refund, offline, broken config -------------------------------------------------
def test_supervisor_refund(system, term):
    qr = _sale(term, next(_amounts))
    system.sandbox.pay(qr["code"])
    _settle(system, term, term.wait_result(), "PAID")
    term.keys("menu")
    term.wait_screen("menu")
    term.keys("ok", "123456", "ok")
    ev = term.wait(lambda e: e.get("event") == "refund", timeout=20)
    assert ev["order_id"] == qr["order_id"] and ev["outcome"] in ("REFUNDED", "PENDING")
    term.keys("ok")
    term.wait_screen("idle")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pay = system.payments(term.terminal_id, qr["order_id"])[0]
        if int(pay["refunded"]) > 0:
            break
        time.sleep(0.1)
    assert int(pay["refunded"]) == int(pay["amount"]["value"])


def test_wrong_pin_refunds_nothing(system, term):
    qr = _sale(term, next(_amounts))
    system.sandbox.pay(qr["code"])
    _settle(system, term, term.wait_result(), "PAID")
    term.keys("menu", "ok", "999999", "ok")
    ev = term.wait(lambda e: e.get("event") == "refund", timeout=20)
    assert ev["outcome"] == "BAD_PIN"
    term.wait_screen("pin")  # back at the PIN prompt, saying so
    term.keys("cancel")
    term.wait_screen("idle")
    assert int(system.payments(term.terminal_id, qr["order_id"])[0]["refunded"]) == 0


def test_offline_screen_recovers_by_itself(system, term):
    term.send("wifi off")
    term.wait_screen("offline", timeout=10)
    term.send("wifi on")
    term.wait_screen("idle", timeout=30)
    qr = _sale(term, next(_amounts))  # and sales work again
    term.keys("cancel")
    _settle(system, term, term.wait_result(), "CANCELLED")


def test_broken_config_shows_the_problems_and_waits(system, tmp_path):
    from tools.sim.control import SimProcess

    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text('{"wifi": {}, "currency": "dollars"}')
    t = SimProcess(str(flash)).start()
    try:
        ev = t.wait(lambda e: e.get("event") == "config_error", timeout=20)
        assert "wifi.ssid: missing" in ev["problems"] and any(p.startswith("currency") for p in ev["problems"])
        time.sleep(1)
        assert t.proc.poll() is None  # still up, waiting for a technician: no crash loop
    finally:
        t.stop()


# Power cuts at every journal write of a paid, a declined and a cancelled sale:
# tests/firmware/test_result_until_seen.py.
